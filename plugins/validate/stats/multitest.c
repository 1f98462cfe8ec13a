/* multitest.c — adjusted p-values: Bonferroni, Holm, Holm-Sidak, Benjamini-Hochberg, Benjamini-Yekutieli. */
#include "stats_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Definitions follow statsmodels.stats.multitest.multipletests; adjusted values are capped at 1
 * and made monotone in the order of the raw p-values (step-down for Holm, step-up for FDR). */

typedef struct {
    double p;
    size_t i;
} ranked_p;

static int cmp_rp(const void *a, const void *b) {
    const ranked_p *x = a, *y = b;
    if (x->p < y->p) return -1;
    if (x->p > y->p) return 1;
    return x->i < y->i ? -1 : (x->i > y->i);
}

int vs_padjust_from_name(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "none")) return VS_ADJ_NONE;
    if (!strcmp(s, "bonferroni")) return VS_ADJ_BONFERRONI;
    if (!strcmp(s, "holm")) return VS_ADJ_HOLM;
    if (!strcmp(s, "holm-sidak")) return VS_ADJ_HOLM_SIDAK;
    if (!strcmp(s, "fdr_bh")) return VS_ADJ_BH;
    if (!strcmp(s, "fdr_by")) return VS_ADJ_BY;
    return -1;
}

int vs_p_adjust(const double *p, size_t n, vs_padjust method, double *out) {
    ranked_p *r = malloc((n ? n : 1) * sizeof *r);
    if (!r) return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(p[i])) {
            r[m].p = p[i];
            r[m].i = i;
            m++;
        }
    for (size_t i = 0; i < n; i++)
        if (isnan(p[i])) out[i] = NAN;
    qsort(r, m, sizeof *r, cmp_rp);
    double md = (double)m;
    double *adj = malloc((m ? m : 1) * sizeof *adj);
    if (!adj) {
        free(r);
        return -1;
    }
    switch (method) {
    case VS_ADJ_NONE:
        for (size_t k = 0; k < m; k++) adj[k] = r[k].p;
        break;
    case VS_ADJ_BONFERRONI:
        for (size_t k = 0; k < m; k++) adj[k] = fmin(1.0, r[k].p * md);
        break;
    case VS_ADJ_HOLM:
    case VS_ADJ_HOLM_SIDAK: {
        double run = 0.0;
        for (size_t k = 0; k < m; k++) {
            double mult = md - (double)k;
            double v = method == VS_ADJ_HOLM ? fmin(1.0, mult * r[k].p) : -expm1(mult * log1p(-r[k].p));
            if (v > run) run = v;
            adj[k] = fmin(1.0, run);
        }
        break;
    }
    case VS_ADJ_BH:
    case VS_ADJ_BY: {
        double c = 1.0;
        if (method == VS_ADJ_BY) {
            c = 0.0;
            for (size_t k = 1; k <= m; k++) c += 1.0 / (double)k;
        }
        double run = INFINITY;
        for (size_t k = m; k-- > 0;) {
            double v = r[k].p * md / (double)(k + 1) * c;
            if (v < run) run = v;
            adj[k] = fmin(1.0, run);
        }
        break;
    }
    }
    for (size_t k = 0; k < m; k++) out[r[k].i] = adj[k];
    free(adj);
    free(r);
    return 0;
}
