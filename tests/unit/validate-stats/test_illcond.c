/* test_illcond.c — correct significant digits on ill-conditioned data (shared leading digits, degree-10 fit, 14th-digit ANOVA). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sciloop/artifact.h>

#include "sl_test.h"
#include "vs_stats.h"

/* Bars (digits = -log10 relative error against the 50-digit references of illcond.py; 17.0 is
 * printed when the result is the correctly rounded reference itself):
 * mean and sd >= 13, every coefficient of the degree-10 polynomial >= 7, ANOVA F >= 9. */

static double digits(double got, double want) {
    if (got == want) return 17.0;
    double e = fabs(got - want) / fabs(want);
    return e > 0 ? fmin(17.0, -log10(e)) : 17.0;
}

static sl_table *load(const char *name) {
    const char *src = getenv("SCILOOP_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/reference/validate/data/%s", src ? src : ".", name);
    sl_table *t = NULL;
    if (sl_table_read(path, &t) != SL_OK) fprintf(stderr, "%s\n", sl_last_error());
    return t;
}

static void check_moments(void) {
    sl_table *t = load("illcond_moments.csv");
    CHECK(t != NULL);
    if (!t) return;
    for (size_t r = 0; r < sl_table_rows(t); r++) {
        char *vals = strdup(sl_table_cell(t, r, 1));
        size_t n = 1;
        for (char *p = vals; *p; p++) n += *p == ';';
        const char **txt = malloc(n * sizeof *txt);
        double *naive = malloc(n * sizeof *naive);
        size_t k = 0;
        for (char *tok = strtok(vals, ";"); tok; tok = strtok(NULL, ";")) {
            naive[k] = strtod(tok, NULL);
            txt[k++] = tok;
        }
        vs_moments m, mn;
        size_t bad;
        CHECK(vs_moments_text(txt, k, &m, &bad) == 0);
        vs_moments_compute(naive, k, &mn);
        double want_m = strtod(sl_table_cell(t, r, 2), NULL), want_sd = strtod(sl_table_cell(t, r, 3), NULL);
        double dm = digits(m.mean, want_m), ds = digits(m.sd, want_sd);
        printf("moments %-18s n=%zu: mean %.1f digits, sd %.1f digits (same data read as doubles: sd %.1f digits)\n",
               sl_table_cell(t, r, 0), k, dm, ds, digits(mn.sd, want_sd));
        CHECK_MSG(dm >= 13.0, "%s: mean %.17g vs %.17g", sl_table_cell(t, r, 0), m.mean, want_m);
        CHECK_MSG(ds >= 13.0, "%s: sd %.17g vs %.17g", sl_table_cell(t, r, 0), m.sd, want_sd);
        free(txt);
        free(naive);
        free(vals);
    }
    sl_table_destroy(t);
}

static void check_poly10(void) {
    sl_table *t = load("illcond_poly10.csv"), *ref = load("illcond_poly10_ref.csv");
    CHECK(t && ref);
    if (!t || !ref) return;
    size_t n = sl_table_rows(t), p = 11;
    double *X = malloc(n * p * sizeof *X), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        double x = strtod(sl_table_cell(t, i, 0), NULL), pw = 1.0;
        y[i] = strtod(sl_table_cell(t, i, 1), NULL);
        X[i] = 1.0;
        for (size_t k = 1; k < p; k++) {
            pw = pw * x; /* repeated multiplication, bit-identical to illcond.py */
            X[k * n + i] = pw;
        }
    }
    vs_ols m;
    CHECK(vs_ols_fit(X, y, n, p, 0, 0.05, &m) == 0);
    double worst = 99.0;
    for (size_t k = 0; k < p && m.coef; k++) {
        double d = digits(m.coef[k], strtod(sl_table_cell(ref, k, 1), NULL));
        if (d < worst) worst = d;
        CHECK_MSG(d >= 7.0, "x^%zu: %.17g vs %s (%.1f digits)", k, m.coef[k], sl_table_cell(ref, k, 1), d);
    }
    printf("degree-10 polynomial on [-9, -3], n=%zu: fewest correct digits over the 11 coefficients %.1f\n", n, worst);
    vs_ols_free(&m);
    free(X);
    free(y);
    sl_table_destroy(t);
    sl_table_destroy(ref);
}

static void check_anova(void) {
    sl_table *t = load("illcond_anova.csv"), *ref = load("illcond_anova_ref.csv");
    CHECK(t && ref);
    if (!t || !ref) return;
    size_t n = sl_table_rows(t);
    double *g[16];
    size_t ns[16] = {0}, k = 0;
    char names[16][16];
    vs_decimal d0, d;
    for (size_t i = 0; i < 16; i++) g[i] = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        const char *gn = sl_table_cell(t, i, 0);
        size_t j;
        for (j = 0; j < k; j++)
            if (!strcmp(names[j], gn)) break;
        if (j == k) snprintf(names[k++], sizeof names[0], "%s", gn);
        CHECK(vs_decimal_parse(sl_table_cell(t, i, 1), &d) == 0);
        if (i == 0) d0 = d;
        g[j][ns[j]++] = vs_decimal_diff(&d, &d0); /* shifted exactly by the first value, as the op does */
    }
    vs_result res;
    CHECK(vs_anova_oneway((const double *const *)g, ns, k, 0, &res) == 0);
    double want = strtod(sl_table_cell(ref, 0, 0), NULL), dF = digits(res.statistic, want);
    /* the same data as plain doubles, for contrast */
    double *h[16];
    for (size_t j = 0; j < k; j++) {
        h[j] = malloc(ns[j] * sizeof(double));
        ns[j] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t j;
        for (j = 0; j < k; j++)
            if (!strcmp(names[j], sl_table_cell(t, i, 0))) break;
        h[j][ns[j]++] = strtod(sl_table_cell(t, i, 1), NULL);
    }
    vs_result raw;
    vs_anova_oneway((const double *const *)h, ns, k, 0, &raw);
    printf("ANOVA, 9 groups differing in the 14th digit: F = %.17g, %.1f correct digits (read as doubles: %.1f)\n", res.statistic,
           dF, digits(raw.statistic, want));
    CHECK_MSG(dF >= 9.0, "F %.17g vs %.17g", res.statistic, want);
    for (size_t i = 0; i < 16; i++) free(g[i]);
    for (size_t j = 0; j < k; j++) free(h[j]);
    sl_table_destroy(t);
    sl_table_destroy(ref);
}

int main(void) {
    check_moments();
    check_poly10();
    check_anova();
    return SL_TEST_DONE();
}
