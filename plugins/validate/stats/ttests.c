/* ttests.c — Student, Welch, paired and one-sample t tests (scipy.stats.ttest_ind / ttest_rel / ttest_1samp). */
#include "stats_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void vs_result_init(vs_result *r) {
    r->statistic = r->p = r->df = r->df2 = r->z = NAN;
    r->method = NULL;
    r->note = NULL;
}

void vsi_mean_ss(const double *x, size_t n, vs_dd *mean, vs_dd *ss) {
    vs_dd s = dd_d(0.0);
    for (size_t i = 0; i < n; i++) s = dd_add_d(s, x[i]);
    *mean = dd_div_d(s, (double)n);
    vs_dd q = dd_d(0.0);
    for (size_t i = 0; i < n; i++) {
        vs_dd d = dd_sub(dd_d(x[i]), *mean);
        q = dd_add(q, dd_mul(d, d));
    }
    *ss = q;
}

double vs_p_from_tails(double cdf, double sf, vs_alternative alt) {
    if (alt == VS_LESS) return cdf;
    if (alt == VS_GREATER) return sf;
    double p = 2.0 * (cdf < sf ? cdf : sf);
    return p > 1.0 ? 1.0 : p;
}

double vsi_t_pvalue(double t, double df, vs_alternative alt) {
    if (isnan(t) || isnan(df)) return NAN;
    if (alt == VS_LESS) return vs_t_cdf(t, df);
    if (alt == VS_GREATER) return vs_t_sf(t, df);
    double p = 2.0 * vs_t_sf(fabs(t), df);
    return p > 1.0 ? 1.0 : p;
}

double vsi_z_pvalue(double z, vs_alternative alt) {
    if (isnan(z)) return NAN;
    if (alt == VS_LESS) return vs_norm_cdf(z);
    if (alt == VS_GREATER) return vs_norm_sf(z);
    double p = 2.0 * vs_norm_sf(fabs(z));
    return p > 1.0 ? 1.0 : p;
}

/* t = num / se with IEEE semantics for se = 0 (scipy's): +-inf when num != 0, NaN when both 0. */
static void finish_t(vs_result *res, double num, double se, double df, vs_alternative alt) {
    res->statistic = num / se;
    res->df = df;
    res->method = "t";
    if (isnan(res->statistic)) {
        res->p = NAN;
        res->note = "zero variance and zero mean difference: t is 0/0 (p = NaN)";
        return;
    }
    if (isinf(res->statistic)) res->note = "zero variance: t is infinite";
    res->p = vsi_t_pvalue(res->statistic, df, alt);
}

int vs_ttest_ind(const double *x, size_t nx, const double *y, size_t ny, int equal_var, vs_alternative alt, vs_result *res) {
    vs_result_init(res);
    if (nx < 2 || ny < 2) {
        res->note = "each group needs at least 2 observations";
        return -1;
    }
    vs_dd mx, my, sx, sy;
    vsi_mean_ss(x, nx, &mx, &sx);
    vsi_mean_ss(y, ny, &my, &sy);
    double num = dd_to_d(dd_sub(mx, my));
    double n1 = (double)nx, n2 = (double)ny;
    if (equal_var) {
        double df = n1 + n2 - 2.0;
        double sp2 = dd_to_d(dd_add(sx, sy)) / df;
        finish_t(res, num, sqrt(sp2 * (1.0 / n1 + 1.0 / n2)), df, alt);
    } else {
        double vn1 = dd_to_d(sx) / (n1 - 1.0) / n1, vn2 = dd_to_d(sy) / (n2 - 1.0) / n2;
        double s = vn1 + vn2;
        double df = s * s / (vn1 * vn1 / (n1 - 1.0) + vn2 * vn2 / (n2 - 1.0));
        if (s == 0) df = NAN; /* scipy: 0/0 */
        finish_t(res, num, sqrt(s), df, alt);
        if (s == 0) {
            res->p = NAN;
            res->note = "both groups have zero variance: Welch's degrees of freedom are 0/0 (p = NaN)";
        }
    }
    return isnan(res->p) ? -1 : 0;
}

int vs_ttest_1samp(const double *x, size_t n, double mu, vs_alternative alt, vs_result *res) {
    vs_result_init(res);
    if (n < 2) {
        res->note = "needs at least 2 observations";
        return -1;
    }
    vs_dd m, ss;
    vsi_mean_ss(x, n, &m, &ss);
    double num = dd_to_d(dd_add_d(m, -mu));
    double v = dd_to_d(ss) / (double)(n - 1);
    finish_t(res, num, sqrt(v / (double)n), (double)(n - 1), alt);
    return isnan(res->p) ? -1 : 0;
}

int vs_ttest_rel(const double *x, const double *y, size_t n, vs_alternative alt, vs_result *res) {
    vs_result_init(res);
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (!d) {
        res->note = "out of memory";
        return -1;
    }
    for (size_t i = 0; i < n; i++) d[i] = x[i] - y[i];
    int rc = vs_ttest_1samp(d, n, 0.0, alt, res);
    free(d);
    return rc;
}

void vs_welch_from_moments(double m1, double v1, double n1, double m2, double v2, double n2, double *t, double *df, double *p) {
    double a = v1 / n1, b = v2 / n2, s = a + b;
    *t = (m1 - m2) / sqrt(s);
    *df = s * s / (a * a / (n1 - 1.0) + b * b / (n2 - 1.0));
    *p = vsi_t_pvalue(*t, *df, VS_TWO_SIDED);
}
