/* xml.c — the one place litparse touches libxml2: a SAX2 push parser with every network, DTD and
 * entity-expansion path shut, building a small arena tree per record. */
#include "xml.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RECORD_LIMIT ((size_t)256 << 20)

typedef struct parse_state {
    const lp_xml_cfg *cfg;
    lp_xml_info *info;
    lp_source *src;
    xmlParserCtxtPtr ctxt;
    lp_arena arena;
    lp_buf text;          /* pending characters of the current text run */
    unsigned text_line;
    int depth;            /* current element depth; the root is 1 */
    int rec_depth;        /* depth of record elements (1 or 2), 0 before the root */
    lp_node *cur;         /* innermost open element of the current record, or NULL */
    sl_status status;     /* first failure */
    int at_end;           /* the source is exhausted */
    int check_utf8;       /* validate UTF-8 as it is read */
    unsigned char carry[4]; /* the start of a UTF-8 sequence cut by a read boundary */
    size_t ncarry;
    uint64_t offset, lines; /* bytes and lines handed to libxml2 so far */
    const char *open_name[256]; /* open elements (libxml2 refuses deeper nesting) */
    const void *ckey[512];      /* classify() answers by interned name pointer */
    unsigned cval[512];
    unsigned open_line[256];
    char msg[1024];
    size_t limit;
} parse_state;

static void fail_at(parse_state *s, sl_status st, const char *fmt, ...) SL_PRINTF(3, 4);
static void fail_at(parse_state *s, sl_status st, const char *fmt, ...) {
    if (s->status != SL_OK) return;
    s->status = st;
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int line = s->ctxt ? xmlSAX2GetLineNumber(s->ctxt) : 0;
    int col = s->ctxt ? xmlSAX2GetColumnNumber(s->ctxt) : 0;
    snprintf(s->msg, sizeof s->msg, "%s:%d:%d: %s", lp_source_name(s->src), line, col, what);
    if (s->ctxt) xmlStopParser(s->ctxt);
}

static void fail_msg(parse_state *s, sl_status st, const char *msg) {
    if (s->status != SL_OK) return;
    s->status = st;
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    if (s->ctxt) xmlStopParser(s->ctxt);
}

static void oom(parse_state *s) {
    if (s->arena.over_limit)
        fail_at(s, SL_ERR_RANGE, "record exceeds the %zu MiB per-record memory limit", s->limit >> 20);
    else
        fail_at(s, SL_ERR_NOMEM, "out of memory");
}

/* Turn the pending characters into a text node of the current element. */
static void flush_text(parse_state *s) {
    if (s->text.n == 0) return;
    if (s->cur) {
        lp_node *t = lp_arena_alloc(&s->arena, sizeof *t);
        char *p = t ? lp_arena_strndup(&s->arena, s->text.p, s->text.n) : NULL;
        if (!p) {
            oom(s);
            s->text.n = 0;
            return;
        }
        memset(t, 0, sizeof *t);
        t->text = p;
        t->len = s->text.n;
        t->line = s->text_line;
        t->parent = s->cur;
        if (s->cur->last) s->cur->last->next = t;
        else s->cur->first = t;
        s->cur->last = t;
    }
    s->text.n = 0;
}

static void add_text(parse_state *s, const char *ch, size_t len) {
    if (!s->cur || s->status != SL_OK) return;
    if (s->text.n == 0) s->text_line = s->cur->line;
    if (s->text.n + len > s->limit || s->arena.used > s->limit - s->text.n - len) {
        fail_at(s, SL_ERR_RANGE, "record exceeds the %zu MiB per-record memory limit", s->limit >> 20);
        return;
    }
    if (lp_buf_add(&s->text, ch, len) != 0) fail_at(s, SL_ERR_NOMEM, "out of memory");
}

/* An attribute value as the document means it. Without entity substitution libxml2 hands SAX2
 * attribute values over with references still written ("MATERIALS &#38; METHODS"); resolve
 * character references, the predefined entities and the HTML/MathML names here. */
static char *attr_value(lp_arena *a, const char *v, size_t n) {
    if (!memchr(v, '&', n)) return lp_arena_strndup(a, v, n);
    char *o = lp_arena_alloc(a, n + 1), *p = o;
    if (!o) return NULL;
    for (size_t i = 0; i < n;) {
        if (v[i] != '&') {
            *p++ = v[i++];
            continue;
        }
        const char *semi = memchr(v + i, ';', n - i < 40 ? n - i : 40);
        if (!semi) {
            *p++ = v[i++];
            continue;
        }
        size_t len = (size_t)(semi - (v + i)); /* "&name" without ';' */
        char name[40];
        memcpy(name, v + i + 1, len - 1);
        name[len - 1] = '\0';
        char utf8[8];
        const char *rep = NULL;
        if (name[0] == '#') {
            unsigned long cp = name[1] == 'x' || name[1] == 'X' ? strtoul(name + 2, NULL, 16) : strtoul(name + 1, NULL, 10);
            int k = cp ? lp_utf8_put((uint32_t)cp, utf8) : 0;
            utf8[k] = '\0';
            if (k) rep = utf8;
        } else if (!strcmp(name, "amp")) rep = "&";
        else if (!strcmp(name, "lt")) rep = "<";
        else if (!strcmp(name, "gt")) rep = ">";
        else if (!strcmp(name, "quot")) rep = "\"";
        else if (!strcmp(name, "apos")) rep = "'";
        else rep = lp_entity_lookup(name);
        if (!rep) {
            *p++ = v[i++];
            continue;
        }
        /* a replacement is never longer than its reference ("&#38;" -> "&", "&ndash;" -> 3 bytes) */
        size_t rl = strlen(rep);
        if (rl > len + 1) {
            *p++ = v[i++];
            continue;
        }
        memcpy(p, rep, rl);
        p += rl;
        i += len + 1;
    }
    *p = '\0';
    return o;
}

/* classify() through a small cache keyed by the dictionary-interned name pointer. */
static unsigned classify(parse_state *s, const char *name) {
    size_t h = ((uintptr_t)name >> 3) & 511;
    for (size_t k = 0; k < 8; k++, h = (h + 1) & 511) {
        if (s->ckey[h] == name) return s->cval[h];
        if (!s->ckey[h]) {
            s->ckey[h] = name;
            return s->cval[h] = s->cfg->classify(name);
        }
    }
    return s->cfg->classify(name);
}

static void on_start(void *ud, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri, int nb_ns,
                     const xmlChar **ns, int nb_attr, int nb_def, const xmlChar **attrs) {
    (void)prefix, (void)nb_ns, (void)ns, (void)nb_def;
    parse_state *s = ud;
    if (s->status != SL_OK) return;
    s->depth++;
    if (s->depth <= 256) {
        s->open_name[s->depth - 1] = (const char *)localname;
        s->open_line[s->depth - 1] = (unsigned)xmlSAX2GetLineNumber(s->ctxt);
    }
    if (s->depth == 1) {
        snprintf(s->info->root_buf, sizeof s->info->root_buf, "%s", (const char *)localname);
        s->info->root = s->info->root_buf;
        s->rec_depth = 1;
        for (const char *const *w = s->cfg->wrappers; w && *w; w++)
            if (strcmp(*w, (const char *)localname) == 0) s->rec_depth = 2;
    }
    if (s->depth < s->rec_depth) return;
    if (s->depth > s->rec_depth && !s->cur) return; /* cannot happen; defensive */
    flush_text(s);
    lp_node *n = lp_arena_alloc(&s->arena, sizeof *n);
    if (!n) {
        oom(s);
        return;
    }
    memset(n, 0, sizeof *n);
    /* names and URIs are interned in the parser's dictionary and outlive the record */
    n->name = (const char *)localname;
    n->ns = (const char *)uri;
    if (s->cfg->classify) n->flags = classify(s, (const char *)localname);
    n->line = (unsigned)xmlSAX2GetLineNumber(s->ctxt);
    if (nb_attr > 0) {
        n->attrs = lp_arena_alloc(&s->arena, (size_t)nb_attr * sizeof *n->attrs);
        if (!n->attrs) {
            oom(s);
            return;
        }
        for (int i = 0; i < nb_attr; i++) {
            const xmlChar *const *a = attrs + 5 * i;
            n->attrs[i].name = (const char *)a[0];
            n->attrs[i].value = attr_value(&s->arena, (const char *)a[3], (size_t)(a[4] - a[3]));
            if (!n->attrs[i].value) {
                oom(s);
                return;
            }
        }
        n->nattrs = (unsigned)nb_attr;
    }
    if (s->cur) {
        n->parent = s->cur;
        if (s->cur->last) s->cur->last->next = n;
        else s->cur->first = n;
        s->cur->last = n;
    }
    s->cur = n;
}

static void on_end(void *ud, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri) {
    (void)localname, (void)prefix, (void)uri;
    parse_state *s = ud;
    if (s->status != SL_OK) return;
    if (s->cur) {
        flush_text(s);
        if (s->depth == s->rec_depth) {
            lp_node *rec = s->cur;
            s->cur = NULL;
            if (s->status == SL_OK) {
                sl_status st = s->cfg->record(s->cfg->user, rec, &s->arena);
                s->info->records++;
                if (st != SL_OK) fail_msg(s, st, sl_last_error());
            }
            lp_arena_reset(&s->arena);
        } else {
            s->cur = s->cur->parent;
        }
    }
    s->depth--;
}

static void on_chars(void *ud, const xmlChar *ch, int len) { add_text(ud, (const char *)ch, (size_t)len); }

static void on_reference(void *ud, const xmlChar *name) {
    parse_state *s = ud;
    const char *u = lp_entity_lookup((const char *)name);
    if (u) {
        add_text(s, u, strlen(u));
        return;
    }
    if (s->info->unknown_entities++ == 0) snprintf(s->info->first_unknown, sizeof s->info->first_unknown, "%s", (const char *)name);
    add_text(s, "&", 1);
    add_text(s, (const char *)name, strlen((const char *)name));
    add_text(s, ";", 1);
}

static xmlEntityPtr on_get_entity(void *ud, const xmlChar *name) {
    (void)ud, (void)name;
    return NULL; /* never expand a declared entity */
}

static xmlParserInputPtr on_resolve(void *ud, const xmlChar *public_id, const xmlChar *system_id) {
    (void)public_id;
    parse_state *s = ud;
    fail_at(s, SL_ERR_INVALID, "refusing to load external resource '%s' (external DTDs and entities are never read)",
            system_id ? (const char *)system_id : "?");
    return NULL;
}

static void on_entity_decl(void *ud, const xmlChar *name, int type, const xmlChar *public_id, const xmlChar *system_id,
                           xmlChar *content) {
    (void)type, (void)public_id, (void)content;
    parse_state *s = ud;
    fail_at(s, SL_ERR_INVALID,
            "the DOCTYPE declares entity '%s'%s%s%s; documents that declare entities are refused "
            "(entity declarations are how external-entity and entity-expansion attacks work)",
            (const char *)name, system_id ? " pointing to '" : "", system_id ? (const char *)system_id : "", system_id ? "'" : "");
}

static void on_serror(void *ud, xmlErrorPtr err) {
    parse_state *s = ud;
    if (!err || err->level < XML_ERR_ERROR) return;
    /* an entity the (unread) DTD would define: on_reference resolves it */
    if (err->code == XML_WAR_UNDECLARED_ENTITY) return;
    char m[512];
    snprintf(m, sizeof m, "%s", err->message ? err->message : "malformed XML");
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' ')) m[--n] = '\0';
    if (err->level == XML_ERR_ERROR) {
        /* recoverable (an undeclared namespace prefix, ...): the document is still read */
        if (s->info->errors++ == 0)
            snprintf(s->info->first_error, sizeof s->info->first_error, "%s:%d:%d: %s", lp_source_name(s->src), err->line,
                     err->int2, m);
        return;
    }
    if (s->status != SL_OK) return;
    s->status = SL_ERR_PARSE;
    int consumed = s->ctxt && s->ctxt->input && s->ctxt->input->cur && s->ctxt->input->cur >= s->ctxt->input->end;
    if (s->at_end && consumed && s->depth > 0 && s->depth <= 256) {
        /* libxml2 says "Extra content" or "Premature end" here; name what is left open instead */
        snprintf(s->msg, sizeof s->msg, "%s:%d:%d: malformed XML: the file ends inside <%s> opened at line %u (truncated?)",
                 lp_source_name(s->src), err->line, err->int2, s->open_name[s->depth - 1], s->open_line[s->depth - 1]);
        return;
    }
    snprintf(s->msg, sizeof s->msg, "%s:%d:%d: malformed XML: %s", lp_source_name(s->src), err->line, err->int2, m);
}

static void utf8_error(parse_state *s, uint64_t line, uint64_t off, unsigned char byte) {
    if (s->status != SL_OK) return;
    s->status = SL_ERR_PARSE;
    snprintf(s->msg, sizeof s->msg, "%s:%llu: invalid UTF-8 at byte offset %llu (byte 0x%02X)%s", lp_source_name(s->src),
             (unsigned long long)line, (unsigned long long)off, byte, lp_source_gz(s->src) ? " of the decompressed stream" : "");
}

/* libxml2's input: read the source, check UTF-8 on the way (exact byte offsets in messages). */
static int io_read(void *ctx, char *out, int len) {
    parse_state *s = ctx;
    if (s->status != SL_OK || s->at_end) return s->status != SL_OK ? -1 : 0;
    long k = lp_source_read(s->src, out, (size_t)len);
    if (k < 0) {
        if (s->status == SL_OK) {
            s->status = sl_last_status();
            snprintf(s->msg, sizeof s->msg, "%s", sl_last_error());
        }
        return -1;
    }
    unsigned char *buf = (unsigned char *)out;
    size_t n = (size_t)k;
    if (k == 0) {
        s->at_end = 1;
        if (s->check_utf8 && s->ncarry) {
            utf8_error(s, s->lines, s->offset - s->ncarry, s->carry[0]);
            return -1;
        }
        return 0;
    }
    if (s->check_utf8) {
        size_t skip = 0, bad;
        if (s->ncarry) {
            /* finish the sequence cut by the previous read */
            size_t seq = s->carry[0] >= 0xF0 ? 4 : s->carry[0] >= 0xE0 ? 3 : 2;
            size_t need = seq - s->ncarry, take = need <= n ? need : n, t2;
            unsigned char tmp[8];
            memcpy(tmp, s->carry, s->ncarry);
            memcpy(tmp + s->ncarry, buf, take);
            bad = lp_utf8_check(tmp, s->ncarry + take, take < need, &t2);
            if (bad < s->ncarry + take) {
                utf8_error(s, s->lines, s->offset - s->ncarry + bad, tmp[bad]);
                return -1;
            }
            if (take < need) {
                memcpy(s->carry + s->ncarry, buf, take);
                s->ncarry += take;
                skip = n;
            } else {
                s->ncarry = 0;
                skip = need;
            }
        }
        if (skip < n) {
            size_t tail = 0;
            bad = lp_utf8_check(buf + skip, n - skip, 1, &tail) + skip;
            if (bad < n) {
                uint64_t ln = s->lines;
                for (size_t i = 0; i < bad; i++) ln += buf[i] == '\n';
                utf8_error(s, ln, s->offset + bad, buf[bad]);
                return -1;
            }
            s->ncarry = tail;
            if (tail) memcpy(s->carry, buf + n - tail, tail);
        }
        for (const unsigned char *p = buf, *e = buf + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++) s->lines++;
    }
    s->offset += n;
    return (int)n;
}

static int io_close(void *ctx) {
    (void)ctx;
    return 0;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void init_libxml(void) { xmlInitParser(); }

/* Encoding named in the XML declaration of the first bytes, lower-cased into out ("" if none). */
static void declared_encoding(const unsigned char *p, size_t n, char *out, size_t outsz) {
    out[0] = '\0';
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) p += 3, n -= 3;
    if (n < 5 || memcmp(p, "<?xml", 5) != 0) return;
    size_t end = 5;
    while (end + 1 < n && !(p[end] == '?' && p[end + 1] == '>')) end++;
    for (size_t i = 5; i + 8 < end; i++) {
        if (memcmp(p + i, "encoding", 8) != 0) continue;
        size_t j = i + 8;
        while (j < end && (p[j] == ' ' || p[j] == '=' || p[j] == '\t')) j++;
        if (j >= end || (p[j] != '"' && p[j] != '\'')) return;
        char q = (char)p[j++];
        size_t k = 0;
        while (j < end && p[j] != (unsigned char)q && k + 1 < outsz) {
            char c = (char)p[j++];
            out[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        out[k] = '\0';
        return;
    }
}

sl_status lp_xml_parse(lp_source *src, const lp_xml_cfg *cfg, lp_xml_info *info) {
    lp_xml_info local_info;
    if (!info) info = &local_info;
    memset(info, 0, sizeof *info);
    info->root = "";
    pthread_once(&init_once, init_libxml);

    parse_state s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.info = info;
    s.src = src;
    s.limit = cfg->max_record_bytes ? cfg->max_record_bytes : DEFAULT_RECORD_LIMIT;
    lp_arena_init(&s.arena, s.limit);

    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.characters = on_chars;
    sax.cdataBlock = on_chars;
    sax.reference = on_reference;
    sax.getEntity = on_get_entity;
    sax.getParameterEntity = on_get_entity;
    sax.resolveEntity = on_resolve;
    sax.entityDecl = on_entity_decl;
    sax.unparsedEntityDecl = NULL;
    sax.externalSubset = NULL; /* the external DTD is never read */
    sax.serror = on_serror;

    const unsigned char *peek;
    size_t npeek;
    sl_status st = lp_source_peek(src, 4096, &peek, &npeek);
    if (st != SL_OK) return st;
    char enc[32];
    declared_encoding(peek, npeek, enc, sizeof enc);
    int utf16 = npeek >= 2 && ((peek[0] == 0xFE && peek[1] == 0xFF) || (peek[0] == 0xFF && peek[1] == 0xFE));
    /* check UTF-8 ourselves (exact byte offsets); other declared encodings are libxml2's job */
    int check_utf8 = !utf16 && (enc[0] == '\0' || strcmp(enc, "utf-8") == 0 || strcmp(enc, "utf8") == 0);

    s.check_utf8 = check_utf8;
    s.lines = 1;
    if (npeek == 0) return sl_set_error(SL_ERR_PARSE, "%s: empty file (expected an XML document)", lp_source_name(src));
    /* a pull parser reading through io_read: faster than feeding a push parser chunks */
    s.ctxt = xmlCreateIOParserCtxt(&sax, &s, io_read, io_close, &s, XML_CHAR_ENCODING_NONE);
    if (!s.ctxt) return sl_set_error(SL_ERR_NOMEM, "%s: cannot create an XML parser", lp_source_name(src));
    if (s.ctxt->input) s.ctxt->input->filename = (char *)xmlStrdup((const xmlChar *)lp_source_name(src));
    /* no network, no DTD loading, no entity substitution, no XInclude, keep libxml2's size limits */
    xmlCtxtUseOptions(s.ctxt, XML_PARSE_NONET | XML_PARSE_NOXINCNODE);
    s.ctxt->replaceEntities = 0;
    s.ctxt->loadsubset = 0;
    s.ctxt->validate = 0;
    xmlParseDocument(s.ctxt);
    if (s.status == SL_OK && s.depth > 0 && s.depth <= 256)
        fail_at(&s, SL_ERR_PARSE, "malformed XML: the file ends inside <%s> opened at line %u (truncated?)", s.open_name[s.depth - 1],
                s.open_line[s.depth - 1]);
    if (s.status == SL_OK && !info->root[0])
        fail_at(&s, SL_ERR_PARSE, "no root element (the file holds no XML document)");

    /* some internal-subset declarations make libxml2 build a document node the context does not own */
    if (s.ctxt->myDoc) {
        xmlFreeDoc(s.ctxt->myDoc);
        s.ctxt->myDoc = NULL;
    }
    xmlFreeParserCtxt(s.ctxt);
    s.ctxt = NULL;
    lp_buf_free(&s.text);
    lp_arena_free(&s.arena);
    if (s.status != SL_OK) return sl_set_error(s.status, "%s", s.msg);
    return SL_OK;
}

/* --- tree helpers --- */

lp_node *lp_child(const lp_node *n, const char *name) {
    if (!n) return NULL;
    for (lp_node *c = n->first; c; c = c->next)
        if (c->name && (!name || (c->name[0] == name[0] && strcmp(c->name, name) == 0))) return c;
    return NULL;
}

lp_node *lp_next(const lp_node *c, const char *name) {
    if (!c) return NULL;
    for (c = c->next; c; c = c->next)
        if (c->name && (!name || (c->name[0] == name[0] && strcmp(c->name, name) == 0))) return (lp_node *)c;
    return NULL;
}

lp_node *lp_path(const lp_node *n, const char *path) {
    char part[64];
    while (n && *path) {
        const char *sl = strchr(path, '/');
        size_t len = sl ? (size_t)(sl - path) : strlen(path);
        if (len >= sizeof part) return NULL;
        memcpy(part, path, len);
        part[len] = '\0';
        n = lp_child(n, part);
        path += len + (sl ? 1 : 0);
    }
    return (lp_node *)n;
}

lp_node *lp_find_next(const lp_node *root, const lp_node *cur, const char *name, int skip_children) {
    const lp_node *n = cur;
    for (;;) {
        if (n->first && !(skip_children && n == cur)) n = n->first;
        else {
            while (n != root && !n->next) n = n->parent;
            if (n == root) return NULL;
            n = n->next;
        }
        if (n->name && (!name || (n->name[0] == name[0] && strcmp(n->name, name) == 0))) return (lp_node *)n;
    }
}

lp_node *lp_find(const lp_node *n, const char *name) { return n ? lp_find_next(n, n, name, 0) : NULL; }

const char *lp_attr_get(const lp_node *n, const char *name) {
    if (!n) return NULL;
    for (unsigned i = 0; i < n->nattrs; i++)
        if (n->attrs[i].name[0] == name[0] && strcmp(n->attrs[i].name, name) == 0) return n->attrs[i].value;
    return NULL;
}

int lp_attr_is(const lp_node *n, const char *name, const char *value) {
    const char *v = lp_attr_get(n, name);
    return v && strcmp(v, value) == 0;
}

/* Walk text nodes below n in order, calling fn. */
#define WALK_TEXT(root, t, body)                            \
    do {                                                    \
        const lp_node *t = (root);                          \
        if (!t->name) { body; break; }                      \
        while ((t = lp_find_next_any((root), t)) != NULL) { \
            if (!t->name) { body; }                         \
        }                                                   \
    } while (0)

static const lp_node *lp_find_next_any(const lp_node *root, const lp_node *n) {
    if (n->first) return n->first;
    while (n != root && !n->next) n = n->parent;
    if (n == root) return NULL;
    return n->next;
}

char *lp_text(lp_arena *a, const lp_node *n) {
    if (!n) return NULL;
    size_t total = 0;
    WALK_TEXT(n, t, total += t->len);
    if (total == 0) return NULL;
    char *p = lp_arena_alloc(a, total + 1);
    if (!p) return NULL;
    size_t o = 0;
    WALK_TEXT(n, t, (memcpy(p + o, t->text, t->len), o += t->len));
    size_t m = lp_norm_inplace(p, o);
    if (m == 0) return NULL;
    p[m] = '\0';
    return p;
}

int lp_text_append(lp_buf *b, const lp_node *n) {
    if (!n) return 0;
    int rc = 0;
    WALK_TEXT(n, t, if (lp_buf_add(b, t->text, t->len) != 0) rc = -1);
    return rc;
}
