/* vp_common.c — column reading with precise error messages, group levels, JSON/Markdown/CSV report writing. */
#define _GNU_SOURCE
#include "vp.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------- */

sl_status vp_find_col(const sl_host *host, sl_op_ctx *ctx, const sl_table *t, const char *tname, const char *col, size_t *out) {
    long c = col ? sl_table_find_col(t, col) : -1;
    if (c >= 0) {
        *out = (size_t)c;
        return SL_OK;
    }
    char have[512];
    size_t o = 0;
    have[0] = '\0';
    for (size_t i = 0; i < sl_table_cols(t) && o + 4 < sizeof have; i++)
        o += (size_t)snprintf(have + o, sizeof have - o, "%s'%s'", i ? ", " : "", sl_table_col_name(t, i));
    return host->fail(ctx, SL_ERR_NOT_FOUND, "%s: no column named '%s'; the table has %s", tname, col ? col : "(none given)", have);
}

sl_status vp_read_numbers(const sl_host *host, sl_op_ctx *ctx, const sl_table *t, const char *tname, const char *col,
                          const size_t *rows, size_t nrows, vp_ref *ref, vp_numbers *out) {
    out->off = NULL;
    out->n = 0;
    size_t c;
    sl_status st = vp_find_col(host, ctx, t, tname, col, &c);
    if (st != SL_OK) return st;
    if (!rows) nrows = sl_table_rows(t);
    out->off = malloc((nrows ? nrows : 1) * sizeof *out->off);
    if (!out->off) return host->fail(ctx, SL_ERR_NOMEM, "%s: out of memory reading column '%s'", tname, col);
    for (size_t k = 0; k < nrows; k++) {
        size_t r = rows ? rows[k] : k;
        const char *s = sl_table_cell(t, r, c);
        vs_decimal d;
        if (vs_decimal_parse(s, &d) != 0) {
            const char *p = s;
            while (*p == ' ' || *p == '\t') p++;
            const char *why = *p == '\0' ? "is empty; expected a number (missing values are not allowed)"
                                         : "is not a finite number; expected a decimal such as 12.5 or 1e-3";
            free(out->off);
            out->off = NULL;
            return host->fail(ctx, SL_ERR_INVALID, "%s: column '%s', row %zu (line %zu): '%s' %s", tname, col, r + 1,
                              sl_table_row_line(t, r), s, why);
        }
        if (!ref->set) {
            ref->dec = d;
            ref->set = 1;
        }
        out->off[k] = vs_decimal_diff(&d, &ref->dec);
    }
    out->n = nrows;
    return SL_OK;
}

void vp_numbers_free(vp_numbers *v) {
    if (!v) return;
    free(v->off);
    v->off = NULL;
    v->n = 0;
}

double vp_unshift(const vp_ref *ref, double off) { return ref->set ? vs_decimal_add(&ref->dec, off) : off; }

sl_status vp_levels_of(const sl_host *host, sl_op_ctx *ctx, const sl_table *t, size_t col, vp_levels *out) {
    size_t n = sl_table_rows(t);
    out->name = malloc((n ? n : 1) * sizeof *out->name);
    out->of_row = malloc((n ? n : 1) * sizeof *out->of_row);
    out->n = 0;
    if (!out->name || !out->of_row) {
        vp_levels_free(out);
        return host->fail(ctx, SL_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < n; r++) {
        const char *s = sl_table_cell(t, r, col);
        size_t k;
        for (k = 0; k < out->n; k++)
            if (!strcmp(out->name[k], s)) break;
        if (k == out->n) out->name[out->n++] = s;
        out->of_row[r] = k;
    }
    return SL_OK;
}

void vp_levels_free(vp_levels *l) {
    if (!l) return;
    free(l->name);
    free(l->of_row);
    l->name = NULL;
    l->of_row = NULL;
    l->n = 0;
}

size_t *vp_rows_where(const vp_levels *l, size_t nrows, size_t level, size_t *count) {
    size_t n = 0;
    for (size_t r = 0; r < nrows; r++) n += l->of_row[r] == level;
    size_t *rows = malloc((n ? n : 1) * sizeof *rows);
    *count = 0;
    if (!rows) return NULL;
    for (size_t r = 0; r < nrows; r++)
        if (l->of_row[r] == level) rows[(*count)++] = r;
    return rows;
}

/* ---------------------------------------------------------------------------------------- */

json_t *vp_json_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

const char *vp_fmt(double v, char buf[32]) { return sl_format_double(v, buf); }

void vp_buf_printf(vp_buf *b, const char *fmt, ...) {
    if (b->oom) return;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 1024);
        while (cap < b->len + (size_t)n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            free(s);
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, (size_t)n + 1);
    b->len += (size_t)n;
    free(s);
}

void vp_buf_free(vp_buf *b) {
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

sl_status vp_write_report(const sl_host *host, sl_op_ctx *ctx, const char *dir, json_t *root, const char *markdown) {
    char *js = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    if (!js) return host->fail(ctx, SL_ERR_NOMEM, "out of memory writing the report");
    char path[4096];
    snprintf(path, sizeof path, "%s/report.json", dir);
    size_t len = strlen(js);
    char *withnl = malloc(len + 2);
    if (!withnl) {
        free(js);
        return host->fail(ctx, SL_ERR_NOMEM, "out of memory writing the report");
    }
    memcpy(withnl, js, len);
    withnl[len] = '\n';
    withnl[len + 1] = '\0';
    free(js);
    sl_status st = sl_write_file_atomic(path, withnl, len + 1);
    free(withnl);
    if (st != SL_OK) return host->fail(ctx, st, "%s", sl_last_error());
    snprintf(path, sizeof path, "%s/report.md", dir);
    st = sl_write_file_atomic(path, markdown ? markdown : "", markdown ? strlen(markdown) : 0);
    if (st != SL_OK) return host->fail(ctx, st, "%s", sl_last_error());
    return SL_OK;
}

sl_status vp_write_csv(const sl_host *host, sl_op_ctx *ctx, const char *path, const char *const *header, size_t ncol,
                       char ***rows, size_t nrows) {
    sl_csv_writer *w;
    sl_status st = sl_csv_open(path, &w);
    if (st != SL_OK) return host->fail(ctx, st, "%s", sl_last_error());
    st = sl_csv_write_row(w, header, ncol);
    for (size_t r = 0; st == SL_OK && r < nrows; r++) st = sl_csv_write_row(w, (const char *const *)rows[r], ncol);
    if (st == SL_OK) st = sl_csv_commit(w);
    if (st != SL_OK) {
        st = host->fail(ctx, st, "%s", sl_last_error());
    }
    sl_csv_destroy(w);
    return st;
}

const char *vp_opt(const sl_host *host, sl_op_ctx *ctx, const char *name) {
    const char *s = host->param(ctx, name);
    return s && *s ? s : NULL;
}

vs_alternative vp_alt_from(const char *s) {
    if (s && (!strcmp(s, "less") || !strcmp(s, "lower"))) return VS_LESS;
    if (s && (!strcmp(s, "greater") || !strcmp(s, "higher"))) return VS_GREATER;
    return VS_TWO_SIDED;
}

vs_method vp_method_from(const char *s) {
    if (s && !strcmp(s, "exact")) return VS_EXACT;
    if (s && !strcmp(s, "asymptotic")) return VS_ASYMPTOTIC;
    return VS_AUTO;
}
