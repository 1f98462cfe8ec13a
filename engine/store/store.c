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

struct st_store {
    char *root, *objects, *tmp, *journal_path, *memo_path;
    int lock_fd, journal_fd, memo_fd;
    sli_map memo;        /* path -> memo_entry* */
    sli_arena *arena;    /* records and their strings */
    sli_map by_key;      /* key -> st_record* (latest) */
    sli_map by_step;     /* step id -> st_record* (latest) */
    pthread_mutex_t mu;
    double last_sync;
    int dirty;
};

const char *st_root(const st_store *s) { return s->root; }
const char *st_tmp_dir(const st_store *s) { return s->tmp; }
const char *st_objects_dir(const st_store *s) { return s->objects; }

char *st_object_path(const char *objects_dir, const char *hash, const char *type) {
    return sli_xasprintf("%s/%.2s/%s%s", objects_dir, hash, hash, sl_artifact_type_ext(type));
}

static st_record *copy_record(sli_arena *a, const st_record *r) {
    st_record *c = sli_arena_alloc(a, sizeof *c);
    c->key = sli_arena_strdup(a, r->key);
    c->step = sli_arena_strdup(a, r->step);
    c->op = sli_arena_strdup(a, r->op);
    c->parts = sli_arena_strdup(a, r->parts ? r->parts : "");
    c->time = r->time;
    c->wall = r->wall;
    c->n_outputs = r->n_outputs;
    c->outputs = sli_arena_alloc(a, (r->n_outputs + 1) * sizeof *c->outputs);
    for (size_t i = 0; i < r->n_outputs; i++) {
        c->outputs[i] = r->outputs[i];
        c->outputs[i].port = sli_arena_strdup(a, r->outputs[i].port);
        c->outputs[i].type = sli_arena_strdup(a, r->outputs[i].type);
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
 * Journal records are single lines of tab-separated fields (so a record is one write(2), and a
 * line without its final newline is a record cut short by a kill):
 *
 *   R1 key step op time_us wall_us n_out {port type hash size}*n_out n_val {name value}*n_val parts
 *
 * Text fields escape backslash, tab, newline and carriage return as \\ \t \n \r.
 */
static void put_escaped(sli_buf *b, const char *s) {
    const char *run = s;
    for (; *s; s++) {
        const char *rep = *s == '\\' ? "\\\\" : *s == '\t' ? "\\t" : *s == '\n' ? "\\n" : *s == '\r' ? "\\r" : NULL;
        if (!rep) continue;
        sli_buf_put(b, run, (size_t)(s - run));
        sli_buf_puts(b, rep);
        run = s + 1;
    }
    sli_buf_put(b, run, (size_t)(s - run));
}

static void put_u64(sli_buf *b, uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sli_buf_reserve(b, (size_t)n);
    while (n) b->data[b->len++] = tmp[--n];
    b->data[b->len] = '\0';
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
    if (n < 9 || strcmp(f[0], "R1") != 0) return;
    st_record r = {0};
    r.key = f[1];
    r.step = f[2];
    r.op = f[3];
    r.time = strtod(f[4], NULL) * 1e-6;
    r.wall = strtod(f[5], NULL) * 1e-6;
    size_t k = 6, nout = strtoul(f[k++], NULL, 10);
    if (nout > 1000 || k + 4 * nout + 1 > n) return;
    st_output ov[1000];
    for (size_t i = 0; i < nout; i++) {
        ov[i].port = f[k++];
        ov[i].type = f[k++];
        snprintf(ov[i].hash, sizeof ov[i].hash, "%s", f[k++]);
        ov[i].size = strtoull(f[k++], NULL, 10);
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
    if (strlen(r.key) == SL_HASH_HEX_SIZE - 1 && *r.step) index_record(s, copy_record(s->arena, &r));
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

static sl_status open_common(const char *workdir, int writable, st_store **out) {
    *out = NULL;
    st_store *s = sli_xcalloc(1, sizeof *s);
    s->root = sli_path_absolute(workdir);
    s->objects = sli_xasprintf("%s/store", s->root);
    s->tmp = sli_xasprintf("%s/tmp", s->root);
    s->journal_path = sli_xasprintf("%s/journal", s->root);
    s->memo_path = sli_xasprintf("%s/hashes", s->root);
    s->lock_fd = s->journal_fd = s->memo_fd = -1;
    s->arena = sli_arena_create();
    pthread_mutex_init(&s->mu, NULL);
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
    s->last_sync = sli_now_mono();
    *out = s;
    return SL_OK;
}

sl_status st_open(const char *workdir, st_store **out) { return open_common(workdir, 1, out); }
sl_status st_open_readonly(const char *workdir, st_store **out) { return open_common(workdir, 0, out); }

void st_close(st_store *s) {
    if (!s) return;
    if (s->journal_fd >= 0) {
        if (s->dirty) fsync(s->journal_fd);
        close(s->journal_fd);
    }
    if (s->lock_fd >= 0) close(s->lock_fd); /* releases the flock */
    if (s->memo_fd >= 0) close(s->memo_fd);
    sli_map_free(&s->memo);
    free(s->memo_path);
    sli_map_free(&s->by_key);
    sli_map_free(&s->by_step);
    sli_arena_destroy(s->arena);
    pthread_mutex_destroy(&s->mu);
    free(s->root);
    free(s->objects);
    free(s->tmp);
    free(s->journal_path);
    free(s);
}

const st_record *st_lookup(st_store *s, const char *key) {
    pthread_mutex_lock(&s->mu);
    const st_record *r = sli_map_get(&s->by_key, key);
    pthread_mutex_unlock(&s->mu);
    if (!r) return NULL;
    /* a record is only as good as its objects: all must be present, files at their size */
    for (size_t i = 0; i < r->n_outputs; i++) {
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

sl_status st_append(st_store *s, const st_record *r) {
    sli_buf b = {0};
    sli_buf_puts(&b, "R1\t");
    put_escaped(&b, r->key);
    sli_buf_putc(&b, '\t');
    put_escaped(&b, r->step);
    sli_buf_putc(&b, '\t');
    put_escaped(&b, r->op);
    sli_buf_putc(&b, '\t');
    put_u64(&b, (uint64_t)(r->time * 1e6));
    sli_buf_putc(&b, '\t');
    put_u64(&b, (uint64_t)(r->wall * 1e6));
    sli_buf_putc(&b, '\t');
    put_u64(&b, r->n_outputs);
    for (size_t i = 0; i < r->n_outputs; i++) {
        sli_buf_putc(&b, '\t');
        put_escaped(&b, r->outputs[i].port);
        sli_buf_putc(&b, '\t');
        put_escaped(&b, r->outputs[i].type);
        sli_buf_putc(&b, '\t');
        sli_buf_puts(&b, r->outputs[i].hash);
        sli_buf_putc(&b, '\t');
        put_u64(&b, r->outputs[i].size);
    }
    sli_buf_putc(&b, '\t');
    put_u64(&b, r->n_values);
    for (size_t i = 0; i < r->n_values; i++) {
        sli_buf_putc(&b, '\t');
        put_escaped(&b, r->value_names[i]);
        sli_buf_putc(&b, '\t');
        put_escaped(&b, r->value_texts[i]);
    }
    sli_buf_putc(&b, '\t');
    put_escaped(&b, r->parts ? r->parts : "");
    sli_buf_putc(&b, '\n');
    char *line = b.data;
    size_t n = b.len - 1;
    sl_status st = SL_OK;
    pthread_mutex_lock(&s->mu);
    size_t off = 0;
    while (off < n + 1) {
        ssize_t w = write(s->journal_fd, line + off, n + 1 - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            st = sl_set_error(SL_ERR_IO, "%s: cannot append: %s", s->journal_path, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (st == SL_OK) {
        index_record(s, copy_record(s->arena, r));
        s->dirty = 1;
        double now = sli_now_mono();
        if (now - s->last_sync > 0.05) {
            fdatasync(s->journal_fd);
            s->last_sync = now;
            s->dirty = 0;
        }
    }
    pthread_mutex_unlock(&s->mu);
    free(line);
    return st;
}

sl_status st_sync(st_store *s) {
    pthread_mutex_lock(&s->mu);
    sl_status st = SL_OK;
    if (s->journal_fd >= 0 && fdatasync(s->journal_fd) != 0)
        st = sl_set_error(SL_ERR_IO, "%s: fsync failed: %s", s->journal_path, strerror(errno));
    s->dirty = 0;
    s->last_sync = sli_now_mono();
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
