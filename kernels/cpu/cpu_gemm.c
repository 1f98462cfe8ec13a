/* cpu_gemm.c — row-major SGEMM: OpenBLAS (one thread per call, blocks spread over the pool) or a built-in blocked kernel. */
#include "cpu.h"

#include <stdlib.h>

#ifdef SLI_HAVE_OPENBLAS
#include <cblas.h>
#endif

#ifdef SLI_HAVE_OPENBLAS
const char *cpu_gemm_provider(void) { return "openblas"; }
void cpu_gemm_init(void) {
    /* The pool provides the parallelism; two thread pools fighting over the same cores would
     * cost more than either saves. */
    openblas_set_num_threads(1);
}
#else
const char *cpu_gemm_provider(void) { return "built-in gemm"; }
void cpu_gemm_init(void) {}
#endif

#ifndef SLI_HAVE_OPENBLAS
/* Built-in GEMM for builds without BLAS: pack a KC×NC panel of op(B) row-major, then for each
 * row of C accumulate alpha*op(A)[i,k] * Bpanel[k,:] with unit-stride inner loops the compiler
 * vectorises. Not OpenBLAS, but correct for every shape and within a small factor of it. */
#define KC 256
#define NC 512
#define MR 4

static void builtin_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                         int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        if (beta == 0.0f) memset(c, 0, (size_t)N * sizeof *c);
        else if (beta != 1.0f) for (int64_t j = 0; j < N; j++) c[j] *= beta;
    }
    if (K == 0 || alpha == 0.0f) return;
    float *bp = malloc(sizeof(float) * KC * NC);
    if (!bp) { /* no memory for the panel: the unpacked loop (slow, still right) */
        for (int64_t i = 0; i < M; i++)
            for (int64_t k = 0; k < K; k++) {
                float a = alpha * (ta ? A[k * lda + i] : A[i * lda + k]);
                for (int64_t j = 0; j < N; j++) C[i * ldc + j] += a * (tb ? B[j * ldb + k] : B[k * ldb + j]);
            }
        return;
    }
    for (int64_t j0 = 0; j0 < N; j0 += NC) {
        int64_t nc = N - j0 < NC ? N - j0 : NC;
        for (int64_t k0 = 0; k0 < K; k0 += KC) {
            int64_t kc = K - k0 < KC ? K - k0 : KC;
            for (int64_t k = 0; k < kc; k++)
                for (int64_t j = 0; j < nc; j++)
                    bp[k * nc + j] = tb ? B[(j0 + j) * ldb + k0 + k] : B[(k0 + k) * ldb + j0 + j];
            int64_t i = 0;
            for (; i + MR <= M; i += MR) {
                float *c0 = C + (i + 0) * ldc + j0, *c1 = C + (i + 1) * ldc + j0;
                float *c2 = C + (i + 2) * ldc + j0, *c3 = C + (i + 3) * ldc + j0;
                for (int64_t k = 0; k < kc; k++) {
                    float a0, a1, a2, a3;
                    if (ta) {
                        const float *ak = A + (k0 + k) * lda + i;
                        a0 = ak[0]; a1 = ak[1]; a2 = ak[2]; a3 = ak[3];
                    } else {
                        a0 = A[(i + 0) * lda + k0 + k]; a1 = A[(i + 1) * lda + k0 + k];
                        a2 = A[(i + 2) * lda + k0 + k]; a3 = A[(i + 3) * lda + k0 + k];
                    }
                    a0 *= alpha; a1 *= alpha; a2 *= alpha; a3 *= alpha;
                    const float *b = bp + k * nc;
                    for (int64_t j = 0; j < nc; j++) {
                        float bj = b[j];
                        c0[j] += a0 * bj; c1[j] += a1 * bj; c2[j] += a2 * bj; c3[j] += a3 * bj;
                    }
                }
            }
            for (; i < M; i++) {
                float *c = C + i * ldc + j0;
                for (int64_t k = 0; k < kc; k++) {
                    float a = alpha * (ta ? A[(k0 + k) * lda + i] : A[i * lda + k0 + k]);
                    const float *b = bp + k * nc;
                    for (int64_t j = 0; j < nc; j++) c[j] += a * b[j];
                }
            }
        }
    }
    free(bp);
}
#endif

void cpu_sgemm_serial(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                      const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
#ifdef SLI_HAVE_OPENBLAS
    if (K == 0) { /* some BLAS builds skip beta scaling when K == 0 */
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)M,
                (blasint)N, (blasint)K, alpha, A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
#else
    builtin_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

typedef struct {
    bool ta, tb, split_rows;
    int64_t M, N, K, lda, ldb, ldc;
    float alpha, beta;
    const float *A, *B;
    float *C;
    int64_t block;  /* rows or columns per work item */
} gemm_job;

static void gemm_task(void *arg, int64_t b, int64_t e) {
    const gemm_job *j = arg;
    int64_t lo = b * j->block, hi = e * j->block;
    if (j->split_rows) {
        if (hi > j->M) hi = j->M;
        const float *A = j->ta ? j->A + lo : j->A + lo * j->lda;
        cpu_sgemm_serial(j->ta, j->tb, hi - lo, j->N, j->K, j->alpha, A, j->lda, j->B, j->ldb, j->beta,
                         j->C + lo * j->ldc, j->ldc);
    } else {
        if (hi > j->N) hi = j->N;
        const float *B = j->tb ? j->B + lo * j->ldb : j->B + lo;
        cpu_sgemm_serial(j->ta, j->tb, j->M, hi - lo, j->K, j->alpha, j->A, j->lda, B, j->ldb, j->beta, j->C + lo,
                         j->ldc);
    }
}

void cpu_sgemm(sli_stream *s, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
               int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    int threads = cpu_threads(s);
    double flops = 2.0 * (double)M * (double)N * (double)K;
    if (threads <= 1 || flops < 2e5 * threads) {
        cpu_sgemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    /* Split the larger of M and N in blocks that keep the micro-kernel's tiles whole
     * (multiples of 16), one or more per thread. */
    gemm_job j = { ta, tb, M >= N, M, N, K, lda, ldb, ldc, alpha, beta, A, B, C, 0 };
    int64_t dim = j.split_rows ? M : N;
    int64_t per = (dim + threads - 1) / threads;
    per = (per + 15) / 16 * 16;
    j.block = per;
    int64_t items = (dim + per - 1) / per;
    cpu_run(s, items, 1, gemm_task, &j);
}
