/* ols.c — ordinary least squares by Householder QR with column pivoting, carried out in double-double. */
#include "stats_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * A degree-10 polynomial on an interval away from zero has columns so nearly collinear that a
 * double-precision QR leaves few or no correct digits. Doing the factorisation itself in
 * double-double (after scaling every column to unit length) keeps about 32 - log10(cond)
 * digits, so such fits come out with 10+ correct digits at a cost that is irrelevant for the
 * sizes regression is used at (n x p with p of a few dozen). Column pivoting orders the
 * columns by remaining norm, which makes the rank decision meaningful: a column whose
 * remaining norm is below 1e-20 of the largest is declared linearly dependent.
 */

#define RANK_TOL 1e-20

void vs_ols_free(vs_ols *m) {
    if (!m) return;
    free(m->coef);
    m->coef = m->se = m->t = m->pval = m->ci_lo = m->ci_hi = NULL;
}

int vs_ols_fit(const double *X, const double *y, size_t n, size_t p, long intercept_col, double alpha, vs_ols *out) {
    memset(out, 0, sizeof *out);
    out->n = n;
    out->p = p;
    out->rank = 0;
    out->has_intercept = intercept_col >= 0;
    if (p == 0) {
        out->note = "the model has no columns";
        return -1;
    }
    if (n <= p) {
        out->note = "needs more observations than coefficients (no residual degrees of freedom)";
        return -1;
    }
    double *blk = calloc(6 * p, sizeof *blk);
    vs_dd *A = malloc(n * p * sizeof *A), *qy = malloc(n * sizeof *qy), *R = calloc(p * p, sizeof *R);
    vs_dd *Rinv = calloc(p * p, sizeof *Rinv), *z = calloc(p, sizeof *z), *v = malloc(n * sizeof *v);
    double *scale = malloc(p * sizeof *scale), *norms = malloc(p * sizeof *norms);
    size_t *perm = malloc(p * sizeof *perm);
    int rc = -1;
    if (!blk || !A || !qy || !R || !Rinv || !z || !v || !scale || !norms || !perm) {
        out->note = "out of memory";
        goto done;
    }
    out->coef = blk;
    out->se = blk + p;
    out->t = blk + 2 * p;
    out->pval = blk + 3 * p;
    out->ci_lo = blk + 4 * p;
    out->ci_hi = blk + 5 * p;
    for (size_t j = 0; j < p; j++) {
        double s = 0.0, mx = 0.0;
        for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(X[j * n + i]));
        if (mx > 0)
            for (size_t i = 0; i < n; i++) {
                double u = X[j * n + i] / mx;
                s += u * u;
            }
        scale[j] = mx * sqrt(s);
        if (!(scale[j] > 0)) {
            out->note = "singular design: a column is all zeros";
            out->rank = (int)j;
            goto done;
        }
        for (size_t i = 0; i < n; i++) A[j * n + i] = dd_div_d(dd_d(X[j * n + i]), scale[j]);
        perm[j] = j;
    }
    for (size_t i = 0; i < n; i++) qy[i] = dd_d(y[i]);
    double r00 = 0.0;
    for (size_t k = 0; k < p; k++) {
        /* pivot: the remaining column of largest norm */
        size_t best = k;
        double bn = -1.0;
        for (size_t j = k; j < p; j++) {
            vs_dd s = dd_d(0.0);
            for (size_t i = k; i < n; i++) s = dd_add(s, dd_mul(A[j * n + i], A[j * n + i]));
            norms[j] = sqrt(dd_to_d(s));
            if (norms[j] > bn) {
                bn = norms[j];
                best = j;
            }
        }
        if (best != k) {
            for (size_t i = 0; i < n; i++) {
                vs_dd t = A[k * n + i];
                A[k * n + i] = A[best * n + i];
                A[best * n + i] = t;
            }
            for (size_t i = 0; i < k; i++) {
                vs_dd t = R[i * p + k];
                R[i * p + k] = R[i * p + best];
                R[i * p + best] = t;
            }
            size_t t = perm[k];
            perm[k] = perm[best];
            perm[best] = t;
        }
        vs_dd nrm2 = dd_d(0.0);
        for (size_t i = k; i < n; i++) nrm2 = dd_add(nrm2, dd_mul(A[k * n + i], A[k * n + i]));
        vs_dd nrm = dd_sqrt(nrm2);
        if (k == 0) r00 = nrm.hi;
        if (!(nrm.hi > RANK_TOL * r00)) {
            out->rank = (int)k;
            out->note = "singular design: a column is a linear combination of the others";
            goto done;
        }
        /* Householder: v = a - alpha e1 with alpha = -sign(a0) |a| */
        vs_dd alpha_k = A[k * n + k].hi >= 0 ? dd_neg(nrm) : nrm;
        for (size_t i = k; i < n; i++) v[i] = A[k * n + i];
        v[k] = dd_sub(v[k], alpha_k);
        vs_dd vtv = dd_d(0.0);
        for (size_t i = k; i < n; i++) vtv = dd_add(vtv, dd_mul(v[i], v[i]));
        R[k * p + k] = alpha_k;
        for (size_t j = k + 1; j < p; j++) {
            vs_dd s = dd_d(0.0);
            for (size_t i = k; i < n; i++) s = dd_add(s, dd_mul(v[i], A[j * n + i]));
            vs_dd f = dd_div(dd_mul_d(s, 2.0), vtv);
            for (size_t i = k; i < n; i++) A[j * n + i] = dd_sub(A[j * n + i], dd_mul(f, v[i]));
            R[k * p + j] = A[j * n + k];
        }
        vs_dd s = dd_d(0.0);
        for (size_t i = k; i < n; i++) s = dd_add(s, dd_mul(v[i], qy[i]));
        vs_dd f = dd_div(dd_mul_d(s, 2.0), vtv);
        for (size_t i = k; i < n; i++) qy[i] = dd_sub(qy[i], dd_mul(f, v[i]));
    }
    out->rank = (int)p;
    /* back substitution R z = (Q'y)[0:p], and R^{-1} for the covariance */
    for (size_t k = p; k-- > 0;) {
        vs_dd s = qy[k];
        for (size_t j = k + 1; j < p; j++) s = dd_sub(s, dd_mul(R[k * p + j], z[j]));
        z[k] = dd_div(s, R[k * p + k]);
    }
    for (size_t c = 0; c < p; c++) {
        for (size_t k = c + 1; k-- > 0;) {
            vs_dd s = dd_d(k == c ? 1.0 : 0.0);
            for (size_t j = k + 1; j <= c; j++) s = dd_sub(s, dd_mul(R[k * p + j], Rinv[j * p + c]));
            Rinv[k * p + c] = dd_div(s, R[k * p + k]);
        }
    }
    vs_dd ssr = dd_d(0.0);
    for (size_t i = p; i < n; i++) ssr = dd_add(ssr, dd_mul(qy[i], qy[i]));
    double df_resid = (double)(n - p);
    double k_const = out->has_intercept ? 1.0 : 0.0;
    double s2 = dd_to_d(ssr) / df_resid;
    double tq = vs_t_ppf(1.0 - alpha / 2.0, df_resid);
    for (size_t k = 0; k < p; k++) {
        size_t j = perm[k];
        vs_dd rn = dd_d(0.0);
        for (size_t c = k; c < p; c++) rn = dd_add(rn, dd_mul(Rinv[k * p + c], Rinv[k * p + c]));
        double b = dd_to_d(dd_div_d(z[k], scale[j]));
        double se = sqrt(s2 * dd_to_d(rn)) / scale[j];
        out->coef[j] = b;
        out->se[j] = se;
        out->t[j] = b / se;
        out->pval[j] = vsi_t_pvalue(b / se, df_resid, VS_TWO_SIDED);
        out->ci_lo[j] = b - tq * se;
        out->ci_hi[j] = b + tq * se;
    }
    vs_dd tss;
    if (out->has_intercept) {
        vs_dd m;
        vsi_mean_ss(y, n, &m, &tss);
    } else {
        tss = dd_d(0.0);
        for (size_t i = 0; i < n; i++) tss = dd_add(tss, dd_two_prod(y[i], y[i]));
    }
    out->ssr = dd_to_d(ssr);
    out->tss = dd_to_d(tss);
    out->ess = dd_to_d(dd_sub(tss, ssr));
    out->df_resid = df_resid;
    out->df_model = (double)p - k_const;
    out->sigma = sqrt(s2);
    /* in double-double: R^2 of 1e-7 keeps its digits rather than being 1 minus a rounded ratio */
    vs_dd unexplained = dd_div(ssr, tss);
    out->r2 = dd_to_d(dd_sub(dd_d(1.0), unexplained));
    out->adj_r2 = dd_to_d(dd_sub(dd_d(1.0), dd_mul_d(unexplained, ((double)n - k_const) / df_resid)));
    if (out->df_model > 0) {
        out->F = dd_to_d(dd_div(dd_div_d(dd_sub(tss, ssr), out->df_model), dd_div_d(ssr, df_resid)));
        out->F_p = vs_f_sf(out->F, out->df_model, df_resid);
    } else {
        out->F = out->F_p = NAN;
    }
    if (ssr.hi == 0) out->note = "perfect fit: zero residual variance (standard errors are 0, t and p undefined)";
    rc = 0;
done:
    if (rc != 0) {
        free(blk);
        out->coef = out->se = out->t = out->pval = out->ci_lo = out->ci_hi = NULL;
    }
    free(A);
    free(qy);
    free(R);
    free(Rinv);
    free(z);
    free(v);
    free(scale);
    free(norms);
    free(perm);
    return rc;
}
