/* doc.c — building documents in an arena and writing them as one compact JSON line each. */
#include "doc.h"

#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

lp_doc *lp_doc_new(lp_arena *a, const char *file, const char *format, long record) {
    lp_doc *d = lp_arena_calloc(a, sizeof *d);
    if (!d) return NULL;
    d->src_file = file;
    d->src_format = format;
    d->src_record = record;
    return d;
}

int lp_doc_add_str(lp_arena *a, const char ***v, size_t *n, size_t *cap, const char *s) {
    if (!s) return 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], s) == 0) return 0; /* lists of names are sets */
    if (*n == *cap && lp_vec_grow(a, (void **)v, cap, *n, sizeof **v) != 0) return -1;
    (*v)[(*n)++] = s;
    return 0;
}

int lp_doc_add_date(lp_arena *a, lp_doc *d, const char *kind, int y, int m, int day) {
    if (!kind || y <= 0) return 0;
    for (size_t i = 0; i < d->ndates; i++)
        if (strcmp(d->dates[i].kind, kind) == 0) return 0; /* first of a kind wins */
    if (m < 1 || m > 12) m = 0, day = 0;
    if (day < 1 || day > 31) day = 0;
    lp_date dt = {kind, y, m, day};
    return LP_VEC_PUSH(a, d->dates, d->ndates, d->dates_cap, dt);
}

int lp_doc_add_other_id(lp_arena *a, lp_doc *d, const char *key, const char *value) {
    if (!key || !value) return 0;
    for (size_t i = 0; i < d->nother_ids; i++)
        if (strcmp(d->other_ids[i].key, key) == 0) return 0;
    lp_kv kv = {key, value};
    return LP_VEC_PUSH(a, d->other_ids, d->nother_ids, d->other_ids_cap, kv);
}

int lp_doc_add_aff(lp_arena *a, lp_doc *d, const char *id, const char *text) {
    if (!text) return -1;
    for (size_t i = 0; i < d->naffs; i++)
        if (strcmp(d->affs[i].text, text) == 0) {
            if (!d->affs[i].id && id) d->affs[i].id = id;
            return (int)i;
        }
    lp_aff af = {id, text};
    if (LP_VEC_PUSH(a, d->affs, d->naffs, d->affs_cap, af) != 0) return -1;
    return (int)d->naffs - 1;
}

lp_author *lp_doc_add_author(lp_arena *a, lp_doc *d) {
    lp_author au;
    memset(&au, 0, sizeof au);
    if (LP_VEC_PUSH(a, d->authors, d->nauthors, d->authors_cap, au) != 0) return NULL;
    return &d->authors[d->nauthors - 1];
}

int lp_author_add_aff(lp_arena *a, lp_author *au, int aff) {
    if (aff < 0) return 0;
    for (size_t i = 0; i < au->naffs; i++)
        if (au->affs[i] == aff) return 0;
    return LP_VEC_PUSH(a, au->affs, au->naffs, au->affs_cap, aff);
}

lp_section *lp_doc_add_section(lp_arena *a, lp_section **v, size_t *n, size_t *cap) {
    lp_section s;
    memset(&s, 0, sizeof s);
    s.parent = -1;
    s.level = 1;
    if (LP_VEC_PUSH(a, *v, *n, *cap, s) != 0) return NULL;
    return &(*v)[*n - 1];
}

lp_para *lp_section_add_para(lp_arena *a, lp_section *sec, const char *text, size_t len, lp_spans *spans) {
    if (!text || len == 0) return NULL;
    lp_para p;
    memset(&p, 0, sizeof p);
    p.text = text;
    p.len = len;
    spans->n = 0;
    if (lp_sentences_split(text, len, spans) != SL_OK) {
        a->failed = 1;
        return NULL;
    }
    if (spans->n) {
        p.sents = lp_arena_alloc(a, spans->n * sizeof *p.sents);
        if (!p.sents) return NULL;
        for (size_t i = 0; i < spans->n; i++) {
            p.sents[i].start = (uint32_t)spans->v[i].cp_start;
            p.sents[i].end = (uint32_t)spans->v[i].cp_end;
        }
        p.nsents = spans->n;
    }
    if (LP_VEC_PUSH(a, sec->paras, sec->nparas, sec->paras_cap, p) != 0) return NULL;
    return &sec->paras[sec->nparas - 1];
}

int lp_para_add_cite(lp_arena *a, lp_para *p, const char *ref, const char *type, uint32_t s, uint32_t e) {
    lp_cite c = {ref, type, {s, e}};
    return LP_VEC_PUSH(a, p->cites, p->ncites, p->cites_cap, c);
}

lp_ref *lp_doc_add_ref(lp_arena *a, lp_doc *d) {
    lp_ref r;
    memset(&r, 0, sizeof r);
    if (LP_VEC_PUSH(a, d->refs, d->nrefs, d->refs_cap, r) != 0) return NULL;
    return &d->refs[d->nrefs - 1];
}

int lp_ref_add_author(lp_arena *a, lp_ref *r, lp_name nm) {
    if (!nm.family && !nm.given && !nm.literal) return 0;
    return LP_VEC_PUSH(a, r->authors, r->nauthors, r->authors_cap, nm);
}

lp_mesh *lp_doc_add_mesh(lp_arena *a, lp_doc *d) {
    lp_mesh m;
    memset(&m, 0, sizeof m);
    if (LP_VEC_PUSH(a, d->mesh, d->nmesh, d->mesh_cap, m) != 0) return NULL;
    return &d->mesh[d->nmesh - 1];
}

int lp_mesh_add_qual(lp_arena *a, lp_mesh *m, lp_qual q) { return LP_VEC_PUSH(a, m->quals, m->nquals, m->quals_cap, q); }

int lp_doc_finish(lp_arena *a, lp_doc *d) {
    if (!d->year) {
        static const char *order[] = {"published", "ppub", "epub", "collection", "issued", NULL};
        for (int k = 0; order[k] && !d->year; k++)
            for (size_t i = 0; i < d->ndates; i++)
                if (strcmp(d->dates[i].kind, order[k]) == 0) {
                    d->year = d->dates[i].year;
                    break;
                }
    }
    if (!d->id) {
        if (d->doi) {
            /* DOIs compare case-insensitively; the id uses the lower-case form */
            char *s = lp_arena_cat3(a, "doi:", d->doi, "");
            if (!s) return -1;
            for (char *p = s; *p; p++)
                if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
            d->id = s;
        } else if (d->pmid) d->id = lp_arena_cat3(a, "pmid:", d->pmid, "");
        else if (d->pmcid) d->id = lp_arena_cat3(a, "pmcid:", d->pmcid, "");
        else if (d->arxiv) d->id = lp_arena_cat3(a, "arxiv:", d->arxiv, "");
        else if (d->src_key) d->id = lp_arena_cat3(a, d->src_file ? d->src_file : "", "#", d->src_key);
        else d->id = lp_arena_printf(a, "%s#%ld", d->src_file ? d->src_file : "", d->src_record);
        if (!d->id) return -1;
    }
    return a->failed ? -1 : 0;
}

/* --- JSON writer --- */

/* Bytes a JSON string cannot hold as they are: 1 = escape ("\n", "\u001F"), 2 = a UTF-8 lead or
 * continuation byte that is checked before it is copied. */
static const unsigned char json_cls[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* Length of the well-formed UTF-8 sequence at s (m >= 1 bytes available), or 0 when there is
 * none: the rules of lp_utf8_check (no overlongs, surrogates or code points past U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t m) {
    unsigned char c = s[0];
    size_t len;
    uint32_t min;
    if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000;
    else return 0;
    if (len > m) return 0;
    uint32_t cp = c & (0xFF >> (len + 1));
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* Index of the first byte in s[i..n) that json_cls does not pass as it is, or n; sixteen bytes
 * at a time where SSE2 is there, as most text needs no escaping. */
static size_t json_skip(const unsigned char *s, size_t i, size_t n) {
#ifdef __SSE2__
    const __m128i c1f = _mm_set1_epi8(0x1F), dq = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, c1f), v), /* v <= 0x1F */
                                 _mm_or_si128(_mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, bs)));
        int mask = _mm_movemask_epi8(_mm_or_si128(m, v)); /* v's own top bit: bytes >= 0x80 */
        if (mask) return i + (size_t)__builtin_ctz((unsigned)mask);
    }
#endif
    while (i < n && !json_cls[s[i]]) i++;
    return i;
}

int lp_json_str(lp_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *u = (const unsigned char *)s;
    /* room for the quotes and the common case of nothing to escape; escapes reserve their own */
    if (lp_buf_reserve(b, n + 2) != 0) return -1;
    b->p[b->n++] = '"';
    size_t i = 0; /* s[i..r) is copied as it is when something has to be written differently */
    size_t r = 0;
    while (r < n) {
        r = json_skip(u, r, n);
        if (r >= n) break;
        unsigned char c = u[r];
        char esc[6];
        size_t k;
        const char *add = esc;
        if (json_cls[c] == 2) {
            k = utf8_seq(u + r, n - r);
            if (k) { /* well-formed: part of the run */
                r += k;
                continue;
            }
            /* not UTF-8 (cannot happen for checked input): write U+FFFD so the line stays valid */
            add = "\xEF\xBF\xBD";
            k = 3;
        } else {
            esc[0] = '\\';
            k = 2;
            switch (c) {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                k = 6;
            }
        }
        if (r > i) memcpy(b->p + b->n, s + i, r - i);
        b->n += r - i;
        i = r = r + 1;
        /* the first reserve covered one output byte per input byte; an escape may need more */
        if (lp_buf_reserve(b, k + (n - r) + 1) != 0) return -1;
        memcpy(b->p + b->n, add, k);
        b->n += k;
    }
    if (n > i) memcpy(b->p + b->n, s + i, n - i);
    b->n += n - i;
    b->p[b->n++] = '"';
    b->p[b->n] = '\0';
    return 0;
}

/* A tiny streaming object/array writer that places commas. */
typedef struct jw {
    lp_buf *b;
    int first[64];
    int depth;
    int err;
} jw;

static void jw_raw(jw *w, const char *s, size_t n) {
    if (!w->err && lp_buf_add(w->b, s, n) != 0) w->err = 1;
}

static void jw_char(jw *w, char c) {
    if (!w->err && lp_buf_addc(w->b, c) != 0) w->err = 1;
}

static void jw_sep(jw *w) {
    if (w->depth > 0) {
        if (!w->first[w->depth]) jw_char(w, ',');
        w->first[w->depth] = 0;
    }
}

static void jw_open(jw *w, char c) {
    jw_char(w, c);
    if (w->depth < 63) w->depth++;
    w->first[w->depth] = 1;
}

static void jw_close(jw *w, char c) {
    jw_char(w, c);
    if (w->depth > 0) w->depth--;
}

/* A key taken from a document (another id's name, a date kind): escaped like any string. */
static void jw_key(jw *w, const char *k) {
    jw_sep(w);
    if (!w->err && lp_json_str(w->b, k, strlen(k)) != 0) w->err = 1;
    jw_char(w, ':');
}

/* The writer's own keys are string literals that need no escaping; KEY("id") passes one with
 * its length (the "" makes anything but a literal a compile error), and jw_lkey copies it. */
#define KEY(lit) ("" lit), (sizeof("" lit) - 1)

static void jw_lkey(jw *w, const char *k, size_t n) {
    jw_sep(w);
    if (w->err) return;
    if (lp_buf_reserve(w->b, n + 3) != 0) {
        w->err = 1;
        return;
    }
    char *o = w->b->p + w->b->n;
    o[0] = '"';
    memcpy(o + 1, k, n);
    o[n + 1] = '"';
    o[n + 2] = ':';
    w->b->n += n + 3;
    w->b->p[w->b->n] = '\0';
}

static void jw_strn(jw *w, const char *s, size_t n) {
    if (!w->err && lp_json_str(w->b, s, n) != 0) w->err = 1;
}

/* v in decimal ("%llu") at o, which has room for 20 digits; returns the end. */
static char *put_u64(char *o, unsigned long long v) {
    char tmp[20], *p = tmp + 20;
    do *--p = (char)('0' + v % 10);
    while (v /= 10);
    memcpy(o, p, (size_t)(tmp + 20 - p));
    return o + (tmp + 20 - p);
}

/* A number as "%lld" writes it, without the printf machinery (cite offsets are many). */
static void jw_int(jw *w, long long v) {
    if (w->err) return;
    if (lp_buf_reserve(w->b, 21) != 0) {
        w->err = 1;
        return;
    }
    char *o = w->b->p + w->b->n;
    if (v < 0) *o++ = '-';
    o = put_u64(o, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v);
    w->b->n = (size_t)(o - w->b->p);
    w->b->p[w->b->n] = '\0';
}

/* "key":"value" when value is present */
static void kv_str(jw *w, const char *k, size_t kn, const char *v) {
    if (!v) return;
    jw_lkey(w, k, kn);
    jw_strn(w, v, strlen(v));
}

/* "key":"value" with a key from the document */
static void kv_dyn(jw *w, const char *k, const char *v) {
    if (!v) return;
    jw_key(w, k);
    jw_strn(w, v, strlen(v));
}

static void kv_int(jw *w, const char *k, size_t kn, long long v) {
    jw_lkey(w, k, kn);
    jw_int(w, v);
}

static void kv_true(jw *w, const char *k, size_t kn, int v) {
    if (!v) return;
    jw_lkey(w, k, kn);
    jw_raw(w, "true", 4);
}

static void val_str(jw *w, const char *s) {
    jw_sep(w);
    jw_strn(w, s, strlen(s));
}

static void str_list(jw *w, const char *k, size_t kn, const char *const *v, size_t n) {
    if (!n) return;
    jw_lkey(w, k, kn);
    jw_open(w, '[');
    for (size_t i = 0; i < n; i++) val_str(w, v[i]);
    jw_close(w, ']');
}

static void spans(jw *w, const char *k, size_t kn, const lp_span32 *v, size_t n) {
    if (!n) return;
    jw_lkey(w, k, kn);
    jw_open(w, '[');
    /* every paragraph has these: one reserve for the array, at most 24 bytes a pair */
    if (!w->err && lp_buf_reserve(w->b, n * 24) != 0) w->err = 1;
    if (!w->err) {
        char *o = w->b->p + w->b->n;
        for (size_t i = 0; i < n; i++) {
            if (i) *o++ = ',';
            *o++ = '[';
            o = put_u64(o, v[i].start);
            *o++ = ',';
            o = put_u64(o, v[i].end);
            *o++ = ']';
        }
        w->b->n = (size_t)(o - w->b->p);
        w->b->p[w->b->n] = '\0';
    }
    w->first[w->depth] = 0; /* as jw_sep leaves it after the items */
    jw_close(w, ']');
}

static void para_body(jw *w, const lp_para *p) {
    jw_lkey(w, KEY("text"));
    jw_strn(w, p->text, p->len);
    spans(w, KEY("sentences"), p->sents, p->nsents);
    if (p->ncites) {
        jw_lkey(w, KEY("cites"));
        jw_open(w, '[');
        for (size_t i = 0; i < p->ncites; i++) {
            const lp_cite *c = &p->cites[i];
            jw_sep(w);
            jw_open(w, '{');
            kv_str(w, KEY("ref"), c->ref);
            kv_str(w, KEY("type"), c->type);
            kv_int(w, KEY("start"), c->span.start);
            kv_int(w, KEY("end"), c->span.end);
            jw_close(w, '}');
        }
        jw_close(w, ']');
    }
}

static void paras(jw *w, const char *k, size_t kn, const lp_para *v, size_t n) {
    if (!n) return;
    jw_lkey(w, k, kn);
    jw_open(w, '[');
    for (size_t i = 0; i < n; i++) {
        jw_sep(w);
        jw_open(w, '{');
        para_body(w, &v[i]);
        jw_close(w, '}');
    }
    jw_close(w, ']');
}

static void name_obj(jw *w, const lp_name *nm) {
    jw_sep(w);
    jw_open(w, '{');
    kv_str(w, KEY("given"), nm->given);
    kv_str(w, KEY("family"), nm->family);
    kv_str(w, KEY("suffix"), nm->suffix);
    kv_str(w, KEY("literal"), nm->literal);
    kv_str(w, KEY("role"), nm->role);
    jw_close(w, '}');
}

/* v (0..9999) in decimal at o, zero-padded to `width` (at most 4) digits; returns the end. */
static char *put_padded(char *o, int v, int width) {
    char tmp[4];
    int k = 0;
    do tmp[k++] = (char)('0' + v % 10);
    while (v /= 10);
    while (k < width) tmp[k++] = '0';
    while (k) *o++ = tmp[--k];
    return o;
}

static void date_str(const lp_date *dt, char out[16]) {
    if (dt->year >= 0 && dt->year <= 9999 && dt->month >= 0 && dt->month <= 99 && dt->day >= 0 && dt->day <= 99) {
        /* what the snprintf calls below write, without them: every document has dates */
        char *o = put_padded(out, dt->year, 4);
        if (dt->month) {
            *o++ = '-';
            o = put_padded(o, dt->month, 2);
            if (dt->day) {
                *o++ = '-';
                o = put_padded(o, dt->day, 2);
            }
        }
        *o = '\0';
        return;
    }
    if (dt->month && dt->day) snprintf(out, 16, "%04d-%02d-%02d", dt->year, dt->month, dt->day);
    else if (dt->month) snprintf(out, 16, "%04d-%02d", dt->year, dt->month);
    else snprintf(out, 16, "%04d", dt->year);
}

int lp_doc_to_json(const lp_doc *d, lp_buf *out) {
    jw w = {.b = out};
    jw_open(&w, '{');
    kv_str(&w, KEY("id"), d->id);
    kv_str(&w, KEY("parent"), d->parent);
    str_list(&w, KEY("children"), d->children, d->nchildren);
    kv_str(&w, KEY("relation"), d->relation);

    if (d->doi || d->pmid || d->pmcid || d->arxiv || d->publisher_id || d->nother_ids) {
        jw_lkey(&w, KEY("ids"));
        jw_open(&w, '{');
        kv_str(&w, KEY("doi"), d->doi);
        kv_str(&w, KEY("pmid"), d->pmid);
        kv_str(&w, KEY("pmcid"), d->pmcid);
        kv_str(&w, KEY("arxiv"), d->arxiv);
        kv_str(&w, KEY("publisher_id"), d->publisher_id);
        for (size_t i = 0; i < d->nother_ids; i++) kv_dyn(&w, d->other_ids[i].key, d->other_ids[i].value);
        jw_close(&w, '}');
    }
    if (d->arxiv_version) kv_int(&w, KEY("arxiv_version"), d->arxiv_version);
    kv_str(&w, KEY("type"), d->type);
    kv_str(&w, KEY("item_type"), d->item_type);
    kv_str(&w, KEY("language"), d->language);
    kv_str(&w, KEY("title"), d->title);
    kv_str(&w, KEY("subtitle"), d->subtitle);

    if (d->nauthors) {
        jw_lkey(&w, KEY("authors"));
        jw_open(&w, '[');
        for (size_t i = 0; i < d->nauthors; i++) {
            const lp_author *a = &d->authors[i];
            jw_sep(&w);
            jw_open(&w, '{');
            kv_str(&w, KEY("given"), a->given);
            kv_str(&w, KEY("family"), a->family);
            kv_str(&w, KEY("suffix"), a->suffix);
            kv_str(&w, KEY("collab"), a->collab);
            kv_str(&w, KEY("orcid"), a->orcid);
            kv_str(&w, KEY("email"), a->email);
            kv_true(&w, KEY("corresponding"), a->corresponding);
            if (a->naffs) {
                jw_lkey(&w, KEY("affiliations"));
                jw_open(&w, '[');
                for (size_t k = 0; k < a->naffs; k++) {
                    jw_sep(&w);
                    jw_int(&w, a->affs[k]);
                }
                jw_close(&w, ']');
            }
            jw_close(&w, '}');
        }
        jw_close(&w, ']');
    }
    kv_true(&w, KEY("authors_et_al"), d->authors_et_al);
    if (d->naffs) {
        jw_lkey(&w, KEY("affiliations"));
        jw_open(&w, '[');
        for (size_t i = 0; i < d->naffs; i++) {
            jw_sep(&w);
            jw_open(&w, '{');
            kv_str(&w, KEY("id"), d->affs[i].id);
            kv_str(&w, KEY("text"), d->affs[i].text);
            jw_close(&w, '}');
        }
        jw_close(&w, ']');
    }
    if (d->neditors) {
        jw_lkey(&w, KEY("editors"));
        jw_open(&w, '[');
        for (size_t i = 0; i < d->neditors; i++) name_obj(&w, &d->editors[i]);
        jw_close(&w, ']');
    }
    if (d->ncontributors) {
        jw_lkey(&w, KEY("contributors"));
        jw_open(&w, '[');
        for (size_t i = 0; i < d->ncontributors; i++) name_obj(&w, &d->contributors[i]);
        jw_close(&w, ']');
    }

    kv_str(&w, KEY("venue"), d->venue);
    if (d->journal_abbrev || d->issn || d->eissn || d->publisher || d->volume || d->issue || d->pages) {
        jw_lkey(&w, KEY("journal"));
        jw_open(&w, '{');
        kv_str(&w, KEY("abbrev"), d->journal_abbrev);
        kv_str(&w, KEY("issn"), d->issn);
        kv_str(&w, KEY("eissn"), d->eissn);
        kv_str(&w, KEY("publisher"), d->publisher);
        kv_str(&w, KEY("volume"), d->volume);
        kv_str(&w, KEY("issue"), d->issue);
        kv_str(&w, KEY("pages"), d->pages);
        jw_close(&w, '}');
    }
    if (d->ndates) {
        jw_lkey(&w, KEY("dates"));
        jw_open(&w, '{');
        for (size_t i = 0; i < d->ndates; i++) {
            char ds[16];
            date_str(&d->dates[i], ds);
            kv_dyn(&w, d->dates[i].kind, ds);
        }
        jw_close(&w, '}');
    }
    if (d->year) kv_int(&w, KEY("year"), d->year);

    size_t nabs = 0;
    for (size_t i = 0; i < d->nabstract; i++) nabs += d->abstract[i].nparas;
    if (nabs) {
        jw_lkey(&w, KEY("abstract"));
        jw_open(&w, '[');
        for (size_t i = 0; i < d->nabstract; i++) {
            const lp_section *s = &d->abstract[i];
            for (size_t k = 0; k < s->nparas; k++) {
                jw_sep(&w);
                jw_open(&w, '{');
                kv_str(&w, KEY("label"), s->title);
                kv_str(&w, KEY("type"), s->type);
                para_body(&w, &s->paras[k]);
                jw_close(&w, '}');
            }
        }
        jw_close(&w, ']');
    }
    if (d->nsummaries) {
        jw_lkey(&w, KEY("summaries"));
        jw_open(&w, '[');
        for (size_t i = 0; i < d->nsummaries; i++) {
            const lp_summary *s = &d->summaries[i];
            jw_sep(&w);
            jw_open(&w, '{');
            kv_str(&w, KEY("type"), s->type);
            kv_str(&w, KEY("title"), s->title);
            jw_lkey(&w, KEY("paragraphs"));
            jw_open(&w, '[');
            for (size_t k = 0; k < s->nsecs; k++)
                for (size_t j = 0; j < s->secs[k].nparas; j++) {
                    jw_sep(&w);
                    jw_open(&w, '{');
                    kv_str(&w, KEY("label"), s->secs[k].title);
                    para_body(&w, &s->secs[k].paras[j]);
                    jw_close(&w, '}');
                }
            jw_close(&w, ']');
            jw_close(&w, '}');
        }
        jw_close(&w, ']');
    }
    str_list(&w, KEY("keywords"), d->keywords, d->nkeywords);
    str_list(&w, KEY("subjects"), d->subjects, d->nsubjects);
    str_list(&w, KEY("categories"), d->categories, d->ncategories);
    if (d->nmesh) {
        jw_lkey(&w, KEY("mesh"));
        jw_open(&w, '[');
        for (size_t i = 0; i < d->nmesh; i++) {
            const lp_mesh *m = &d->mesh[i];
            jw_sep(&w);
            jw_open(&w, '{');
            kv_str(&w, KEY("descriptor"), m->descriptor);
            kv_str(&w, KEY("ui"), m->ui);
            kv_true(&w, KEY("major"), m->major);
            if (m->nquals) {
                jw_lkey(&w, KEY("qualifiers"));
                jw_open(&w, '[');
                for (size_t k = 0; k < m->nquals; k++) {
                    jw_sep(&w);
                    jw_open(&w, '{');
                    kv_str(&w, KEY("name"), m->quals[k].name);
                    kv_str(&w, KEY("ui"), m->quals[k].ui);
                    kv_true(&w, KEY("major"), m->quals[k].major);
                    jw_close(&w, '}');
                }
                jw_close(&w, ']');
            }
            jw_close(&w, '}');
        }
        jw_close(&w, ']');
    }
    if (d->nchemicals) {
        jw_lkey(&w, KEY("chemicals"));
        jw_open(&w, '[');
        for (size_t i = 0; i < d->nchemicals; i++) {
            jw_sep(&w);
            jw_open(&w, '{');
            kv_str(&w, KEY("name"), d->chemicals[i].name);
            kv_str(&w, KEY("ui"), d->chemicals[i].ui);
            kv_str(&w, KEY("registry_number"), d->chemicals[i].registry);
            jw_close(&w, '}');
        }
        jw_close(&w, ']');
    }
    str_list(&w, KEY("publication_types"), d->pubtypes, d->npubtypes);

    size_t nsec = 0;
    for (size_t i = 0; i < d->nsections; i++) nsec += d->sections[i].nparas || d->sections[i].title;
    if (nsec) {
        jw_lkey(&w, KEY("sections"));
        jw_open(&w, '[');
        for (size_t i = 0; i < d->nsections; i++) {
            const lp_section *s = &d->sections[i];
            jw_sep(&w);
            jw_open(&w, '{');
            kv_str(&w, KEY("title"), s->title);
            kv_str(&w, KEY("label"), s->label);
            kv_str(&w, KEY("type"), s->type);
            kv_int(&w, KEY("level"), s->level);
            if (s->parent >= 0) kv_int(&w, KEY("parent"), s->parent);
            paras(&w, KEY("paragraphs"), s->paras, s->nparas);
            jw_close(&w, '}');
        }
        jw_close(&w, ']');
    }
    if (d->nfigures) {
        jw_lkey(&w, KEY("figures"));
        jw_open(&w, '[');
        for (size_t i = 0; i < d->nfigures; i++) {
            const lp_figure *f = &d->figures[i];
            jw_sep(&w);
            jw_open(&w, '{');
            kv_str(&w, KEY("id"), f->id);
            kv_str(&w, KEY("label"), f->label);
            kv_str(&w, KEY("kind"), f->kind);
            kv_str(&w, KEY("caption"), f->caption);
            jw_close(&w, '}');
        }
        jw_close(&w, ']');
    }
    if (d->nrefs) {
        jw_lkey(&w, KEY("references"));
        jw_open(&w, '[');
        for (size_t i = 0; i < d->nrefs; i++) {
            const lp_ref *r = &d->refs[i];
            jw_sep(&w);
            jw_open(&w, '{');
            kv_str(&w, KEY("id"), r->id);
            kv_str(&w, KEY("label"), r->label);
            kv_str(&w, KEY("type"), r->kind);
            if (r->nauthors) {
                jw_lkey(&w, KEY("authors"));
                jw_open(&w, '[');
                for (size_t k = 0; k < r->nauthors; k++) name_obj(&w, &r->authors[k]);
                jw_close(&w, ']');
            }
            kv_true(&w, KEY("et_al"), r->et_al);
            kv_str(&w, KEY("title"), r->title);
            kv_str(&w, KEY("source"), r->source);
            kv_str(&w, KEY("year"), r->year);
            kv_str(&w, KEY("volume"), r->volume);
            kv_str(&w, KEY("issue"), r->issue);
            kv_str(&w, KEY("pages"), r->pages);
            kv_str(&w, KEY("publisher"), r->publisher);
            kv_str(&w, KEY("doi"), r->doi);
            kv_str(&w, KEY("pmid"), r->pmid);
            kv_str(&w, KEY("pmcid"), r->pmcid);
            kv_str(&w, KEY("arxiv"), r->arxiv);
            kv_str(&w, KEY("url"), r->url);
            kv_str(&w, KEY("text"), r->text);
            jw_close(&w, '}');
        }
        jw_close(&w, ']');
    }
    if (d->license_type || d->license_url || d->license_text) {
        jw_lkey(&w, KEY("license"));
        jw_open(&w, '{');
        kv_str(&w, KEY("type"), d->license_type);
        kv_str(&w, KEY("url"), d->license_url);
        kv_str(&w, KEY("text"), d->license_text);
        kv_str(&w, KEY("from"), d->license_from);
        jw_close(&w, '}');
    }
    kv_str(&w, KEY("copyright"), d->copyright);
    kv_str(&w, KEY("comment"), d->comment);
    kv_str(&w, KEY("journal_ref"), d->journal_ref);
    kv_str(&w, KEY("url"), d->url);
    kv_str(&w, KEY("note"), d->note);

    jw_lkey(&w, KEY("sources"));
    jw_open(&w, '[');
    jw_sep(&w);
    jw_open(&w, '{');
    kv_str(&w, KEY("file"), d->src_file);
    kv_str(&w, KEY("format"), d->src_format);
    kv_int(&w, KEY("record"), d->src_record);
    kv_str(&w, KEY("key"), d->src_key);
    jw_close(&w, '}');
    jw_close(&w, ']');
    jw_close(&w, '}');
    jw_raw(&w, "\n", 1);
    return w.err ? -1 : 0;
}
