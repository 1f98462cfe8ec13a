/* bench_tensor.c — CPU timings of the runtime: GEMM vs OpenBLAS called directly, and a MiniLM-sized encoder forward+backward. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sciloop/tensor.h>

#include "transformer.h"

#ifdef SLI_BENCH_OPENBLAS
#include <cblas.h>
#endif

#define OK(x) do { if ((x) != SL_OK) { fprintf(stderr, "%s: %s\n", #x, sl_last_error()); exit(1); } } while (0)

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static void bench_gemm(sl_ctx *ctx, int threads, int64_t M, int64_t N, int64_t K, bool tb) {
    sl_tensor *a, *b, *c;
    OK(sl_tensor_create(ctx, SL_F32, 2, (int64_t[]){ M, K }, &a));
    OK(sl_tensor_create(ctx, SL_F32, 2, tb ? (int64_t[]){ N, K } : (int64_t[]){ K, N }, &b));
    OK(sl_tensor_create(ctx, SL_F32, 2, (int64_t[]){ M, N }, &c));
    OK(sl_tensor_rand_normal(ctx, a, 0, 1, 0));
    OK(sl_tensor_rand_normal(ctx, b, 0, 1, 1 << 24));
    enum { REPS = 25 };
    double ours[REPS], theirs[REPS];
    /* The runtime first, then OpenBLAS alone: OpenBLAS's own workers keep spinning for a while
     * after a threaded call and would steal the runtime's cores if the two were interleaved. */
    for (int r = 0; r < REPS + 2; r++) {
        double t0 = now();
        OK(sl_matmul(ctx, c, a, b, false, tb, 1.0f, 0.0f));
        if (r >= 2) ours[r - 2] = now() - t0;
    }
    for (int r = 0; r < REPS + 2; r++) theirs[r < REPS ? r : 0] = 0;
#ifdef SLI_BENCH_OPENBLAS
    openblas_set_num_threads(threads);
    for (int r = 0; r < REPS + 2; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, 1.0f,
                    a->data, (int)K, b->data, tb ? (int)K : (int)N, 0.0f, c->data, (int)N);
        if (r >= 2) theirs[r - 2] = now() - t0;
    }
    openblas_set_num_threads(1);
#endif
    /* best of the repetitions: the machine may be shared, and noise only ever adds time */
    qsort(ours, REPS, sizeof(double), cmp_d);
    qsort(theirs, REPS, sizeof(double), cmp_d);
    double to = ours[0], tt = theirs[0];
    double gf = 2.0 * M * N * K / 1e9;
    if (tt > 0)
        printf("gemm %lldx%lldx%lld%s  runtime %.3f ms (%.1f GFLOP/s)  openblas %.3f ms (%.1f GFLOP/s)  ratio %.3f\n",
               (long long)M, (long long)N, (long long)K, tb ? " (B^T)" : "", to * 1e3, gf / to, tt * 1e3, gf / tt,
               tt / to);
    else
        printf("gemm %lldx%lldx%lld%s  runtime %.3f ms (%.1f GFLOP/s)  (no OpenBLAS in this build)\n", (long long)M,
               (long long)N, (long long)K, tb ? " (B^T)" : "", to * 1e3, gf / to);
    (void)threads;
    sl_tensor_destroy(a); sl_tensor_destroy(b); sl_tensor_destroy(c);
}

static void bench_minilm(sl_ctx *ctx, int iters) {
    int B = 8, T = 128;
    sl_nn_config cfg = { SL_NN_BERT, 6, 12, 384, 1536, 8, 512, 2, 1e-12f, 0.0f };
    sl_nn_model *m;
    OK(sl_nn_create(ctx, &cfg, B, T, &m));
    OK(sl_nn_init_normal(m, 0.02f));
    int32_t *ids = malloc(sizeof(int32_t) * B * T), *tg = malloc(sizeof(int32_t) * B * T);
    uint8_t *mask = malloc((size_t)B * T);
    for (int i = 0; i < B * T; i++) { ids[i] = (i * 7) % 8; tg[i] = (i * 3) % 8; mask[i] = 1; }
    double *t = malloc(sizeof(double) * (size_t)iters);
    float loss = 0;
    for (int r = 0; r < iters + 2; r++) {
        double t0 = now();
        OK(sl_nn_zero_grad(m));
        OK(sl_nn_forward(m, ids, NULL, mask, tg, -100, true, &loss));
        OK(sl_nn_backward(m));
        double t1 = now();
        if (r >= 2) t[r - 2] = t1 - t0;
    }
    printf("minilm fwd+bwd (6x384, 12 heads, ffn 1536, B=8, T=128)  runtime %.1f ms  (loss %.4f)\n",
           median(t, iters) * 1e3, loss);
    free(t); free(ids); free(tg); free(mask);
    sl_nn_destroy(m);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 0;
    int iters = argc > 2 ? atoi(argv[2]) : 10;
    sl_ctx_options o = SL_CTX_OPTIONS_INIT;
    o.device = SL_DEVICE_CPU;
    o.threads = threads;
    sl_ctx *ctx;
    OK(sl_ctx_create(&o, &ctx));
    threads = sl_ctx_threads(ctx);
    printf("device: %s\n", sl_ctx_describe(ctx));
    bench_gemm(ctx, threads, 1024, 1024, 1024, false);
    bench_gemm(ctx, threads, 1024, 1536, 384, true);
    bench_gemm(ctx, threads, 1024, 384, 1536, true);
    bench_gemm(ctx, threads, 1024, 1152, 384, true);
    bench_minilm(ctx, iters);
    sl_ctx_destroy(ctx);
    return 0;
}
