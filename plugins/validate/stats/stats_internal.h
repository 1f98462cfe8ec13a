/* stats_internal.h — helpers shared between the files of the statistics library (not part of its API). */
#ifndef VS_STATS_INTERNAL_H
#define VS_STATS_INTERNAL_H

#include "dd.h"
#include "vs_stats.h"

#define VS_PI 3.14159265358979323846
#define VS_LN2 0.69314718055994530942

/* Mean (double-double) and sum of squared deviations from it (double-double). n >= 1. */
void vsi_mean_ss(const double *x, size_t n, vs_dd *mean, vs_dd *ss);

/* Tail of Beta(a,b) at x with y = 1 - x both in double-double (special.c). */
double vsi_ibeta_tail(double a, double b, vs_dd x, vs_dd y, int upper, int log_p);

/* p-value of a t statistic with df degrees of freedom for an alternative. */
double vsi_t_pvalue(double t, double df, vs_alternative alt);

/* p-value of a standard normal statistic for an alternative (scipy's _get_pvalue). */
double vsi_z_pvalue(double z, vs_alternative alt);

/* Sort a copy of x ascending, NaN-free input. Returns malloc'd array or NULL. */
double *vsi_sorted_copy(const double *x, size_t n);

/* Counts of the Wilcoxon signed-rank statistic for n (sum over subsets of {1..n}), length
 * n(n+1)/2 + 1, normalised to probabilities. malloc'd; NULL on failure. */
double *vsi_signrank_pmf(size_t n);

#endif /* VS_STATS_INTERNAL_H */
