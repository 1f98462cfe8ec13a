/* op_hypotheses.c — validate.hypotheses: a table of hypotheses tested on data, corrected for multiplicity, each given a verdict. */
#define _GNU_SOURCE
#include "vp.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Verdict of one hypothesis (documented in docs/plugins/validate.md):
 *   direction d = greater (+1), less (-1) or two-sided; threshold tau >= 0 on the effect size
 *   (odds ratios are compared on the log scale, so tau = 1.5 means OR >= 1.5); alpha from the
 *   row or the op's param; p_adj the adjusted p-value; [lo, hi] the effect's interval.
 *   supported    p_adj <= alpha, the effect points in direction d, and |effect| >= tau
 *   refuted      the interval rules out an effect of size tau in direction d:
 *                  greater: hi < tau; less: lo > -tau; two-sided (tau > 0): -tau < lo and hi < tau
 *   inconclusive everything else (including p = NaN with its reason)
 * Overall verdict (the value loops read): supported when every primary hypothesis is supported,
 * refuted when any primary hypothesis is refuted, otherwise inconclusive. Primary hypotheses
 * are those with primary = yes; when none is marked, all are primary.
 */

typedef struct {
    char id[128];
    vp_spec spec;
    char colbuf[4][256];
    double alpha, tau;
    int primary, dir; /* dir: +1 greater, -1 less, 0 two-sided */
    vp_outcome out;
    double p_adj;
    const char *verdict;
    char rule[320];
} hyp;

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t l = strlen(s);
    while (l && isspace((unsigned char)s[l - 1])) s[--l] = '\0';
    return s;
}

static const char *cell(const sl_table *t, long c, size_t r) { return c >= 0 ? sl_table_cell(t, r, (size_t)c) : ""; }

/* "value ~ group", "value ~ group: A vs B", "x, y", "x; y", "x vs y" */
static int parse_columns(const char *text, hyp *h) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", text);
    char *tilde = strchr(buf, '~');
    if (tilde) {
        *tilde = '\0';
        char *left = trim(buf), *right = trim(tilde + 1);
        char *colon = strchr(right, ':');
        if (colon) {
            *colon = '\0';
            char *levels = trim(colon + 1);
            char *vs = strstr(levels, " vs ");
            if (!vs) return -1;
            *vs = '\0';
            snprintf(h->colbuf[2], sizeof h->colbuf[2], "%s", trim(levels));
            snprintf(h->colbuf[3], sizeof h->colbuf[3], "%s", trim(vs + 4));
            h->spec.level_a = h->colbuf[2];
            h->spec.level_b = h->colbuf[3];
        }
        snprintf(h->colbuf[0], sizeof h->colbuf[0], "%s", left);
        snprintf(h->colbuf[1], sizeof h->colbuf[1], "%s", trim(right));
        if (!*h->colbuf[0] || !*h->colbuf[1]) return -1;
        h->spec.value = h->colbuf[0];
        h->spec.group = h->colbuf[1];
        return 0;
    }
    char *sep = strstr(buf, " vs ");
    size_t skip = 4;
    if (!sep) {
        sep = strpbrk(buf, ",;");
        skip = 1;
    }
    if (!sep) return -1;
    *sep = '\0';
    snprintf(h->colbuf[0], sizeof h->colbuf[0], "%s", trim(buf));
    snprintf(h->colbuf[1], sizeof h->colbuf[1], "%s", trim(sep + skip));
    if (!*h->colbuf[0] || !*h->colbuf[1]) return -1;
    h->spec.x = h->colbuf[0];
    h->spec.y = h->colbuf[1];
    return 0;
}

static int truthy(const char *s) { return !strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "y"); }

static void decide(hyp *h) {
    const vs_effect *e = &h->out.effect;
    double v = e->value, lo = e->lo, hi = e->hi, tau = h->tau;
    const char *scale = "";
    if (e->name && !strcmp(e->name, "odds_ratio")) {
        v = log(v);
        lo = log(lo);
        hi = log(hi);
        tau = tau > 0 ? log(tau) : 0.0;
        scale = "log ";
    }
    int sig = !isnan(h->p_adj) && h->p_adj <= h->alpha;
    int dir_ok = h->dir > 0 ? v > 0 : h->dir < 0 ? v < 0 : v != 0;
    double mag = h->dir > 0 ? v : h->dir < 0 ? -v : fabs(v);
    const char *dname = h->dir > 0 ? "greater" : h->dir < 0 ? "less" : "two-sided";
    if (isnan(h->out.res.p)) {
        h->verdict = "inconclusive";
        snprintf(h->rule, sizeof h->rule, "p is undefined: %s", h->out.res.note ? h->out.res.note : "no reason given");
        return;
    }
    if (sig && dir_ok && !isnan(v) && mag >= tau) {
        h->verdict = "supported";
        snprintf(h->rule, sizeof h->rule, "adjusted p = %.3g <= alpha = %g and %seffect %.4g is %s with magnitude >= %g", h->p_adj,
                 h->alpha, scale, v, dname, tau);
        return;
    }
    int refuted = 0;
    if (!isnan(lo) && !isnan(hi)) {
        if (h->dir > 0) refuted = hi < tau;
        else if (h->dir < 0) refuted = lo > -tau;
        else refuted = tau > 0 && lo > -tau && hi < tau;
    }
    if (refuted) {
        h->verdict = "refuted";
        snprintf(h->rule, sizeof h->rule, "the %g%% interval [%.4g, %.4g] of the %seffect rules out a %s effect of size %g",
                 100 * h->spec.level, lo, hi, scale, dname, tau);
        return;
    }
    h->verdict = "inconclusive";
    snprintf(h->rule, sizeof h->rule, "adjusted p = %.3g (alpha %g), %seffect %.4g [%.4g, %.4g]: neither supported nor ruled out",
             h->p_adj, h->alpha, scale, v, lo, hi);
}

sl_status vp_op_hypotheses(const sl_host *host, sl_op_ctx *ctx) {
    const char *dpath = host->input_path(ctx, "data", 0), *hpath = host->input_path(ctx, "hypotheses", 0);
    if (!dpath || !hpath) return host->fail(ctx, SL_ERR_NOT_FOUND, "inputs 'data' and 'hypotheses' must both be connected");
    double alpha = 0.05, level = 0.95;
    host->param_float(ctx, "alpha", &alpha);
    host->param_float(ctx, "level", &level);
    const char *adj_name = host->param(ctx, "adjust");
    int adj = vs_padjust_from_name(adj_name ? adj_name : "holm");
    if (adj < 0)
        return host->fail(ctx, SL_ERR_INVALID, "param 'adjust': '%s' is not a method; expected none, bonferroni, holm, holm-sidak, fdr_bh or fdr_by",
                          adj_name);
    sl_table *ht, *dt;
    if (sl_table_read(hpath, &ht) != SL_OK) return host->fail(ctx, sl_last_status(), "%s", sl_last_error());
    if (sl_table_read(dpath, &dt) != SL_OK) {
        sl_table_destroy(ht);
        return host->fail(ctx, sl_last_status(), "%s", sl_last_error());
    }
    sl_status st = SL_OK;
    long cid = sl_table_find_col(ht, "id"), ctest = sl_table_find_col(ht, "test"), ccols = sl_table_find_col(ht, "columns");
    long cdir = sl_table_find_col(ht, "direction"), cthr = sl_table_find_col(ht, "threshold"), calpha = sl_table_find_col(ht, "alpha");
    long cprim = sl_table_find_col(ht, "primary");
    if (cid < 0 || ctest < 0 || ccols < 0)
        st = host->fail(ctx, SL_ERR_INVALID, "%s: the hypotheses table needs columns 'id', 'test' and 'columns' (optional: 'direction', "
                                             "'threshold', 'alpha', 'primary')", hpath);
    size_t nh = sl_table_rows(ht);
    if (st == SL_OK && nh == 0) st = host->fail(ctx, SL_ERR_INVALID, "%s: no hypotheses (the table has a header only)", hpath);
    hyp *hs = st == SL_OK ? calloc(nh, sizeof *hs) : NULL;
    if (st == SL_OK && !hs) st = host->fail(ctx, SL_ERR_NOMEM, "out of memory");
    int any_primary = 0;
    for (size_t r = 0; st == SL_OK && r < nh; r++) {
        hyp *h = &hs[r];
        vp_spec_init(&h->spec);
        h->spec.level = level;
        size_t line = sl_table_row_line(ht, r);
        snprintf(h->id, sizeof h->id, "%s", cell(ht, cid, r));
        int ti = vp_test_from_name(cell(ht, ctest, r));
        if (ti < 0) {
            st = host->fail(ctx, SL_ERR_INVALID, "%s: column 'test', row %zu (line %zu): '%s' is not a test; expected student, welch, paired, "
                                                 "mannwhitney, wilcoxon, anova, welch_anova, kruskal, pearson, spearman, kendall, chi2, gtest or fisher",
                            hpath, r + 1, line, cell(ht, ctest, r));
            break;
        }
        h->spec.test = (vp_test)ti;
        if (parse_columns(cell(ht, ccols, r), h) != 0) {
            st = host->fail(ctx, SL_ERR_INVALID, "%s: column 'columns', row %zu (line %zu): '%s' is not understood; expected 'value ~ group', "
                                                 "'value ~ group: A vs B' or 'x; y'",
                            hpath, r + 1, line, cell(ht, ccols, r));
            break;
        }
        const char *d = cell(ht, cdir, r);
        if (!*d || !strcmp(d, "two-sided") || !strcmp(d, "different")) h->dir = 0;
        else if (!strcmp(d, "greater") || !strcmp(d, "higher") || !strcmp(d, "positive")) h->dir = 1;
        else if (!strcmp(d, "less") || !strcmp(d, "lower") || !strcmp(d, "negative")) h->dir = -1;
        else {
            st = host->fail(ctx, SL_ERR_INVALID, "%s: column 'direction', row %zu (line %zu): '%s'; expected greater, less or two-sided", hpath,
                            r + 1, line, d);
            break;
        }
        /* k-sample and contingency statistics have no sign: their tests stay two-sided */
        int signed_test = ti <= VP_WILCOXON || (ti >= VP_PEARSON && ti <= VP_KENDALL) || ti == VP_FISHER;
        h->spec.alt = !signed_test || h->dir == 0 ? VS_TWO_SIDED : h->dir > 0 ? VS_GREATER : VS_LESS;
        if (!signed_test) h->dir = 1;
        h->alpha = alpha;
        h->tau = 0.0;
        const char *a = cell(ht, calpha, r), *th = cell(ht, cthr, r);
        char *end;
        if (*a) {
            h->alpha = strtod(a, &end);
            if (*trim(end) || !(h->alpha > 0 && h->alpha < 1)) {
                st = host->fail(ctx, SL_ERR_INVALID, "%s: column 'alpha', row %zu (line %zu): '%s'; expected a number between 0 and 1", hpath, r + 1,
                                line, a);
                break;
            }
        }
        if (*th) {
            h->tau = strtod(th, &end);
            if (*trim(end) || !(h->tau >= 0) || !isfinite(h->tau)) {
                st = host->fail(ctx, SL_ERR_INVALID, "%s: column 'threshold', row %zu (line %zu): '%s'; expected a non-negative number", hpath,
                                r + 1, line, th);
                break;
            }
        }
        h->primary = truthy(cell(ht, cprim, r));
        any_primary |= h->primary;
    }
    for (size_t r = 0; st == SL_OK && r < nh; r++) {
        char tname[4600];
        snprintf(tname, sizeof tname, "%s (hypothesis '%s')", dpath, hs[r].id);
        st = vp_run_test(host, ctx, dt, tname, &hs[r].spec, &hs[r].out);
        if (host->cancelled && host->cancelled(ctx)) st = SL_ERR_CANCELLED;
    }
    double *ps = NULL, *pa = NULL;
    if (st == SL_OK) {
        ps = malloc(nh * sizeof *ps);
        pa = malloc(nh * sizeof *pa);
        if (!ps || !pa) st = host->fail(ctx, SL_ERR_NOMEM, "out of memory");
    }
    const char *overall = "inconclusive";
    if (st == SL_OK) {
        for (size_t r = 0; r < nh; r++) ps[r] = hs[r].out.res.p;
        vs_p_adjust(ps, nh, (vs_padjust)adj, pa);
        int all_sup = 1, any_ref = 0;
        for (size_t r = 0; r < nh; r++) {
            hs[r].p_adj = pa[r];
            decide(&hs[r]);
            if (any_primary && !hs[r].primary) continue;
            all_sup &= !strcmp(hs[r].verdict, "supported");
            any_ref |= !strcmp(hs[r].verdict, "refuted");
        }
        overall = any_ref ? "refuted" : all_sup ? "supported" : "inconclusive";
    }
    if (st == SL_OK) {
        json_t *root = json_object(), *arr = json_array();
        json_object_set_new(root, "op", json_string("validate.hypotheses"));
        json_object_set_new(root, "verdict", json_string(overall));
        json_object_set_new(root, "adjust", json_string(adj_name ? adj_name : "holm"));
        json_object_set_new(root, "alpha", json_real(alpha));
        json_object_set_new(root, "rule", json_string("supported: every primary hypothesis supported; refuted: any primary hypothesis refuted; "
                                                      "otherwise inconclusive"));
        vp_buf md = {0};
        vp_buf_printf(&md, "# validate.hypotheses\n\nOverall verdict: **%s** (%zu hypotheses, p-values adjusted by %s).\n\n", overall, nh,
                      adj_name ? adj_name : "holm");
        vp_buf_printf(&md, "| id | test | statistic | p | adjusted p | effect | value | CI | verdict |\n|---|---|---|---|---|---|---|---|---|\n");
        static const char *const hdr[] = {"id", "test", "columns", "direction", "statistic", "p", "p_adjusted", "effect", "effect_value",
                                          "ci_low", "ci_high", "alpha", "threshold", "primary", "verdict", "rule"};
        char ***rows = calloc(nh, sizeof *rows);
        int rows_ok = rows != NULL;
        for (size_t r = 0; r < nh; r++) {
            hyp *h = &hs[r];
            json_t *j = vp_outcome_json(&h->spec, &h->out);
            json_object_set_new(j, "id", json_string(h->id));
            json_object_set_new(j, "p_adjusted", vp_json_num(h->p_adj));
            json_object_set_new(j, "alpha", json_real(h->alpha));
            json_object_set_new(j, "threshold", json_real(h->tau));
            json_object_set_new(j, "primary", json_boolean(!any_primary || h->primary));
            json_object_set_new(j, "verdict", json_string(h->verdict));
            json_object_set_new(j, "rule", json_string(h->rule));
            json_array_append_new(arr, j);
            char b[8][32];
            vp_buf_printf(&md, "| %s | %s | %s | %s | %s | %s | %s | [%s, %s] | %s |\n", h->id, vp_test_name(h->spec.test),
                          vp_fmt(h->out.res.statistic, b[0]), vp_fmt(h->out.res.p, b[1]), vp_fmt(h->p_adj, b[2]),
                          h->out.effect.name ? h->out.effect.name : "", vp_fmt(h->out.effect.value, b[3]), vp_fmt(h->out.effect.lo, b[4]),
                          vp_fmt(h->out.effect.hi, b[5]), h->verdict);
            if (!rows) continue;
            rows[r] = calloc(16, sizeof(char *));
            if (!rows[r]) {
                rows_ok = 0;
                continue;
            }
            const char *dn = h->spec.alt == VS_GREATER ? "greater" : h->spec.alt == VS_LESS ? "less" : "two-sided";
            rows[r][0] = strdup(h->id);
            rows[r][1] = strdup(vp_test_name(h->spec.test));
            rows[r][2] = strdup(cell(ht, ccols, r));
            rows[r][3] = strdup(dn);
            double v[9] = {h->out.res.statistic, h->out.res.p, h->p_adj, NAN, h->out.effect.value, h->out.effect.lo, h->out.effect.hi,
                           h->alpha, h->tau};
            for (int k = 0; k < 9; k++) rows[r][4 + k] = k == 3 ? strdup(h->out.effect.name ? h->out.effect.name : "") : strdup(vp_fmt(v[k], b[6]));
            rows[r][13] = strdup((!any_primary || h->primary) ? "yes" : "no");
            rows[r][14] = strdup(h->verdict);
            rows[r][15] = strdup(h->rule);
            for (int k = 0; k < 16; k++) rows_ok &= rows[r][k] != NULL;
        }
        vp_buf_printf(&md, "\nRules:\n\n");
        for (size_t r = 0; r < nh; r++) vp_buf_printf(&md, "- %s: %s — %s%s%s.\n", hs[r].id, hs[r].verdict, hs[r].rule,
                                                      hs[r].out.res.note ? "; note: " : "", hs[r].out.res.note ? hs[r].out.res.note : "");
        json_object_set_new(root, "hypotheses", arr);
        const char *dir = host->output_path(ctx, "report");
        if (dir) st = vp_write_report(host, ctx, dir, root, md.oom ? NULL : md.s);
        const char *vpth = host->output_path(ctx, "verdicts");
        if (st == SL_OK && vpth) st = rows_ok ? vp_write_csv(host, ctx, vpth, hdr, 16, rows, nh) : host->fail(ctx, SL_ERR_NOMEM, "out of memory");
        for (size_t r = 0; rows && r < nh; r++) {
            if (!rows[r]) continue;
            for (int k = 0; k < 16; k++) free(rows[r][k]);
            free(rows[r]);
        }
        free(rows);
        json_decref(root);
        vp_buf_free(&md);
        if (st == SL_OK) st = host->set_value(ctx, "verdict", overall);
        if (st == SL_OK) host->log(ctx, SL_LOG_INFO, "verdict: %s", overall);
    }
    free(ps);
    free(pa);
    free(hs);
    sl_table_destroy(ht);
    sl_table_destroy(dt);
    return st;
}
