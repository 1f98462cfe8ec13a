/* source.h — a byte stream to parse: a file (plain or gzip, inflated as it is read) or memory. */
#ifndef LP_SOURCE_H
#define LP_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sciloop/status.h>

/* An open input. Reads return decompressed bytes for gzip files (detected by their magic
 * bytes, whatever the name), so every parser sees plain text. Memory use is a fixed buffer. */
typedef struct lp_source lp_source;

/* Open `path` for reading; `display` names it in messages (NULL: the path). */
sl_status lp_source_open(const char *path, const char *display, lp_source **out);

/* A source over `n` bytes of memory (not copied; must outlive the source). */
sl_status lp_source_mem(const void *data, size_t n, const char *display, lp_source **out);

/* Read up to `n` bytes; returns the count, 0 at the end, or -1 on a read or gzip error
 * (message set, naming the file and the byte offset). */
long lp_source_read(lp_source *s, void *buf, size_t n);

/* The first bytes of the stream (up to `want`, at most 64 KiB) without consuming them: later
 * reads return them again. Sets *p and *n; returns SL_OK or an I/O error. */
sl_status lp_source_peek(lp_source *s, size_t want, const unsigned char **p, size_t *n);

/* Name used in messages. */
const char *lp_source_name(const lp_source *s);
/* 1 when the file is gzip-compressed. */
int lp_source_gz(const lp_source *s);
/* Decompressed bytes delivered so far. */
uint64_t lp_source_offset(const lp_source *s);

/* Read the whole remaining stream into a malloc'd NUL-terminated buffer, refusing more than
 * `max` bytes (SL_ERR_RANGE naming the file). */
sl_status lp_source_slurp(lp_source *s, size_t max, char **data, size_t *len);

/* Close; NULL is a no-op. */
void lp_source_close(lp_source *s);

#endif /* LP_SOURCE_H */
