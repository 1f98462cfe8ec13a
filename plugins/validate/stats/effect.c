/* effect.c — effect sizes with confidence intervals: d/g, rank-biserial, eta^2/omega^2, r, odds ratio, Cramer's V. */
#include "stats_internal.h"

#include <math.h>
#include <stdlib.h>

static double zcrit(double level) { return vs_norm_ppf(0.5 + 0.5 * level); }

static void set(vs_effect *e, const char *name, double v, double lo, double hi) {
    e->name = name;
    e->value = v;
    e->lo = lo;
    e->hi = hi;
}

void vs_effect_cohen_d(const double *x, size_t nx, const double *y, size_t ny, double level, vs_effect *d, vs_effect *g) {
    set(d, "cohen_d", NAN, NAN, NAN);
    set(g, "hedges_g", NAN, NAN, NAN);
    if (nx < 2 || ny < 2) return;
    vs_dd mx, my, sx, sy;
    vsi_mean_ss(x, nx, &mx, &sx);
    vsi_mean_ss(y, ny, &my, &sy);
    double n1 = (double)nx, n2 = (double)ny, df = n1 + n2 - 2.0;
    double sp = sqrt(dd_to_d(dd_add(sx, sy)) / df);
    double dv = dd_to_d(dd_sub(mx, my)) / sp;
    /* Hedges & Olkin (1985): var(d) ~ (n1+n2)/(n1 n2) + d^2 / (2 (n1+n2)) */
    double se = sqrt((n1 + n2) / (n1 * n2) + dv * dv / (2.0 * (n1 + n2)));
    double z = zcrit(level);
    set(d, "cohen_d", dv, dv - z * se, dv + z * se);
    /* exact small-sample correction J = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2)) */
    double J = exp(lgamma(df / 2.0) - lgamma((df - 1.0) / 2.0)) / sqrt(df / 2.0);
    set(g, "hedges_g", J * dv, J * (dv - z * se), J * (dv + z * se));
}

void vs_effect_paired_d(const double *dif, size_t n, double level, vs_effect *out) {
    set(out, "cohen_dz", NAN, NAN, NAN);
    if (n < 2) return;
    vs_dd m, ss;
    vsi_mean_ss(dif, n, &m, &ss);
    double nd = (double)n;
    double v = dd_to_d(m) / sqrt(dd_to_d(ss) / (nd - 1.0));
    double se = sqrt(1.0 / nd + v * v / (2.0 * nd));
    double z = zcrit(level);
    set(out, "cohen_dz", v, v - z * se, v + z * se);
}

void vs_effect_rank_biserial(double u1, size_t nx, size_t ny, double level, vs_effect *out) {
    double n1 = (double)nx, n2 = (double)ny;
    double r = 2.0 * u1 / (n1 * n2) - 1.0;
    /* var(U) = n1 n2 (n1+n2+1)/12 under H0 gives se(r); the interval is formed on atanh(r) */
    double se = sqrt((n1 + n2 + 1.0) / (3.0 * n1 * n2));
    double z = zcrit(level);
    double rr = fmax(-0.9999999999, fmin(0.9999999999, r));
    set(out, "rank_biserial", r, tanh(atanh(rr) - z * se), tanh(atanh(rr) + z * se));
}

/* P(F' <= f) for a noncentral F with noncentrality lambda: a Poisson(lambda/2) mixture of
 * central beta distributions, summed outwards from the Poisson mode until the weights vanish. */
static double ncf_cdf(double f, double d1, double d2, double lambda) {
    if (lambda <= 0) return vs_f_cdf(f, d1, d2);
    double x = d1 * f / (d1 * f + d2), h = lambda / 2.0;
    double mode = floor(h), s = 0.0;
    for (int dir = 0; dir < 2; dir++) {
        for (double j = dir ? mode - 1 : mode; j >= 0; j += dir ? -1 : 1) {
            double w = exp(-h + j * log(h) - lgamma(j + 1.0));
            double t = w * vs_ibeta(d1 / 2.0 + j, d2 / 2.0, x);
            s += t;
            if (w < 1e-18 && fabs(j - h) > 5.0 * sqrt(h + 1.0)) break;
            if (j > mode + 20.0 * sqrt(h + 1.0) + 100.0) break;
        }
    }
    return s;
}

static double ncchi2_cdf(double x, double k, double lambda) {
    if (lambda <= 0) return vs_chi2_cdf(x, k);
    double h = lambda / 2.0, mode = floor(h), s = 0.0;
    for (int dir = 0; dir < 2; dir++) {
        for (double j = dir ? mode - 1 : mode; j >= 0; j += dir ? -1 : 1) {
            double w = exp(-h + j * log(h) - lgamma(j + 1.0));
            s += w * vs_chi2_cdf(x, k + 2.0 * j);
            if (w < 1e-18 && fabs(j - h) > 5.0 * sqrt(h + 1.0)) break;
            if (j > mode + 20.0 * sqrt(h + 1.0) + 100.0) break;
        }
    }
    return s;
}

/* Smallest lambda with cdf(lambda) <= target (cdf decreases in lambda), by bisection. */
static double invert_lambda(double (*cdf)(double, double, double, double), double s, double a, double b, double target) {
    if (cdf(s, a, b, 0.0) <= target) return 0.0;
    double lo = 0.0, hi = 1.0;
    while (cdf(s, a, b, hi) > target && hi < 1e7) hi *= 2.0;
    for (int i = 0; i < 100 && hi - lo > 1e-10 * (1.0 + hi); i++) {
        double mid = 0.5 * (lo + hi);
        if (cdf(s, a, b, mid) > target) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

static double ncf_cdf4(double f, double d1, double d2, double l) { return ncf_cdf(f, d1, d2, l); }
static double ncchi2_cdf4(double x, double k, double unused, double l) {
    (void)unused;
    return ncchi2_cdf(x, k, l);
}

void vs_effect_eta_omega(double F, double df1, double df2, double level, vs_effect *eta2, vs_effect *omega2) {
    double N = df1 + df2 + 1.0;
    double e = F * df1 / (F * df1 + df2);
    double w = df1 * (F - 1.0) / (df1 * (F - 1.0) + N);
    if (!isfinite(F)) {
        set(eta2, "eta_squared", NAN, NAN, NAN);
        set(omega2, "omega_squared", NAN, NAN, NAN);
        return;
    }
    /* Steiger (2004): invert the noncentral F in lambda, then eta^2 = lambda / (lambda + N) */
    double a = (1.0 - level) / 2.0;
    double llo = invert_lambda(ncf_cdf4, F, df1, df2, 1.0 - a);
    double lhi = invert_lambda(ncf_cdf4, F, df1, df2, a);
    set(eta2, "eta_squared", e, llo / (llo + N), lhi / (lhi + N));
    /* omega^2 = (lambda - df1)/(lambda + N) style mapping of the same interval, floored at 0 */
    set(omega2, "omega_squared", w, fmax(0.0, (llo - df1) / (llo + N)), fmax(0.0, (lhi - df1) / (lhi + N)));
}

void vs_effect_r(double r, size_t n, double level, vs_effect *out) {
    if (n < 4 || isnan(r)) {
        set(out, "r", r, NAN, NAN);
        return;
    }
    double z = zcrit(level), se = 1.0 / sqrt((double)n - 3.0);
    double rr = fmax(-0.9999999999999, fmin(0.9999999999999, r));
    set(out, "r", r, tanh(atanh(rr) - z * se), tanh(atanh(rr) + z * se));
}

void vs_effect_odds_ratio(double a, double b, double c, double d, double level, vs_effect *out) {
    double orv = (b > 0 && c > 0) ? a * d / (b * c) : INFINITY;
    if (a + b == 0 || c + d == 0 || a + c == 0 || b + d == 0) orv = NAN;
    if (a == 0 || b == 0 || c == 0 || d == 0) {
        /* Haldane-Anscombe: add 1/2 to every cell for the interval only */
        a += 0.5;
        b += 0.5;
        c += 0.5;
        d += 0.5;
    }
    double lor = log(a * d / (b * c)), se = sqrt(1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d), z = zcrit(level);
    set(out, "odds_ratio", orv, exp(lor - z * se), exp(lor + z * se));
}

void vs_effect_cramers_v(double chi2, double n, size_t r, size_t c, double level, vs_effect *out) {
    double k = (double)(r < c ? r : c);
    double dof = (double)(r - 1) * (double)(c - 1);
    if (k < 2 || n <= 0 || isnan(chi2)) {
        set(out, "cramers_v", NAN, NAN, NAN);
        return;
    }
    double v = sqrt(chi2 / (n * (k - 1.0)));
    /* Smithson (2003): interval for the noncentrality of chi^2, mapped to V = sqrt((lambda + dof)/(n (k-1))) */
    double a = (1.0 - level) / 2.0;
    double llo = invert_lambda(ncchi2_cdf4, chi2, dof, 0.0, 1.0 - a);
    double lhi = invert_lambda(ncchi2_cdf4, chi2, dof, 0.0, a);
    double lo = llo > 0 ? sqrt((llo + dof) / (n * (k - 1.0))) : 0.0;
    double hi = sqrt((lhi + dof) / (n * (k - 1.0)));
    set(out, "cramers_v", v, fmin(lo, v), fmin(1.0, fmax(hi, v)));
}
