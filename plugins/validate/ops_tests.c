/* ops_tests.c — the single-test ops: validate.compare, validate.anova, validate.correlation, validate.contingency. */
#define _GNU_SOURCE
#include "vp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const result_header[] = {"test", "statistic", "p", "df", "df2", "method", "effect", "effect_value",
                                            "ci_low", "ci_high", "estimate", "n", "note"};
#define N_RESULT_COLS (sizeof result_header / sizeof result_header[0])

static char *dupf(double v) {
    char b[32];
    return strdup(vp_fmt(v, b));
}

static void md_outcome(vp_buf *md, const vp_spec *sp, const vp_outcome *o) {
    char b1[32], b2[32], b3[32], b4[32], b5[32];
    vp_buf_printf(md, "| statistic | p | df | method |\n|---|---|---|---|\n| %s | %s | %s | %s |\n\n", vp_fmt(o->res.statistic, b1),
                  vp_fmt(o->res.p, b2), vp_fmt(o->res.df, b3), o->res.method ? o->res.method : "");
    if (o->effect.name)
        vp_buf_printf(md, "Effect size %s = %s, %g%% CI [%s, %s].\n\n", o->effect.name, vp_fmt(o->effect.value, b4), 100 * sp->level,
                      vp_fmt(o->effect.lo, b5), vp_fmt(o->effect.hi, b1));
    for (int i = 0; i < 2; i++)
        if (o->n[i])
            vp_buf_printf(md, "- %s: n = %zu, mean = %s, sd = %s\n", o->groups[i], o->n[i], vp_fmt(o->mean[i], b2), vp_fmt(o->sd[i], b3));
    if (o->res.note) vp_buf_printf(md, "\nNote: %s.\n", o->res.note);
}

sl_status vp_single_test_op(const sl_host *host, sl_op_ctx *ctx, const vp_spec *sp, const char *title) {
    const char *path = host->input_path(ctx, "data", 0);
    if (!path) return host->fail(ctx, SL_ERR_NOT_FOUND, "input 'data' is not connected");
    sl_table *t;
    if (sl_table_read(path, &t) != SL_OK) return host->fail(ctx, sl_last_status(), "%s", sl_last_error());
    vp_outcome o;
    sl_status st = vp_run_test(host, ctx, t, path, sp, &o);
    sl_table_destroy(t);
    if (st != SL_OK) return st;
    if (o.res.note) host->log(ctx, SL_LOG_WARN, "%s: %s", vp_test_name(sp->test), o.res.note);
    json_t *root = json_object();
    json_object_set_new(root, "op", json_string(title));
    json_t *arr = json_array();
    json_array_append_new(arr, vp_outcome_json(sp, &o));
    json_object_set_new(root, "tests", arr);
    vp_buf md = {0};
    vp_buf_printf(&md, "# %s: %s test\n\n", title, vp_test_name(sp->test));
    md_outcome(&md, sp, &o);
    const char *dir = host->output_path(ctx, "report");
    st = dir ? vp_write_report(host, ctx, dir, root, md.oom ? NULL : md.s) : SL_OK;
    json_decref(root);
    vp_buf_free(&md);
    if (st != SL_OK) return st;
    const char *rpath = host->output_path(ctx, "results");
    if (rpath) {
        char *cells[N_RESULT_COLS];
        cells[0] = strdup(vp_test_name(sp->test));
        cells[1] = dupf(o.res.statistic);
        cells[2] = dupf(o.res.p);
        cells[3] = dupf(o.res.df);
        cells[4] = dupf(o.res.df2);
        cells[5] = strdup(o.res.method ? o.res.method : "");
        cells[6] = strdup(o.effect.name ? o.effect.name : "");
        cells[7] = dupf(o.effect.value);
        cells[8] = dupf(o.effect.lo);
        cells[9] = dupf(o.effect.hi);
        cells[10] = dupf(o.estimate);
        char nb[32];
        snprintf(nb, sizeof nb, "%zu", o.n_total);
        cells[11] = strdup(nb);
        cells[12] = strdup(o.res.note ? o.res.note : "");
        char **rows[1] = {cells};
        st = vp_write_csv(host, ctx, rpath, result_header, N_RESULT_COLS, rows, 1);
        for (size_t i = 0; i < N_RESULT_COLS; i++) free(cells[i]);
    }
    return st;
}

static void common_params(const sl_host *host, sl_op_ctx *ctx, vp_spec *sp) {
    sp->alt = vp_alt_from(host->param(ctx, "alternative"));
    sp->method = vp_method_from(host->param(ctx, "method"));
    double lv;
    if (host->param_float(ctx, "level", &lv) == SL_OK) sp->level = lv;
}

sl_status vp_op_compare(const sl_host *host, sl_op_ctx *ctx) {
    vp_spec sp;
    vp_spec_init(&sp);
    common_params(host, ctx, &sp);
    const char *test = host->param(ctx, "test");
    int ti = vp_test_from_name(test ? test : "welch");
    if (ti < 0 || ti > VP_WILCOXON)
        return host->fail(ctx, SL_ERR_INVALID, "param 'test': '%s' is not a two-sample test; expected student, welch, paired, mannwhitney or wilcoxon", test);
    sp.test = (vp_test)ti;
    sp.value = vp_opt(host, ctx, "value");
    sp.group = vp_opt(host, ctx, "group");
    sp.x = vp_opt(host, ctx, "x");
    sp.y = vp_opt(host, ctx, "y");
    if (host->param_list_count(ctx, "groups") >= 2) {
        sp.level_a = host->param_list_item(ctx, "groups", 0);
        sp.level_b = host->param_list_item(ctx, "groups", 1);
    }
    const char *zm = host->param(ctx, "zero_method");
    sp.zero_method = zm && !strcmp(zm, "pratt") ? VS_ZERO_PRATT : zm && !strcmp(zm, "zsplit") ? VS_ZERO_ZSPLIT : VS_ZERO_WILCOX;
    int b;
    if (host->param_bool(ctx, "continuity", &b) == SL_OK) sp.continuity = b;
    return vp_single_test_op(host, ctx, &sp, "validate.compare");
}

sl_status vp_op_correlation(const sl_host *host, sl_op_ctx *ctx) {
    vp_spec sp;
    vp_spec_init(&sp);
    common_params(host, ctx, &sp);
    const char *test = host->param(ctx, "test");
    int ti = vp_test_from_name(test ? test : "pearson");
    if (ti < VP_PEARSON || ti > VP_KENDALL)
        return host->fail(ctx, SL_ERR_INVALID, "param 'test': '%s' is not a correlation; expected pearson, spearman or kendall", test);
    sp.test = (vp_test)ti;
    sp.x = vp_opt(host, ctx, "x");
    sp.y = vp_opt(host, ctx, "y");
    return vp_single_test_op(host, ctx, &sp, "validate.correlation");
}

sl_status vp_op_contingency(const sl_host *host, sl_op_ctx *ctx) {
    vp_spec sp;
    vp_spec_init(&sp);
    common_params(host, ctx, &sp);
    const char *test = host->param(ctx, "test");
    int ti = vp_test_from_name(test ? test : "chi2");
    if (ti < VP_CHI2 || ti > VP_FISHER)
        return host->fail(ctx, SL_ERR_INVALID, "param 'test': '%s' is not a contingency test; expected chi2, gtest or fisher", test);
    sp.test = (vp_test)ti;
    sp.x = vp_opt(host, ctx, "x");
    sp.y = vp_opt(host, ctx, "y");
    int b;
    if (host->param_bool(ctx, "correction", &b) == SL_OK) sp.correction = b;
    return vp_single_test_op(host, ctx, &sp, "validate.contingency");
}

/* Two-way ANOVA: its own table of three effects. */
static sl_status anova_twoway(const sl_host *host, sl_op_ctx *ctx) {
    const char *path = host->input_path(ctx, "data", 0);
    if (!path) return host->fail(ctx, SL_ERR_NOT_FOUND, "input 'data' is not connected");
    const char *value = vp_opt(host, ctx, "value"), *fa = vp_opt(host, ctx, "factor_a"), *fb = vp_opt(host, ctx, "factor_b");
    if (!value || !fa || !fb) return host->fail(ctx, SL_ERR_INVALID, "two-way ANOVA needs params 'value', 'factor_a' and 'factor_b'");
    sl_table *t;
    if (sl_table_read(path, &t) != SL_OK) return host->fail(ctx, sl_last_status(), "%s", sl_last_error());
    size_t ca, cb;
    sl_status st = vp_find_col(host, ctx, t, path, fa, &ca);
    if (st == SL_OK) st = vp_find_col(host, ctx, t, path, fb, &cb);
    vp_levels la = {0}, lb = {0};
    vp_numbers y = {0};
    vp_ref ref = {0};
    int *ia = NULL, *ib = NULL;
    if (st == SL_OK) st = vp_levels_of(host, ctx, t, ca, &la);
    if (st == SL_OK) st = vp_levels_of(host, ctx, t, cb, &lb);
    if (st == SL_OK) st = vp_read_numbers(host, ctx, t, path, value, NULL, 0, &ref, &y);
    size_t n = sl_table_rows(t);
    if (st == SL_OK) {
        ia = malloc((n ? n : 1) * sizeof *ia);
        ib = malloc((n ? n : 1) * sizeof *ib);
        if (!ia || !ib) st = host->fail(ctx, SL_ERR_NOMEM, "out of memory");
    }
    vs_anova2 out;
    if (st == SL_OK) {
        for (size_t i = 0; i < n; i++) {
            ia[i] = (int)la.of_row[i];
            ib[i] = (int)lb.of_row[i];
        }
        if (vs_anova_twoway(y.off, ia, ib, n, (int)la.n, (int)lb.n, &out) != 0)
            st = host->fail(ctx, SL_ERR_INVALID, "%s: two-way ANOVA of '%s' by '%s' (%zu levels) and '%s' (%zu levels): %s", path, value,
                            fa, la.n, fb, lb.n, out.note);
    }
    if (st == SL_OK) {
        const char *names[3] = {fa, fb, NULL};
        char inter[256];
        snprintf(inter, sizeof inter, "%s:%s", fa, fb);
        names[2] = inter;
        json_t *root = json_object(), *arr = json_array();
        json_object_set_new(root, "op", json_string("validate.anova"));
        json_object_set_new(root, "test", json_string("twoway"));
        vp_buf md = {0};
        vp_buf_printf(&md, "# validate.anova: two-way ANOVA of %s\n\n| source | SS | df | MS | F | p |\n|---|---|---|---|---|---|\n", value);
        static const char *const hdr[] = {"source", "ss", "df", "ms", "F", "p"};
        char **rows[4];
        char *cells[4][6];
        for (int i = 0; i < 4; i++) {
            const vs_anova_row *r = i < 3 ? &out.rows[i] : &out.resid;
            const char *nm = i < 3 ? names[i] : "Residual";
            json_t *e = json_object();
            json_object_set_new(e, "source", json_string(nm));
            json_object_set_new(e, "ss", vp_json_num(r->ss));
            json_object_set_new(e, "df", vp_json_num(r->df));
            json_object_set_new(e, "ms", vp_json_num(r->ms));
            json_object_set_new(e, "F", vp_json_num(r->F));
            json_object_set_new(e, "p", vp_json_num(r->p));
            json_array_append_new(arr, e);
            char b[6][32];
            vp_buf_printf(&md, "| %s | %s | %s | %s | %s | %s |\n", nm, vp_fmt(r->ss, b[0]), vp_fmt(r->df, b[1]), vp_fmt(r->ms, b[2]),
                          vp_fmt(r->F, b[3]), vp_fmt(r->p, b[4]));
            cells[i][0] = strdup(nm);
            cells[i][1] = dupf(r->ss);
            cells[i][2] = dupf(r->df);
            cells[i][3] = dupf(r->ms);
            cells[i][4] = dupf(r->F);
            cells[i][5] = dupf(r->p);
            rows[i] = cells[i];
        }
        if (out.note) vp_buf_printf(&md, "\nNote: %s.\n", out.note);
        json_object_set_new(root, "note", out.note ? json_string(out.note) : json_null());
        json_object_set_new(root, "table", arr);
        const char *dir = host->output_path(ctx, "report");
        if (dir) st = vp_write_report(host, ctx, dir, root, md.s);
        const char *rp = host->output_path(ctx, "results");
        if (st == SL_OK && rp) st = vp_write_csv(host, ctx, rp, hdr, 6, rows, 4);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 6; j++) free(cells[i][j]);
        json_decref(root);
        vp_buf_free(&md);
    }
    free(ia);
    free(ib);
    vp_numbers_free(&y);
    vp_levels_free(&la);
    vp_levels_free(&lb);
    sl_table_destroy(t);
    return st;
}

sl_status vp_op_anova(const sl_host *host, sl_op_ctx *ctx) {
    const char *test = host->param(ctx, "test");
    if (test && !strcmp(test, "twoway")) return anova_twoway(host, ctx);
    vp_spec sp;
    vp_spec_init(&sp);
    common_params(host, ctx, &sp);
    int ti = vp_test_from_name(test ? test : "anova");
    if (ti < VP_ANOVA || ti > VP_KRUSKAL)
        return host->fail(ctx, SL_ERR_INVALID, "param 'test': '%s' is not an ANOVA; expected anova, welch_anova, kruskal or twoway", test);
    sp.test = (vp_test)ti;
    sp.value = vp_opt(host, ctx, "value");
    sp.group = vp_opt(host, ctx, "group");
    return vp_single_test_op(host, ctx, &sp, "validate.anova");
}
