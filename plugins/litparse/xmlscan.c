/* xmlscan.c — litparse's own XML reader for UTF-8 documents: one pass over a sliding buffer that
 * checks well-formedness, resolves namespaces and references, and drives the record-tree builder.
 *
 * It exists for speed: through libxml2's SAX2 interface, reading XML took about a third of
 * litparse's time on JATS and MEDLINE files. It gives the same trees as the libxml2 reader in
 * xml.c, which still reads every document this one does not take: other encodings, and prologs
 * with an internal DTD subset (the only place entities can be declared). Nothing is ever fetched;
 * no DTD is ever read. */
#include "xmlbuild.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define BUF_INIT ((size_t)256 << 10)
#define MAX_CONSTRUCT ((size_t)64 << 20) /* longest tag, comment, PI or CDATA section */
#define MAX_NAME_BYTES ((size_t)32 << 20) /* distinct names and namespace URIs of one document */
#define MAX_REF 64                         /* longest "&name;" or "&#x...;" looked at */
#define PEEK_PROLOG 65536                  /* the prolog must end within this many bytes */
#define SLACK 16                           /* readable bytes past the buffer's capacity (vector loads) */

/* Byte classes. */
enum { C_NAME_START = 1, C_NAME = 2, C_SPACE = 4, C_TEXT_STOP = 8, C_CTRL = 16 };
static unsigned char CLS[256];
static pthread_once_t cls_once = PTHREAD_ONCE_INIT;

static void init_classes(void) {
    unsigned char *t = CLS;
    for (int c = 0; c < 256; c++) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || c >= 0x80) t[c] |= C_NAME_START | C_NAME;
        if ((c >= '0' && c <= '9') || c == '-' || c == '.') t[c] |= C_NAME;
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') t[c] |= C_CTRL | C_TEXT_STOP;
    }
    t[' '] |= C_SPACE, t['\t'] |= C_SPACE, t['\n'] |= C_SPACE, t['\r'] |= C_SPACE;
    t['<'] |= C_TEXT_STOP, t['&'] |= C_TEXT_STOP, t['\r'] |= C_TEXT_STOP, t[']'] |= C_TEXT_STOP, t[0xEF] |= C_TEXT_STOP;
}

#define IS(c, k) (CLS[(unsigned char)(c)] & (k))

/* ---- interned names --------------------------------------------------------------------- */

/* A distinct name (or namespace URI). For a qualified name "p:l", prefix and local point to the
 * interned "p" and "l"; otherwise prefix is NULL and local is the name itself. */
typedef struct iname {
    const char *str;
    size_t len;
    uint32_t hash;
    const char *prefix, *local;
    int qname_error; /* ":a", "a:", "a:b:c": read, but a recoverable error */
} iname;

typedef struct name_chunk {
    struct name_chunk *next;
    size_t used, cap;
    char data[];
} name_chunk;

typedef struct names {
    iname **slot;     /* open addressing */
    size_t cap, n;
    name_chunk *chunks;
    size_t bytes;
    int over_budget;   /* intern() failed for MAX_NAME_BYTES, not for memory */
} names;

/* Eight bytes at a time: names are short, and one is hashed per tag and attribute. */
static uint32_t hash_bytes(const char *p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n, w;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    return (uint32_t)(h ^ (h >> 29));
}

static void *names_mem(names *t, size_t n) {
    n = (n + 7) & ~(size_t)7;
    name_chunk *c = t->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = t->chunks;
        c->used = 0;
        c->cap = cap;
        t->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    t->bytes += n;
    return p;
}

static int names_grow(names *t) {
    size_t cap = t->cap ? t->cap * 2 : 1024;
    iname **slot = calloc(cap, sizeof *slot);
    if (!slot) return -1;
    for (size_t i = 0; i < t->cap; i++) {
        iname *e = t->slot[i];
        if (!e) continue;
        size_t h = e->hash & (cap - 1);
        while (slot[h]) h = (h + 1) & (cap - 1);
        slot[h] = e;
    }
    free(t->slot);
    t->slot = slot;
    t->cap = cap;
    return 0;
}

/* The interned entry for p[0..n), or NULL when memory (or the name budget) ran out. */
static iname *intern(names *t, const char *p, size_t n) {
    uint32_t h = hash_bytes(p, n);
    if (t->cap) {
        for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
            iname *e = t->slot[i];
            if (!e) break;
            if (e->hash == h && e->len == n && memcmp(e->str, p, n) == 0) return e;
        }
    }
    if (t->bytes + n + sizeof(iname) > MAX_NAME_BYTES) {
        t->over_budget = 1;
        return NULL;
    }
    if ((t->n + 1) * 2 > t->cap && names_grow(t) != 0) return NULL;
    iname *e = names_mem(t, sizeof *e + n + 1);
    if (!e) return NULL;
    char *s = (char *)(e + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    *e = (iname){s, n, h, NULL, s, 0};
    size_t i = h & (t->cap - 1);
    while (t->slot[i]) i = (i + 1) & (t->cap - 1);
    t->slot[i] = e;
    t->n++;
    /* "p:l" has prefix p and local name l; like libxml2, "p:l:m" has local name "l:m" (an error
     * the document survives), and ":a", "a:" and "a:1" are local names without a prefix */
    const char *colon = memchr(s, ':', n);
    if (colon) {
        size_t pl = (size_t)(colon - s);
        unsigned char r = pl + 1 < n ? (unsigned char)colon[1] : 0;
        int rest_ok = r && IS(r, C_NAME_START) && r != ':';
        e->qname_error = 1;
        if (pl > 0 && rest_ok) {
            iname *pe = intern(t, s, pl), *le = pe ? intern(t, colon + 1, n - pl - 1) : NULL;
            if (!le) return NULL;
            e->prefix = pe->str;
            e->local = le->str;
            e->qname_error = memchr(colon + 1, ':', n - pl - 1) != NULL;
        }
    }
    return e;
}

static void names_free(names *t) {
    free(t->slot);
    for (name_chunk *c = t->chunks, *nx; c; c = nx) {
        nx = c->next;
        free(c);
    }
}

/* ---- the reader state ------------------------------------------------------------------- */

typedef struct binding {
    const char *prefix; /* interned; NULL for the default namespace */
    const char *uri;    /* interned; NULL when undeclared (xmlns="") */
} binding;

typedef struct open_el {
    const iname *qname;
    size_t ns_mark; /* bindings to drop when it closes */
} open_el;

typedef struct raw_attr {
    const iname *qname;
    size_t value;  /* offset of the resolved value in sc->vals */
    int xmlns;     /* 0, 1 "xmlns", 2 "xmlns:p" */
} raw_attr;

/* A recently seen name of at most 16 bytes, by its bytes: most tags repeat a few names, and
 * this settles them with two comparisons instead of a hash, a probe and a memcmp. */
typedef struct name_hit {
    uint64_t w0, w1;
    size_t len;
    iname *e;
} name_hit;

typedef struct scan {
    lpx_state *b;
    name_hit recent[256];
    char *buf;
    size_t cap, pos, len;
    int eof;
    uint64_t base;          /* stream offset of buf[0] */
    size_t lpos;            /* newlines are counted up to buf[lpos] */
    uint64_t line, lstart;  /* line at lpos; stream offset where that line starts */
    int have_err_pos;
    int err_line, err_col;
    names names;
    binding *ns;
    size_t nns, ns_cap;
    open_el open[LPX_MAX_DEPTH];
    int depth;
    raw_attr *attrs;
    size_t attrs_cap;
    lp_attr *out_attrs;
    size_t out_cap;
    lp_buf vals;
    const char *xml_uri;
    int has_ext_subset;  /* the DOCTYPE names an external DTD: undeclared entities are its */
    int seen_root, root_done, seen_doctype;
    int nul_end;         /* a NUL byte after the root element: the rest is ignored */
} scan;


/* Index of the first byte in b[i..n) that text() must look at: '<', '&', ']', 0xEF (U+FFFE/F
 * start with it) or a control character other than tab and newline ('\r' included). Sixteen
 * bytes at a time where SSE2 is there: most of a document is such plain runs. */
static size_t skip_text(const char *b, size_t i, size_t n) {
#ifdef __SSE2__
    const __m128i lt = _mm_set1_epi8('<'), amp = _mm_set1_epi8('&'), rb = _mm_set1_epi8(']');
    const __m128i ef = _mm_set1_epi8((char)0xEF), c1f = _mm_set1_epi8(0x1F), tab = _mm_set1_epi8('\t'), nl = _mm_set1_epi8('\n');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
        __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, c1f), v); /* v <= 0x1F */
        ctl = _mm_andnot_si128(_mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, nl)), ctl);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, amp)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, rb), _mm_cmpeq_epi8(v, ef)));
        int mask = _mm_movemask_epi8(_mm_or_si128(m, ctl));
        if (mask) return i + (size_t)__builtin_ctz((unsigned)mask);
    }
#endif
    while (i < n && !IS(b[i], C_TEXT_STOP)) i++;
    return i;
}

/* Index of the first '>', '<', '"' or '\'' in b[i..n). */
static size_t skip_tag(const char *b, size_t i, size_t n) {
#ifdef __SSE2__
    const __m128i gt = _mm_set1_epi8('>'), lt = _mm_set1_epi8('<'), dq = _mm_set1_epi8('"'), sq = _mm_set1_epi8('\'');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, gt), _mm_cmpeq_epi8(v, lt)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, sq)));
        int mask = _mm_movemask_epi8(m);
        if (mask) return i + (size_t)__builtin_ctz((unsigned)mask);
    }
#endif
    while (i < n && b[i] != '>' && b[i] != '<' && b[i] != '"' && b[i] != '\'') i++;
    return i;
}

/* Count newlines up to buf[upto] (sixteen bytes at a time where SSE2 is there: this runs before
 * every start tag, over the bytes since the last one). */
static void sync_lines(scan *sc, size_t upto) {
    if (upto > sc->len) upto = sc->len;
    size_t k = sc->lpos;
    const char *b = sc->buf;
#ifdef __SSE2__
    /* the buffer has SLACK bytes past its capacity, so the last load may run over `upto` */
    const __m128i nl = _mm_set1_epi8('\n');
    for (; k < upto; k += 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(b + k)), nl));
        if (upto - k < 16) m &= (1u << (upto - k)) - 1;
        if (m) {
            sc->line += (uint64_t)lp_popcount64(m);
            sc->lstart = sc->base + k + (size_t)(32 - __builtin_clz(m)); /* just after the last one */
        }
    }
#endif
    for (; k < upto; k++)
        if (b[k] == '\n') {
            sc->line++;
            sc->lstart = sc->base + k + 1;
        }
    if (upto > sc->lpos) sc->lpos = upto;
}

static void where(lpx_state *s, int *line, int *col) {
    scan *sc = s->driver;
    if (sc->have_err_pos) {
        *line = sc->err_line;
        *col = sc->err_col;
        return;
    }
    sync_lines(sc, sc->pos);
    *line = (int)sc->line;
    *col = (int)(sc->base + sc->pos - sc->lstart + 1);
}

/* Fail with the position of buf[at]. */
static void fail_at(scan *sc, size_t at, const char *fmt, ...) SL_PRINTF(3, 4);
static void fail_at(scan *sc, size_t at, const char *fmt, ...) {
    if (sc->b->status != SL_OK) return;
    char what[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    sync_lines(sc, at);
    sc->have_err_pos = 1;
    sc->err_line = (int)sc->line;
    sc->err_col = (int)(sc->base + at - sc->lstart + 1);
    lpx_fail(sc->b, SL_ERR_PARSE, "malformed XML: %s", what);
    sc->have_err_pos = 0;
}

static void recoverable_at(scan *sc, size_t at, const char *fmt, ...) SL_PRINTF(3, 4);
static void recoverable_at(scan *sc, size_t at, const char *fmt, ...) {
    char what[500];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    sync_lines(sc, at);
    lpx_recoverable(sc->b, (int)sc->line, (int)(sc->base + at - sc->lstart + 1), what);
}

static int ok(const scan *sc) { return sc->b->status == SL_OK; }

/* Read more input, keeping buf[pos..len). Returns 1 when bytes were added, 0 at the end of the
 * input or on failure (status set). */
static int fill(scan *sc) {
    if (sc->eof || !ok(sc)) return 0;
    lpx_unborrow(sc->b); /* the buffer is about to move */
    if (sc->pos > 0) {
        sync_lines(sc, sc->pos);
        memmove(sc->buf, sc->buf + sc->pos, sc->len - sc->pos);
        sc->base += sc->pos;
        sc->len -= sc->pos;
        sc->lpos -= sc->pos;
        sc->pos = 0;
    }
    if (sc->len == sc->cap) {
        if (sc->cap >= MAX_CONSTRUCT) {
            fail_at(sc, 0, "a tag, comment, processing instruction or CDATA section longer than %zu MiB", MAX_CONSTRUCT >> 20);
            return 0;
        }
        char *nb = realloc(sc->buf, sc->cap * 2 + SLACK);
        if (!nb) {
            lpx_fail(sc->b, SL_ERR_NOMEM, "out of memory");
            return 0;
        }
        sc->buf = nb;
        sc->cap *= 2;
    }
    long k = lpx_read(sc->b, sc->buf + sc->len, sc->cap - sc->len);
    if (k <= 0) {
        sc->eof = 1;
        return 0;
    }
    sc->len += (size_t)k;
    return 1;
}

/* Make buf[pos + need - 1] readable if the input has it; returns whether it does. `need` counts
 * from pos, which fill() may move to 0. */
static int have(scan *sc, size_t need) {
    while (sc->len - sc->pos < need)
        if (!fill(sc)) return 0;
    return 1;
}

/* ---- references and characters ---------------------------------------------------------- */

static size_t name_len(const char *p, const char *end);

static int xml_char_ok(unsigned long cp) {
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
           (cp >= 0x10000 && cp <= 0x10FFFF);
}

/* A reference starting at p[0] == '&' within [p, end). Sets *adv to its length and either
 * out/outlen (the characters it stands for) or *name (an entity name to resolve, NUL-terminated
 * in namebuf). Returns 0, or -1 after failing the parse. */
static int parse_ref(scan *sc, const char *p, const char *end, char *out, size_t *outlen, char *namebuf, const char **name,
                     size_t *adv) {
    size_t at = (size_t)(p - sc->buf);
    const char *q = p + 1, *lim = end - p > MAX_REF ? p + MAX_REF : end;
    *name = NULL;
    *outlen = 0;
    if (q < lim && *q == '#') {
        unsigned long cp = 0;
        int hex = q + 1 < lim && q[1] == 'x', digits = 0;
        q += hex ? 2 : 1;
        for (; q < lim && *q != ';'; q++, digits++) {
            int d = *q >= '0' && *q <= '9' ? *q - '0'
                  : hex && (*q | 0x20) >= 'a' && (*q | 0x20) <= 'f' ? (*q | 0x20) - 'a' + 10
                  : -1;
            if (d < 0 || cp > 0x10FFFF) break;
            cp = cp * (hex ? 16 : 10) + (unsigned long)d;
        }
        if (q >= lim || *q != ';' || digits == 0) {
            fail_at(sc, at, "a character reference must look like &#123; or &#x1F;");
            return -1;
        }
        if (!xml_char_ok(cp)) {
            fail_at(sc, at, "character reference &#%s%lu; is not an allowed XML character", hex ? "x" : "", cp);
            return -1;
        }
        *outlen = (size_t)lp_utf8_put((uint32_t)cp, out);
        *adv = (size_t)(q + 1 - p);
        return 0;
    }
    const char *n0 = q;
    q += name_len(q, lim);
    if (q == n0 || q >= lim || *q != ';') {
        fail_at(sc, at, "'&' must start a reference such as &amp; (write &amp; for a literal '&')");
        return -1;
    }
    size_t nl = (size_t)(q - n0);
    *adv = nl + 2;
    static const struct { const char *n; char c; } predef[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    for (size_t k = 0; k < 5; k++)
        if (strlen(predef[k].n) == nl && memcmp(n0, predef[k].n, nl) == 0) {
            out[0] = predef[k].c;
            *outlen = 1;
            return 0;
        }
    memcpy(namebuf, n0, nl);
    namebuf[nl] = '\0';
    if (!sc->has_ext_subset) {
        /* only a DTD could define it, and the document names none */
        fail_at(sc, at, "entity '%s' is not defined (the document declares no DTD that could define it)", namebuf);
        return -1;
    }
    *name = namebuf;
    return 0;
}

/* Check the characters of a comment, PI or CDATA section: no control characters, U+FFFE or U+FFFF. */
static int check_chars(scan *sc, const char *p, const char *end) {
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (IS(c, C_CTRL)) {
            fail_at(sc, (size_t)(p - sc->buf), "character 0x%02X is not allowed in XML", c);
            return -1;
        }
        if (c == 0xEF && end - p >= 3 && (unsigned char)p[1] == 0xBF && ((unsigned char)p[2] & 0xFE) == 0xBE) {
            fail_at(sc, (size_t)(p - sc->buf), "character U+%04X is not allowed in XML", 0xFFFE + ((unsigned char)p[2] & 1));
            return -1;
        }
    }
    return 0;
}

/* Hand p[0..n) to the builder as text, turning "\r\n" and "\r" into "\n". */
static void text_out(scan *sc, const char *p, size_t n) {
    while (n && ok(sc)) {
        const char *cr = memchr(p, '\r', n);
        if (!cr) {
            lpx_text(sc->b, p, n);
            return;
        }
        if (cr > p) lpx_text(sc->b, p, (size_t)(cr - p));
        lpx_text(sc->b, "\n", 1);
        size_t k = (size_t)(cr - p) + 1;
        if (k < n && p[k] == '\n') k++;
        p += k;
        n -= k;
    }
}

static void outside_text(scan *sc, size_t at) {
    if (sc->root_done) fail_at(sc, at, "text after the end of the root element <%s>", sc->b->info->root);
    else fail_at(sc, at, "text before the root element");
}

/* Character data from pos up to the next '<' (or as far as the buffer goes). */
static void text(scan *sc) {
    for (;;) {
        size_t i = sc->pos, start = i;
        const char *b = sc->buf;
        int cr = 0; /* a '\r' in this run: line ends need normalising */
        for (;;) {
            i = skip_text(b, i, sc->len);
            if (i >= sc->len) break;
            unsigned char c = (unsigned char)b[i];
            if (c == '<' || c == '&' || IS(c, C_CTRL)) break;
            /* ']', 0xEF and '\r' need the next bytes */
            if (sc->len - i < 3 && !sc->eof) break;
            if (c == ']' && sc->len - i >= 3 && b[i + 1] == ']' && b[i + 2] == '>') {
                fail_at(sc, i, "']]>' is not allowed in text");
                return;
            }
            if (c == 0xEF && sc->len - i >= 3 && (unsigned char)b[i + 1] == 0xBF && ((unsigned char)b[i + 2] & 0xFE) == 0xBE) {
                fail_at(sc, i, "character U+%04X is not allowed in XML", 0xFFFE + ((unsigned char)b[i + 2] & 1));
                return;
            }
            cr |= c == '\r';
            i++;
        }
        if (i > start) {
            if (sc->depth == 0) {
                for (size_t k = start; k < i; k++)
                    if (!IS(b[k], C_SPACE)) {
                        outside_text(sc, k);
                        return;
                    }
            } else if (cr) {
                text_out(sc, b + start, i - start);
            } else {
                lpx_text_borrowed(sc->b, b + start, i - start);
            }
        }
        sc->pos = i;
        if (!ok(sc)) return;
        if (i >= sc->len || (sc->len - i < 3 && !sc->eof && b[i] != '<' && b[i] != '&' && !IS(b[i], C_CTRL))) {
            if (!fill(sc)) {
                if (!ok(sc)) return;
                if (sc->pos >= sc->len) return; /* end of input */
                continue;                       /* the last bytes, now that eof is known */
            }
            continue;
        }
        unsigned char c = (unsigned char)b[i];
        if (c == '<') return;
        if (c == 0 && sc->depth == 0 && sc->root_done) {
            /* NUL padding after the document ends it, as libxml2 reads it; the rest is still
             * read, for its UTF-8 check */
            sc->nul_end = 1;
            do sc->pos = sc->len;
            while (fill(sc));
            return;
        }
        if (IS(c, C_CTRL)) {
            fail_at(sc, i, "character 0x%02X is not allowed in XML", c);
            return;
        }
        /* '&' */
        size_t avail = sc->len - i;
        if (avail < MAX_REF && !sc->eof) {
            have(sc, MAX_REF);
            if (!ok(sc)) return;
            continue;
        }
        if (sc->depth == 0) {
            outside_text(sc, i);
            return;
        }
        char out[8], nb[MAX_REF];
        const char *name;
        size_t olen, adv;
        if (parse_ref(sc, sc->buf + i, sc->buf + sc->len, out, &olen, nb, &name, &adv) != 0) return;
        if (name) lpx_reference(sc->b, name);
        else lpx_text(sc->b, out, olen);
        sc->pos = i + adv;
    }
}

/* ---- markup ----------------------------------------------------------------------------- */

/* Find `pat` (2 or 3 bytes) from buf[pos + from]; returns its index, reading more as needed, or
 * (size_t)-1 at the end of the input. */
static size_t find_pat(scan *sc, size_t from, const char *pat, size_t plen) {
    size_t k = sc->pos + from;
    for (;;) {
        while (k + plen <= sc->len) {
            const char *hit = memchr(sc->buf + k, pat[0], sc->len - k - plen + 1);
            if (!hit) {
                k = sc->len - plen + 1;
                break;
            }
            k = (size_t)(hit - sc->buf);
            if (memcmp(hit, pat, plen) == 0) return k;
            k++;
        }
        size_t rel = k - sc->pos;
        if (!fill(sc)) return (size_t)-1;
        k = sc->pos + rel;
    }
}

/* Index of the '>' closing the tag that starts at pos, quotes respected; (size_t)-1 at the end of
 * the input or on a '<' inside the tag (failed). */
static size_t tag_end(scan *sc) {
    size_t k = sc->pos + 1;
    char quote = 0;
    for (;;) {
        const char *b = sc->buf;
        while (k < sc->len) {
            if (quote) {
                const char *q = memchr(b + k, quote, sc->len - k);
                if (!q) {
                    k = sc->len;
                    break;
                }
                k = (size_t)(q - b) + 1;
                quote = 0;
                continue;
            }
            k = skip_tag(b, k, sc->len);
            if (k >= sc->len) break;
            char c = b[k];
            if (c == '>') return k;
            if (c == '<') {
                fail_at(sc, k, "'<' inside a tag (a tag is not closed with '>', or an attribute value holds '<')");
                return (size_t)-1;
            }
            quote = c;
            k++;
        }
        size_t rel = k - sc->pos;
        if (!fill(sc)) return (size_t)-1;
        k = sc->pos + rel;
    }
}

static void truncated(scan *sc) {
    if (!ok(sc)) return;
    if (sc->depth > 0)
        fail_at(sc, sc->len, "the file ends inside <%s> opened at line %u (truncated?)", sc->b->open_name[sc->depth - 1],
                sc->b->open_line[sc->depth - 1]);
    else
        fail_at(sc, sc->len, "the file ends inside a tag, comment or declaration (truncated?)");
}

/* Is code point c (not ASCII) allowed in a name, at its start or after? The ranges of XML 1.0
 * fifth edition, productions [4] and [4a], as libxml2 applies them. */
static int name_cp_ok(uint32_t c, int start) {
    if ((c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) || (c >= 0x370 && c <= 0x37D) ||
        (c >= 0x37F && c <= 0x1FFF) || (c >= 0x200C && c <= 0x200D) || (c >= 0x2070 && c <= 0x218F) || (c >= 0x2C00 && c <= 0x2FEF) ||
        (c >= 0x3001 && c <= 0xD7FF) || (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0xEFFFF))
        return 1;
    return !start && (c == 0xB7 || (c >= 0x300 && c <= 0x36F) || (c >= 0x203F && c <= 0x2040));
}

/* Length of the name at p (0 when none starts there). */
static size_t name_len(const char *p, const char *end) {
    size_t k = 0, room = (size_t)(end - p);
    if (p >= end) return 0;
#ifdef __SSE2__
    /* ASCII name characters sixteen at a time (the buffer's SLACK makes the load safe); the loop
     * below takes over at a non-ASCII byte or after sixteen */
    if ((unsigned char)*p < 0x80) {
        if (!IS(*p, C_NAME_START)) return 0;
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i l = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
        __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
        __m128i ok = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(25)), l), _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
        ok = _mm_or_si128(ok, _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')), _mm_cmpeq_epi8(v, _mm_set1_epi8('.'))),
                                           _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('_')), _mm_cmpeq_epi8(v, _mm_set1_epi8(':')))));
        unsigned stop = ~(unsigned)_mm_movemask_epi8(ok) & 0xFFFF;
        k = stop ? (size_t)__builtin_ctz(stop) : 16;
        if (k >= room) return room;
        if (k < 16 && (unsigned char)p[k] < 0x80) return k;
    }
#endif
    while (k < room) {
        unsigned char c = (unsigned char)p[k];
        if (c < 0x80) {
            if (!IS(c, k ? C_NAME : C_NAME_START)) break;
            k++;
            continue;
        }
        /* the reader's input is valid UTF-8 (lpx_read checks it) */
        size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (len > room - k) break;
        uint32_t cp = c & (c >= 0xF0 ? 0x07 : c >= 0xE0 ? 0x0F : 0x1F);
        for (size_t m = 1; m < len; m++) cp = (cp << 6) | ((unsigned char)p[k + m] & 0x3F);
        if (!name_cp_ok(cp, k == 0)) break;
        k += len;
    }
    return k;
}

static const char *ns_lookup(const scan *sc, const char *prefix, int *found) {
    for (size_t i = sc->nns; i-- > 0;)
        if (sc->ns[i].prefix == prefix) {
            *found = 1;
            return sc->ns[i].uri;
        }
    *found = prefix == NULL; /* no default namespace: none */
    return NULL;
}

static int push_binding(scan *sc, const char *prefix, const char *uri) {
    if (sc->nns == sc->ns_cap) {
        size_t cap = sc->ns_cap ? sc->ns_cap * 2 : 16;
        binding *nb = realloc(sc->ns, cap * sizeof *nb);
        if (!nb) return -1;
        sc->ns = nb;
        sc->ns_cap = cap;
    }
    sc->ns[sc->nns++] = (binding){prefix, uri};
    return 0;
}

/* The first k bytes (k < 8) of a word loaded from memory; the rest zero. */
static uint64_t first_bytes(uint64_t w, size_t k) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return k ? w & ~((~(uint64_t)0) >> (8 * k)) : 0;
#else
    return w & (((uint64_t)1 << (8 * k)) - 1);
#endif
}

/* intern() through sc->recent. The buffer's SLACK makes the 16-byte load safe. */
static iname *name_of(scan *sc, const char *p, size_t n) {
    if (n > 16) return intern(&sc->names, p, n);
    uint64_t w0, w1;
    memcpy(&w0, p, 8);
    memcpy(&w1, p + 8, 8);
    if (n < 8) {
        w0 = first_bytes(w0, n);
        w1 = 0;
    } else if (n < 16) {
        w1 = first_bytes(w1, n - 8);
    }
    size_t h = (size_t)(((w0 ^ (w1 * 0x9E3779B97F4A7C15ull) ^ n) * 0xFF51AFD7ED558CCDull) >> 56);
    name_hit *c = &sc->recent[h];
    if (c->e && c->w0 == w0 && c->w1 == w1 && c->len == n) return c->e;
    iname *e = intern(&sc->names, p, n);
    if (e) *c = (name_hit){w0, w1, n, e};
    return e;
}

/* Resolve an attribute value buf[v0..v1) into sc->vals (NUL-terminated). */
static int attr_value(scan *sc, size_t v0, size_t v1) {
    const char *p = sc->buf + v0, *end = sc->buf + v1;
    while (p < end && ok(sc)) {
        const char *q = p;
        while (q < end && *q != '&' && *q != '<' && !IS(*q, C_SPACE | C_CTRL) && (unsigned char)*q != 0xEF) q++;
        if (q > p && lp_buf_add(&sc->vals, p, (size_t)(q - p)) != 0) goto nomem;
        if (q >= end) break;
        unsigned char c = (unsigned char)*q;
        size_t at = (size_t)(q - sc->buf);
        if (c == '<') {
            fail_at(sc, at, "'<' is not allowed in an attribute value (write &lt;)");
            return -1;
        }
        if (IS(c, C_CTRL)) {
            fail_at(sc, at, "character 0x%02X is not allowed in XML", c);
            return -1;
        }
        if (c == 0xEF) {
            if (check_chars(sc, q, end - q >= 3 ? q + 3 : end) != 0) return -1;
            if (lp_buf_add(&sc->vals, q, 1) != 0) goto nomem;
            p = q + 1;
            continue;
        }
        if (IS(c, C_SPACE)) {
            /* attribute-value normalisation: each white-space character (a "\r\n" pair once) is a space */
            if (lp_buf_add(&sc->vals, " ", 1) != 0) goto nomem;
            p = q + 1 + (c == '\r' && q + 1 < end && q[1] == '\n');
            continue;
        }
        char out[8], nb[MAX_REF];
        const char *name;
        size_t olen, adv;
        if (parse_ref(sc, q, end, out, &olen, nb, &name, &adv) != 0) return -1;
        if (name) {
            const char *rep = lp_entity_lookup(name);
            if (rep) {
                if (lp_buf_adds(&sc->vals, rep) != 0) goto nomem;
            } else if (lp_buf_add(&sc->vals, q, adv) != 0) {
                goto nomem; /* an entity of the unread DTD that the table lacks: kept as written */
            }
        } else if (lp_buf_add(&sc->vals, out, olen) != 0) {
            goto nomem;
        }
        p = q + adv;
    }
    if (lp_buf_addc(&sc->vals, '\0') != 0) goto nomem;
    return ok(sc) ? 0 : -1;
nomem:
    lpx_fail(sc->b, SL_ERR_NOMEM, "out of memory");
    return -1;
}

static int names_fail(scan *sc, size_t at) {
    if (sc->names.over_budget)
        fail_at(sc, at, "more than %zu MiB of distinct element and attribute names", MAX_NAME_BYTES >> 20);
    else
        lpx_fail(sc->b, SL_ERR_NOMEM, "out of memory");
    return -1;
}

/* The start tag from pos to buf[end] == '>'. */
static void start_tag(scan *sc, size_t end) {
    const char *b = sc->buf, *e = b + end;
    size_t lt = sc->pos;
    const char *p = b + lt + 1;
    size_t nl = name_len(p, e);
    if (nl == 0) {
        fail_at(sc, lt + 1, "'<' must start a tag, '</', '<!--', '<![CDATA[' or '<?' (write &lt; for a literal '<')");
        return;
    }
    iname *qn = name_of(sc, p, nl);
    if (!qn) {
        names_fail(sc, lt);
        return;
    }
    p += nl;
    int empty = 0;
    size_t na = 0;
    sc->vals.n = 0;
    for (;;) {
        const char *ws = p;
        while (p < e && IS(*p, C_SPACE)) p++;
        if (p == e) break;
        if (*p == '/' && p + 1 == e) {
            empty = 1;
            break;
        }
        if (p == ws) {
            fail_at(sc, (size_t)(p - b), "expected white space, '>' or '/>' after the %s", na ? "attribute value" : "element name");
            return;
        }
        size_t al = name_len(p, e);
        if (al == 0) {
            fail_at(sc, (size_t)(p - b), "expected an attribute name, '>' or '/>'");
            return;
        }
        iname *an = name_of(sc, p, al);
        if (!an) {
            names_fail(sc, (size_t)(p - b));
            return;
        }
        const char *aname = p;
        p += al;
        while (p < e && IS(*p, C_SPACE)) p++;
        if (p >= e || *p != '=') {
            fail_at(sc, (size_t)(p - b), "attribute '%s' has no value (expected '=' and a quoted value)", an->str);
            return;
        }
        p++;
        while (p < e && IS(*p, C_SPACE)) p++;
        if (p >= e || (*p != '"' && *p != '\'')) {
            fail_at(sc, (size_t)(p - b), "the value of attribute '%s' must be in quotes", an->str);
            return;
        }
        const char *v0 = p + 1, *v1 = memchr(v0, *p, (size_t)(e - v0));
        if (!v1) { /* tag_end keeps quotes balanced; defensive */
            fail_at(sc, (size_t)(p - b), "unterminated value of attribute '%s'", an->str);
            return;
        }
        for (size_t k = 0; k < na; k++)
            if (sc->attrs[k].qname == an) {
                fail_at(sc, (size_t)(aname - b), "attribute '%s' appears twice in <%s>", an->str, qn->str);
                return;
            }
        if (na == sc->attrs_cap) {
            size_t cap = sc->attrs_cap ? sc->attrs_cap * 2 : 16;
            raw_attr *ra = realloc(sc->attrs, cap * sizeof *ra);
            if (!ra) {
                lpx_fail(sc->b, SL_ERR_NOMEM, "out of memory");
                return;
            }
            sc->attrs = ra;
            sc->attrs_cap = cap;
        }
        raw_attr *ra = &sc->attrs[na++];
        ra->qname = an;
        ra->value = sc->vals.n;
        ra->xmlns = an->len == 5 && memcmp(an->str, "xmlns", 5) == 0 ? 1 : an->prefix && strcmp(an->prefix, "xmlns") == 0 ? 2 : 0;
        if (attr_value(sc, (size_t)(v0 - b), (size_t)(v1 - b)) != 0) return;
        p = v1 + 1;
    }
    /* namespaces declared here, then the element's and the attributes' */
    size_t mark = sc->nns;
    for (size_t k = 0; k < na; k++) {
        raw_attr *ra = &sc->attrs[k];
        if (!ra->xmlns) continue;
        const char *v = sc->vals.p + ra->value;
        const char *uri = NULL;
        if (*v) {
            iname *u = intern(&sc->names, v, strlen(v));
            if (!u) {
                names_fail(sc, lt);
                return;
            }
            uri = u->str;
        } else if (ra->xmlns == 2) {
            recoverable_at(sc, lt, "xmlns:%s: an empty namespace name is not allowed", ra->qname->local);
        }
        if (push_binding(sc, ra->xmlns == 1 ? NULL : ra->qname->local, uri) != 0) {
            lpx_fail(sc->b, SL_ERR_NOMEM, "out of memory");
            return;
        }
    }
    const char *local = qn->local, *uri;
    int found = 1;
    if (qn->qname_error) recoverable_at(sc, lt, "'%s' is not a well-formed qualified name", qn->str);
    uri = qn->prefix && strcmp(qn->prefix, "xml") == 0 ? sc->xml_uri : ns_lookup(sc, qn->prefix, &found);
    if (!found) recoverable_at(sc, lt, "namespace prefix %s on %s is not defined", qn->prefix, qn->local);
    if (sc->out_cap < na) {
        lp_attr *oa = realloc(sc->out_attrs, na * sizeof *oa);
        if (!oa) {
            lpx_fail(sc->b, SL_ERR_NOMEM, "out of memory");
            return;
        }
        sc->out_attrs = oa;
        sc->out_cap = na;
    }
    size_t nout = 0;
    for (size_t k = 0; k < na; k++) {
        raw_attr *ra = &sc->attrs[k];
        if (ra->xmlns) continue;
        const iname *an = ra->qname;
        if (an->qname_error) recoverable_at(sc, lt, "'%s' is not a well-formed qualified name", an->str);
        if (an->prefix && strcmp(an->prefix, "xml") != 0) {
            int f = 0;
            const char *au = ns_lookup(sc, an->prefix, &f);
            if (!f || !au) recoverable_at(sc, lt, "namespace prefix %s for %s on %s is not defined", an->prefix, an->local, local);
            for (size_t m = 0; m < k && au; m++) {
                const iname *o = sc->attrs[m].qname;
                int f2 = 0;
                if (!sc->attrs[m].xmlns && o->local == an->local && o->prefix && ns_lookup(sc, o->prefix, &f2) == au)
                    recoverable_at(sc, lt, "attribute '%s' appears twice in <%s> (two prefixes of one namespace)", an->local, qn->str);
            }
        }
        sc->out_attrs[nout].name = an->local;
        sc->out_attrs[nout].value = sc->vals.p + ra->value;
        nout++;
    }
    if (sc->depth == 0) {
        if (sc->root_done) {
            fail_at(sc, lt, "a second root element <%s> after the end of <%s>", qn->str, sc->b->info->root);
            return;
        }
        sc->seen_root = 1;
    }
    if (sc->depth == LPX_MAX_DEPTH) {
        fail_at(sc, lt, "elements nested deeper than %d levels", LPX_MAX_DEPTH);
        return;
    }
    sync_lines(sc, lt);
    sc->open[sc->depth].qname = qn;
    sc->open[sc->depth].ns_mark = mark;
    sc->depth++;
    lpx_start(sc->b, local, uri, sc->out_attrs, (unsigned)nout, (unsigned)sc->line);
    sc->pos = end + 1;
    if (empty && ok(sc)) {
        sc->depth--;
        sc->nns = mark;
        lpx_end(sc->b);
        if (sc->depth == 0) sc->root_done = 1;
    }
}

static void end_tag(scan *sc, size_t end) {
    const char *b = sc->buf, *e = b + end;
    size_t lt = sc->pos;
    const char *p = b + lt + 2;
    size_t nl = name_len(p, e);
    if (nl == 0) {
        fail_at(sc, lt + 2, "expected an element name after '</'");
        return;
    }
    const char *q = p + nl;
    while (q < e && IS(*q, C_SPACE)) q++;
    if (q != e) {
        fail_at(sc, (size_t)(q - b), "expected '>' to close the end tag");
        return;
    }
    if (sc->depth == 0) {
        fail_at(sc, lt, "end tag </%.*s> without a start tag", (int)nl, p);
        return;
    }
    const iname *top = sc->open[sc->depth - 1].qname;
    if (top->len != nl || memcmp(top->str, p, nl) != 0) {
        fail_at(sc, lt, "end tag </%.*s> does not match <%s> opened at line %u", (int)nl, p, top->str, sc->b->open_line[sc->depth - 1]);
        return;
    }
    sc->depth--;
    sc->nns = sc->open[sc->depth].ns_mark;
    sc->pos = end + 1;
    lpx_end(sc->b);
    if (sc->depth == 0) sc->root_done = 1;
}

/* "<!--" at pos. */
static void comment(scan *sc) {
    size_t k = find_pat(sc, 4, "--", 2);
    if (k == (size_t)-1) {
        truncated(sc);
        return;
    }
    size_t rel = k - sc->pos; /* have() may move the buffer */
    if (!have(sc, rel + 3)) {
        truncated(sc);
        return;
    }
    k = sc->pos + rel;
    if (sc->buf[k + 2] != '>') {
        fail_at(sc, k, "'--' is not allowed inside a comment");
        return;
    }
    if (check_chars(sc, sc->buf + sc->pos + 4, sc->buf + k) != 0) return;
    sc->pos = k + 3;
}

/* "<![CDATA[" at pos. */
static void cdata(scan *sc) {
    if (sc->depth == 0) {
        fail_at(sc, sc->pos, "a CDATA section outside the root element");
        return;
    }
    size_t k = find_pat(sc, 9, "]]>", 3);
    if (k == (size_t)-1) {
        truncated(sc);
        return;
    }
    const char *p = sc->buf + sc->pos + 9;
    if (check_chars(sc, p, sc->buf + k) != 0) return;
    text_out(sc, p, (size_t)(sc->buf + k - p));
    sc->pos = k + 3;
}

/* Skip white space; returns how much there was. */
static size_t skip_space(const char **p, const char *e) {
    const char *p0 = *p;
    while (*p < e && IS(**p, C_SPACE)) (*p)++;
    return (size_t)(*p - p0);
}

/* `S name S? = S? "value"` at *p: the value's bounds, or 0 when it is not there. */
static int decl_pseudo_attr(const char **p, const char *e, const char *name, const char **v0, const char **v1) {
    const char *q = *p;
    size_t nl = strlen(name);
    if (!skip_space(&q, e) || (size_t)(e - q) < nl || memcmp(q, name, nl) != 0) return 0;
    q += nl;
    skip_space(&q, e);
    if (q >= e || *q != '=') return 0;
    q++;
    skip_space(&q, e);
    if (q >= e || (*q != '"' && *q != '\'')) return 0;
    const char *close = memchr(q + 1, *q, (size_t)(e - q - 1));
    if (!close) return 0;
    *v0 = q + 1;
    *v1 = close;
    *p = close + 1;
    return 1;
}

/* The XML declaration's pseudo-attributes, p..e (between "<?xml" and "?>"): version (required),
 * encoding and standalone, in that order. */
static void xml_decl(scan *sc, const char *p, const char *e) {
    const char *v0, *v1;
    if (!decl_pseudo_attr(&p, e, "version", &v0, &v1)) {
        fail_at(sc, (size_t)(p - sc->buf), "the XML declaration must start with version=\"1.0\"");
        return;
    }
    /* 1.0, or a later 1.x read as 1.0 (as libxml2 does); 2.0 is no XML this reader knows */
    const char *q = v0 + 2;
    while (q < v1 && *q >= '0' && *q <= '9') q++;
    if (v1 - v0 < 2 || v0[0] != '1' || v0[1] != '.' || q != v1) {
        fail_at(sc, (size_t)(v0 - sc->buf), "unsupported XML version '%.*s' (expected 1.0)", (int)(v1 - v0 > 20 ? 20 : v1 - v0), v0);
        return;
    }
    if (decl_pseudo_attr(&p, e, "encoding", &v0, &v1)) {
        for (const char *q = v0; q < v1; q++)
            if (!(IS(*q, C_NAME_START) && *q != ':' && (unsigned char)*q < 0x80) && !(q > v0 && IS(*q, C_NAME) && *q != ':')) {
                fail_at(sc, (size_t)(q - sc->buf), "the encoding name in the XML declaration is malformed");
                return;
            }
        if (v1 == v0) {
            fail_at(sc, (size_t)(v0 - sc->buf), "the encoding name in the XML declaration is empty");
            return;
        }
    }
    if (decl_pseudo_attr(&p, e, "standalone", &v0, &v1) &&
        !((v1 - v0 == 3 && memcmp(v0, "yes", 3) == 0) || (v1 - v0 == 2 && memcmp(v0, "no", 2) == 0))) {
        fail_at(sc, (size_t)(v0 - sc->buf), "standalone in the XML declaration must be 'yes' or 'no'");
        return;
    }
    skip_space(&p, e);
    if (p != e) fail_at(sc, (size_t)(p - sc->buf), "the XML declaration holds something other than version, encoding and standalone");
}

/* "<?" at pos. */
static void pi(scan *sc) {
    size_t k = find_pat(sc, 2, "?>", 2);
    if (k == (size_t)-1) {
        truncated(sc);
        return;
    }
    const char *p = sc->buf + sc->pos + 2, *e = sc->buf + k;
    size_t nl = name_len(p, e);
    if (nl == 0) {
        fail_at(sc, sc->pos + 2, "expected a processing-instruction target after '<?'");
        return;
    }
    if (nl == 3 && (p[0] | 0x20) == 'x' && (p[1] | 0x20) == 'm' && (p[2] | 0x20) == 'l') {
        uint64_t at = sc->base + sc->pos;
        if ((at != 0 && at != 3) || memcmp(p, "xml", 3) != 0) { /* 3: after a byte-order mark */
            fail_at(sc, sc->pos, "an XML declaration '<?xml ...?>' is allowed only at the very start of the file");
            return;
        }
        xml_decl(sc, p + 3, e);
        if (ok(sc)) sc->pos = k + 2;
        return;
    }
    if (p + nl < e && !IS(p[nl], C_SPACE)) {
        fail_at(sc, (size_t)(p + nl - sc->buf), "expected white space after the processing-instruction target");
        return;
    }
    if (check_chars(sc, p, e) != 0) return;
    sc->pos = k + 2;
}

/* "<!DOCTYPE" at pos. Only the external-ID form reaches here (the prolog check sends internal
 * subsets to libxml2). */
static void doctype(scan *sc) {
    if (sc->seen_root || sc->seen_doctype) {
        fail_at(sc, sc->pos, "a DOCTYPE is allowed only once, before the root element");
        return;
    }
    size_t end = tag_end(sc);
    if (end == (size_t)-1) {
        truncated(sc);
        return;
    }
    const char *p = sc->buf + sc->pos + 9, *e = sc->buf + end;
    if (check_chars(sc, p, e) != 0) return;
    skip_space(&p, e); /* libxml2 does not insist on this space either */
    size_t nl = name_len(p, e);
    if (nl == 0) {
        fail_at(sc, (size_t)(p - sc->buf), "expected the root element's name after '<!DOCTYPE'");
        return;
    }
    p += nl;
    size_t space = skip_space(&p, e);
    int literals = 0;
    if (space && e - p >= 6 && memcmp(p, "SYSTEM", 6) == 0) literals = 1;
    else if (space && e - p >= 6 && memcmp(p, "PUBLIC", 6) == 0) literals = 2;
    else if (p < e && *p == '[') {
        fail_at(sc, (size_t)(p - sc->buf), "an internal DTD subset far into the file is not supported");
        return;
    } else if (p < e) {
        fail_at(sc, (size_t)(p - sc->buf), "expected SYSTEM, PUBLIC or '>' in the DOCTYPE");
        return;
    }
    if (literals) p += 6;
    for (int k = 0; k < literals; k++) {
        space = skip_space(&p, e);
        const char *close = p < e && space && (*p == '"' || *p == '\'') ? memchr(p + 1, *p, (size_t)(e - p - 1)) : NULL;
        if (!close) {
            fail_at(sc, (size_t)(p - sc->buf), "expected white space and a quoted identifier in the DOCTYPE");
            return;
        }
        for (const char *q = p + 1; literals == 2 && k == 0 && q < close; q++)
            if (!strchr(" \r\n-'()+,./:=?;!*#@$_%", *q) && !((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z') && !(*q >= '0' && *q <= '9')) {
                fail_at(sc, (size_t)(q - sc->buf), "character '%c' is not allowed in a public identifier", *q);
                return;
            }
        p = close + 1;
    }
    skip_space(&p, e);
    if (p < e && *p == '[') {
        fail_at(sc, (size_t)(p - sc->buf), "an internal DTD subset far into the file is not supported");
        return;
    }
    if (p != e) {
        fail_at(sc, (size_t)(p - sc->buf), "expected '>' to end the DOCTYPE");
        return;
    }
    sc->has_ext_subset = literals > 0;
    sc->seen_doctype = 1;
    sc->pos = end + 1;
}

/* Does the prolog in the peeked bytes end (at the root's start tag) without an internal DTD
 * subset? Only then does this reader take the document. */
static int prolog_ok(const unsigned char *p, size_t n, int whole) {
    size_t i = n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF ? 3 : 0;
    for (;;) {
        while (i < n && IS(p[i], C_SPACE)) i++;
        if (i + 1 >= n) return whole; /* an empty or whitespace-only file: this reader reports it */
        if (p[i] != '<') return 1;    /* text before the root: this reader reports it */
        const char *stop = NULL;
        if (p[i + 1] == '?') stop = "?>";
        else if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) stop = "-->";
        else if (n - i >= 9 && memcmp(p + i, "<!DOCTYPE", 9) == 0) {
            char quote = 0;
            size_t k = i + 9;
            for (; k < n; k++) {
                if (quote) {
                    if (p[k] == quote) quote = 0;
                } else if (p[k] == '"' || p[k] == '\'') quote = (char)p[k];
                else if (p[k] == '[') return 0;
                else if (p[k] == '>') break;
            }
            if (k >= n) return whole;
            i = k + 1;
            continue;
        } else return 1; /* the root (or something this reader reports) */
        size_t sl = strlen(stop), k = i + 2;
        while (k + sl <= n && memcmp(p + k, stop, sl) != 0) k++;
        if (k + sl > n) return whole;
        i = k + sl;
    }
}

static void run(scan *sc) {
    if (have(sc, 3) || sc->len >= 3) {
        if ((unsigned char)sc->buf[0] == 0xEF && (unsigned char)sc->buf[1] == 0xBB && (unsigned char)sc->buf[2] == 0xBF) sc->pos = 3;
    }
    while (ok(sc) && !sc->nul_end) {
        if (sc->pos >= sc->len && !fill(sc)) break;
        if (sc->buf[sc->pos] != '<') {
            text(sc);
            continue;
        }
        if (!have(sc, 2)) {
            truncated(sc);
            break;
        }
        char c = sc->buf[sc->pos + 1];
        if (c == '/') {
            size_t end = tag_end(sc);
            if (end == (size_t)-1) truncated(sc);
            else end_tag(sc, end);
        } else if (c == '?') {
            pi(sc);
        } else if (c == '!') {
            have(sc, 9);
            size_t avail = sc->len - sc->pos;
            const char *p = sc->buf + sc->pos;
            if (avail >= 4 && memcmp(p, "<!--", 4) == 0) comment(sc);
            else if (avail >= 9 && memcmp(p, "<![CDATA[", 9) == 0) cdata(sc);
            else if (avail >= 9 && memcmp(p, "<!DOCTYPE", 9) == 0) doctype(sc);
            else if (ok(sc)) fail_at(sc, sc->pos, "'<!' must start a comment '<!--', a CDATA section '<![CDATA[' or '<!DOCTYPE'");
        } else {
            size_t end = tag_end(sc);
            if (end == (size_t)-1) truncated(sc);
            else start_tag(sc, end);
        }
    }
    if (!ok(sc)) return;
    if (sc->depth > 0) truncated(sc);
    else if (!sc->seen_root) fail_at(sc, sc->len, "no root element (the file holds no XML document)");
}

int lpx_scan(lpx_state *s) {
    const unsigned char *peek;
    size_t npeek;
    if (lp_source_peek(s->src, PEEK_PROLOG, &peek, &npeek) != SL_OK) return -1;
    pthread_once(&cls_once, init_classes);
    if (!prolog_ok(peek, npeek, npeek < PEEK_PROLOG)) return -1;
    scan *sc = calloc(1, sizeof *sc);
    if (!sc) return -1;
    sc->b = s;
    sc->buf = calloc(1, BUF_INIT + SLACK);
    iname *xml = sc->buf ? intern(&sc->names, "http://www.w3.org/XML/1998/namespace", 36) : NULL;
    if (!xml) {
        free(sc->buf);
        names_free(&sc->names);
        free(sc);
        return -1;
    }
    sc->cap = BUF_INIT;
    sc->line = 1;
    sc->xml_uri = xml->str;
    s->driver = sc;
    s->where = where; /* no stop(): the reader checks the status after every builder call */
    run(sc);
    lpx_unborrow(s);
    s->driver = NULL;
    s->where = NULL;
    /* the tree's names live in sc->names: the builder has handed every record over by now */
    free(sc->buf);
    free(sc->ns);
    free(sc->attrs);
    free(sc->out_attrs);
    lp_buf_free(&sc->vals);
    names_free(&sc->names);
    free(sc);
    return 0;
}
