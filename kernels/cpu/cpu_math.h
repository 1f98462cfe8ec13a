/* cpu_math.h — branch-free exp/erfc/sigmoid the compiler can vectorise, and the target_clones marker for hot loops. */
#ifndef SCILOOP_KERNELS_CPU_MATH_H
#define SCILOOP_KERNELS_CPU_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Hot loops are compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time, so one
 * binary runs everywhere and uses the wide units where they exist. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define CPU_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CPU_HOT
#endif

/* e^x for float, relative error ~2 ulp; clamps x to [-87.3, 88] (e^-87.3 ~ 1.2e-38, the smallest
 * normal). Cody–Waite reduction and Cephes' degree-6 polynomial. */
static inline float cpu_expf(float x) {
    x = x < -87.33654f ? -87.33654f : x;
    x = x > 88.0f ? 88.0f : x;
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23; /* n in [-126, 127] after the clamp */
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

/* erfc(z) for z >= 0 with relative error < 1.2e-7 (Chebyshev fit in the form of Numerical
 * Recipes' erfcc). */
static inline float cpu_erfc_pos(float z) {
    float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    return t * cpu_expf(-z * z + p);
}

/* Standard normal CDF Phi(x) = 0.5 * erfc(-x / sqrt 2), accurate in the tails. */
static inline float cpu_phi(float x) {
    float z = fabsf(x) * 0.70710678118654752f;
    float e = 0.5f * cpu_erfc_pos(z);
    return x < 0 ? e : 1.0f - e;
}

/* 1 / (1 + e^-x) */
static inline float cpu_sigmoid(float x) { return 1.0f / (1.0f + cpu_expf(-x)); }

#endif /* SCILOOP_KERNELS_CPU_MATH_H */
