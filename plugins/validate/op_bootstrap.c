/* op_bootstrap.c — validate.bootstrap: seeded percentile or BCa confidence interval for a mean, median, sd or mean difference. */
#define _GNU_SOURCE
#include "vp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sl_status vp_op_bootstrap(const sl_host *host, sl_op_ctx *ctx) {
    const char *path = host->input_path(ctx, "data", 0);
    if (!path) return host->fail(ctx, SL_ERR_NOT_FOUND, "input 'data' is not connected");
    const char *sname = host->param(ctx, "statistic");
    int kind = vs_stat_kind_from_name(sname ? sname : "mean");
    if (kind < 0) return host->fail(ctx, SL_ERR_INVALID, "param 'statistic': '%s'; expected mean, median, sd or mean_diff", sname);
    const char *method = host->param(ctx, "method");
    int bca = !method || !strcmp(method, "bca");
    int64_t B = 9999, seed;
    host->param_int(ctx, "resamples", &B);
    if (host->param_int(ctx, "seed", &seed) != SL_OK || seed < 0) seed = (int64_t)host->seed(ctx);
    double level = 0.95;
    host->param_float(ctx, "level", &level);
    sl_table *t;
    if (sl_table_read(path, &t) != SL_OK) return host->fail(ctx, sl_last_status(), "%s", sl_last_error());
    vp_spec sp;
    vp_spec_init(&sp);
    sp.test = VP_WELCH; /* only for selecting the samples */
    sp.value = vp_opt(host, ctx, "value");
    sp.group = vp_opt(host, ctx, "group");
    sp.x = vp_opt(host, ctx, "x");
    sp.y = vp_opt(host, ctx, "y");
    if (host->param_list_count(ctx, "groups") >= 2) {
        sp.level_a = host->param_list_item(ctx, "groups", 0);
        sp.level_b = host->param_list_item(ctx, "groups", 1);
    }
    vp_numbers a = {0}, b = {0};
    vp_ref ref = {0};
    sl_status st = SL_OK;
    char la[128] = "", lb[128] = "";
    if (kind == VS_STAT_MEAN_DIFF) {
        /* the two samples as for validate.compare */
        vp_outcome o;
        memset(&o, 0, sizeof o);
        if (sp.x && sp.y) {
            st = vp_read_numbers(host, ctx, t, path, sp.x, NULL, 0, &ref, &a);
            if (st == SL_OK) st = vp_read_numbers(host, ctx, t, path, sp.y, NULL, 0, &ref, &b);
            snprintf(la, sizeof la, "%s", sp.x);
            snprintf(lb, sizeof lb, "%s", sp.y);
        } else if (sp.value && sp.group) {
            size_t gc;
            vp_levels lv = {0};
            st = vp_find_col(host, ctx, t, path, sp.group, &gc);
            if (st == SL_OK) st = vp_levels_of(host, ctx, t, gc, &lv);
            long ia = -1, ib = -1;
            for (size_t k = 0; st == SL_OK && k < lv.n; k++) {
                if (sp.level_a ? !strcmp(lv.name[k], sp.level_a) : (ia < 0 && k == 0)) ia = (long)k;
                if (sp.level_b ? !strcmp(lv.name[k], sp.level_b) : k == 1) ib = (long)k;
            }
            if (st == SL_OK && (ia < 0 || ib < 0 || ia == ib))
                st = host->fail(ctx, SL_ERR_INVALID, "%s: column '%s' does not hold the two groups to compare", path, sp.group);
            size_t na = 0, nb = 0, *ra = NULL, *rb = NULL;
            if (st == SL_OK) {
                ra = vp_rows_where(&lv, sl_table_rows(t), (size_t)ia, &na);
                rb = vp_rows_where(&lv, sl_table_rows(t), (size_t)ib, &nb);
                snprintf(la, sizeof la, "%s", lv.name[ia]);
                snprintf(lb, sizeof lb, "%s", lv.name[ib]);
                if (!ra || !rb) st = host->fail(ctx, SL_ERR_NOMEM, "out of memory");
            }
            if (st == SL_OK) st = vp_read_numbers(host, ctx, t, path, sp.value, ra, na, &ref, &a);
            if (st == SL_OK) st = vp_read_numbers(host, ctx, t, path, sp.value, rb, nb, &ref, &b);
            free(ra);
            free(rb);
            vp_levels_free(&lv);
        } else {
            st = host->fail(ctx, SL_ERR_INVALID, "statistic mean_diff needs two columns (x, y) or a value column and a group column");
        }
    } else {
        const char *col = sp.value ? sp.value : sp.x;
        if (!col) st = host->fail(ctx, SL_ERR_INVALID, "param 'value' (the column to resample) is required");
        else st = vp_read_numbers(host, ctx, t, path, col, NULL, 0, &ref, &a);
        if (col) snprintf(la, sizeof la, "%s", col);
    }
    vs_boot bo;
    memset(&bo, 0, sizeof bo);
    if (st == SL_OK) {
        if (a.n < 2 || (kind == VS_STAT_MEAN_DIFF && b.n < 2))
            st = host->fail(ctx, SL_ERR_INVALID, "%s: the bootstrap needs at least 2 values in each sample (got %zu%s%zu)", path, a.n,
                            kind == VS_STAT_MEAN_DIFF ? " and " : "", kind == VS_STAT_MEAN_DIFF ? b.n : (size_t)0);
    }
    if (st == SL_OK) {
        host->progress(ctx, 0, (double)B, "resamples");
        vs_bootstrap((vs_stat_kind)kind, a.off, a.n, b.off, b.n, (size_t)B, (uint64_t)seed, level, bca, &bo);
        host->progress(ctx, (double)B, (double)B, "resamples");
        /* location statistics were computed on shifted data: shift back */
        if (kind == VS_STAT_MEAN || kind == VS_STAT_MEDIAN) {
            bo.estimate = vp_unshift(&ref, bo.estimate);
            bo.lo = vp_unshift(&ref, bo.lo);
            bo.hi = vp_unshift(&ref, bo.hi);
        }
        json_t *root = json_object();
        json_object_set_new(root, "op", json_string("validate.bootstrap"));
        json_object_set_new(root, "statistic", json_string(sname ? sname : "mean"));
        json_object_set_new(root, "method", json_string(bca ? "bca" : "percentile"));
        json_object_set_new(root, "resamples", json_integer((json_int_t)B));
        json_object_set_new(root, "seed", json_integer((json_int_t)seed));
        json_object_set_new(root, "level", json_real(level));
        json_object_set_new(root, "estimate", vp_json_num(bo.estimate));
        json_object_set_new(root, "ci_low", vp_json_num(bo.lo));
        json_object_set_new(root, "ci_high", vp_json_num(bo.hi));
        json_object_set_new(root, "se", vp_json_num(bo.se));
        json_object_set_new(root, "bias", vp_json_num(bo.bias));
        json_object_set_new(root, "z0", vp_json_num(bo.z0));
        json_object_set_new(root, "acceleration", vp_json_num(bo.accel));
        json_object_set_new(root, "note", bo.note ? json_string(bo.note) : json_null());
        vp_buf md = {0};
        char b1[32], b2[32], b3[32], b4[32];
        vp_buf_printf(&md, "# validate.bootstrap: %s of %s%s%s\n\n%s = %s, %g%% %s interval [%s, %s] from %lld resamples (seed %lld), bootstrap se %s.\n",
                      sname ? sname : "mean", la, *lb ? " minus " : "", lb, sname ? sname : "mean", vp_fmt(bo.estimate, b1), 100 * level,
                      bca ? "BCa" : "percentile", vp_fmt(bo.lo, b2), vp_fmt(bo.hi, b3), (long long)B, (long long)seed, vp_fmt(bo.se, b4));
        if (bo.note) vp_buf_printf(&md, "\nNote: %s.\n", bo.note);
        const char *dir = host->output_path(ctx, "report");
        if (dir) st = vp_write_report(host, ctx, dir, root, md.s);
        const char *rp = host->output_path(ctx, "results");
        if (st == SL_OK && rp) {
            static const char *const hdr[] = {"statistic", "estimate", "ci_low", "ci_high", "se", "bias", "method", "level", "resamples", "seed"};
            char v[10][32];
            snprintf(v[0], 32, "%s", sname ? sname : "mean");
            vp_fmt(bo.estimate, v[1]);
            vp_fmt(bo.lo, v[2]);
            vp_fmt(bo.hi, v[3]);
            vp_fmt(bo.se, v[4]);
            vp_fmt(bo.bias, v[5]);
            snprintf(v[6], 32, "%s", bca ? "bca" : "percentile");
            vp_fmt(level, v[7]);
            snprintf(v[8], 32, "%lld", (long long)B);
            snprintf(v[9], 32, "%lld", (long long)seed);
            char *cells[10];
            for (int i = 0; i < 10; i++) cells[i] = v[i];
            char **rows[1] = {cells};
            st = vp_write_csv(host, ctx, rp, hdr, 10, rows, 1);
        }
        json_decref(root);
        vp_buf_free(&md);
    }
    vp_numbers_free(&a);
    vp_numbers_free(&b);
    sl_table_destroy(t);
    return st;
}
