/* corr.c — Pearson (exact beta p-value), Spearman (t approximation) and Kendall tau-b correlation tests. */
#include "stats_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* r = Sxy / sqrt(Sxx Syy) with every sum in double-double about double-double means; the
 * double-double r is kept so that 1 - |r| (which decides p next to |r| = 1) has its digits. */
static vs_dd pearson_r_dd(const double *x, const double *y, size_t n, int *const_input) {
    vs_dd mx, my, sxx, syy;
    vsi_mean_ss(x, n, &mx, &sxx);
    vsi_mean_ss(y, n, &my, &syy);
    vs_dd sxy = dd_d(0.0);
    for (size_t i = 0; i < n; i++) sxy = dd_add(sxy, dd_mul(dd_sub(dd_d(x[i]), mx), dd_sub(dd_d(y[i]), my)));
    int cx = 1, cy = 1;
    for (size_t i = 1; i < n; i++) {
        if (x[i] != x[0]) cx = 0;
        if (y[i] != y[0]) cy = 0;
    }
    *const_input = cx || cy;
    if (*const_input) return dd_d(NAN);
    vs_dd r = dd_div(sxy, dd_sqrt(dd_mul(sxx, syy)));
    /* within the double-double rounding of +-1 (1e-30) the data are exactly collinear */
    if (r.hi >= 1.0 || 1.0 - r.hi - r.lo <= 1e-30) r = dd_d(1.0);
    if (r.hi <= -1.0 || 1.0 + r.hi + r.lo <= 1e-30) r = dd_d(-1.0);
    return r;
}

static double pearson_r(const double *x, const double *y, size_t n, int *const_input) {
    return dd_to_d(pearson_r_dd(x, y, n, const_input));
}

int vs_pearson(const double *x, const double *y, size_t n, vs_alternative alt, vs_result *res) {
    vs_result_init(res);
    if (n < 2) {
        res->note = "needs at least 2 pairs";
        return -1;
    }
    int c;
    vs_dd rd = pearson_r_dd(x, y, n, &c);
    double r = dd_to_d(rd);
    res->statistic = r;
    res->df = (double)n - 2.0;
    res->method = "exact";
    if (c) {
        res->note = "an input is constant: the correlation is undefined (r = p = NaN)";
        return -1;
    }
    if (n == 2) {
        res->statistic = r > 0 ? 1.0 : -1.0;
        res->p = 1.0;
        res->note = "two pairs always correlate perfectly (p = 1)";
        return 0;
    }
    /* (1 + r)/2 ~ Beta(n/2 - 1, n/2 - 1); tails in the far side computed from (1 - |r|)/2 */
    double ab = (double)n / 2.0 - 1.0;
    vs_dd ar = rd.hi < 0 ? dd_neg(rd) : rd;
    vs_dd xlo = dd_mul_d(dd_sub(dd_d(1.0), ar), 0.5), xhi = dd_mul_d(dd_add_d(ar, 1.0), 0.5);
    double small = vsi_ibeta_tail(ab, ab, xlo, xhi, 0, 0); /* P(R >= |r|) = P(R <= -|r|) */
    double big = vsi_ibeta_tail(ab, ab, xlo, xhi, 1, 0);   /* P(R <= |r|) */
    double cdf = r >= 0 ? big : small, sf = r >= 0 ? small : big;
    res->p = vs_p_from_tails(cdf, sf, alt);
    return 0;
}

int vs_spearman(const double *x, const double *y, size_t n, vs_alternative alt, vs_result *res) {
    vs_result_init(res);
    if (n < 2) {
        res->note = "needs at least 2 pairs";
        return -1;
    }
    double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry);
    if (!rx || !ry) {
        free(rx);
        free(ry);
        res->note = "out of memory";
        return -1;
    }
    vs_rankdata(x, n, rx);
    vs_rankdata(y, n, ry);
    int c;
    double r = pearson_r(rx, ry, n, &c);
    free(rx);
    free(ry);
    res->statistic = r;
    res->df = (double)n - 2.0;
    res->method = "t";
    if (c) {
        res->note = "an input is constant (all ranks tied): the correlation is undefined (p = NaN)";
        return -1;
    }
    double dof = (double)n - 2.0;
    double q = dof / ((r + 1.0) * (1.0 - r));
    double t = r * sqrt(q < 0 ? 0 : q);
    res->z = t;
    res->p = vsi_t_pvalue(t, dof, alt);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */

typedef struct {
    double x, y;
} pair;

static int cmp_xy(const void *a, const void *b) {
    const pair *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    if (p->y != q->y) return p->y < q->y ? -1 : 1;
    return 0;
}

/* Strict inversions of y (pairs i < j with y_i > y_j) by merge sort. */
static double count_inversions(double *y, double *tmp, size_t n) {
    if (n < 2) return 0.0;
    size_t h = n / 2;
    double c = count_inversions(y, tmp, h) + count_inversions(y + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        if (y[j] < y[i]) {
            c += (double)(h - i);
            tmp[k++] = y[j++];
        } else {
            tmp[k++] = y[i++];
        }
    }
    while (i < h) tmp[k++] = y[i++];
    while (j < n) tmp[k++] = y[j++];
    memcpy(y, tmp, n * sizeof *y);
    return c;
}

/* Ties in a sorted array: sum t(t-1)/2, sum t(t-1)(t-2), sum t(t-1)(2t+5). */
static void tie_sums(const double *s, size_t n, double *t0, double *t1, double *t2) {
    *t0 = *t1 = *t2 = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && s[j] == s[i]) j++;
        double t = (double)(j - i);
        *t0 += t * (t - 1.0) / 2.0;
        *t1 += t * (t - 1.0) * (t - 2.0);
        *t2 += t * (t - 1.0) * (2.0 * t + 5.0);
        i = j;
    }
}

/* P(C <= c) etc. for the number of concordant pairs without ties: Mahonian numbers built as
 * probabilities, P_j(k) = (1/j) sum_{i < j} P_{j-1}(k - i), so every step is an average. */
static double kendall_p_exact(size_t n, double con, vs_alternative alt) {
    double tot = (double)n * (double)(n - 1) / 2.0;
    int in_right = con >= tot - con;
    double cc = con < tot - con ? con : tot - con;
    size_t c = (size_t)cc;
    double prob, mass;
    if (n == 1) {
        prob = 1.0;
        mass = 1.0;
    } else if (n == 2) {
        prob = 1.0;
        mass = 0.5;
    } else if (4.0 * cc == tot * 2.0 && alt == VS_TWO_SIDED) {
        prob = 1.0;
        mass = 0.0;
    } else {
        double *P = calloc(c + 1, sizeof *P), *Q = calloc(c + 1, sizeof *Q);
        if (!P || !Q) {
            free(P);
            free(Q);
            return NAN;
        }
        P[0] = 1.0;
        for (size_t j = 2; j <= n; j++) {
            double run = 0.0;
            for (size_t k = 0; k <= c; k++) {
                run += P[k];
                if (k >= j) run -= P[k - j];
                Q[k] = run / (double)j;
            }
            double *t = P;
            P = Q;
            Q = t;
        }
        double s = 0.0;
        for (size_t k = 0; k <= c; k++) s += P[k];
        prob = 2.0 * s;
        mass = P[c];
        free(P);
        free(Q);
    }
    if (alt != VS_TWO_SIDED) {
        if (in_right == (alt == VS_GREATER)) prob /= 2.0;
        else prob = 1.0 - prob / 2.0 + mass;
    }
    if (prob > 1.0) prob = 1.0;
    if (prob < 0.0) prob = 0.0;
    return prob;
}

int vs_kendall(const double *x, const double *y, size_t n, vs_alternative alt, vs_method method, vs_result *res) {
    vs_result_init(res);
    if (n < 2) {
        res->note = "needs at least 2 pairs";
        return -1;
    }
    pair *pr = malloc(n * sizeof *pr);
    double *ys = malloc(n * sizeof *ys), *tmp = malloc(n * sizeof *tmp), *xs = malloc(n * sizeof *xs);
    if (!pr || !ys || !tmp || !xs) {
        free(pr);
        free(ys);
        free(tmp);
        free(xs);
        res->note = "out of memory";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        pr[i].x = x[i];
        pr[i].y = y[i];
    }
    qsort(pr, n, sizeof *pr, cmp_xy);
    double ntie = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && pr[j].x == pr[i].x && pr[j].y == pr[i].y) j++;
        double t = (double)(j - i);
        ntie += t * (t - 1.0) / 2.0;
        i = j;
    }
    for (size_t i = 0; i < n; i++) {
        ys[i] = pr[i].y;
        xs[i] = pr[i].x;
    }
    double xt, x0, x1, yt, y0, y1;
    tie_sums(xs, n, &xt, &x0, &x1);
    double dis = count_inversions(ys, tmp, n); /* ys is now sorted */
    tie_sums(ys, n, &yt, &y0, &y1);
    free(pr);
    free(ys);
    free(tmp);
    free(xs);
    double nd = (double)n, tot = nd * (nd - 1.0) / 2.0;
    if (xt == tot || yt == tot) {
        res->note = "an input is constant (all ranks tied): tau is undefined (p = NaN)";
        return -1;
    }
    double cmd = tot - xt - yt + ntie - 2.0 * dis;
    double tau = cmd / sqrt(tot - xt) / sqrt(tot - yt);
    if (tau > 1.0) tau = 1.0;
    if (tau < -1.0) tau = -1.0;
    res->statistic = tau;
    int ties = xt != 0 || yt != 0;
    if (method == VS_EXACT && ties) {
        res->note = "ties present: the exact distribution needs distinct values";
        return -1;
    }
    if (method == VS_AUTO) {
        double md = dis < tot - dis ? dis : tot - dis;
        method = !ties && (n <= 33 || md <= 1) ? VS_EXACT : VS_ASYMPTOTIC;
    }
    if (method == VS_EXACT) {
        res->p = kendall_p_exact(n, tot - dis, alt);
        res->method = "exact";
    } else {
        double m = nd * (nd - 1.0);
        double var = (m * (2.0 * nd + 5.0) - x1 - y1) / 18.0 + (2.0 * xt * yt) / m + x0 * y0 / (9.0 * m * (nd - 2.0));
        double z = cmd / sqrt(var);
        res->z = z;
        res->p = vsi_z_pvalue(z, alt);
        res->method = "asymptotic";
    }
    return 0;
}
