/* bootstrap.c — seeded percentile and BCa bootstrap intervals (scipy.stats.bootstrap's definitions). */
#include "stats_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t vs_rng_next(vs_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t vs_rng_below(vs_rng *r, uint64_t n) {
    /* reject the few values that would make x % n uneven */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = vs_rng_next(r);
        if (x >= threshold) return x % n;
    }
}

int vs_stat_kind_from_name(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "mean")) return VS_STAT_MEAN;
    if (!strcmp(s, "median")) return VS_STAT_MEDIAN;
    if (!strcmp(s, "sd")) return VS_STAT_SD;
    if (!strcmp(s, "mean_diff")) return VS_STAT_MEAN_DIFF;
    return -1;
}

static double median_of(const double *x, size_t n) {
    double *s = vsi_sorted_copy(x, n);
    if (!s) return NAN;
    double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return m;
}

double vs_statistic(vs_stat_kind kind, const double *x, size_t nx, const double *y, size_t ny) {
    vs_dd m, ss;
    switch (kind) {
    case VS_STAT_MEAN:
        if (!nx) return NAN;
        vsi_mean_ss(x, nx, &m, &ss);
        return dd_to_d(m);
    case VS_STAT_MEDIAN:
        return nx ? median_of(x, nx) : NAN;
    case VS_STAT_SD:
        if (nx < 2) return NAN;
        vsi_mean_ss(x, nx, &m, &ss);
        return sqrt(dd_to_d(ss) / (double)(nx - 1));
    case VS_STAT_MEAN_DIFF: {
        if (!nx || !ny) return NAN;
        vs_dd m2;
        vsi_mean_ss(x, nx, &m, &ss);
        vsi_mean_ss(y, ny, &m2, &ss);
        return dd_to_d(dd_sub(m, m2));
    }
    }
    return NAN;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* linear-interpolation quantile of sorted s (numpy's default "linear" method) */
static double quantile_sorted(const double *s, size_t n, double q) {
    if (isnan(q)) return NAN;
    double h = (double)(n - 1) * q;
    double fl = floor(h);
    size_t i = (size_t)fl;
    if (i >= n - 1) return s[n - 1];
    return s[i] + (h - fl) * (s[i + 1] - s[i]);
}

int vs_boot_interval(double theta, double *reps, size_t B, const double *jack, size_t nj, double level, int bca, vs_boot *out) {
    out->estimate = theta;
    out->lo = out->hi = out->se = out->bias = NAN;
    out->z0 = out->accel = NAN;
    out->note = NULL;
    if (B < 2) {
        out->note = "needs at least 2 resamples";
        return -1;
    }
    double alpha = (1.0 - level) / 2.0;
    double a1 = alpha, a2 = 1.0 - alpha;
    vs_moments mo;
    vs_moments_compute(reps, B, &mo);
    out->se = mo.sd;
    out->bias = mo.mean - theta;
    if (bca) {
        size_t lt = 0, le = 0;
        for (size_t b = 0; b < B; b++) {
            lt += reps[b] < theta;
            le += reps[b] <= theta;
        }
        double z0 = vs_norm_ppf((double)(lt + le) / (2.0 * (double)B));
        /* acceleration from the jackknife values: U_i = (n-1)(mean - theta_i) */
        vs_moments jm;
        vs_moments_compute(jack, nj, &jm);
        double nn = (double)nj, num = 0.0, den = 0.0;
        for (size_t i = 0; i < nj; i++) {
            double u = (nn - 1.0) * (jm.mean - jack[i]);
            num += u * u * u;
            den += u * u;
        }
        num /= nn * nn * nn;
        den /= nn * nn;
        double acc = num / 6.0 / pow(den, 1.5);
        double za = vs_norm_ppf(alpha);
        double n1 = z0 + za, n2 = z0 - za;
        a1 = vs_norm_cdf(z0 + n1 / (1.0 - acc * n1));
        a2 = vs_norm_cdf(z0 + n2 / (1.0 - acc * n2));
        out->z0 = z0;
        out->accel = acc;
        if (!isfinite(z0) || isnan(acc)) out->note = "degenerate bootstrap distribution: the BCa interval is undefined (NaN)";
    }
    qsort(reps, B, sizeof *reps, cmp_d);
    out->lo = quantile_sorted(reps, B, a1);
    out->hi = quantile_sorted(reps, B, a2);
    return (isnan(out->lo) || isnan(out->hi)) ? -1 : 0;
}

int vs_bootstrap(vs_stat_kind kind, const double *x, size_t nx, const double *y, size_t ny, size_t B, uint64_t seed, double level, int bca, vs_boot *out) {
    int two = kind == VS_STAT_MEAN_DIFF;
    if (!two) ny = 0;
    memset(out, 0, sizeof *out);
    if (nx < 2 || (two && ny < 2)) {
        out->lo = out->hi = out->estimate = NAN;
        out->note = "each sample needs at least 2 observations";
        return -1;
    }
    double theta = vs_statistic(kind, x, nx, y, ny);
    double *reps = malloc(B * sizeof *reps);
    double *bx = malloc(nx * sizeof *bx), *by = malloc((ny ? ny : 1) * sizeof *by);
    double *jack = malloc((nx + ny) * sizeof *jack);
    if (!reps || !bx || !by || !jack) {
        free(reps);
        free(bx);
        free(by);
        free(jack);
        out->note = "out of memory";
        return -1;
    }
    vs_rng rng = {seed};
    for (size_t b = 0; b < B; b++) {
        for (size_t i = 0; i < nx; i++) bx[i] = x[vs_rng_below(&rng, nx)];
        for (size_t i = 0; i < ny; i++) by[i] = y[vs_rng_below(&rng, ny)];
        reps[b] = vs_statistic(kind, bx, nx, by, ny);
    }
    /* jackknife: leave one out of x (then of y), the other sample whole */
    size_t nj = 0;
    for (size_t i = 0; i < nx; i++) {
        size_t k = 0;
        for (size_t j = 0; j < nx; j++)
            if (j != i) bx[k++] = x[j];
        jack[nj++] = vs_statistic(kind, bx, nx - 1, y, ny);
    }
    for (size_t i = 0; i < ny; i++) {
        size_t k = 0;
        for (size_t j = 0; j < ny; j++)
            if (j != i) by[k++] = y[j];
        jack[nj++] = vs_statistic(kind, x, nx, by, ny - 1);
    }
    int rc;
    if (two && bca) {
        /* scipy sums the acceleration terms per sample; do the same by pooling U_i per sample */
        rc = vs_boot_interval(theta, reps, B, jack, nj, level, 0, out);
        vs_moments jx, jy;
        vs_moments_compute(jack, nx, &jx);
        vs_moments_compute(jack + nx, ny, &jy);
        double num = 0.0, den = 0.0;
        const vs_moments *jm[2] = {&jx, &jy};
        const double *js[2] = {jack, jack + nx};
        size_t jn[2] = {nx, ny};
        for (int s = 0; s < 2; s++) {
            double nn = (double)jn[s], a = 0.0, c = 0.0;
            for (size_t i = 0; i < jn[s]; i++) {
                double u = (nn - 1.0) * (jm[s]->mean - js[s][i]);
                a += u * u * u;
                c += u * u;
            }
            num += a / (nn * nn * nn);
            den += c / (nn * nn);
        }
        double acc = num / 6.0 / pow(den, 1.5);
        size_t lt = 0, le = 0;
        for (size_t b = 0; b < B; b++) {
            lt += reps[b] < theta;
            le += reps[b] <= theta;
        }
        double z0 = vs_norm_ppf((double)(lt + le) / (2.0 * (double)B));
        double alpha = (1.0 - level) / 2.0, za = vs_norm_ppf(alpha);
        double n1 = z0 + za, n2 = z0 - za;
        double a1 = vs_norm_cdf(z0 + n1 / (1.0 - acc * n1)), a2 = vs_norm_cdf(z0 + n2 / (1.0 - acc * n2));
        /* reps are sorted by the call above */
        out->lo = quantile_sorted(reps, B, a1);
        out->hi = quantile_sorted(reps, B, a2);
        out->z0 = z0;
        out->accel = acc;
        rc = (isnan(out->lo) || isnan(out->hi)) ? -1 : 0;
        if (rc) out->note = "degenerate bootstrap distribution: the BCa interval is undefined (NaN)";
    } else {
        rc = vs_boot_interval(theta, reps, B, jack, nj, level, bca, out);
    }
    free(reps);
    free(bx);
    free(by);
    free(jack);
    return rc;
}
