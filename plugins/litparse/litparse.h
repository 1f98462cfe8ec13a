/* litparse.h — parse one literature file of any supported format into documents (the plugin's core API). */
#ifndef LP_LITPARSE_H
#define LP_LITPARSE_H

#include <stddef.h>
#include <sciloop/status.h>
#include "doc.h"

/* Formats litparse reads. */
typedef enum lp_format {
    LP_FMT_UNKNOWN = 0,
    LP_FMT_JATS,       /* JATS / NLM article XML (PMC, PLOS, eLife, ...) */
    LP_FMT_MEDLINE,    /* PubMed / MEDLINE citation XML */
    LP_FMT_TEI,        /* GROBID TEI */
    LP_FMT_ATOM,       /* arXiv API Atom feed */
    LP_FMT_BIBTEX,     /* BibTeX / BibLaTeX */
    LP_FMT_DELIMITED,  /* CSV / TSV / PSV export */
    LP_FMT_TEXT,       /* plain text or Markdown */
    LP_FMT_COUNT
} lp_format;

/* "jats", "medline", ... ; "unknown" for LP_FMT_UNKNOWN. */
const char *lp_format_name(lp_format f);
/* The format named `name` (also accepts "pubmed", "csv", "tsv", "psv", "markdown", "bib"),
 * LP_FMT_UNKNOWN when none. */
lp_format lp_format_parse(const char *name);

/* Options of a parse. Zero-initialise, then set what you need. */
typedef struct lp_options {
    const char *columns;      /* delimited: "pmid=0,year=1,title=2,abstract=3" (0-based indices or header names) */
    char delimiter;           /* delimited: ',', '\t', '|', ';' or 0 to detect */
    int header;               /* delimited: 1 yes, 0 no, -1 detect */
    size_t max_record_bytes;  /* memory one record may take (0: 256 MiB) */
    size_t max_file_bytes;    /* formats read whole (BibTeX, text, delimited lines): 0 = 512 MiB */
} lp_options;

/* What a parse of one file found. */
typedef struct lp_file_result {
    lp_format format;
    size_t documents;         /* documents emitted */
    size_t deletions;         /* MEDLINE DeleteCitation PMIDs seen */
    size_t warnings;          /* non-fatal remarks sent to the sink's note() */
    int api_error;            /* an arXiv error feed */
} lp_file_result;

/* Guess the format of a file from its first bytes (after gzip inflation): the XML root element,
 * BibTeX '@type{', consistent delimiters, else text. `name` (may be NULL) helps only between
 * delimited and text for tiny files (its extension). Returns LP_FMT_UNKNOWN for binary data. */
lp_format lp_detect(const unsigned char *head, size_t n, const char *name);

/* Parse the file at `path` (plain or gzip), naming it `display` in documents and messages.
 * `format` LP_FMT_UNKNOWN means detect. Documents go to `sink` one at a time (memory stays
 * bounded by one record). On failure returns the status with "display:line:col: reason" set;
 * documents already emitted stay emitted. `result` may be NULL. */
sl_status lp_parse_file(const char *path, const char *display, lp_format format, const lp_options *opts,
                        const lp_sink *sink, lp_file_result *result);

/* The same over `n` bytes of memory. */
sl_status lp_parse_mem(const void *data, size_t n, const char *display, lp_format format, const lp_options *opts,
                       const lp_sink *sink, lp_file_result *result);

#endif /* LP_LITPARSE_H */
