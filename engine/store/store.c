/* store.c — content-addressed objects, the fsync'd append-only journal/cache index, and the work-directory lock. */
#define _GNU_SOURCE
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* What was known of an input file when it was hashed. */
typedef struct memo_entry {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns, hashed_ns;
    char hash[SL_HASH_HEX_SIZE];
} memo_entry;

/* A pack file, as the journal names it. */
typedef struct st_pack {
    const char *name;   /* file name in store/packs (arena) */
    int fd;             /* read descriptor, opened on first use, or -1 */
    int wfd;            /* this run's append descriptor (kept open until st_close), or -1 */
    int64_t size;       /* bytes known to be there; -1 not yet looked at; -2 missing */
} st_pack;

/* A packed artifact, found by the name its object file has or would have ("<hash><ext>"). */
typedef struct packed_entry {
    uint32_t pack;
    int done;           /* its object file is known to exist */
    int damaged;        /* found not to hold the artifact (the journal says so: "D1" lines) */
    uint64_t offset, size;
    char hash[SL_HASH_HEX_SIZE];
} packed_entry;

#define PACK_HEADER 48 /* "SLPK", u32 0, u64 size, 32-byte SHA-256 */

struct st_store {
    char *root, *objects, *tmp, *journal_path, *memo_path, *packs_dir;
    int lock_fd, journal_fd, memo_fd;
    sli_map memo;        /* path -> memo_entry* */
    sli_arena *arena;    /* records and their strings */
    sli_map by_key;      /* key -> st_record* (latest) */
    sli_map by_step;     /* step id -> st_record* (latest) */
    pthread_mutex_t mu;  /* guards the record maps and the journal (engine thread mostly) */
    int dirty;           /* the journal has records not yet fsync'd (guarded by mu) */
    /* The syncer thread fsyncs pack and journal at most every 50 ms, so the engine's thread
     * never waits for the disk between steps. */
    pthread_t syncer;
    pthread_cond_t sync_cv;
    int syncer_running, syncer_stop;
    /* Packs are written by the ops' threads: they have their own lock and arena, so steps
     * finishing never wait for the journal's fsync. Lock order: mu, then pack_mu. */
    pthread_mutex_t pack_mu;
    sli_arena *pack_arena;
    st_pack *packs;
    uint32_t n_packs, cap_packs;
    sli_map pack_index;  /* pack name -> index + 1 */
    sli_map packed;      /* "<hash><ext>" -> packed_entry* */
    int pack_fd;         /* this run's pack, open for appending once something was packed */
    uint32_t pack_cur;
    uint64_t pack_len;   /* including what is still in pack_buf */
    sli_buf pack_buf;    /* entries not yet written to the pack */
    int pack_dirty;      /* written but not yet fsync'd */
    sli_buf journal_buf; /* records not yet written to the journal (guarded by mu) */
};

static int sync_pack(st_store *s);
static sl_status flush_locked(st_store *s);

/* write(2) all of it; 0, or -1 with errno. */
static int write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

const char *st_root(const st_store *s) { return s->root; }
const char *st_tmp_dir(const st_store *s) { return s->tmp; }
const char *st_objects_dir(const st_store *s) { return s->objects; }

char *st_object_path(const char *objects_dir, const char *hash, const char *type) {
    return sli_xasprintf("%s/%.2s/%s%s", objects_dir, hash, hash, sl_artifact_type_ext(type));
}

/* Index of a pack by name, adding it if new. With `pack_mu` held. */
static uint32_t intern_pack(st_store *s, const char *name) {
    uintptr_t k = (uintptr_t)sli_map_get(&s->pack_index, name);
    if (k) return (uint32_t)(k - 1);
    if (s->n_packs == s->cap_packs) {
        s->cap_packs = s->cap_packs ? 2 * s->cap_packs : 8;
        s->packs = sli_xrealloc(s->packs, s->cap_packs * sizeof *s->packs);
    }
    st_pack *p = &s->packs[s->n_packs];
    p->name = sli_arena_strdup(s->pack_arena, name);
    p->fd = p->wfd = -1;
    p->size = -1;
    sli_map_put(&s->pack_index, p->name, (void *)(uintptr_t)(s->n_packs + 1));
    return s->n_packs++;
}

/* "<hash><ext>": the name an artifact's object file has, which keys the packed map. */
static void packed_name(const char *hash, const char *type, char name[SL_HASH_HEX_SIZE + 32]) {
    const char *ext = sl_artifact_type_ext(type);
    size_t el = strlen(ext);
    if (el > 31) el = 0;
    memcpy(name, hash, SL_HASH_HEX_SIZE - 1);
    memcpy(name + SL_HASH_HEX_SIZE - 1, ext, el);
    name[SL_HASH_HEX_SIZE - 1 + el] = '\0';
}

/* Remember where a packed artifact is; the latest copy wins. With `pack_mu` held. */
static void index_packed(st_store *s, uint32_t pack, uint64_t offset, const char *hash, uint64_t size, const char *type) {
    char name[SL_HASH_HEX_SIZE + 32];
    packed_name(hash, type, name);
    packed_entry *e = sli_map_get(&s->packed, name);
    if (!e) {
        e = sli_arena_alloc(s->pack_arena, sizeof *e);
        memcpy(e->hash, hash, SL_HASH_HEX_SIZE);
        sli_map_put(&s->packed, sli_arena_strdup(s->pack_arena, name), e);
    }
    e->pack = pack;
    e->offset = offset;
    e->size = size;
    e->damaged = 0;
}

/* The packed entry of an output if it is known damaged at the place the output names. */
static int packed_damaged(st_store *s, const st_output *o) {
    char name[SL_HASH_HEX_SIZE + 32];
    packed_name(o->hash, o->type, name);
    pthread_mutex_lock(&s->pack_mu);
    packed_entry *e = sli_map_get(&s->packed, name);
    int bad = e && e->damaged && s->packs[e->pack].name == o->pack && e->offset == o->offset;
    pthread_mutex_unlock(&s->pack_mu);
    return bad;
}

/* The record in the store's arena. `keep_parts`: the key's text too, which only `why` reads
 * (from a loaded journal); a run's own records leave it out, as it is most of their size. */
static st_record *copy_record(st_store *s, const st_record *r, int keep_parts) {
    sli_arena *a = s->arena;
    st_record *c = sli_arena_alloc(a, sizeof *c);
    c->key = sli_arena_strdup(a, r->key);
    c->step = sli_arena_strdup(a, r->step);
    c->op = sli_arena_strdup(a, r->op);
    c->parts = keep_parts && r->parts ? sli_arena_strdup(a, r->parts) : "";
    c->time = r->time;
    c->wall = r->wall;
    c->n_outputs = r->n_outputs;
    c->outputs = sli_arena_alloc(a, (r->n_outputs + 1) * sizeof *c->outputs);
    for (size_t i = 0; i < r->n_outputs; i++) {
        c->outputs[i] = r->outputs[i];
        c->outputs[i].port = sli_arena_strdup(a, r->outputs[i].port);
        c->outputs[i].type = sli_arena_strdup(a, r->outputs[i].type);
        if (r->outputs[i].pack) {
            pthread_mutex_lock(&s->pack_mu);
            uint32_t k = intern_pack(s, r->outputs[i].pack);
            c->outputs[i].pack = s->packs[k].name;
            index_packed(s, k, r->outputs[i].offset, r->outputs[i].hash, r->outputs[i].size, r->outputs[i].type);
            pthread_mutex_unlock(&s->pack_mu);
        }
    }
    c->n_values = r->n_values;
    c->value_names = sli_arena_alloc(a, (r->n_values + 1) * sizeof(char *));
    c->value_texts = sli_arena_alloc(a, (r->n_values + 1) * sizeof(char *));
    for (size_t i = 0; i < r->n_values; i++) {
        c->value_names[i] = sli_arena_strdup(a, r->value_names[i]);
        c->value_texts[i] = sli_arena_strdup(a, r->value_texts[i]);
    }
    return c;
}

static void index_record(st_store *s, st_record *r) {
    sli_map_put(&s->by_key, r->key, r);
    sli_map_put(&s->by_step, r->step, r);
}

/*
 * Journal records are single lines of tab-separated fields (written a batch at a time; a line
 * without its final newline is a record cut short by a kill):
 *
 *   R1 key step op time_us wall_us n_out {port type hash size}*n_out n_val {name value}*n_val parts
 *   R2 the same, with a fifth field per output: "" for a file, "<pack>:<offset>" for a packed one
 *      (written only when some output is packed, so stores of files stay readable by 0.1.0)
 *   D1 <hash><ext> <pack>:<offset>   that pack entry was found not to hold the artifact
 *
 * Text fields escape backslash, tab, newline and carriage return as \\ \t \n \r.
 */
static void put_escaped(sli_buf *b, const char *s) {
    for (;;) {
        size_t run = strcspn(s, "\\\t\n\r");
        sli_buf_put(b, s, run);
        s += run;
        if (!*s) return;
        sli_buf_puts(b, *s == '\\' ? "\\\\" : *s == '\t' ? "\\t" : *s == '\n' ? "\\n" : "\\r");
        s++;
    }
}

/* Split a line into fields in place, unescaping; returns the number of fields (at most max). */
static size_t split_fields(char *line, char **f, size_t max) {
    size_t n = 0;
    char *w = line;
    f[n++] = w;
    for (char *p = line; *p; p++) {
        if (*p == '\t') {
            *w++ = '\0';
            if (n == max) return n;
            f[n++] = w;
        } else if (*p == '\\' && p[1]) {
            p++;
            *w++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return n;
}

/* Parse one journal line; malformed lines (a torn write at a kill) are skipped. */
static void load_line(st_store *s, char *line) {
    char *f[4096];
    size_t n = split_fields(line, f, sizeof f / sizeof f[0]);
    if (n == 3 && strcmp(f[0], "D1") == 0) { /* a packed entry found damaged: D1 name pack:offset */
        char *colon = strrchr(f[2], ':');
        packed_entry *e = sli_map_get(&s->packed, f[1]);
        if (colon && e) {
            *colon = '\0';
            uintptr_t k = (uintptr_t)sli_map_get(&s->pack_index, f[2]);
            if (k && e->pack == k - 1 && e->offset == strtoull(colon + 1, NULL, 10)) e->damaged = 1;
        }
        return;
    }
    if (n < 9 || f[0][0] != 'R' || (f[0][1] != '1' && f[0][1] != '2') || f[0][2]) return;
    size_t per = f[0][1] == '2' ? 5 : 4;
    st_record r = {0};
    r.key = f[1];
    r.step = f[2];
    r.op = f[3];
    r.time = strtod(f[4], NULL) * 1e-6;
    r.wall = strtod(f[5], NULL) * 1e-6;
    size_t k = 6, nout = strtoul(f[k++], NULL, 10);
    if (nout > 1000 || k + per * nout + 1 > n) return;
    st_output ov[1000];
    for (size_t i = 0; i < nout; i++) {
        ov[i].port = f[k++];
        ov[i].type = f[k++];
        snprintf(ov[i].hash, sizeof ov[i].hash, "%s", f[k++]);
        ov[i].size = strtoull(f[k++], NULL, 10);
        ov[i].pack = NULL;
        ov[i].offset = 0;
        if (per == 5 && *f[k]) {
            char *colon = strrchr(f[k], ':');
            if (!colon || colon == f[k] || strchr(f[k], '/')) return;
            *colon = '\0';
            ov[i].pack = f[k];
            ov[i].offset = strtoull(colon + 1, NULL, 10);
        }
        k += per - 4;
    }
    size_t nval = strtoul(f[k++], NULL, 10);
    if (nval > 1000 || k + 2 * nval + 1 > n) return;
    const char *vn[1000], *vt[1000];
    for (size_t i = 0; i < nval; i++) {
        vn[i] = f[k++];
        vt[i] = f[k++];
    }
    r.parts = f[k];
    r.outputs = ov;
    r.n_outputs = nout;
    r.value_names = vn;
    r.value_texts = vt;
    r.n_values = nval;
    if (strlen(r.key) == SL_HASH_HEX_SIZE - 1 && *r.step) index_record(s, copy_record(s, &r, 1));
}

static sl_status load_journal(st_store *s, int writable) {
    char *text = NULL;
    size_t len = 0;
    sl_status st = sl_read_file(s->journal_path, 0, &text, &len);
    if (st == SL_ERR_NOT_FOUND) {
        sl_clear_error();
        return SL_OK;
    }
    if (st != SL_OK) return st;
    size_t good = 0;
    for (size_t i = 0; i < len;) {
        char *nl = memchr(text + i, '\n', len - i);
        if (!nl) break; /* a record without its newline was cut short by a kill */
        *nl = '\0';
        load_line(s, text + i);
        i = (size_t)(nl - text) + 1;
        good = i;
    }
    free(text);
    if (writable && good < len && truncate(s->journal_path, (off_t)good) != 0)
        return sl_set_error(SL_ERR_IO, "%s: cannot drop the torn last record: %s", s->journal_path, strerror(errno));
    return SL_OK;
}

/* Memo lines: "H1 path dev ino size mtime_ns ctime_ns hashed_ns hash", tab-separated, path
 * escaped as in the journal. Malformed lines are skipped; the latest line for a path wins. */
static void load_memo(st_store *s) {
    char *text = NULL;
    size_t len = 0;
    if (sl_read_file(s->memo_path, 0, &text, &len) != SL_OK) {
        sl_clear_error();
        return;
    }
    for (size_t i = 0; i < len;) {
        char *nl = memchr(text + i, '\n', len - i);
        if (!nl) break;
        *nl = '\0';
        char *f[10];
        size_t n = split_fields(text + i, f, 10);
        if (n == 9 && strcmp(f[0], "H1") == 0 && strlen(f[8]) == SL_HASH_HEX_SIZE - 1) {
            memo_entry *e = sli_arena_alloc(s->arena, sizeof *e);
            e->dev = strtoull(f[2], NULL, 10);
            e->ino = strtoull(f[3], NULL, 10);
            e->size = strtoull(f[4], NULL, 10);
            e->mtime_ns = strtoll(f[5], NULL, 10);
            e->ctime_ns = strtoll(f[6], NULL, 10);
            e->hashed_ns = strtoll(f[7], NULL, 10);
            memcpy(e->hash, f[8], SL_HASH_HEX_SIZE);
            sli_map_put(&s->memo, sli_arena_strdup(s->arena, f[1]), e);
        }
        i = (size_t)(nl - text) + 1;
    }
    free(text);
}

static int64_t ns_of(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static sl_status memo_file_hash(void *user, const char *path, const void *stp, char hex[SL_HASH_HEX_SIZE]) {
    st_store *s = user;
    const struct stat *sb = stp;
    memo_entry *e = sli_map_get(&s->memo, path);
    int64_t mt = ns_of(sb->st_mtim), ct = ns_of(sb->st_ctim);
    /* a file changed within 2 s of being hashed may have changed again in the same clock tick */
    if (e && e->dev == (uint64_t)sb->st_dev && e->ino == (uint64_t)sb->st_ino && e->size == (uint64_t)sb->st_size &&
        e->mtime_ns == mt && e->ctime_ns == ct && e->hashed_ns - (mt > ct ? mt : ct) > 2000000000LL) {
        memcpy(hex, e->hash, SL_HASH_HEX_SIZE);
        return SL_OK;
    }
    sl_status st = sl_artifact_hash(path, hex);
    if (st != SL_OK || s->journal_fd < 0) return st; /* read-only: remember nothing */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (!e) {
        e = sli_arena_alloc(s->arena, sizeof *e);
        sli_map_put(&s->memo, sli_arena_strdup(s->arena, path), e);
    }
    *e = (memo_entry){(uint64_t)sb->st_dev, (uint64_t)sb->st_ino, (uint64_t)sb->st_size, mt, ct, ns_of(now), ""};
    memcpy(e->hash, hex, SL_HASH_HEX_SIZE);
    if (s->memo_fd < 0) s->memo_fd = open(s->memo_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s->memo_fd >= 0) {
        sli_buf b = {0};
        sli_buf_puts(&b, "H1\t");
        put_escaped(&b, path);
        sli_buf_printf(&b, "\t%llu\t%llu\t%llu\t%lld\t%lld\t%lld\t%s\n", (unsigned long long)e->dev, (unsigned long long)e->ino,
                       (unsigned long long)e->size, (long long)mt, (long long)ct, (long long)e->hashed_ns, hex);
        /* the memo is only a shortcut: a lost or torn line means one more hashing, later */
        ssize_t w = write(s->memo_fd, b.data, b.len);
        (void)w;
        sli_buf_free(&b);
    }
    return SL_OK;
}

sl_status st_input_hash(st_store *s, const char *path, char hex[SL_HASH_HEX_SIZE]) {
    return sl_artifact_hash_ex(path, memo_file_hash, s, hex);
}

/* Every 50 ms, if records were written since the last time: fsync the pack, then the journal
 * (a record's pack entries are written before it, so they are on disk no later than it; a
 * power cut between the two at worst leaves a record whose entry fails its hash check when
 * read back, which is noted and recomputed). A power cut loses at most the last 50 ms. */
static void *syncer_main(void *arg) {
    st_store *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->syncer_stop) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 50 * 1000000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->sync_cv, &s->mu, &t);
        if (!s->dirty) continue;
        s->dirty = 0;
        pthread_mutex_unlock(&s->mu);
        sync_pack(s);
        fdatasync(s->journal_fd);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static sl_status open_common(const char *workdir, int writable, st_store **out) {
    *out = NULL;
    st_store *s = sli_xcalloc(1, sizeof *s);
    s->root = sli_path_absolute(workdir);
    s->objects = sli_xasprintf("%s/store", s->root);
    s->tmp = sli_xasprintf("%s/tmp", s->root);
    s->journal_path = sli_xasprintf("%s/journal", s->root);
    s->memo_path = sli_xasprintf("%s/hashes", s->root);
    s->packs_dir = sli_xasprintf("%s/packs", s->objects);
    s->lock_fd = s->journal_fd = s->memo_fd = s->pack_fd = -1;
    s->arena = sli_arena_create();
    s->pack_arena = sli_arena_create();
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->pack_mu, NULL);
    sl_status st = SL_OK;
    if (writable) {
        st = sli_mkdirs(s->objects, 0755);
        /* the 256 fan-out folders exist from the start, so committing an object is one rename */
        for (int i = 0; i < 256 && st == SL_OK; i++) {
            char sub[32];
            snprintf(sub, sizeof sub, "/%02x", i);
            char *d = sli_xasprintf("%s%s", s->objects, sub);
            if (mkdir(d, 0755) != 0 && errno != EEXIST) st = sl_set_error(SL_ERR_IO, "%s: cannot create: %s", d, strerror(errno));
            free(d);
        }
        if (st == SL_OK) st = sli_mkdirs(s->tmp, 0755);
        if (st == SL_OK) st = sli_mkdirs(s->packs_dir, 0755);
        if (st == SL_OK) {
            char *lock = sli_xasprintf("%s/lock", s->root);
            s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
            if (s->lock_fd < 0) {
                st = sl_set_error(SL_ERR_IO, "%s: cannot create the lock file: %s", lock, strerror(errno));
            } else if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
                char pid[32] = "";
                ssize_t n = pread(s->lock_fd, pid, sizeof pid - 1, 0);
                pid[n > 0 ? n : 0] = '\0';
                st = sl_set_error(SL_ERR_IO, "%s is in use by another sciloop run (pid %s); wait for it or use --workdir",
                                  s->root, *pid ? pid : "unknown");
            } else {
                char pid[32];
                int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
                if (ftruncate(s->lock_fd, 0) != 0 || pwrite(s->lock_fd, pid, (size_t)n, 0) != n) {
                    /* the pid is only informative */
                }
            }
            free(lock);
        }
        /* staging areas of an earlier, killed run: nothing in them was committed */
        if (st == SL_OK) {
            sli_remove_tree(s->tmp);
            st = sli_mkdirs(s->tmp, 0755);
            /* staging is spread over 16 folders: steps finishing at once then rarely wait for
             * the same directory lock when their outputs are renamed into the store */
            for (int i = 0; i < ST_STAGING_FOLDERS && st == SL_OK; i++) {
                char *d = sli_xasprintf("%s/%x", s->tmp, i);
                if (mkdir(d, 0755) != 0 && errno != EEXIST) st = sl_set_error(SL_ERR_IO, "%s: cannot create: %s", d, strerror(errno));
                free(d);
            }
        }
    }
    if (st == SL_OK) st = load_journal(s, writable);
    if (st == SL_OK) load_memo(s);
    if (st == SL_OK && writable) {
        s->journal_fd = open(s->journal_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (s->journal_fd < 0) st = sl_set_error(SL_ERR_IO, "%s: cannot open the journal: %s", s->journal_path, strerror(errno));
    }
    if (st != SL_OK) {
        st_close(s);
        return st;
    }
    if (writable) {
        pthread_cond_init(&s->sync_cv, NULL);
        s->syncer_running = pthread_create(&s->syncer, NULL, syncer_main, s) == 0;
    }
    *out = s;
    return SL_OK;
}

sl_status st_open(const char *workdir, st_store **out) { return open_common(workdir, 1, out); }
sl_status st_open_readonly(const char *workdir, st_store **out) { return open_common(workdir, 0, out); }

void st_close(st_store *s) {
    if (!s) return;
    if (s->syncer_running) {
        pthread_mutex_lock(&s->mu);
        s->syncer_stop = 1;
        pthread_cond_signal(&s->sync_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->syncer, NULL);
        pthread_cond_destroy(&s->sync_cv);
    }
    /* a journal record is only worth its pack entries: the pack reaches the disk first */
    if (s->journal_fd >= 0) {
        pthread_mutex_lock(&s->mu);
        flush_locked(s);
        pthread_mutex_unlock(&s->mu);
    }
    sync_pack(s);
    if (s->journal_fd >= 0) {
        if (s->dirty) fsync(s->journal_fd);
        close(s->journal_fd);
    }
    if (s->lock_fd >= 0) close(s->lock_fd); /* releases the flock */
    if (s->memo_fd >= 0) close(s->memo_fd);
    for (uint32_t i = 0; i < s->n_packs; i++) {
        if (s->packs[i].fd >= 0) close(s->packs[i].fd);
        if (s->packs[i].wfd >= 0) close(s->packs[i].wfd);
    }
    free(s->packs);
    sli_buf_free(&s->pack_buf);
    sli_buf_free(&s->journal_buf);
    sli_map_free(&s->pack_index);
    sli_map_free(&s->packed);
    free(s->packs_dir);
    sli_map_free(&s->memo);
    free(s->memo_path);
    sli_map_free(&s->by_key);
    sli_map_free(&s->by_step);
    sli_arena_destroy(s->arena);
    sli_arena_destroy(s->pack_arena);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->pack_mu);
    free(s->root);
    free(s->objects);
    free(s->tmp);
    free(s->journal_path);
    free(s);
}

/* Whether a pack exists and is at least `end` bytes long (its size is read once per run). */
static int pack_holds(st_store *s, const char *name, uint64_t end) {
    pthread_mutex_lock(&s->pack_mu);
    st_pack *p = &s->packs[intern_pack(s, name)];
    if (p->size == -1) {
        char *path = sli_xasprintf("%s/%s", s->packs_dir, name);
        struct stat sb;
        p->size = stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ? (int64_t)sb.st_size : -2;
        free(path);
    }
    int ok = p->size >= 0 && (uint64_t)p->size >= end;
    pthread_mutex_unlock(&s->pack_mu);
    return ok;
}

const st_record *st_lookup(st_store *s, const char *key) {
    pthread_mutex_lock(&s->mu);
    const st_record *r = sli_map_get(&s->by_key, key);
    pthread_mutex_unlock(&s->mu);
    if (!r) return NULL;
    /* a record is only as good as its objects: all must be present, files at their size,
     * packed ones inside their pack */
    for (size_t i = 0; i < r->n_outputs; i++) {
        if (r->outputs[i].pack) {
            if (!pack_holds(s, r->outputs[i].pack, r->outputs[i].offset + PACK_HEADER + r->outputs[i].size)) return NULL;
            if (packed_damaged(s, &r->outputs[i])) return NULL;
            continue;
        }
        char *p = st_object_path(s->objects, r->outputs[i].hash, r->outputs[i].type);
        struct stat sb;
        int ok = stat(p, &sb) == 0 && (S_ISDIR(sb.st_mode) || (uint64_t)sb.st_size == r->outputs[i].size);
        free(p);
        if (!ok) return NULL;
    }
    return r;
}

const st_record *st_latest_for_step(const st_store *s, const char *step) {
    return sli_map_get(&s->by_step, step);
}

/* fdatasync this run's pack if it has unsynced entries; 0 or -1 (errno). Every entry a journal
 * record already names was written before the record, so it is covered. The descriptor stays
 * open until st_close, so the sync runs without holding the lock the ops' threads need. */
static int sync_pack(st_store *s) {
    pthread_mutex_lock(&s->pack_mu);
    int fd = s->pack_dirty ? s->pack_fd : -1;
    s->pack_dirty = 0;
    pthread_mutex_unlock(&s->pack_mu);
    return fd >= 0 ? fdatasync(fd) : 0;
}

void st_format_record(const st_record *r, sli_buf *out) {
    int packed = 0;
    for (size_t i = 0; i < r->n_outputs; i++) packed |= r->outputs[i].pack != NULL;
    sli_buf_clear(out);
    sli_buf_puts(out, packed ? "R2\t" : "R1\t");
    put_escaped(out, r->key);
    sli_buf_putc(out, '\t');
    put_escaped(out, r->step);
    sli_buf_putc(out, '\t');
    put_escaped(out, r->op);
    sli_buf_putc(out, '\t');
    sli_buf_put_u64(out, (uint64_t)(r->time * 1e6));
    sli_buf_putc(out, '\t');
    sli_buf_put_u64(out, (uint64_t)(r->wall * 1e6));
    sli_buf_putc(out, '\t');
    sli_buf_put_u64(out, r->n_outputs);
    for (size_t i = 0; i < r->n_outputs; i++) {
        sli_buf_putc(out, '\t');
        put_escaped(out, r->outputs[i].port);
        sli_buf_putc(out, '\t');
        put_escaped(out, r->outputs[i].type);
        sli_buf_putc(out, '\t');
        sli_buf_puts(out, r->outputs[i].hash);
        sli_buf_putc(out, '\t');
        sli_buf_put_u64(out, r->outputs[i].size);
        if (packed) {
            sli_buf_putc(out, '\t');
            if (r->outputs[i].pack) {
                sli_buf_puts(out, r->outputs[i].pack);
                sli_buf_putc(out, ':');
                sli_buf_put_u64(out, r->outputs[i].offset);
            }
        }
    }
    sli_buf_putc(out, '\t');
    sli_buf_put_u64(out, r->n_values);
    for (size_t i = 0; i < r->n_values; i++) {
        sli_buf_putc(out, '\t');
        put_escaped(out, r->value_names[i]);
        sli_buf_putc(out, '\t');
        put_escaped(out, r->value_texts[i]);
    }
    sli_buf_putc(out, '\t');
    put_escaped(out, r->parts ? r->parts : "");
    sli_buf_putc(out, '\n');
}

sl_status st_append_line(st_store *s, const st_record *r, const char *line, size_t len) {
    sl_status st = SL_OK;
    pthread_mutex_lock(&s->mu);
    sli_buf_put(&s->journal_buf, line, len);
    index_record(s, copy_record(s, r, 0));
    if (s->journal_buf.len > (256u << 10)) st = flush_locked(s);
    pthread_mutex_unlock(&s->mu);
    return st;
}

sl_status st_append(st_store *s, const st_record *r) {
    sli_buf b = {0};
    st_format_record(r, &b);
    sl_status st = st_append_line(s, r, b.data, b.len);
    sli_buf_free(&b);
    return st;
}

/* Write buffered pack entries. With `pack_mu` held. On failure the entries are lost and the
 * pack's end unknown: the next entry starts a new pack. */
static sl_status flush_pack_locked(st_store *s) {
    if (!s->pack_buf.len || s->pack_fd < 0) return SL_OK;
    sl_status st = SL_OK;
    if (write_all(s->pack_fd, s->pack_buf.data, s->pack_buf.len) != 0) {
        st = sl_set_error(SL_ERR_IO, "%s/%s: cannot append: %s", s->packs_dir, s->packs[s->pack_cur].name, strerror(errno));
        s->pack_fd = -1;
        s->packs[s->pack_cur].size = -2;
    } else {
        s->pack_dirty = 1;
    }
    sli_buf_clear(&s->pack_buf);
    return st;
}

/* Write what is buffered: pack entries first, then the journal records that name them, so a
 * kill at any point leaves no record without its entries (a record not yet written only
 * means its step runs again). With `mu` held. */
static sl_status flush_locked(st_store *s) {
    pthread_mutex_lock(&s->pack_mu);
    sl_status st = flush_pack_locked(s);
    pthread_mutex_unlock(&s->pack_mu);
    if (st != SL_OK) {
        /* the records may name entries that were lost: drop them; their steps run again */
        sli_buf_clear(&s->journal_buf);
        return st;
    }
    if (s->journal_buf.len) {
        if (write_all(s->journal_fd, s->journal_buf.data, s->journal_buf.len) != 0)
            st = sl_set_error(SL_ERR_IO, "%s: cannot append: %s", s->journal_path, strerror(errno));
        sli_buf_clear(&s->journal_buf);
        s->dirty = 1; /* the syncer fsyncs within 50 ms */
    }
    return st;
}

sl_status st_flush(st_store *s) {
    if (s->journal_fd < 0) return SL_OK;
    pthread_mutex_lock(&s->mu);
    sl_status st = flush_locked(s);
    pthread_mutex_unlock(&s->mu);
    return st;
}

sl_status st_sync(st_store *s) {
    pthread_mutex_lock(&s->mu);
    sl_status st = s->journal_fd >= 0 ? flush_locked(s) : SL_OK;
    if (st == SL_OK) st = sync_pack(s) == 0 ? SL_OK : sl_set_error(SL_ERR_IO, "%s: fsync of this run's pack failed: %s", s->packs_dir, strerror(errno));
    if (st == SL_OK && s->journal_fd >= 0 && fdatasync(s->journal_fd) != 0)
        st = sl_set_error(SL_ERR_IO, "%s: fsync failed: %s", s->journal_path, strerror(errno));
    s->dirty = 0;
    pthread_mutex_unlock(&s->mu);
    return st;
}

sl_status st_commit_object(const char *objects_dir, const char *staged, const char *type,
                           char hash[SL_HASH_HEX_SIZE], uint64_t *size_out, char **path_out) {
    *path_out = NULL;
    struct stat sb;
    if (stat(staged, &sb) != 0) return sl_set_error(SL_ERR_NOT_FOUND, "output was not written (%s is missing)", staged);
    int want_dir = sl_artifact_type_is_dir(type);
    if (want_dir && !S_ISDIR(sb.st_mode))
        return sl_set_error(SL_ERR_TYPE, "output of type '%s' must be a directory, but %s is a file", type, staged);
    if (!want_dir && !S_ISREG(sb.st_mode))
        return sl_set_error(SL_ERR_TYPE, "output of type '%s' must be a regular file, but %s is not", type, staged);
    sl_status st = sl_artifact_hash(staged, hash);
    if (st != SL_OK) return st;
    *size_out = S_ISDIR(sb.st_mode) ? 0 : (uint64_t)sb.st_size;
    char *dst = st_object_path(objects_dir, hash, type);
    /* A file may simply replace an existing identical object (rename is atomic); a directory
     * cannot replace a non-empty one, which then already holds the same content. */
    if (rename(staged, dst) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY) {
            sli_remove_tree(staged);
        } else if (errno == ENOENT) {
            /* the fan-out folder is missing (a store made by hand, or cleaned): create it once */
            char *sub = sli_dirname(dst);
            st = sli_mkdirs(sub, 0755);
            free(sub);
            if (st == SL_OK && rename(staged, dst) != 0 && errno != EEXIST && errno != ENOTEMPTY)
                st = sl_set_error(SL_ERR_IO, "cannot move %s into the store: %s", staged, strerror(errno));
        } else {
            st = sl_set_error(SL_ERR_IO, "cannot move %s into the store: %s", staged, strerror(errno));
        }
        if (st != SL_OK) {
            free(dst);
            return st;
        }
    }
    *path_out = dst;
    return SL_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Packs                                                                                      */

/* Create this run's pack. With `pack_mu` held. */
static sl_status open_pack(st_store *s) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    for (int attempt = 0; attempt < 100; attempt++) {
        char name[96];
        snprintf(name, sizeof name, "%04d%02d%02d-%02d%02d%02d-%ld-%d.pack", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (long)getpid(), attempt);
        char *path = sli_xasprintf("%s/%s", s->packs_dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
        int err = errno;
        free(path);
        if (fd >= 0) {
            s->pack_fd = fd;
            s->pack_cur = intern_pack(s, name);
            s->packs[s->pack_cur].size = 0;
            s->packs[s->pack_cur].wfd = fd;
            s->pack_len = 0;
            return SL_OK;
        }
        if (err != EEXIST) return sl_set_error(SL_ERR_IO, "%s/%s: cannot create a pack: %s", s->packs_dir, name, strerror(err));
    }
    return sl_set_error(SL_ERR_IO, "%s: cannot find a free pack name", s->packs_dir);
}

static void put_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static int hex_to_raw(const char *hex, unsigned char raw[32]) {
    for (int i = 0; i < 32; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0) return -1;
            v = v << 4 | d;
        }
        raw[i] = (unsigned char)v;
    }
    return 0;
}

sl_status st_pack_put(st_store *s, const void *data, size_t len, const char hash[SL_HASH_HEX_SIZE], const char *type,
                      const char **pack, uint64_t *offset) {
    unsigned char hdr[PACK_HEADER] = {'S', 'L', 'P', 'K', 0, 0, 0, 0};
    put_le64(hdr + 8, len);
    if (hex_to_raw(hash, hdr + 16) != 0) return sl_set_error(SL_ERR_INTERNAL, "not a SHA-256: %.64s", hash);
    pthread_mutex_lock(&s->pack_mu);
    sl_status st = s->pack_fd >= 0 ? SL_OK : open_pack(s);
    if (st == SL_OK) {
        /* entries are buffered and written in batches, always before the journal records
         * that name them (st_flush); a kill leaves at most a torn last batch, which no
         * record names */
        *pack = s->packs[s->pack_cur].name;
        *offset = s->pack_len;
        sli_buf_put(&s->pack_buf, hdr, sizeof hdr);
        sli_buf_put(&s->pack_buf, data, len);
        s->pack_len += sizeof hdr + len;
        s->packs[s->pack_cur].size = (int64_t)s->pack_len;
        index_packed(s, s->pack_cur, *offset, hash, len, type);
        if (s->pack_buf.len > (1u << 20)) st = flush_pack_locked(s);
    }
    pthread_mutex_unlock(&s->pack_mu);
    return st;
}

/* Read descriptor of a pack, opened on first use. With `pack_mu` held. */
static int pack_read_fd(st_store *s, uint32_t k) {
    st_pack *p = &s->packs[k];
    if (p->fd < 0) {
        char *path = sli_xasprintf("%s/%s", s->packs_dir, p->name);
        p->fd = open(path, O_RDONLY | O_CLOEXEC);
        free(path);
    }
    return p->fd;
}

sl_status st_materialise(void *store, const char *path) {
    st_store *s = store;
    size_t n = strlen(s->objects);
    if (!path || strncmp(path, s->objects, n) != 0 || path[n] != '/') return SL_OK;
    const char *base = strrchr(path, '/') + 1;
    pthread_mutex_lock(&s->pack_mu);
    packed_entry *e = sli_map_get(&s->packed, base);
    if (!e || e->done) {
        pthread_mutex_unlock(&s->pack_mu);
        return SL_OK;
    }
    packed_entry want = *e;
    const char *pack = s->packs[want.pack].name;
    sl_status fst = want.pack == s->pack_cur ? flush_pack_locked(s) : SL_OK; /* it may still be in the buffer */
    int fd = pack_read_fd(s, want.pack);
    pthread_mutex_unlock(&s->pack_mu);
    if (fst != SL_OK) return fst;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == want.size) goto done; /* made by an earlier run */
    if (fd < 0) return sl_set_error(SL_ERR_NOT_FOUND, "%s/%s: cannot open the pack holding %s: %s", s->packs_dir, pack, base, strerror(errno));
    unsigned char *buf = malloc(PACK_HEADER + want.size + 1);
    if (!buf) return sl_set_error(SL_ERR_NOMEM, "out of memory reading %s from %s", base, pack);
    size_t got = 0, total = PACK_HEADER + want.size;
    while (got < total) {
        ssize_t r = pread(fd, buf + got, total - got, (off_t)(want.offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    unsigned char raw[32];
    char hex[SL_HASH_HEX_SIZE];
    int ok = got == total && memcmp(buf, "SLPK\0\0\0\0", 8) == 0 && get_le64(buf + 8) == want.size && hex_to_raw(want.hash, raw) == 0 &&
             memcmp(buf + 16, raw, 32) == 0;
    if (ok) {
        sl_sha256_hex(buf + PACK_HEADER, want.size, hex);
        ok = memcmp(hex, want.hash, SL_HASH_HEX_SIZE - 1) == 0;
    }
    if (!ok) {
        free(buf);
        /* remembered in the journal: from the next run on, the records naming this entry are
         * not trusted, so the step that made it runs again */
        pthread_mutex_lock(&s->pack_mu);
        if (e->pack == want.pack && e->offset == want.offset) e->damaged = 1;
        pthread_mutex_unlock(&s->pack_mu);
        if (s->journal_fd >= 0) {
            pthread_mutex_lock(&s->mu);
            sli_buf_printf(&s->journal_buf, "D1\t%s\t%s:%llu\n", base, pack, (unsigned long long)want.offset);
            pthread_mutex_unlock(&s->mu);
        }
        return sl_set_error(SL_ERR_IO, "%s/%s: the entry at offset %llu does not hold artifact %s (the pack is damaged); "
                            "the step that made it runs again next time", s->packs_dir, pack, (unsigned long long)want.offset, base);
    }
    /* written under tmp/ (emptied when a run starts, so a kill leaves nothing in the store),
     * named for this thread, then renamed into place: a reader never sees a part */
    char *tmp = sli_xasprintf("%s/%s.%lx.tmp", s->tmp, base, (unsigned long)pthread_self());
    sl_status st = SL_OK;
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) st = sl_set_error(SL_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    for (size_t w = 0; st == SL_OK && w < want.size;) {
        ssize_t r = write(out, buf + PACK_HEADER + w, want.size - w);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) st = sl_set_error(SL_ERR_IO, "%s: cannot write: %s", tmp, r < 0 ? strerror(errno) : "no progress");
        else w += (size_t)r;
    }
    if (out >= 0 && close(out) != 0 && st == SL_OK) st = sl_set_error(SL_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
    if (st == SL_OK && rename(tmp, path) != 0) {
        /* the fan-out folder is missing (a store cleaned by hand): create it once */
        char *sub = sli_dirname(path);
        sli_mkdirs(sub, 0755);
        free(sub);
        if (rename(tmp, path) != 0) st = sl_set_error(SL_ERR_IO, "cannot move %s into the store: %s", tmp, strerror(errno));
    }
    if (st != SL_OK) unlink(tmp);
    free(tmp);
    free(buf);
    if (st != SL_OK) return st;
done:
    pthread_mutex_lock(&s->pack_mu);
    e->done = 1;
    pthread_mutex_unlock(&s->pack_mu);
    return SL_OK;
}
