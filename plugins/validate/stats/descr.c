/* descr.c — exact decimal parsing, compensated sums, and two-pass means and variances that keep their digits. */
#include "vs_stats.h"
#include "dd.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Data such as 10000000000000.1, 10000000000000.2, ... share 14 leading digits. As doubles they
 * are already wrong in the third significant digit of their spread (ulp(1e13) = 0.002), so no
 * summation trick can recover the standard deviation of the numbers the user wrote. The cure is
 * to read the text exactly (an integer mantissa and a power of ten), subtract a reference value
 * exactly, and only then convert the small differences to double.
 */

static const double pow10_tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define MAX_DIGITS 36

int vs_decimal_parse(const char *text, vs_decimal *out) {
    const char *p = text;
    memset(out, 0, sizeof *out);
    while (*p == ' ' || *p == '\t') p++;
    const char *start = p;
    int neg = 0;
    if (*p == '+' || *p == '-') neg = (*p++ == '-');
    __int128 m = 0;
    int digits = 0, any = 0, exp10 = 0, exact = 1;
    while (isdigit((unsigned char)*p)) {
        any = 1;
        if (m != 0 || *p != '0') {
            if (digits < MAX_DIGITS) {
                m = m * 10 + (*p - '0');
                digits++;
            } else {
                exp10++; /* digit dropped: only the rounded double remains meaningful */
                if (*p != '0') exact = 0;
            }
        }
        p++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            any = 1;
            if (m != 0 || *p != '0') {
                if (digits < MAX_DIGITS) {
                    m = m * 10 + (*p - '0');
                    digits++;
                    exp10--;
                } else if (*p != '0') {
                    exact = 0;
                }
            } else {
                exp10--;
            }
            p++;
        }
    }
    if (!any) return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        int eneg = 0;
        if (*p == '+' || *p == '-') eneg = (*p++ == '-');
        if (!isdigit((unsigned char)*p)) return -1;
        long e = 0;
        while (isdigit((unsigned char)*p)) {
            if (e < 100000) e = e * 10 + (*p - '0');
            p++;
        }
        exp10 += (int)(eneg ? -e : e);
    }
    while (*p == ' ' || *p == '\t') p++;
    if (*p != '\0') return -1;
    char *end;
    double v = strtod(start, &end);
    if (!isfinite(v)) return -1;
    out->mant = neg ? -m : m;
    out->exp10 = exp10;
    out->exact = exact && exp10 > -300 && exp10 < 300;
    out->approx = v;
    return 0;
}

/* m * 10^e as a double-double (m up to 2^126). */
static vs_dd int128_scaled(__int128 m, int e) {
    double hi = (double)m;
    double lo = (double)(m - (__int128)hi);
    vs_dd r = dd_quick_two_sum(hi, lo);
    while (e > 0) {
        int k = e > 22 ? 22 : e;
        r = dd_mul_d(r, pow10_tab[k]);
        e -= k;
    }
    while (e < 0) {
        int k = -e > 22 ? 22 : -e;
        r = dd_div_d(r, pow10_tab[k]);
        e += k;
    }
    return r;
}

/* 10^k as __int128 when it fits (k <= 38). */
static int pow10_i128(int k, __int128 *out) {
    if (k < 0 || k > 38) return -1;
    __int128 r = 1;
    for (int i = 0; i < k; i++) r *= 10;
    *out = r;
    return 0;
}

static vs_dd decimal_diff_dd(const vs_decimal *a, const vs_decimal *b) {
    if (a->exact && b->exact) {
        int e = a->exp10 < b->exp10 ? a->exp10 : b->exp10;
        __int128 fa, fb, ma, mb, d;
        if (pow10_i128(a->exp10 - e, &fa) == 0 && pow10_i128(b->exp10 - e, &fb) == 0 &&
            !__builtin_mul_overflow(a->mant, fa, &ma) && !__builtin_mul_overflow(b->mant, fb, &mb) &&
            !__builtin_sub_overflow(ma, mb, &d))
            return int128_scaled(d, e);
    }
    return dd_two_sum(a->approx, -b->approx);
}

double vs_decimal_diff(const vs_decimal *a, const vs_decimal *b) { return dd_to_d(decimal_diff_dd(a, b)); }

double vs_decimal_add(const vs_decimal *ref, double x) {
    vs_dd r = ref->exact ? int128_scaled(ref->mant, ref->exp10) : dd_d(ref->approx);
    return dd_to_d(dd_add_d(r, x));
}

double vs_sum(const double *x, size_t n) {
    vs_dd s = dd_d(0.0);
    for (size_t i = 0; i < n; i++) s = dd_add_d(s, x[i]);
    return dd_to_d(s);
}

/* mean and sum of squared deviations in double-double; the second pass subtracts the
 * double-double mean so that neither the shift nor the squares lose digits. */
static void moments_dd(const double *x, size_t n, vs_dd *mean, vs_dd *ss) {
    vs_dd s = dd_d(0.0);
    for (size_t i = 0; i < n; i++) s = dd_add_d(s, x[i]);
    *mean = dd_div_d(s, (double)n);
    vs_dd q = dd_d(0.0);
    for (size_t i = 0; i < n; i++) {
        vs_dd d = dd_sub(dd_d(x[i]), *mean);
        q = dd_add(q, dd_mul(d, d));
    }
    *ss = q;
}

void vs_moments_compute(const double *x, size_t n, vs_moments *out) {
    out->n = n;
    out->mean = out->var = out->sd = NAN;
    if (n == 0) return;
    vs_dd m, ss;
    moments_dd(x, n, &m, &ss);
    out->mean = dd_to_d(m);
    if (n >= 2) {
        vs_dd v = dd_div_d(ss, (double)(n - 1));
        out->var = dd_to_d(v);
        out->sd = dd_to_d(dd_sqrt(v));
    }
}

int vs_moments_text(const char *const *text, size_t n, vs_moments *out, size_t *bad_index) {
    out->n = n;
    out->mean = out->var = out->sd = NAN;
    if (n == 0) return 0;
    vs_decimal *dec = malloc(n * sizeof *dec);
    double *off = malloc(n * sizeof *off);
    if (!dec || !off) {
        free(dec);
        free(off);
        if (bad_index) *bad_index = (size_t)-1;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (vs_decimal_parse(text[i], &dec[i]) != 0) {
            if (bad_index) *bad_index = i;
            free(dec);
            free(off);
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++) off[i] = vs_decimal_diff(&dec[i], &dec[0]);
    vs_dd m, ss;
    moments_dd(off, n, &m, &ss);
    vs_dd ref = dec[0].exact ? int128_scaled(dec[0].mant, dec[0].exp10) : dd_d(dec[0].approx);
    out->mean = dd_to_d(dd_add(ref, m));
    if (n >= 2) {
        vs_dd v = dd_div_d(ss, (double)(n - 1));
        out->var = dd_to_d(v);
        out->sd = dd_to_d(dd_sqrt(v));
    }
    free(dec);
    free(off);
    return 0;
}
