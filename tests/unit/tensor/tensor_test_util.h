/* tensor_test_util.h — helpers shared by the tensor tests: tensor construction, element access, finite-difference gradient checks. */
#ifndef TENSOR_TEST_UTIL_H
#define TENSOR_TEST_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sciloop/tensor.h>

#include "sl_test.h"

#define OK(x) do { sl_status _s = (x); if (_s != SL_OK) { fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, \
    __LINE__, #x, sl_last_error()); exit(1); } } while (0)

/* New tensor on ctx's device: T(ctx, SL_F32, 3, B, T, C). */
static inline sl_tensor *tt_new(sl_ctx *ctx, sl_dtype dt, int ndim, ...) {
    int64_t shape[SL_MAX_DIMS];
    va_list ap;
    va_start(ap, ndim);
    for (int i = 0; i < ndim; i++) shape[i] = va_arg(ap, int64_t);
    va_end(ap);
    sl_tensor *t;
    OK(sl_tensor_create(ctx, dt, ndim, shape, &t));
    return t;
}
#define T(ctx, dt, nd, ...) tt_new(ctx, dt, nd, __VA_ARGS__)

static inline float *FP(const sl_tensor *t) { return (float *)t->data; }

static uint64_t tt_rng_next = 1000;

/* Fill with N(0, std) from the context's Philox stream at a fresh offset. */
static inline void tt_randn(sl_ctx *ctx, sl_tensor *t, float std) {
    uint64_t off = tt_rng_next;
    tt_rng_next += (uint64_t)sl_tensor_numel(t) + 8;
    OK(sl_tensor_rand_normal(ctx, t, 0.0f, std, off));
}

static inline void tt_rand_uniform(sl_ctx *ctx, sl_tensor *t, float lo, float hi) {
    uint64_t off = tt_rng_next;
    tt_rng_next += (uint64_t)sl_tensor_numel(t) + 8;
    OK(sl_tensor_rand_uniform(ctx, t, lo, hi, off));
}

/* max |a - b| / max(|b|_inf, floor) over two f32 host tensors of equal numel. */
static inline double tt_rel_err(const float *a, const float *b, int64_t n, double floor) {
    double m = floor, d = 0;
    for (int64_t i = 0; i < n; i++) {
        if (fabs(b[i]) > m) m = fabs(b[i]);
        double e = fabs((double)a[i] - (double)b[i]);
        if (e > d || e != e) d = e;
    }
    return d / m;
}

/* ---- finite-difference gradient check ----
 * A case names its float inputs (with their gradient tensors) and one or two outputs; fwd()
 * recomputes the outputs from the inputs, bwd() adds the gradients given douts. The scalar
 * L = sum_k <out_k, R_k> (R random, fixed) is differentiated numerically in f64 with central
 * differences and compared to the analytic gradient. */
typedef struct gc_case gc_case;
struct gc_case {
    const char *name;
    sl_ctx *ctx;
    int nin;
    sl_tensor *in[6], *grad[6];
    int nout;
    sl_tensor *out[2], *dout[2];
    void (*fwd)(gc_case *);
    void (*bwd)(gc_case *);
    void *user;
    double h, tol;
};

static inline double gc_loss(gc_case *c) {
    c->fwd(c);
    double L = 0;
    for (int k = 0; k < c->nout; k++) {
        int64_t n = sl_tensor_numel(c->out[k]);
        const float *o = FP(c->out[k]), *r = FP(c->dout[k]);
        for (int64_t i = 0; i < n; i++) L += (double)o[i] * (double)r[i];
    }
    return L;
}

/* Returns the worst error ratio (|num - ana| / (tol * max(1, |ana|))); checks it is <= 1. */
static inline double gc_run(gc_case *c) {
    if (c->h == 0) c->h = 1e-3;
    if (c->tol == 0) c->tol = 1e-2;
    for (int k = 0; k < c->nout; k++) {
        if (!c->dout[k]) {
            OK(sl_tensor_create(c->ctx, SL_F32, c->out[k]->ndim, c->out[k]->shape, &c->dout[k]));
            tt_randn(c->ctx, c->dout[k], 1.0f);
        }
    }
    c->fwd(c);
    for (int i = 0; i < c->nin; i++)
        if (c->grad[i]) OK(sl_tensor_zero(c->ctx, c->grad[i]));
    c->bwd(c);
    double worst = 0;
    for (int i = 0; i < c->nin; i++) {
        if (!c->grad[i]) continue;
        float *x = FP(c->in[i]);
        int64_t n = sl_tensor_numel(c->in[i]);
        int64_t step = n > 96 ? n / 96 : 1; /* sample at most ~96 elements per input */
        for (int64_t e = 0; e < n; e += step) {
            float x0 = x[e];
            x[e] = x0 + (float)c->h;
            double lp = gc_loss(c);
            x[e] = x0 - (float)c->h;
            double lm = gc_loss(c);
            x[e] = x0;
            double hp = (double)(x0 + (float)c->h) - (double)x0, hm = (double)x0 - (double)(x0 - (float)c->h);
            double num = (lp - lm) / (hp + hm);
            double ana = FP(c->grad[i])[e];
            double r = fabs(num - ana) / (c->tol * (fabs(ana) > 1 ? fabs(ana) : 1));
            if (r > worst) worst = r;
            if (r > 1) {
                fprintf(stderr, "  %s: input %d element %lld: numeric %.6g analytic %.6g\n", c->name, i, (long long)e,
                        num, ana);
                break;
            }
        }
    }
    c->fwd(c);
    CHECK_MSG(worst <= 1.0, "%s: gradient mismatch (worst ratio %.3g)", c->name, worst);
    fprintf(stderr, "gradcheck %-28s worst %.3f of tolerance\n", c->name, worst);
    for (int k = 0; k < c->nout; k++) { sl_tensor_destroy(c->dout[k]); c->dout[k] = NULL; }
    return worst;
}

#endif /* TENSOR_TEST_UTIL_H */
