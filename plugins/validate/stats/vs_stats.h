/* vs_stats.h — the numerical core of the validate plugin: distributions, tests, regression, effect sizes, corrections. */
#ifndef VS_STATS_H
#define VS_STATS_H

/*
 * A plain C library (libvs_stats.a) with no dependency on the engine: every function works on
 * arrays of doubles the caller owns, allocates only scratch memory it frees before returning,
 * keeps no global state and is therefore safe to call from several threads at once.
 *
 * Conventions follow scipy.stats / statsmodels (see docs/plugins/validate.md for each one).
 * Functions that can fail return 0 on success and -1 with a reason in `res->note` (a static
 * string) and p = NaN; they never abort on bad data.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* Special functions and distributions (special.c). All return NaN for invalid parameters.  */
/* Upper tails (sf) are computed directly, never as 1 - cdf. "log" variants return ln(p)    */
/* and stay finite far below the smallest double.                                            */

double vs_stirlerr(double z);            /* log Gamma(z+1) - (z+1/2) log z + z - log sqrt(2 pi) */
double vs_lbeta(double a, double b);     /* log B(a,b) */
double vs_ibeta(double a, double b, double x);   /* I_x(a,b), regularised incomplete beta */
double vs_ibetac(double a, double b, double x);  /* 1 - I_x(a,b), computed directly */
double vs_igamma_p(double a, double x);  /* P(a,x), regularised lower incomplete gamma */
double vs_igamma_q(double a, double x);  /* Q(a,x) = 1 - P(a,x), computed directly */

double vs_norm_pdf(double x);
double vs_norm_cdf(double x);
double vs_norm_sf(double x);
double vs_norm_logcdf(double x);
double vs_norm_logsf(double x);
double vs_norm_ppf(double p);            /* quantile (inverse cdf) */
double vs_norm_isf(double q);            /* inverse survival function */

double vs_t_cdf(double t, double df);    /* Student t with df > 0 (non-integer allowed) */
double vs_t_sf(double t, double df);
double vs_t_logcdf(double t, double df);
double vs_t_logsf(double t, double df);
double vs_t_ppf(double p, double df);

double vs_chi2_cdf(double x, double k);
double vs_chi2_sf(double x, double k);
double vs_chi2_logsf(double x, double k);

double vs_f_cdf(double f, double d1, double d2);
double vs_f_sf(double f, double d1, double d2);
double vs_f_logsf(double f, double d1, double d2);

double vs_dbinom(double k, double n, double p);            /* binomial pmf, saddle-point form */
double vs_dhyper(double x, double r, double b, double n);  /* hypergeometric pmf: x of n drawn from r white + b black */

/* ---------------------------------------------------------------------------------------- */
/* Decimal text and accurate sums (descr.c)                                                  */

/* A decimal number parsed exactly: value = mant * 10^exp10 (mant has at most 36 digits). */
typedef struct vs_decimal {
    __int128 mant;
    int exp10;
    int exact;   /* 0 when the text had too many digits; then `approx` is all there is */
    double approx;
} vs_decimal;

/* Parse a decimal or scientific literal ("-12.5e3", "1e-7", " 3 "). Returns 0, or -1 when the
 * text is not a finite number. */
int vs_decimal_parse(const char *text, vs_decimal *out);

/* a - b, exactly when both are exact and their difference fits, as a double (correctly
 * rounded in that case). Used to shift data by a reference value before summing. */
double vs_decimal_diff(const vs_decimal *a, const vs_decimal *b);

/* ref + x computed exactly and rounded once. */
double vs_decimal_add(const vs_decimal *ref, double x);

/* Mean and sample variance (ddof = 1) by two passes in double-double. */
typedef struct vs_moments {
    size_t n;
    double mean, var, sd; /* var and sd are NaN when n < 2 */
} vs_moments;
void vs_moments_compute(const double *x, size_t n, vs_moments *out);

/* Same, for data given as decimal text: values are shifted by the first one, parsed exactly,
 * so that data sharing 13+ leading digits keep their full precision. Returns -1 (and sets
 * *bad_index) when a text is not a finite number. */
int vs_moments_text(const char *const *text, size_t n, vs_moments *out, size_t *bad_index);

/* Sum in double-double (compensated). */
double vs_sum(const double *x, size_t n);

/* ---------------------------------------------------------------------------------------- */
/* Tests                                                                                      */

typedef enum vs_alternative { VS_TWO_SIDED = 0, VS_LESS = 1, VS_GREATER = 2 } vs_alternative;

/* The outcome of one test. `note` explains a NaN p or a method switch (static storage). */
typedef struct vs_result {
    double statistic;
    double p;
    double df, df2;       /* degrees of freedom where the test has them, else NaN */
    double z;             /* standardised statistic for normal approximations, else NaN */
    const char *method;   /* e.g. "exact", "asymptotic", "permutation" (static storage) */
    const char *note;     /* NULL, or why p is NaN / what was assumed (static storage) */
} vs_result;

void vs_result_init(vs_result *r);

/* p-value of a statistic from its CDF value and survival value, by alternative. */
double vs_p_from_tails(double cdf, double sf, vs_alternative alt);

/* t tests (ttests.c). ttest_ind: Student (equal_var = 1) or Welch; ttest_rel: paired on x - y;
 * ttest_1samp: mean of x against mu. Statistic t, df as in scipy.stats. */
int vs_ttest_ind(const double *x, size_t nx, const double *y, size_t ny, int equal_var, vs_alternative alt, vs_result *res);
int vs_ttest_rel(const double *x, const double *y, size_t n, vs_alternative alt, vs_result *res);
int vs_ttest_1samp(const double *x, size_t n, double mu, vs_alternative alt, vs_result *res);

/* Welch t test from summary statistics (the benchmark's kernel). */
void vs_welch_from_moments(double m1, double v1, double n1, double m2, double v2, double n2, double *t, double *df, double *p);

/* Rank-based tests (ranks.c). */
typedef enum vs_method { VS_AUTO = 0, VS_EXACT = 1, VS_ASYMPTOTIC = 2 } vs_method;
typedef enum vs_zero_method { VS_ZERO_WILCOX = 0, VS_ZERO_PRATT = 1, VS_ZERO_ZSPLIT = 2 } vs_zero_method;

/* Average ranks (1-based) of x into r; returns sum over tie groups of t^3 - t, or -1 on
 * allocation failure. */
double vs_rankdata(const double *x, size_t n, double *r);

/* Mann-Whitney U: statistic U1 of x (scipy.stats.mannwhitneyu). */
int vs_mannwhitneyu(const double *x, size_t nx, const double *y, size_t ny, vs_alternative alt, vs_method method, int continuity, vs_result *res);

/* Wilcoxon signed-rank on differences d (scipy.stats.wilcoxon, correction off by default). */
int vs_wilcoxon(const double *d, size_t n, vs_zero_method zm, int correction, vs_alternative alt, vs_method method, vs_result *res);

/* Kruskal-Wallis H over k groups. */
int vs_kruskal(const double *const *groups, const size_t *ns, size_t k, vs_result *res);

/* One-way ANOVA (welch = 0) or Welch's ANOVA (welch = 1): F, df (between), df2 (within). */
int vs_anova_oneway(const double *const *groups, const size_t *ns, size_t k, int welch, vs_result *res);

/* Two-way ANOVA with interaction for a balanced design: a[i] in [0, la), b[i] in [0, lb), and
 * every (a, b) cell holds the same number (>= 2) of observations. rows[0..2] = A, B, A:B. */
typedef struct vs_anova_row {
    double ss, df, ms, F, p;
} vs_anova_row;
typedef struct vs_anova2 {
    vs_anova_row rows[3];
    vs_anova_row resid;
    const char *note;
} vs_anova2;
int vs_anova_twoway(const double *y, const int *a, const int *b, size_t n, int la, int lb, vs_anova2 *out);

/* Correlation (corr.c): Pearson r with the exact beta p-value, Spearman rho (t approximation),
 * Kendall tau-b (exact without ties for n <= 33, else normal approximation). */
int vs_pearson(const double *x, const double *y, size_t n, vs_alternative alt, vs_result *res);
int vs_spearman(const double *x, const double *y, size_t n, vs_alternative alt, vs_result *res);
int vs_kendall(const double *x, const double *y, size_t n, vs_alternative alt, vs_method method, vs_result *res);

/* Contingency tables (contingency.c): table is r x c, row-major, non-negative counts.
 * lambda_g = 0: Pearson chi-square, 1: G-test (log-likelihood ratio). Yates' correction is
 * applied when `correction` is set and dof = 1 (as scipy.stats.chi2_contingency). */
int vs_chi2_contingency(const double *table, size_t r, size_t c, int correction, int lambda_g, vs_result *res);
/* Fisher's exact test on [[a, b], [c, d]]; statistic = sample odds ratio ad/bc (scipy's). */
int vs_fisher_exact(double a, double b, double c, double d, vs_alternative alt, vs_result *res);

/* ---------------------------------------------------------------------------------------- */
/* Ordinary least squares (ols.c)                                                             */

typedef struct vs_ols {
    size_t n, p;            /* observations, columns (intercept included if any) */
    double *coef, *se, *t, *pval, *ci_lo, *ci_hi; /* p each, owned */
    double r2, adj_r2, F, F_p, df_model, df_resid, sigma, ssr, ess, tss;
    int has_intercept;
    int rank;
    const char *note;
} vs_ols;

/* Fit y = X b by least squares. X is n x p column-major (column j at X + j*n). When
 * `intercept_col` >= 0 that column is the constant term (R^2 is then centred, as statsmodels).
 * Householder QR with column scaling, then iterative refinement of the residual in double-double.
 * Returns 0, or -1 with out->note when X is rank-deficient (singular) or n <= p. */
int vs_ols_fit(const double *X, const double *y, size_t n, size_t p, long intercept_col, double alpha, vs_ols *out);
void vs_ols_free(vs_ols *m);

/* ---------------------------------------------------------------------------------------- */
/* Multiple testing (multitest.c) — statsmodels.stats.multitest.multipletests                 */

typedef enum vs_padjust {
    VS_ADJ_NONE = 0, VS_ADJ_BONFERRONI, VS_ADJ_HOLM, VS_ADJ_HOLM_SIDAK, VS_ADJ_BH, VS_ADJ_BY
} vs_padjust;
/* Adjusted p-values of p[0..n) into out (may alias p). NaN entries are left NaN and excluded
 * from the count. Returns -1 on allocation failure. */
int vs_p_adjust(const double *p, size_t n, vs_padjust method, double *out);
/* Method from its name ("bonferroni", "holm", "holm-sidak", "fdr_bh", "fdr_by", "none"); -1 if unknown. */
int vs_padjust_from_name(const char *name);

/* ---------------------------------------------------------------------------------------- */
/* Effect sizes with confidence intervals (effect.c)                                           */

typedef struct vs_effect {
    double value, lo, hi;
    const char *name;     /* "cohen_d", "hedges_g", "rank_biserial", "eta_squared", ... */
} vs_effect;

/* Cohen's d (pooled sd) and Hedges' g with normal-approximation CIs (Hedges & Olkin). */
void vs_effect_cohen_d(const double *x, size_t nx, const double *y, size_t ny, double level, vs_effect *d, vs_effect *g);
/* Paired: d_z = mean(diff) / sd(diff). */
void vs_effect_paired_d(const double *d, size_t n, double level, vs_effect *out);
/* Rank-biserial correlation from U1: 2 U1/(nx ny) - 1, CI via Fisher z of its normal-theory SE. */
void vs_effect_rank_biserial(double u1, size_t nx, size_t ny, double level, vs_effect *out);
/* eta^2 and omega^2 from a one-way ANOVA F; CI for eta^2 by the Fisher-z-free percentile of F. */
void vs_effect_eta_omega(double F, double df1, double df2, double level, vs_effect *eta2, vs_effect *omega2);
/* r with the Fisher z interval. */
void vs_effect_r(double r, size_t n, double level, vs_effect *out);
/* Odds ratio with Woolf's log interval (Haldane's +0.5 when a cell is zero). */
void vs_effect_odds_ratio(double a, double b, double c, double d, double level, vs_effect *out);
/* Cramer's V from a chi-square statistic, with the interval of sqrt(chi2 / (n (k-1))) mapped
 * from a normal interval on chi2. */
void vs_effect_cramers_v(double chi2, double n, size_t r, size_t c, double level, vs_effect *out);

/* ---------------------------------------------------------------------------------------- */
/* Bootstrap (bootstrap.c)                                                                    */

/* splitmix64: tiny, seedable, identical in the reference scripts. */
typedef struct vs_rng {
    uint64_t s;
} vs_rng;
uint64_t vs_rng_next(vs_rng *r);
/* Uniform integer in [0, n) without modulo bias (Lemire's method). */
uint64_t vs_rng_below(vs_rng *r, uint64_t n);

typedef enum vs_stat_kind { VS_STAT_MEAN = 0, VS_STAT_MEDIAN, VS_STAT_SD, VS_STAT_MEAN_DIFF } vs_stat_kind;
int vs_stat_kind_from_name(const char *name);

/* Statistic of one or two samples. */
double vs_statistic(vs_stat_kind kind, const double *x, size_t nx, const double *y, size_t ny);

typedef struct vs_boot {
    double estimate, lo, hi, se, bias;
    double z0, accel; /* BCa constants (NaN for percentile) */
    const char *note;
} vs_boot;

/* Percentile (bca = 0) or BCa (bca = 1) interval at `level` from B resamples drawn with
 * `seed` (each sample resampled independently, x first). Deterministic for a seed. */
int vs_bootstrap(vs_stat_kind kind, const double *x, size_t nx, const double *y, size_t ny, size_t B, uint64_t seed, double level, int bca, vs_boot *out);
/* The interval from given bootstrap replicates and jackknife values (exposed for testing). */
int vs_boot_interval(double theta, double *reps, size_t B, const double *jack, size_t nj, double level, int bca, vs_boot *out);

#ifdef __cplusplus
}
#endif
#endif /* VS_STATS_H */
