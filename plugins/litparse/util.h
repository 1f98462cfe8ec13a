/* util.h — small building blocks shared by the litparse parsers: arena, byte buffer, text and UTF-8 helpers. */
#ifndef LP_UTIL_H
#define LP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sciloop/status.h>

/* A bump allocator for everything that lives as long as one record (its XML tree, its documents).
 * Allocation never fails silently: past `limit` bytes (0 = unlimited) or when malloc fails it
 * returns NULL and sets `failed`, and every later allocation returns NULL too, so a parser can
 * check once per record instead of after every call. Not thread-safe; one per parse. */
typedef struct lp_arena_chunk lp_arena_chunk;
typedef struct lp_arena {
    lp_arena_chunk *head;   /* chunk being filled; older chunks follow */
    size_t used;            /* bytes handed out since the last reset (for the limit) */
    size_t limit;           /* most bytes per reset; 0 = no limit */
    int failed;             /* 1: an allocation failed (NOMEM) or hit the limit (RANGE) */
    int over_limit;         /* 1 when the failure was the limit */
    char *cur;              /* free space left in the head chunk: [cur, cur + left) */
    size_t left;
} lp_arena;

/* Zero-initialise an arena with a byte limit. */
void lp_arena_init(lp_arena *a, size_t limit);
/* The slow half of lp_arena_alloc: a new chunk, the limit, failures. */
void *lp_arena_grow(lp_arena *a, size_t n);
/* `n` bytes aligned to 8, or NULL (see above). Inline because the XML reader allocates every
 * node and text run here: the common case is a bump of `cur`. */
static inline void *lp_arena_alloc(lp_arena *a, size_t n) {
    size_t m = (n + 7) & ~(size_t)7;
    if (m != 0 && m <= a->left && !a->failed && (!a->limit || a->used + m <= a->limit)) {
        void *p = a->cur;
        a->cur += m;
        a->left -= m;
        a->used += m;
        return p;
    }
    return lp_arena_grow(a, n);
}
/* Zeroed `n` bytes. */
void *lp_arena_calloc(lp_arena *a, size_t n);
/* NUL-terminated copy of `n` bytes of `s`; NULL on failure. */
char *lp_arena_strndup(lp_arena *a, const char *s, size_t n);
char *lp_arena_strdup(lp_arena *a, const char *s);
/* printf into the arena. */
char *lp_arena_printf(lp_arena *a, const char *fmt, ...) SL_PRINTF(2, 3);
/* The three strings (none NULL) concatenated, as lp_arena_printf(a, "%s%s%s", ...) without
 * the format machinery: page ranges and ids are made for every reference and document. */
char *lp_arena_cat3(lp_arena *a, const char *x, const char *y, const char *z);
/* Forget everything allocated (keeps the first chunk for reuse) and clear `failed`. */
void lp_arena_reset(lp_arena *a);
/* Free all memory; the arena may be reused after lp_arena_init. NULL is a no-op. */
void lp_arena_free(lp_arena *a);

/* A growable array stored in an arena: `LP_VEC_PUSH(arena, v, n, cap, item)` appends, doubling
 * the capacity by copying (the old block is left in the arena: at most 2x waste per array).
 * Evaluates to 0 on success, -1 when the arena failed. */
int lp_vec_grow(lp_arena *a, void **v, size_t *cap, size_t n, size_t elem);
#define LP_VEC_PUSH(arena, v, n, cap, item)                                               \
    (((n) < (cap) || lp_vec_grow((arena), (void **)&(v), &(cap), (n), sizeof *(v)) == 0) \
         ? ((v)[(n)++] = (item), 0)                                                       \
         : -1)

/* A heap byte buffer; zero-initialise. Always NUL-terminated after a successful append. */
typedef struct lp_buf {
    char *p;
    size_t n, cap;
} lp_buf;

/* The slow half of lp_buf_reserve: reallocate so that `n` more bytes (and a NUL) fit; 0 or -1. */
int lp_buf_grow(lp_buf *b, size_t n);

/* Make room for `n` more bytes (plus the terminating NUL); 0 or -1. Inline because the JSON
 * writer and the XML reader call it for nearly every token and it almost never grows. */
static inline int lp_buf_reserve(lp_buf *b, size_t n) { return b->cap - b->n > n ? 0 : lp_buf_grow(b, n); }

/* Append; return 0, or -1 when out of memory (the buffer is unchanged). */
static inline int lp_buf_add(lp_buf *b, const void *s, size_t n) {
    if (lp_buf_reserve(b, n) != 0) return -1;
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}
static inline int lp_buf_addc(lp_buf *b, char c) {
    if (lp_buf_reserve(b, 1) != 0) return -1;
    b->p[b->n++] = c;
    b->p[b->n] = '\0';
    return 0;
}
static inline int lp_buf_adds(lp_buf *b, const char *s) { return lp_buf_add(b, s, strlen(s)); }
int lp_buf_printf(lp_buf *b, const char *fmt, ...) SL_PRINTF(2, 3);
void lp_buf_free(lp_buf *b);

/* 1 for the ASCII white space XML and plain text treat as folding space. */
/* Bits set in x, without the POPCNT instruction (not in x86-64's baseline, so
 * __builtin_popcount becomes a library call there). */
static inline unsigned lp_popcount64(uint64_t x) {
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

static inline int lp_is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* First offset at which `s` (n bytes) is not well-formed UTF-8 (overlongs, surrogates and
 * code points past U+10FFFF are errors), or n when it all is. When `partial_ok` is set, an
 * incomplete sequence at the very end is accepted (more bytes may follow in the next chunk)
 * and *tail is set to its length. */
size_t lp_utf8_check(const unsigned char *s, size_t n, int partial_ok, size_t *tail);

/* Encode code point `cp` as UTF-8 into `out` (4 bytes room); returns the length (0 if invalid). */
int lp_utf8_put(uint32_t cp, char *out);

/* Copy `n` bytes of `s` into the arena with runs of ASCII white space folded to one space
 * and the ends trimmed. Returns NULL for text that is empty after trimming (or on failure). */
char *lp_arena_norm(lp_arena *a, const char *s, size_t n);

/* Fold white space in place as lp_arena_norm does; returns the new length. */
size_t lp_norm_inplace(char *s, size_t n);

/* For white-space folding: the end of the run s[i..j) that folds to itself, i.e. the first
 * white space at or after i other than a lone ' ' followed by a byte that is not white space
 * (n when there is none). s[i] must not be white space. */
size_t lp_fold_span(const char *s, size_t i, size_t n);

/* ASCII case-insensitive comparisons. */
int lp_strieq(const char *a, const char *b);
int lp_strnieq(const char *a, const char *b, size_t n);

/* Parse a non-negative decimal integer from the first run of digits in `s` of exactly `ndigits`
 * digits (0 = any length); returns -1 when none. `lp_first_year` finds the first plausible
 * year (1000..2999) as a 4-digit run not adjacent to other digits. */
long lp_first_int(const char *s);
int lp_first_year(const char *s);

/* Month number 1..12 from "3", "03", "Mar", "March" (any case); 0 when not a month. */
int lp_month_num(const char *s);

/* Normalise a DOI: strip "doi:", "https://doi.org/", "http://dx.doi.org/" prefixes and white
 * space, keep the case (DOIs are case-insensitive; comparison code lowercases). Returns an arena
 * copy, or NULL when the result does not look like a DOI ("10." prefix and a '/'). */
char *lp_doi_norm(lp_arena *a, const char *s);

/* Find a DOI ("10.NNNN/...") inside free text and return an arena copy without trailing
 * punctuation; NULL when there is none. */
char *lp_doi_find(lp_arena *a, const char *text);

/* "PMC1234567" from "PMC1234567", "1234567" or "pmc1234567"; NULL when not a PMC id. */
char *lp_pmcid_norm(lp_arena *a, const char *s);

/* Digits-only PMID from "12345" / "pmid:12345"; NULL when not one. */
char *lp_pmid_norm(lp_arena *a, const char *s);

/* ORCID "0000-0002-1825-0097" from a bare id or an orcid.org URL; NULL when not one. */
char *lp_orcid_norm(lp_arena *a, const char *s);

/* Two-letter ISO 639-1 code for a MEDLINE/ISO 639-2 code such as "eng" or "fre", or for a
 * tag like "en-US"; returns `s` lower-cased when unknown (arena copy). NULL for NULL/empty. */
char *lp_lang_norm(lp_arena *a, const char *s);

/* A string -> uint32 hash map (keys copied). Zero-initialise; free with lp_strmap_free. */
typedef struct lp_strmap {
    char **keys;
    uint32_t *vals;
    size_t cap, n;
} lp_strmap;

/* The value stored for `key`, inserting `val` first when the key is new; UINT32_MAX when out
 * of memory. */
uint32_t lp_strmap_put(lp_strmap *m, const char *key, uint32_t val);
/* The value for `key`, or UINT32_MAX when absent. */
uint32_t lp_strmap_get(const lp_strmap *m, const char *key);
void lp_strmap_free(lp_strmap *m);

#endif /* LP_UTIL_H */
