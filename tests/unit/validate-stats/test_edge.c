/* test_edge.c — the statistics library on degenerate input: empty and tiny samples, NaN parameters, domain edges. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sl_test.h"
#include "vs_stats.h"

static void distributions(void) {
    CHECK(isnan(vs_t_sf(1.0, 0.0)));
    CHECK(isnan(vs_t_sf(NAN, 5.0)));
    CHECK(isnan(vs_ibeta(-1.0, 2.0, 0.5)));
    CHECK(isnan(vs_ibeta(1.0, 2.0, 1.5)));
    CHECK(vs_ibeta(2.0, 3.0, 0.0) == 0.0 && vs_ibeta(2.0, 3.0, 1.0) == 1.0);
    CHECK(vs_ibetac(2.0, 3.0, 0.0) == 1.0 && vs_ibetac(2.0, 3.0, 1.0) == 0.0);
    CHECK(vs_norm_sf(INFINITY) == 0.0 && vs_norm_cdf(INFINITY) == 1.0 && vs_norm_cdf(-INFINITY) == 0.0);
    CHECK(vs_t_sf(INFINITY, 3.0) == 0.0 && vs_t_cdf(-INFINITY, 3.0) == 0.0);
    CHECK(vs_t_sf(0.0, 7.0) == 0.5);
    CHECK(vs_chi2_sf(0.0, 3.0) == 1.0 && vs_chi2_sf(-1.0, 3.0) == 1.0);
    CHECK(vs_f_sf(INFINITY, 2.0, 3.0) == 0.0);
    CHECK(isnan(vs_norm_ppf(1.5)) && vs_norm_ppf(0.0) == -INFINITY);
    CHECK_NEAR(vs_norm_ppf(0.975), 1.959963984540054, 1e-15);
    CHECK_NEAR(vs_t_ppf(0.975, 10.0), 2.228138851986274, 1e-14); /* scipy.stats.t.ppf */
    CHECK_NEAR(vs_t_ppf(0.025, 1.0), -12.706204736174705, 1e-14);
    CHECK_NEAR(vs_norm_logsf(40.0), -804.60844201375369, 1e-14); /* far below the smallest double */
}

static void samples(void) {
    double one[1] = {3.0}, two[2] = {1.0, 2.0}, nanv[3] = {1.0, NAN, 2.0};
    vs_result r;
    CHECK(vs_ttest_ind(one, 1, two, 2, 0, VS_TWO_SIDED, &r) == -1 && isnan(r.p) && r.note);
    CHECK(vs_ttest_ind(two, 0, two, 2, 1, VS_TWO_SIDED, &r) == -1 && isnan(r.p));
    CHECK(vs_ttest_rel(two, two, 0, VS_TWO_SIDED, &r) == -1 && isnan(r.p));
    CHECK(vs_mannwhitneyu(two, 0, two, 2, VS_TWO_SIDED, VS_AUTO, 1, &r) == -1 && isnan(r.p));
    CHECK(vs_wilcoxon(two, 0, VS_ZERO_WILCOX, 0, VS_TWO_SIDED, VS_AUTO, &r) == -1);
    CHECK(vs_pearson(two, two, 1, VS_TWO_SIDED, &r) == -1);
    CHECK(vs_kendall(two, two, 1, VS_TWO_SIDED, VS_AUTO, &r) == -1);
    double tie_x[4] = {1, 1, 2, 2}, tie_y[4] = {1, 2, 3, 4};
    CHECK(vs_kendall(tie_x, tie_y, 4, VS_TWO_SIDED, VS_EXACT, &r) == -1 && r.note); /* exact needs distinct values */
    const double *g[2] = {one, two};
    size_t ns[2] = {0, 2};
    CHECK(vs_anova_oneway(g, ns, 2, 0, &r) == -1);
    CHECK(vs_kruskal(g, ns, 1, &r) == -1);
    double tab[4] = {1, -1, 2, 3};
    CHECK(vs_chi2_contingency(tab, 2, 2, 1, 0, &r) == -1 && r.note);
    CHECK(vs_fisher_exact(1.5, 2, 3, 4, VS_TWO_SIDED, &r) == -1);
    /* NaN in the data never crashes; t tests propagate it into p = NaN */
    vs_ttest_ind(nanv, 3, two, 2, 0, VS_TWO_SIDED, &r);
    CHECK(isnan(r.p));
    double X[3] = {1, 1, 1}, y[3] = {1, 2, 3};
    vs_ols m;
    CHECK(vs_ols_fit(X, y, 3, 1, 0, 0.05, &m) == 0 && fabs(m.coef[0] - 2.0) < 1e-15);
    vs_ols_free(&m);
    vs_ols_free(NULL);
    double Z[6] = {0, 0, 0, 1, 2, 3};
    CHECK(vs_ols_fit(Z, y, 3, 2, -1, 0.05, &m) == -1 && m.note && strstr(m.note, "all zeros"));
    CHECK(vs_ols_fit(X, y, 1, 1, 0, 0.05, &m) == -1);
    double padj[3] = {0.01, NAN, 0.04}, out[3];
    CHECK(vs_p_adjust(padj, 3, VS_ADJ_HOLM, out) == 0 && isnan(out[1]) && out[0] == 0.02 && out[2] == 0.04);
    vs_boot b;
    CHECK(vs_bootstrap(VS_STAT_MEAN, one, 1, NULL, 0, 100, 1, 0.95, 1, &b) == -1 && b.note);
    vs_decimal d;
    CHECK(vs_decimal_parse("1e", &d) == -1 && vs_decimal_parse("", &d) == -1 && vs_decimal_parse("0x10", &d) == -1);
    CHECK(vs_decimal_parse("nan", &d) == -1 && vs_decimal_parse("-inf", &d) == -1 && vs_decimal_parse("1e999", &d) == -1);
    CHECK(vs_decimal_parse(" -12.5e-1 ", &d) == 0 && d.approx == -1.25);
    vs_decimal a, c;
    vs_decimal_parse("10000000000000.3", &a);
    vs_decimal_parse("10000000000000.1", &c);
    CHECK(vs_decimal_diff(&a, &c) == 0.2);
}

int main(void) {
    distributions();
    samples();
    return SL_TEST_DONE();
}
