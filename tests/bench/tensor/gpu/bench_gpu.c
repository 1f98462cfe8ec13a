/* bench_gpu.c — GPU benchmarks of the tensor runtime (bf16 GEMM, flash attention, GPT-2 training step) and bf16 accuracy checks against the CPU backend. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sciloop/tensor.h>

#include "gpt2_bf16.h"

/*
 * Usage (run_gpu_bench.py drives these and runs the PyTorch peers in the same run):
 *   bench_gpu check                      bf16 ops on the GPU (tensor-core paths) vs f32 on the CPU
 *   bench_gpu ops                        memory-bound ops at GPT-2 sizes (time and GB/s)
 *   bench_gpu gemm M N K                 C(M,N) = A(M,K) B(K,N), bf16 in/out, f32 accumulation
 *   bench_gpu attn B H T D causal        attention forward and forward+backward, q/k/v in one (B,T,3C)
 *   bench_gpu gpt2 B T steps [init.st]   GPT-2 124M training steps (bf16), optionally saving the start
 * Each prints "RESULT key=value ..." lines; timings are medians over rounds, after warm-up.
 */

#define OK(x) do { sl_status _s = (x); if (_s != SL_OK) { fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, \
    #x, sl_last_error()); exit(2); } } while (0)

static sl_ctx *gpu, *cpu;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static sl_tensor *dev(sl_dtype dt, int nd, const int64_t *shape) {
    sl_tensor *t;
    OK(sl_tensor_create(gpu, dt, nd, shape, &t));
    return t;
}

static sl_tensor *host(sl_dtype dt, int nd, const int64_t *shape) {
    sl_tensor *t;
    OK(sl_tensor_create_host(dt, nd, shape, &t));
    return t;
}

static uint64_t rng_off = 1u << 20;

static void randn(sl_ctx *ctx, sl_tensor *t, float std) {
    uint64_t n = (uint64_t)sl_tensor_numel(t);
    OK(sl_tensor_rand_normal(ctx, t, 0.0f, std, rng_off));
    rng_off += n + 8;
}

/* ------------------------------------------------------------------ accuracy checks */

static int failures;

/* Norm-wise relative error ||gpu - ref|| / ||ref|| of a GPU tensor (any float dtype) against a
 * host f32 reference. */
static void check(const char *what, const sl_tensor *g, const sl_tensor *ref, double tol) {
    sl_tensor *h = host(SL_F32, g->ndim, g->shape), *c = host(SL_F32, g->ndim, g->shape);
    OK(sl_tensor_copy(gpu, h, g));
    OK(sl_ctx_synchronize(gpu));
    int64_t n = sl_tensor_numel(ref);
    const float *a = h->data, *b = ref->data;
    double num = 0, den = 0;
    bool finite = true;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) && isfinite(b[i])) finite = false;
        if (!isfinite(b[i])) continue;
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    double rel = sqrt(num / (den > 0 ? den : 1e-30));
    bool ok = finite && rel <= tol;
    if (!ok) failures++;
    printf("CHECK %-34s rel_err=%.3e tol=%.0e %s\n", what, rel, tol, ok ? "ok" : "FAIL");
    sl_tensor_destroy(h);
    sl_tensor_destroy(c);
}

/* A bf16 GPU tensor with random values and its exact f32 image on the host. */
static void pair_bf16(int nd, const int64_t *shape, float std, sl_tensor **g, sl_tensor **h) {
    *g = dev(SL_BF16, nd, shape);
    randn(gpu, *g, std);
    *h = host(SL_F32, nd, shape);
    OK(sl_tensor_copy(gpu, *h, *g));
}

static void check_attention(int64_t B, int64_t H, int64_t T, int64_t D, bool causal, bool masked) {
    int64_t C = H * D;
    int64_t s3[3] = { B, T, 3 * C }, sc[3] = { B, T, C }, sl[3] = { B, H, T }, sm[2] = { B, T };
    sl_tensor *gqkv, *hqkv, *gdo, *hdo;
    pair_bf16(3, s3, 1.0f, &gqkv, &hqkv);
    pair_bf16(3, sc, 1.0f, &gdo, &hdo);
    sl_tensor *gq, *gk, *gv, *hq, *hk, *hv;
    OK(sl_tensor_slice(gqkv, 2, 0, C, &gq)); OK(sl_tensor_slice(gqkv, 2, C, C, &gk));
    OK(sl_tensor_slice(gqkv, 2, 2 * C, C, &gv));
    OK(sl_tensor_slice(hqkv, 2, 0, C, &hq)); OK(sl_tensor_slice(hqkv, 2, C, C, &hk));
    OK(sl_tensor_slice(hqkv, 2, 2 * C, C, &hv));
    sl_tensor *hmask = NULL, *gmask = NULL;
    if (masked) {
        hmask = host(SL_U8, 2, sm);
        for (int64_t b = 0; b < B; b++)
            for (int64_t t = 0; t < T; t++) ((uint8_t *)hmask->data)[b * T + t] =
                    (t < T - 17 * (b + 1) || t % 7 == 0) && !(b == 1 && t < 3); /* b=1: first rows see no key */
        gmask = dev(SL_U8, 2, sm);
        OK(sl_tensor_copy(gpu, gmask, hmask));
    }
    sl_attention_opts o = { (int)H, causal, 0.0f };
    sl_tensor *go = dev(SL_BF16, 3, sc), *glse = dev(SL_F32, 3, sl), *ho = host(SL_F32, 3, sc), *hlse = host(SL_F32, 3, sl);
    OK(sl_attention(gpu, go, glse, gq, gk, gv, gmask, &o));
    OK(sl_attention(cpu, ho, hlse, hq, hk, hv, hmask, &o));
    char name[96];
    snprintf(name, sizeof name, "attention D=%lld T=%lld%s%s out", (long long)D, (long long)T, causal ? " causal" : "",
             masked ? " mask" : "");
    check(name, go, ho, 2e-2);
    snprintf(name, sizeof name, "attention D=%lld T=%lld%s%s lse", (long long)D, (long long)T, causal ? " causal" : "",
             masked ? " mask" : "");
    check(name, glse, hlse, 1e-3);
    /* backward: gradients into a zeroed (B,T,3C) buffer through views, as a model does */
    sl_tensor *gd = dev(SL_BF16, 3, s3), *hd = host(SL_F32, 3, s3);
    OK(sl_tensor_zero(gpu, gd));
    OK(sl_tensor_zero(cpu, hd));
    sl_tensor *gdq, *gdk, *gdv, *hdq, *hdk, *hdv;
    OK(sl_tensor_slice(gd, 2, 0, C, &gdq)); OK(sl_tensor_slice(gd, 2, C, C, &gdk)); OK(sl_tensor_slice(gd, 2, 2 * C, C, &gdv));
    OK(sl_tensor_slice(hd, 2, 0, C, &hdq)); OK(sl_tensor_slice(hd, 2, C, C, &hdk)); OK(sl_tensor_slice(hd, 2, 2 * C, C, &hdv));
    OK(sl_attention_backward(gpu, gdq, gdk, gdv, gdo, gq, gk, gv, gmask, go, glse, &o));
    /* the reference uses the GPU's (bf16) forward output, as the GPU backward does */
    sl_tensor *ho16 = host(SL_F32, 3, sc);
    OK(sl_tensor_copy(gpu, ho16, go));
    OK(sl_attention_backward(cpu, hdq, hdk, hdv, hdo, hq, hk, hv, hmask, ho16, hlse, &o));
    snprintf(name, sizeof name, "attention_bwd D=%lld T=%lld%s%s dqkv", (long long)D, (long long)T,
             causal ? " causal" : "", masked ? " mask" : "");
    check(name, gd, hd, 3e-2);
    sl_tensor *ts[] = { gqkv, hqkv, gdo, hdo, gq, gk, gv, hq, hk, hv, hmask, gmask, go, glse, ho, hlse, gd, hd,
                        gdq, gdk, gdv, hdq, hdk, hdv, ho16 };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
}

/* Same seed, same counters: the CUDA fills and dropout must equal the CPU's bit for bit. */
static void check_rng(void) {
    int64_t sh[1] = { 100003 };
    sl_dtype dts[2] = { SL_F32, SL_BF16 };
    for (int d = 0; d < 2; d++)
        for (int kind = 0; kind < 3; kind++) {
            sl_tensor *g = dev(dts[d], 1, sh), *h = host(dts[d], 1, sh), *back = host(dts[d], 1, sh);
            const char *name = kind == 0 ? "rand_uniform" : kind == 1 ? "rand_normal" : "dropout";
            uint64_t off = 4096 + 13;
            if (kind == 0) { OK(sl_tensor_rand_uniform(gpu, g, -2, 3, off)); OK(sl_tensor_rand_uniform(cpu, h, -2, 3, off)); }
            else if (kind == 1) { OK(sl_tensor_rand_normal(gpu, g, 0.5f, 2, off)); OK(sl_tensor_rand_normal(cpu, h, 0.5f, 2, off)); }
            else {
                sl_tensor *hx = host(SL_F32, 1, sh), *gx = dev(SL_F32, 1, sh), *hy = host(SL_F32, 1, sh),
                          *gy = dev(SL_F32, 1, sh);
                OK(sl_tensor_rand_normal(cpu, hx, 0, 1, 7));
                OK(sl_tensor_copy(gpu, gx, hx));
                OK(sl_dropout(gpu, gy, gx, 0.3f, off));
                OK(sl_dropout(cpu, hy, hx, 0.3f, off));
                OK(sl_cast(gpu, g, gy));
                OK(sl_cast(cpu, h, hy));
                sl_tensor_destroy(hx); sl_tensor_destroy(gx); sl_tensor_destroy(hy); sl_tensor_destroy(gy);
            }
            OK(sl_tensor_copy(gpu, back, g));
            OK(sl_ctx_synchronize(gpu));
            int64_t diff = 0, n = sh[0];
            size_t es = sl_dtype_size(dts[d]);
            for (int64_t i = 0; i < n; i++) diff += memcmp((char *)back->data + i * es, (char *)h->data + i * es, es) != 0;
            if (diff) failures++;
            printf("CHECK %-12s %-4s bit-identical to cpu: %lld of %lld differ %s\n", name, sl_dtype_name(dts[d]),
                   (long long)diff, (long long)n, diff ? "FAIL" : "ok");
            sl_tensor_destroy(g); sl_tensor_destroy(h); sl_tensor_destroy(back);
        }
}

/* Deterministic mode: the backward of attention (and the reductions around it) twice on the
 * same inputs gives the same bits. */
static void check_determinism(void) {
    int64_t B = 4, H = 12, T = 512, D = 64, C = H * D;
    int64_t s3[3] = { B, T, 3 * C }, sc[3] = { B, T, C }, sl[3] = { B, H, T }, sw[2] = { C, C }, sv[1] = { C },
            srow[1] = { B * T };
    sl_tensor *qkv = dev(SL_BF16, 3, s3), *dout = dev(SL_BF16, 3, sc), *out = dev(SL_BF16, 3, sc),
              *lse = dev(SL_F32, 3, sl), *w = dev(SL_BF16, 2, sw), *lw = dev(SL_BF16, 1, sv), *mu = dev(SL_F32, 1, srow),
              *rs = dev(SL_F32, 1, srow), *ln = dev(SL_BF16, 3, sc);
    randn(gpu, qkv, 1.0f); randn(gpu, dout, 1.0f); randn(gpu, w, 0.05f); randn(gpu, lw, 1.0f);
    sl_tensor *q, *k, *v;
    OK(sl_tensor_slice(qkv, 2, 0, C, &q)); OK(sl_tensor_slice(qkv, 2, C, C, &k)); OK(sl_tensor_slice(qkv, 2, 2 * C, C, &v));
    sl_attention_opts o = { (int)H, true, 0.0f };
    sl_tensor *res[2][3];
    sl_ctx_set_deterministic(gpu, true);
    for (int run = 0; run < 2; run++) {
        sl_tensor *dqkv = dev(SL_BF16, 3, s3), *dw = dev(SL_BF16, 2, sw), *dlw = dev(SL_BF16, 1, sv);
        OK(sl_tensor_zero(gpu, dqkv)); OK(sl_tensor_zero(gpu, dw)); OK(sl_tensor_zero(gpu, dlw));
        sl_tensor *dq, *dk, *dv;
        OK(sl_tensor_slice(dqkv, 2, 0, C, &dq)); OK(sl_tensor_slice(dqkv, 2, C, C, &dk)); OK(sl_tensor_slice(dqkv, 2, 2 * C, C, &dv));
        OK(sl_attention(gpu, out, lse, q, k, v, NULL, &o));
        OK(sl_attention_backward(gpu, dq, dk, dv, dout, q, k, v, NULL, out, lse, &o));
        OK(sl_linear_backward(gpu, NULL, dw, NULL, dout, out, w));
        OK(sl_layernorm(gpu, ln, mu, rs, out, lw, NULL, 1e-5f));
        OK(sl_layernorm_backward(gpu, NULL, dlw, NULL, dout, out, lw, mu, rs));
        res[run][0] = dqkv; res[run][1] = dw; res[run][2] = dlw;
        sl_tensor_destroy(dq); sl_tensor_destroy(dk); sl_tensor_destroy(dv);
    }
    sl_ctx_set_deterministic(gpu, false);
    const char *what[3] = { "attention_backward dqkv", "linear_backward dweight", "layernorm_backward dweight" };
    for (int i = 0; i < 3; i++) {
        size_t n = sl_tensor_nbytes(res[0][i]);
        char *a = malloc(n), *b = malloc(n);
        OK(sl_tensor_to_host(gpu, res[0][i], a, n));
        OK(sl_tensor_to_host(gpu, res[1][i], b, n));
        bool same = !memcmp(a, b, n);
        if (!same) failures++;
        printf("CHECK deterministic %-28s twice, bit-identical %s\n", what[i], same ? "ok" : "FAIL");
        free(a); free(b);
        sl_tensor_destroy(res[0][i]); sl_tensor_destroy(res[1][i]);
    }
    sl_tensor *ts[] = { qkv, dout, out, lse, w, lw, mu, rs, ln, q, k, v };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
}

static int cmd_check(void) {
    check_rng();
    check_determinism();
    /* GEMM (cuBLASLt bf16, f32 accumulation) */
    int64_t sa[2] = { 300, 136 }, sb[2] = { 136, 200 }, sc[2] = { 300, 200 };
    sl_tensor *ga, *ha, *gb, *hb;
    pair_bf16(2, sa, 1.0f, &ga, &ha);
    pair_bf16(2, sb, 1.0f, &gb, &hb);
    sl_tensor *gc = dev(SL_BF16, 2, sc), *hc = host(SL_F32, 2, sc);
    OK(sl_matmul(gpu, gc, ga, gb, false, false, 1.0f, 0.0f));
    OK(sl_matmul(cpu, hc, ha, hb, false, false, 1.0f, 0.0f));
    check("matmul bf16 300x200x136", gc, hc, 1e-2);
    /* linear with the fused bias epilogue, and its backward */
    int64_t si[3] = { 4, 96, 256 }, sw[2] = { 768, 256 }, sbias[1] = { 768 }, so[3] = { 4, 96, 768 };
    sl_tensor *gi, *hi, *gw, *hw, *gbias, *hbias, *gdo, *hdo;
    pair_bf16(3, si, 1.0f, &gi, &hi);
    pair_bf16(2, sw, 0.05f, &gw, &hw);
    pair_bf16(1, sbias, 1.0f, &gbias, &hbias);
    pair_bf16(3, so, 1.0f, &gdo, &hdo);
    sl_tensor *go = dev(SL_BF16, 3, so), *ho = host(SL_F32, 3, so);
    OK(sl_linear(gpu, go, gi, gw, gbias));
    OK(sl_linear(cpu, ho, hi, hw, hbias));
    check("linear bf16 (bias epilogue)", go, ho, 1e-2);
    sl_tensor *gdi = dev(SL_BF16, 3, si), *hdi = host(SL_F32, 3, si), *gdw = dev(SL_BF16, 2, sw),
              *hdw = host(SL_F32, 2, sw), *gdb = dev(SL_BF16, 1, sbias), *hdb = host(SL_F32, 1, sbias);
    sl_tensor *zs[] = { gdi, gdw, gdb };
    for (int i = 0; i < 3; i++) OK(sl_tensor_zero(gpu, zs[i]));
    OK(sl_tensor_zero(cpu, hdi)); OK(sl_tensor_zero(cpu, hdw)); OK(sl_tensor_zero(cpu, hdb));
    OK(sl_linear_backward(gpu, gdi, gdw, gdb, gdo, gi, gw));
    OK(sl_linear_backward(cpu, hdi, hdw, hdb, hdo, hi, hw));
    check("linear_backward bf16 dinp", gdi, hdi, 1e-2);
    check("linear_backward bf16 dweight", gdw, hdw, 1e-2);
    check("linear_backward bf16 dbias", gdb, hdb, 1e-2);
    /* LayerNorm forward/backward in bf16 */
    int64_t sv[1] = { 256 }, srow[1] = { 4 * 96 };
    sl_tensor *glw, *hlw, *glb, *hlb;
    pair_bf16(1, sv, 1.0f, &glw, &hlw);
    pair_bf16(1, sv, 1.0f, &glb, &hlb);
    sl_tensor *gln = dev(SL_BF16, 3, si), *hln = host(SL_F32, 3, si), *gm = dev(SL_F32, 1, srow),
              *gr = dev(SL_F32, 1, srow), *hm = host(SL_F32, 1, srow), *hr = host(SL_F32, 1, srow);
    OK(sl_layernorm(gpu, gln, gm, gr, gi, glw, glb, 1e-5f));
    OK(sl_layernorm(cpu, hln, hm, hr, hi, hlw, hlb, 1e-5f));
    check("layernorm bf16 out", gln, hln, 1e-2);
    check("layernorm bf16 rstd", gr, hr, 1e-4);
    sl_tensor *gdlw = dev(SL_BF16, 1, sv), *hdlw = host(SL_F32, 1, sv);
    OK(sl_tensor_zero(gpu, gdi)); OK(sl_tensor_zero(cpu, hdi));
    OK(sl_tensor_zero(gpu, gdlw)); OK(sl_tensor_zero(cpu, hdlw));
    OK(sl_layernorm_backward(gpu, gdi, gdlw, NULL, gi, gi, glw, gm, gr));
    OK(sl_layernorm_backward(cpu, hdi, hdlw, NULL, hi, hi, hlw, hm, hr));
    check("layernorm_backward bf16 dinp", gdi, hdi, 2e-2);
    check("layernorm_backward bf16 dweight", gdlw, hdlw, 2e-2);
    /* cross-entropy over a GPT-2-sized vocabulary, bf16 logits */
    int64_t sL[2] = { 64, 50304 }, sN[1] = { 64 };
    sl_tensor *glg, *hlg;
    pair_bf16(2, sL, 2.0f, &glg, &hlg);
    sl_tensor *htg = host(SL_I32, 1, sN), *gtg = dev(SL_I32, 1, sN);
    for (int i = 0; i < 64; i++) ((int32_t *)htg->data)[i] = i == 5 ? -1 : (i * 7919) % 50257;
    OK(sl_tensor_copy(gpu, gtg, htg));
    sl_tensor *gls = dev(SL_F32, 1, sN), *gse = dev(SL_F32, 1, sN), *hls = host(SL_F32, 1, sN), *hse = host(SL_F32, 1, sN);
    OK(sl_cross_entropy(gpu, gls, gse, glg, gtg, -1));
    OK(sl_cross_entropy(cpu, hls, hse, hlg, htg, -1));
    check("cross_entropy bf16 losses", gls, hls, 1e-5);
    OK(sl_tensor_fill(gpu, gls, 1.0 / 63)); OK(sl_tensor_fill(cpu, hls, 1.0 / 63));
    sl_tensor *gdl = dev(SL_BF16, 2, sL), *hdl = host(SL_F32, 2, sL);
    OK(sl_tensor_zero(gpu, gdl)); OK(sl_tensor_zero(cpu, hdl));
    OK(sl_cross_entropy_backward(gpu, gdl, gls, glg, gse, gtg, -1));
    OK(sl_cross_entropy_backward(cpu, hdl, hls, hlg, hse, htg, -1));
    check("cross_entropy_backward bf16", gdl, hdl, 1e-2);
    /* attention through the tensor-core kernels: head dims 64 and 128, ragged T, masks */
    check_attention(2, 4, 200, 64, true, false);
    check_attention(2, 4, 200, 64, false, true);
    sl_ctx_set_deterministic(gpu, true); /* the same kernels must serve a deterministic context */
    check_attention(2, 4, 200, 64, true, true);
    sl_ctx_set_deterministic(gpu, false);
    check_attention(2, 2, 130, 128, true, true);
    check_attention(1, 12, 1024, 64, true, false);
    printf("RESULT check failures=%d\n", failures);
    return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ timings */

static int cmd_gemm(int64_t M, int64_t N, int64_t K) {
    int64_t sa[2] = { M, K }, sb[2] = { K, N }, sc[2] = { M, N };
    sl_tensor *a = dev(SL_BF16, 2, sa), *b = dev(SL_BF16, 2, sb), *c = dev(SL_BF16, 2, sc);
    randn(gpu, a, 1.0f);
    randn(gpu, b, 1.0f);
    double flop = 2.0 * (double)M * N * K;
    int reps = (int)(2e13 / flop) + 1;
    if (reps > 500) reps = 500;
    for (int i = 0; i < 3; i++) OK(sl_matmul(gpu, c, a, b, false, false, 1.0f, 0.0f));
    OK(sl_ctx_synchronize(gpu));
    double t[7];
    for (int r = 0; r < 7; r++) {
        double t0 = now();
        for (int i = 0; i < reps; i++) OK(sl_matmul(gpu, c, a, b, false, false, 1.0f, 0.0f));
        OK(sl_ctx_synchronize(gpu));
        t[r] = (now() - t0) / reps;
    }
    double s = median(t, 7);
    printf("RESULT gemm M=%lld N=%lld K=%lld ms=%.4f tflops=%.1f\n", (long long)M, (long long)N, (long long)K, s * 1e3,
           flop / s * 1e-12);
    return 0;
}

static int cmd_attn(int64_t B, int64_t H, int64_t T, int64_t D, bool causal) {
    int64_t C = H * D, s3[3] = { B, T, 3 * C }, sc[3] = { B, T, C }, sl[3] = { B, H, T };
    sl_tensor *qkv = dev(SL_BF16, 3, s3), *dqkv = dev(SL_BF16, 3, s3), *out = dev(SL_BF16, 3, sc),
              *dout = dev(SL_BF16, 3, sc), *lse = dev(SL_F32, 3, sl);
    randn(gpu, qkv, 1.0f);
    randn(gpu, dout, 1.0f);
    sl_tensor *q, *k, *v, *dq, *dk, *dv;
    OK(sl_tensor_slice(qkv, 2, 0, C, &q)); OK(sl_tensor_slice(qkv, 2, C, C, &k)); OK(sl_tensor_slice(qkv, 2, 2 * C, C, &v));
    OK(sl_tensor_slice(dqkv, 2, 0, C, &dq)); OK(sl_tensor_slice(dqkv, 2, C, C, &dk));
    OK(sl_tensor_slice(dqkv, 2, 2 * C, C, &dv));
    sl_attention_opts o = { (int)H, causal, 0.0f };
    double fwd_flop = 4.0 * (double)B * H * T * T * D * (causal ? 0.5 : 1.0);
    int reps = 50;
    double tf[5], tb[5];
    for (int i = 0; i < 3; i++) {
        OK(sl_attention(gpu, out, lse, q, k, v, NULL, &o));
        OK(sl_tensor_zero(gpu, dqkv));
        OK(sl_attention_backward(gpu, dq, dk, dv, dout, q, k, v, NULL, out, lse, &o));
    }
    OK(sl_ctx_synchronize(gpu));
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        for (int i = 0; i < reps; i++) OK(sl_attention(gpu, out, lse, q, k, v, NULL, &o));
        OK(sl_ctx_synchronize(gpu));
        tf[r] = (now() - t0) / reps;
        t0 = now();
        for (int i = 0; i < reps; i++) {
            OK(sl_attention(gpu, out, lse, q, k, v, NULL, &o));
            OK(sl_tensor_zero(gpu, dqkv)); /* gradients accumulate: the zeroing is part of the cost */
            OK(sl_attention_backward(gpu, dq, dk, dv, dout, q, k, v, NULL, out, lse, &o));
        }
        OK(sl_ctx_synchronize(gpu));
        tb[r] = (now() - t0) / reps;
    }
    double f = median(tf, 5), fb = median(tb, 5);
    printf("RESULT attn B=%lld H=%lld T=%lld D=%lld causal=%d fwd_ms=%.4f fwdbwd_ms=%.4f fwd_tflops=%.1f "
           "fwdbwd_tflops=%.1f\n", (long long)B, (long long)H, (long long)T, (long long)D, causal ? 1 : 0, f * 1e3,
           fb * 1e3, fwd_flop / f * 1e-12, 3.5 * fwd_flop / fb * 1e-12);
    return 0;
}

/* Memory-bound ops at GPT-2 124M training sizes (B=32, T=1024, C=768, bf16): time and the
 * bandwidth they reach counting each tensor read or written once. */
typedef enum { OP_LN, OP_LN_BWD, OP_GELU, OP_GELU_BWD, OP_ADD, OP_BIAS_GRAD, OP_CE, OP_CE_BWD, OP_EMB, OP_EMB_BWD,
               OP_ADAMW, OP_NORM, OP_ZERO } op_id;

static int cmd_ops(void) {
    const int64_t B = 32, T = 1024, C = 768, V = 50304, N = B * T, P = 124475904;
    int64_t sBTC[3] = { B, T, C }, sBT4[3] = { B, T, 4 * C }, sN[1] = { N }, sC[1] = { C }, sC4[1] = { 4 * C },
            sL[2] = { N, V }, sP[1] = { P }, sVC[2] = { V, C }, sPC[2] = { 1024, C }, sBT[2] = { B, T };
    sl_tensor *x = dev(SL_BF16, 3, sBTC), *y = dev(SL_BF16, 3, sBTC), *z = dev(SL_BF16, 3, sBTC);
    sl_tensor *h = dev(SL_BF16, 3, sBT4), *h2 = dev(SL_BF16, 3, sBT4), *h3 = dev(SL_BF16, 3, sBT4);
    sl_tensor *mu = dev(SL_F32, 1, sN), *rs = dev(SL_F32, 1, sN), *w = dev(SL_BF16, 1, sC), *b = dev(SL_BF16, 1, sC);
    sl_tensor *dw = dev(SL_BF16, 1, sC), *db = dev(SL_BF16, 1, sC), *db4 = dev(SL_BF16, 1, sC4);
    sl_tensor *lg = dev(SL_BF16, 2, sL), *dlg = dev(SL_BF16, 2, sL), *ls = dev(SL_F32, 1, sN), *lse = dev(SL_F32, 1, sN);
    sl_tensor *tg = dev(SL_I32, 1, sN), *ids = dev(SL_I32, 2, sBT), *wte = dev(SL_BF16, 2, sVC), *wpe = dev(SL_BF16, 2, sPC);
    sl_tensor *p32 = dev(SL_F32, 1, sP), *m32 = dev(SL_F32, 1, sP), *v32 = dev(SL_F32, 1, sP), *g16 = dev(SL_BF16, 1, sP),
              *p16 = dev(SL_BF16, 1, sP);
    sl_tensor *all[] = { x, y, z, h, h2, h3, w, b, lg, wte, wpe, p32, g16 };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) randn(gpu, all[i], 0.5f);
    OK(sl_tensor_zero(gpu, m32)); OK(sl_tensor_zero(gpu, v32));
    OK(sl_tensor_fill(gpu, ls, 1.0 / (double)N));
    OK(sl_tensor_fill(gpu, tg, 7));
    {
        sl_tensor *hid = host(SL_I32, 2, sBT);
        for (int64_t i = 0; i < N; i++) ((int32_t *)hid->data)[i] = (int32_t)((i * 7919) % 50257);
        OK(sl_tensor_copy(gpu, ids, hid));
        sl_tensor_destroy(hid);
    }
    sl_adamw_opts ao = SL_ADAMW_OPTS_INIT;
    const char *names[] = { "layernorm", "layernorm_backward", "gelu_tanh", "gelu_tanh_backward", "add",
                            "bias_grad_4C", "cross_entropy", "cross_entropy_backward", "embedding",
                            "embedding_backward", "adamw_124M", "global_norm_124M", "zero_BT4C" };
    double BTC2 = (double)N * C * 2, L2 = (double)N * V * 2;
    double bytes[] = { 2 * BTC2, 4 * BTC2, 8 * BTC2, 16 * BTC2, 3 * BTC2, 4 * BTC2, L2, 3 * L2, 2 * BTC2, 2 * BTC2,
                       (double)P * (4 * 6 + 2 + 2), (double)P * 2, 4 * BTC2 };
    for (int op = OP_LN; op <= OP_ZERO; op++) {
        double t[5];
        for (int r = -1; r < 5; r++) {
            double t0 = now();
            int reps = op == OP_ADAMW || op == OP_NORM ? 5 : 20;
            for (int i = 0; i < reps; i++) {
                switch ((op_id)op) {
                case OP_LN: OK(sl_layernorm(gpu, y, mu, rs, x, w, b, 1e-5f)); break;
                case OP_LN_BWD: OK(sl_layernorm_backward(gpu, z, dw, db, y, x, w, mu, rs)); break;
                case OP_GELU: OK(sl_gelu(gpu, h2, h, SL_GELU_TANH)); break;
                case OP_GELU_BWD: OK(sl_gelu_backward(gpu, h3, h2, h, SL_GELU_TANH)); break;
                case OP_ADD: OK(sl_add(gpu, z, x, y)); break;
                case OP_BIAS_GRAD: OK(sl_bias_add_backward(gpu, NULL, db4, h)); break;
                case OP_CE: OK(sl_cross_entropy(gpu, ls, lse, lg, tg, -1)); break;
                case OP_CE_BWD: OK(sl_cross_entropy_backward(gpu, dlg, ls, lg, lse, tg, -1)); break;
                case OP_EMB: OK(sl_embedding(gpu, z, ids, wte, wpe, 0)); break;
                case OP_EMB_BWD: OK(sl_embedding_backward(gpu, wte, wpe, x, ids, 0)); break;
                case OP_ADAMW: OK(sl_adamw(gpu, p32, g16, m32, v32, p16, 1, &ao)); break;
                case OP_NORM: { float nrm; OK(sl_global_norm(gpu, &g16, 1, &nrm)); break; }
                case OP_ZERO: OK(sl_tensor_zero(gpu, h3)); break;
                }
            }
            OK(sl_ctx_synchronize(gpu));
            if (r >= 0) t[r] = (now() - t0) / reps;
        }
        double med = median(t, 5);
        printf("RESULT op name=%s ms=%.4f gbps=%.0f\n", names[op], med * 1e3, bytes[op] / med * 1e-9);
    }
    return 0;
}

static int cmd_gpt2(int B, int T, int steps, const char *save) {
    gpt2_config cfg = { 12, 12, 768, 50304, 1024 };
    gpt2 *m;
    sl_status st = gpt2_create(gpu, &cfg, B, T, &m);
    if (st != SL_OK) {
        printf("RESULT gpt2 B=%d T=%d error=%s\n", B, T, st == SL_ERR_NOMEM ? "out_of_memory" : "failed");
        fprintf(stderr, "gpt2: %s\n", sl_last_error());
        return st == SL_ERR_NOMEM ? 3 : 2;
    }
    size_t n = (size_t)B * (size_t)T;
    int32_t *ids = malloc(n * sizeof *ids), *tg = malloc(n * sizeof *tg);
    if (!ids || !tg) return 2;
    uint64_t x = 0x9E3779B97F4A7C15ull; /* a fixed pseudo-random token stream */
    int32_t prev = 0;
    for (size_t i = 0; i <= n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int32_t tok = (int32_t)(x % 50257);
        if (i > 0) tg[i - 1] = tok;
        if (i < n) ids[i] = tok;
        prev = tok;
    }
    (void)prev;
    OK(gpt2_set_batch(m, ids, tg));
    if (save) OK(gpt2_save(m, save));
    sl_adamw_opts o = { 6e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f };
    int warm = 3;
    double *t = malloc((size_t)steps * sizeof *t);
    printf("gpt2: %lld parameters, batch %d x %d\n", (long long)gpt2_param_count(m), B, T);
    for (int s = 0; s < warm + steps; s++) {
        float loss;
        double t0 = now();
        OK(gpt2_step(m, &o, s + 1, 1.0f, &loss));
        double dt = now() - t0;
        if (s >= warm) t[s - warm] = dt;
        printf("STEP %d loss=%.5f ms=%.2f\n", s + 1, loss, dt * 1e3);
    }
    double ph[3];
    float l;
    OK(gpt2_step_timed(m, &o, warm + steps + 1, 1.0f, &l, ph));
    printf("RESULT gpt2_phases forward_ms=%.2f backward_ms=%.2f optimizer_ms=%.2f\n", ph[0], ph[1], ph[2]);
    double med = median(t, steps);
    printf("RESULT gpt2 B=%d T=%d params=%lld step_ms=%.2f tokens_per_s=%.0f\n", B, T,
           (long long)gpt2_param_count(m), med * 1e3, (double)B * T / med);
    free(t);
    free(ids);
    free(tg);
    gpt2_destroy(m);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_gpu check | gemm M N K | attn B H T D causal | gpt2 B T steps [init.safetensors]\n");
        return 2;
    }
    sl_ctx_options o = SL_CTX_OPTIONS_INIT;
    o.device = SL_DEVICE_CUDA;
    o.seed = 1234;
    o.deterministic = false;
    if (sl_ctx_create(&o, &gpu) != SL_OK) {
        printf("no GPU: %s\n", sl_last_error());
        return 77;
    }
    o.device = SL_DEVICE_CPU;
    OK(sl_ctx_create(&o, &cpu));
    fprintf(stderr, "device: %s\n", sl_ctx_describe(gpu));
    int rc = 2;
    if (!strcmp(argv[1], "check")) rc = cmd_check();
    else if (!strcmp(argv[1], "ops")) rc = cmd_ops();
    else if (!strcmp(argv[1], "gemm") && argc == 5) rc = cmd_gemm(atoll(argv[2]), atoll(argv[3]), atoll(argv[4]));
    else if (!strcmp(argv[1], "attn") && argc == 7)
        rc = cmd_attn(atoll(argv[2]), atoll(argv[3]), atoll(argv[4]), atoll(argv[5]), atoi(argv[6]) != 0);
    else if (!strcmp(argv[1], "gpt2") && argc >= 5)
        rc = cmd_gpt2(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argc > 5 ? argv[5] : NULL);
    else fprintf(stderr, "bench_gpu: unknown command\n");
    sl_ctx_destroy(cpu);
    sl_ctx_destroy(gpu);
    return rc;
}
