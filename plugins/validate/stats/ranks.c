/* ranks.c — ranking with ties, Mann-Whitney U, Wilcoxon signed-rank and Kruskal-Wallis (scipy.stats conventions). */
#include "stats_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double v;
    size_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->v < y->v) return -1;
    if (x->v > y->v) return 1;
    return x->i < y->i ? -1 : (x->i > y->i);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double *vsi_sorted_copy(const double *x, size_t n) {
    double *s = malloc((n ? n : 1) * sizeof *s);
    if (!s) return NULL;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    return s;
}

double vs_rankdata(const double *x, size_t n, double *r) {
    keyed *k = malloc((n ? n : 1) * sizeof *k);
    if (!k) return -1.0;
    for (size_t i = 0; i < n; i++) {
        k[i].v = x[i];
        k[i].i = i;
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    double tie = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && k[j].v == k[i].v) j++;
        double avg = 0.5 * (double)(i + 1 + j); /* mean of ranks i+1 .. j */
        for (size_t m = i; m < j; m++) r[k[m].i] = avg;
        double t = (double)(j - i);
        tie += t * t * t - t;
        i = j;
    }
    free(k);
    return tie;
}

/* ---------------------------------------------------------------------------------------- */
/* Mann-Whitney U                                                                             */

/* P(U <= k) under the null for group sizes m, n, by the recursion on probabilities
 *     p_{a,b}(u) = a/(a+b) p_{a-1,b}(u - b) + b/(a+b) p_{a,b-1}(u),
 * truncated at u <= k. Every step is a convex combination, so tail probabilities of 1e-20
 * keep full relative accuracy (the textbook polynomial recursion with subtractions does not).
 * The outer loop runs over the larger group so that memory is 2 (min(m,n)+1) (k+1) doubles.
 * Returns NaN when that would exceed ~2e9 operations or memory fails. */
static double mwu_cdf(size_t m, size_t n, size_t k) {
    if (m > n) {
        size_t t = m;
        m = n;
        n = t;
    }
    if ((double)m * (double)n * (double)(k + 1) > 2e9) return NAN;
    size_t W = k + 1;
    double *prev = calloc((m + 1) * W, sizeof *prev), *cur = calloc((m + 1) * W, sizeof *cur);
    if (!prev || !cur) {
        free(prev);
        free(cur);
        return NAN;
    }
    /* a = 0: U = 0 for every b */
    for (size_t b = 0; b <= m; b++) prev[b * W] = 1.0;
    for (size_t a = 1; a <= n; a++) {
        memset(cur, 0, (m + 1) * W * sizeof *cur);
        cur[0] = 1.0;
        for (size_t b = 1; b <= m; b++) {
            double wa = (double)a / (double)(a + b), wb = (double)b / (double)(a + b);
            double *c = cur + b * W, *cl = cur + (b - 1) * W, *pu = prev + b * W;
            for (size_t u = 0; u < W; u++) c[u] = wb * cl[u] + (u >= b ? wa * pu[u - b] : 0.0);
        }
        double *t = prev;
        prev = cur;
        cur = t;
    }
    double s = 0.0;
    for (size_t u = 0; u < W; u++) s += prev[m * W + u];
    free(prev);
    free(cur);
    return s;
}

/* P(U >= u) for integer u, summing the shorter side (the null distribution is symmetric). */
static double mwu_sf(size_t m, size_t n, double u) {
    double mn = (double)m * (double)n;
    if (u <= 0) return 1.0;
    if (u > mn) return 0.0;
    if (2.0 * u >= mn) return mwu_cdf(m, n, (size_t)(mn - u));
    return 1.0 - mwu_cdf(m, n, (size_t)u - 1);
}

int vs_mannwhitneyu(const double *x, size_t nx, const double *y, size_t ny, vs_alternative alt, vs_method method, int continuity, vs_result *res) {
    vs_result_init(res);
    if (nx == 0 || ny == 0) {
        res->note = "each group needs at least 1 observation";
        return -1;
    }
    size_t n = nx + ny;
    double *all = malloc(n * sizeof *all), *r = malloc(n * sizeof *r);
    if (!all || !r) {
        free(all);
        free(r);
        res->note = "out of memory";
        return -1;
    }
    memcpy(all, x, nx * sizeof *all);
    memcpy(all + nx, y, ny * sizeof *all);
    double tie = vs_rankdata(all, n, r);
    double R1 = 0.0;
    for (size_t i = 0; i < nx; i++) R1 += r[i];
    free(all);
    free(r);
    double n1 = (double)nx, n2 = (double)ny;
    double U1 = R1 - n1 * (n1 + 1.0) / 2.0, U2 = n1 * n2 - U1;
    double U, f;
    if (alt == VS_GREATER) U = U1, f = 1.0;
    else if (alt == VS_LESS) U = U2, f = 1.0;
    else U = U1 > U2 ? U1 : U2, f = 2.0;
    if (method == VS_AUTO) method = (nx > 8 && ny > 8) || tie > 0 ? VS_ASYMPTOTIC : VS_EXACT;
    res->statistic = U1;
    double p;
    if (method == VS_EXACT) {
        /* scipy truncates a tied (half-integer) U to an integer for the exact distribution */
        p = mwu_sf(nx, ny, floor(U));
        res->method = "exact";
        if (isnan(p)) {
            res->note = "samples too large for the exact distribution; use method=asymptotic";
            return -1;
        }
        if (tie > 0) res->note = "exact distribution assumes no ties; ties present";
    } else {
        double mu = n1 * n2 / 2.0, N = n1 + n2;
        double s = sqrt(n1 * n2 / 12.0 * ((N + 1.0) - tie / (N * (N - 1.0))));
        double num = U - mu;
        if (continuity) num -= 0.5;
        double z = num / s;
        res->z = z;
        p = vs_norm_sf(z);
        res->method = "asymptotic";
        if (s == 0) res->note = "all values tied: no information (p = 1)";
    }
    p *= f;
    if (p > 1.0) p = 1.0;
    if (p < 0.0) p = 0.0;
    res->p = p;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Wilcoxon signed-rank                                                                       */

double *vsi_signrank_pmf(size_t n) {
    size_t L = n * (n + 1) / 2 + 1;
    double *c = calloc(L, sizeof *c);
    if (!c) return NULL;
    c[0] = 1.0;
    size_t deg = 0;
    for (size_t i = 1; i <= n; i++) {
        /* multiply by (1 + q^i), halving so the entries stay probabilities */
        for (size_t j = deg + i; j >= i; j--) {
            c[j] = 0.5 * (c[j] + c[j - i]);
            if (j == i) break;
        }
        for (size_t j = 0; j < i && j <= deg; j++) c[j] *= 0.5;
        deg += i;
    }
    return c;
}

int vs_wilcoxon(const double *d, size_t n, vs_zero_method zm, int correction, vs_alternative alt, vs_method method, vs_result *res) {
    vs_result_init(res);
    if (n == 0) {
        res->note = "no observations";
        return -1;
    }
    size_t n_zero = 0;
    for (size_t i = 0; i < n; i++) n_zero += d[i] == 0;
    if (method == VS_AUTO && n > 50) method = VS_ASYMPTOTIC;
    /* the values that are ranked: without zeros for "wilcox", all of them otherwise */
    size_t m = zm == VS_ZERO_WILCOX ? n - n_zero : n;
    if (m == 0) {
        res->statistic = 0.0;
        res->note = "all differences are zero: no information (p = NaN)";
        return -1;
    }
    double *a = malloc(m * sizeof *a), *r = malloc(m * sizeof *r), *sg = malloc(m * sizeof *sg);
    if (!a || !r || !sg) {
        free(a);
        free(r);
        free(sg);
        res->note = "out of memory";
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (zm == VS_ZERO_WILCOX && d[i] == 0) continue;
        a[k] = fabs(d[i]);
        sg[k] = d[i] > 0 ? 1.0 : (d[i] < 0 ? -1.0 : 0.0);
        k++;
    }
    double tie = vs_rankdata(a, m, r);
    double rp = 0.0, rm = 0.0, rz = 0.0;
    for (size_t i = 0; i < m; i++) {
        if (sg[i] > 0) rp += r[i];
        else if (sg[i] < 0) rm += r[i];
        else rz += r[i];
    }
    int has_ties = tie > 0;
    double cnt = (double)m;
    double mn = cnt * (cnt + 1.0) * 0.25, se = cnt * (cnt + 1.0) * (2.0 * cnt + 1.0);
    if (zm == VS_ZERO_ZSPLIT) {
        rp += rz / 2.0;
        rm += rz / 2.0;
    }
    if (zm == VS_ZERO_PRATT && n_zero > 0) {
        double z0 = (double)n_zero;
        mn -= z0 * (z0 + 1.0) * 0.25;
        se -= z0 * (z0 + 1.0) * (2.0 * z0 + 1.0);
        tie -= z0 * z0 * z0 - z0; /* the zeros' own tie group is not a tie correction */
    }
    se = sqrt((se - tie / 2.0) / 24.0);
    double z = (rp - mn) / se;
    if (method == VS_AUTO) {
        if (!has_ties && n_zero == 0) method = VS_EXACT;
        else if (n <= 13) method = (vs_method)3; /* exact enumeration of all sign flips */
        else method = VS_ASYMPTOTIC;
    }
    double p;
    if (method == VS_ASYMPTOTIC) {
        if (correction) {
            double sign = alt == VS_GREATER ? 1.0 : alt == VS_LESS ? -1.0 : (z > 0) - (z < 0);
            z -= sign * 0.5 / se;
        }
        p = vsi_z_pvalue(z, alt);
        res->method = "asymptotic";
        res->z = alt == VS_TWO_SIDED ? -fabs(z) : z;
        if (se == 0) res->note = "all ranks tied with zero spread (p = NaN)";
    } else if (method == VS_EXACT) {
        double *pmf = vsi_signrank_pmf(m);
        if (!pmf) {
            free(a);
            free(r);
            free(sg);
            res->note = "out of memory";
            return -1;
        }
        size_t top = m * (m + 1) / 2;
        double hi = floor(rp), lo = ceil(rp);
        double sf = 0.0, cdf = 0.0;
        for (size_t j = 0; j <= top; j++) {
            if ((double)j >= hi) sf += pmf[j];
            if ((double)j <= lo) cdf += pmf[j];
        }
        free(pmf);
        p = vs_p_from_tails(cdf > 1 ? 1 : cdf, sf > 1 ? 1 : sf, alt);
        res->method = "exact";
        if (has_ties || n_zero) res->note = "exact distribution assumes no ties or zeros";
    } else {
        /* all 2^n sign assignments (n <= 13): scipy's exhaustive permutation test */
        size_t total = (size_t)1 << m;
        double obs = rp, gamma = fabs(1e-14 * obs) ;
        double base = zm == VS_ZERO_ZSPLIT ? rz / 2.0 : 0.0;
        size_t nle = 0, nge = 0;
        for (size_t mask = 0; mask < total; mask++) {
            double s = base;
            for (size_t i = 0; i < m; i++) {
                if (sg[i] == 0) continue;
                if (mask & ((size_t)1 << i)) s += r[i];
            }
            nle += s <= obs + gamma;
            nge += s >= obs - gamma;
        }
        /* a zero difference flips onto itself: count each distinct assignment once per flip of
         * a zero, which leaves the proportions unchanged */
        double pl = (double)nle / (double)total, pg = (double)nge / (double)total;
        p = alt == VS_LESS ? pl : alt == VS_GREATER ? pg : 2.0 * (pl < pg ? pl : pg);
        if (p > 1.0) p = 1.0;
        res->method = "permutation";
    }
    free(a);
    free(r);
    free(sg);
    res->statistic = alt == VS_TWO_SIDED ? (rp < rm ? rp : rm) : rp;
    res->p = p;
    return isnan(p) ? -1 : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Kruskal-Wallis                                                                             */

int vs_kruskal(const double *const *groups, const size_t *ns, size_t k, vs_result *res) {
    vs_result_init(res);
    if (k < 2) {
        res->note = "needs at least two groups";
        return -1;
    }
    size_t N = 0;
    for (size_t g = 0; g < k; g++) {
        if (ns[g] == 0) {
            res->note = "a group is empty";
            return -1;
        }
        N += ns[g];
    }
    double *all = malloc(N * sizeof *all), *r = malloc(N * sizeof *r);
    if (!all || !r) {
        free(all);
        free(r);
        res->note = "out of memory";
        return -1;
    }
    size_t o = 0;
    for (size_t g = 0; g < k; g++) {
        memcpy(all + o, groups[g], ns[g] * sizeof *all);
        o += ns[g];
    }
    double tie = vs_rankdata(all, N, r);
    double Nd = (double)N, mid = (Nd + 1.0) / 2.0, h = 0.0;
    o = 0;
    for (size_t g = 0; g < k; g++) {
        double s = 0.0;
        for (size_t i = 0; i < ns[g]; i++) s += r[o + i] - mid;
        h += s * s / (double)ns[g]; /* n_g (mean rank - (N+1)/2)^2, without cancellation */
        o += ns[g];
    }
    free(all);
    free(r);
    h *= 12.0 / (Nd * (Nd + 1.0));
    double c = 1.0 - tie / (Nd * Nd * Nd - Nd);
    res->df = (double)(k - 1);
    res->method = "asymptotic";
    if (c == 0) {
        res->statistic = NAN;
        res->note = "all values tied: H is 0/0 (p = NaN)";
        return -1;
    }
    res->statistic = h / c;
    res->p = vs_chi2_sf(res->statistic, res->df);
    return 0;
}
