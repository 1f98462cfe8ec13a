/* bibtex.c — BibTeX/BibLaTeX parser: entries, @string macros, crossref, name lists, diagnostics.
 *
 * The parser is a hand-written scanner over the whole text with no recursion: brace nesting is
 * counted, not descended into. Raw field values (macros expanded, concatenated) are collected
 * first; crossref inheritance is resolved over all entries; then each value is converted to
 * Unicode text by latex.c and the author/editor lists are parsed. A broken entry becomes a
 * diagnostic and scanning resumes at the next line that starts with '@'. */
#include "bibtex.h"
#include "latex.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_DEPTH 64
#define DEFAULT_MAX_VALUE ((size_t)4 << 20)
#define DEFAULT_MAX_ENTRIES ((size_t)10000000)
#define DEFAULT_MAX_NAMES ((size_t)100000)
#define DEFAULT_MAX_DIAGS ((size_t)10000)
#define MAX_CROSSREF_CHAIN 8
#define MAX_XDATA_KEYS 64      /* keys in one xdata list */
#define MAX_NAME_TOKEN 4096    /* a field or macro name longer than this is an error */

/* ---- small helpers ---------------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static int sbuf_put(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *lowerdup(const char *s, size_t n)
{
    char *d = dupn(s, n);
    if (d)
        for (size_t k = 0; k < n; k++)
            if (d[k] >= 'A' && d[k] <= 'Z') d[k] = (char)(d[k] + 32);
    return d;
}

static int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static int is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* Characters allowed in field, macro and entry-type names (BibTeX forbids only these). */
static int is_name_char(unsigned char c)
{
    return c > ' ' && c != 0x7F && !strchr("\"#%'(),={}", c);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;        /* FNV-1a */
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211ull; }
    return h;
}

/* A string → index map (open addressing, grows at 50 % load). Keys are borrowed. */
typedef struct smap {
    const char **keys;
    size_t *vals;
    size_t cap, n;
} smap;

static int smap_grow(smap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    const char **keys = calloc(cap, sizeof *keys);
    size_t *vals = malloc(cap * sizeof *vals);
    if (!keys || !vals) { free(keys); free(vals); return -1; }
    for (size_t k = 0; k < m->cap; k++) {
        if (!m->keys[k]) continue;
        size_t h = (size_t)hash_str(m->keys[k]) & (cap - 1);
        while (keys[h]) h = (h + 1) & (cap - 1);
        keys[h] = m->keys[k];
        vals[h] = m->vals[k];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

/* Index of `key`, or SIZE_MAX. */
static size_t smap_get(const smap *m, const char *key)
{
    if (!m->cap) return SIZE_MAX;
    size_t h = (size_t)hash_str(key) & (m->cap - 1);
    while (m->keys[h]) {
        if (strcmp(m->keys[h], key) == 0) return m->vals[h];
        h = (h + 1) & (m->cap - 1);
    }
    return SIZE_MAX;
}

/* Insert or replace; returns -1 on allocation failure. */
static int smap_set(smap *m, const char *key, size_t val)
{
    if ((m->n + 1) * 2 > m->cap && smap_grow(m) != 0) return -1;
    size_t h = (size_t)hash_str(key) & (m->cap - 1);
    while (m->keys[h]) {
        if (strcmp(m->keys[h], key) == 0) { m->vals[h] = val; return 0; }
        h = (h + 1) & (m->cap - 1);
    }
    m->keys[h] = key;
    m->vals[h] = val;
    m->n++;
    return 0;
}

static void smap_free(smap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- parser state -------------------------------------------------------------------------------- */

typedef struct rfield {        /* a field while parsing: raw value only */
    char *name;
    char *raw;
    int line;
    int inherited;
} rfield;

typedef struct rentry {
    char *type;
    char *key;
    int line;
    rfield *f;
    size_t nf, capf;
} rentry;

typedef struct macro {
    char *name;                /* lower-case */
    char *value;               /* raw */
    size_t len;
} macro;

typedef struct parser {
    const char *t;             /* text (UTF-8, possibly repaired) */
    size_t n, i;
    const char *file;
    lp_bib_limits lim;
    lp_bib *out;
    int oom;
    /* line cursor for diagnostics: line number of byte `lc_pos` and where that line starts */
    size_t lc_pos, lc_line, lc_start;
    /* entries being built */
    rentry *e;
    size_t ne, cape;
    size_t capd;               /* capacity of out->diags */
    /* macros */
    macro *m;
    size_t nm, capm;
    smap mmap;
    size_t expanded;           /* bytes of macro text expanded so far */
    sbuf preamble;
    int has_preamble;
    int stop;                  /* max_entries reached */
} parser;

static void line_col(parser *p, size_t pos, int *line, int *col)
{
    if (pos > p->n) pos = p->n;
    while (p->lc_pos < pos) {                 /* move forward */
        if (p->t[p->lc_pos] == '\n' ||
            (p->t[p->lc_pos] == '\r' && (p->lc_pos + 1 >= p->n || p->t[p->lc_pos + 1] != '\n'))) {
            p->lc_line++;
            p->lc_start = p->lc_pos + 1;
        }
        p->lc_pos++;
    }
    while (p->lc_pos > pos) {                 /* move back (diagnostics near the cursor) */
        p->lc_pos--;
        if (p->t[p->lc_pos] == '\n' ||
            (p->t[p->lc_pos] == '\r' && (p->lc_pos + 1 >= p->n || p->t[p->lc_pos + 1] != '\n'))) {
            p->lc_line--;
            size_t s = p->lc_pos;
            while (s > 0 && p->t[s - 1] != '\n' && p->t[s - 1] != '\r') s--;
            p->lc_start = s;
        }
    }
    if (p->lc_start > p->lc_pos) {            /* after moving back onto a line start */
        size_t s = p->lc_pos;
        while (s > 0 && p->t[s - 1] != '\n' && p->t[s - 1] != '\r') s--;
        p->lc_start = s;
    }
    *line = (int)(p->lc_line > INT32_MAX ? INT32_MAX : p->lc_line);
    size_t c = pos - p->lc_start + 1;
    *col = (int)(c > INT32_MAX ? INT32_MAX : c);
}

static int line_of(parser *p, size_t pos)
{
    int l, c;
    line_col(p, pos, &l, &c);
    return l;
}

/* Record a diagnostic at a known line/column. */
static void vdiag_at(parser *p, int line, int col, int is_error, const char *fmt, va_list ap)
{
    lp_bib *b = p->out;
    if (p->oom) return;
    if (b->ndiags >= p->lim.max_diags) { b->ndiags_dropped++; return; }
    char reason[512];
    vsnprintf(reason, sizeof reason, fmt, ap);
    int len = snprintf(NULL, 0, "%s:%d:%d: %s", p->file, line, col, reason);
    char *msg = malloc((size_t)len + 1);
    if (!msg) { p->oom = 1; return; }
    snprintf(msg, (size_t)len + 1, "%s:%d:%d: %s", p->file, line, col, reason);
    if (b->ndiags == p->capd) {
        size_t cap = p->capd ? p->capd * 2 : 16;
        lp_bib_diag *d = realloc(b->diags, cap * sizeof *d);
        if (!d) { free(msg); p->oom = 1; return; }
        b->diags = d;
        p->capd = cap;
    }
    lp_bib_diag *d = &b->diags[b->ndiags++];
    d->line = line;
    d->col = col;
    d->is_error = is_error;
    d->message = msg;
}

/* Record a diagnostic at byte `pos` (near the scanning position: the line cursor moves there). */
static void diag(parser *p, size_t pos, int is_error, const char *fmt, ...)
{
    int line, col;
    if (p->oom) return;
    if (p->out->ndiags >= p->lim.max_diags) { p->out->ndiags_dropped++; return; }
    line_col(p, pos, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    vdiag_at(p, line, col, is_error, fmt, ap);
    va_end(ap);
}

/* Record a diagnostic on a line already known (column 1). */
static void diag_line(parser *p, int line, int is_error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag_at(p, line, 1, is_error, fmt, ap);
    va_end(ap);
}

/* Printable rendering of the character at pos for messages ("'x'", "end of file"). */
static const char *what_at(parser *p, size_t pos, char tmp[16])
{
    if (pos >= p->n) return "end of file";
    unsigned char c = (unsigned char)p->t[pos];
    if (c == '\n' || c == '\r') return "end of line";
    if (c < 0x20 || c >= 0x80) { snprintf(tmp, 16, "byte 0x%02X", c); return tmp; }
    snprintf(tmp, 16, "'%c'", c);
    return tmp;
}

/* Short, printable copy of a name for messages. */
static const char *clip(const char *s, char tmp[64])
{
    size_t k = 0;
    for (; s[k] && k < 60; k++) tmp[k] = (unsigned char)s[k] < 0x20 ? '?' : s[k];
    tmp[k] = '\0';
    if (s[k]) { tmp[57] = tmp[58] = tmp[59] = '.'; }
    return tmp;
}

/* Skip white space and '%' comment lines (BibTeX ignores neither, but every reference manager
 * writes and reads them between fields). */
static void skip_ws(parser *p)
{
    while (p->i < p->n) {
        unsigned char c = (unsigned char)p->t[p->i];
        if (is_ws(c)) { p->i++; continue; }
        if (c == '%') {
            while (p->i < p->n && p->t[p->i] != '\n' && p->t[p->i] != '\r') p->i++;
            continue;
        }
        break;
    }
}

/* Does an entry start at pos ('@', optional blanks, a type name, optional blanks, '{' or '(')? */
static int entry_start_at(const parser *p, size_t pos)
{
    size_t j = pos;
    if (j >= p->n || p->t[j] != '@') return 0;
    j++;
    while (j < p->n && (p->t[j] == ' ' || p->t[j] == '\t')) j++;
    size_t s = j;
    while (j < p->n && (is_alpha((unsigned char)p->t[j]) || p->t[j] == '_' || p->t[j] == '-')) j++;
    if (j == s) return 0;
    while (j < p->n && (p->t[j] == ' ' || p->t[j] == '\t')) j++;
    return j < p->n && (p->t[j] == '{' || p->t[j] == '(');
}

/* After an error: the next '@' that begins a line (after blanks), from pos on. */
static size_t recover_from(const parser *p, size_t pos)
{
    size_t k = pos;
    while (k < p->n) {
        const char *nl = memchr(p->t + k, '\n', p->n - k);
        const char *cr = memchr(p->t + k, '\r', (nl ? (size_t)(nl - p->t) : p->n) - k);
        if (cr) nl = cr;
        if (!nl) return p->n;
        k = (size_t)(nl - p->t) + 1;
        size_t j = k;
        while (j < p->n && (p->t[j] == ' ' || p->t[j] == '\t')) j++;
        if (j < p->n && p->t[j] == '@') return j;
    }
    return p->n;
}

/* ---- values ------------------------------------------------------------------------------------- */

static const char *const MONTHS[12][2] = {
    {"jan", "January"}, {"feb", "February"}, {"mar", "March"}, {"apr", "April"},
    {"may", "May"}, {"jun", "June"}, {"jul", "July"}, {"aug", "August"},
    {"sep", "September"}, {"oct", "October"}, {"nov", "November"}, {"dec", "December"},
};

/* Scan a delimited value part starting at p->i ('{' or '"'); append its content to `raw`.
 * Returns 0, or -1 after reporting an error (p->i then says where to resume). */
static int scan_delimited(parser *p, sbuf *raw, const char *field, size_t close_pos_hint)
{
    (void)close_pos_hint;
    size_t start = p->i;
    char open = p->t[p->i];
    size_t depth = open == '{' ? 1 : 0;
    size_t j = p->i + 1, seg = j;
    char tmp[64];
    for (;;) {
        if (j >= p->n) {
            diag(p, start, 1, "unterminated %s value of field '%s' (it runs to the end of the file)",
                 open == '{' ? "braced" : "quoted", clip(field, tmp));
            p->i = p->n;
            return -1;
        }
        char c = p->t[j];
        if (c == '{') {
            if (++depth > p->lim.max_depth) {
                diag(p, j, 1, "braces in field '%s' nested deeper than %zu", clip(field, tmp),
                     p->lim.max_depth);
                p->i = recover_from(p, j);
                return -1;
            }
        } else if (c == '}') {
            if (depth == 0) {               /* only possible inside quotes */
                diag(p, j, 1, "unbalanced '}' in quoted value of field '%s'", clip(field, tmp));
                p->i = recover_from(p, j);
                return -1;
            }
            if (--depth == 0 && open == '{') break;
        } else if (c == '"' && open == '"' && depth == 0) {
            break;
        } else if ((c == '\n' || c == '\r') && depth <= 1 + (open == '"')) {
            /* a line that starts a new entry inside an open value: the value was never closed */
            size_t k = j + 1;
            if (c == '\r' && k < p->n && p->t[k] == '\n') k++;
            while (k < p->n && (p->t[k] == ' ' || p->t[k] == '\t')) k++;   /* not past the next line */
            if (k < p->n && p->t[k] == '@' && entry_start_at(p, k)) {
                diag(p, start, 1, "unterminated value of field '%s': a new entry starts at line %d "
                     "before its closing %s", clip(field, tmp), line_of(p, k), open == '{' ? "'}'" : "'\"'");
                p->i = k;
                return -1;
            }
        }
        j++;
        if (j - seg > p->lim.max_value_bytes || raw->n + (j - seg) > p->lim.max_value_bytes) {
            diag(p, start, 1, "value of field '%s' is longer than %zu bytes", clip(field, tmp),
                 p->lim.max_value_bytes);
            p->i = recover_from(p, j);
            return -1;
        }
    }
    if (sbuf_put(raw, p->t + seg, j - seg) != 0) { p->oom = 1; return -1; }
    p->i = j + 1;
    return 0;
}

/* Look a macro up (lower-case name); NULL when undefined. */
static const macro *macro_get(parser *p, const char *lname)
{
    size_t k = smap_get(&p->mmap, lname);
    return k == SIZE_MAX ? NULL : &p->m[k];
}

/* Parse `part # part # ...` at p->i into `raw`. Returns 0 or -1 (error reported). */
static int scan_value(parser *p, sbuf *raw, const char *field, char close)
{
    char tmp[64], ch[16];
    for (;;) {
        skip_ws(p);
        if (p->i >= p->n) {
            diag(p, p->i, 1, "expected a value for field '%s', found end of file", clip(field, tmp));
            return -1;
        }
        char c = p->t[p->i];
        if (c == '{' || c == '"') {
            if (scan_delimited(p, raw, field, 0) != 0) return -1;
        } else if (c >= '0' && c <= '9') {
            size_t s = p->i;
            while (p->i < p->n && p->t[p->i] >= '0' && p->t[p->i] <= '9') p->i++;
            if (sbuf_put(raw, p->t + s, p->i - s) != 0) { p->oom = 1; return -1; }
        } else if (is_name_char((unsigned char)c) && c != close) {
            size_t s = p->i;
            while (p->i < p->n && is_name_char((unsigned char)p->t[p->i]) && p->t[p->i] != close &&
                   p->i - s < MAX_NAME_TOKEN)
                p->i++;
            char *lname = lowerdup(p->t + s, p->i - s);
            if (!lname) { p->oom = 1; return -1; }
            const macro *m = macro_get(p, lname);
            const char *val = NULL;
            size_t vlen = 0;
            if (m) { val = m->value; vlen = m->len; }
            else {
                for (int k = 0; k < 12; k++)
                    if (strcmp(lname, MONTHS[k][0]) == 0) { val = MONTHS[k][1]; vlen = strlen(val); }
            }
            if (!val) {
                diag(p, s, 0, "undefined macro '%s' in field '%s' (kept as text)", clip(lname, tmp), field);
                val = p->t + s;
                vlen = p->i - s;
            }
            free(lname);
            if (raw->n + vlen > p->lim.max_value_bytes || p->expanded + vlen > p->lim.max_expand_bytes) {
                diag(p, s, 1, "expanding macros in field '%s' exceeds the size limit (%zu bytes per "
                     "value, %zu in all)", clip(field, tmp), p->lim.max_value_bytes, p->lim.max_expand_bytes);
                p->i = recover_from(p, p->i);
                return -1;
            }
            p->expanded += vlen;
            if (sbuf_put(raw, val, vlen) != 0) { p->oom = 1; return -1; }
        } else {
            diag(p, p->i, 1, "expected a value for field '%s', found %s", clip(field, tmp), what_at(p, p->i, ch));
            p->i = recover_from(p, p->i);
            return -1;
        }
        skip_ws(p);
        if (p->i < p->n && p->t[p->i] == '#') { p->i++; continue; }
        return 0;
    }
}

/* ---- entries --------------------------------------------------------------------------------------- */

static void rentry_free(rentry *e)
{
    if (!e) return;
    for (size_t k = 0; k < e->nf; k++) { free(e->f[k].name); free(e->f[k].raw); }
    free(e->f);
    free(e->type);
    free(e->key);
    memset(e, 0, sizeof *e);
}

static int rentry_add(rentry *e, char *name, char *raw, int line, int inherited)
{
    if (e->nf == e->capf) {
        size_t cap = e->capf ? e->capf * 2 : 8;
        rfield *f = realloc(e->f, cap * sizeof *f);
        if (!f) return -1;
        e->f = f;
        e->capf = cap;
    }
    e->f[e->nf].name = name;
    e->f[e->nf].raw = raw;
    e->f[e->nf].line = line;
    e->f[e->nf].inherited = inherited;
    e->nf++;
    return 0;
}

static const rfield *rentry_find(const rentry *e, const char *name)
{
    for (size_t k = 0; k < e->nf; k++)
        if (strcmp(e->f[k].name, name) == 0) return &e->f[k];
    return NULL;
}

/* Remove later duplicates of a field name (BibTeX keeps the first), warning about each. */
typedef struct fidx { const char *name; size_t idx; } fidx;

static int cmp_fidx(const void *a, const void *b)
{
    const fidx *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void drop_duplicates(parser *p, rentry *e)
{
    if (e->nf < 2) return;
    fidx *ix = malloc(e->nf * sizeof *ix);
    char *dead = calloc(e->nf, 1);
    if (!ix || !dead) { free(ix); free(dead); p->oom = 1; return; }
    for (size_t k = 0; k < e->nf; k++) { ix[k].name = e->f[k].name; ix[k].idx = k; }
    qsort(ix, e->nf, sizeof *ix, cmp_fidx);
    int any = 0;
    char tmp[64], tmp2[64];
    for (size_t k = 1; k < e->nf; k++) {
        if (strcmp(ix[k].name, ix[k - 1].name) == 0) {
            dead[ix[k].idx] = 1;
            any = 1;
            diag_line(p, e->f[ix[k].idx].line, 0, "entry '%s': duplicate field '%s' ignored (the first, "
                      "at line %d, is kept)", clip(e->key, tmp), clip(ix[k].name, tmp2),
                      e->f[ix[k - 1].idx].line);
            ix[k].idx = ix[k - 1].idx;   /* compare later ones with the kept one */
        }
    }
    if (any) {
        size_t w = 0;
        for (size_t k = 0; k < e->nf; k++) {
            if (dead[k]) { free(e->f[k].name); free(e->f[k].raw); continue; }
            e->f[w++] = e->f[k];
        }
        e->nf = w;
    }
    free(ix);
    free(dead);
}

static int push_entry(parser *p, rentry *e)
{
    if (p->ne == p->cape) {
        size_t cap = p->cape ? p->cape * 2 : 64;
        rentry *v = realloc(p->e, cap * sizeof *v);
        if (!v) return -1;
        p->e = v;
        p->cape = cap;
    }
    p->e[p->ne++] = *e;
    memset(e, 0, sizeof *e);
    return 0;
}

static int define_macro(parser *p, char *lname, char *value, size_t len)
{
    size_t k = smap_get(&p->mmap, lname);
    if (k != SIZE_MAX) {                      /* redefinition: the new value wins, as in BibTeX */
        free(p->m[k].value);
        p->m[k].value = value;
        p->m[k].len = len;
        free(lname);
        return 0;
    }
    if (p->nm == p->capm) {
        size_t cap = p->capm ? p->capm * 2 : 32;
        macro *m = realloc(p->m, cap * sizeof *m);
        if (!m) return -1;
        /* the map borrows names, which do not move; only the array does */
        p->m = m;
        p->capm = cap;
    }
    p->m[p->nm].name = lname;
    p->m[p->nm].value = value;
    p->m[p->nm].len = len;
    if (smap_set(&p->mmap, lname, p->nm) != 0) return -1;
    p->nm++;
    return 0;
}

/* Read a name token (field or macro name) at p->i; returns its length (0 if none). */
static size_t scan_name(parser *p, char close)
{
    size_t s = p->i;
    while (p->i < p->n && is_name_char((unsigned char)p->t[p->i]) && p->t[p->i] != close &&
           p->i - s < MAX_NAME_TOKEN)
        p->i++;
    return p->i - s;
}

/* @string{name = value} */
static void parse_string(parser *p, char close)
{
    char tmp[64], ch[16];
    skip_ws(p);
    if (p->i < p->n && p->t[p->i] == close) { p->i++; return; }     /* @string{} */
    size_t s = p->i;
    size_t len = scan_name(p, close);
    if (len == 0) {
        diag(p, p->i, 1, "@string: expected a macro name, found %s", what_at(p, p->i, ch));
        p->i = recover_from(p, p->i);
        return;
    }
    char *lname = lowerdup(p->t + s, len);
    if (!lname) { p->oom = 1; return; }
    skip_ws(p);
    if (p->i >= p->n || p->t[p->i] != '=') {
        diag(p, p->i, 1, "@string '%s': expected '=', found %s", clip(lname, tmp), what_at(p, p->i, ch));
        free(lname);
        p->i = recover_from(p, p->i);
        return;
    }
    p->i++;
    sbuf raw = {0};
    if (scan_value(p, &raw, lname, close) != 0) { free(lname); free(raw.p); return; }
    skip_ws(p);
    if (p->i < p->n && p->t[p->i] == ',') { p->i++; skip_ws(p); }
    if (p->i >= p->n || p->t[p->i] != close) {
        diag(p, p->i, 1, "@string '%s': expected '%c', found %s", clip(lname, tmp), close, what_at(p, p->i, ch));
        free(lname);
        free(raw.p);
        p->i = recover_from(p, p->i);
        return;
    }
    p->i++;
    if (!raw.p && sbuf_put(&raw, "", 0) != 0) { free(lname); p->oom = 1; return; }
    if (define_macro(p, lname, raw.p, raw.n) != 0) { free(lname); free(raw.p); p->oom = 1; }
}

/* @preamble{ value } */
static void parse_preamble(parser *p, char close)
{
    char ch[16];
    sbuf raw = {0};
    skip_ws(p);
    if (p->i < p->n && p->t[p->i] == close) { p->i++; return; }
    if (scan_value(p, &raw, "@preamble", close) != 0) { free(raw.p); return; }
    skip_ws(p);
    if (p->i >= p->n || p->t[p->i] != close) {
        diag(p, p->i, 1, "@preamble: expected '%c', found %s", close, what_at(p, p->i, ch));
        free(raw.p);
        p->i = recover_from(p, p->i);
        return;
    }
    p->i++;
    if ((p->has_preamble && sbuf_put(&p->preamble, "\n", 1) != 0) ||
        sbuf_put(&p->preamble, raw.p ? raw.p : "", raw.n) != 0)
        p->oom = 1;
    p->has_preamble = 1;
    free(raw.p);
}

/* @comment{...}: skip a balanced group (or, without a delimiter, the rest of the line). */
static void skip_comment(parser *p)
{
    if (p->i >= p->n || (p->t[p->i] != '{' && p->t[p->i] != '(')) {
        while (p->i < p->n && p->t[p->i] != '\n' && p->t[p->i] != '\r') p->i++;
        return;
    }
    char open = p->t[p->i], close = open == '{' ? '}' : ')';
    size_t depth = 0, start = p->i;
    for (; p->i < p->n; p->i++) {
        char c = p->t[p->i];
        if (c == open) depth++;
        else if (c == close && --depth == 0) { p->i++; return; }
    }
    diag(p, start, 0, "@comment is never closed (it runs to the end of the file)");
}

/* A regular entry; p->i is just after the opening delimiter. */
static void parse_entry(parser *p, char *type, size_t at, char close)
{
    char tmp[64], tmp2[64], ch[16];
    rentry e = {0};
    e.type = type;
    e.line = line_of(p, at);
    skip_ws(p);
    /* citation key */
    size_t ks = p->i;
    while (p->i < p->n && !is_ws((unsigned char)p->t[p->i]) && p->t[p->i] != ',' &&
           p->t[p->i] != close && p->t[p->i] != '=' && p->t[p->i] != '{' && p->t[p->i] != '}' &&
           p->i - ks < MAX_NAME_TOKEN)
        p->i++;
    size_t kend = p->i;
    skip_ws(p);
    if (p->i < p->n && p->t[p->i] == '=') {           /* no key: the token was a field name */
        p->i = ks;
        e.key = dupn("", 0);
        diag(p, at, 0, "@%s entry has no citation key", type);
    } else {
        e.key = dupn(p->t + ks, kend - ks);
        if (kend == ks) diag(p, at, 0, "@%s entry has no citation key", type);
        if (p->i < p->n && p->t[p->i] == ',') p->i++;
        else if (p->i < p->n && p->t[p->i] == close) { p->i++; goto done; }
        else {
            diag(p, p->i, 1, "entry '%s': expected ',' after the citation key, found %s",
                 clip(e.key ? e.key : "", tmp), what_at(p, p->i, ch));
            p->i = recover_from(p, p->i);
            rentry_free(&e);
            return;
        }
    }
    if (!e.key) { p->oom = 1; rentry_free(&e); return; }
    /* fields */
    for (;;) {
        skip_ws(p);
        if (p->i >= p->n) {
            diag(p, at, 1, "entry '%s' is never closed (expected '%c' before the end of the file)",
                 clip(e.key, tmp), close);
            rentry_free(&e);
            return;
        }
        char c = p->t[p->i];
        if (c == close) { p->i++; break; }
        if (c == ',') { p->i++; continue; }
        if (c == '@' && entry_start_at(p, p->i)) {
            diag(p, p->i, 1, "entry '%s' is not closed before the next entry starts", clip(e.key, tmp));
            rentry_free(&e);
            return;                                   /* resume at this '@' */
        }
        size_t ns = p->i;
        size_t nlen = scan_name(p, close);
        if (nlen == 0) {
            diag(p, p->i, 1, "entry '%s': expected a field name or '%c', found %s", clip(e.key, tmp),
                 close, what_at(p, p->i, ch));
            p->i = recover_from(p, p->i);
            rentry_free(&e);
            return;
        }
        char *fname = lowerdup(p->t + ns, nlen);
        if (!fname) { p->oom = 1; rentry_free(&e); return; }
        int fline = line_of(p, ns);
        skip_ws(p);
        if (p->i >= p->n || p->t[p->i] != '=') {
            diag(p, p->i, 1, "entry '%s': expected '=' after field name '%s', found %s", clip(e.key, tmp),
                 clip(fname, tmp2), what_at(p, p->i, ch));
            free(fname);
            p->i = recover_from(p, p->i);
            rentry_free(&e);
            return;
        }
        p->i++;
        sbuf raw = {0};
        if (scan_value(p, &raw, fname, close) != 0) {
            free(fname);
            free(raw.p);
            rentry_free(&e);
            return;
        }
        if (!raw.p && sbuf_put(&raw, "", 0) != 0) { free(fname); p->oom = 1; rentry_free(&e); return; }
        if (rentry_add(&e, fname, raw.p, fline, 0) != 0) {
            free(fname); free(raw.p); p->oom = 1; rentry_free(&e); return;
        }
        skip_ws(p);
        if (p->i < p->n && (p->t[p->i] == ',' || p->t[p->i] == close)) continue;
        /* a missing comma before the next "name =" is unambiguous: warn and go on */
        size_t save = p->i;
        size_t l2 = scan_name(p, close);
        skip_ws(p);
        int next_field = l2 > 0 && p->i < p->n && p->t[p->i] == '=';
        p->i = save;
        if (next_field) {
            diag(p, save, 0, "entry '%s': missing ',' after field '%s'", clip(e.key, tmp), clip(fname, tmp2));
            continue;
        }
        if (p->i >= p->n)
            diag(p, at, 1, "entry '%s' is never closed (expected '%c' before the end of the file)",
                 clip(e.key, tmp), close);
        else
            diag(p, p->i, 1, "entry '%s': expected ',' or '%c' after field '%s', found %s", clip(e.key, tmp),
                 close, clip(fname, tmp2), what_at(p, p->i, ch));
        p->i = recover_from(p, p->i);
        rentry_free(&e);
        return;
    }
done:
    if (!e.key) { p->oom = 1; rentry_free(&e); return; }
    if (e.nf == 0) diag(p, at, 0, "entry '%s' has no fields", clip(e.key, tmp));
    drop_duplicates(p, &e);
    if (p->ne >= p->lim.max_entries) {
        diag(p, at, 1, "more than %zu entries; the rest of the file is ignored", p->lim.max_entries);
        rentry_free(&e);
        p->stop = 1;
        return;
    }
    if (push_entry(p, &e) != 0) { p->oom = 1; rentry_free(&e); }
}

static void parse_all(parser *p)
{
    char ch[16];
    while (p->i < p->n && !p->oom && !p->stop) {
        /* outside entries only '@' matters; a '%' comments out the rest of its line (so a
         * commented-out "%@article{...}" is not an entry) */
        size_t apos = p->i;
        while (apos < p->n && p->t[apos] != '@') {
            if (p->t[apos] == '%') {
                while (apos < p->n && p->t[apos] != '\n' && p->t[apos] != '\r') apos++;
                continue;
            }
            apos++;
        }
        if (apos >= p->n) break;
        p->i = apos + 1;
        while (p->i < p->n && (p->t[p->i] == ' ' || p->t[p->i] == '\t')) p->i++;
        size_t ts = p->i;
        while (p->i < p->n && (is_alpha((unsigned char)p->t[p->i]) || p->t[p->i] == '_' ||
                               p->t[p->i] == '-' || (p->i > ts && p->t[p->i] >= '0' && p->t[p->i] <= '9')))
            p->i++;
        if (p->i == ts) continue;                     /* an '@' in free text */
        char *type = lowerdup(p->t + ts, p->i - ts);
        if (!type) { p->oom = 1; break; }
        skip_ws(p);
        if (strcmp(type, "comment") == 0) { free(type); skip_comment(p); continue; }
        if (p->i >= p->n || (p->t[p->i] != '{' && p->t[p->i] != '(')) {
            /* "@word" without a delimiter: free text, unless a line starts with it */
            size_t ls = apos;
            while (ls > 0 && (p->t[ls - 1] == ' ' || p->t[ls - 1] == '\t')) ls--;
            if (ls == 0 || p->t[ls - 1] == '\n' || p->t[ls - 1] == '\r')
                diag(p, p->i, 1, "@%s: expected '{' or '(', found %s", type, what_at(p, p->i, ch));
            free(type);
            continue;
        }
        char close = p->t[p->i] == '{' ? '}' : ')';
        p->i++;
        if (strcmp(type, "string") == 0) { free(type); parse_string(p, close); }
        else if (strcmp(type, "preamble") == 0) { free(type); parse_preamble(p, close); }
        else parse_entry(p, type, apos, close);
    }
}

/* ---- crossref ------------------------------------------------------------------------------------ */

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return 1;
    return 0;
}

/* BibLaTeX's default inheritance: the field name a child gets for parent field `f`, or NULL
 * when the field is never inherited. */
static const char *inherit_as(const char *ptype, const char *ctype, const char *f)
{
    static const char *const NEVER[] = {"ids", "crossref", "xref", "xdata", "entryset", "entrysubtype",
        "execute", "label", "options", "presort", "related", "relatedoptions", "relatedstring",
        "relatedtype", "shorthand", "shorthandintro", "sortkey", "sorttitle", "indextitle",
        "indexsorttitle", "shorttitle", NULL};
    static const char *const MV[] = {"mvbook", "mvcollection", "mvproceedings", "mvreference", NULL};
    static const char *const BOOKS[] = {"book", "collection", "proceedings", "reference", "mvbook",
        "mvcollection", "mvproceedings", "mvreference", NULL};
    static const char *const PARTS[] = {"inbook", "bookinbook", "suppbook", "incollection",
        "suppcollection", "inreference", "inproceedings", "conference", NULL};
    if (in_list(f, NEVER)) return NULL;
    int title = strcmp(f, "title") == 0, sub = strcmp(f, "subtitle") == 0,
        add = strcmp(f, "titleaddon") == 0;
    if (!title && !sub && !add) return f;
    if (in_list(ptype, MV) && !in_list(ctype, MV))
        return title ? "maintitle" : sub ? "mainsubtitle" : "maintitleaddon";
    if (in_list(ptype, BOOKS) && in_list(ctype, PARTS))
        return title ? "booktitle" : sub ? "booksubtitle" : "booktitleaddon";
    if (strcmp(ptype, "periodical") == 0)
        return title ? "journaltitle" : sub ? "journalsubtitle" : NULL;
    return NULL;                                  /* a title is the entry's own */
}

static int resolve_crossrefs(parser *p)
{
    smap keys = {0};
    char tmp[64], tmp2[64];
    char **lkeys = calloc(p->ne ? p->ne : 1, sizeof *lkeys);
    if (!lkeys) return -1;
    for (size_t k = 0; k < p->ne; k++) {
        lkeys[k] = lowerdup(p->e[k].key, strlen(p->e[k].key));
        if (!lkeys[k]) goto oom;
        if (!lkeys[k][0]) continue;
        size_t prev = smap_get(&keys, lkeys[k]);
        if (prev != SIZE_MAX) {
            diag_line(p, p->e[k].line, 0, "duplicate citation key '%s' (also at line %d); crossref "
                      "uses the first", clip(p->e[k].key, tmp), p->e[prev].line);
            continue;
        }
        if (smap_set(&keys, lkeys[k], k) != 0) goto oom;
    }
    /* Inherit from the original (pre-inheritance) fields of each ancestor, nearest first. */
    size_t *own = malloc((p->ne ? p->ne : 1) * sizeof *own);
    if (!own) goto oom;
    for (size_t k = 0; k < p->ne; k++) own[k] = p->e[k].nf;
    /* each entry's crossref parent, found once (chains then cost O(1) per step) */
    size_t *up_idx = malloc((p->ne ? p->ne : 1) * sizeof *up_idx);
    if (!up_idx) { free(own); goto oom; }
    for (size_t k = 0; k < p->ne; k++) {
        const rfield *up = rentry_find(&p->e[k], "crossref");
        up_idx[k] = SIZE_MAX;
        if (!up) continue;
        char *ukey = lowerdup(up->raw, strlen(up->raw));
        if (!ukey) { free(up_idx); free(own); goto oom; }
        size_t a = 0, b = strlen(ukey);
        while (a < b && (ukey[a] == ' ' || ukey[a] == '{')) a++;
        while (b > a && (ukey[b - 1] == ' ' || ukey[b - 1] == '}')) b--;
        ukey[b] = '\0';
        up_idx[k] = smap_get(&keys, ukey + a);
        free(ukey);
    }
    for (size_t k = 0; k < p->ne; k++) {
        rentry *c = &p->e[k];
        if (!rentry_find(c, "crossref") && !rentry_find(c, "xdata")) continue;
        /* the child's field names, so that each inherited field is checked in O(1) */
        smap have = {0};
        for (size_t f = 0; f < c->nf; f++)
            if (smap_set(&have, c->f[f].name, f) != 0) { smap_free(&have); free(up_idx); free(own); goto oom; }
        int over_budget = 0;
        const char *const links[] = {"crossref", "xdata"};
        for (int li = 0; li < 2 && !over_budget; li++) {
            const rfield *lf = rentry_find(c, links[li]);
            if (!lf) continue;
            int line = lf->line;
            /* xdata may list several keys separated by commas */
            char *list = lowerdup(lf->raw, strlen(lf->raw));
            if (!list) { smap_free(&have); free(up_idx); free(own); goto oom; }
            int ntok = 0;
            for (char *tok = list; tok && *tok && !over_budget;) {
                char *comma = li == 1 ? strchr(tok, ',') : NULL;
                if (comma) *comma = '\0';
                if (++ntok > MAX_XDATA_KEYS) {
                    diag_line(p, line, 0, "entry '%s': more than %d %s keys; the rest are ignored",
                              clip(c->key, tmp), MAX_XDATA_KEYS, links[li]);
                    break;
                }
                while (*tok == ' ' || *tok == '{') tok++;
                size_t tl = strlen(tok);
                while (tl && (tok[tl - 1] == ' ' || tok[tl - 1] == '}')) tok[--tl] = '\0';
                size_t cur = smap_get(&keys, tok);
                if (tl && cur == SIZE_MAX)
                    diag_line(p, line, 0, "entry '%s': %s '%s' not found", clip(c->key, tmp),
                              links[li], clip(tok, tmp2));
                for (int depth = 0; cur != SIZE_MAX && cur != k && depth < MAX_CROSSREF_CHAIN; depth++) {
                    rentry *par = &p->e[cur];
                    for (size_t f = 0; f < own[cur]; f++) {
                        const char *as = li == 1 ? par->f[f].name
                                                 : inherit_as(par->type, c->type, par->f[f].name);
                        if (!as || (li == 1 && in_list(as, (const char *const[]){"ids", "xdata", "crossref", NULL})))
                            continue;
                        if (smap_get(&have, as) != SIZE_MAX) continue;
                        size_t rl = strlen(par->f[f].raw);
                        size_t cost = rl + 32;          /* a copied field costs memory even if empty */
                        if (p->expanded + cost > p->lim.max_expand_bytes) {
                            /* many children of one huge parent must not multiply memory */
                            diag_line(p, c->line, 1, "entry '%s': inheriting from '%s' exceeds the size "
                                      "limit (%zu bytes in all); inheritance stopped", clip(c->key, tmp),
                                      clip(par->key, tmp2), p->lim.max_expand_bytes);
                            over_budget = 1;
                            break;
                        }
                        p->expanded += cost;
                        char *nm = dupn(as, strlen(as)), *rw = dupn(par->f[f].raw, rl);
                        if (!nm || !rw || rentry_add(c, nm, rw, par->f[f].line, 1) != 0 ||
                            smap_set(&have, nm, c->nf - 1) != 0) {
                            if (c->nf && c->f[c->nf - 1].name == nm) c->nf--;
                            free(nm); free(rw); free(list); smap_free(&have); free(up_idx); free(own); goto oom;
                        }
                    }
                    if (over_budget || li == 1) break;
                    cur = up_idx[cur];
                }
                tok = comma ? comma + 1 : NULL;
            }
            free(list);
        }
        smap_free(&have);
    }
    free(up_idx);
    free(own);
    for (size_t k = 0; k < p->ne; k++) free(lkeys[k]);
    free(lkeys);
    smap_free(&keys);
    return 0;
oom:
    for (size_t k = 0; k < p->ne; k++) free(lkeys[k]);
    free(lkeys);
    smap_free(&keys);
    return -1;
}

/* ---- names ------------------------------------------------------------------------------------------ */

typedef struct word {
    const char *s;   /* into the raw list */
    size_t len;
    int comma;       /* this token is a comma, not a word */
} word;

/* BibTeX's case of a name word: 1 lower (a "von" word), 0 upper or caseless. */
static int word_is_lower(const char *s, size_t len)
{
    size_t depth = 0;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c == '{') {
            if (depth == 0 && k + 1 < len && s[k + 1] == '\\') {
                /* a special character {\'E}, {\v{s}}, {\o}: the first letter after the command
                 * decides; with none, the command's own name does ({\o} lower, {\O} upper) */
                size_t j = k + 2, name_start = j;
                while (j < len && is_alpha((unsigned char)s[j])) j++;
                int name_case = j > name_start ? (s[name_start] >= 'a' && s[name_start] <= 'z') : -1;
                if (j == name_start) j++;             /* control symbol like \' */
                size_t d = 1;
                for (; j < len && d > 0; j++) {
                    if (s[j] == '{') d++;
                    else if (s[j] == '}') d--;
                    else if (is_alpha((unsigned char)s[j]) && d >= 1) return s[j] >= 'a' && s[j] <= 'z';
                }
                return name_case == 1;
            }
            if (depth == 0) return 0;                 /* {Brace} group: caseless, not von */
            depth++;
            continue;
        }
        if (c == '}') { if (depth) depth--; continue; }
        if (c == '\\' && depth == 0) {                /* \'e at depth 0 */
            size_t j = k + 1;
            if (j < len && !is_alpha((unsigned char)s[j])) j++;
            else while (j < len && is_alpha((unsigned char)s[j])) j++;
            k = j - 1;
            continue;
        }
        if (depth == 0 && is_alpha(c)) return c >= 'a' && c <= 'z';
        if (depth == 0 && c >= 0x80) {
            /* a UTF-8 letter: ASCII-only case test is not enough; decode the common Latin ones */
            unsigned char c2 = k + 1 < len ? (unsigned char)s[k + 1] : 0;
            if (c == 0xC3 && c2) return c2 >= 0x9F;                 /* U+00DF..U+00FF lower */
            if ((c == 0xC4 || c == 0xC5) && c2) return (c2 & 1);   /* Latin Extended-A: odd = lower */
            return 0;
        }
    }
    return 0;
}

/* Convert words [a, b) (joined by single spaces) to text; NULL when empty. */
static int join_words(const word *w, size_t a, size_t b, char **out)
{
    *out = NULL;
    if (a >= b) return 0;
    sbuf tex = {0};
    for (size_t k = a; k < b; k++) {
        if (w[k].comma) continue;
        if (tex.n && sbuf_put(&tex, " ", 1) != 0) { free(tex.p); return -1; }
        if (sbuf_put(&tex, w[k].s, w[k].len) != 0) { free(tex.p); return -1; }
    }
    if (!tex.p) return 0;
    char *txt = NULL;
    size_t tl = 0;
    sl_status st = lp_latex_to_utf8(tex.p, tex.n, LP_LATEX_TEXT, &txt, &tl);
    free(tex.p);
    if (st != SL_OK) return -1;
    if (tl == 0) { free(txt); return 0; }
    *out = txt;
    return 0;
}

static void name_free(lp_bib_name *nm)
{
    free(nm->given); free(nm->family); free(nm->von); free(nm->suffix);
    memset(nm, 0, sizeof *nm);
}

/* "family=Smith, given=John" (BibLaTeX extended name format); 1 if handled. */
static int extended_name(const word *w, size_t a, size_t b, lp_bib_name *nm, int *err)
{
    /* re-join the raw name and look for key=value parts at depth 0 */
    if (a >= b) return 0;
    const char *s = w[a].s, *e = w[b - 1].s + w[b - 1].len;
    size_t len = (size_t)(e - s);
    int has_eq = 0;
    size_t depth = 0;
    for (size_t k = 0; k < len; k++) {
        if (s[k] == '{') depth++;
        else if (s[k] == '}' && depth) depth--;
        else if (s[k] == '=' && depth == 0) has_eq = 1;
    }
    if (!has_eq) return 0;
    static const char *const KEYS[] = {"family", "given", "prefix", "suffix", NULL};
    size_t k = 0;
    while (k < len) {
        size_t ps = k;
        depth = 0;
        while (k < len && !(s[k] == ',' && depth == 0)) {
            if (s[k] == '{') depth++;
            else if (s[k] == '}' && depth) depth--;
            k++;
        }
        size_t pe = k;
        k++;
        const char *eq = memchr(s + ps, '=', pe - ps);
        if (!eq) return 0;
        size_t ks = ps, ke = (size_t)(eq - s);
        while (ks < ke && is_ws((unsigned char)s[ks])) ks++;
        while (ke > ks && is_ws((unsigned char)s[ke - 1])) ke--;
        int which = -1;
        for (int q = 0; KEYS[q]; q++)
            if (ke - ks == strlen(KEYS[q]) && strncmp(s + ks, KEYS[q], ke - ks) == 0) which = q;
        if (which < 0) {
            if (ke - ks == 10 && strncmp(s + ks, "useprefix", 9) == 0) continue;
            if (ke - ks == 9 && strncmp(s + ks, "useprefix", 9) == 0) continue;
            return 0;
        }
        word one = {eq + 1, (size_t)(s + pe - (eq + 1)), 0};
        while (one.len && is_ws((unsigned char)*one.s)) { one.s++; one.len--; }
        while (one.len && is_ws((unsigned char)one.s[one.len - 1])) one.len--;
        char *txt = NULL;
        if (join_words(&one, 0, 1, &txt) != 0) { *err = 1; return 1; }
        char **slot = which == 0 ? &nm->family : which == 1 ? &nm->given : which == 2 ? &nm->von : &nm->suffix;
        free(*slot);
        *slot = txt;
    }
    return nm->family != NULL;
}

/* One name from words [a, b). Returns 0, or -1 when out of memory. */
static int parse_one_name(const word *w, size_t a, size_t b, lp_bib_name *nm)
{
    memset(nm, 0, sizeof *nm);
    int err = 0;
    if (extended_name(w, a, b, nm, &err)) return err ? -1 : 0;
    name_free(nm);
    size_t commas[2], nc = 0;
    for (size_t k = a; k < b; k++)
        if (w[k].comma) { if (nc < 2) commas[nc] = k; nc++; }
    /* a single brace group: an organisation, kept whole */
    if (nc == 0 && b - a == 1 && w[a].len >= 2 && w[a].s[0] == '{' && w[a].s[w[a].len - 1] == '}') {
        size_t depth = 0, k;
        for (k = 0; k < w[a].len; k++) {
            if (w[a].s[k] == '{') depth++;
            else if (w[a].s[k] == '}' && --depth == 0) break;
        }
        if (k == w[a].len - 1 && !(w[a].len > 2 && w[a].s[1] == '\\')) {
            if (join_words(w, a, b, &nm->family) != 0) return -1;
            nm->literal = 1;
            return 0;
        }
    }
    size_t vs, ve, ls, le, fs = 0, fe = 0, js = 0, je = 0;   /* von, last, first, jr ranges */
    if (nc == 0) {
        size_t last = b - 1;
        size_t first_lower = SIZE_MAX, last_lower = SIZE_MAX;
        for (size_t k = a; k < last; k++)
            if (word_is_lower(w[k].s, w[k].len)) {
                if (first_lower == SIZE_MAX) first_lower = k;
                last_lower = k;
            }
        if (first_lower == SIZE_MAX) { fs = a; fe = last; vs = ve = last; ls = last; le = b; }
        else { fs = a; fe = first_lower; vs = first_lower; ve = last_lower + 1; ls = last_lower + 1; le = b; }
    } else {
        size_t pe = commas[0];
        size_t last_lower = SIZE_MAX;
        for (size_t k = a; k + 1 < pe; k++)
            if (word_is_lower(w[k].s, w[k].len)) last_lower = k;
        if (last_lower != SIZE_MAX && word_is_lower(w[a].s, w[a].len)) {
            vs = a; ve = last_lower + 1; ls = last_lower + 1;
        } else {
            vs = ve = a; ls = a;
        }
        le = pe;
        if (nc == 1) { fs = commas[0] + 1; fe = b; }
        else { js = commas[0] + 1; je = commas[1]; fs = commas[1] + 1; fe = b; }
        /* more than two commas: the rest joins the given names (BibTeX would complain) */
    }
    if (join_words(w, fs, fe, &nm->given) != 0 || join_words(w, vs, ve, &nm->von) != 0 ||
        join_words(w, ls, le, &nm->family) != 0 || join_words(w, js, je, &nm->suffix) != 0) {
        name_free(nm);
        return -1;
    }
    if (!nm->family) {                         /* "von" only, or ", First": keep what there is */
        if (nm->von) { nm->family = nm->von; nm->von = NULL; }
        else if (nm->given) { nm->family = nm->given; nm->given = NULL; }
    }
    return 0;
}

void lp_bib_names_free(lp_bib_name *names, size_t n)
{
    if (!names) return;
    for (size_t k = 0; k < n; k++) name_free(&names[k]);
    free(names);
}

sl_status lp_bib_names_parse(const char *raw, size_t len, size_t max_names,
                             lp_bib_name **names, size_t *n, int *et_al)
{
    if (!names || !n || (!raw && len)) return sl_set_error(SL_ERR_INVALID, "lp_bib_names_parse: NULL argument");
    *names = NULL;
    *n = 0;
    if (et_al) *et_al = 0;
    if (!max_names) max_names = DEFAULT_MAX_NAMES;
    /* tokenize into words and commas at brace depth 0 */
    word *w = NULL;
    size_t nw = 0, capw = 0, k = 0;
    while (k < len) {
        unsigned char c = (unsigned char)raw[k];
        if (is_ws(c) || (c == '~' && (k == 0 || raw[k - 1] != '\\'))) { k++; continue; }
        if (nw == capw) {
            size_t cap = capw ? capw * 2 : 32;
            word *v = realloc(w, cap * sizeof *v);
            if (!v) { free(w); return sl_set_error(SL_ERR_NOMEM, "name list: out of memory"); }
            w = v;
            capw = cap;
        }
        if (c == ',') { w[nw++] = (word){raw + k, 1, 1}; k++; continue; }
        size_t s = k, depth = 0;
        while (k < len) {
            unsigned char d = (unsigned char)raw[k];
            if (d == '{') depth++;
            else if (d == '}') { if (depth) depth--; }
            else if (depth == 0 && (is_ws(d) || d == ',' || (d == '~' && raw[k - 1] != '\\'))) break;
            k++;
        }
        w[nw++] = (word){raw + s, k - s, 0};
    }
    /* split on "and" */
    lp_bib_name *out = NULL;
    size_t nout = 0, capo = 0, start = 0;
    sl_status st = SL_OK;
    for (size_t q = 0; q <= nw && st == SL_OK; q++) {
        int is_and = q < nw && !w[q].comma && w[q].len == 3 && (w[q].s[0] | 0x20) == 'a' &&
                     (w[q].s[1] | 0x20) == 'n' && (w[q].s[2] | 0x20) == 'd';
        if (q < nw && !is_and) continue;
        size_t a = start, b = q;
        start = q + 1;
        while (a < b && w[a].comma) a++;           /* stray commas at the edges */
        while (b > a && w[b - 1].comma) b--;
        if (a >= b) continue;
        if (b - a == 1 && w[a].len == 6 && strncmp(w[a].s, "others", 6) == 0) {
            if (et_al) *et_al = 1;
            continue;
        }
        if (nout >= max_names) {
            st = sl_set_error(SL_ERR_RANGE, "name list has more than %zu names", max_names);
            break;
        }
        if (nout == capo) {
            size_t cap = capo ? capo * 2 : 8;
            lp_bib_name *v = realloc(out, cap * sizeof *v);
            if (!v) { st = sl_set_error(SL_ERR_NOMEM, "name list: out of memory"); break; }
            out = v;
            capo = cap;
        }
        if (parse_one_name(w, a, b, &out[nout]) != 0) {
            st = sl_set_error(SL_ERR_NOMEM, "name list: out of memory");
            break;
        }
        if (out[nout].family) nout++;
        else name_free(&out[nout]);              /* only a suffix, say: not a name */
    }
    free(w);
    if (st != SL_OK) { lp_bib_names_free(out, nout); return st; }
    if (nout == 0) { free(out); out = NULL; }
    *names = out;
    *n = nout;
    return SL_OK;
}

/* ---- conversion to the public result ------------------------------------------------------------ */

static int is_verbatim_field(const char *name)
{
    static const char *const V[] = {"url", "doi", "eprint", "file", "pdf", "verba", "verbb", "verbc",
                                    "urlraw", "eprinturl", "bdsk-url-1", "bdsk-url-2", "bdsk-url-3",
                                    "bdsk-file-1", "bdsk-file-2", "bdsk-file-3", "local-url", NULL};
    return in_list(name, V);
}

static int is_name_field(const char *name)
{
    static const char *const N[] = {"author", "editor", "translator", "bookauthor", "editora", "editorb",
                                    "editorc", "commentator", "annotator", "introduction", "foreword",
                                    "afterword", "holder", "director", "redactor", "collaborator", NULL};
    return in_list(name, N);
}

static void entry_free(lp_bib_entry *e)
{
    for (size_t k = 0; k < e->nfields; k++) {
        free(e->fields[k].name);
        free(e->fields[k].value);
        free(e->fields[k].raw);
    }
    free(e->fields);
    for (size_t k = 0; k < e->nnames; k++) lp_bib_names_free(e->names[k].names, e->names[k].n);
    free(e->names);
    free(e->type);
    free(e->key);
}

static int finish_entry(parser *p, rentry *r, lp_bib_entry *e)
{
    char tmp[64];
    memset(e, 0, sizeof *e);
    e->type = r->type; r->type = NULL;
    e->key = r->key; r->key = NULL;
    e->line = r->line;
    e->fields = calloc(r->nf ? r->nf : 1, sizeof *e->fields);
    if (!e->fields) return -1;
    for (size_t k = 0; k < r->nf; k++) {
        lp_bib_field *f = &e->fields[e->nfields];
        char *val = NULL;
        size_t vl;
        const char *raw = r->f[k].raw;
        if (lp_latex_to_utf8(raw, strlen(raw), is_verbatim_field(r->f[k].name) ? LP_LATEX_VERBATIM
                                                                                 : LP_LATEX_TEXT,
                             &val, &vl) != SL_OK)
            return -1;
        f->name = r->f[k].name; r->f[k].name = NULL;
        f->raw = r->f[k].raw; r->f[k].raw = NULL;
        f->value = val;
        f->line = r->f[k].line;
        f->inherited = r->f[k].inherited;
        e->nfields++;
    }
    size_t nlists = 0;
    for (size_t k = 0; k < e->nfields; k++)
        if (is_name_field(e->fields[k].name)) nlists++;
    if (nlists) {
        e->names = calloc(nlists, sizeof *e->names);
        if (!e->names) return -1;
    }
    for (size_t k = 0; k < e->nfields; k++) {
        const lp_bib_field *f = &e->fields[k];
        if (!is_name_field(f->name)) continue;
        lp_bib_names *nl = &e->names[e->nnames];
        nl->field = f->name;
        sl_status st = lp_bib_names_parse(f->raw, strlen(f->raw), p->lim.max_names, &nl->names, &nl->n,
                                          &nl->et_al);
        if (st == SL_ERR_NOMEM) return -1;
        if (st != SL_OK)
            diag_line(p, f->line, 0, "entry '%s': field '%s' has more than %zu names; names not parsed",
                      clip(e->key, tmp), f->name, p->lim.max_names);
        e->nnames++;
        if (strcmp(f->name, "author") == 0) {
            e->authors = nl->names; e->nauthors = nl->n; e->authors_et_al = nl->et_al;
        } else if (strcmp(f->name, "editor") == 0) {
            e->editors = nl->names; e->neditors = nl->n; e->editors_et_al = nl->et_al;
        }
    }
    return 0;
}

/* ---- encoding ----------------------------------------------------------------------------------------- */

/* Windows-1252 code points for 0x80..0x9F (0 = undefined there: U+FFFD). */
static const uint16_t CP1252[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
    0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

/* Length of a valid UTF-8 sequence at s (0 if invalid). */
static size_t utf8_valid(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; v = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; v = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    if (avail < len) return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    return len;
}

/* Returns a repaired copy when the text is not valid UTF-8 (NULL and *bad_at = SIZE_MAX when it
 * is valid); sets p->oom on allocation failure. */
static char *repair_utf8(parser *p, const char *text, size_t len, size_t *out_len, size_t *bad_at)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t k = 0;
    *bad_at = SIZE_MAX;
    while (k < len) {
        if (s[k] < 0x80) { k++; continue; }
        size_t l = utf8_valid(s + k, len - k);
        if (!l) { *bad_at = k; break; }
        k += l;
    }
    if (*bad_at == SIZE_MAX) return NULL;
    sbuf b = {0};
    if (sbuf_put(&b, text, k) != 0) { p->oom = 1; return NULL; }
    while (k < len) {
        size_t l = s[k] < 0x80 ? 1 : utf8_valid(s + k, len - k);
        if (l) {
            if (sbuf_put(&b, text + k, l) != 0) { free(b.p); p->oom = 1; return NULL; }
            k += l;
            continue;
        }
        uint32_t cp = s[k] >= 0xA0 ? s[k] : CP1252[s[k] - 0x80];
        if (!cp) cp = 0xFFFD;
        char enc[3];
        size_t el;
        if (cp < 0x800) { enc[0] = (char)(0xC0 | (cp >> 6)); enc[1] = (char)(0x80 | (cp & 0x3F)); el = 2; }
        else { enc[0] = (char)(0xE0 | (cp >> 12)); enc[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
               enc[2] = (char)(0x80 | (cp & 0x3F)); el = 3; }
        if (sbuf_put(&b, enc, el) != 0) { free(b.p); p->oom = 1; return NULL; }
        k++;
    }
    *out_len = b.n;
    return b.p;
}

/* ---- public API ------------------------------------------------------------------------------------- */

void lp_bib_destroy(lp_bib *bib)
{
    if (!bib) return;
    for (size_t k = 0; k < bib->nentries; k++) entry_free(&bib->entries[k]);
    free(bib->entries);
    for (size_t k = 0; k < bib->ndiags; k++) free(bib->diags[k].message);
    free(bib->diags);
    free(bib->preamble);
    free(bib);
}

static void parser_free(parser *p)
{
    for (size_t k = 0; k < p->ne; k++) rentry_free(&p->e[k]);
    free(p->e);
    for (size_t k = 0; k < p->nm; k++) { free(p->m[k].name); free(p->m[k].value); }
    free(p->m);
    smap_free(&p->mmap);
    free(p->preamble.p);
}

sl_status lp_bib_parse(const char *text, size_t len, const char *file,
                       const lp_bib_limits *limits, lp_bib **out)
{
    if (!out) return sl_set_error(SL_ERR_INVALID, "lp_bib_parse: out is NULL");
    *out = NULL;
    if (!text && len) return sl_set_error(SL_ERR_INVALID, "lp_bib_parse: text is NULL");
    parser p;
    memset(&p, 0, sizeof p);
    p.file = file ? file : "<input>";
    if (limits) p.lim = *limits;
    if (!p.lim.max_depth) p.lim.max_depth = DEFAULT_MAX_DEPTH;
    if (!p.lim.max_value_bytes) p.lim.max_value_bytes = DEFAULT_MAX_VALUE;
    if (!p.lim.max_expand_bytes) {
        size_t extra = len > (SIZE_MAX - ((size_t)64 << 20)) / 4 ? SIZE_MAX / 2 : 4 * len;
        p.lim.max_expand_bytes = ((size_t)64 << 20) + extra;
    }
    if (!p.lim.max_entries) p.lim.max_entries = DEFAULT_MAX_ENTRIES;
    if (!p.lim.max_names) p.lim.max_names = DEFAULT_MAX_NAMES;
    if (!p.lim.max_diags) p.lim.max_diags = DEFAULT_MAX_DIAGS;
    p.out = calloc(1, sizeof *p.out);
    if (!p.out) return sl_set_error(SL_ERR_NOMEM, "%s: out of memory", p.file);
    p.lc_line = 1;

    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) { text += 3; len -= 3; }
    size_t bad_at, fixed_len = 0;
    char *fixed = repair_utf8(&p, text, len, &fixed_len, &bad_at);
    p.t = fixed ? fixed : (text ? text : "");
    p.n = fixed ? fixed_len : len;
    if (fixed) {
        /* offsets before bad_at are the same in the repaired text */
        diag(&p, bad_at, 0, "not valid UTF-8 (first bad byte 0x%02X at offset %zu); such bytes are read as "
             "Windows-1252", (unsigned char)text[bad_at], bad_at);
    }
    if (!p.oom) parse_all(&p);
    if (!p.oom && p.ne && resolve_crossrefs(&p) != 0) p.oom = 1;
    if (!p.oom) {
        size_t keep = 0;
        for (size_t k = 0; k < p.ne; k++)
            if (strcmp(p.e[k].type, "xdata") != 0) keep++;   /* data containers, not works */
        p.out->entries = calloc(keep ? keep : 1, sizeof *p.out->entries);
        if (!p.out->entries) p.oom = 1;
        for (size_t k = 0; k < p.ne && !p.oom; k++) {
            if (strcmp(p.e[k].type, "xdata") == 0) continue;
            lp_bib_entry *e = &p.out->entries[p.out->nentries];
            if (finish_entry(&p, &p.e[k], e) != 0) { entry_free(e); memset(e, 0, sizeof *e); p.oom = 1; break; }
            p.out->nentries++;
        }
    }
    if (!p.oom && p.has_preamble) {
        p.out->preamble = p.preamble.p ? p.preamble.p : dupn("", 0);
        p.preamble.p = NULL;
        if (!p.out->preamble) p.oom = 1;
    }
    parser_free(&p);
    free(fixed);
    if (p.oom) {
        lp_bib_destroy(p.out);
        return sl_set_error(SL_ERR_NOMEM, "%s: out of memory while parsing BibTeX", file ? file : "<input>");
    }
    *out = p.out;
    return SL_OK;
}

const lp_bib_field *lp_bib_entry_field(const lp_bib_entry *entry, const char *name)
{
    if (!entry || !name) return NULL;
    for (size_t k = 0; k < entry->nfields; k++)
        if (strcmp(entry->fields[k].name, name) == 0) return &entry->fields[k];
    return NULL;
}

const char *lp_bib_entry_get(const lp_bib_entry *entry, const char *name)
{
    const lp_bib_field *f = lp_bib_entry_field(entry, name);
    return f ? f->value : NULL;
}

/* First run of exactly four digits in s, or 0. */
static int first_year(const char *s, int leading_only)
{
    if (!s) return 0;
    for (size_t k = 0; s[k]; k++) {
        if (s[k] >= '0' && s[k] <= '9') {
            size_t e = k;
            while (s[e] >= '0' && s[e] <= '9') e++;
            if (e - k == 4 && (k == 0 || !(s[k - 1] >= '0' && s[k - 1] <= '9')))
                return (s[k] - '0') * 1000 + (s[k + 1] - '0') * 100 + (s[k + 2] - '0') * 10 + (s[k + 3] - '0');
            if (leading_only) return 0;
            k = e - 1;
        } else if (leading_only && !(s[k] == ' ' || s[k] == '{' || s[k] == '(' || s[k] == '[' ||
                                     s[k] == '-' || s[k] == '~')) {
            return 0;
        }
    }
    return 0;
}

int lp_bib_entry_year(const lp_bib_entry *entry)
{
    int y = first_year(lp_bib_entry_get(entry, "year"), 0);
    if (!y) y = first_year(lp_bib_entry_get(entry, "date"), 1);
    return y;
}

/* A @book or @proceedings with both a `title` and a different `booktitle` describes a part of
 * that book (reference managers export chapters this way). */
static int is_part_filed_as_whole(const lp_bib_entry *e)
{
    if (strcmp(e->type, "book") != 0 && strcmp(e->type, "proceedings") != 0) return 0;
    const char *bt = lp_bib_entry_get(e, "booktitle"), *t = lp_bib_entry_get(e, "title");
    return bt && bt[0] && t && t[0] && strcmp(bt, t) != 0;
}

/* Whole-book types, whose `booktitle` (when `title` is missing) names the entry itself. */
static int is_book_type(const char *type)
{
    static const char *const B[] = {"book", "proceedings", "collection", "reference", "mvbook",
                                    "mvproceedings", "mvcollection", "mvreference", NULL};
    return in_list(type, B);
}

const lp_bib_names *lp_bib_entry_names(const lp_bib_entry *entry, const char *name)
{
    if (!entry || !name) return NULL;
    for (size_t k = 0; k < entry->nnames; k++)
        if (strcmp(entry->names[k].field, name) == 0) return &entry->names[k];
    return NULL;
}

char *lp_bib_entry_title(const lp_bib_entry *entry)
{
    if (!entry) return NULL;
    const char *t = lp_bib_entry_get(entry, "title");
    const char *sub = lp_bib_entry_get(entry, "subtitle");
    const char *add = lp_bib_entry_get(entry, "titleaddon");
    if ((!t || !t[0]) && is_book_type(entry->type)) t = lp_bib_entry_get(entry, "booktitle");
    if (t && !t[0]) t = NULL;
    if (sub && !sub[0]) sub = NULL;
    if (add && !add[0]) add = NULL;
    if (!t && !add) return NULL;
    sbuf b = {0};
    int fail = 0;
    if (t) fail |= sbuf_put(&b, t, strlen(t));
    if (t && sub) fail |= sbuf_put(&b, ": ", 2) | sbuf_put(&b, sub, strlen(sub));
    if (add) {
        if (b.n) fail |= sbuf_put(&b, ". ", 2);
        fail |= sbuf_put(&b, add, strlen(add));
    }
    if (fail) { free(b.p); return NULL; }
    return b.p;
}

const char *lp_bib_item_type(const lp_bib_entry *entry)
{
    static const struct { const char *bib, *item; } MAP[] = {
        {"article", "journalArticle"}, {"artwork", "artwork"}, {"audio", "audioRecording"},
        {"bill", "bill"}, {"book", "book"}, {"bookinbook", "bookSection"}, {"booklet", "book"},
        {"collection", "book"}, {"conference", "conferencePaper"}, {"constitution", "statute"},
        {"dataset", "dataset"}, {"electronic", "webpage"}, {"hardware", "computerProgram"},
        {"image", "artwork"}, {"inbook", "bookSection"}, {"incollection", "bookSection"},
        {"inproceedings", "conferencePaper"}, {"inreference", "encyclopediaArticle"},
        {"jurisdiction", "case"}, {"legadminmaterial", "statute"}, {"legal", "statute"},
        {"legislation", "statute"}, {"legmaterial", "bill"}, {"letter", "letter"},
        {"manual", "report"}, {"mastersthesis", "thesis"}, {"misc", "document"},
        {"movie", "film"}, {"music", "audioRecording"}, {"mvbook", "book"},
        {"mvcollection", "book"}, {"mvproceedings", "book"}, {"mvreference", "book"},
        {"nameonly", "document"}, {"online", "webpage"}, {"patent", "patent"},
        {"performance", "presentation"}, {"periodical", "document"}, {"phdthesis", "thesis"},
        {"presentation", "presentation"}, {"proceedings", "book"}, {"reference", "book"},
        {"report", "report"}, {"review", "journalArticle"}, {"software", "computerProgram"},
        {"standard", "standard"}, {"suppbook", "bookSection"}, {"suppcollection", "bookSection"},
        {"suppperiodical", "magazineArticle"}, {"talk", "presentation"}, {"techreport", "report"},
        {"thesis", "thesis"}, {"unpublished", "manuscript"}, {"video", "videoRecording"},
        {"webpage", "webpage"}, {"www", "webpage"},
    };
    if (!entry || !entry->type) return "document";
    const char *t = entry->type;
    const char *sub = lp_bib_entry_get(entry, "entrysubtype");
    if (strcmp(t, "video") == 0 && sub) {
        if (strcmp(sub, "film") == 0) return "film";
        if (strcmp(sub, "tvepisode") == 0 || strcmp(sub, "tvbroadcast") == 0) return "tvBroadcast";
    }
    if (strcmp(t, "article") == 0 && sub) {
        if (strcmp(sub, "magazine") == 0) return "magazineArticle";
        if (strcmp(sub, "newspaper") == 0) return "newspaperArticle";
    }
    if (is_part_filed_as_whole(entry)) return "bookSection";
    for (size_t k = 0; k < sizeof MAP / sizeof *MAP; k++)
        if (strcmp(MAP[k].bib, t) == 0) return MAP[k].item;
    return "document";
}
