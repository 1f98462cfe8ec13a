/* vp.h — what the validate plugin's op files share: reading numeric columns, running one test, writing reports. */
#ifndef VP_H
#define VP_H

#include <jansson.h>
#include <sciloop/artifact.h>
#include <sciloop/plugin.h>

#include "vs_stats.h"

/* ---------------------------------------------------------------------------------------- */
/* Numeric columns                                                                            */

/* Values read from a table column, shifted by a reference so that decimal data sharing many
 * leading digits keep their precision: value_i = ref + off[i] exactly up to the rounding of
 * off[i]. Location-invariant statistics run on `off` directly. */
typedef struct vp_numbers {
    double *off;
    size_t n;
} vp_numbers;

/* A reference shared by every column of one test (so that differences between groups are
 * exact). `set` is 0 until the first value is read. */
typedef struct vp_ref {
    int set;
    vs_decimal dec;
} vp_ref;

/* Read column `col` of `t` (named `tname` in messages) at the given rows (all rows when rows
 * is NULL) into out. Fails through host->fail with "<table>: column 'c', row r (line l): ..."
 * for empty, non-numeric, NaN or infinite cells. */
sl_status vp_read_numbers(const sl_host *host, sl_op_ctx *ctx, const sl_table *t, const char *tname, const char *col,
                          const size_t *rows, size_t nrows, vp_ref *ref, vp_numbers *out);
void vp_numbers_free(vp_numbers *v);

/* ref + off rounded once (the value an offset stands for). */
double vp_unshift(const vp_ref *ref, double off);

/* Column index or a failure naming the table, the column and the columns that exist. */
sl_status vp_find_col(const sl_host *host, sl_op_ctx *ctx, const sl_table *t, const char *tname, const char *col, size_t *out);

/* Distinct values of a column in order of first appearance. levels[i] point into the table. */
typedef struct vp_levels {
    const char **name;
    size_t n;
    size_t *of_row;  /* level index of every row */
} vp_levels;
sl_status vp_levels_of(const sl_host *host, sl_op_ctx *ctx, const sl_table *t, size_t col, vp_levels *out);
void vp_levels_free(vp_levels *l);

/* Rows (of a table with nrows rows) whose level is `level`; malloc'd, NULL on failure. */
size_t *vp_rows_where(const vp_levels *l, size_t nrows, size_t level, size_t *count);

/* ---------------------------------------------------------------------------------------- */
/* One test: what an op or a hypothesis asks for, and what comes back                         */

typedef enum vp_test {
    VP_STUDENT, VP_WELCH, VP_PAIRED, VP_MANNWHITNEY, VP_WILCOXON,
    VP_ANOVA, VP_WELCH_ANOVA, VP_KRUSKAL,
    VP_PEARSON, VP_SPEARMAN, VP_KENDALL,
    VP_CHI2, VP_GTEST, VP_FISHER,
    VP_N_TESTS
} vp_test;

const char *vp_test_name(vp_test t);
int vp_test_from_name(const char *s); /* -1 if unknown */

typedef struct vp_spec {
    vp_test test;
    /* columns: either value + group (two-sample/k-sample, long format) or x + y (wide/paired,
     * correlation, contingency rows/cols) */
    const char *value, *group, *x, *y;
    const char *level_a, *level_b;  /* the two groups compared (long format); NULL = first two */
    vs_alternative alt;
    vs_method method;
    vs_zero_method zero_method;
    int correction;
    int continuity;
    double level;                   /* confidence level for effect-size intervals */
} vp_spec;

void vp_spec_init(vp_spec *s);

typedef struct vp_outcome {
    vs_result res;
    vs_effect effect;
    double estimate;          /* mean difference, correlation, ... (test-dependent; NaN if none) */
    const char *estimate_name;
    size_t n_total;
    char groups[2][128];      /* labels of the compared groups/columns */
    double mean[2], sd[2];    /* descriptive statistics where they apply (NaN otherwise) */
    size_t n[2];
} vp_outcome;

/* Run a test on a table. On bad input fails through host->fail (message names column and row);
 * a statistically undefined result (zero variance, all ties, ...) is SL_OK with p = NaN and the
 * reason in out->res.note. */
sl_status vp_run_test(const sl_host *host, sl_op_ctx *ctx, const sl_table *t, const char *tname, const vp_spec *spec,
                      vp_outcome *out);

/* ---------------------------------------------------------------------------------------- */
/* Reports and tables                                                                         */

/* JSON number that stays valid JSON: NaN and infinities become null. */
json_t *vp_json_num(double v);

/* Write <dir>/report.json (compact, sorted keys, newline) and <dir>/report.md atomically. */
sl_status vp_write_report(const sl_host *host, sl_op_ctx *ctx, const char *dir, json_t *root, const char *markdown);

/* A growable string for Markdown. */
typedef struct vp_buf {
    char *s;
    size_t len, cap;
    int oom;
} vp_buf;
void vp_buf_printf(vp_buf *b, const char *fmt, ...) SL_PRINTF(2, 3);
void vp_buf_free(vp_buf *b);

/* Format a double for a table or Markdown cell (shortest round-trip form, "nan" for NaN). */
const char *vp_fmt(double v, char buf[32]);

/* outcome -> JSON object with statistic, p, df, method, note, effect, estimate, groups */
json_t *vp_outcome_json(const vp_spec *spec, const vp_outcome *o);

/* A string param, or NULL when it is unset or empty (optional params default to ""). */
const char *vp_opt(const sl_host *host, sl_op_ctx *ctx, const char *name);

/* Parse common enum params. */
vs_alternative vp_alt_from(const char *s);
vs_method vp_method_from(const char *s);

/* Write a CSV table: header + rows of strings; atomically. */
sl_status vp_write_csv(const sl_host *host, sl_op_ctx *ctx, const char *path, const char *const *header, size_t ncol,
                       char ***rows, size_t nrows);

/* Op entry points (one file each). */
sl_status vp_op_compare(const sl_host *host, sl_op_ctx *ctx);
sl_status vp_op_anova(const sl_host *host, sl_op_ctx *ctx);
sl_status vp_op_regression(const sl_host *host, sl_op_ctx *ctx);
sl_status vp_op_correlation(const sl_host *host, sl_op_ctx *ctx);
sl_status vp_op_contingency(const sl_host *host, sl_op_ctx *ctx);
sl_status vp_op_hypotheses(const sl_host *host, sl_op_ctx *ctx);
sl_status vp_op_replicate(const sl_host *host, sl_op_ctx *ctx);
sl_status vp_op_bootstrap(const sl_host *host, sl_op_ctx *ctx);

/* Shared by the single-test ops: read the `data` input, run `spec`, write report + results. */
sl_status vp_single_test_op(const sl_host *host, sl_op_ctx *ctx, const vp_spec *spec, const char *title);

#endif /* VP_H */
