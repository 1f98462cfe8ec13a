/* ops.h — the litparse ops (parse, merge, filter, stats) and the helpers they share. */
#ifndef LP_OPS_H
#define LP_OPS_H

#include <jansson.h>
#include <stdio.h>
#include <sciloop/artifact.h>
#include <sciloop/plugin.h>
#include "util.h"

sl_status lp_op_parse(const sl_host *host, sl_op_ctx *ctx);
sl_status lp_op_merge(const sl_host *host, sl_op_ctx *ctx);
sl_status lp_op_filter(const sl_host *host, sl_op_ctx *ctx);
sl_status lp_op_stats(const sl_host *host, sl_op_ctx *ctx);

/* A string param, NULL when unset or empty. */
const char *lp_param(const sl_host *h, sl_op_ctx *c, const char *name);

/* Reads a documents file (JSON Lines) one line at a time with a bound on line length. */
typedef struct lp_jsonl {
    FILE *f;
    const char *path;
    lp_buf line;
    long lineno;           /* number of the line last returned */
    long long offset;      /* byte offset of the line last returned */
    long long next_offset;
    size_t max_line;
} lp_jsonl;

/* Open `path`; SL_ERR_IO/NOT_FOUND with a message naming it. */
sl_status lp_jsonl_open(lp_jsonl *r, const char *path, size_t max_line);
/* Next non-blank line into r->line (NUL-terminated, without '\n'): 1, 0 at the end, -1 on error. */
int lp_jsonl_next(lp_jsonl *r);
/* Parse r->line as a JSON object; NULL with "path:line: ..." set when it is not one. */
json_t *lp_jsonl_parse(lp_jsonl *r);
void lp_jsonl_close(lp_jsonl *r);

/* Convenience accessors on a document object. */
const char *lp_jstr(const json_t *obj, const char *key);          /* string value or NULL */
const char *lp_jid(const json_t *doc, const char *kind);          /* ids.<kind> or NULL */
int lp_jyear(const json_t *doc);                                  /* year or 0 */
/* Title + abstract text joined by '\n' into b (abstract paragraphs separated by ' '). */
void lp_jtext(const json_t *doc, int title, int abstract, lp_buf *b);

/* Write a JSON object as one compact line (jansson, insertion order) to f; 0 or -1. */
int lp_jwrite(FILE *f, const json_t *doc);

/* Temporary output next to `path`: create "<path>.tmp", then lp_out_commit renames it. */
FILE *lp_out_open(const sl_host *h, sl_op_ctx *c, const char *path, char *tmp, size_t tmpsz);
sl_status lp_out_commit(const sl_host *h, sl_op_ctx *c, FILE *f, const char *tmp, const char *path);

#endif /* LP_OPS_H */
