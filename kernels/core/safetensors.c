/* safetensors.c — validated mmap reader (single files and sharded index) and atomic writer for the safetensors format. */
#define _GNU_SOURCE
#include "internal.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HEADER ((uint64_t)100 * 1000 * 1000)
#define MAX_INDEX ((size_t)100 * 1000 * 1000)
#define JSON_DEPTH 16

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data are little-endian; big-endian hosts are not supported"
#endif

/* Every dtype the format defines: byte size and our dtype (-1 when we have none). */
static const struct { const char *name; size_t size; int ours; } st_dtypes[] = {
    { "F32", 4, SL_F32 }, { "F16", 2, SL_F16 }, { "BF16", 2, SL_BF16 }, { "I32", 4, SL_I32 }, { "I64", 8, SL_I64 },
    { "U8", 1, SL_U8 }, { "BOOL", 1, -1 }, { "I8", 1, -1 }, { "I16", 2, -1 }, { "U16", 2, -1 }, { "U32", 4, -1 },
    { "U64", 8, -1 }, { "F64", 8, -1 }, { "F8_E4M3", 1, -1 }, { "F8_E5M2", 1, -1 },
};

static const char *st_name_of(sl_dtype d) {
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (st_dtypes[i].ours == (int)d) return st_dtypes[i].name;
    return NULL;
}

/* One mapped file, shared by the handle and every tensor obtained from it. */
typedef struct mapping {
    atomic_long refs;
    void *base;
    size_t size;
} mapping;

static void mapping_unref(void *user) {
    mapping *m = user;
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1) return;
    if (m->base && m->size) munmap(m->base, m->size);
    free(m);
}

typedef struct entry {
    char *name;
    const char *st_dtype;
    size_t esize;
    int ours;
    int ndim;
    int64_t shape[SL_MAX_DIMS];
    uint64_t begin, end;      /* relative to the data section */
    int shard;
} entry;

typedef struct shard {
    char *path;
    mapping *map;
    uint64_t data_start;      /* 8 + header length */
    char **meta_keys, **meta_values;
    size_t n_meta;
} shard;

struct sl_safetensors {
    shard *shards;
    int n_shards;
    entry *entries;
    int64_t n_entries;
};

SL_API void sl_safetensors_close(sl_safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->n_shards; i++) {
        shard *s = &st->shards[i];
        free(s->path);
        mapping_unref(s->map);
        for (size_t k = 0; k < s->n_meta; k++) { free(s->meta_keys[k]); free(s->meta_values[k]); }
        free(s->meta_keys);
        free(s->meta_values);
    }
    for (int64_t i = 0; i < st->n_entries; i++) free(st->entries[i].name);
    free(st->shards);
    free(st->entries);
    free(st);
}

static int cmp_begin(const void *a, const void *b) {
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((*(const entry *const *)a)->name, (*(const entry *const *)b)->name);
}

/* Print a JSON key for messages: escape control bytes, cut long ones. */
static const char *printable(const char *s, char *buf, size_t size) {
    size_t n = 0;
    for (; *s && n + 5 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20) n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
        else buf[n++] = (char)c;
    }
    if (*s && n + 4 < size) { memcpy(buf + n, "...", 3); n += 3; }
    buf[n] = '\0';
    return buf;
}

static bool grow_entries(sl_safetensors *st, int64_t extra) {
    entry *e = realloc(st->entries, (size_t)(st->n_entries + extra) * sizeof *e);
    if (!e) return false;
    st->entries = e;
    return true;
}

/* Map and validate one file; append its tensors to st. */
static sl_status open_shard(sl_safetensors *st, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sl_set_error(errno == ENOENT ? SL_ERR_NOT_FOUND : SL_ERR_IO, "%s: cannot open: %s", path,
                                    strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) { int e = errno; close(fd); return sl_set_error(SL_ERR_IO, "%s: %s", path, strerror(e)); }
    if (!S_ISREG(sb.st_mode)) { close(fd); return sl_set_error(SL_ERR_IO, "%s: not a regular file", path); }
    uint64_t fsize = (uint64_t)sb.st_size;
    if (fsize < 8) {
        close(fd);
        return sl_set_error(SL_ERR_PARSE, "%s: truncated safetensors file (%llu bytes; the 8-byte header length is "
                            "missing)", path, (unsigned long long)fsize);
    }
    mapping *m = calloc(1, sizeof *m);
    if (!m) { close(fd); return sl_set_error(SL_ERR_NOMEM, "%s: out of memory", path); }
    atomic_init(&m->refs, 1);
    /* Private writable mapping: tensors may be modified in place without touching the file. */
    m->base = mmap(NULL, (size_t)fsize, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m->base == MAP_FAILED) {
        int e = errno;
        free(m);
        return sl_set_error(SL_ERR_IO, "%s: mmap failed: %s", path, strerror(e));
    }
    m->size = (size_t)fsize;
    const unsigned char *p = m->base;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | p[i];

    sl_status rc = SL_OK;
    sli_json *doc = NULL;
    char err[256], kb[96];
    int shard_index = st->n_shards;
    shard *sh = NULL;
    int64_t first = st->n_entries;
    entry **order = NULL;

    if (hlen > MAX_HEADER) {
        rc = sl_set_error(SL_ERR_PARSE, "%s: header length %llu exceeds the 100 MB limit", path, (unsigned long long)hlen);
        goto out;
    }
    if (hlen > fsize - 8) {
        rc = sl_set_error(SL_ERR_PARSE, "%s: header length %llu runs past the end of the file (%llu bytes)", path,
                          (unsigned long long)hlen, (unsigned long long)fsize);
        goto out;
    }
    doc = sli_json_parse((const char *)p + 8, (size_t)hlen, JSON_DEPTH, err, sizeof err);
    if (!doc) { rc = sl_set_error(SL_ERR_PARSE, "%s: header is not valid JSON: %s", path, err); goto out; }
    const sli_jnode *root = sli_json_root(doc);
    if (root->type != SLI_JOBJ) { rc = sl_set_error(SL_ERR_PARSE, "%s: header must be a JSON object", path); goto out; }

    shard *ns = realloc(st->shards, (size_t)(st->n_shards + 1) * sizeof *ns);
    if (!ns) { rc = sl_set_error(SL_ERR_NOMEM, "%s: out of memory", path); goto out; }
    st->shards = ns;
    sh = &st->shards[st->n_shards++];
    memset(sh, 0, sizeof *sh);
    sh->map = m;
    m = NULL;
    sh->path = strdup(path);
    sh->data_start = 8 + hlen;
    if (!sh->path) { rc = sl_set_error(SL_ERR_NOMEM, "%s: out of memory", path); goto out; }
    uint64_t data_len = fsize - 8 - hlen;

    if (!grow_entries(st, (int64_t)root->len)) { rc = sl_set_error(SL_ERR_NOMEM, "%s: out of memory", path); goto out; }
    for (size_t i = 0; i < root->len; i++) {
        const char *key = root->keys[i];
        const sli_jnode *v = root->items[i];
        if (root->key_lens[i] != strlen(key)) {
            rc = sl_set_error(SL_ERR_PARSE, "%s: tensor name with an embedded NUL", path);
            goto out;
        }
        if (!strcmp(key, "__metadata__")) {
            if (v->type != SLI_JOBJ) { rc = sl_set_error(SL_ERR_PARSE, "%s: __metadata__ must be an object", path); goto out; }
            sh->meta_keys = calloc(v->len + 1, sizeof *sh->meta_keys);
            sh->meta_values = calloc(v->len + 1, sizeof *sh->meta_values);
            if (!sh->meta_keys || !sh->meta_values) { rc = sl_set_error(SL_ERR_NOMEM, "%s: out of memory", path); goto out; }
            for (size_t k = 0; k < v->len; k++) {
                if (v->items[k]->type != SLI_JSTR) {
                    rc = sl_set_error(SL_ERR_PARSE, "%s: __metadata__ value of '%s' must be a string", path,
                                      printable(v->keys[k], kb, sizeof kb));
                    goto out;
                }
                sh->meta_keys[k] = strdup(v->keys[k]);
                sh->meta_values[k] = strdup(v->items[k]->str);
                sh->n_meta = k + 1;
                if (!sh->meta_keys[k] || !sh->meta_values[k]) { rc = sl_set_error(SL_ERR_NOMEM, "%s: out of memory", path); goto out; }
            }
            continue;
        }
        const char *pk = printable(key, kb, sizeof kb);
        if (!*key) { rc = sl_set_error(SL_ERR_PARSE, "%s: empty tensor name", path); goto out; }
        if (v->type != SLI_JOBJ) { rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s': entry must be an object", path, pk); goto out; }
        const sli_jnode *dt = NULL, *shp = NULL, *offs = NULL;
        for (size_t k = 0; k < v->len; k++) {
            const char *f = v->keys[k];
            const sli_jnode **slot = !strcmp(f, "dtype") ? &dt : !strcmp(f, "shape") ? &shp
                                   : !strcmp(f, "data_offsets") ? &offs : NULL;
            if (!slot) {
                char fb[64];
                rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s': unknown field '%s' (expected dtype, shape, "
                                  "data_offsets)", path, pk, printable(f, fb, sizeof fb));
                goto out;
            }
            if (*slot) { rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s': field '%s' given twice", path, pk, f); goto out; }
            *slot = v->items[k];
        }
        if (!dt || !shp || !offs) {
            rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s': missing field '%s'", path, pk,
                              !dt ? "dtype" : !shp ? "shape" : "data_offsets");
            goto out;
        }
        entry *e = &st->entries[st->n_entries];
        memset(e, 0, sizeof *e);
        e->shard = shard_index;
        if (dt->type != SLI_JSTR) { rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s': dtype must be a string", path, pk); goto out; }
        for (size_t d = 0; d < sizeof st_dtypes / sizeof st_dtypes[0]; d++)
            if (!strcmp(dt->str, st_dtypes[d].name)) {
                e->st_dtype = st_dtypes[d].name;
                e->esize = st_dtypes[d].size;
                e->ours = st_dtypes[d].ours;
            }
        if (!e->st_dtype) {
            char db[48];
            rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s': unknown dtype '%s'", path, pk, printable(dt->str, db, sizeof db));
            goto out;
        }
        if (shp->type != SLI_JARR) { rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s': shape must be an array", path, pk); goto out; }
        if (shp->len > SL_MAX_DIMS) {
            rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s': %zu dimensions (at most %d supported)", path, pk, shp->len,
                              SL_MAX_DIMS);
            goto out;
        }
        uint64_t numel = 1;
        bool overflow = false;
        for (size_t d = 0; d < shp->len; d++) {
            const sli_jnode *x = shp->items[d];
            if (x->type != SLI_JNUM || !x->is_int || x->i < 0) {
                rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s': shape[%zu] must be a non-negative integer", path, pk, d);
                goto out;
            }
            e->shape[d] = x->i;
            if (x->i && numel > UINT64_MAX / (uint64_t)x->i) overflow = true;
            else numel *= (uint64_t)x->i;
        }
        e->ndim = (int)shp->len;
        if (offs->type != SLI_JARR || offs->len != 2) {
            rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s': data_offsets must be [begin, end]", path, pk);
            goto out;
        }
        for (int d = 0; d < 2; d++)
            if (offs->items[d]->type != SLI_JNUM || !offs->items[d]->is_int || offs->items[d]->i < 0) {
                rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s': data_offsets must be non-negative integers", path, pk);
                goto out;
            }
        e->begin = (uint64_t)offs->items[0]->i;
        e->end = (uint64_t)offs->items[1]->i;
        if (e->begin > e->end || e->end > data_len) {
            rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s': data_offsets [%llu, %llu] out of range (the data section "
                              "holds %llu bytes)", path, pk, (unsigned long long)e->begin, (unsigned long long)e->end,
                              (unsigned long long)data_len);
            goto out;
        }
        if (overflow || numel > UINT64_MAX / e->esize || numel * e->esize != e->end - e->begin) {
            rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s': shape x dtype size = %s bytes but data_offsets span %llu",
                              path, pk, overflow ? "overflowing" : "a different number of", (unsigned long long)(e->end - e->begin));
            goto out;
        }
        e->name = strdup(key);
        if (!e->name) { rc = sl_set_error(SL_ERR_NOMEM, "%s: out of memory", path); goto out; }
        st->n_entries++;
    }
    /* The tensors must tile the data section exactly: no overlap, no hole, nothing left over. */
    int64_t n = st->n_entries - first;
    order = malloc((size_t)(n ? n : 1) * sizeof *order);
    if (!order) { rc = sl_set_error(SL_ERR_NOMEM, "%s: out of memory", path); goto out; }
    for (int64_t i = 0; i < n; i++) order[i] = &st->entries[first + i];
    qsort(order, (size_t)n, sizeof *order, cmp_begin);
    uint64_t at = 0;
    for (int64_t i = 0; i < n; i++) {
        if (order[i]->begin < at) {
            rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s' overlaps the tensor before it (bytes %llu..%llu)", path,
                              printable(order[i]->name, kb, sizeof kb), (unsigned long long)order[i]->begin,
                              (unsigned long long)at);
            goto out;
        }
        if (order[i]->begin > at) {
            rc = sl_set_error(SL_ERR_PARSE, "%s: hole in the data section: bytes %llu..%llu belong to no tensor (before "
                              "'%s')", path, (unsigned long long)at, (unsigned long long)order[i]->begin,
                              printable(order[i]->name, kb, sizeof kb));
            goto out;
        }
        at = order[i]->end;
    }
    if (at != data_len) {
        rc = sl_set_error(SL_ERR_PARSE, "%s: %llu bytes after the last tensor belong to no tensor", path,
                          (unsigned long long)(data_len - at));
        goto out;
    }
out:
    free(order);
    sli_json_free(doc);
    if (m) mapping_unref(m);
    return rc;
}

/* Duplicate names over everything opened so far. */
static sl_status check_unique(sl_safetensors *st) {
    if (st->n_entries < 2) return SL_OK;
    entry **v = malloc((size_t)st->n_entries * sizeof *v);
    if (!v) return sl_set_error(SL_ERR_NOMEM, "safetensors: out of memory");
    for (int64_t i = 0; i < st->n_entries; i++) v[i] = &st->entries[i];
    qsort(v, (size_t)st->n_entries, sizeof *v, cmp_name);
    sl_status rc = SL_OK;
    for (int64_t i = 1; i < st->n_entries; i++)
        if (!strcmp(v[i]->name, v[i - 1]->name)) {
            char kb[96];
            rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s' is defined twice (also in %s)", st->shards[v[i]->shard].path,
                              printable(v[i]->name, kb, sizeof kb), st->shards[v[i - 1]->shard].path);
            break;
        }
    free(v);
    return rc;
}

static const entry *find(const sl_safetensors *st, const char *name) {
    for (int64_t i = 0; i < st->n_entries; i++)
        if (!strcmp(st->entries[i].name, name)) return &st->entries[i];
    return NULL;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static sl_status read_small_file(const char *path, size_t max, char **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return sl_set_error(errno == ENOENT ? SL_ERR_NOT_FOUND : SL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= max) { free(buf); fclose(f); return sl_set_error(SL_ERR_PARSE, "%s: larger than %zu bytes", path, max); }
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap + 1);
            if (!nb) { free(buf); fclose(f); return sl_set_error(SL_ERR_NOMEM, "%s: out of memory", path); }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); return sl_set_error(SL_ERR_IO, "%s: read error", path); }
    *out = buf;
    *len = n;
    return SL_OK;
}

/* Open every shard an index names and check that each listed tensor is where it says. */
static sl_status open_index(sl_safetensors *st, const char *path) {
    char *text = NULL;
    size_t len = 0;
    sl_status rc = read_small_file(path, MAX_INDEX, &text, &len);
    if (rc != SL_OK) return rc;
    char err[256];
    sli_json *doc = sli_json_parse(text, len, JSON_DEPTH, err, sizeof err);
    free(text);
    if (!doc) return sl_set_error(SL_ERR_PARSE, "%s: not valid JSON: %s", path, err);
    const sli_jnode *root = sli_json_root(doc);
    const sli_jnode *wm = sli_json_get(root, "weight_map");
    char *dir = strdup(path);
    char **files = NULL;
    size_t nfiles = 0;
    if (!dir) { rc = sl_set_error(SL_ERR_NOMEM, "out of memory"); goto out; }
    if (root->type != SLI_JOBJ || !wm || wm->type != SLI_JOBJ) {
        rc = sl_set_error(SL_ERR_PARSE, "%s: expected an object with a \"weight_map\" object", path);
        goto out;
    }
    char *d = dirname(dir);
    files = calloc(wm->len + 1, sizeof *files);
    if (!files) { rc = sl_set_error(SL_ERR_NOMEM, "out of memory"); goto out; }
    for (size_t i = 0; i < wm->len; i++) {
        const sli_jnode *f = wm->items[i];
        char kb[96];
        if (f->type != SLI_JSTR || !f->len || strchr(f->str, '/') || strlen(f->str) != f->len || !strcmp(f->str, "..") ||
            !strcmp(f->str, ".")) {
            rc = sl_set_error(SL_ERR_PARSE, "%s: weight_map['%s'] must name a file in the same directory", path,
                              printable(wm->keys[i], kb, sizeof kb));
            goto out;
        }
        bool seen = false;
        for (size_t k = 0; k < nfiles && !seen; k++) seen = !strcmp(files[k], f->str);
        if (!seen) files[nfiles++] = (char *)f->str;
    }
    for (size_t k = 0; k < nfiles; k++) {
        char full[4096];
        if ((size_t)snprintf(full, sizeof full, "%s/%s", d, files[k]) >= sizeof full) {
            rc = sl_set_error(SL_ERR_INVALID, "%s: shard path too long", path);
            goto out;
        }
        if ((rc = open_shard(st, full)) != SL_OK) goto out;
    }
    if ((rc = check_unique(st)) != SL_OK) goto out;
    for (size_t i = 0; i < wm->len; i++) {
        const entry *e = find(st, wm->keys[i]);
        char kb[96];
        if (!e || strcmp(basename(st->shards[e->shard].path), wm->items[i]->str)) {
            rc = sl_set_error(SL_ERR_PARSE, "%s: tensor '%s' is not in shard %s", path,
                              printable(wm->keys[i], kb, sizeof kb), wm->items[i]->str);
            goto out;
        }
    }
out:
    free(files);
    free(dir);
    sli_json_free(doc);
    return rc;
}

SL_API sl_status sl_safetensors_open(const char *path, sl_safetensors **out) {
    if (!path || !out) return sl_set_error(SL_ERR_INVALID, "sl_safetensors_open: NULL argument");
    *out = NULL;
    sl_safetensors *st = calloc(1, sizeof *st);
    if (!st) return sl_set_error(SL_ERR_NOMEM, "sl_safetensors_open: out of memory");
    sl_status rc;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        rc = sl_set_error(errno == ENOENT ? SL_ERR_NOT_FOUND : SL_ERR_IO, "%s: %s", path, strerror(errno));
    } else if (S_ISDIR(sb.st_mode)) {
        char f[4096];
        snprintf(f, sizeof f, "%s/model.safetensors.index.json", path);
        if (access(f, F_OK) == 0) {
            rc = open_index(st, f);
        } else {
            snprintf(f, sizeof f, "%s/model.safetensors", path);
            if (access(f, F_OK) == 0) rc = open_shard(st, f);
            else rc = sl_set_error(SL_ERR_NOT_FOUND, "%s: no model.safetensors or model.safetensors.index.json", path);
        }
    } else if (ends_with(path, ".json")) {
        rc = open_index(st, path);
    } else {
        rc = open_shard(st, path);
        if (rc == SL_OK) rc = check_unique(st);
    }
    if (rc != SL_OK) { sl_safetensors_close(st); return rc; }
    *out = st;
    return SL_OK;
}

SL_API int64_t sl_safetensors_count(const sl_safetensors *st) { return st ? st->n_entries : 0; }

SL_API const char *sl_safetensors_name(const sl_safetensors *st, int64_t i) {
    if (!st || i < 0 || i >= st->n_entries) return NULL;
    return st->entries[i].name;
}

SL_API sl_status sl_safetensors_info(const sl_safetensors *st, const char *name, sl_dtype *dtype, int *ndim,
                                     int64_t shape[SL_MAX_DIMS]) {
    if (!st || !name) return sl_set_error(SL_ERR_INVALID, "sl_safetensors_info: NULL argument");
    const entry *e = find(st, name);
    if (!e) return sl_set_error(SL_ERR_NOT_FOUND, "no tensor named '%s' in %s", name, st->n_shards ? st->shards[0].path : "?");
    if (e->ours < 0)
        return sl_set_error(SL_ERR_UNSUPPORTED, "%s: tensor '%s' has dtype %s, which the runtime does not support",
                            st->shards[e->shard].path, name, e->st_dtype);
    if (dtype) *dtype = (sl_dtype)e->ours;
    if (ndim) *ndim = e->ndim;
    if (shape) for (int k = 0; k < e->ndim; k++) shape[k] = e->shape[k];
    return SL_OK;
}

static void free_copy(void *p) { free(p); }

SL_API sl_status sl_safetensors_get(const sl_safetensors *st, const char *name, sl_tensor **out) {
    if (!out) return sl_set_error(SL_ERR_INVALID, "sl_safetensors_get: out is NULL");
    *out = NULL;
    sl_dtype dt;
    sl_status rc = sl_safetensors_info(st, name, &dt, NULL, NULL);
    if (rc != SL_OK) return rc;
    const entry *e = find(st, name);
    const shard *sh = &st->shards[e->shard];
    char *data = (char *)sh->map->base + sh->data_start + e->begin;
    size_t nbytes = (size_t)(e->end - e->begin);
    sl_storage *s = NULL;
    if (((uintptr_t)data % e->esize) == 0) {
        atomic_fetch_add(&sh->map->refs, 1);
        rc = sli_storage_wrap(data, nbytes, mapping_unref, sh->map, &s);
        if (rc != SL_OK) { mapping_unref(sh->map); return rc; }
    } else {
        /* The writer left it misaligned for its dtype: copy, so kernels never read unaligned. */
        void *copy = aligned_alloc(64, (nbytes + 63) & ~(size_t)63 ? (nbytes + 63) & ~(size_t)63 : 64);
        if (!copy) return sl_set_error(SL_ERR_NOMEM, "sl_safetensors_get: out of memory");
        memcpy(copy, data, nbytes);
        rc = sli_storage_wrap(copy, nbytes, free_copy, copy, &s);
        if (rc != SL_OK) { free(copy); return rc; }
    }
    rc = sli_tensor_over(s, 0, dt, e->ndim, e->shape, out);
    sli_storage_release(s);
    return rc;
}

SL_API const char *sl_safetensors_metadata(const sl_safetensors *st, const char *key) {
    if (!st || !key || !st->n_shards) return NULL;
    const shard *sh = &st->shards[0];
    for (size_t k = 0; k < sh->n_meta; k++)
        if (!strcmp(sh->meta_keys[k], key)) return sh->meta_values[k];
    return NULL;
}

/* ================================================================ writing */

typedef struct { char *buf; size_t len, cap; bool oom; } sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) { b->oom = true; return; }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_json_string(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') { esc[0] = '\\'; esc[1] = (char)c; sb_put(b, esc, 2); }
        else if (c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", c); sb_put(b, esc, 6); }
        else sb_put(b, (const char *)&c, 1);
    }
    sb_put(b, "\"", 1);
}

static bool valid_utf8(const char *s) {
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    while (p < end) {
        unsigned c = *p;
        int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!n || end - p < n) return false;
        for (int i = 1; i < n; i++)
            if ((p[i] & 0xc0) != 0x80) return false;
        p += n;
    }
    return true;
}

typedef struct { const char *name; const sl_tensor *t; uint64_t begin, end; size_t esize; } wentry;

static int cmp_wentry(const void *a, const void *b) {
    const wentry *x = a, *y = b;
    if (x->esize != y->esize) return x->esize > y->esize ? -1 : 1; /* keeps every tensor aligned to its dtype */
    return strcmp(x->name, y->name);
}

/* Contiguous host image of t (t itself when already so). */
static sl_status host_image(sl_ctx *ctx, const sl_tensor *t, sl_tensor **tmp, const void **data) {
    *tmp = NULL;
    if (t->device == SL_DEVICE_CPU && sl_tensor_is_contiguous(t)) { *data = t->data; return SL_OK; }
    sl_status rc = sl_tensor_create_host(t->dtype, t->ndim, t->shape, tmp);
    if (rc != SL_OK) return rc;
    if (t->device == SL_DEVICE_CPU) {
        const sli_backend *cpu = sli_cpu_backend();
        sli_ctx_state one = { 1, true, 0, 0 };
        sli_stream *s;
        rc = cpu->stream_create(&one, &s);
        if (rc == SL_OK) { rc = cpu->copy(s, *tmp, t); cpu->stream_destroy(s); }
    } else if (!ctx) {
        rc = sl_set_error(SL_ERR_INVALID, "safetensors write: a device tensor needs a context");
    } else {
        rc = sl_tensor_copy(ctx, *tmp, t);
        if (rc == SL_OK) rc = sl_ctx_synchronize(ctx);
    }
    if (rc != SL_OK) { sl_tensor_destroy(*tmp); *tmp = NULL; return rc; }
    *data = (*tmp)->data;
    return SL_OK;
}

static sl_status write_all(int fd, const void *p, size_t n, const char *path) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return sl_set_error(SL_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        }
        c += w;
        n -= (size_t)w;
    }
    return SL_OK;
}

SL_API sl_status sl_safetensors_write(sl_ctx *ctx, const char *path, int64_t n, const char *const *names,
                                      const sl_tensor *const *tensors, int64_t n_meta, const char *const *meta_keys,
                                      const char *const *meta_values) {
    if (!path || n < 0 || (n && (!names || !tensors)) || n_meta < 0 || (n_meta && (!meta_keys || !meta_values)))
        return sl_set_error(SL_ERR_INVALID, "sl_safetensors_write: bad arguments");
    wentry *w = calloc((size_t)(n ? n : 1), sizeof *w);
    if (!w) return sl_set_error(SL_ERR_NOMEM, "%s: out of memory", path);
    sl_status rc = SL_OK;
    for (int64_t i = 0; i < n && rc == SL_OK; i++) {
        if (!names[i] || !*names[i] || !tensors[i])
            rc = sl_set_error(SL_ERR_INVALID, "%s: tensor %lld has no name or is NULL", path, (long long)i);
        else if (!strcmp(names[i], "__metadata__") || !valid_utf8(names[i]))
            rc = sl_set_error(SL_ERR_INVALID, "%s: tensor name '%s' is reserved or not UTF-8", path, names[i]);
        else if (!st_name_of(tensors[i]->dtype))
            rc = sl_set_error(SL_ERR_INVALID, "%s: tensor '%s' has an invalid dtype", path, names[i]);
        w[i].name = names[i];
        w[i].t = tensors[i];
        w[i].esize = tensors[i] ? sl_dtype_size(tensors[i]->dtype) : 0;
    }
    for (int64_t i = 0; i < n_meta && rc == SL_OK; i++)
        if (!meta_keys[i] || !meta_values[i] || !valid_utf8(meta_keys[i]) || !valid_utf8(meta_values[i]))
            rc = sl_set_error(SL_ERR_INVALID, "%s: metadata entry %lld is NULL or not UTF-8", path, (long long)i);
    if (rc != SL_OK) { free(w); return rc; }
    qsort(w, (size_t)n, sizeof *w, cmp_wentry);
    for (int64_t i = 1; i < n; i++)
        if (w[i].esize == w[i - 1].esize && !strcmp(w[i].name, w[i - 1].name)) {
            rc = sl_set_error(SL_ERR_INVALID, "%s: tensor name '%s' given twice", path, w[i].name);
            free(w);
            return rc;
        }
    /* names must be unique across dtype groups too */
    for (int64_t i = 0; i < n && rc == SL_OK; i++)
        for (int64_t k = i + 1; k < n; k++)
            if (w[i].esize != w[k].esize && !strcmp(w[i].name, w[k].name)) {
                rc = sl_set_error(SL_ERR_INVALID, "%s: tensor name '%s' given twice", path, w[i].name);
                break;
            }
    if (rc != SL_OK) { free(w); return rc; }

    sbuf h = { 0 };
    sb_str(&h, "{");
    bool comma = false;
    if (n_meta) {
        sb_str(&h, "\"__metadata__\":{");
        for (int64_t i = 0; i < n_meta; i++) {
            if (i) sb_str(&h, ",");
            sb_json_string(&h, meta_keys[i]);
            sb_str(&h, ":");
            sb_json_string(&h, meta_values[i]);
        }
        sb_str(&h, "}");
        comma = true;
    }
    uint64_t at = 0;
    for (int64_t i = 0; i < n; i++) {
        w[i].begin = at;
        at += sl_tensor_nbytes(w[i].t);
        w[i].end = at;
        char num[64];
        if (comma) sb_str(&h, ",");
        comma = true;
        sb_json_string(&h, w[i].name);
        sb_str(&h, ":{\"dtype\":\"");
        sb_str(&h, st_name_of(w[i].t->dtype));
        sb_str(&h, "\",\"shape\":[");
        for (int k = 0; k < w[i].t->ndim; k++) {
            snprintf(num, sizeof num, k ? ",%lld" : "%lld", (long long)w[i].t->shape[k]);
            sb_str(&h, num);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)w[i].begin,
                 (unsigned long long)w[i].end);
        sb_str(&h, num);
    }
    sb_str(&h, "}");
    while (!h.oom && (h.len % 8)) sb_str(&h, " "); /* data section starts 8-byte aligned */
    if (h.oom) { free(h.buf); free(w); return sl_set_error(SL_ERR_NOMEM, "%s: out of memory", path); }

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) { free(h.buf); free(w); return sl_set_error(SL_ERR_NOMEM, "%s: out of memory", path); }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = sl_set_error(SL_ERR_IO, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
        free(tmp); free(h.buf); free(w);
        return rc;
    }
    unsigned char len8[8];
    uint64_t hl = h.len;
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(hl >> (8 * i));
    rc = write_all(fd, len8, 8, path);
    if (rc == SL_OK) rc = write_all(fd, h.buf, h.len, path);
    for (int64_t i = 0; i < n && rc == SL_OK; i++) {
        sl_tensor *img;
        const void *data;
        rc = host_image(ctx, w[i].t, &img, &data);
        if (rc == SL_OK) rc = write_all(fd, data, sl_tensor_nbytes(w[i].t), path);
        sl_tensor_destroy(img);
    }
    if (rc == SL_OK && fsync(fd) != 0) rc = sl_set_error(SL_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == SL_OK) rc = sl_set_error(SL_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    if (rc == SL_OK && rename(tmp, path) != 0) rc = sl_set_error(SL_ERR_IO, "%s: rename failed: %s", path, strerror(errno));
    if (rc != SL_OK) unlink(tmp);
    else {
        /* make the rename durable */
        char *d = strdup(path);
        if (d) {
            int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) { fsync(dfd); close(dfd); }
            free(d);
        }
    }
    free(tmp);
    free(h.buf);
    free(w);
    return rc;
}

SL_API sl_status sl_safetensors_write_sharded(sl_ctx *ctx, const char *dir, int64_t n, const char *const *names,
                                              const sl_tensor *const *tensors, uint64_t max_shard_bytes) {
    if (!dir || n < 0 || (n && (!names || !tensors)) || !max_shard_bytes)
        return sl_set_error(SL_ERR_INVALID, "sl_safetensors_write_sharded: bad arguments");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return sl_set_error(SL_ERR_IO, "%s: cannot create directory: %s", dir, strerror(errno));
    for (int64_t i = 0; i < n; i++)
        if (!tensors[i] || !names[i]) return sl_set_error(SL_ERR_INVALID, "%s: tensor %lld is NULL", dir, (long long)i);
    /* Greedy split in the given order. */
    int *shard_of = calloc((size_t)(n ? n : 1), sizeof *shard_of);
    if (!shard_of) return sl_set_error(SL_ERR_NOMEM, "out of memory");
    int nshards = 0;
    uint64_t cur = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t sz = sl_tensor_nbytes(tensors[i]);
        if (nshards == 0 || (cur > 0 && cur + sz > max_shard_bytes)) { nshards++; cur = 0; }
        shard_of[i] = nshards - 1;
        cur += sz;
    }
    if (nshards == 0) nshards = 1;
    sl_status rc = SL_OK;
    const char **sn = calloc((size_t)(n ? n : 1), sizeof *sn);
    const sl_tensor **st = calloc((size_t)(n ? n : 1), sizeof *st);
    sbuf idx = { 0 };
    if (!sn || !st) rc = sl_set_error(SL_ERR_NOMEM, "out of memory");
    char path[4096], fname[64];
    for (int s = 0; s < nshards && rc == SL_OK; s++) {
        int64_t k = 0;
        for (int64_t i = 0; i < n; i++)
            if (shard_of[i] == s) { sn[k] = names[i]; st[k] = tensors[i]; k++; }
        if (nshards == 1) snprintf(fname, sizeof fname, "model.safetensors");
        else snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", s + 1, nshards);
        snprintf(path, sizeof path, "%s/%s", dir, fname);
        rc = sl_safetensors_write(ctx, path, k, sn, st, 0, NULL, NULL);
    }
    if (rc == SL_OK && nshards > 1) {
        uint64_t total = 0;
        for (int64_t i = 0; i < n; i++) total += sl_tensor_nbytes(tensors[i]);
        char num[64];
        snprintf(num, sizeof num, "{\"metadata\":{\"total_size\":%llu},\"weight_map\":{", (unsigned long long)total);
        sb_str(&idx, num);
        for (int64_t i = 0; i < n; i++) {
            if (i) sb_str(&idx, ",");
            sb_json_string(&idx, names[i]);
            snprintf(fname, sizeof fname, ":\"model-%05d-of-%05d.safetensors\"", shard_of[i] + 1, nshards);
            sb_str(&idx, fname);
        }
        sb_str(&idx, "}}\n");
        if (idx.oom) rc = sl_set_error(SL_ERR_NOMEM, "out of memory");
        else {
            snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
            snprintf(fname, sizeof fname, ".index.tmp.XXXXXX");
            char tmp[4200];
            snprintf(tmp, sizeof tmp, "%s/.index.tmp.XXXXXX", dir);
            int fd = mkstemp(tmp);
            if (fd < 0) rc = sl_set_error(SL_ERR_IO, "%s: cannot create a temporary file: %s", dir, strerror(errno));
            else {
                rc = write_all(fd, idx.buf, idx.len, path);
                if (rc == SL_OK && fsync(fd) != 0) rc = sl_set_error(SL_ERR_IO, "%s: fsync failed", path);
                close(fd);
                if (rc == SL_OK && rename(tmp, path) != 0)
                    rc = sl_set_error(SL_ERR_IO, "%s: rename failed: %s", path, strerror(errno));
                if (rc != SL_OK) unlink(tmp);
            }
        }
    }
    free(idx.buf);
    free(sn);
    free(st);
    free(shard_of);
    return rc;
}
