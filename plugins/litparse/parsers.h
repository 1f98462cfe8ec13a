/* parsers.h — the per-format parsers behind lp_parse (JATS, MEDLINE, TEI, Atom, BibTeX, delimited, text). */
#ifndef LP_PARSERS_H
#define LP_PARSERS_H

#include "doc.h"
#include "flat.h"
#include "litparse.h"
#include "source.h"
#include "xml.h"

/* State of one file's parse, shared by the format parsers. */
typedef struct lp_ctx {
    const char *file;            /* name recorded in documents and messages */
    const char *format;          /* format name recorded in documents */
    const lp_options *opts;
    const lp_sink *sink;
    lp_spans spans;              /* sentence scratch */
    lp_flat flat;                /* paragraph scratch */
    lp_buf tmp;                  /* misc scratch */
    long record;                 /* index of the next record in the file */
    lp_file_result *res;
} lp_ctx;

/* Emit a finished document (sets id/year first); counts it. */
sl_status lp_ctx_emit(lp_ctx *c, lp_arena *a, lp_doc *d);
/* Report a non-fatal remark about the file. */
void lp_ctx_note(lp_ctx *c, const char *fmt, ...) SL_PRINTF(2, 3);
/* Report what lp_xml_parse counted but did not fail on (unknown entities, recoverable errors). */
void lp_ctx_xml_notes(lp_ctx *c, const lp_xml_info *info);
/* A status for an arena failure while building a record ("file: record N: out of memory"). */
sl_status lp_ctx_arena_fail(lp_ctx *c, lp_arena *a, unsigned line);

sl_status lp_parse_jats(lp_ctx *c, lp_source *src);
sl_status lp_parse_medline(lp_ctx *c, lp_source *src);
sl_status lp_parse_tei(lp_ctx *c, lp_source *src);
sl_status lp_parse_atom(lp_ctx *c, lp_source *src);
sl_status lp_parse_bibtex(lp_ctx *c, lp_source *src);
sl_status lp_parse_delimited(lp_ctx *c, lp_source *src);
sl_status lp_parse_text(lp_ctx *c, lp_source *src);

/* Node flags the XML parsers ask lp_xml_parse to set (lp_flat_classify), so lp_flat_node tests bits. */
enum {
    LP_NF_SKIP = 1,    /* never part of running text (figures, tables, footnotes, graphics, tex-math) */
    LP_NF_BLOCK = 2,   /* separates words (list items, paragraphs, breaks, labels, cells) */
    LP_NF_MATH = 4,    /* MathML <math> */
    LP_NF_XREF = 8,    /* JATS <xref> */
    LP_NF_SEEN = 16    /* classified */
};
unsigned lp_flat_classify(const char *localname);

/* The same XML tree walkers the JATS parser uses, for TEI-like mixed content: flatten the
 * children of `n` into `c->flat`, skipping elements named in `skip` (NULL-terminated). */
void lp_flat_node(lp_ctx *c, lp_arena *a, const lp_node *n, const char *const *skip);

#endif /* LP_PARSERS_H */
