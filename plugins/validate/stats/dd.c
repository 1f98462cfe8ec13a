/* dd.c — exp and log in double-double precision, used where an exponent of hundreds must keep every digit. */
#include "dd.h"

static const vs_dd dd_ln2 = {0x1.62e42fefa39efp-1, 0x1.abc9e3b39803fp-56};

vs_dd vs_dd_exp(vs_dd x) {
    if (x.hi > 709.78) return dd_d(INFINITY);
    if (x.hi < -745.2) return dd_d(0.0);
    if (x.hi == 0 && x.lo == 0) return dd_d(1.0);
    /* x = k ln2 + r with |r| <= ln2/2, then r is scaled by 2^-9 so that a short Taylor series of
     * expm1 reaches full double-double accuracy; squaring (1+s)^2 - 1 = s (2 + s) undoes the scaling
     * without ever forming 1 + s, which would throw away the low digits. */
    double k = nearbyint(x.hi / dd_ln2.hi);
    vs_dd r = dd_sub(x, dd_mul_d(dd_ln2, k));
    r.hi = ldexp(r.hi, -9);
    r.lo = ldexp(r.lo, -9);
    vs_dd s = r, term = r;
    for (int i = 2; i <= 10; i++) {
        term = dd_div_d(dd_mul(term, r), (double)i);
        s = dd_add(s, term);
        if (fabs(term.hi) < 1e-36) break;
    }
    for (int i = 0; i < 9; i++) s = dd_mul(s, dd_add_d(s, 2.0));
    s = dd_add_d(s, 1.0);
    int ki = (int)k;
    /* two steps so that 2^ki never overflows on its own near the ends of the range */
    int k1 = ki / 2, k2 = ki - k1;
    s.hi = ldexp(ldexp(s.hi, k1), k2);
    s.lo = ldexp(ldexp(s.lo, k1), k2);
    return s;
}

vs_dd vs_dd_log(vs_dd x) {
    if (!(x.hi > 0)) return dd_d(x.hi == 0 ? -INFINITY : NAN);
    if (isinf(x.hi)) return x;
    /* Newton's step on exp(y) = x from the double logarithm: y + x exp(-y) - 1 doubles the digits. */
    vs_dd y = dd_d(log(x.hi));
    vs_dd e = vs_dd_exp(dd_neg(y));
    vs_dd t = dd_add_d(dd_mul(x, e), -1.0);
    return dd_add(y, t);
}
