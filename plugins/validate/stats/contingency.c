/* contingency.c — chi-square and G tests of independence (Yates at 1 dof) and Fisher's exact test for 2x2 tables. */
#include "stats_internal.h"

#include <math.h>
#include <stdlib.h>

int vs_chi2_contingency(const double *table, size_t r, size_t c, int correction, int lambda_g, vs_result *res) {
    vs_result_init(res);
    if (r < 1 || c < 1) {
        res->note = "empty table";
        return -1;
    }
    double *rs = calloc(r, sizeof *rs), *cs = calloc(c, sizeof *cs);
    if (!rs || !cs) {
        free(rs);
        free(cs);
        res->note = "out of memory";
        return -1;
    }
    double N = 0.0;
    for (size_t i = 0; i < r; i++)
        for (size_t j = 0; j < c; j++) {
            double v = table[i * c + j];
            if (!(v >= 0) || !isfinite(v)) {
                free(rs);
                free(cs);
                res->note = "counts must be finite and non-negative";
                return -1;
            }
            rs[i] += v;
            cs[j] += v;
            N += v;
        }
    int zero = 0;
    for (size_t i = 0; i < r; i++) zero |= rs[i] == 0;
    for (size_t j = 0; j < c; j++) zero |= cs[j] == 0;
    double dof = (double)(r - 1) * (double)(c - 1);
    res->df = dof;
    res->method = lambda_g ? "g-test" : "pearson";
    if (zero) {
        free(rs);
        free(cs);
        res->note = "a row or column total is zero: expected frequencies contain a zero (p = NaN)";
        return -1;
    }
    if (dof == 0) {
        free(rs);
        free(cs);
        res->statistic = 0.0;
        res->p = 1.0;
        res->note = "a single row or column: no degrees of freedom (statistic 0, p = 1)";
        return 0;
    }
    double stat = 0.0;
    int yates = correction && dof == 1;
    for (size_t i = 0; i < r; i++)
        for (size_t j = 0; j < c; j++) {
            double e = rs[i] * cs[j] / N, o = table[i * c + j];
            if (yates) {
                double diff = e - o;
                double mag = fabs(diff) < 0.5 ? fabs(diff) : 0.5;
                o += diff > 0 ? mag : (diff < 0 ? -mag : 0.0);
            }
            if (lambda_g) {
                if (o > 0) stat += o * log(o / e);
            } else {
                stat += (o - e) * (o - e) / e;
            }
        }
    if (lambda_g) stat *= 2.0;
    free(rs);
    free(cs);
    if (yates) res->note = "Yates' continuity correction applied (1 degree of freedom)";
    res->statistic = stat;
    res->p = vs_chi2_sf(stat, dof);
    return 0;
}

/* hypergeometric pmf for the (0,0) cell x, margins: n1 row 0 total, n2 row 1 total, n column 0 total */
static double hpmf(double x, double n1, double n2, double n) { return vs_dhyper(x, n1, n2, n); }

int vs_fisher_exact(double a, double b, double c, double d, vs_alternative alt, vs_result *res) {
    vs_result_init(res);
    res->method = "exact";
    if (!(a >= 0 && b >= 0 && c >= 0 && d >= 0) || a != floor(a) || b != floor(b) || c != floor(c) || d != floor(d)) {
        res->note = "counts must be non-negative integers";
        return -1;
    }
    if (a + b == 0 || c + d == 0 || a + c == 0 || b + d == 0) {
        res->statistic = NAN;
        res->p = 1.0;
        res->note = "a row or column total is zero: odds ratio undefined (p = 1)";
        return 0;
    }
    res->statistic = (c > 0 && b > 0) ? a * d / (c * b) : INFINITY;
    double n1 = a + b, n2 = c + d, n = a + c;
    double lo = n - n2 > 0 ? n - n2 : 0, hi = n < n1 ? n : n1;
    double p;
    if (alt == VS_LESS) {
        p = 0.0;
        for (double x = lo; x <= a; x++) p += hpmf(x, n1, n2, n);
    } else if (alt == VS_GREATER) {
        p = 0.0;
        for (double x = a; x <= hi; x++) p += hpmf(x, n1, n2, n);
    } else {
        /* scipy: sum the probabilities of every table no more likely than the observed one,
         * with a relative tolerance of 1e-14 */
        double mode = floor((n + 1.0) * (n1 + 1.0) / (n1 + n2 + 2.0));
        double pexact = hpmf(a, n1, n2, n), pmode = hpmf(mode, n1, n2, n);
        double gamma = 1.0 + 1e-14;
        if (fabs(pexact - pmode) / fmax(pexact, pmode) <= 1e-14) {
            res->p = 1.0;
            return 0;
        }
        p = 0.0;
        for (double x = lo; x <= hi; x++) {
            double q = hpmf(x, n1, n2, n);
            if (q <= pexact * gamma) p += q;
        }
    }
    res->p = p > 1.0 ? 1.0 : p;
    return 0;
}
