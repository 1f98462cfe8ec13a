/* base.h — small data structures the engine's modules share: memory, growable buffers, arenas, string maps. */
#ifndef SCILOOP_ENGINE_BASE_H
#define SCILOOP_ENGINE_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <sciloop/status.h>

/* Allocation that aborts with a message on exhaustion: the engine is a program, and a workflow
 * engine that cannot allocate a few bytes has no sound way to go on. Plugins never use these. */
void *sli_xmalloc(size_t n);
void *sli_xcalloc(size_t n, size_t size);
void *sli_xrealloc(void *p, size_t n);
char *sli_xstrdup(const char *s);
char *sli_xstrndup(const char *s, size_t n);
char *sli_xasprintf(const char *fmt, ...) SL_PRINTF(1, 2);

/* Growable byte buffer, always NUL-terminated. Zero-initialise to start. */
typedef struct sli_buf {
    char *data;
    size_t len, cap;
} sli_buf;

void sli_buf_reserve(sli_buf *b, size_t extra);
void sli_buf_put(sli_buf *b, const void *data, size_t n);
void sli_buf_puts(sli_buf *b, const char *s);
void sli_buf_putc(sli_buf *b, char c);
void sli_buf_printf(sli_buf *b, const char *fmt, ...) SL_PRINTF(2, 3);
/* Decimal digits of v (what printf's %llu gives, without its cost on hot paths). */
void sli_buf_put_u64(sli_buf *b, uint64_t v);
/* v with exactly six decimals, rounded to the nearest millionth (as %.6f, up to the last digit
 * of halfway cases); for times and durations in seconds. */
void sli_buf_put_fixed6(sli_buf *b, double v);
void sli_buf_vprintf(sli_buf *b, const char *fmt, va_list ap);
void sli_buf_clear(sli_buf *b);
void sli_buf_free(sli_buf *b);
/* Detach the string (caller frees); the buffer is reset. Never NULL. */
char *sli_buf_take(sli_buf *b);

/* Bump allocator for the many small, long-lived objects of a plan (1e6 steps must stay cheap). */
typedef struct sli_arena sli_arena;
sli_arena *sli_arena_create(void);
void sli_arena_destroy(sli_arena *a);
void *sli_arena_alloc(sli_arena *a, size_t n);     /* zeroed, 16-byte aligned */
char *sli_arena_strdup(sli_arena *a, const char *s);
char *sli_arena_strndup(sli_arena *a, const char *s, size_t n);
char *sli_arena_printf(sli_arena *a, const char *fmt, ...) SL_PRINTF(2, 3);

/* Growable array of pointers. */
typedef struct sli_ptrvec {
    void **items;
    size_t n, cap;
} sli_ptrvec;
void sli_ptrvec_push(sli_ptrvec *v, void *p);
void sli_ptrvec_free(sli_ptrvec *v);

/* Open-addressing map from NUL-terminated string keys to pointers. Keys are not copied: the
 * caller keeps them alive (typically in an arena). */
typedef struct sli_map_entry {
    uint64_t hash; /* 0 = empty slot */
    const char *key;
    void *val;
} sli_map_entry;

typedef struct sli_map {
    sli_map_entry *slots; /* one array, so a probe touches one cache line */
    size_t cap, n;
} sli_map;
void *sli_map_get(const sli_map *m, const char *key);
/* Insert or replace; returns the previous value or NULL. */
void *sli_map_put(sli_map *m, const char *key, void *val);
void sli_map_free(sli_map *m);
uint64_t sli_hash_str(const char *s);

/* Monotonic and wall clocks, in seconds. */
double sli_now_mono(void);
double sli_now_wall(void);

/* mkdir -p; returns SL_OK or SL_ERR_IO with a message. */
sl_status sli_mkdirs(const char *path, unsigned mode);
/* rm -rf (never follows symlinks); missing path is OK. */
sl_status sli_remove_tree(const char *path);
/* Directory part of a path ("." if none), malloc'd. */
char *sli_dirname(const char *path);
/* Join dir and name unless name is absolute; malloc'd. */
char *sli_path_join(const char *dir, const char *name);
/* Absolute, normalised (no . or ..) form of a path, without resolving symlinks; malloc'd. */
char *sli_path_absolute(const char *path);
/* Non-zero if the path exists (without following a final symlink). */
int sli_path_exists(const char *path);

#endif
