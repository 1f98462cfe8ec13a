/* dd.h — double-double arithmetic (about 32 significant digits) for the few places where double loses digits. */
#ifndef VS_DD_H
#define VS_DD_H

/*
 * A double-double is the unevaluated sum hi + lo with |lo| <= ulp(hi)/2. The error-free
 * transformations below (two_sum, two_prod via fma) are the standard building blocks; the
 * arithmetic is used in tail probabilities (so that exp(-x) with x of a few hundred keeps its
 * digits), in sums over data with many shared leading digits, and in least-squares refinement.
 * Everything is static inline so the compiler can keep values in registers.
 */

#include <math.h>

typedef struct vs_dd {
    double hi, lo;
} vs_dd;

static inline vs_dd dd_make(double hi, double lo) {
    vs_dd r = {hi, lo};
    return r;
}

static inline vs_dd dd_d(double x) { return dd_make(x, 0.0); }

/* s + e = a + b exactly. */
static inline vs_dd dd_two_sum(double a, double b) {
    double s = a + b;
    double bb = s - a;
    double e = (a - (s - bb)) + (b - bb);
    return dd_make(s, e);
}

/* s + e = a + b exactly, assuming |a| >= |b|. */
static inline vs_dd dd_quick_two_sum(double a, double b) {
    double s = a + b;
    return dd_make(s, b - (s - a));
}

/* p + e = a * b exactly. */
static inline vs_dd dd_two_prod(double a, double b) {
    double p = a * b;
    return dd_make(p, fma(a, b, -p));
}

static inline vs_dd dd_add(vs_dd a, vs_dd b) {
    vs_dd s = dd_two_sum(a.hi, b.hi);
    vs_dd t = dd_two_sum(a.lo, b.lo);
    s.lo += t.hi;
    s = dd_quick_two_sum(s.hi, s.lo);
    s.lo += t.lo;
    return dd_quick_two_sum(s.hi, s.lo);
}

static inline vs_dd dd_add_d(vs_dd a, double b) {
    vs_dd s = dd_two_sum(a.hi, b);
    s.lo += a.lo;
    return dd_quick_two_sum(s.hi, s.lo);
}

static inline vs_dd dd_neg(vs_dd a) { return dd_make(-a.hi, -a.lo); }

static inline vs_dd dd_sub(vs_dd a, vs_dd b) { return dd_add(a, dd_neg(b)); }

static inline vs_dd dd_mul(vs_dd a, vs_dd b) {
    vs_dd p = dd_two_prod(a.hi, b.hi);
    p.lo += a.hi * b.lo + a.lo * b.hi;
    return dd_quick_two_sum(p.hi, p.lo);
}

static inline vs_dd dd_mul_d(vs_dd a, double b) {
    vs_dd p = dd_two_prod(a.hi, b);
    p.lo += a.lo * b;
    return dd_quick_two_sum(p.hi, p.lo);
}

static inline vs_dd dd_div(vs_dd a, vs_dd b) {
    double q1 = a.hi / b.hi;
    vs_dd r = dd_sub(a, dd_mul_d(b, q1));
    double q2 = r.hi / b.hi;
    r = dd_sub(r, dd_mul_d(b, q2));
    double q3 = r.hi / b.hi;
    vs_dd q = dd_quick_two_sum(q1, q2);
    return dd_add_d(q, q3);
}

static inline vs_dd dd_div_d(vs_dd a, double b) { return dd_div(a, dd_d(b)); }

static inline vs_dd dd_sqrt(vs_dd a) {
    if (a.hi <= 0) return dd_d(a.hi == 0 ? 0.0 : NAN);
    double x = 1.0 / sqrt(a.hi);
    double ax = a.hi * x;
    /* one Newton step on the reciprocal square root, done in double-double */
    vs_dd d = dd_sub(a, dd_two_prod(ax, ax));
    return dd_add_d(dd_d(ax), d.hi * x * 0.5);
}

static inline double dd_to_d(vs_dd a) { return a.hi + a.lo; }

/* exp and log in double-double (dd.c). */
vs_dd vs_dd_exp(vs_dd x);
vs_dd vs_dd_log(vs_dd x);

#endif /* VS_DD_H */
