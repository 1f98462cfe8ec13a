/* util.c — arena, byte buffer, UTF-8 checks and the id/date/text normalisers every parser shares. */
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct lp_arena_chunk {
    lp_arena_chunk *next;
    size_t size;           /* bytes of data; the head chunk's free part is the arena's cur/left */
    max_align_t data[];
};

#define LP_CHUNK_MIN (64 * 1024)

void lp_arena_init(lp_arena *a, size_t limit) {
    memset(a, 0, sizeof *a);
    a->limit = limit;
}

void *lp_arena_grow(lp_arena *a, size_t n) {
    if (a->failed) return NULL;
    n = (n + 7) & ~(size_t)7;
    if (n == 0) n = 8;
    if (a->limit && (n > a->limit || a->used > a->limit - n)) {
        a->failed = 1;
        a->over_limit = 1;
        return NULL;
    }
    if (a->left < n) {
        lp_arena_chunk *c = a->head;
        size_t size = n > LP_CHUNK_MIN / 2 ? n : LP_CHUNK_MIN;
        /* grow chunk sizes with the arena so big records need few mallocs */
        if (c && c->size * 2 > size && c->size < 16u * 1024 * 1024 && n <= c->size) size = c->size * 2;
        c = malloc(sizeof *c + size);
        if (!c) {
            a->failed = 1;
            return NULL;
        }
        c->size = size;
        c->next = a->head;
        a->head = c;
        a->cur = (char *)c->data;
        a->left = size;
    }
    void *p = a->cur;
    a->cur += n;
    a->left -= n;
    a->used += n;
    return p;
}

void *lp_arena_calloc(lp_arena *a, size_t n) {
    void *p = lp_arena_alloc(a, n);
    if (p) memset(p, 0, n);
    return p;
}

char *lp_arena_strndup(lp_arena *a, const char *s, size_t n) {
    char *p = lp_arena_alloc(a, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *lp_arena_strdup(lp_arena *a, const char *s) { return s ? lp_arena_strndup(a, s, strlen(s)) : NULL; }

char *lp_arena_printf(lp_arena *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *p = lp_arena_alloc(a, (size_t)n + 1);
    if (!p) return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

char *lp_arena_cat3(lp_arena *a, const char *x, const char *y, const char *z) {
    size_t nx = strlen(x), ny = strlen(y), nz = strlen(z);
    char *p = lp_arena_alloc(a, nx + ny + nz + 1);
    if (!p) return NULL;
    memcpy(p, x, nx);
    memcpy(p + nx, y, ny);
    memcpy(p + nx + ny, z, nz + 1);
    return p;
}

void lp_arena_reset(lp_arena *a) {
    lp_arena_chunk *c = a->head;
    /* keep the newest (largest) chunk, free the rest */
    a->cur = NULL;
    a->left = 0;
    if (c) {
        lp_arena_chunk *rest = c->next;
        while (rest) {
            lp_arena_chunk *nx = rest->next;
            free(rest);
            rest = nx;
        }
        c->next = NULL;
        if (c->size > 4u * 1024 * 1024) { /* do not pin a huge chunk after one huge record */
            free(c);
            a->head = NULL;
        } else {
            a->cur = (char *)c->data;
            a->left = c->size;
        }
    }
    a->used = 0;
    a->failed = 0;
    a->over_limit = 0;
}

void lp_arena_free(lp_arena *a) {
    if (!a) return;
    lp_arena_chunk *c = a->head;
    while (c) {
        lp_arena_chunk *nx = c->next;
        free(c);
        c = nx;
    }
    a->head = NULL;
    a->cur = NULL;
    a->left = 0;
    a->used = 0;
}

int lp_vec_grow(lp_arena *a, void **v, size_t *cap, size_t n, size_t elem) {
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = lp_arena_alloc(a, ncap * elem);
    if (!p) return -1;
    if (n) memcpy(p, *v, n * elem);
    *v = p;
    *cap = ncap;
    return 0;
}

int lp_buf_grow(lp_buf *b, size_t n) {
    if (b->cap - b->n > n) return 0;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap - b->n <= n) {
        if (ncap > SIZE_MAX / 2) return -1;
        ncap *= 2;
    }
    char *p = realloc(b->p, ncap);
    if (!p) return -1;
    b->p = p;
    b->cap = ncap;
    return 0;
}

int lp_buf_printf(lp_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || lp_buf_reserve(b, (size_t)n + 1) != 0) return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
    return 0;
}

void lp_buf_free(lp_buf *b) {
    if (!b) return;
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

size_t lp_utf8_check(const unsigned char *s, size_t n, int partial_ok, size_t *tail) {
    size_t i = 0;
    if (tail) *tail = 0;
    while (i < n) {
        /* ASCII fast path, 8 bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= n) break;
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t min;
        if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000;
        else return i;
        if (i + len > n) {
            /* check what is there, then decide whether the rest may come later */
            for (size_t k = 1; i + k < n; k++)
                if ((s[i + k] & 0xC0) != 0x80) return i;
            if (partial_ok) {
                if (tail) *tail = n - i;
                return n;
            }
            return i;
        }
        uint32_t cp = c & (0xFF >> (len + 1));
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += len;
    }
    return n;
}

int lp_utf8_put(uint32_t cp, char *o) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp <= 0x10FFFF) {
        o[0] = (char)(0xF0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
    }
    return 0;
}

size_t lp_fold_span(const char *s, size_t i, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
#ifdef __SSE2__
    /* sixteen bytes at a time, as prose is mostly words and single spaces: a byte stops the run
     * when it is white space, unless it is a space and the byte after it is not white space */
    const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t'), four = _mm_set1_epi8(4);
#define LP_WS16(v) _mm_or_si128(_mm_cmpeq_epi8(v, sp), /* ' ' or '\t'..'\r' */ \
                                _mm_cmpeq_epi8(_mm_min_epu8(_mm_sub_epi8(v, tab), four), _mm_sub_epi8(v, tab)))
    for (; i + 17 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
        __m128i next = _mm_loadu_si128((const __m128i *)(const void *)(u + i + 1));
        __m128i lone = _mm_andnot_si128(LP_WS16(next), _mm_cmpeq_epi8(v, sp));
        int mask = _mm_movemask_epi8(_mm_andnot_si128(lone, LP_WS16(v)));
        if (mask) return i + (size_t)__builtin_ctz((unsigned)mask);
    }
#undef LP_WS16
#endif
    for (; i < n; i++) {
        unsigned char c = u[i];
        if (c <= 0x20 && lp_is_space(c) && !(c == ' ' && i + 1 < n && !lp_is_space(u[i + 1]))) return i;
    }
    return n;
}

size_t lp_norm_inplace(char *s, size_t n) {
    size_t o = 0, i = 0;
    while (i < n && lp_is_space((unsigned char)s[i])) i++;
    while (i < n) {
        /* s[i] is visible: copy what folds to itself, then fold one run of white space */
        size_t j = lp_fold_span(s, i, n);
        if (o != i) memmove(s + o, s + i, j - i);
        o += j - i;
        i = j;
        while (i < n && lp_is_space((unsigned char)s[i])) i++;
        if (i < n && j < i) s[o++] = ' '; /* none at the end */
    }
    return o;
}

char *lp_arena_norm(lp_arena *a, const char *s, size_t n) {
    if (!s) return NULL;
    char *p = lp_arena_strndup(a, s, n);
    if (!p) return NULL;
    size_t m = lp_norm_inplace(p, n);
    if (m == 0) return NULL;
    p[m] = '\0';
    return p;
}

int lp_strieq(const char *a, const char *b) {
    if (!a || !b) return 0;
    while (*a && *b) {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
        a++, b++;
    }
    return *a == *b;
}

int lp_strnieq(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i])) return 0;
        if (!a[i]) return 1;
    }
    return 1;
}

long lp_first_int(const char *s) {
    if (!s) return -1;
    while (*s && !isdigit((unsigned char)*s)) s++;
    if (!*s) return -1;
    long v = 0;
    int k = 0;
    while (isdigit((unsigned char)*s) && k < 15) v = v * 10 + (*s++ - '0'), k++;
    return v;
}

int lp_first_year(const char *s) {
    if (!s) return 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p) || (p > s && isdigit((unsigned char)p[-1]))) continue;
        int k = 0;
        while (isdigit((unsigned char)p[k])) k++;
        if (k == 4) {
            int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
            if (y >= 1000 && y <= 2999) return y;
        }
        p += k - 1;
    }
    return 0;
}

int lp_month_num(const char *s) {
    static const char *names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
    if (!s) return 0;
    while (lp_is_space((unsigned char)*s)) s++;
    if (isdigit((unsigned char)*s)) {
        long v = lp_first_int(s);
        return v >= 1 && v <= 12 ? (int)v : 0;
    }
    for (int i = 0; i < 12; i++)
        if (lp_strnieq(s, names[i], 3)) return i + 1;
    return 0;
}

static const char *skip_prefix_ci(const char *s, const char *prefix) {
    size_t n = strlen(prefix);
    return lp_strnieq(s, prefix, n) ? s + n : s;
}

char *lp_doi_norm(lp_arena *a, const char *s) {
    if (!s) return NULL;
    while (lp_is_space((unsigned char)*s)) s++;
    static const char *pre[] = {"https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/",
                                "doi.org/", "doi:", "doi "};
    for (size_t i = 0; i < sizeof pre / sizeof *pre; i++) {
        const char *t = skip_prefix_ci(s, pre[i]);
        if (t != s) {
            s = t;
            while (lp_is_space((unsigned char)*s)) s++;
            break;
        }
    }
    size_t n = strlen(s);
    while (n && (lp_is_space((unsigned char)s[n - 1]) || s[n - 1] == '.')) n--;
    if (n < 4 || s[0] != '1' || s[1] != '0' || s[2] != '.' || !memchr(s, '/', n)) return NULL;
    for (size_t i = 0; i < n; i++)
        if (lp_is_space((unsigned char)s[i])) return NULL;
    return lp_arena_strndup(a, s, n);
}

char *lp_doi_find(lp_arena *a, const char *t) {
    if (!t) return NULL;
    for (const char *p = strstr(t, "10."); p; p = strstr(p + 1, "10.")) {
        if (p > t && (isalnum((unsigned char)p[-1]) || p[-1] == '.')) continue;
        const char *q = p + 3;
        int digits = 0;
        while (isdigit((unsigned char)*q) || *q == '.') q++, digits++;
        if (digits < 4 || *q != '/') continue;
        q++;
        const char *e = q;
        while (*e && !lp_is_space((unsigned char)*e) && *e != '"' && *e != '<' && *e != '>') e++;
        while (e > q && strchr(".,;:)]}'", e[-1])) {
            /* keep a closing bracket that has its opener inside the DOI, e.g. 10.1002/(SICI)... */
            if ((e[-1] == ')' && memchr(q, '(', (size_t)(e - q - 1))) || (e[-1] == ']' && memchr(q, '[', (size_t)(e - q - 1))))
                break;
            e--;
        }
        if (e == q) continue;
        return lp_arena_strndup(a, p, (size_t)(e - p));
    }
    return NULL;
}

char *lp_pmcid_norm(lp_arena *a, const char *s) {
    if (!s) return NULL;
    while (lp_is_space((unsigned char)*s)) s++;
    if (lp_strnieq(s, "PMC", 3)) s += 3;
    size_t n = 0;
    while (isdigit((unsigned char)s[n])) n++;
    if (n == 0 || n > 12) return NULL;
    return lp_arena_printf(a, "PMC%.*s", (int)n, s);
}

char *lp_pmid_norm(lp_arena *a, const char *s) {
    if (!s) return NULL;
    while (lp_is_space((unsigned char)*s)) s++;
    s = skip_prefix_ci(s, "pmid:");
    while (lp_is_space((unsigned char)*s)) s++;
    size_t n = 0;
    while (isdigit((unsigned char)s[n])) n++;
    const char *e = s + n;
    while (lp_is_space((unsigned char)*e)) e++;
    if (n == 0 || n > 12 || *e) return NULL;
    while (n > 1 && *s == '0') s++, n--;
    return lp_arena_strndup(a, s, n);
}

char *lp_orcid_norm(lp_arena *a, const char *s) {
    if (!s) return NULL;
    const char *p = s;
    /* find 4 groups of 4 characters: dddd-dddd-dddd-dddX */
    for (; *p; p++) {
        int ok = 1;
        for (int i = 0; i < 19 && ok; i++) {
            char c = p[i];
            if (i == 4 || i == 9 || i == 14) ok = c == '-';
            else if (i == 18) ok = isdigit((unsigned char)c) || c == 'X' || c == 'x';
            else ok = isdigit((unsigned char)c);
        }
        if (ok) {
            char *r = lp_arena_strndup(a, p, 19);
            if (r && r[18] == 'x') r[18] = 'X';
            return r;
        }
    }
    return NULL;
}

char *lp_lang_norm(lp_arena *a, const char *s) {
    static const char *map[][2] = {
        {"eng", "en"}, {"fre", "fr"}, {"fra", "fr"}, {"ger", "de"}, {"deu", "de"}, {"spa", "es"}, {"ita", "it"},
        {"por", "pt"}, {"rus", "ru"}, {"jpn", "ja"}, {"chi", "zh"}, {"zho", "zh"}, {"dut", "nl"}, {"nld", "nl"},
        {"pol", "pl"}, {"swe", "sv"}, {"dan", "da"}, {"nor", "no"}, {"fin", "fi"}, {"cze", "cs"}, {"ces", "cs"},
        {"hun", "hu"}, {"kor", "ko"}, {"tur", "tr"}, {"gre", "el"}, {"ell", "el"}, {"heb", "he"}, {"ara", "ar"},
        {"per", "fa"}, {"fas", "fa"}, {"ukr", "uk"}, {"rum", "ro"}, {"ron", "ro"}, {"bul", "bg"}, {"hrv", "hr"},
        {"srp", "sr"}, {"slv", "sl"}, {"slo", "sk"}, {"slk", "sk"}, {"lit", "lt"}, {"lav", "lv"}, {"est", "et"},
        {"ice", "is"}, {"isl", "is"}, {"cat", "ca"}, {"afr", "af"}, {"ind", "id"}, {"may", "ms"}, {"msa", "ms"},
        {"tha", "th"}, {"vie", "vi"}, {"hin", "hi"}, {"lat", "la"}, {"epo", "eo"}, {"wel", "cy"}, {"cym", "cy"},
        {"gle", "ga"}, {"baq", "eu"}, {"eus", "eu"}, {"glg", "gl"}, {"mac", "mk"}, {"mkd", "mk"}, {"alb", "sq"},
        {"sqi", "sq"}, {"arm", "hy"}, {"hye", "hy"}, {"geo", "ka"}, {"kat", "ka"}, {"ben", "bn"}, {"urd", "ur"},
    };
    if (!s) return NULL;
    while (lp_is_space((unsigned char)*s)) s++;
    size_t n = 0;
    while (isalpha((unsigned char)s[n])) n++;
    if (n == 0) return NULL;
    char low[8];
    if (n < sizeof low) {
        for (size_t i = 0; i < n; i++) low[i] = (char)tolower((unsigned char)s[i]);
        low[n] = '\0';
        if (n == 2) return lp_arena_strdup(a, low);
        if (n == 3)
            for (size_t i = 0; i < sizeof map / sizeof *map; i++)
                if (strcmp(low, map[i][0]) == 0) return lp_arena_strdup(a, map[i][1]);
    }
    char *r = lp_arena_strndup(a, s, n);
    if (r)
        for (char *p = r; *p; p++) *p = (char)tolower((unsigned char)*p);
    return r;
}

static uint64_t fnv(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int map_grow(lp_strmap *m) {
    size_t ncap = m->cap ? m->cap * 2 : 1024;
    char **nk = calloc(ncap, sizeof *nk);
    uint32_t *nv = calloc(ncap, sizeof *nv);
    if (!nk || !nv) {
        free(nk);
        free(nv);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = fnv(m->keys[i]) & (ncap - 1);
        while (nk[j]) j = (j + 1) & (ncap - 1);
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    return 0;
}

uint32_t lp_strmap_put(lp_strmap *m, const char *key, uint32_t val) {
    if ((m->n + 1) * 2 > m->cap && map_grow(m) != 0) return UINT32_MAX;
    size_t j = fnv(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (!strcmp(m->keys[j], key)) return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    size_t n = strlen(key);
    m->keys[j] = malloc(n + 1);
    if (!m->keys[j]) return UINT32_MAX;
    memcpy(m->keys[j], key, n + 1);
    m->vals[j] = val;
    m->n++;
    return val;
}

uint32_t lp_strmap_get(const lp_strmap *m, const char *key) {
    if (!m->cap) return UINT32_MAX;
    size_t j = fnv(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (!strcmp(m->keys[j], key)) return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return UINT32_MAX;
}

void lp_strmap_free(lp_strmap *m) {
    if (!m) return;
    for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
