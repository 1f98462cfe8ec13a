/* xml.c — safe streaming XML reading: the record-tree builder, the libxml2 reader (for encodings
 * other than UTF-8 and for documents with an internal DTD subset) and the choice between it and
 * litparse's own UTF-8 reader (xmlscan.c). */
#include "xml.h"
#include "xmlbuild.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define DEFAULT_RECORD_LIMIT ((size_t)256 << 20)

/* --- the builder --- */

void lpx_fail(lpx_state *s, sl_status st, const char *fmt, ...) {
    if (s->status != SL_OK) return;
    s->status = st;
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int line = 0, col = 0;
    if (s->where) s->where(s, &line, &col);
    snprintf(s->msg, sizeof s->msg, "%s:%d:%d: %s", lp_source_name(s->src), line, col, what);
    if (s->stop) s->stop(s);
}

void lpx_fail_msg(lpx_state *s, sl_status st, const char *msg) {
    if (s->status != SL_OK) return;
    s->status = st;
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    if (s->stop) s->stop(s);
}

void lpx_recoverable(lpx_state *s, int line, int col, const char *msg) {
    if (s->info->errors++ == 0)
        snprintf(s->info->first_error, sizeof s->info->first_error, "%s:%d:%d: %s", lp_source_name(s->src), line, col, msg);
}

static void oom(lpx_state *s) {
    if (s->arena.over_limit)
        lpx_fail(s, SL_ERR_RANGE, "record exceeds the %zu MiB per-record memory limit", s->limit >> 20);
    else
        lpx_fail(s, SL_ERR_NOMEM, "out of memory");
}

/* Pending characters: a borrowed run of the reader's buffer, or what was copied into s->text. */
static const char *pending(const lpx_state *s, size_t *n) {
    *n = s->borrow ? s->borrow_n : s->text.n;
    return s->borrow ? s->borrow : s->text.p;
}

void lpx_unborrow(lpx_state *s) {
    if (!s->borrow) return;
    const char *p = s->borrow;
    s->borrow = NULL;
    if (lp_buf_add(&s->text, p, s->borrow_n) != 0) lpx_fail(s, SL_ERR_NOMEM, "out of memory");
}

/* Turn the pending characters into a text node of the current element. */
static void flush_text(lpx_state *s) {
    size_t n;
    const char *src = pending(s, &n);
    if (n == 0) return;
    if (s->cur) {
        /* the node and its characters in one allocation */
        lp_node *t = lp_arena_alloc(&s->arena, sizeof *t + n + 1);
        if (!t) {
            oom(s);
            s->text.n = 0;
            s->borrow = NULL;
            return;
        }
        char *p = (char *)(t + 1);
        memcpy(p, src, n);
        p[n] = '\0';
        memset(t, 0, sizeof *t);
        t->text = p;
        t->len = n;
        t->line = s->text_line;
        t->parent = s->cur;
        if (s->cur->last) s->cur->last->next = t;
        else s->cur->first = t;
        s->cur->last = t;
    }
    s->text.n = 0;
    s->borrow = NULL;
}

static void add_text(lpx_state *s, const char *ch, size_t len, int stable) {
    if (!s->cur || s->status != SL_OK) return;
    size_t n;
    pending(s, &n);
    if (n == 0) s->text_line = s->cur->line;
    if (n + len > s->limit || s->arena.used > s->limit - n - len) {
        lpx_fail(s, SL_ERR_RANGE, "record exceeds the %zu MiB per-record memory limit", s->limit >> 20);
        return;
    }
    if (n == 0 && stable) {
        /* most text nodes are one run: copy it once, into the node, when it is complete */
        s->borrow = ch;
        s->borrow_n = len;
        return;
    }
    lpx_unborrow(s);
    if (lp_buf_add(&s->text, ch, len) != 0) lpx_fail(s, SL_ERR_NOMEM, "out of memory");
}

void lpx_text(lpx_state *s, const char *ch, size_t len) { add_text(s, ch, len, 0); }

void lpx_text_borrowed(lpx_state *s, const char *ch, size_t len) { add_text(s, ch, len, 1); }

/* classify() through a small cache keyed by the interned name pointer. */
static unsigned classify(lpx_state *s, const char *name) {
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

void lpx_start(lpx_state *s, const char *localname, const char *uri, const lp_attr *attrs, unsigned nattrs, unsigned line) {
    if (s->status != SL_OK) return;
    s->depth++;
    if (s->depth <= LPX_MAX_DEPTH) {
        s->open_name[s->depth - 1] = localname;
        s->open_line[s->depth - 1] = line;
    }
    if (s->depth == 1) {
        snprintf(s->info->root_buf, sizeof s->info->root_buf, "%s", localname);
        s->info->root = s->info->root_buf;
        s->rec_depth = 1;
        for (const char *const *w = s->cfg->wrappers; w && *w; w++)
            if (strcmp(*w, localname) == 0) s->rec_depth = 2;
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
    n->name = localname;
    n->ns = uri;
    if (s->cfg->classify) n->flags = classify(s, localname);
    n->line = line;
    if (nattrs > 0) {
        n->attrs = lp_arena_alloc(&s->arena, (size_t)nattrs * sizeof *n->attrs);
        if (!n->attrs) {
            oom(s);
            return;
        }
        for (unsigned i = 0; i < nattrs; i++) {
            n->attrs[i].name = attrs[i].name;
            n->attrs[i].value = lp_arena_strdup(&s->arena, attrs[i].value);
            if (!n->attrs[i].value) {
                oom(s);
                return;
            }
        }
        n->nattrs = nattrs;
    }
    if (s->cur) {
        n->parent = s->cur;
        if (s->cur->last) s->cur->last->next = n;
        else s->cur->first = n;
        s->cur->last = n;
    }
    s->cur = n;
}

void lpx_end(lpx_state *s) {
    if (s->status != SL_OK) return;
    if (s->cur) {
        flush_text(s);
        if (s->depth == s->rec_depth) {
            lp_node *rec = s->cur;
            s->cur = NULL;
            if (s->status == SL_OK) {
                sl_status st = s->cfg->record(s->cfg->user, rec, &s->arena);
                s->info->records++;
                if (st != SL_OK) lpx_fail_msg(s, st, sl_last_error());
            }
            lp_arena_reset(&s->arena);
        } else {
            s->cur = s->cur->parent;
        }
    }
    s->depth--;
}

void lpx_reference(lpx_state *s, const char *name) {
    const char *u = lp_entity_lookup(name);
    if (u) {
        lpx_text(s, u, strlen(u));
        return;
    }
    if (s->info->unknown_entities++ == 0) snprintf(s->info->first_unknown, sizeof s->info->first_unknown, "%s", name);
    lpx_text(s, "&", 1);
    lpx_text(s, name, strlen(name));
    lpx_text(s, ";", 1);
}

static void utf8_error(lpx_state *s, uint64_t line, uint64_t off, unsigned char byte) {
    if (s->status != SL_OK) return;
    s->status = SL_ERR_PARSE;
    snprintf(s->msg, sizeof s->msg, "%s:%llu: invalid UTF-8 at byte offset %llu (byte 0x%02X)%s", lp_source_name(s->src),
             (unsigned long long)line, (unsigned long long)off, byte, lp_source_gz(s->src) ? " of the decompressed stream" : "");
}

static uint64_t count_newlines(const unsigned char *p, size_t n) {
    uint64_t lines = 0;
    size_t k = 0;
#ifdef __SSE2__
    const __m128i nl = _mm_set1_epi8('\n');
    for (; k + 16 <= n; k += 16)
        lines += (uint64_t)lp_popcount64((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + k)), nl)));
#endif
    for (; k < n; k++) lines += p[k] == '\n';
    return lines;
}

long lpx_read(lpx_state *s, char *out, size_t len) {
    if (s->status != SL_OK || s->at_end) return s->status != SL_OK ? -1 : 0;
    long k = lp_source_read(s->src, out, len);
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
        s->lines += count_newlines(buf, n);
    }
    s->offset += n;
    return (long)n;
}

/* --- the libxml2 reader --- */

static xmlParserCtxtPtr lx_ctxt(lpx_state *s) { return s->driver; }

static void lx_where(lpx_state *s, int *line, int *col) {
    *line = lx_ctxt(s) ? xmlSAX2GetLineNumber(lx_ctxt(s)) : 0;
    *col = lx_ctxt(s) ? xmlSAX2GetColumnNumber(lx_ctxt(s)) : 0;
}

static void lx_stop(lpx_state *s) {
    if (lx_ctxt(s)) xmlStopParser(lx_ctxt(s));
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

static void lx_start(void *ud, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri, int nb_ns,
                     const xmlChar **ns, int nb_attr, int nb_def, const xmlChar **attrs) {
    (void)prefix, (void)nb_ns, (void)ns, (void)nb_def;
    lpx_state *s = ud;
    if (s->status != SL_OK) return;
    /* names and URIs are interned in libxml2's dictionary and outlive the record */
    unsigned line = (unsigned)xmlSAX2GetLineNumber(lx_ctxt(s));
    lp_attr small[16], *av = small;
    lp_arena tmp;
    lp_arena_init(&tmp, s->limit);
    if (nb_attr > 16) av = lp_arena_alloc(&tmp, (size_t)nb_attr * sizeof *av);
    for (int i = 0; av && i < nb_attr; i++) {
        const xmlChar *const *a = attrs + 5 * i;
        av[i].name = (const char *)a[0];
        av[i].value = attr_value(&tmp, (const char *)a[3], (size_t)(a[4] - a[3]));
        if (!av[i].value) av = NULL;
    }
    if (av) lpx_start(s, (const char *)localname, (const char *)uri, av, (unsigned)(nb_attr > 0 ? nb_attr : 0), line);
    else oom(s);
    lp_arena_free(&tmp);
}

static void lx_end(void *ud, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri) {
    (void)localname, (void)prefix, (void)uri;
    lpx_end(ud);
}

static void lx_chars(void *ud, const xmlChar *ch, int len) { lpx_text(ud, (const char *)ch, (size_t)len); }

static void lx_reference(void *ud, const xmlChar *name) { lpx_reference(ud, (const char *)name); }

static xmlEntityPtr lx_get_entity(void *ud, const xmlChar *name) {
    (void)ud, (void)name;
    return NULL; /* never expand a declared entity */
}

static xmlParserInputPtr lx_resolve(void *ud, const xmlChar *public_id, const xmlChar *system_id) {
    (void)public_id;
    lpx_fail(ud, SL_ERR_INVALID, "refusing to load external resource '%s' (external DTDs and entities are never read)",
             system_id ? (const char *)system_id : "?");
    return NULL;
}

static void lx_entity_decl(void *ud, const xmlChar *name, int type, const xmlChar *public_id, const xmlChar *system_id,
                           xmlChar *content) {
    (void)type, (void)public_id, (void)content;
    lpx_fail(ud, SL_ERR_INVALID,
             "the DOCTYPE declares entity '%s'%s%s%s; documents that declare entities are refused "
             "(entity declarations are how external-entity and entity-expansion attacks work)",
             (const char *)name, system_id ? " pointing to '" : "", system_id ? (const char *)system_id : "", system_id ? "'" : "");
}

static void lx_serror(void *ud, xmlErrorPtr err) {
    lpx_state *s = ud;
    if (!err || err->level < XML_ERR_ERROR) return;
    /* an entity the (unread) DTD would define: lx_reference resolves it */
    if (err->code == XML_WAR_UNDECLARED_ENTITY) return;
    char m[512];
    snprintf(m, sizeof m, "%s", err->message ? err->message : "malformed XML");
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' ')) m[--n] = '\0';
    if (err->level == XML_ERR_ERROR) {
        /* recoverable (an undeclared namespace prefix, ...): the document is still read */
        lpx_recoverable(s, err->line, err->int2, m);
        return;
    }
    if (s->status != SL_OK) return;
    s->status = SL_ERR_PARSE;
    xmlParserCtxtPtr c = lx_ctxt(s);
    int consumed = c && c->input && c->input->cur && c->input->cur >= c->input->end;
    if (s->at_end && consumed && s->depth > 0 && s->depth <= LPX_MAX_DEPTH) {
        /* libxml2 says "Extra content" or "Premature end" here; name what is left open instead */
        snprintf(s->msg, sizeof s->msg, "%s:%d:%d: malformed XML: the file ends inside <%s> opened at line %u (truncated?)",
                 lp_source_name(s->src), err->line, err->int2, s->open_name[s->depth - 1], s->open_line[s->depth - 1]);
        return;
    }
    snprintf(s->msg, sizeof s->msg, "%s:%d:%d: malformed XML: %s", lp_source_name(s->src), err->line, err->int2, m);
}

static int lx_io_read(void *ctx, char *out, int len) { return (int)lpx_read(ctx, out, (size_t)len); }

static int lx_io_close(void *ctx) {
    (void)ctx;
    return 0;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void init_libxml(void) { xmlInitParser(); }

static void parse_libxml2(lpx_state *s) {
    pthread_once(&init_once, init_libxml);
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = lx_start;
    sax.endElementNs = lx_end;
    sax.characters = lx_chars;
    sax.cdataBlock = lx_chars;
    sax.reference = lx_reference;
    sax.getEntity = lx_get_entity;
    sax.getParameterEntity = lx_get_entity;
    sax.resolveEntity = lx_resolve;
    sax.entityDecl = lx_entity_decl;
    sax.unparsedEntityDecl = NULL;
    sax.externalSubset = NULL; /* the external DTD is never read */
    sax.serror = lx_serror;

    /* a pull parser reading through lx_io_read: faster than feeding a push parser chunks */
    xmlParserCtxtPtr c = xmlCreateIOParserCtxt(&sax, s, lx_io_read, lx_io_close, s, XML_CHAR_ENCODING_NONE);
    if (!c) {
        lpx_fail(s, SL_ERR_NOMEM, "cannot create an XML parser");
        return;
    }
    s->driver = c;
    s->where = lx_where;
    s->stop = lx_stop;
    if (c->input) c->input->filename = (char *)xmlStrdup((const xmlChar *)lp_source_name(s->src));
    /* no network, no DTD loading, no entity substitution, no XInclude, keep libxml2's size limits */
    xmlCtxtUseOptions(c, XML_PARSE_NONET | XML_PARSE_NOXINCNODE);
    c->replaceEntities = 0;
    c->loadsubset = 0;
    c->validate = 0;
    xmlParseDocument(c);
    if (s->status == SL_OK && s->depth > 0 && s->depth <= LPX_MAX_DEPTH)
        lpx_fail(s, SL_ERR_PARSE, "malformed XML: the file ends inside <%s> opened at line %u (truncated?)", s->open_name[s->depth - 1],
                 s->open_line[s->depth - 1]);
    if (s->status == SL_OK && !s->info->root[0]) lpx_fail(s, SL_ERR_PARSE, "no root element (the file holds no XML document)");
    /* some internal-subset declarations make libxml2 build a document node the context does not own */
    if (c->myDoc) {
        xmlFreeDoc(c->myDoc);
        c->myDoc = NULL;
    }
    xmlFreeParserCtxt(c);
    s->driver = NULL;
    s->where = NULL;
    s->stop = NULL;
}

/* --- the choice of reader --- */

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

sl_status lp_xml_parse_with(lp_source *src, const lp_xml_cfg *cfg, lp_xml_info *info, lp_xml_reader reader) {
    lp_xml_info local_info;
    if (!info) info = &local_info;
    memset(info, 0, sizeof *info);
    info->root = "";

    lpx_state *s = calloc(1, sizeof *s);
    if (!s) return sl_set_error(SL_ERR_NOMEM, "%s: out of memory", lp_source_name(src));
    s->cfg = cfg;
    s->info = info;
    s->src = src;
    s->limit = cfg->max_record_bytes ? cfg->max_record_bytes : DEFAULT_RECORD_LIMIT;
    lp_arena_init(&s->arena, s->limit);

    const unsigned char *peek;
    size_t npeek;
    sl_status st = lp_source_peek(src, 4096, &peek, &npeek);
    if (st != SL_OK) {
        lp_arena_free(&s->arena);
        free(s);
        return st;
    }
    char enc[32];
    declared_encoding(peek, npeek, enc, sizeof enc);
    int utf16 = npeek >= 2 && ((peek[0] == 0xFE && peek[1] == 0xFF) || (peek[0] == 0xFF && peek[1] == 0xFE));
    /* check UTF-8 ourselves (exact byte offsets); other declared encodings are libxml2's job */
    s->check_utf8 = !utf16 && (enc[0] == '\0' || strcmp(enc, "utf-8") == 0 || strcmp(enc, "utf8") == 0);
    s->lines = 1;
    if (npeek == 0) {
        lp_arena_free(&s->arena);
        free(s);
        return sl_set_error(SL_ERR_PARSE, "%s: empty file (expected an XML document)", lp_source_name(src));
    }
    if (reader == LP_XML_LIBXML2 || !s->check_utf8 || lpx_scan(s) != 0) parse_libxml2(s);

    lp_buf_free(&s->text);
    lp_arena_free(&s->arena);
    st = s->status;
    if (st != SL_OK) sl_set_error(st, "%s", s->msg);
    free(s);
    return st;
}

sl_status lp_xml_parse(lp_source *src, const lp_xml_cfg *cfg, lp_xml_info *info) {
    return lp_xml_parse_with(src, cfg, info, LP_XML_AUTO);
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
