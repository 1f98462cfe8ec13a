/* workflow.c — safe libxml2 parsing of workflow files, XSD validation, and the XML → model walk. */
#define _GNU_SOURCE
#include "workflow.h"

#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlschemas.h>
#include <sciloop/artifact.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WF_NS "urn:sciloop:workflow:1"
#define WF_MAX_BYTES ((size_t)1 << 30)

/* First error seen by libxml2 during a parse or validation. */
typedef struct err_capture {
    wf_workflow *wf;
    int have;
    int line, col;
    char msg[1024];
    int doctype; /* a DOCTYPE was refused */
} err_capture;

/* 1-based column of `needle` on `line`, searching back up to 40 lines (a start tag may span
 * lines, and libxml2 records the line where it ends). 0 if not found. Each line is searched
 * for at most 8 KiB, so that locating is O(1) even in a file written on one line. */
static int find_col(const wf_workflow *wf, int *line, const char *needle) {
    if (!wf->source || *line <= 0 || (size_t)*line > wf->n_lines) return 0;
    size_t nlen = strlen(needle);
    const char *end = wf->source + wf->source_len;
    for (int l = *line; l >= 1 && l > *line - 40; l--) {
        const char *ls = wf->source + wf->line_starts[l - 1];
        const char *le = (size_t)l < wf->n_lines ? wf->source + wf->line_starts[l] : end;
        if (le - ls > 8192) le = ls + 8192;
        /* the last occurrence on the line is the one nearest the node */
        for (const char *q = le - (ptrdiff_t)nlen; q >= ls; q--) {
            if (*q == needle[0] && memcmp(q, needle, nlen) == 0 && (q == ls || q[-1] == ' ' || q[-1] == '\t' || q[-1] == '<' || needle[0] == '<')) {
                *line = l;
                return (int)(q - ls) + 1;
            }
        }
    }
    return 0;
}

static void index_lines(wf_workflow *wf) {
    size_t n = 1;
    for (size_t i = 0; i < wf->source_len; i++) n += wf->source[i] == '\n';
    wf->line_starts = sli_xmalloc(n * sizeof *wf->line_starts);
    wf->line_starts[0] = 0;
    wf->n_lines = 1;
    for (size_t i = 0; i < wf->source_len; i++)
        if (wf->source[i] == '\n') wf->line_starts[wf->n_lines++] = i + 1;
}

static wf_loc node_loc(const wf_workflow *wf, xmlNodePtr node) {
    wf_loc l = {wf->path, (int)xmlGetLineNo(node), 0};
    char needle[160];
    snprintf(needle, sizeof needle, "<%s", (const char *)node->name);
    int line = l.line;
    int col = find_col(wf, &line, needle);
    if (col) {
        l.line = line;
        l.col = col;
    } else {
        l.col = 1;
    }
    return l;
}

static wf_loc attr_loc(const wf_workflow *wf, xmlNodePtr node, const char *attr) {
    wf_loc l = {wf->path, (int)xmlGetLineNo(node), 0};
    if (!xmlHasProp(node, (const xmlChar *)attr)) return l; /* absent: nothing to point at */
    char needle[160];
    snprintf(needle, sizeof needle, "%s=", attr);
    int line = l.line;
    int col = find_col(wf, &line, needle);
    if (!col) return node_loc(wf, node);
    l.line = line;
    l.col = col;
    return l;
}

static void strip_ns_and_newline(char *msg) {
    static const char ns[] = "{" WF_NS "}";
    char *p;
    while ((p = strstr(msg, ns)) != NULL) memmove(p, p + sizeof ns - 1, strlen(p + sizeof ns - 1) + 1);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) msg[--n] = '\0';
}

static void on_error(void *user, xmlErrorPtr e) {
    err_capture *c = user;
    if (c->have || !e || e->level < XML_ERR_ERROR) return;
    c->have = 1;
    c->line = e->line;
    c->col = e->int2;
    snprintf(c->msg, sizeof c->msg, "%s", e->message ? e->message : "error");
    strip_ns_and_newline(c->msg);
    if (e->node && c->wf) {
        wf_loc l = node_loc(c->wf, (xmlNodePtr)e->node);
        /* for attribute errors, point at the attribute */
        const char *q = strstr(c->msg, "attribute '");
        if (q) {
            char name[128];
            if (sscanf(q + 11, "%127[^']", name) == 1) l = attr_loc(c->wf, (xmlNodePtr)e->node, name);
        }
        c->line = l.line;
        c->col = l.col;
    }
}

/* A DOCTYPE can only stand in the prolog, before the root element. Workflows never need
 * one, and refusing it up front rules out external entities and entity-expansion bombs
 * before the parser sees a byte of them. Returns the 1-based line of the DOCTYPE, or 0. */
static int find_doctype(const char *s, size_t n, int *col) {
    size_t i = 0;
    int line = 1;
    size_t line_start = 0;
    while (i < n) {
        char c = s[i];
        if (c == '\n') {
            line++;
            line_start = ++i;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || (unsigned char)c == 0xEF || (unsigned char)c == 0xBB || (unsigned char)c == 0xBF) {
            i++;
            continue;
        }
        if (c != '<' || i + 1 >= n) return 0;
        if (s[i + 1] == '?' || (i + 3 < n && s[i + 1] == '!' && s[i + 2] == '-' && s[i + 3] == '-')) {
            const char *end = s[i + 1] == '?' ? "?>" : "-->";
            size_t el = strlen(end), j = i + 2;
            while (j + el <= n && memcmp(s + j, end, el) != 0) {
                if (s[j] == '\n') {
                    line++;
                    line_start = j + 1;
                }
                j++;
            }
            i = j + el;
            continue;
        }
        if (i + 9 <= n && memcmp(s + i, "<!DOCTYPE", 9) == 0) {
            *col = (int)(i - line_start) + 1;
            return line;
        }
        return 0; /* the root element: the prolog is over */
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

static const char *attr(wf_workflow *wf, xmlNodePtr n, const char *name) {
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    if (!v) return NULL;
    char *s = sli_arena_strdup(wf->arena, (const char *)v);
    xmlFree(v);
    return s;
}

static int is_el(xmlNodePtr n, const char *name) {
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

int wf_param_type_from_name(const char *name) {
    static const char *names[] = {"string", "int", "float", "bool", "path", "enum", "list"};
    for (int i = 0; i < 7; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

const char *wf_param_type_name(sl_param_type t) {
    static const char *names[] = {"string", "int", "float", "bool", "path", "enum", "list"};
    return (unsigned)t < 7 ? names[t] : "unknown";
}

static int parse_bool_text(const char *s) {
    return s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "1") == 0);
}

static sl_status build_nodes(wf_workflow *wf, xmlNodePtr first, wf_node *parent, sli_ptrvec *out);

static sl_status build_step(wf_workflow *wf, xmlNodePtr x, wf_node *n) {
    n->op = attr(wf, x, "op");
    n->op_loc = attr_loc(wf, x, "op");
    n->resources = attr(wf, x, "resources");
    n->resources_loc = attr_loc(wf, x, "resources");
    n->retry = attr(wf, x, "retry");
    n->retry_loc = attr_loc(wf, x, "retry");
    n->timeout = attr(wf, x, "timeout");
    n->timeout_loc = attr_loc(wf, x, "timeout");
    n->when = attr(wf, x, "when");
    n->when_loc = attr_loc(wf, x, "when");
    size_t ni = 0, ns = 0;
    for (xmlNodePtr c = x->children; c; c = c->next) {
        if (is_el(c, "input")) ni++;
        else if (is_el(c, "set")) ns++;
    }
    n->inputs = sli_arena_alloc(wf->arena, (ni + 1) * sizeof *n->inputs);
    n->sets = sli_arena_alloc(wf->arena, (ns + 1) * sizeof *n->sets);
    for (xmlNodePtr c = x->children; c; c = c->next) {
        if (is_el(c, "input")) {
            wf_input *in = &n->inputs[n->n_inputs++];
            in->port = attr(wf, c, "port");
            in->from = attr(wf, c, "from");
            in->path = attr(wf, c, "path");
            in->select = attr(wf, c, "select");
            const char *round = attr(wf, c, "round");
            in->previous = round && strcmp(round, "previous") == 0;
            in->optional = parse_bool_text(attr(wf, c, "optional"));
            in->loc = node_loc(wf, c);
            in->from_loc = attr_loc(wf, c, "from");
            in->path_loc = attr_loc(wf, c, "path");
            if ((in->from != NULL) == (in->path != NULL))
                return sl_set_error(SL_ERR_INVALID, "%s:%d:%d: <input port=\"%s\"> needs exactly one of from=\"step.port\" or path=\"...\"",
                                    in->loc.file, in->loc.line, in->loc.col, in->port);
            if (in->previous && !in->from)
                return sl_set_error(SL_ERR_INVALID, "%s:%d:%d: round=\"previous\" needs from=\"step.port\"",
                                    in->loc.file, in->loc.line, in->loc.col);
        } else if (is_el(c, "set")) {
            wf_set *s = &n->sets[n->n_sets++];
            s->name = attr(wf, c, "name");
            xmlChar *t = xmlNodeGetContent(c);
            s->value = sli_arena_strdup(wf->arena, t ? (const char *)t : "");
            xmlFree(t);
            s->loc = node_loc(wf, c);
        }
    }
    return SL_OK;
}

static sl_status build_nodes(wf_workflow *wf, xmlNodePtr first, wf_node *parent, sli_ptrvec *out) {
    for (xmlNodePtr x = first; x; x = x->next) {
        wf_kind kind;
        if (is_el(x, "step")) kind = WF_STEP;
        else if (is_el(x, "foreach")) kind = WF_FOREACH;
        else if (is_el(x, "loop")) kind = WF_LOOP;
        else continue;
        wf_node *n = sli_arena_alloc(wf->arena, sizeof *n);
        n->kind = kind;
        n->id = attr(wf, x, "id");
        n->loc = node_loc(wf, x);
        n->parent = parent;
        sli_ptrvec_push(out, n);
        sl_status st = SL_OK;
        if (kind == WF_STEP) {
            st = build_step(wf, x, n);
        } else {
            if (kind == WF_FOREACH) {
                n->var = attr(wf, x, "var");
                n->items = attr(wf, x, "in");
                n->items_loc = attr_loc(wf, x, "in");
            } else {
                for (wf_node *p = parent; p; p = p->parent)
                    if (p->kind == WF_LOOP)
                        return sl_set_error(SL_ERR_INVALID, "%s:%d:%d: <loop id=\"%s\"> is inside <loop id=\"%s\">; loops cannot be nested",
                                            n->loc.file, n->loc.line, n->loc.col, n->id, p->id);
                n->max = attr(wf, x, "max");
                n->max_loc = attr_loc(wf, x, "max");
                n->until = attr(wf, x, "until");
                n->until_loc = attr_loc(wf, x, "until");
            }
            sli_ptrvec kids = {0};
            st = build_nodes(wf, x->children, n, &kids);
            n->n_children = kids.n;
            n->children = sli_arena_alloc(wf->arena, (kids.n + 1) * sizeof *n->children);
            if (kids.n) memcpy(n->children, kids.items, kids.n * sizeof *n->children);
            sli_ptrvec_free(&kids);
        }
        if (st != SL_OK) return st;
    }
    return SL_OK;
}

static sl_status add_param(wf_workflow *wf, xmlNodePtr c, sli_ptrvec *params) {
    wf_param *p = sli_arena_alloc(wf->arena, sizeof *p);
    p->name = attr(wf, c, "name");
    p->type = (sl_param_type)wf_param_type_from_name(attr(wf, c, "type"));
    p->default_value = attr(wf, c, "default");
    p->min = attr(wf, c, "min");
    p->max = attr(wf, c, "max");
    p->choices = attr(wf, c, "choices");
    p->doc = attr(wf, c, "doc");
    p->loc = node_loc(wf, c);
    for (size_t k = 0; k < params->n; k++) {
        const wf_param *q = params->items[k];
        if (strcmp(q->name, p->name) == 0)
            return sl_set_error(SL_ERR_INVALID, "%s:%d:%d: param '%s' is declared twice (first at line %d)",
                                p->loc.file, p->loc.line, p->loc.col, p->name, q->loc.line);
    }
    if (p->type == SL_PARAM_ENUM && !p->choices)
        return sl_set_error(SL_ERR_INVALID, "%s:%d:%d: param '%s' has type enum but no choices=\"a|b|...\"",
                            p->loc.file, p->loc.line, p->loc.col, p->name);
    sli_ptrvec_push(params, p);
    return SL_OK;
}

static void add_output(wf_workflow *wf, xmlNodePtr c, sli_ptrvec *outputs) {
    wf_output *o = sli_arena_alloc(wf->arena, sizeof *o);
    o->name = attr(wf, c, "name");
    o->from = attr(wf, c, "from");
    o->select = attr(wf, c, "select");
    o->loc = attr_loc(wf, c, "from");
    sli_ptrvec_push(outputs, o);
}

/* Read the document with a streaming reader, validating against the schema as it goes, and
 * build the model one top-level element at a time: memory stays proportional to the model,
 * not to libxml2's tree of the whole file (a million-step workflow is ~100 MB of XML). */
static sl_status stream_model(wf_workflow *wf, xmlTextReaderPtr rd, err_capture *cap) {
    sli_ptrvec params = {0}, outputs = {0}, nodes = {0};
    sl_status st = SL_OK;
    int ret = xmlTextReaderRead(rd);
    while (ret == 1 && st == SL_OK && !cap->have) {
        if (xmlTextReaderNodeType(rd) != XML_READER_TYPE_ELEMENT) {
            ret = xmlTextReaderRead(rd);
            continue;
        }
        int depth = xmlTextReaderDepth(rd);
        if (depth == 0) {
            const xmlChar *ns = xmlTextReaderConstNamespaceUri(rd);
            const xmlChar *name = xmlTextReaderConstLocalName(rd);
            if (strcmp((const char *)name, "workflow") != 0 || !ns || strcmp((const char *)ns, WF_NS) != 0) {
                int line = xmlTextReaderGetParserLineNumber(rd);
                int l2 = line, col = find_col(wf, &l2, "<");
                st = sl_set_error(SL_ERR_PARSE, "%s:%d:%d: expected root element <workflow xmlns=\"" WF_NS "\">, found <%s%s%s%s>",
                                  wf->path, line, col ? col : 1, (const char *)name, ns ? " xmlns=\"" : "", ns ? (const char *)ns : "", ns ? "\"" : "");
                break;
            }
            xmlChar *v = xmlTextReaderGetAttribute(rd, (const xmlChar *)"name");
            wf->name = v ? sli_arena_strdup(wf->arena, (const char *)v) : NULL;
            xmlFree(v);
            v = xmlTextReaderGetAttribute(rd, (const xmlChar *)"seed");
            wf->seed = v ? sli_arena_strdup(wf->arena, (const char *)v) : NULL;
            xmlFree(v);
            ret = xmlTextReaderRead(rd);
            continue;
        }
        xmlNodePtr x = xmlTextReaderExpand(rd);
        if (!x || cap->have) break;
        if (is_el(x, "description")) {
            xmlChar *t = xmlNodeGetContent(x);
            wf->description = sli_arena_strdup(wf->arena, t ? (const char *)t : "");
            xmlFree(t);
        } else if (is_el(x, "param")) {
            st = add_param(wf, x, &params);
        } else if (is_el(x, "output")) {
            add_output(wf, x, &outputs);
        } else {
            /* build_nodes walks siblings; give it this one element alone */
            xmlNodePtr next = x->next;
            x->next = NULL;
            st = build_nodes(wf, x, NULL, &nodes);
            x->next = next;
        }
        ret = xmlTextReaderNext(rd);
    }
    if (st == SL_OK && !cap->have && ret < 0) {
        if (!cap->have) snprintf(cap->msg, sizeof cap->msg, "not well-formed XML");
        cap->have = 1;
    }
    if (st == SL_OK && cap->have)
        st = sl_set_error(SL_ERR_PARSE, "%s:%d:%d: %s", wf->path, cap->line, cap->col > 0 ? cap->col : 1, cap->msg);
    if (st == SL_OK && !wf->name) st = sl_set_error(SL_ERR_PARSE, "%s:1:1: expected a <workflow> element", wf->path);
    wf->n_params = params.n;
    wf->params = sli_arena_alloc(wf->arena, (params.n + 1) * sizeof *wf->params);
    for (size_t i = 0; i < params.n; i++) wf->params[i] = *(wf_param *)params.items[i];
    wf->n_outputs = outputs.n;
    wf->outputs = sli_arena_alloc(wf->arena, (outputs.n + 1) * sizeof *wf->outputs);
    for (size_t i = 0; i < outputs.n; i++) wf->outputs[i] = *(wf_output *)outputs.items[i];
    wf->n_nodes = nodes.n;
    wf->nodes = sli_arena_alloc(wf->arena, (nodes.n + 1) * sizeof *wf->nodes);
    if (nodes.n) memcpy(wf->nodes, nodes.items, nodes.n * sizeof *wf->nodes);
    sli_ptrvec_free(&params);
    sli_ptrvec_free(&outputs);
    sli_ptrvec_free(&nodes);
    return st;
}

/* The schema is parsed once per process and shared: it never changes. */
static xmlSchemaPtr shared_schema(void) {
    static xmlSchemaPtr schema;
    if (schema) return schema;
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewMemParserCtxt(sli_workflow_xsd, (int)sli_workflow_xsd_len);
    if (!pc) return NULL;
    schema = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
    return schema;
}

sl_status wf_load(const char *path, wf_workflow **out) {
    *out = NULL;
    wf_workflow *wf = sli_xcalloc(1, sizeof *wf);
    wf->arena = sli_arena_create();
    char *abs = sli_path_absolute(path);
    wf->path = sli_arena_strdup(wf->arena, abs);
    char *dir = sli_dirname(abs);
    wf->dir = sli_arena_strdup(wf->arena, dir);
    free(abs);
    free(dir);
    sl_status st = sl_read_file(path, WF_MAX_BYTES, &wf->source, &wf->source_len);
    if (st != SL_OK) {
        wf_destroy(wf);
        return st;
    }
    index_lines(wf);
    int dcol = 0, dline = find_doctype(wf->source, wf->source_len, &dcol);
    if (dline) {
        st = sl_set_error(SL_ERR_PARSE, "%s:%d:%d: DOCTYPE declarations are not allowed in workflow files (no DTDs or entities); "
                                        "expected the <workflow> element", path, dline, dcol);
        wf_destroy(wf);
        return st;
    }
    xmlSchemaPtr schema = shared_schema();
    if (!schema) {
        wf_destroy(wf);
        return sl_set_error(SL_ERR_INTERNAL, "the embedded workflow schema does not parse");
    }
    err_capture cap = {.wf = wf};
    /* NONET: never reach the network. No NOENT/DTDLOAD/DTDATTR: never load or substitute
     * entities. No HUGE: libxml2 keeps its default limits on names, text and depth. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOCDATA;
    xmlTextReaderPtr rd = xmlReaderForMemory(wf->source, (int)wf->source_len, path, NULL, opts);
    if (!rd) {
        wf_destroy(wf);
        return sl_set_error(SL_ERR_NOMEM, "out of memory parsing %s", path);
    }
    xmlTextReaderSetStructuredErrorHandler(rd, (xmlStructuredErrorFunc)on_error, &cap);
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    xmlSchemaSetValidStructuredErrors(vc, on_error, &cap);
    if (!vc || xmlTextReaderSchemaValidateCtxt(rd, vc, 0) != 0) {
        xmlFreeTextReader(rd);
        xmlSchemaFreeValidCtxt(vc);
        wf_destroy(wf);
        return sl_set_error(SL_ERR_INTERNAL, "cannot set up schema validation for %s", path);
    }
    /* libxml2 reports some parser errors only through the (thread-local) global handler */
    xmlSetStructuredErrorFunc(&cap, on_error);
    st = stream_model(wf, rd, &cap);
    xmlSetStructuredErrorFunc(NULL, NULL);
    xmlFreeTextReader(rd);
    xmlSchemaFreeValidCtxt(vc);
    if (st != SL_OK) {
        wf_destroy(wf);
        return st;
    }
    *out = wf;
    return SL_OK;
}

void wf_destroy(wf_workflow *wf) {
    if (!wf) return;
    free(wf->source);
    free(wf->line_starts);
    sli_arena_destroy(wf->arena);
    free(wf);
}
