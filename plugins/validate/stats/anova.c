/* anova.c — one-way ANOVA, Welch's ANOVA and balanced two-way ANOVA with interaction. */
#include "stats_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Sums of squares are formed from double-double group means, as sums of squared deviations,
 * never as a difference of two large sums (which is how groups differing only in the 14th
 * digit lose their F statistic). */

int vs_anova_oneway(const double *const *groups, const size_t *ns, size_t k, int welch, vs_result *res) {
    vs_result_init(res);
    if (k < 2) {
        res->note = "needs at least two groups";
        return -1;
    }
    vs_dd *mean = malloc(k * sizeof *mean), *ss = malloc(k * sizeof *ss);
    if (!mean || !ss) {
        free(mean);
        free(ss);
        res->note = "out of memory";
        return -1;
    }
    size_t N = 0;
    int bad = 0, all_const = 1;
    for (size_t g = 0; g < k; g++) {
        if (ns[g] == 0 || (welch && ns[g] < 2)) bad = 1;
        if (bad) break;
        vsi_mean_ss(groups[g], ns[g], &mean[g], &ss[g]);
        if (ss[g].hi != 0) all_const = 0;
        N += ns[g];
    }
    if (bad || N <= k) {
        free(mean);
        free(ss);
        res->note = welch ? "every group needs at least 2 observations" : "every group needs an observation and some group needs 2";
        return -1;
    }
    res->method = welch ? "welch" : "classic";
    if (!welch) {
        vs_dd tot = dd_d(0.0);
        for (size_t g = 0; g < k; g++) tot = dd_add(tot, dd_mul_d(mean[g], (double)ns[g]));
        vs_dd grand = dd_div_d(tot, (double)N);
        vs_dd ssb = dd_d(0.0), ssw = dd_d(0.0);
        for (size_t g = 0; g < k; g++) {
            vs_dd d = dd_sub(mean[g], grand);
            ssb = dd_add(ssb, dd_mul_d(dd_mul(d, d), (double)ns[g]));
            ssw = dd_add(ssw, ss[g]);
        }
        double dfb = (double)(k - 1), dfw = (double)(N - k);
        res->df = dfb;
        res->df2 = dfw;
        res->statistic = dd_to_d(dd_div(dd_div_d(ssb, dfb), dd_div_d(ssw, dfw)));
        if (all_const) {
            /* scipy: every group constant -> F = inf (p = 0), unless all are the same constant */
            res->statistic = ssb.hi == 0 ? NAN : INFINITY;
            res->note = ssb.hi == 0 ? "all values identical: F is 0/0 (p = NaN)" : "every group is constant: F is infinite";
        }
        res->p = vs_f_sf(res->statistic, dfb, dfw);
    } else {
        double kk = (double)k, sw = 0.0, tmp = 0.0;
        double *w = malloc(k * sizeof *w);
        if (!w) {
            free(mean);
            free(ss);
            res->note = "out of memory";
            return -1;
        }
        int zero_var = 0;
        for (size_t g = 0; g < k; g++) {
            double v = dd_to_d(ss[g]) / (double)(ns[g] - 1);
            if (v == 0) zero_var = 1;
            w[g] = (double)ns[g] / v;
            sw += w[g];
        }
        if (zero_var) {
            free(w);
            free(mean);
            free(ss);
            res->df = kk - 1.0;
            res->note = "a group has zero variance: Welch's weights n/s^2 are infinite (p = NaN)";
            return -1;
        }
        /* weighted grand mean, shifted by the first group's mean: the weights w/sw sum to 1 only
         * to rounding, which would otherwise leak eps * |mean| into every deviation */
        vs_dd ybar = dd_d(0.0);
        for (size_t g = 0; g < k; g++) ybar = dd_add(ybar, dd_mul_d(dd_sub(mean[g], mean[0]), w[g] / sw));
        ybar = dd_add(ybar, mean[0]);
        vs_dd num = dd_d(0.0);
        for (size_t g = 0; g < k; g++) {
            vs_dd d = dd_sub(mean[g], ybar);
            num = dd_add(num, dd_mul_d(dd_mul(d, d), w[g]));
            double u = 1.0 - w[g] / sw;
            tmp += u * u / (double)(ns[g] - 1);
        }
        double A = dd_to_d(num) / (kk - 1.0);
        double B = 1.0 + 2.0 * (kk - 2.0) / (kk * kk - 1.0) * tmp;
        res->statistic = A / B;
        res->df = kk - 1.0;
        res->df2 = (kk * kk - 1.0) / (3.0 * tmp);
        res->p = vs_f_sf(res->statistic, res->df, res->df2);
        free(w);
    }
    free(mean);
    free(ss);
    return isnan(res->p) ? -1 : 0;
}

int vs_anova_twoway(const double *y, const int *a, const int *b, size_t n, int la, int lb, vs_anova2 *out) {
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 3; i++) out->rows[i].F = out->rows[i].p = NAN;
    if (la < 2 || lb < 2) {
        out->note = "each factor needs at least two levels";
        return -1;
    }
    size_t cells = (size_t)la * (size_t)lb;
    size_t *cnt = calloc(cells, sizeof *cnt);
    vs_dd *cs = calloc(cells, sizeof *cs);
    if (!cnt || !cs) {
        free(cnt);
        free(cs);
        out->note = "out of memory";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (a[i] < 0 || a[i] >= la || b[i] < 0 || b[i] >= lb) {
            free(cnt);
            free(cs);
            out->note = "factor level out of range";
            return -1;
        }
        size_t c = (size_t)a[i] * (size_t)lb + (size_t)b[i];
        cnt[c]++;
        cs[c] = dd_add_d(cs[c], y[i]);
    }
    size_t r = cnt[0];
    for (size_t c = 0; c < cells; c++)
        if (cnt[c] != r) {
            free(cnt);
            free(cs);
            out->note = "unbalanced design: every combination of levels needs the same number of observations";
            return -1;
        }
    if (r < 2) {
        free(cnt);
        free(cs);
        out->note = "every combination of levels needs at least 2 observations (no residual degrees of freedom)";
        return -1;
    }
    double rd = (double)r;
    vs_dd *cm = malloc(cells * sizeof *cm), *am = calloc((size_t)la, sizeof *am), *bm = calloc((size_t)lb, sizeof *bm);
    if (!cm || !am || !bm) {
        free(cnt);
        free(cs);
        free(cm);
        free(am);
        free(bm);
        out->note = "out of memory";
        return -1;
    }
    vs_dd grand = dd_d(0.0);
    for (size_t c = 0; c < cells; c++) {
        cm[c] = dd_div_d(cs[c], rd);
        grand = dd_add(grand, cm[c]);
        am[c / (size_t)lb] = dd_add(am[c / (size_t)lb], cm[c]);
        bm[c % (size_t)lb] = dd_add(bm[c % (size_t)lb], cm[c]);
    }
    grand = dd_div_d(grand, (double)cells);
    for (int i = 0; i < la; i++) am[i] = dd_div_d(am[i], (double)lb);
    for (int j = 0; j < lb; j++) bm[j] = dd_div_d(bm[j], (double)la);
    vs_dd ssa = dd_d(0), ssb = dd_d(0), ssab = dd_d(0), sse = dd_d(0);
    for (int i = 0; i < la; i++) {
        vs_dd d = dd_sub(am[i], grand);
        ssa = dd_add(ssa, dd_mul(d, d));
    }
    for (int j = 0; j < lb; j++) {
        vs_dd d = dd_sub(bm[j], grand);
        ssb = dd_add(ssb, dd_mul(d, d));
    }
    for (int i = 0; i < la; i++)
        for (int j = 0; j < lb; j++) {
            vs_dd d = dd_add(dd_sub(dd_sub(cm[(size_t)i * lb + j], am[i]), bm[j]), grand);
            ssab = dd_add(ssab, dd_mul(d, d));
        }
    for (size_t i = 0; i < n; i++) {
        vs_dd d = dd_sub(dd_d(y[i]), cm[(size_t)a[i] * lb + (size_t)b[i]]);
        sse = dd_add(sse, dd_mul(d, d));
    }
    ssa = dd_mul_d(ssa, rd * lb);
    ssb = dd_mul_d(ssb, rd * la);
    ssab = dd_mul_d(ssab, rd);
    double dfs[3] = {la - 1.0, lb - 1.0, (la - 1.0) * (lb - 1.0)};
    vs_dd sss[3] = {ssa, ssb, ssab};
    out->resid.ss = dd_to_d(sse);
    out->resid.df = (double)(n - cells);
    out->resid.ms = out->resid.ss / out->resid.df;
    out->resid.F = out->resid.p = NAN;
    vs_dd mse = dd_div_d(sse, out->resid.df);
    for (int i = 0; i < 3; i++) {
        out->rows[i].ss = dd_to_d(sss[i]);
        out->rows[i].df = dfs[i];
        out->rows[i].ms = out->rows[i].ss / dfs[i];
        out->rows[i].F = dd_to_d(dd_div(dd_div_d(sss[i], dfs[i]), mse));
        out->rows[i].p = vs_f_sf(out->rows[i].F, dfs[i], out->resid.df);
    }
    if (sse.hi == 0) out->note = "zero residual variance: F statistics are infinite or NaN";
    free(cnt);
    free(cs);
    free(cm);
    free(am);
    free(bm);
    return 0;
}
