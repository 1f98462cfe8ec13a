/* parse.c — format detection and the per-file entry points that route a file to its parser. */
#include "parsers.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const format_names[LP_FMT_COUNT] = {"unknown", "jats", "medline", "tei", "atom", "bibtex", "delimited", "text"};

const char *lp_format_name(lp_format f) { return (unsigned)f < LP_FMT_COUNT ? format_names[f] : "unknown"; }

lp_format lp_format_parse(const char *name) {
    if (!name || !*name || lp_strieq(name, "auto")) return LP_FMT_UNKNOWN;
    for (int i = 1; i < LP_FMT_COUNT; i++)
        if (lp_strieq(name, format_names[i])) return (lp_format)i;
    if (lp_strieq(name, "pubmed") || lp_strieq(name, "pubmed-xml")) return LP_FMT_MEDLINE;
    if (lp_strieq(name, "nlm") || lp_strieq(name, "pmc")) return LP_FMT_JATS;
    if (lp_strieq(name, "grobid")) return LP_FMT_TEI;
    if (lp_strieq(name, "arxiv")) return LP_FMT_ATOM;
    if (lp_strieq(name, "bib") || lp_strieq(name, "biblatex")) return LP_FMT_BIBTEX;
    if (lp_strieq(name, "csv") || lp_strieq(name, "tsv") || lp_strieq(name, "psv")) return LP_FMT_DELIMITED;
    if (lp_strieq(name, "markdown") || lp_strieq(name, "md") || lp_strieq(name, "txt")) return LP_FMT_TEXT;
    return LP_FMT_UNKNOWN;
}

/* --- detection --- */

/* Local name of the root element, skipping the XML declaration, comments, PIs and DOCTYPE. */
static int xml_root(const unsigned char *p, size_t n, char *out, size_t outsz) {
    size_t i = 0;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) i = 3;
    for (;;) {
        while (i < n && lp_is_space(p[i])) i++;
        if (i >= n || p[i] != '<') return 0;
        if (i + 1 < n && (p[i + 1] == '?')) {
            while (i + 1 < n && !(p[i] == '?' && p[i + 1] == '>')) i++;
            i += 2;
        } else if (i + 3 < n && !memcmp(p + i, "<!--", 4)) {
            while (i + 2 < n && memcmp(p + i, "-->", 3) != 0) i++;
            i += 3;
        } else if (i + 1 < n && p[i + 1] == '!') {
            /* DOCTYPE, possibly with an internal subset in brackets */
            int depth = 0;
            for (; i < n; i++) {
                if (p[i] == '[') depth++;
                else if (p[i] == ']') depth--;
                else if (p[i] == '>' && depth <= 0) break;
            }
            i++;
        } else {
            i++;
            size_t s = i;
            while (i < n && !lp_is_space(p[i]) && p[i] != '>' && p[i] != '/') i++;
            size_t e = i;
            for (size_t k = s; k < e; k++)
                if (p[k] == ':') s = k + 1; /* drop a prefix */
            size_t len = e - s < outsz - 1 ? e - s : outsz - 1;
            memcpy(out, p + s, len);
            out[len] = '\0';
            return len > 0;
        }
        if (i >= n) return 0;
    }
}

static int looks_binary(const unsigned char *p, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] == 0 || (p[i] < 0x20 && !lp_is_space(p[i]) && p[i] != 0x1b)) bad++;
    return n && bad * 100 > n; /* more than 1% control bytes */
}

static int looks_bibtex(const unsigned char *p, size_t n) {
    /* an '@word{' or '@word(' at the start of a line, before anything that looks like prose */
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '@' || (i > 0 && p[i - 1] != '\n' && p[i - 1] != '\r' && !lp_is_space(p[i - 1]))) continue;
        size_t k = i + 1, s = k;
        while (k < n && (isalpha(p[k]))) k++;
        if (k - s < 3) continue;
        while (k < n && lp_is_space(p[k])) k++;
        if (k < n && (p[k] == '{' || p[k] == '(')) return 1;
    }
    return 0;
}

/* A delimiter that splits most of the first lines into the same number (>1) of fields
 * (quotes respected for ',' and ';'). */
static char guess_delim(const unsigned char *p, size_t n) {
    static const char cands[] = {'\t', '|', ',', ';'};
    char best = 0;
    for (size_t c = 0; c < sizeof cands; c++) {
        char d = cands[c];
        int lines = 0, agree = 0, first = -1;
        size_t i = 0;
        while (i < n && lines < 50) {
            int fields = 1, inq = 0;
            size_t s = i;
            for (; i < n; i++) {
                unsigned char ch = p[i];
                if (d != '\t' && d != '|' && ch == '"') inq = !inq;
                else if (!inq && ch == (unsigned char)d) fields++;
                else if (!inq && ch == '\n') break;
            }
            if (i >= n && lines > 0) break; /* last line may be cut by the peek window */
            i++;
            if (i - s <= 1) continue;
            if (first < 0) first = fields;
            lines++;
            if (fields == first && fields > 1) agree++;
        }
        if (lines >= 2 && agree * 10 >= lines * 9 && first > 1) {
            best = d;
            break;
        }
        if (lines == 1 && first > 2 && !best) best = d; /* one line with 3+ fields */
    }
    return best;
}

static int ext_is(const char *name, const char *ext) {
    if (!name) return 0;
    size_t n = strlen(name), e = strlen(ext);
    if (n > 3 && lp_strieq(name + n - 3, ".gz")) n -= 3;
    return n > e && lp_strnieq(name + n - e, ext, e) && name[n - e - 1] == '.';
}

lp_format lp_detect(const unsigned char *head, size_t n, const char *name) {
    char root[64];
    if (xml_root(head, n, root, sizeof root)) {
        if (!strcmp(root, "article") || !strcmp(root, "pmc-articleset") || !strcmp(root, "articles")) return LP_FMT_JATS;
        if (!strcmp(root, "PubmedArticleSet") || !strcmp(root, "MedlineCitationSet") || !strcmp(root, "PubmedArticle") ||
            !strcmp(root, "MedlineCitation") || !strcmp(root, "PubmedBookArticleSet"))
            return LP_FMT_MEDLINE;
        if (!strcmp(root, "TEI") || !strcmp(root, "teiCorpus")) return LP_FMT_TEI;
        if (!strcmp(root, "feed")) return LP_FMT_ATOM;
        return LP_FMT_UNKNOWN;
    }
    size_t i = 0;
    if (n >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF) i = 3;
    while (i < n && lp_is_space(head[i])) i++;
    if (i < n && head[i] == '<' && i + 1 < n && (head[i + 1] == '?' || head[i + 1] == '!' || isalpha(head[i + 1])))
        return LP_FMT_UNKNOWN; /* XML we could not read the root of (or HTML) */
    if (looks_binary(head, n)) return LP_FMT_UNKNOWN;
    if (i < n && (head[i] == '{' || (head[i] == '[' && i + 1 < n && (head[i + 1] == '{' || head[i + 1] == '"' || lp_is_space(head[i + 1])))) &&
        !ext_is(name, "txt") && !ext_is(name, "md"))
        return LP_FMT_UNKNOWN; /* JSON */
    if (ext_is(name, "bib") || ext_is(name, "bibtex") || looks_bibtex(head + i, n - i)) return LP_FMT_BIBTEX;
    if (ext_is(name, "csv") || ext_is(name, "tsv") || ext_is(name, "psv") || ext_is(name, "tab")) return LP_FMT_DELIMITED;
    if (ext_is(name, "md") || ext_is(name, "markdown") || ext_is(name, "txt") || ext_is(name, "text")) return LP_FMT_TEXT;
    if (guess_delim(head + i, n - i)) return LP_FMT_DELIMITED;
    return LP_FMT_TEXT;
}

/* --- context helpers --- */

sl_status lp_ctx_emit(lp_ctx *c, lp_arena *a, lp_doc *d) {
    if (lp_doc_finish(a, d) != 0) return lp_ctx_arena_fail(c, a, 0);
    sl_status st = c->sink->emit(c->sink->user, d);
    if (st == SL_OK) c->res->documents++;
    return st;
}

void lp_ctx_note(lp_ctx *c, const char *fmt, ...) {
    c->res->warnings++;
    if (!c->sink->note) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->sink->note(c->sink->user, msg);
}

void lp_ctx_xml_notes(lp_ctx *c, const lp_xml_info *info) {
    if (info->unknown_entities)
        lp_ctx_note(c, "%s: %zu references to entities outside the HTML/MathML sets (first: &%s;) kept as written", c->file,
                    info->unknown_entities, info->first_unknown);
    if (info->errors)
        lp_ctx_note(c, "%s (%zu recoverable XML errors in the file; the document was read)", info->first_error, info->errors);
}

sl_status lp_ctx_arena_fail(lp_ctx *c, lp_arena *a, unsigned line) {
    if (a->over_limit)
        return sl_set_error(SL_ERR_RANGE, "%s:%u: record %ld needs more than the per-record memory limit", c->file, line, c->record);
    return sl_set_error(SL_ERR_NOMEM, "%s:%u: out of memory in record %ld", c->file, line, c->record);
}

/* --- entry points --- */

static sl_status parse_source(lp_source *src, const char *display, lp_format format, const lp_options *opts,
                              const lp_sink *sink, lp_file_result *result) {
    lp_file_result local;
    if (!result) result = &local;
    memset(result, 0, sizeof *result);
    lp_options defaults;
    memset(&defaults, 0, sizeof defaults);
    defaults.header = -1;
    if (!opts) opts = &defaults;
    if (format == LP_FMT_UNKNOWN) {
        const unsigned char *head;
        size_t n;
        sl_status st = lp_source_peek(src, 64 * 1024, &head, &n);
        if (st != SL_OK) return st;
        if (n == 0) return sl_set_error(SL_ERR_PARSE, "%s: empty file", display);
        format = lp_detect(head, n, display);
        if (format == LP_FMT_UNKNOWN) {
            char root[64];
            if (xml_root(head, n, root, sizeof root))
                return sl_set_error(SL_ERR_UNSUPPORTED, "%s: XML with root element <%s> is not a supported format "
                                                        "(expected JATS <article>, PubMed <PubmedArticleSet>/<MedlineCitationSet>, TEI <TEI> or Atom <feed>)",
                                    display, root);
            size_t i = 0;
            while (i < n && lp_is_space(head[i])) i++;
            if (i < n && (head[i] == '{' || head[i] == '['))
                return sl_set_error(SL_ERR_UNSUPPORTED, "%s: unrecognised content: JSON is not a literature format litparse reads "
                                                        "(a documents set is already parsed: give it to merge, filter or stats)",
                                    display);
            return sl_set_error(SL_ERR_UNSUPPORTED, "%s: unrecognised content (binary data, or XML without a root element)", display);
        }
    }
    result->format = format;
    lp_ctx c;
    memset(&c, 0, sizeof c);
    c.file = display;
    c.format = lp_format_name(format);
    c.opts = opts;
    c.sink = sink;
    c.res = result;
    sl_status st;
    switch (format) {
    case LP_FMT_JATS: st = lp_parse_jats(&c, src); break;
    case LP_FMT_MEDLINE: st = lp_parse_medline(&c, src); break;
    case LP_FMT_TEI: st = lp_parse_tei(&c, src); break;
    case LP_FMT_ATOM: st = lp_parse_atom(&c, src); break;
    case LP_FMT_BIBTEX: st = lp_parse_bibtex(&c, src); break;
    case LP_FMT_DELIMITED: st = lp_parse_delimited(&c, src); break;
    case LP_FMT_TEXT: st = lp_parse_text(&c, src); break;
    default: st = sl_set_error(SL_ERR_UNSUPPORTED, "%s: unsupported format", display);
    }
    lp_spans_free(&c.spans);
    lp_flat_free(&c.flat);
    lp_buf_free(&c.tmp);
    return st;
}

sl_status lp_parse_file(const char *path, const char *display, lp_format format, const lp_options *opts,
                        const lp_sink *sink, lp_file_result *result) {
    if (!display) display = path;
    lp_source *src;
    sl_status st = lp_source_open(path, display, &src);
    if (st != SL_OK) return st;
    st = parse_source(src, display, format, opts, sink, result);
    lp_source_close(src);
    return st;
}

sl_status lp_parse_mem(const void *data, size_t n, const char *display, lp_format format, const lp_options *opts,
                       const lp_sink *sink, lp_file_result *result) {
    if (!display) display = "<memory>";
    lp_source *src;
    sl_status st = lp_source_mem(data, n, display, &src);
    if (st != SL_OK) return st;
    st = parse_source(src, display, format, opts, sink, result);
    lp_source_close(src);
    return st;
}
