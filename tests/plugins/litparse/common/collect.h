/* collect.h — run the litparse parsers on a file or a string and get the documents back as JSON objects. */
#ifndef LP_TEST_COLLECT_H
#define LP_TEST_COLLECT_H

#include <jansson.h>
#include "litparse.h"

/* What one parse produced. */
typedef struct lp_collected {
    json_t *docs;        /* array of document objects, in output order */
    json_t *deleted;     /* array of PMID strings from DeleteCitation */
    json_t *notes;       /* array of note strings */
    lp_file_result res;
    sl_status status;
    char error[4096];    /* sl_last_error() on failure */
    int json_errors;     /* lines the writer produced that jansson could not load or that did not round-trip */
} lp_collected;

/* Parse a file (format LP_FMT_UNKNOWN: detect). Every document is written with lp_doc_to_json,
 * loaded back with jansson, and dumped again to check the line is byte-identical. */
void lp_collect_file(lp_collected *c, const char *path, const char *display, lp_format fmt, const lp_options *opts);
void lp_collect_mem(lp_collected *c, const char *text, size_t len, const char *display, lp_format fmt, const lp_options *opts);
void lp_collect_free(lp_collected *c);

/* Shortcuts on a document. */
const char *jstr(const json_t *o, const char *key);
const char *jpath(const json_t *o, const char *path);   /* "ids.doi", "authors.0.family" */
long jint(const json_t *o, const char *path);            /* -1 when absent */
size_t jlen(const json_t *o, const char *path);          /* array/object size, 0 when absent */
/* The document whose id equals `id`, or NULL. */
json_t *jdoc(const lp_collected *c, const char *id);

#endif /* LP_TEST_COLLECT_H */
