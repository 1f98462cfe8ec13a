/* base.c — memory helpers, buffers, arena, string map, clocks and path utilities for the engine. */
#define _GNU_SOURCE
#include "base.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void oom(size_t n) {
    fprintf(stderr, "sciloop: out of memory (allocating %zu bytes)\n", n);
    abort();
}

void *sli_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *sli_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *sli_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *sli_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(sli_xmalloc(n), s, n);
}

char *sli_xstrndup(const char *s, size_t n) {
    char *p = sli_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sli_xasprintf(const char *fmt, ...) {
    sli_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    sli_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return sli_buf_take(&b);
}

/* ------------------------------------------------------------------------------------------ */

void sli_buf_reserve(sli_buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    b->data = sli_xrealloc(b->data, cap);
    b->cap = cap;
}

void sli_buf_put(sli_buf *b, const void *data, size_t n) {
    sli_buf_reserve(b, n);
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sli_buf_puts(sli_buf *b, const char *s) { sli_buf_put(b, s, strlen(s)); }

void sli_buf_putc(sli_buf *b, char c) { sli_buf_put(b, &c, 1); }

void sli_buf_put_u64(sli_buf *b, uint64_t v) {
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

void sli_buf_put_fixed6(sli_buf *b, double v) {
    if (!(v == v) || v > 9e12 || v < -9e12) { /* NaN or beyond what a time needs: printf knows best */
        sli_buf_printf(b, "%.6f", v);
        return;
    }
    if (v < 0) {
        sli_buf_putc(b, '-');
        v = -v;
    }
    uint64_t micro = (uint64_t)(v * 1e6 + 0.5);
    sli_buf_put_u64(b, micro / 1000000);
    char frac[8] = {'.'};
    uint64_t f = micro % 1000000;
    for (int i = 6; i >= 1; i--, f /= 10) frac[i] = (char)('0' + f % 10);
    sli_buf_put(b, frac, 7);
}

void sli_buf_vprintf(sli_buf *b, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    sli_buf_reserve(b, 64);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    if (n >= 0 && (size_t)n >= b->cap - b->len) {
        sli_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
    }
    va_end(ap2);
    if (n > 0) b->len += (size_t)n;
}

void sli_buf_printf(sli_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sli_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void sli_buf_clear(sli_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void sli_buf_free(sli_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *sli_buf_take(sli_buf *b) {
    char *s = b->data ? b->data : sli_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

/* ------------------------------------------------------------------------------------------ */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char mem[];
} arena_block;

struct sli_arena {
    arena_block *head;
    size_t next_cap;
};

sli_arena *sli_arena_create(void) { return sli_xcalloc(1, sizeof(sli_arena)); }

void sli_arena_destroy(sli_arena *a) {
    if (!a) return;
    arena_block *b = a->head;
    while (b) {
        arena_block *n = b->next;
        free(b);
        b = n;
    }
    free(a);
}

void *sli_arena_alloc(sli_arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    arena_block *b = a->head;
    if (!b || b->used + n > b->cap) {
        /* blocks double from 1 MiB to 64 MiB: a million-step plan takes a few dozen. They
         * come zeroed from calloc (fresh pages from the kernel, for blocks this large), so
         * allocations need no memset of their own */
        size_t cap = a->next_cap ? a->next_cap : (1u << 20);
        if (cap < (64u << 20)) a->next_cap = cap * 2;
        if (n > cap) cap = n;
        b = sli_xcalloc(1, sizeof *b + cap);
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->mem + b->used;
    b->used += n;
    return p;
}

char *sli_arena_strndup(sli_arena *a, const char *s, size_t n) {
    char *p = sli_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sli_arena_strdup(sli_arena *a, const char *s) { return s ? sli_arena_strndup(a, s, strlen(s)) : NULL; }

char *sli_arena_printf(sli_arena *a, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n < sizeof small) return sli_arena_strndup(a, small, (size_t)n);
    char *p = sli_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* ------------------------------------------------------------------------------------------ */

void sli_ptrvec_push(sli_ptrvec *v, void *p) {
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->items = sli_xrealloc(v->items, v->cap * sizeof *v->items);
    }
    v->items[v->n++] = p;
}

void sli_ptrvec_free(sli_ptrvec *v) {
    free(v->items);
    v->items = NULL;
    v->n = v->cap = 0;
}

/* ------------------------------------------------------------------------------------------ */

uint64_t sli_hash_str(const char *s) {
    /* FNV-1a, then a finaliser so that low bits mix well for power-of-two tables. */
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h | 1; /* 0 marks an empty slot */
}

void *sli_map_get(const sli_map *m, const char *key) {
    if (!m->cap) return NULL;
    uint64_t h = sli_hash_str(key);
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const sli_map_entry *e = &m->slots[i];
        if (e->hash == 0) return NULL;
        if (e->hash == h && strcmp(e->key, key) == 0) return e->val;
    }
}

static void map_grow(sli_map *m) {
    size_t ncap = m->cap ? m->cap * 2 : 64;
    sli_map_entry *slots = sli_xcalloc(ncap, sizeof *slots);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].hash) continue;
        size_t j = m->slots[i].hash & (ncap - 1);
        while (slots[j].hash) j = (j + 1) & (ncap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = ncap;
}

void *sli_map_put(sli_map *m, const char *key, void *val) {
    if ((m->n + 1) * 4 >= m->cap * 3) map_grow(m);
    uint64_t h = sli_hash_str(key);
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        sli_map_entry *e = &m->slots[i];
        if (e->hash == 0) {
            *e = (sli_map_entry){h, key, val};
            m->n++;
            return NULL;
        }
        if (e->hash == h && strcmp(e->key, key) == 0) {
            void *old = e->val;
            e->val = val;
            return old;
        }
    }
}

void sli_map_free(sli_map *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------------------------------ */

double sli_now_mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double sli_now_wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

sl_status sli_mkdirs(const char *path, unsigned mode) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return sl_set_error(SL_ERR_IO, "%s: path too long", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return sl_set_error(SL_ERR_IO, "%s: cannot create directory: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return sl_set_error(SL_ERR_IO, "%s: cannot create directory: %s", tmp, strerror(errno));
    return SL_OK;
}

sl_status sli_remove_tree(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return errno == ENOENT ? SL_OK : sl_set_error(SL_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return sl_set_error(SL_ERR_IO, "%s: cannot open directory: %s", path, strerror(errno));
        struct dirent *e;
        sl_status st = SL_OK;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char *child = sli_xasprintf("%s/%s", path, e->d_name);
            sl_status s = sli_remove_tree(child);
            if (s != SL_OK) st = s;
            free(child);
        }
        closedir(d);
        if (rmdir(path) != 0 && st == SL_OK) st = sl_set_error(SL_ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
        return st;
    }
    if (unlink(path) != 0 && errno != ENOENT) return sl_set_error(SL_ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
    return SL_OK;
}

char *sli_dirname(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return sli_xstrdup(".");
    if (slash == path) return sli_xstrdup("/");
    return sli_xstrndup(path, (size_t)(slash - path));
}

char *sli_path_join(const char *dir, const char *name) {
    if (name[0] == '/' || !dir || !*dir) return sli_xstrdup(name);
    size_t dl = strlen(dir);
    return sli_xasprintf("%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", name);
}

char *sli_path_absolute(const char *path) {
    sli_buf in = {0};
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "/");
        sli_buf_puts(&in, cwd);
        sli_buf_putc(&in, '/');
    }
    sli_buf_puts(&in, path);
    /* collapse ".", ".." and repeated slashes lexically */
    char *out = sli_xmalloc(in.len + 2);
    size_t o = 0;
    const char *p = in.data;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 1 && p[0] == '.') {
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (o > 0 && out[o - 1] != '/') o--;
            if (o > 0) o--;
        } else {
            out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
    }
    if (o == 0) out[o++] = '/';
    out[o] = '\0';
    sli_buf_free(&in);
    return out;
}

int sli_path_exists(const char *path) {
    struct stat sb;
    return lstat(path, &sb) == 0;
}
