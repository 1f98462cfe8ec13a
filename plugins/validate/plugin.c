/* plugin.c — the validate plugin's descriptor: its ops, their ports, params and published values. */
#include "vp.h"

#define P(name, type, def, min, max, choices, doc) {sizeof(sl_param_desc), name, type, def, min, max, choices, doc}
#define IN(name, type, flags, doc) {sizeof(sl_port_desc), name, type, flags, doc, NULL}
#define OUT(name, type, doc, cmp) {sizeof(sl_port_desc), name, type, 0, doc, cmp}

#define LEVEL P("level", SL_PARAM_FLOAT, "0.95", "0.5", "0.9999", NULL, "Confidence level of effect-size intervals.")
#define ALT P("alternative", SL_PARAM_ENUM, "two-sided", NULL, NULL, "two-sided|less|greater", \
              "Alternative hypothesis: first group (or x) less or greater than the second, or different.")

static const sl_port_desc data_in[] = {IN("data", "table", 0, "CSV table with a header row holding the columns named by the params.")};
static const sl_port_desc test_out[] = {
    OUT("report", "report", "report.json (statistic, p, effect size with CI, descriptives) and report.md.", NULL),
    OUT("results", "table", "One row: test, statistic, p, df, method, effect size and interval, estimate, n, note.", "table:rel=1e-12")};

static const sl_param_desc compare_params[] = {
    P("test", SL_PARAM_ENUM, "welch", NULL, NULL, "student|welch|paired|mannwhitney|wilcoxon", "Which two-sample or paired test."),
    P("value", SL_PARAM_STRING, "", NULL, NULL, NULL, "Long format: the column of values (with 'group')."),
    P("group", SL_PARAM_STRING, "", NULL, NULL, NULL, "Long format: the column naming each row's group."),
    P("groups", SL_PARAM_LIST, "", NULL, NULL, NULL, "Long format: the two groups to compare, first minus second (default: the first two seen)."),
    P("x", SL_PARAM_STRING, "", NULL, NULL, NULL, "Wide format: first sample's column (paired tests pair rows)."),
    P("y", SL_PARAM_STRING, "", NULL, NULL, NULL, "Wide format: second sample's column."),
    ALT,
    P("method", SL_PARAM_ENUM, "auto", NULL, NULL, "auto|exact|asymptotic",
      "Rank tests: exact null distribution, normal approximation, or scipy's automatic choice."),
    P("zero_method", SL_PARAM_ENUM, "wilcox", NULL, NULL, "wilcox|pratt|zsplit", "Wilcoxon: how zero differences are treated."),
    P("continuity", SL_PARAM_BOOL, "true", NULL, NULL, NULL, "Mann-Whitney normal approximation: apply the 1/2 continuity correction."),
    LEVEL};

static const sl_param_desc anova_params[] = {
    P("test", SL_PARAM_ENUM, "anova", NULL, NULL, "anova|welch_anova|kruskal|twoway", "One-way ANOVA, Welch's ANOVA, Kruskal-Wallis or balanced two-way ANOVA."),
    P("value", SL_PARAM_STRING, "", NULL, NULL, NULL, "The column of values."),
    P("group", SL_PARAM_STRING, "", NULL, NULL, NULL, "One-way: the column naming each row's group."),
    P("factor_a", SL_PARAM_STRING, "", NULL, NULL, NULL, "Two-way: the first factor's column."),
    P("factor_b", SL_PARAM_STRING, "", NULL, NULL, NULL, "Two-way: the second factor's column."),
    LEVEL};

static const sl_param_desc regression_params[] = {
    P("y", SL_PARAM_STRING, "", NULL, NULL, NULL, "The response column."),
    P("x", SL_PARAM_LIST, "", NULL, NULL, NULL, "Regressor columns (empty with intercept: the mean-only model)."),
    P("degree", SL_PARAM_INT, "1", "1", "20", NULL, "Polynomial degree in the single x column (x, x^2, ..., x^degree)."),
    P("intercept", SL_PARAM_BOOL, "true", NULL, NULL, NULL, "Include a constant term (R^2 is then centred)."),
    P("level", SL_PARAM_FLOAT, "0.95", "0.5", "0.9999", NULL, "Confidence level of coefficient intervals.")};
static const sl_port_desc regression_out[] = {
    OUT("report", "report", "report.json (coefficients, R^2, adjusted R^2, F, p) and report.md.", NULL),
    OUT("coefficients", "table", "term, coef, se, t, p, ci_low, ci_high.", "table:rel=1e-12")};

static const sl_param_desc correlation_params[] = {
    P("test", SL_PARAM_ENUM, "pearson", NULL, NULL, "pearson|spearman|kendall", "Pearson r, Spearman rho or Kendall tau-b."),
    P("x", SL_PARAM_STRING, "", NULL, NULL, NULL, "First column."),
    P("y", SL_PARAM_STRING, "", NULL, NULL, NULL, "Second column."),
    ALT,
    P("method", SL_PARAM_ENUM, "auto", NULL, NULL, "auto|exact|asymptotic", "Kendall: exact null distribution or normal approximation."),
    LEVEL};

static const sl_param_desc contingency_params[] = {
    P("test", SL_PARAM_ENUM, "chi2", NULL, NULL, "chi2|gtest|fisher", "Pearson chi-square, G-test (likelihood ratio) or Fisher's exact (2x2)."),
    P("x", SL_PARAM_STRING, "", NULL, NULL, NULL, "Categorical column giving the table's rows."),
    P("y", SL_PARAM_STRING, "", NULL, NULL, NULL, "Categorical column giving the table's columns."),
    P("correction", SL_PARAM_BOOL, "true", NULL, NULL, NULL, "Yates' continuity correction when the table has one degree of freedom."),
    P("alternative", SL_PARAM_ENUM, "two-sided", NULL, NULL, "two-sided|less|greater", "Fisher: odds ratio less or greater than 1, or different."),
    LEVEL};

static const sl_port_desc hyp_in[] = {
    IN("data", "table", 0, "The measurements the hypotheses are about."),
    IN("hypotheses", "table", 0, "id, test, columns, and optionally direction, threshold, alpha, primary.")};
static const sl_port_desc hyp_out[] = {
    OUT("report", "report", "report.json with per-hypothesis verdicts and the rule behind each; report.md.", NULL),
    OUT("verdicts", "table", "One row per hypothesis: statistic, p, adjusted p, effect size and CI, verdict, rule.", "table:rel=1e-12")};
static const sl_param_desc hyp_params[] = {
    P("adjust", SL_PARAM_ENUM, "holm", NULL, NULL, "none|bonferroni|holm|holm-sidak|fdr_bh|fdr_by", "Multiple-testing correction across the hypotheses."),
    P("alpha", SL_PARAM_FLOAT, "0.05", "1e-12", "0.5", NULL, "Significance level for rows without their own alpha."),
    LEVEL};

static const sl_port_desc rep_in[] = {
    IN("expected", "any", 0, "The recorded output (a table, safetensors file, text file or directory)."),
    IN("actual", "any", 0, "The re-computed output of the same kind.")};
static const sl_port_desc rep_out[] = {
    OUT("report", "report", "report.json with the verdict and every listed difference; report.md.", NULL),
    OUT("differences", "table", "file, where, column, expected, actual, abs_diff, rel_diff, ulps, tolerance.", NULL)};
static const sl_param_desc rep_params[] = {
    P("tolerance", SL_PARAM_STRING, "exact", NULL, NULL, NULL, "Default policy: exact, abs:V, rel:V or ulps:V."),
    P("columns", SL_PARAM_LIST, "", NULL, NULL, NULL, "Per-column policies for tables, e.g. 'loss=rel:1e-6, step=exact'."),
    P("max_listed", SL_PARAM_INT, "1000", "0", "10000000", NULL, "At most this many differences are listed (all are counted).")};

static const sl_param_desc boot_params[] = {
    P("statistic", SL_PARAM_ENUM, "mean", NULL, NULL, "mean|median|sd|mean_diff", "The statistic whose interval is wanted."),
    P("value", SL_PARAM_STRING, "", NULL, NULL, NULL, "The column to resample (with 'group' for mean_diff in long format)."),
    P("group", SL_PARAM_STRING, "", NULL, NULL, NULL, "mean_diff, long format: the group column."),
    P("groups", SL_PARAM_LIST, "", NULL, NULL, NULL, "mean_diff, long format: the two groups, first minus second."),
    P("x", SL_PARAM_STRING, "", NULL, NULL, NULL, "mean_diff, wide format: first sample's column."),
    P("y", SL_PARAM_STRING, "", NULL, NULL, NULL, "mean_diff, wide format: second sample's column."),
    P("method", SL_PARAM_ENUM, "bca", NULL, NULL, "percentile|bca", "Percentile or bias-corrected and accelerated interval."),
    P("resamples", SL_PARAM_INT, "9999", "100", "10000000", NULL, "Number of bootstrap resamples."),
    P("seed", SL_PARAM_INT, "-1", "-1", NULL, NULL, "Random seed; -1 uses the step's seed (stable across re-runs)."),
    LEVEL};
static const sl_port_desc boot_out[] = {
    OUT("report", "report", "report.json (estimate, interval, se, bias, BCa constants) and report.md.", NULL),
    OUT("results", "table", "statistic, estimate, ci_low, ci_high, se, bias, method, level, resamples, seed.", "table:rel=1e-12")};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DET SL_OP_DETERMINISTIC

static const sl_op_desc ops[] = {
    {sizeof(sl_op_desc), "compare", "Two-sample and paired tests: Student, Welch, paired t, Mann-Whitney U, Wilcoxon signed-rank.",
     "Reads the two samples from one table (long format: value + group; wide: x + y), runs the test with scipy.stats' "
     "conventions, and reports the statistic, p-value, Hedges' g / d_z / rank-biserial effect size with its interval, and "
     "each group's n, mean and sd.",
     data_in, N(data_in), test_out, N(test_out), compare_params, N(compare_params), DET, vp_op_compare, NULL},
    {sizeof(sl_op_desc), "anova", "One-way ANOVA, Welch's ANOVA, Kruskal-Wallis, or balanced two-way ANOVA with interaction.",
     "k groups from a value and a group column; eta^2 with a noncentral-F interval (one-way) or epsilon^2 (Kruskal-Wallis). "
     "test=twoway needs factor_a and factor_b and a balanced design.",
     data_in, N(data_in), test_out, N(test_out), anova_params, N(anova_params), DET, vp_op_anova, NULL},
    {sizeof(sl_op_desc), "regression", "Ordinary least squares: coefficients, standard errors, t, p, intervals, R^2, adjusted R^2, F.",
     "Householder QR with column pivoting in double-double precision, so even degree-10 polynomial fits keep their digits. "
     "A singular design is refused with the name of the dependent term.",
     data_in, N(data_in), regression_out, N(regression_out), regression_params, N(regression_params), DET, vp_op_regression, NULL},
    {sizeof(sl_op_desc), "correlation", "Pearson (exact beta p-value), Spearman and Kendall tau-b correlation tests.", NULL,
     data_in, N(data_in), test_out, N(test_out), correlation_params, N(correlation_params), DET, vp_op_correlation, NULL},
    {sizeof(sl_op_desc), "contingency", "Chi-square (Yates at 1 df) and G tests of independence, Fisher's exact test with the odds ratio.",
     "The table is cross-tabulated from two categorical columns; Cramer's V (chi-square, G) or the odds ratio (Fisher) with an interval.",
     data_in, N(data_in), test_out, N(test_out), contingency_params, N(contingency_params), DET, vp_op_contingency, NULL},
    {sizeof(sl_op_desc), "hypotheses", "Test a table of hypotheses, correct for multiplicity, and give each a verdict.",
     "Each row names a test, its columns, a direction, an effect-size threshold and alpha. The report gives statistic, p, "
     "adjusted p, effect size with interval and a verdict supported|refuted|inconclusive with the rule that produced it. "
     "Publishes 'verdict': supported when every primary hypothesis is supported, refuted when any is refuted, else inconclusive.",
     hyp_in, N(hyp_in), hyp_out, N(hyp_out), hyp_params, N(hyp_params), DET, vp_op_hypotheses, "verdict"},
    {sizeof(sl_op_desc), "replicate", "Compare two runs' outputs under a tolerance policy and report every difference.",
     "Tables cell by cell (per-column exact/abs/rel/ulps), safetensors element by element, text line by line, directories file by "
     "file. Publishes 'verdict': identical, within_tolerance or different.",
     rep_in, N(rep_in), rep_out, N(rep_out), rep_params, N(rep_params), DET, vp_op_replicate, "verdict"},
    {sizeof(sl_op_desc), "bootstrap", "Seeded percentile or BCa bootstrap interval for a mean, median, sd or difference of means.", NULL,
     data_in, N(data_in), boot_out, N(boot_out), boot_params, N(boot_params), DET, vp_op_bootstrap, NULL},
};

static const sl_plugin plugin = {sizeof(sl_plugin), SL_ABI_MAJOR, SL_ABI_MINOR, "validate", "1.0.0", "MIT",
                                 "Statistical validation of results: tests, effect sizes, multiplicity, verdicts, replication checks.",
                                 ops, N(ops)};

SL_PLUGIN_DEFINE(plugin)
