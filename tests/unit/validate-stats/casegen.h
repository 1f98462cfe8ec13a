/* casegen.h — the reference cases' data generator, bit for bit the same as tests/reference/validate/casegen.py. */
#ifndef VALIDATE_CASEGEN_H
#define VALIDATE_CASEGEN_H

#include <stdint.h>
#include <stdlib.h>

#include "vs_stats.h"

static const double cg_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* n values shift + (sum of four `bits`-bit uniforms) - 2 * 2^bits, divided by 10^d; adds the
 * integers to *chk so the caller can confirm it regenerated the reference's data. */
static inline void cg_ints(vs_rng *rng, size_t n, int bits, int64_t shift, int d, double *out, int64_t *chk) {
    for (size_t i = 0; i < n; i++) {
        int64_t s = 0;
        for (int j = 0; j < 4; j++) s += (int64_t)(vs_rng_next(rng) >> (64 - bits));
        int64_t k = shift + s - 2 * ((int64_t)1 << bits);
        *chk += k;
        out[i] = (double)k / cg_pow10[d];
    }
}

/* integers only (no scaling) */
static inline void cg_ints_raw(vs_rng *rng, size_t n, int bits, int64_t shift, int64_t *out) {
    for (size_t i = 0; i < n; i++) {
        int64_t s = 0;
        for (int j = 0; j < 4; j++) s += (int64_t)(vs_rng_next(rng) >> (64 - bits));
        out[i] = shift + s - 2 * ((int64_t)1 << bits);
    }
}

#endif /* VALIDATE_CASEGEN_H */
