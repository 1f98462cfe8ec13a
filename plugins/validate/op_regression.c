/* op_regression.c — validate.regression: least squares with polynomial terms and optional intercept, with a coefficient table. */
#define _GNU_SOURCE
#include "vp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TERMS 64

sl_status vp_op_regression(const sl_host *host, sl_op_ctx *ctx) {
    const char *path = host->input_path(ctx, "data", 0);
    if (!path) return host->fail(ctx, SL_ERR_NOT_FOUND, "input 'data' is not connected");
    const char *ycol = vp_opt(host, ctx, "y");
    size_t nx = host->param_list_count(ctx, "x");
    int64_t degree = 1;
    host->param_int(ctx, "degree", &degree);
    int intercept = 1;
    host->param_bool(ctx, "intercept", &intercept);
    double level = 0.95;
    host->param_float(ctx, "level", &level);
    if (!ycol) return host->fail(ctx, SL_ERR_INVALID, "param 'y' (the response column) is required");
    if (nx == 0 && !intercept) return host->fail(ctx, SL_ERR_INVALID, "param 'x' is empty and intercept is off: the model has no terms");
    if (degree > 1 && nx != 1)
        return host->fail(ctx, SL_ERR_INVALID, "param 'degree' = %lld needs exactly one column in 'x' (got %zu)", (long long)degree, nx);
    size_t p = (intercept ? 1 : 0) + (degree > 1 ? (size_t)degree : nx);
    if (p > MAX_TERMS) return host->fail(ctx, SL_ERR_RANGE, "the model has %zu terms; at most %d are supported", p, MAX_TERMS);
    sl_table *t;
    if (sl_table_read(path, &t) != SL_OK) return host->fail(ctx, sl_last_status(), "%s", sl_last_error());
    size_t n = sl_table_rows(t);
    double *X = malloc((n ? n : 1) * p * sizeof *X);
    char names[MAX_TERMS][160];
    vp_numbers y = {0};
    sl_status st = X ? SL_OK : host->fail(ctx, SL_ERR_NOMEM, "out of memory");
    /* regression is not shift-invariant in its regressors, so values are read as plain doubles
     * (reference 0); y is read the same way */
    vp_ref none = {1, {0, 0, 1, 0.0}};
    if (st == SL_OK) st = vp_read_numbers(host, ctx, t, path, ycol, NULL, 0, &none, &y);
    size_t c = 0;
    if (st == SL_OK && intercept) {
        for (size_t i = 0; i < n; i++) X[i] = 1.0;
        snprintf(names[c++], sizeof names[0], "Intercept");
    }
    for (size_t j = 0; st == SL_OK && j < nx; j++) {
        const char *col = host->param_list_item(ctx, "x", j);
        vp_numbers v = {0};
        st = vp_read_numbers(host, ctx, t, path, col, NULL, 0, &none, &v);
        if (st != SL_OK) break;
        if (degree > 1) {
            for (int64_t k = 1; k <= degree; k++) {
                /* x^k by repeated multiplication: the same bits on every platform (pow may differ) */
                for (size_t i = 0; i < n; i++) X[c * n + i] = k == 1 ? v.off[i] : X[(c - 1) * n + i] * v.off[i];
                if (k == 1) snprintf(names[c], sizeof names[0], "%s", col);
                else snprintf(names[c], sizeof names[0], "%s^%lld", col, (long long)k);
                c++;
            }
        } else {
            memcpy(X + c * n, v.off, n * sizeof *X);
            snprintf(names[c++], sizeof names[0], "%s", col);
        }
        vp_numbers_free(&v);
    }
    vs_ols m;
    memset(&m, 0, sizeof m);
    if (st == SL_OK && vs_ols_fit(X, y.off, n, p, intercept ? 0 : -1, 1.0 - level, &m) != 0) {
        if (n <= p) {
            st = host->fail(ctx, SL_ERR_INVALID, "%s: %zu rows for %zu coefficients; least squares needs more rows than coefficients",
                            path, n, p);
        } else {
            /* name the first term that depends on the ones before it */
            size_t bad = p - 1;
            for (size_t k = 1; k <= p; k++) {
                vs_ols sub;
                if (vs_ols_fit(X, y.off, n, k, intercept ? 0 : -1, 0.05, &sub) != 0 && sub.rank < (int)k) {
                    bad = k - 1;
                    break;
                }
                vs_ols_free(&sub);
            }
            st = host->fail(ctx, SL_ERR_INVALID, "%s: singular design matrix: term '%s' is a linear combination of the terms before it (%s)",
                            path, names[bad], m.note ? m.note : "");
        }
    }
    if (st == SL_OK) {
        json_t *root = json_object(), *coefs = json_array();
        json_object_set_new(root, "op", json_string("validate.regression"));
        vp_buf md = {0};
        char b[8][32];
        vp_buf_printf(&md, "# validate.regression: %s ~ ", ycol);
        for (size_t j = 0; j < p; j++) vp_buf_printf(&md, "%s%s", j ? " + " : "", names[j]);
        vp_buf_printf(&md, "\n\n| term | coef | se | t | p | ci_low | ci_high |\n|---|---|---|---|---|---|---|\n");
        static const char *const hdr[] = {"term", "coef", "se", "t", "p", "ci_low", "ci_high"};
        char ***rows = calloc(p, sizeof *rows);
        for (size_t j = 0; j < p; j++) {
            json_t *e = json_object();
            json_object_set_new(e, "term", json_string(names[j]));
            json_object_set_new(e, "coef", vp_json_num(m.coef[j]));
            json_object_set_new(e, "se", vp_json_num(m.se[j]));
            json_object_set_new(e, "t", vp_json_num(m.t[j]));
            json_object_set_new(e, "p", vp_json_num(m.pval[j]));
            json_object_set_new(e, "ci_low", vp_json_num(m.ci_lo[j]));
            json_object_set_new(e, "ci_high", vp_json_num(m.ci_hi[j]));
            json_array_append_new(coefs, e);
            vp_buf_printf(&md, "| %s | %s | %s | %s | %s | %s | %s |\n", names[j], vp_fmt(m.coef[j], b[0]), vp_fmt(m.se[j], b[1]),
                          vp_fmt(m.t[j], b[2]), vp_fmt(m.pval[j], b[3]), vp_fmt(m.ci_lo[j], b[4]), vp_fmt(m.ci_hi[j], b[5]));
            if (rows) {
                rows[j] = malloc(7 * sizeof(char *));
                if (rows[j]) {
                    rows[j][0] = strdup(names[j]);
                    double v[6] = {m.coef[j], m.se[j], m.t[j], m.pval[j], m.ci_lo[j], m.ci_hi[j]};
                    for (int k = 0; k < 6; k++) rows[j][k + 1] = strdup(vp_fmt(v[k], b[6]));
                }
            }
        }
        json_object_set_new(root, "coefficients", coefs);
        json_object_set_new(root, "n", json_integer((json_int_t)n));
        json_object_set_new(root, "r2", vp_json_num(m.r2));
        json_object_set_new(root, "adj_r2", vp_json_num(m.adj_r2));
        json_object_set_new(root, "F", vp_json_num(m.F));
        json_object_set_new(root, "F_p", vp_json_num(m.F_p));
        json_object_set_new(root, "df_model", vp_json_num(m.df_model));
        json_object_set_new(root, "df_resid", vp_json_num(m.df_resid));
        json_object_set_new(root, "sigma", vp_json_num(m.sigma));
        json_object_set_new(root, "level", json_real(level));
        json_object_set_new(root, "note", m.note ? json_string(m.note) : json_null());
        vp_buf_printf(&md, "\nn = %zu, R^2 = %s, adjusted R^2 = %s, F = %s (p = %s) on %s and %s df.\n", n, vp_fmt(m.r2, b[0]),
                      vp_fmt(m.adj_r2, b[1]), vp_fmt(m.F, b[2]), vp_fmt(m.F_p, b[3]), vp_fmt(m.df_model, b[4]), vp_fmt(m.df_resid, b[5]));
        if (m.note) vp_buf_printf(&md, "\nNote: %s.\n", m.note);
        const char *dir = host->output_path(ctx, "report");
        if (dir) st = vp_write_report(host, ctx, dir, root, md.s);
        const char *cp = host->output_path(ctx, "coefficients");
        int rows_ok = rows != NULL;
        for (size_t j = 0; rows && j < p; j++) rows_ok &= rows[j] != NULL;
        if (st == SL_OK && cp) st = rows_ok ? vp_write_csv(host, ctx, cp, hdr, 7, rows, p) : host->fail(ctx, SL_ERR_NOMEM, "out of memory");
        for (size_t j = 0; rows && j < p; j++) {
            if (!rows[j]) continue;
            for (int k = 0; k < 7; k++) free(rows[j][k]);
            free(rows[j]);
        }
        free(rows);
        json_decref(root);
        vp_buf_free(&md);
        vs_ols_free(&m);
    }
    free(X);
    vp_numbers_free(&y);
    sl_table_destroy(t);
    return st;
}
