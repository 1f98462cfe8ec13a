/* json.c — strict, bounded recursive-descent JSON parser into an arena-allocated tree. */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct chunk { struct chunk *next; size_t used, size; _Alignas(16) unsigned char data[]; } chunk;

struct sli_json {
    chunk *chunks;
    sli_jnode *root;
};

typedef struct {
    const unsigned char *p, *end, *start;
    sli_json *doc;
    int depth, max_depth;
    char *err;
    size_t err_size;
    bool failed;
    size_t nodes;
} parser;

/* At most this many values per document: bounds memory (~80 bytes a node) whatever the input. */
#define MAX_NODES ((size_t)4 << 20)

static void *arena_alloc(sli_json *doc, size_t n) {
    n = (n + 15) & ~(size_t)15;
    chunk *c = doc->chunks;
    if (!c || c->size - c->used < n) {
        size_t sz = n > 65536 ? n : 65536;
        c = malloc(sizeof *c + sz);
        if (!c) return NULL;
        c->size = sz;
        c->used = 0;
        c->next = doc->chunks;
        doc->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static void fail(parser *ps, const char *what) {
    if (ps->failed) return;
    ps->failed = true;
    snprintf(ps->err, ps->err_size, "byte %zu: %s", (size_t)(ps->p - ps->start), what);
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static sli_jnode *new_node(parser *ps, sli_jtype type) {
    if (++ps->nodes > MAX_NODES) { fail(ps, "too many JSON values"); return NULL; }
    sli_jnode *n = arena_alloc(ps->doc, sizeof *n);
    if (!n) { fail(ps, "out of memory"); return NULL; }
    memset(n, 0, sizeof *n);
    n->type = type;
    n->offset = (size_t)(ps->p - ps->start);
    return n;
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0 if invalid (overlongs, surrogates, > U+10FFFF rejected). */
static int utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    int n;
    unsigned min;
    if ((c & 0xe0) == 0xc0) { n = 2; min = 0x80; c &= 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 3; min = 0x800; c &= 0x0f; }
    else if ((c & 0xf8) == 0xf0) { n = 4; min = 0x10000; c &= 0x07; }
    else return 0;
    if (end - p < n) return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    return n;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out) {
    if (end - p < 4) return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(unsigned char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { o[0] = (unsigned char)(0xc0 | (cp >> 6)); o[1] = (unsigned char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | (cp >> 12)); o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | (cp >> 18)); o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Parse a string at ps->p (on the opening quote). Decoded text is never longer than the source. */
static const char *parse_string(parser *ps, size_t *len_out) {
    ps->p++; /* opening quote */
    const unsigned char *q = ps->p;
    /* find the closing quote to size the buffer */
    while (q < ps->end && *q != '"') q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
    if (q >= ps->end) { fail(ps, "unterminated string"); return NULL; }
    unsigned char *out = arena_alloc(ps->doc, (size_t)(q - ps->p) + 1);
    if (!out) { fail(ps, "out of memory"); return NULL; }
    size_t n = 0;
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned c = *ps->p;
        if (c < 0x20) { fail(ps, "control character in string"); return NULL; }
        if (c == '\\') {
            if (ps->end - ps->p < 2) { fail(ps, "truncated escape"); return NULL; }
            unsigned e = ps->p[1];
            ps->p += 2;
            switch (e) {
            case '"': out[n++] = '"'; break;
            case '\\': out[n++] = '\\'; break;
            case '/': out[n++] = '/'; break;
            case 'b': out[n++] = '\b'; break;
            case 'f': out[n++] = '\f'; break;
            case 'n': out[n++] = '\n'; break;
            case 'r': out[n++] = '\r'; break;
            case 't': out[n++] = '\t'; break;
            case 'u': {
                unsigned cp;
                if (!hex4(ps->p, ps->end, &cp)) { fail(ps, "bad \\u escape"); return NULL; }
                ps->p += 4;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    unsigned lo;
                    if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || !hex4(ps->p + 2, ps->end, &lo) ||
                        lo < 0xdc00 || lo > 0xdfff) {
                        fail(ps, "lone surrogate in \\u escape");
                        return NULL;
                    }
                    ps->p += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                    fail(ps, "lone surrogate in \\u escape");
                    return NULL;
                }
                n += put_utf8(out + n, cp);
                break;
            }
            default: fail(ps, "unknown escape"); return NULL;
            }
            continue;
        }
        int l = utf8_len(ps->p, ps->end);
        if (!l) { fail(ps, "invalid UTF-8 in string"); return NULL; }
        memcpy(out + n, ps->p, (size_t)l);
        n += (size_t)l;
        ps->p += l;
    }
    ps->p++; /* closing quote */
    out[n] = '\0';
    *len_out = n;
    return (const char *)out;
}

static sli_jnode *parse_value(parser *ps);

static sli_jnode *parse_number(parser *ps) {
    sli_jnode *node = new_node(ps, SLI_JNUM);
    if (!node) return NULL;
    const unsigned char *s = ps->p;
    bool is_int = true;
    if (ps->p < ps->end && *ps->p == '-') ps->p++;
    if (ps->p >= ps->end) { fail(ps, "truncated number"); return NULL; }
    if (*ps->p == '0') {
        ps->p++;
        if (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') { fail(ps, "leading zero in number"); return NULL; }
    } else if (*ps->p >= '1' && *ps->p <= '9') {
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    } else {
        fail(ps, "invalid number");
        return NULL;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        is_int = false;
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') { fail(ps, "digit expected after '.'"); return NULL; }
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        is_int = false;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') { fail(ps, "digit expected in exponent"); return NULL; }
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    char buf[64];
    size_t n = (size_t)(ps->p - s);
    if (n >= sizeof buf) { /* very long literal: value only as double, never as an integer */
        node->num = 0;
        node->is_int = false;
        char *tmp = malloc(n + 1);
        if (!tmp) { fail(ps, "out of memory"); return NULL; }
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        node->num = strtod(tmp, NULL);
        free(tmp);
        return node;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    node->num = strtod(buf, NULL);
    if (is_int) {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) { node->is_int = true; node->i = v; }
    }
    return node;
}

/* Growable temporary list, copied into the arena when complete. */
typedef struct { void **v; size_t n, cap; } vec;

static bool vec_push(vec *a, void *x) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        void **v = realloc(a->v, cap * sizeof *v);
        if (!v) return false;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return true;
}

static sli_jnode *parse_container(parser *ps, bool is_obj) {
    if (++ps->depth > ps->max_depth) { fail(ps, "nesting too deep"); return NULL; }
    sli_jnode *node = new_node(ps, is_obj ? SLI_JOBJ : SLI_JARR);
    if (!node) return NULL;
    ps->p++;
    vec items = { 0 }, keys = { 0 }, lens = { 0 };
    skip_ws(ps);
    char close = is_obj ? '}' : ']';
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
    } else {
        for (;;) {
            skip_ws(ps);
            if (is_obj) {
                if (ps->p >= ps->end || *ps->p != '"') { fail(ps, "object key (a string) expected"); break; }
                size_t kl;
                const char *k = parse_string(ps, &kl);
                if (!k) break;
                if (!vec_push(&keys, (void *)k) || !vec_push(&lens, (void *)(uintptr_t)kl)) { fail(ps, "out of memory"); break; }
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') { fail(ps, "':' expected after object key"); break; }
                ps->p++;
            }
            sli_jnode *v = parse_value(ps);
            if (!v) break;
            if (!vec_push(&items, v)) { fail(ps, "out of memory"); break; }
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
            if (ps->p < ps->end && *ps->p == close) { ps->p++; break; }
            fail(ps, is_obj ? "',' or '}' expected" : "',' or ']' expected");
            break;
        }
    }
    if (!ps->failed) {
        node->len = items.n;
        node->items = arena_alloc(ps->doc, (items.n ? items.n : 1) * sizeof *node->items);
        if (!node->items) fail(ps, "out of memory");
        else if (items.n) memcpy(node->items, items.v, items.n * sizeof *node->items);
        if (is_obj && !ps->failed) {
            node->keys = arena_alloc(ps->doc, (keys.n ? keys.n : 1) * sizeof *node->keys);
            node->key_lens = arena_alloc(ps->doc, (keys.n ? keys.n : 1) * sizeof *node->key_lens);
            if (!node->keys || !node->key_lens) fail(ps, "out of memory");
            else
                for (size_t i = 0; i < keys.n; i++) {
                    node->keys[i] = keys.v[i];
                    node->key_lens[i] = (size_t)(uintptr_t)lens.v[i];
                }
        }
    }
    free(items.v);
    free(keys.v);
    free(lens.v);
    ps->depth--;
    return ps->failed ? NULL : node;
}

static bool literal(parser *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n)) return false;
    ps->p += n;
    return true;
}

static sli_jnode *parse_value(parser *ps) {
    skip_ws(ps);
    if (ps->p >= ps->end) { fail(ps, "value expected"); return NULL; }
    unsigned c = *ps->p;
    if (c == '{') return parse_container(ps, true);
    if (c == '[') return parse_container(ps, false);
    if (c == '"') {
        sli_jnode *n = new_node(ps, SLI_JSTR);
        if (!n) return NULL;
        n->str = parse_string(ps, &n->len);
        return n->str ? n : NULL;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(ps);
    sli_jnode *n = new_node(ps, SLI_JNULL);
    if (!n) return NULL;
    if (literal(ps, "null")) return n;
    if (literal(ps, "true")) { n->type = SLI_JBOOL; n->b = true; return n; }
    if (literal(ps, "false")) { n->type = SLI_JBOOL; n->b = false; return n; }
    fail(ps, "value expected (object, array, string, number, true, false or null)");
    return NULL;
}

sli_json *sli_json_parse(const char *text, size_t len, int max_depth, char *err, size_t err_size) {
    sli_json *doc = calloc(1, sizeof *doc);
    if (!doc) { snprintf(err, err_size, "out of memory"); return NULL; }
    parser ps = { (const unsigned char *)text, (const unsigned char *)text + len, (const unsigned char *)text, doc, 0,
                  max_depth, err, err_size, false, 0 };
    doc->root = parse_value(&ps);
    if (doc->root) {
        skip_ws(&ps);
        if (ps.p != ps.end) fail(&ps, "trailing characters after the JSON value");
    }
    if (ps.failed || !doc->root) {
        if (!ps.failed) snprintf(err, err_size, "invalid JSON");
        sli_json_free(doc);
        return NULL;
    }
    return doc;
}

const sli_jnode *sli_json_root(const sli_json *doc) { return doc->root; }

void sli_json_free(sli_json *doc) {
    if (!doc) return;
    chunk *c = doc->chunks;
    while (c) {
        chunk *n = c->next;
        free(c);
        c = n;
    }
    free(doc);
}

const sli_jnode *sli_json_get(const sli_jnode *obj, const char *key) {
    if (!obj || obj->type != SLI_JOBJ) return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->len; i++)
        if (obj->key_lens[i] == kl && !memcmp(obj->keys[i], key, kl)) return obj->items[i];
    return NULL;
}
