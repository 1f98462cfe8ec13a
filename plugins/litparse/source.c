/* source.c — file and memory byte streams with transparent gzip inflation (ISA-L's igzip) and a peek buffer. */
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <isa-l/igzip_lib.h>

#define PEEK_MAX (64 * 1024)
#define IN_CHUNK (128 * 1024)

struct lp_source {
    char *name;
    FILE *f;                    /* file sources */
    const unsigned char *mem;   /* memory sources */
    size_t mem_n, mem_pos;
    int gz, gz_done;
    struct inflate_state *z;    /* gzip sources; igzip inflates several times faster than zlib */
    unsigned char *zin;         /* compressed input buffer */
    unsigned char peek[PEEK_MAX];
    size_t peek_n, peek_pos;    /* bytes held in peek, and how many were consumed */
    int peeked;
    uint64_t offset;            /* decompressed bytes handed to the caller */
    uint64_t raw_offset;        /* raw bytes read from the file */
};

static long raw_read(lp_source *s, unsigned char *buf, size_t n) {
    if (s->f) {
        size_t k = fread(buf, 1, n, s->f);
        if (k < n && ferror(s->f)) {
            sl_set_error(SL_ERR_IO, "%s: read error at byte %llu: %s", s->name, (unsigned long long)s->raw_offset, strerror(errno));
            return -1;
        }
        s->raw_offset += k;
        return (long)k;
    }
    size_t k = s->mem_n - s->mem_pos < n ? s->mem_n - s->mem_pos : n;
    memcpy(buf, s->mem + s->mem_pos, k);
    s->mem_pos += k;
    s->raw_offset += k;
    return (long)k;
}

static sl_status make(const char *display, lp_source **out) {
    lp_source *s = calloc(1, sizeof *s);
    if (!s) return sl_set_error(SL_ERR_NOMEM, "out of memory opening %s", display);
    s->name = strdup(display);
    if (!s->name) {
        free(s);
        return sl_set_error(SL_ERR_NOMEM, "out of memory opening %s", display);
    }
    *out = s;
    return SL_OK;
}

/* Decide gzip from the first two bytes and set up inflation. */
static sl_status sniff(lp_source *s) {
    unsigned char head[2];
    long k = raw_read(s, head, 2);
    if (k < 0) return sl_last_status();
    if (k == 2 && head[0] == 0x1f && head[1] == 0x8b) {
        s->gz = 1;
        s->zin = malloc(IN_CHUNK);
        if (!s->zin) return sl_set_error(SL_ERR_NOMEM, "out of memory reading %s", s->name);
        s->z = malloc(sizeof *s->z);
        if (!s->z) return sl_set_error(SL_ERR_NOMEM, "out of memory reading %s", s->name);
        isal_inflate_init(s->z);
        s->z->crc_flag = ISAL_GZIP; /* parse the gzip header, check the CRC and length at the end */
        s->zin[0] = head[0];
        s->zin[1] = head[1];
        s->z->next_in = s->zin;
        s->z->avail_in = 2;
    } else {
        /* the two bytes are data: keep them in the peek buffer */
        memcpy(s->peek, head, (size_t)k);
        s->peek_n = (size_t)k;
    }
    return SL_OK;
}

sl_status lp_source_open(const char *path, const char *display, lp_source **out) {
    *out = NULL;
    if (!display) display = path;
    FILE *f = fopen(path, "rb");
    if (!f) return sl_set_error(errno == ENOENT ? SL_ERR_NOT_FOUND : SL_ERR_IO, "%s: cannot open: %s", display, strerror(errno));
    lp_source *s;
    sl_status st = make(display, &s);
    if (st != SL_OK) {
        fclose(f);
        return st;
    }
    s->f = f;
    st = sniff(s);
    if (st != SL_OK) {
        lp_source_close(s);
        return st;
    }
    *out = s;
    return SL_OK;
}

sl_status lp_source_mem(const void *data, size_t n, const char *display, lp_source **out) {
    *out = NULL;
    lp_source *s;
    sl_status st = make(display ? display : "<memory>", &s);
    if (st != SL_OK) return st;
    s->mem = data;
    s->mem_n = n;
    st = sniff(s);
    if (st != SL_OK) {
        lp_source_close(s);
        return st;
    }
    *out = s;
    return SL_OK;
}

static const char *igzip_error(int rc) {
    switch (rc) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "compression method is not deflate";
    case ISAL_INCORRECT_CHECKSUM: return "CRC or length check failed";
    default: return "inflate error";
    }
}

/* Inflate into buf; handles concatenated gzip members (as gzip(1) and MEDLINE tools write). */
static long gz_read(lp_source *s, unsigned char *buf, size_t n) {
    struct inflate_state *z = s->z;
    size_t got = 0;
    while (got < n && !s->gz_done) {
        if (z->avail_in == 0 && z->block_state != ISAL_BLOCK_FINISH) {
            long k = raw_read(s, s->zin, IN_CHUNK);
            if (k < 0) return -1;
            if (k == 0) {
                sl_set_error(SL_ERR_PARSE, "%s: gzip stream is truncated (after %llu decompressed bytes)", s->name,
                             (unsigned long long)(s->offset + got));
                return -1;
            }
            z->next_in = s->zin;
            z->avail_in = (uint32_t)k;
        }
        size_t room = n - got > UINT32_MAX ? UINT32_MAX : n - got;
        z->next_out = buf + got;
        z->avail_out = (uint32_t)room;
        int rc = isal_inflate(z);
        got += room - z->avail_out;
        if (rc < 0) {
            sl_set_error(SL_ERR_PARSE, "%s: corrupt gzip data after %llu decompressed bytes: %s", s->name,
                         (unsigned long long)(s->offset + got), igzip_error(rc));
            return -1;
        }
        if (z->block_state == ISAL_BLOCK_FINISH) {
            /* another member may follow */
            if (z->avail_in == 0) {
                long k = raw_read(s, s->zin, IN_CHUNK);
                if (k < 0) return -1;
                z->next_in = s->zin;
                z->avail_in = (uint32_t)k;
            }
            if (z->avail_in == 0) {
                s->gz_done = 1;
            } else {
                uint8_t *next_in = z->next_in;
                uint32_t avail_in = z->avail_in;
                isal_inflate_reset(z);
                z->crc_flag = ISAL_GZIP;
                z->next_in = next_in;
                z->avail_in = avail_in;
            }
        }
    }
    return (long)got;
}

static long fill(lp_source *s, unsigned char *buf, size_t n) {
    return s->gz ? gz_read(s, buf, n) : raw_read(s, buf, n);
}

long lp_source_read(lp_source *s, void *vbuf, size_t n) {
    unsigned char *buf = vbuf;
    size_t got = 0;
    if (s->peek_pos < s->peek_n) {
        size_t k = s->peek_n - s->peek_pos < n ? s->peek_n - s->peek_pos : n;
        memcpy(buf, s->peek + s->peek_pos, k);
        s->peek_pos += k;
        got = k;
    }
    if (got < n) {
        long k = fill(s, buf + got, n - got);
        if (k < 0) return -1;
        got += (size_t)k;
    }
    s->offset += got;
    return (long)got;
}

sl_status lp_source_peek(lp_source *s, size_t want, const unsigned char **p, size_t *n) {
    if (want > PEEK_MAX) want = PEEK_MAX;
    if (s->offset != 0 || s->peek_pos != 0) return sl_set_error(SL_ERR_INTERNAL, "%s: peek after reading", s->name);
    while (s->peek_n < want) {
        long k = fill(s, s->peek + s->peek_n, want - s->peek_n);
        if (k < 0) return sl_last_status();
        if (k == 0) break;
        s->peek_n += (size_t)k;
    }
    *p = s->peek;
    *n = s->peek_n;
    return SL_OK;
}

const char *lp_source_name(const lp_source *s) { return s->name; }
int lp_source_gz(const lp_source *s) { return s->gz; }
uint64_t lp_source_offset(const lp_source *s) { return s->offset; }

sl_status lp_source_slurp(lp_source *s, size_t max, char **data, size_t *len) {
    size_t cap = 64 * 1024, n = 0;
    char *p = malloc(cap + 1);
    if (!p) return sl_set_error(SL_ERR_NOMEM, "out of memory reading %s", s->name);
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                char one;
                long k = lp_source_read(s, &one, 1);
                if (k == 0) break;
                free(p);
                if (k < 0) return sl_last_status();
                return sl_set_error(SL_ERR_RANGE, "%s: larger than the %zu MiB limit for this format", s->name, max >> 20);
            }
            size_t ncap = cap * 2 > max ? max : cap * 2;
            char *q = realloc(p, ncap + 1);
            if (!q) {
                free(p);
                return sl_set_error(SL_ERR_NOMEM, "out of memory reading %s", s->name);
            }
            p = q;
            cap = ncap;
        }
        long k = lp_source_read(s, p + n, cap - n);
        if (k < 0) {
            free(p);
            return sl_last_status();
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    p[n] = '\0';
    *data = p;
    *len = n;
    return SL_OK;
}

void lp_source_close(lp_source *s) {
    if (!s) return;
    if (s->f) fclose(s->f);
    free(s->z);
    free(s->zin);
    free(s->name);
    free(s);
}
