/* test_reference.c — agreement of the statistics library with scipy/statsmodels on >= 1000 generated cases per test. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sciloop/artifact.h>

#include "casegen.h"
#include "sl_test.h"
#include "vs_stats.h"

/*
 * Usage: validate_reference <name>   (reads tests/reference/validate/data/<name>.csv)
 *
 * Bar: statistic and p-value within 1e-10 relative of scipy/statsmodels (p >= 1e-300). Two
 * kinds of exception are accepted and counted, never silently:
 *   "scipy-rounding": scipy's float64 statistic is itself off (cancellation between nearly
 *      equal means, r next to +-1); we then must agree with the 50-digit mpmath statistic to
 *      1e-12, and with scipy's own p-value evaluated at that statistic to 1e-10.
 *   "scipy-p": scipy's p-value itself is off (the beta tail of Pearson's r evaluated at
 *      (1 + r)/2, whose complement loses digits next to |r| = 1); we must then agree with the
 *      50-digit mpmath p-value of the same statistic to 1e-10.
 *   "zero": the exact statistic is 0 and both values are within 1e-14 of it.
 *   "perfect": a rank correlation that is exactly +-1 (integer ranks), where scipy's float
 *      sum gives 1 - 1e-16 and a finite t; we return p = 0 as the exact value.
 *   "degenerate": BCa with all jackknife values equal (acceleration 0/0); we return NaN with
 *      a reason, scipy an interval driven by rounding noise.
 */

#define TOL 1e-10

typedef struct {
    const char *name;
    long cases, stat_exc, p_exc, zero_exc, mp_p_exc, perfect_exc, degenerate_exc;
    double max_stat, max_p;
    long fails;
} tally;

static double relerr(double a, double b) {
    if (isnan(a) && isnan(b)) return 0.0;
    if (isinf(a) || isinf(b)) return (a == b) ? 0.0 : INFINITY;
    if (isnan(a) || isnan(b)) return INFINITY;
    if (a == b) return 0.0;
    return fabs(a - b) / fabs(b);
}

static double perr(double a, double b) {
    if (!isnan(a) && !isnan(b) && b < 1e-300 && a < 1e-300) return 0.0; /* below the bar's range */
    return relerr(a, b);
}

static double num(const sl_table *t, size_t row, const char *col) {
    long c = sl_table_find_col(t, col);
    if (c < 0) {
        fprintf(stderr, "missing column %s\n", col);
        exit(2);
    }
    const char *s = sl_table_cell(t, row, (size_t)c);
    if (!strcmp(s, "nan")) return NAN;
    if (!strcmp(s, "inf")) return INFINITY;
    if (!strcmp(s, "-inf")) return -INFINITY;
    return strtod(s, NULL);
}

static uint64_t u64(const sl_table *t, size_t row, const char *col) {
    return strtoull(sl_table_cell(t, row, (size_t)sl_table_find_col(t, col)), NULL, 10);
}

static int64_t i64(const sl_table *t, size_t row, const char *col) {
    return strtoll(sl_table_cell(t, row, (size_t)sl_table_find_col(t, col)), NULL, 10);
}

static const char *str(const sl_table *t, size_t row, const char *col) {
    return sl_table_cell(t, row, (size_t)sl_table_find_col(t, col));
}

/* split "a;b;c" into doubles; returns count */
static size_t split_d(const char *s, double *out, size_t max) {
    size_t n = 0;
    while (*s && n < max) {
        char *end;
        if (!strncmp(s, "nan", 3)) {
            out[n++] = NAN;
            end = (char *)s + 3;
        } else if (!strncmp(s, "inf", 3)) {
            out[n++] = INFINITY;
            end = (char *)s + 3;
        } else {
            out[n++] = strtod(s, &end);
        }
        s = end;
        if (*s == ';') s++;
        else break;
    }
    return n;
}

/* Compare one statistic/p pair with the exception rules above. */
static void judge4(tally *ty, size_t row, double stat, double p, double ref_stat, double ref_p, double mp_stat, double p_at_mp,
                   double p_mp) {
    ty->cases++;
    double es = relerr(stat, ref_stat), ep = perr(p, ref_p);
    int ok_s = es <= TOL, ok_p = ep <= TOL;
    if (!ok_s && fabs(stat - ref_stat) <= 1e-14 && (isnan(mp_stat) || fabs(mp_stat) <= 1e-14)) {
        ok_s = 1;
        ty->zero_exc++;
        es = 0;
    }
    if (!ok_s && !isnan(mp_stat) && relerr(stat, mp_stat) <= 1e-12) {
        ok_s = 1;
        ty->stat_exc++;
        es = 0;
    }
    if (!ok_p && !isnan(p_at_mp) && perr(p, p_at_mp) <= TOL) {
        ok_p = 1;
        ty->p_exc++;
        ep = 0;
    }
    if (!ok_p && !isnan(p_mp) && perr(p, p_mp) <= TOL) {
        ok_p = 1;
        ty->mp_p_exc++;
        ep = 0;
    }
    if (ok_s && es > ty->max_stat) ty->max_stat = es;
    if (ok_p && ep > ty->max_p) ty->max_p = ep;
    if (!ok_s || !ok_p) {
        ty->fails++;
        if (ty->fails <= 10)
            fprintf(stderr, "%s row %zu: stat %.17g vs %.17g (mp %.17g, rel %.3g), p %.17g vs %.17g (at mp %.17g, rel %.3g)\n",
                    ty->name, row + 1, stat, ref_stat, mp_stat, es, p, ref_p, p_at_mp, ep);
    }
}

static void judge(tally *ty, size_t row, double stat, double p, double ref_stat, double ref_p, double mp_stat, double p_at_mp) {
    judge4(ty, row, stat, p, ref_stat, ref_p, mp_stat, p_at_mp, NAN);
}

static void check_chk(tally *ty, size_t row, int64_t got, int64_t want) {
    if (got != want) {
        ty->fails++;
        fprintf(stderr, "%s row %zu: regenerated data differ (checksum %" PRId64 " vs %" PRId64 ")\n", ty->name, row + 1, got, want);
    }
}

static vs_alternative alt_of(int a) { return a == 1 ? VS_LESS : a == 2 ? VS_GREATER : VS_TWO_SIDED; }

/* ------------------------------------------------------------------------------------------ */

static void run_two_sample(const sl_table *t, tally *ty, const char *which) {
    size_t rows = sl_table_rows(t);
    for (size_t r = 0; r < rows; r++) {
        size_t n1 = (size_t)i64(t, r, "n1"), n2 = (size_t)i64(t, r, "n2");
        int bits = (int)i64(t, r, "bits"), d = (int)i64(t, r, "d");
        double *x = malloc(n1 * sizeof *x), *y = malloc(n2 * sizeof *y);
        vs_rng rng = {u64(t, r, "seed")};
        int64_t chk = 0;
        cg_ints(&rng, n1, bits, i64(t, r, "base1"), d, x, &chk);
        cg_ints(&rng, n2, bits, i64(t, r, "base2"), d, y, &chk);
        check_chk(ty, r, chk, i64(t, r, "chk"));
        vs_alternative alt = alt_of((int)i64(t, r, "alt"));
        vs_result res;
        double mps = NAN, pam = NAN;
        if (!strcmp(which, "ttest_student") || !strcmp(which, "ttest_welch")) {
            vs_ttest_ind(x, n1, y, n2, !strcmp(which, "ttest_student"), alt, &res);
            mps = num(t, r, "mp_stat");
            pam = num(t, r, "p_at_mp");
            if (relerr(res.df, num(t, r, "df")) > TOL && relerr(res.df, num(t, r, "mp_df")) > 1e-12 &&
                !(isnan(res.df) && isnan(num(t, r, "df")))) {
                ty->fails++;
                fprintf(stderr, "%s row %zu: df %.17g vs %.17g\n", ty->name, r + 1, res.df, num(t, r, "df"));
            }
        } else if (!strcmp(which, "ttest_paired")) {
            vs_ttest_rel(x, y, n1, alt, &res);
            mps = num(t, r, "mp_stat");
            pam = num(t, r, "p_at_mp");
        } else if (!strcmp(which, "mannwhitneyu")) {
            int m = (int)i64(t, r, "method");
            vs_mannwhitneyu(x, n1, y, n2, alt, m == 1 ? VS_EXACT : m == 2 ? VS_ASYMPTOTIC : VS_AUTO, (int)i64(t, r, "continuity"), &res);
        } else { /* wilcoxon on x - y */
            double *dd = malloc(n1 * sizeof *dd);
            for (size_t i = 0; i < n1; i++) dd[i] = x[i] - y[i];
            int zm = (int)i64(t, r, "zero_method"), m = (int)i64(t, r, "method");
            vs_wilcoxon(dd, n1, (vs_zero_method)zm, (int)i64(t, r, "correction"), alt, m == 2 ? VS_ASYMPTOTIC : m == 1 ? VS_EXACT : VS_AUTO, &res);
            free(dd);
        }
        judge(ty, r, res.statistic, res.p, num(t, r, "stat"), num(t, r, "p"), mps, pam);
        free(x);
        free(y);
    }
}

static void run_k_groups(const sl_table *t, tally *ty, const char *which) {
    size_t rows = sl_table_rows(t);
    for (size_t r = 0; r < rows; r++) {
        size_t k = (size_t)i64(t, r, "k");
        int bits = (int)i64(t, r, "bits"), d = (int)i64(t, r, "d");
        double sz[16], sh[16];
        split_d(str(t, r, "sizes"), sz, 16);
        split_d(str(t, r, "shifts"), sh, 16);
        double *g[16];
        size_t ns[16];
        vs_rng rng = {u64(t, r, "seed")};
        int64_t chk = 0;
        for (size_t j = 0; j < k; j++) {
            ns[j] = (size_t)sz[j];
            g[j] = malloc(ns[j] * sizeof(double));
            cg_ints(&rng, ns[j], bits, (int64_t)sh[j], d, g[j], &chk);
        }
        check_chk(ty, r, chk, i64(t, r, "chk"));
        vs_result res;
        if (!strcmp(which, "kruskal")) vs_kruskal((const double *const *)g, ns, k, &res);
        else vs_anova_oneway((const double *const *)g, ns, k, !strcmp(which, "anova_welch"), &res);
        judge(ty, r, res.statistic, res.p, num(t, r, "stat"), num(t, r, "p"), num(t, r, "mp_stat"), num(t, r, "p_at_mp"));
        for (size_t j = 0; j < k; j++) free(g[j]);
    }
}

static void run_anova2(const sl_table *t, tally *ty) {
    size_t rows = sl_table_rows(t);
    for (size_t r = 0; r < rows; r++) {
        int la = (int)i64(t, r, "la"), lb = (int)i64(t, r, "lb"), rep = (int)i64(t, r, "r");
        int bits = (int)i64(t, r, "bits"), d = (int)i64(t, r, "d");
        int64_t ea = i64(t, r, "effa"), eb = i64(t, r, "effb");
        size_t n = (size_t)(la * lb * rep);
        double *y = malloc(n * sizeof *y);
        int *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        vs_rng rng = {u64(t, r, "seed")};
        int64_t chk = 0;
        size_t o = 0;
        for (int i = 0; i < la; i++)
            for (int j = 0; j < lb; j++) {
                /* Python's // floors; a*b*effa >= 0 here so C's division agrees */
                cg_ints(&rng, (size_t)rep, bits, i * ea + j * eb + (i * j * ea) / 3, d, y + o, &chk);
                for (int m = 0; m < rep; m++) {
                    a[o + (size_t)m] = i;
                    b[o + (size_t)m] = j;
                }
                o += (size_t)rep;
            }
        check_chk(ty, r, chk, i64(t, r, "chk"));
        vs_anova2 out;
        vs_anova_twoway(y, a, b, n, la, lb, &out);
        const char *fs[3] = {"F_a", "F_b", "F_ab"}, *ps[3] = {"p_a", "p_b", "p_ab"};
        const char *mf[3] = {"mp_F_a", "mp_F_b", "mp_F_ab"}, *mpp[3] = {"mp_p_a", "mp_p_b", "mp_p_ab"};
        for (int i = 0; i < 3; i++)
            judge(ty, r, out.rows[i].F, out.rows[i].p, num(t, r, fs[i]), num(t, r, ps[i]), num(t, r, mf[i]), num(t, r, mpp[i]));
        ty->cases -= 2; /* count a design once */
        free(y);
        free(a);
        free(b);
    }
}

static void run_ols(const sl_table *t, tally *ty) {
    size_t rows = sl_table_rows(t);
    for (size_t r = 0; r < rows; r++) {
        size_t n = (size_t)i64(t, r, "n");
        int kind = (int)i64(t, r, "kind"), q = (int)i64(t, r, "q"), bits = (int)i64(t, r, "bits"), d = (int)i64(t, r, "d");
        double betas[5];
        split_d(str(t, r, "betas"), betas, 5);
        vs_rng rng = {u64(t, r, "seed")};
        int64_t chk = 0;
        int nx = (kind == 0 || kind == 2) ? q : 1;
        double *cols = malloc((size_t)nx * n * sizeof *cols), *noise = malloc(n * sizeof *noise);
        for (int j = 0; j < nx; j++) cg_ints(&rng, n, bits, (int64_t)(j + 1) << bits, d, cols + (size_t)j * n, &chk);
        cg_ints(&rng, n, bits, 0, d, noise, &chk);
        check_chk(ty, r, chk, i64(t, r, "chk"));
        int intercept = kind == 0 || kind == 1;
        size_t p = (size_t)q + (intercept ? 1 : 0);
        double *X = malloc(p * n * sizeof *X), *y = malloc(n * sizeof *y);
        size_t c0 = 0;
        if (intercept) {
            for (size_t i = 0; i < n; i++) X[i] = 1.0;
            c0 = 1;
        }
        for (int j = 0; j < q; j++)
            for (size_t i = 0; i < n; i++) {
                double v;
                if (kind == 0 || kind == 2) v = cols[(size_t)j * n + i];
                else {
                    /* numpy: x ** (j+1) with x = col / 2^bits, computed by repeated multiplication
                     * for small integer powers in numpy is pow(); use pow to match */
                    double xv = cols[i] / (double)((int64_t)1 << bits);
                    v = pow(xv, (double)(j + 1));
                }
                X[(c0 + (size_t)j) * n + i] = v;
            }
        for (size_t i = 0; i < n; i++) {
            double yv = noise[i];
            for (int j = 0; j < q; j++) yv = yv + betas[j % 5] * X[(c0 + (size_t)j) * n + i];
            y[i] = yv;
        }
        vs_ols m;
        int rc = vs_ols_fit(X, y, n, p, intercept ? 0 : -1, 0.05, &m);
        if (rc != 0) {
            ty->fails++;
            fprintf(stderr, "ols row %zu: fit failed: %s\n", r + 1, m.note);
        } else {
            double coef[8], se[8], pv[8], lo[8], mc[8], ms[8];
            split_d(str(t, r, "mp_coef"), mc, 8);
            split_d(str(t, r, "mp_se"), ms, 8);
            split_d(str(t, r, "coef"), coef, 8);
            split_d(str(t, r, "se"), se, 8);
            split_d(str(t, r, "p"), pv, 8);
            split_d(str(t, r, "ci_lo"), lo, 8);
            for (size_t j = 0; j < p; j++) {
                /* a coefficient near zero relative to the others carries statsmodels' absolute
                 * rounding; the 50-digit solution then decides, and p/CI follow the statistic */
                double ref_t = coef[j] / se[j], mp_t = mc[j] / ms[j];
                double pt = vs_t_sf(fabs(mp_t), (double)n - (double)p) * 2.0;
                judge(ty, r, m.coef[j], m.pval[j], coef[j], pv[j], mc[j], pt > 1 ? 1 : pt);
                judge(ty, r, m.se[j], m.t[j], se[j], ref_t, ms[j], mp_t);
                ty->cases -= 2;
            }
            double Fm = num(t, r, "mp_F");
            double pFm = vs_f_sf(Fm, (double)p - (intercept ? 1.0 : 0.0), (double)(n - p));
            judge(ty, r, m.r2, m.adj_r2, num(t, r, "r2"), num(t, r, "adj_r2"), num(t, r, "mp_r2"), num(t, r, "mp_adj_r2"));
            judge(ty, r, m.F, m.F_p, num(t, r, "F"), num(t, r, "F_p"), Fm, pFm);
            ty->cases -= 1;
            vs_ols_free(&m);
        }
        free(cols);
        free(noise);
        free(X);
        free(y);
    }
}

static void run_corr(const sl_table *t, tally *ty, const char *which) {
    size_t rows = sl_table_rows(t);
    for (size_t r = 0; r < rows; r++) {
        size_t n = (size_t)i64(t, r, "n");
        int bits = (int)i64(t, r, "bits"), nbits = (int)i64(t, r, "nbits"), d = (int)i64(t, r, "d");
        int64_t slope = i64(t, r, "slope"), base = i64(t, r, "base");
        vs_rng rng = {u64(t, r, "seed")};
        int64_t *kx = malloc(n * sizeof *kx), *ke = malloc(n * sizeof *ke), chk = 0;
        cg_ints_raw(&rng, n, bits, base, kx);
        cg_ints_raw(&rng, n, nbits, 0, ke);
        double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        for (size_t i = 0; i < n; i++) {
            chk += kx[i] + ke[i];
            x[i] = (double)kx[i] / cg_pow10[d];
            y[i] = (double)(slope * kx[i] + ke[i]) / cg_pow10[d];
        }
        check_chk(ty, r, chk, i64(t, r, "chk"));
        vs_alternative alt = alt_of((int)i64(t, r, "alt"));
        vs_result res;
        if (!strcmp(which, "pearson")) vs_pearson(x, y, n, alt, &res);
        else if (!strcmp(which, "spearman")) vs_spearman(x, y, n, alt, &res);
        else {
            int m = (int)i64(t, r, "method");
            vs_kendall(x, y, n, alt, m == 2 ? VS_ASYMPTOTIC : m == 1 ? VS_EXACT : VS_AUTO, &res);
        }
        double rs = num(t, r, "stat");
        if (fabs(res.statistic) == 1.0 && fabs(rs) != 1.0 && fabs(fabs(rs) - 1.0) < 1e-15 && res.p == 0.0) {
            ty->cases++;
            ty->perfect_exc++;
        } else {
            judge4(ty, r, res.statistic, res.p, rs, num(t, r, "p"), num(t, r, "mp_stat"), num(t, r, "p_at_mp"), num(t, r, "p_mp"));
        }
        free(kx);
        free(ke);
        free(x);
        free(y);
    }
}

static void run_contingency(const sl_table *t, tally *ty) {
    for (size_t r = 0; r < sl_table_rows(t); r++) {
        size_t nr = (size_t)i64(t, r, "r"), nc = (size_t)i64(t, r, "c");
        double tab[64];
        split_d(str(t, r, "table"), tab, 64);
        vs_result res;
        vs_chi2_contingency(tab, nr, nc, (int)i64(t, r, "correction"), (int)i64(t, r, "lambda_g"), &res);
        judge(ty, r, res.statistic, res.p, num(t, r, "stat"), num(t, r, "p"), NAN, NAN);
    }
}

static void run_fisher(const sl_table *t, tally *ty) {
    for (size_t r = 0; r < sl_table_rows(t); r++) {
        vs_result res;
        vs_fisher_exact(num(t, r, "a"), num(t, r, "b"), num(t, r, "c"), num(t, r, "d"), alt_of((int)i64(t, r, "alt")), &res);
        judge(ty, r, res.statistic, res.p, num(t, r, "stat"), num(t, r, "p"), NAN, NAN);
    }
}

static void run_multitest(const sl_table *t, tally *ty) {
    static const vs_padjust meth[5] = {VS_ADJ_BONFERRONI, VS_ADJ_HOLM, VS_ADJ_HOLM_SIDAK, VS_ADJ_BH, VS_ADJ_BY};
    double *p = malloc(256 * sizeof *p), *want = malloc(256 * sizeof *want), *got = malloc(256 * sizeof *got);
    for (size_t r = 0; r < sl_table_rows(t); r++) {
        size_t m = split_d(str(t, r, "p"), p, 256);
        split_d(str(t, r, "adjusted"), want, 256);
        vs_p_adjust(p, m, meth[i64(t, r, "method")], got);
        for (size_t i = 0; i < m; i++) {
            judge(ty, r, got[i], got[i], want[i], want[i], NAN, NAN);
            ty->cases--;
        }
        ty->cases++;
    }
    free(p);
    free(want);
    free(got);
}

static void run_bootstrap(const sl_table *t, tally *ty) {
    for (size_t r = 0; r < sl_table_rows(t); r++) {
        size_t nx = (size_t)i64(t, r, "nx"), ny = (size_t)i64(t, r, "ny"), B = (size_t)i64(t, r, "B");
        int bits = (int)i64(t, r, "bits"), d = (int)i64(t, r, "d");
        vs_rng rng = {u64(t, r, "dseed")};
        int64_t chk = 0;
        double *x = malloc(nx * sizeof *x), *y = malloc((ny + 1) * sizeof *y);
        cg_ints(&rng, nx, bits, 0, d, x, &chk);
        cg_ints(&rng, ny, bits, (int64_t)1 << bits, d, y, &chk);
        check_chk(ty, r, chk, i64(t, r, "chk"));
        vs_boot b;
        vs_bootstrap((vs_stat_kind)i64(t, r, "kind"), x, nx, y, ny, B, u64(t, r, "seed"), num(t, r, "level"), (int)i64(t, r, "bca"), &b);
        /* the interval's two ends stand in for (statistic, p) */
        if (i64(t, r, "degenerate") && isnan(b.lo) && isnan(b.hi) && b.note) {
            ty->cases++;
            ty->degenerate_exc++;
        } else {
            judge(ty, r, b.lo, b.hi, num(t, r, "lo"), num(t, r, "hi"), NAN, NAN);
        }
        free(x);
        free(y);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s <reference name>\n", argv[0]);
        return 2;
    }
    const char *name = argv[1];
    const char *src = getenv("SCILOOP_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/reference/validate/data/%s.csv", src ? src : ".", name);
    sl_table *t;
    if (sl_table_read(path, &t) != SL_OK) {
        fprintf(stderr, "%s\n", sl_last_error());
        return 1;
    }
    tally ty = {0};
    ty.name = name;
    if (!strncmp(name, "ttest", 5) || !strcmp(name, "mannwhitneyu") || !strcmp(name, "wilcoxon")) run_two_sample(t, &ty, name);
    else if (!strcmp(name, "anova_oneway") || !strcmp(name, "anova_welch") || !strcmp(name, "kruskal")) run_k_groups(t, &ty, name);
    else if (!strcmp(name, "anova_twoway")) run_anova2(t, &ty);
    else if (!strcmp(name, "ols")) run_ols(t, &ty);
    else if (!strcmp(name, "pearson") || !strcmp(name, "spearman") || !strcmp(name, "kendall")) run_corr(t, &ty, name);
    else if (!strcmp(name, "chi2_contingency")) run_contingency(t, &ty);
    else if (!strcmp(name, "fisher_exact")) run_fisher(t, &ty);
    else if (!strcmp(name, "multitest")) run_multitest(t, &ty);
    else if (!strcmp(name, "bootstrap")) run_bootstrap(t, &ty);
    else {
        fprintf(stderr, "unknown reference %s\n", name);
        return 2;
    }
    sl_table_destroy(t);
    printf("%s: %ld cases, max rel err statistic %.3g, p %.3g; exceptions: scipy-rounding stat %ld p %ld, scipy-p %ld, "
           "zero %ld, perfect %ld, degenerate %ld; failures %ld\n",
           name, ty.cases, ty.max_stat, ty.max_p, ty.stat_exc, ty.p_exc, ty.mp_p_exc, ty.zero_exc, ty.perfect_exc,
           ty.degenerate_exc, ty.fails);
    CHECK_MSG(ty.cases >= 1000, "%ld cases; the bar asks for >= 1000", ty.cases);
    CHECK_MSG(ty.fails == 0, "%ld cases disagree", ty.fails);
    return SL_TEST_DONE();
}
