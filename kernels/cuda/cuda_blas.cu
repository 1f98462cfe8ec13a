/* cuda_blas.cu — matmul and linear (+backward) on cuBLASLt/cuBLAS: f32, f16 and bf16 with f32 accumulation, bias fused into the epilogue. */
#include "cuda_internal.cuh"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

/* cuBLASLt picks its kernels from a workspace-size budget; a fixed size keeps the choice, and
 * so the results, the same from run to run. 32 MiB is what Hopper's fastest kernels ask for. */
#define CU_BLAS_WS ((size_t)32 << 20)
#define CU_MAX_PLANS 64

struct cu_lt_plan {
    /* key */
    cudaDataType_t dt;
    cublasOperation_t ta, tb;
    int64_t m, n, k, lda, ldb, ldc;
    int align_a, align_b, align_c;
    bool bias;
    /* value */
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t la, lb, lc;
    cublasLtMatmulAlgo_t algo;
    bool usable;            /* false: no Lt algorithm, use the classic API for this shape */
    unsigned long long used;
};

static unsigned long long plan_clock;

sl_status cu_blas_stream_init(sli_stream *s) {
    CU_TRY(cu_blas_check(cublasCreate(&s->blas), "cublasCreate"));
    CU_TRY(cu_blas_check(cublasSetStream(s->blas, s->stream), "cublasSetStream"));
    CU_TRY(cu_blas_check(cublasLtCreate(&s->lt), "cublasLtCreate"));
    CU_TRY(cu_mem_alloc(CU_BLAS_WS, &s->blas_ws));
    s->blas_ws_size = CU_BLAS_WS;
    CU_TRY(cu_blas_check(cublasSetWorkspace(s->blas, s->blas_ws, s->blas_ws_size), "cublasSetWorkspace"));
    /* Reductions inside cuBLAS without atomics: bit-identical results run to run. */
    CU_TRY(cu_blas_check(cublasSetAtomicsMode(s->blas, CUBLAS_ATOMICS_NOT_ALLOWED), "cublasSetAtomicsMode"));
    /* f32 stays f32 (no TF32), so CUDA f32 results match the CPU's closely. */
    CU_TRY(cu_blas_check(cublasSetMathMode(s->blas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode"));
    s->plans = (cu_lt_plan *)calloc(CU_MAX_PLANS, sizeof(cu_lt_plan));
    if (!s->plans) return sl_set_error(SL_ERR_NOMEM, "cuda stream: out of memory");
    return SL_OK;
}

static void plan_release(cu_lt_plan *p) {
    if (p->op) cublasLtMatmulDescDestroy(p->op);
    if (p->la) cublasLtMatrixLayoutDestroy(p->la);
    if (p->lb) cublasLtMatrixLayoutDestroy(p->lb);
    if (p->lc) cublasLtMatrixLayoutDestroy(p->lc);
    memset(p, 0, sizeof *p);
}

void cu_blas_stream_fini(sli_stream *s) {
    if (s->plans) {
        for (int i = 0; i < s->nplans; i++) plan_release(&s->plans[i]);
        free(s->plans);
        s->plans = NULL;
    }
    if (s->lt) cublasLtDestroy(s->lt);
    if (s->blas) cublasDestroy(s->blas);
    if (s->blas_ws) cu_mem_free(s->blas_ws, s->blas_ws_size);
    s->lt = NULL;
    s->blas = NULL;
    s->blas_ws = NULL;
}

static int ptr_align(const void *p) {
    uintptr_t u = (uintptr_t)p;
    int a = 256;
    while (a > 1 && (u % (uintptr_t)a)) a >>= 1;
    return a;
}

static cudaDataType_t cuda_dt(sl_dtype d) {
    return d == SL_BF16 ? CUDA_R_16BF : d == SL_F16 ? CUDA_R_16F : CUDA_R_32F;
}

/* Build (or find) the Lt plan for one shape. NULL with no error when Lt cannot serve it. */
static cu_lt_plan *lt_plan(sli_stream *s, cudaDataType_t dt, cublasOperation_t ta, cublasOperation_t tb, int64_t m,
                           int64_t n, int64_t k, const void *A, int64_t lda, const void *B, int64_t ldb, void *C,
                           int64_t ldc, bool bias) {
    int aa = ptr_align(A), ab = ptr_align(B), ac = ptr_align(C);
    for (int i = 0; i < s->nplans; i++) {
        cu_lt_plan *p = &s->plans[i];
        if (p->dt == dt && p->ta == ta && p->tb == tb && p->m == m && p->n == n && p->k == k && p->lda == lda &&
            p->ldb == ldb && p->ldc == ldc && p->align_a == aa && p->align_b == ab && p->align_c == ac &&
            p->bias == bias) {
            p->used = ++plan_clock;
            return p->usable ? p : NULL;
        }
    }
    cu_lt_plan *p;
    if (s->nplans < CU_MAX_PLANS) {
        p = &s->plans[s->nplans++];
    } else { /* evict the least recently used */
        p = &s->plans[0];
        for (int i = 1; i < s->nplans; i++)
            if (s->plans[i].used < p->used) p = &s->plans[i];
        plan_release(p);
    }
    p->dt = dt; p->ta = ta; p->tb = tb; p->m = m; p->n = n; p->k = k;
    p->lda = lda; p->ldb = ldb; p->ldc = ldc; p->align_a = aa; p->align_b = ab; p->align_c = ac; p->bias = bias;
    p->used = ++plan_clock;
    p->usable = false;
    cublasLtMatmulPreference_t pref = NULL;
    bool ok = cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F) == CUBLAS_STATUS_SUCCESS;
    ok = ok && cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta) == 0;
    ok = ok && cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb) == 0;
    if (bias) {
        cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
        ok = ok && cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi) == 0;
        cudaDataType_t bdt = dt;
        ok = ok && cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bdt, sizeof bdt) == 0;
    }
    ok = ok && cublasLtMatrixLayoutCreate(&p->la, dt, ta == CUBLAS_OP_N ? m : k, ta == CUBLAS_OP_N ? k : m, lda) == 0;
    ok = ok && cublasLtMatrixLayoutCreate(&p->lb, dt, tb == CUBLAS_OP_N ? k : n, tb == CUBLAS_OP_N ? n : k, ldb) == 0;
    ok = ok && cublasLtMatrixLayoutCreate(&p->lc, dt, m, n, ldc) == 0;
    ok = ok && cublasLtMatmulPreferenceCreate(&pref) == 0;
    size_t wsb = s->blas_ws_size;
    uint32_t a32 = (uint32_t)aa, b32 = (uint32_t)ab, c32 = (uint32_t)ac;
    ok = ok && cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsb,
                                                    sizeof wsb) == 0;
    ok = ok && cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &a32,
                                                    sizeof a32) == 0;
    ok = ok && cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &b32,
                                                    sizeof b32) == 0;
    ok = ok && cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &c32,
                                                    sizeof c32) == 0;
    ok = ok && cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &c32,
                                                    sizeof c32) == 0;
    if (ok) {
        cublasLtMatmulHeuristicResult_t heur;
        int nres = 0;
        memset(&heur, 0, sizeof heur);
        if (cublasLtMatmulAlgoGetHeuristic(s->lt, p->op, p->la, p->lb, p->lc, p->lc, pref, 1, &heur, &nres) == 0 &&
            nres > 0 && heur.state == CUBLAS_STATUS_SUCCESS) {
            p->algo = heur.algo;
            p->usable = true;
        }
    }
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    return p->usable ? p : NULL;
}

/* C(m,n) = alpha * opA(A) opB(B) + beta * C, column-major (cuBLAS's view), optional bias(m)
 * added to every column. batch > 1 uses the strided-batched classic API (strides in elements;
 * stride 0 shares an operand). */
__global__ void colmajor_bias_kernel(char *C, const char *bias, int dt, int64_t m, int64_t n, int64_t ldc) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < m * n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i % m, c = i / m;
        if (dt == SL_F32) ((float *)C)[r + c * ldc] += ((const float *)bias)[r];
        else if (dt == SL_F16) {
            __half *x = (__half *)C + r + c * ldc;
            *x = __float2half_rn(__half2float(*x) + __half2float(((const __half *)bias)[r]));
        } else {
            __nv_bfloat16 *x = (__nv_bfloat16 *)C + r + c * ldc;
            *x = __float2bfloat16_rn(__bfloat162float(*x) + __bfloat162float(((const __nv_bfloat16 *)bias)[r]));
        }
    }
}

static sl_status gemm_cm(sli_stream *s, sl_dtype sdt, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                         const void *A, int64_t lda, int64_t sA, const void *B, int64_t ldb, int64_t sB, float beta,
                         void *C, int64_t ldc, int64_t sC, int64_t batch, const void *bias, const char *opname) {
    if (m == 0 || n == 0 || batch == 0) return SL_OK;
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX ||
        batch > INT_MAX)
        return sl_set_error(SL_ERR_UNSUPPORTED, "%s: matrix extents beyond 2^31 are not supported on cuda", opname);
    cudaDataType_t dt = cuda_dt(sdt);
    cublasOperation_t oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    if (lda < 1) lda = 1;
    if (ldb < 1) ldb = 1;
    if (ldc < 1) ldc = 1;
    if (batch == 1 && k > 0) {
        cu_lt_plan *p = lt_plan(s, dt, oa, ob, m, n, k, A, lda, B, ldb, C, ldc, bias != NULL);
        if (p) {
            if (bias)
                CU_TRY(cu_blas_check(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                                                    sizeof bias), opname));
            return cu_blas_check(cublasLtMatmul(s->lt, p->op, &alpha, A, p->la, B, p->lb, &beta, C, p->lc, C, p->lc,
                                                &p->algo, s->blas_ws, s->blas_ws_size, s->stream), opname);
        }
    }
    if (batch == 1)
        CU_TRY(cu_blas_check(cublasGemmEx(s->blas, oa, ob, (int)m, (int)n, (int)k, &alpha, A, dt, (int)lda, B, dt,
                                          (int)ldb, &beta, C, dt, (int)ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                             opname));
    else
        CU_TRY(cu_blas_check(cublasGemmStridedBatchedEx(s->blas, oa, ob, (int)m, (int)n, (int)k, &alpha, A, dt,
                                                        (int)lda, sA, B, dt, (int)ldb, sB, &beta, C, dt, (int)ldc, sC,
                                                        (int)batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                             opname));
    if (bias) {
        colmajor_bias_kernel<<<cu_blocks(m * n, 256, (int64_t)s->sm_count * 8), 256, 0, s->stream>>>(
            (char *)C, (const char *)bias, sdt, m, n, ldc);
        return cu_launched(opname);
    }
    return SL_OK;
}

/* Row-major C(M,N) = alpha op(A)(M,K) op(B)(K,N) + beta C: the column-major product
 * C^T = op(B)^T op(A)^T, i.e. the operands swap places. */
static sl_status gemm_rm(sli_stream *s, sl_dtype dt, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                         const void *A, int64_t lda, int64_t sA, const void *B, int64_t ldb, int64_t sB, float beta,
                         void *C, int64_t ldc, int64_t sC, int64_t batch, const char *opname) {
    return gemm_cm(s, dt, tb, ta, N, M, K, alpha, B, ldb, sB, A, lda, sA, beta, C, ldc, sC, batch, NULL, opname);
}

/* ============================================================ matmul */

typedef struct {
    const char *p;
    int64_t ld;                     /* elements */
    int64_t bstride[SL_MAX_DIMS];   /* elements; 0 = shared */
} mat_t;

typedef struct {
    int nb;
    int64_t bshape[SL_MAX_DIMS];
    int64_t nbatch;
} batch_t;

static sl_status to_mat(const char *op, const sl_tensor *t, const batch_t *bt, mat_t *m) {
    int nd = t->ndim, tb = nd - 2;
    int64_t es = (int64_t)sl_dtype_size(t->dtype);
    if (t->strides[nd - 1] != es && t->shape[nd - 1] > 1)
        return sl_set_error(SL_ERR_UNSUPPORTED, "%s: last dimension must be unit-stride", op);
    if (t->strides[nd - 2] % es)
        return sl_set_error(SL_ERR_UNSUPPORTED, "%s: row stride is not a whole number of elements", op);
    m->p = (const char *)t->data;
    m->ld = t->shape[nd - 2] <= 1 ? t->shape[nd - 1] : t->strides[nd - 2] / es;
    if (m->ld < t->shape[nd - 1]) m->ld = t->shape[nd - 1];
    if (m->ld < 1) m->ld = 1;
    for (int k = 0; k < bt->nb; k++) {
        if (tb == 0) { m->bstride[k] = 0; continue; }
        if (t->strides[k] % es)
            return sl_set_error(SL_ERR_UNSUPPORTED, "%s: batch stride is not a whole number of elements", op);
        m->bstride[k] = t->shape[k] == 1 ? 0 : t->strides[k] / es;
    }
    return SL_OK;
}

static void batch_of(const sl_tensor *x, const sl_tensor *y, const sl_tensor *z, batch_t *bt) {
    const sl_tensor *big = x;
    if (y->ndim > big->ndim) big = y;
    if (z->ndim > big->ndim) big = z;
    bt->nb = big->ndim - 2;
    bt->nbatch = 1;
    for (int k = 0; k < bt->nb; k++) {
        bt->bshape[k] = big->shape[k];
        bt->nbatch *= big->shape[k];
    }
}

static bool shared(const batch_t *bt, const mat_t *m) {
    for (int k = 0; k < bt->nb; k++)
        if (m->bstride[k] && bt->bshape[k] != 1) return false;
    return true;
}

/* Whether the batch dims of m are consecutive blocks of `rows` rows of ld (one tall matrix). */
static bool folds(const batch_t *bt, const mat_t *m, int64_t rows) {
    int64_t expect = rows * m->ld;
    for (int k = bt->nb - 1; k >= 0; k--) {
        if (bt->bshape[k] != 1 && m->bstride[k] != expect) return false;
        expect *= bt->bshape[k];
    }
    return true;
}

/* c (batch..., M, N) (+)= alpha op(a) op(b): the batch dims are walked on the host except the
 * innermost non-trivial one, which goes to the strided-batched GEMM. An unbatched c with
 * batched inputs sums the batch products into c, in batch order (deterministic). */
static sl_status gemm_batched(sli_stream *s, sl_dtype dt, const batch_t *bt, const mat_t *c, const mat_t *a,
                              const mat_t *b, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                              float beta, const char *op) {
    int64_t es = (int64_t)sl_dtype_size(dt);
    if (bt->nbatch == 0 || M == 0 || N == 0) return SL_OK;
    if (bt->nbatch == 1)
        return gemm_rm(s, dt, ta, tb, M, N, K, alpha, a->p, a->ld, 0, b->p, b->ld, 0, beta, (void *)c->p, c->ld, 0, 1,
                       op);
    bool c_shared = shared(bt, c);
    if (!c_shared && shared(bt, b) && !ta && folds(bt, a, M) && folds(bt, c, M) && a->ld == K && c->ld == N)
        return gemm_rm(s, dt, ta, tb, bt->nbatch * M, N, K, alpha, a->p, a->ld, 0, b->p, b->ld, 0, beta,
                       (void *)c->p, c->ld, 0, 1, op);
    if (c_shared && ta && !tb && folds(bt, a, K) && folds(bt, b, K))
        return gemm_rm(s, dt, true, false, M, N, bt->nbatch * K, alpha, a->p, a->ld, 0, b->p, b->ld, 0, beta,
                       (void *)c->p, c->ld, 0, 1, op);
    /* flat batch index -> element offsets */
    #define BOFF(m_, i_) ({ int64_t _o = 0, _r = (i_); for (int _k = bt->nb - 1; _k >= 0; _k--) { \
        _o += (_r % bt->bshape[_k]) * (m_)->bstride[_k]; _r /= bt->bshape[_k]; } _o; })
    if (c_shared) {
        for (int64_t i = 0; i < bt->nbatch; i++)
            CU_TRY(gemm_rm(s, dt, ta, tb, M, N, K, alpha, a->p + BOFF(a, i) * es, a->ld, 0, b->p + BOFF(b, i) * es,
                           b->ld, 0, i == 0 ? beta : 1.0f, (void *)c->p, c->ld, 0, 1, op));
        return SL_OK;
    }
    /* innermost batch dim with extent > 1 goes to cuBLAS; the rest loop here */
    int inner = bt->nb - 1;
    while (inner > 0 && bt->bshape[inner] == 1) inner--;
    int64_t nin = bt->bshape[inner], nout = bt->nbatch / nin;
    for (int64_t o = 0; o < nout; o++) {
        int64_t i0 = o * nin; /* flat index of (outer o, inner 0) given inner is the last non-1 dim */
        CU_TRY(gemm_rm(s, dt, ta, tb, M, N, K, alpha, a->p + BOFF(a, i0) * es, a->ld, a->bstride[inner],
                       b->p + BOFF(b, i0) * es, b->ld, b->bstride[inner], beta, (void *)(c->p + BOFF(c, i0) * es),
                       c->ld, c->bstride[inner], nin, op));
    }
    #undef BOFF
    return SL_OK;
}

static sl_status need_float(const char *op, const sl_tensor *t) {
    if (t->dtype != SL_F32 && t->dtype != SL_F16 && t->dtype != SL_BF16) return cu_unsupported(op, t->dtype);
    return SL_OK;
}

sl_status cu_matmul(sli_stream *s, sl_tensor *c, const sl_tensor *a, const sl_tensor *b, bool ta, bool tb,
                    float alpha, float beta) {
    CU_TRY(need_float("matmul", a));
    batch_t bt;
    batch_of(a, b, c, &bt);
    mat_t ma, mb, mc;
    CU_TRY(to_mat("matmul", a, &bt, &ma));
    CU_TRY(to_mat("matmul", b, &bt, &mb));
    CU_TRY(to_mat("matmul", c, &bt, &mc));
    int64_t M = c->shape[c->ndim - 2], N = c->shape[c->ndim - 1];
    int64_t K = ta ? a->shape[a->ndim - 2] : a->shape[a->ndim - 1];
    return gemm_batched(s, a->dtype, &bt, &mc, &ma, &mb, ta, tb, M, N, K, alpha, beta, "matmul");
}

sl_status cu_matmul_backward(sli_stream *s, sl_tensor *da, sl_tensor *db, const sl_tensor *dc, const sl_tensor *a,
                             const sl_tensor *b, bool ta, bool tb, float alpha) {
    CU_TRY(need_float("matmul_backward", a));
    const char *op = "matmul_backward";
    batch_t bt;
    batch_of(a, b, dc, &bt);
    mat_t ma, mb, mc, mda, mdb;
    CU_TRY(to_mat(op, a, &bt, &ma));
    CU_TRY(to_mat(op, b, &bt, &mb));
    CU_TRY(to_mat(op, dc, &bt, &mc));
    int64_t M = dc->shape[dc->ndim - 2], N = dc->shape[dc->ndim - 1];
    int64_t K = ta ? a->shape[a->ndim - 2] : a->shape[a->ndim - 1];
    if (da) {
        CU_TRY(to_mat(op, da, &bt, &mda));
        if (!ta) CU_TRY(gemm_batched(s, a->dtype, &bt, &mda, &mc, &mb, false, !tb, M, K, N, alpha, 1.0f, op));
        else CU_TRY(gemm_batched(s, a->dtype, &bt, &mda, &mb, &mc, tb, true, K, M, N, alpha, 1.0f, op));
    }
    if (db) {
        CU_TRY(to_mat(op, db, &bt, &mdb));
        if (!tb) CU_TRY(gemm_batched(s, a->dtype, &bt, &mdb, &ma, &mc, !ta, false, K, N, M, alpha, 1.0f, op));
        else CU_TRY(gemm_batched(s, a->dtype, &bt, &mdb, &mc, &ma, true, ta, N, K, M, alpha, 1.0f, op));
    }
    return SL_OK;
}

/* ============================================================ linear */

sl_status cu_linear(sli_stream *s, sl_tensor *out, const sl_tensor *inp, const sl_tensor *w, const sl_tensor *bias) {
    CU_TRY(need_float("linear", inp));
    int64_t N = inp->shape[0], C = inp->shape[1], OC = w->shape[0];
    if (C == 0) { /* empty contraction: out = bias (or 0) */
        if (!bias) return cu_fill(s, out, 0.0);
        CU_TRY(cu_fill(s, out, 0.0));
        sl_tensor o = *out;
        return cu_bias_add(s, &o, out, bias);
    }
    /* column-major: out^T (OC x N) = W (OC x C) . inp^T (C x N), bias over the OC rows */
    return gemm_cm(s, inp->dtype, true, false, OC, N, C, 1.0f, w->data, C, 0, inp->data, C, 0, 0.0f, out->data, OC, 0,
                   1, bias ? bias->data : NULL, "linear");
}

sl_status cu_linear_backward(sli_stream *s, sl_tensor *dinp, sl_tensor *dweight, sl_tensor *dbias,
                             const sl_tensor *dout, const sl_tensor *inp, const sl_tensor *w) {
    CU_TRY(need_float("linear_backward", inp));
    int64_t N = inp->shape[0], C = inp->shape[1], OC = w->shape[0];
    const char *op = "linear_backward";
    /* dinp^T (C x N) += W^T (C x OC) . dout^T (OC x N) */
    if (dinp && OC > 0)
        CU_TRY(gemm_cm(s, inp->dtype, false, false, C, N, OC, 1.0f, w->data, C, 0, dout->data, OC, 0, 1.0f,
                       dinp->data, C, 0, 1, NULL, op));
    /* dW^T (C x OC) += inp^T (C x N) . dout (N x OC) */
    if (dweight && N > 0)
        CU_TRY(gemm_cm(s, inp->dtype, false, true, C, OC, N, 1.0f, inp->data, C, 0, dout->data, OC, 0, 1.0f,
                       dweight->data, C, 0, 1, NULL, op));
    if (dbias) return cu_colsum_acc(s, dbias->data, dout->data, dout->dtype, N, OC);
    return SL_OK;
}
