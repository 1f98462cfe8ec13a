/* cpu_ops.c — CPU kernels of every op but attention and RNG: GEMM-based products, elementwise, norms, losses, optimiser. */
#include "cpu.h"
#include "cpu_math.h"

#include <float.h>
#include <stdlib.h>

#include "core/internal.h"

/* Row-chunk size for column reductions (bias/LayerNorm weight grads). Fixed, so partial sums
 * and therefore results do not depend on the thread count. */
#define ROW_CHUNK 64
/* Element-chunk size for full reductions (sum of squares, reduce over everything). */
#define ELEM_CHUNK 16384

#define F(t) ((float *)(t)->data)
#define CF(t) ((const float *)(t)->data)

/* ============================================================ matmul */

/* A matrix operand: base pointer, leading dimension (elements), batch strides (elements, 0 = shared). */
typedef struct {
    float *p;
    int64_t ld;
    int64_t bstride[SL_MAX_DIMS];
} mat_t;

typedef struct {
    int nb;                       /* number of batch dims */
    int64_t bshape[SL_MAX_DIMS];
    int64_t nbatch;
} batch_t;

static sl_status to_mat(const char *op, const sl_tensor *t, const batch_t *bt, mat_t *m) {
    int nd = t->ndim, tb = nd - 2;
    if (t->strides[nd - 1] != 4 && t->shape[nd - 1] > 1)
        return sl_set_error(SL_ERR_UNSUPPORTED, "%s: last dimension must be unit-stride", op);
    if (t->strides[nd - 2] % 4)
        return sl_set_error(SL_ERR_UNSUPPORTED, "%s: row stride is not a whole number of elements", op);
    m->p = t->data;
    m->ld = t->shape[nd - 2] <= 1 ? t->shape[nd - 1] : t->strides[nd - 2] / 4;
    if (m->ld < t->shape[nd - 1]) m->ld = t->shape[nd - 1];
    if (m->ld < 1) m->ld = 1;
    for (int k = 0; k < bt->nb; k++) {
        if (tb == 0) { m->bstride[k] = 0; continue; }
        if (t->strides[k] % 4)
            return sl_set_error(SL_ERR_UNSUPPORTED, "%s: batch stride is not a whole number of elements", op);
        m->bstride[k] = t->strides[k] / 4;
    }
    return SL_OK;
}

static inline int64_t batch_off(const batch_t *bt, const mat_t *m, int64_t bi) {
    int64_t off = 0;
    for (int k = bt->nb - 1; k >= 0; k--) {
        off += (bi % bt->bshape[k]) * m->bstride[k];
        bi /= bt->bshape[k];
    }
    return off;
}

typedef struct {
    const batch_t *bt;
    const mat_t *a, *b, *c;
    bool ta, tb;
    int64_t M, N, K;
    float alpha, beta;
} bgemm_job;

static void bgemm_task(void *arg, int64_t lo, int64_t hi) {
    const bgemm_job *j = arg;
    for (int64_t i = lo; i < hi; i++)
        cpu_sgemm_serial(j->ta, j->tb, j->M, j->N, j->K, j->alpha, j->a->p + batch_off(j->bt, j->a, i), j->a->ld,
                         j->b->p + batch_off(j->bt, j->b, i), j->b->ld, j->beta, j->c->p + batch_off(j->bt, j->c, i),
                         j->c->ld);
}

static bool zero_bstride(const batch_t *bt, const mat_t *m) {
    for (int k = 0; k < bt->nb; k++)
        if (m->bstride[k]) return false;
    return true;
}

/* Whether the batch dims of m are laid out as consecutive blocks of `rows` rows of ld. */
static bool folds(const batch_t *bt, const mat_t *m, int64_t rows) {
    int64_t expect = rows * m->ld;
    for (int k = bt->nb - 1; k >= 0; k--) {
        if (bt->bshape[k] != 1 && m->bstride[k] != expect) return false;
        expect *= bt->bshape[k];
    }
    return true;
}

/* c (batch..., M, N) (+)= alpha op(a) op(b); any operand may be unbatched (batch stride 0). An
 * unbatched c with batched inputs sums the batch products into c. */
static void gemm_batched(sli_stream *s, const batch_t *bt, const mat_t *c, const mat_t *a, const mat_t *b, bool ta,
                         bool tb, int64_t M, int64_t N, int64_t K, float alpha, float beta) {
    if (bt->nbatch == 0 || M == 0 || N == 0) return;
    if (bt->nbatch == 1) {
        cpu_sgemm(s, ta, tb, M, N, K, alpha, a->p, a->ld, b->p, b->ld, beta, c->p, c->ld);
        return;
    }
    bool c_shared = zero_bstride(bt, c);
    if (!c_shared && zero_bstride(bt, b) && !ta && folds(bt, a, M) && folds(bt, c, M) && a->ld == K) {
        /* shared right operand: one tall GEMM */
        cpu_sgemm(s, ta, tb, bt->nbatch * M, N, K, alpha, a->p, a->ld, b->p, b->ld, beta, c->p, c->ld);
        return;
    }
    if (c_shared && ta && !tb && folds(bt, a, K) && folds(bt, b, K)) {
        /* c = sum_i a_i^T b_i = [a_0;a_1;...]^T [b_0;b_1;...]: one GEMM with a long K */
        cpu_sgemm(s, true, false, M, N, bt->nbatch * K, alpha, a->p, a->ld, b->p, b->ld, beta, c->p, c->ld);
        return;
    }
    if (c_shared) {
        for (int64_t i = 0; i < bt->nbatch; i++)
            cpu_sgemm(s, ta, tb, M, N, K, alpha, a->p + batch_off(bt, a, i), a->ld, b->p + batch_off(bt, b, i), b->ld,
                      i == 0 ? beta : 1.0f, c->p, c->ld);
        return;
    }
    if (bt->nbatch >= cpu_threads(s) && (double)M * N * K < 4e6) {
        bgemm_job j = { bt, a, b, c, ta, tb, M, N, K, alpha, beta };
        cpu_run(s, bt->nbatch, 1, bgemm_task, &j);
        return;
    }
    for (int64_t i = 0; i < bt->nbatch; i++)
        cpu_sgemm(s, ta, tb, M, N, K, alpha, a->p + batch_off(bt, a, i), a->ld, b->p + batch_off(bt, b, i), b->ld,
                  beta, c->p + batch_off(bt, c, i), c->ld);
}

/* Batch geometry from the operand with the most dims. */
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

sl_status cpu_matmul(sli_stream *s, sl_tensor *c, const sl_tensor *a, const sl_tensor *b, bool ta, bool tb,
                     float alpha, float beta) {
    CPU_F32("matmul", c, a, b);
    batch_t bt;
    batch_of(a, b, c, &bt);
    mat_t ma, mb, mc;
    sl_status st;
    if ((st = to_mat("matmul", a, &bt, &ma)) || (st = to_mat("matmul", b, &bt, &mb)) ||
        (st = to_mat("matmul", c, &bt, &mc)))
        return st;
    int64_t M = c->shape[c->ndim - 2], N = c->shape[c->ndim - 1];
    int64_t K = ta ? a->shape[a->ndim - 2] : a->shape[a->ndim - 1];
    gemm_batched(s, &bt, &mc, &ma, &mb, ta, tb, M, N, K, alpha, beta);
    return SL_OK;
}

sl_status cpu_matmul_backward(sli_stream *s, sl_tensor *da, sl_tensor *db, const sl_tensor *dc, const sl_tensor *a,
                              const sl_tensor *b, bool ta, bool tb, float alpha) {
    CPU_F32("matmul_backward", da, db, dc, a, b);
    batch_t bt;
    batch_of(a, b, dc, &bt);
    mat_t ma, mb, mc, mda, mdb;
    sl_status st;
    if ((st = to_mat("matmul_backward", a, &bt, &ma)) || (st = to_mat("matmul_backward", b, &bt, &mb)) ||
        (st = to_mat("matmul_backward", dc, &bt, &mc)))
        return st;
    int64_t M = dc->shape[dc->ndim - 2], N = dc->shape[dc->ndim - 1];
    int64_t K = ta ? a->shape[a->ndim - 2] : a->shape[a->ndim - 1];
    if (da) {
        if ((st = to_mat("matmul_backward", da, &bt, &mda))) return st;
        if (!ta) /* da (M,K) += dc (M,N) op(b)^T */
            gemm_batched(s, &bt, &mda, &mc, &mb, false, !tb, M, K, N, alpha, 1.0f);
        else     /* da (K,M) += op(b) (K,N) dc^T */
            gemm_batched(s, &bt, &mda, &mb, &mc, tb, true, K, M, N, alpha, 1.0f);
    }
    if (db) {
        if ((st = to_mat("matmul_backward", db, &bt, &mdb))) return st;
        if (!tb) /* db (K,N) += op(a)^T (K,M) dc (M,N) */
            gemm_batched(s, &bt, &mdb, &ma, &mc, !ta, false, K, N, M, alpha, 1.0f);
        else     /* db (N,K) += dc^T (N,M) op(a) (M,K) */
            gemm_batched(s, &bt, &mdb, &mc, &ma, true, ta, N, K, M, alpha, 1.0f);
    }
    return SL_OK;
}

/* ============================================================ column sums (bias grads) */

typedef struct {
    const float *x;      /* (rows, C) */
    int64_t rows, C;
    float *partial;      /* (nchunks, C) */
} colsum_job;

CPU_HOT static void colsum_task(void *arg, int64_t b, int64_t e) {
    const colsum_job *j = arg;
    for (int64_t ch = b; ch < e; ch++) {
        float *acc = j->partial + ch * j->C;
        memset(acc, 0, (size_t)j->C * sizeof *acc);
        int64_t r1 = (ch + 1) * ROW_CHUNK < j->rows ? (ch + 1) * ROW_CHUNK : j->rows;
        for (int64_t r = ch * ROW_CHUNK; r < r1; r++) {
            const float *x = j->x + r * j->C;
            for (int64_t c = 0; c < j->C; c++) acc[c] += x[c];
        }
    }
}

typedef struct { float *dst; const float *partial; int64_t nchunks, C; } colsum_reduce_job;

static void colsum_reduce_task(void *arg, int64_t b, int64_t e) {
    const colsum_reduce_job *j = arg;
    for (int64_t c = b; c < e; c++) {
        float acc = 0;
        for (int64_t ch = 0; ch < j->nchunks; ch++) acc += j->partial[ch * j->C + c];
        j->dst[c] += acc;
    }
}

/* dst (C) += column sums of x (rows, C), deterministic whatever the thread count. */
static sl_status colsum_acc(sli_stream *s, float *dst, const float *x, int64_t rows, int64_t C) {
    int64_t nch = (rows + ROW_CHUNK - 1) / ROW_CHUNK;
    if (!nch || !C) return SL_OK;
    float *partial = cpu_workspace(s, (size_t)(nch * C) * sizeof(float));
    if (!partial) return SL_ERR_NOMEM;
    colsum_job j = { x, rows, C, partial };
    cpu_run(s, nch, 1, colsum_task, &j);
    colsum_reduce_job r = { dst, partial, nch, C };
    cpu_run(s, C, 64, colsum_reduce_task, &r);
    return SL_OK;
}

/* ============================================================ linear, bias, add */

typedef struct { float *out; const float *inp, *bias; int64_t C; float alpha, beta; } rows_job;

static void bias_fill_task(void *arg, int64_t b, int64_t e) {
    const rows_job *j = arg;
    for (int64_t r = b; r < e; r++) memcpy(j->out + r * j->C, j->bias, (size_t)j->C * sizeof(float));
}

sl_status cpu_linear(sli_stream *s, sl_tensor *out, const sl_tensor *inp, const sl_tensor *w, const sl_tensor *bias) {
    CPU_F32("linear", out, inp, w, bias);
    int64_t N = inp->shape[0], C = inp->shape[1], OC = w->shape[0];
    float beta = 0.0f;
    if (bias) {
        rows_job j = { F(out), NULL, CF(bias), OC, 0, 0 };
        cpu_run(s, N, 64, bias_fill_task, &j);
        beta = 1.0f;
    }
    cpu_sgemm(s, false, true, N, OC, C, 1.0f, CF(inp), C, CF(w), C, beta, F(out), OC);
    return SL_OK;
}

sl_status cpu_linear_backward(sli_stream *s, sl_tensor *dinp, sl_tensor *dweight, sl_tensor *dbias,
                              const sl_tensor *dout, const sl_tensor *inp, const sl_tensor *w) {
    CPU_F32("linear_backward", dinp, dweight, dbias, dout, inp, w);
    int64_t N = inp->shape[0], C = inp->shape[1], OC = w->shape[0];
    if (dinp) cpu_sgemm(s, false, false, N, C, OC, 1.0f, CF(dout), OC, CF(w), C, 1.0f, F(dinp), C);
    if (dweight) cpu_sgemm(s, true, false, OC, C, N, 1.0f, CF(dout), OC, CF(inp), C, 1.0f, F(dweight), C);
    if (dbias) return colsum_acc(s, F(dbias), CF(dout), N, OC);
    return SL_OK;
}

CPU_HOT static void bias_add_task(void *arg, int64_t b, int64_t e) {
    const rows_job *j = arg;
    for (int64_t r = b; r < e; r++) {
        float *o = j->out + r * j->C;
        const float *x = j->inp + r * j->C;
        for (int64_t c = 0; c < j->C; c++) o[c] = x[c] + j->bias[c];
    }
}

sl_status cpu_bias_add(sli_stream *s, sl_tensor *out, const sl_tensor *inp, const sl_tensor *bias) {
    CPU_F32("bias_add", out, inp, bias);
    rows_job j = { F(out), CF(inp), CF(bias), inp->shape[1], 0, 0 };
    cpu_run(s, inp->shape[0], 16384 / (j.C + 1) + 1, bias_add_task, &j);
    return SL_OK;
}

typedef struct { float *y; const float *a, *b; float alpha, beta; } ew_job;

CPU_HOT static void axpby_task(void *arg, int64_t b, int64_t e) {
    const ew_job *j = arg;
    float *y = j->y;
    const float *x = j->a;
    float al = j->alpha, be = j->beta;
    if (be == 1.0f && al == 1.0f) for (int64_t i = b; i < e; i++) y[i] += x[i];
    else if (be == 0.0f) for (int64_t i = b; i < e; i++) y[i] = al * x[i];
    else for (int64_t i = b; i < e; i++) y[i] = al * x[i] + be * y[i];
}

sl_status cpu_axpby(sli_stream *s, sl_tensor *y, float alpha, const sl_tensor *x, float beta) {
    CPU_F32("axpby", y, x);
    ew_job j = { F(y), CF(x), NULL, alpha, beta };
    cpu_run(s, sl_tensor_numel(x), 16384, axpby_task, &j);
    return SL_OK;
}

sl_status cpu_bias_add_backward(sli_stream *s, sl_tensor *dinp, sl_tensor *dbias, const sl_tensor *dout) {
    CPU_F32("bias_add_backward", dinp, dbias, dout);
    if (dinp) {
        ew_job j = { F(dinp), CF(dout), NULL, 1.0f, 1.0f };
        cpu_run(s, sl_tensor_numel(dout), 16384, axpby_task, &j);
    }
    if (dbias) return colsum_acc(s, F(dbias), CF(dout), dout->shape[0], dout->shape[1]);
    return SL_OK;
}

CPU_HOT static void add_task(void *arg, int64_t b, int64_t e) {
    const ew_job *j = arg;
    for (int64_t i = b; i < e; i++) j->y[i] = j->a[i] + j->b[i];
}

sl_status cpu_add(sli_stream *s, sl_tensor *out, const sl_tensor *a, const sl_tensor *b) {
    CPU_F32("add", out, a, b);
    ew_job j = { F(out), CF(a), CF(b), 1, 1 };
    cpu_run(s, sl_tensor_numel(a), 16384, add_task, &j);
    return SL_OK;
}

CPU_HOT static void scale_task(void *arg, int64_t b, int64_t e) {
    const ew_job *j = arg;
    for (int64_t i = b; i < e; i++) j->y[i] *= j->alpha;
}

sl_status cpu_scale(sli_stream *s, sl_tensor *t, float alpha) {
    CPU_F32("scale", t);
    ew_job j = { F(t), NULL, NULL, alpha, 0 };
    cpu_run(s, sl_tensor_numel(t), 16384, scale_task, &j);
    return SL_OK;
}

/* ============================================================ GELU */

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_C 0.044715f
#define INV_SQRT_2PI 0.3989422804014327f

typedef struct { float *out; const float *inp, *dout; } gelu_job;

CPU_HOT static void gelu_erf_task(void *arg, int64_t b, int64_t e) {
    const gelu_job *j = arg;
    for (int64_t i = b; i < e; i++) {
        float x = j->inp[i];
        j->out[i] = x * cpu_phi(x);
    }
}

CPU_HOT static void gelu_tanh_task(void *arg, int64_t b, int64_t e) {
    const gelu_job *j = arg;
    for (int64_t i = b; i < e; i++) {
        float x = j->inp[i];
        float u = GELU_K * (x + GELU_C * x * x * x);
        j->out[i] = x * cpu_sigmoid(2.0f * u); /* 0.5 x (1 + tanh u), without cancellation */
    }
}

CPU_HOT static void gelu_erf_bwd_task(void *arg, int64_t b, int64_t e) {
    const gelu_job *j = arg;
    for (int64_t i = b; i < e; i++) {
        float x = j->inp[i];
        float g = cpu_phi(x) + x * INV_SQRT_2PI * cpu_expf(-0.5f * x * x);
        j->out[i] += j->dout[i] * g;
    }
}

CPU_HOT static void gelu_tanh_bwd_task(void *arg, int64_t b, int64_t e) {
    const gelu_job *j = arg;
    for (int64_t i = b; i < e; i++) {
        float x = j->inp[i];
        float u = GELU_K * (x + GELU_C * x * x * x);
        float sg = cpu_sigmoid(2.0f * u);  /* (1 + tanh u) / 2 */
        float du = GELU_K * (1.0f + 3.0f * GELU_C * x * x);
        float g = sg + x * 2.0f * sg * (1.0f - sg) * du;
        j->out[i] += j->dout[i] * g;
    }
}

sl_status cpu_gelu(sli_stream *s, sl_tensor *out, const sl_tensor *inp, sl_gelu_kind kind) {
    CPU_F32("gelu", out, inp);
    gelu_job j = { F(out), CF(inp), NULL };
    cpu_run(s, sl_tensor_numel(inp), 8192, kind == SL_GELU_ERF ? gelu_erf_task : gelu_tanh_task, &j);
    return SL_OK;
}

sl_status cpu_gelu_backward(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *inp,
                            sl_gelu_kind kind) {
    CPU_F32("gelu_backward", dinp, dout, inp);
    gelu_job j = { F(dinp), CF(inp), CF(dout) };
    cpu_run(s, sl_tensor_numel(inp), 8192, kind == SL_GELU_ERF ? gelu_erf_bwd_task : gelu_tanh_bwd_task, &j);
    return SL_OK;
}

/* ============================================================ LayerNorm */

typedef struct {
    float *out, *mean, *rstd, *dinp, *partial;
    const float *inp, *w, *bias, *dout, *cmean, *crstd;
    int64_t N, C;
    float eps;
} ln_job;

CPU_HOT static void ln_fwd_task(void *arg, int64_t b, int64_t e) {
    const ln_job *j = arg;
    int64_t C = j->C;
    for (int64_t r = b; r < e; r++) {
        const float *x = j->inp + r * C;
        float *o = j->out + r * C;
        float m = 0;
        for (int64_t c = 0; c < C; c++) m += x[c];
        m /= (float)C;
        float v = 0;
        for (int64_t c = 0; c < C; c++) { float d = x[c] - m; v += d * d; }
        v /= (float)C;
        float rs = 1.0f / sqrtf(v + j->eps);
        if (j->w && j->bias)
            for (int64_t c = 0; c < C; c++) o[c] = (x[c] - m) * rs * j->w[c] + j->bias[c];
        else
            for (int64_t c = 0; c < C; c++) {
                float y = (x[c] - m) * rs;
                if (j->w) y *= j->w[c];
                if (j->bias) y += j->bias[c];
                o[c] = y;
            }
        if (j->mean) j->mean[r] = m;
        if (j->rstd) j->rstd[r] = rs;
    }
}

sl_status cpu_layernorm(sli_stream *s, sl_tensor *out, sl_tensor *mean, sl_tensor *rstd, const sl_tensor *inp,
                        const sl_tensor *w, const sl_tensor *bias, float eps) {
    CPU_F32("layernorm", out, inp, w, bias);
    ln_job j = { F(out), mean ? F(mean) : NULL, rstd ? F(rstd) : NULL, NULL, NULL, CF(inp), w ? CF(w) : NULL,
                 bias ? CF(bias) : NULL, NULL, NULL, NULL, inp->shape[0], inp->shape[1], eps };
    cpu_run(s, j.N, 8, ln_fwd_task, &j);
    return SL_OK;
}

/* Per row chunk: dinp += ...; partial[chunk] = (dweight part, dbias part). */
CPU_HOT static void ln_bwd_task(void *arg, int64_t b, int64_t e) {
    const ln_job *j = arg;
    int64_t C = j->C;
    for (int64_t ch = b; ch < e; ch++) {
        float *pw = j->partial ? j->partial + ch * 2 * C : NULL, *pb = pw ? pw + C : NULL;
        if (pw) memset(pw, 0, 2 * (size_t)C * sizeof(float));
        int64_t r1 = (ch + 1) * ROW_CHUNK < j->N ? (ch + 1) * ROW_CHUNK : j->N;
        for (int64_t r = ch * ROW_CHUNK; r < r1; r++) {
            const float *x = j->inp + r * C, *dy = j->dout + r * C;
            float m = j->cmean[r], rs = j->crstd[r];
            if (pw)
                for (int64_t c = 0; c < C; c++) {
                    float n = (x[c] - m) * rs;
                    pw[c] += dy[c] * n;
                    pb[c] += dy[c];
                }
            if (!j->dinp) continue;
            float s1 = 0, s2 = 0; /* mean(dnorm), mean(dnorm * norm) */
            for (int64_t c = 0; c < C; c++) {
                float dn = j->w ? dy[c] * j->w[c] : dy[c];
                s1 += dn;
                s2 += dn * (x[c] - m) * rs;
            }
            s1 /= (float)C;
            s2 /= (float)C;
            float *dx = j->dinp + r * C;
            for (int64_t c = 0; c < C; c++) {
                float dn = j->w ? dy[c] * j->w[c] : dy[c];
                float n = (x[c] - m) * rs;
                dx[c] += (dn - s1 - n * s2) * rs;
            }
        }
    }
}

typedef struct { float *dw, *db; const float *partial; int64_t nch, C; } ln_reduce_job;

static void ln_reduce_task(void *arg, int64_t b, int64_t e) {
    const ln_reduce_job *j = arg;
    for (int64_t c = b; c < e; c++) {
        float aw = 0, ab = 0;
        for (int64_t ch = 0; ch < j->nch; ch++) {
            aw += j->partial[ch * 2 * j->C + c];
            ab += j->partial[ch * 2 * j->C + j->C + c];
        }
        if (j->dw) j->dw[c] += aw;
        if (j->db) j->db[c] += ab;
    }
}

sl_status cpu_layernorm_backward(sli_stream *s, sl_tensor *dinp, sl_tensor *dweight, sl_tensor *dbias,
                                 const sl_tensor *dout, const sl_tensor *inp, const sl_tensor *w,
                                 const sl_tensor *mean, const sl_tensor *rstd) {
    CPU_F32("layernorm_backward", dinp, dweight, dbias, dout, inp, w);
    int64_t N = inp->shape[0], C = inp->shape[1];
    int64_t nch = (N + ROW_CHUNK - 1) / ROW_CHUNK;
    float *partial = NULL;
    if (dweight || dbias) {
        partial = cpu_workspace(s, (size_t)(nch * 2 * C) * sizeof(float));
        if (!partial && nch) return SL_ERR_NOMEM;
    }
    ln_job j = { NULL, NULL, NULL, dinp ? F(dinp) : NULL, partial, CF(inp), w ? CF(w) : NULL, NULL, CF(dout),
                 CF(mean), CF(rstd), N, C, 0 };
    cpu_run(s, nch, 1, ln_bwd_task, &j);
    if (partial) {
        ln_reduce_job r = { dweight ? F(dweight) : NULL, dbias ? F(dbias) : NULL, partial, nch, C };
        cpu_run(s, C, 64, ln_reduce_task, &r);
    }
    return SL_OK;
}

/* ============================================================ softmax */

typedef struct { float *out; const float *inp, *dout, *y; int64_t C; } sm_job;

CPU_HOT static void softmax_task(void *arg, int64_t b, int64_t e) {
    const sm_job *j = arg;
    int64_t C = j->C;
    for (int64_t r = b; r < e; r++) {
        const float *x = j->inp + r * C;
        float *o = j->out + r * C;
        float m = -INFINITY;
        for (int64_t c = 0; c < C; c++) m = x[c] > m ? x[c] : m;
        float sum = 0;
        for (int64_t c = 0; c < C; c++) { o[c] = cpu_expf(x[c] - m); sum += o[c]; }
        float inv = 1.0f / sum;
        for (int64_t c = 0; c < C; c++) o[c] *= inv;
    }
}

CPU_HOT static void softmax_bwd_task(void *arg, int64_t b, int64_t e) {
    const sm_job *j = arg;
    int64_t C = j->C;
    for (int64_t r = b; r < e; r++) {
        const float *y = j->y + r * C, *dy = j->dout + r * C;
        float *dx = j->out + r * C;
        float dot = 0;
        for (int64_t c = 0; c < C; c++) dot += dy[c] * y[c];
        for (int64_t c = 0; c < C; c++) dx[c] += y[c] * (dy[c] - dot);
    }
}

sl_status cpu_softmax(sli_stream *s, sl_tensor *out, const sl_tensor *inp) {
    CPU_F32("softmax", out, inp);
    sm_job j = { F(out), CF(inp), NULL, NULL, inp->shape[1] };
    cpu_run(s, inp->shape[0], 4096 / (j.C + 1) + 1, softmax_task, &j);
    return SL_OK;
}

sl_status cpu_softmax_backward(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *out) {
    CPU_F32("softmax_backward", dinp, dout, out);
    sm_job j = { F(dinp), NULL, CF(dout), CF(out), out->shape[1] };
    cpu_run(s, out->shape[0], 4096 / (j.C + 1) + 1, softmax_bwd_task, &j);
    return SL_OK;
}

/* ============================================================ embedding */

static inline int64_t id_at(const sl_tensor *ids, int64_t i) {
    return ids->dtype == SL_I32 ? ((const int32_t *)ids->data)[i] : ((const int64_t *)ids->data)[i];
}

typedef struct {
    float *out, *dtable, *dpos;
    const float *table, *pos, *dout;
    const sl_tensor *ids;
    int64_t B, T, C, pos_offset;
} emb_job;

CPU_HOT static void emb_fwd_task(void *arg, int64_t b, int64_t e) {
    const emb_job *j = arg;
    int64_t C = j->C;
    for (int64_t r = b; r < e; r++) {
        const float *w = j->table + id_at(j->ids, r) * C;
        float *o = j->out + r * C;
        if (j->pos) {
            const float *p = j->pos + (j->pos_offset + r % j->T) * C;
            for (int64_t c = 0; c < C; c++) o[c] = w[c] + p[c];
        } else {
            memcpy(o, w, (size_t)C * sizeof(float));
        }
    }
}

/* Each task owns a slice of channels [b, e) for every row: no two tasks touch the same
 * gradient element, and each element sums its contributions in (b,t) order. */
static void emb_bwd_task(void *arg, int64_t c0, int64_t c1) {
    const emb_job *j = arg;
    int64_t C = j->C, n = j->B * j->T;
    for (int64_t r = 0; r < n; r++) {
        const float *dy = j->dout + r * C;
        if (j->dtable) {
            float *g = j->dtable + id_at(j->ids, r) * C;
            for (int64_t c = c0; c < c1; c++) g[c] += dy[c];
        }
        if (j->dpos) {
            float *g = j->dpos + (j->pos_offset + r % j->T) * C;
            for (int64_t c = c0; c < c1; c++) g[c] += dy[c];
        }
    }
}

sl_status cpu_embedding(sli_stream *s, sl_tensor *out, const sl_tensor *ids, const sl_tensor *table,
                        const sl_tensor *pos, int64_t pos_offset) {
    CPU_F32("embedding", out, table, pos);
    emb_job j = { F(out), NULL, NULL, CF(table), pos ? CF(pos) : NULL, NULL, ids, ids->shape[0], ids->shape[1],
                  out->shape[2], pos_offset };
    cpu_run(s, j.B * j.T, 16, emb_fwd_task, &j);
    return SL_OK;
}

sl_status cpu_embedding_backward(sli_stream *s, sl_tensor *dtable, sl_tensor *dpos, const sl_tensor *dout,
                                 const sl_tensor *ids, int64_t pos_offset) {
    CPU_F32("embedding_backward", dtable, dpos, dout);
    emb_job j = { NULL, dtable ? F(dtable) : NULL, dpos ? F(dpos) : NULL, NULL, NULL, CF(dout), ids, ids->shape[0],
                  ids->shape[1], dout->shape[2], pos_offset };
    cpu_run(s, j.C, 16, emb_bwd_task, &j);
    return SL_OK;
}

/* ============================================================ cross-entropy */

typedef struct {
    float *losses, *lse, *dlogits;
    const float *logits, *clse, *dlosses;
    const sl_tensor *targets;
    int64_t V, ignore;
} ce_job;

CPU_HOT static void ce_fwd_task(void *arg, int64_t b, int64_t e) {
    const ce_job *j = arg;
    int64_t V = j->V;
    for (int64_t r = b; r < e; r++) {
        const float *x = j->logits + r * V;
        float m = -INFINITY;
        for (int64_t c = 0; c < V; c++) m = x[c] > m ? x[c] : m;
        float sum = 0;
        for (int64_t c = 0; c < V; c++) sum += cpu_expf(x[c] - m);
        float l = m + logf(sum);
        j->lse[r] = l;
        int64_t t = id_at(j->targets, r);
        j->losses[r] = t == j->ignore ? 0.0f : l - x[t];
    }
}

CPU_HOT static void ce_bwd_task(void *arg, int64_t b, int64_t e) {
    const ce_job *j = arg;
    int64_t V = j->V;
    for (int64_t r = b; r < e; r++) {
        int64_t t = id_at(j->targets, r);
        if (t == j->ignore) continue;
        const float *x = j->logits + r * V;
        float *dx = j->dlogits + r * V;
        float g = j->dlosses[r], l = j->clse[r];
        for (int64_t c = 0; c < V; c++) dx[c] += g * cpu_expf(x[c] - l);
        dx[t] -= g;
    }
}

sl_status cpu_cross_entropy(sli_stream *s, sl_tensor *losses, sl_tensor *lse, const sl_tensor *logits,
                            const sl_tensor *targets, int64_t ignore_index) {
    CPU_F32("cross_entropy", logits);
    ce_job j = { F(losses), F(lse), NULL, CF(logits), NULL, NULL, targets, logits->shape[1], ignore_index };
    cpu_run(s, logits->shape[0], 4096 / (j.V + 1) + 1, ce_fwd_task, &j);
    return SL_OK;
}

sl_status cpu_cross_entropy_backward(sli_stream *s, sl_tensor *dlogits, const sl_tensor *dlosses,
                                     const sl_tensor *logits, const sl_tensor *lse, const sl_tensor *targets,
                                     int64_t ignore_index) {
    CPU_F32("cross_entropy_backward", dlogits, logits);
    ce_job j = { NULL, NULL, F(dlogits), CF(logits), CF(lse), CF(dlosses), targets, logits->shape[1], ignore_index };
    cpu_run(s, logits->shape[0], 4096 / (j.V + 1) + 1, ce_bwd_task, &j);
    return SL_OK;
}

/* ============================================================ reductions */

typedef struct {
    float *out, *dinp;
    const float *inp, *dout, *cout;
    double *partial;
    int64_t outer, n, inner;
    sl_reduce_op op;
    int64_t *idx64;
    int32_t *idx32;
} red_job;

/* One output (o, i) of the (outer, n, inner) view. */
static void red_task(void *arg, int64_t b, int64_t e) {
    const red_job *j = arg;
    for (int64_t q = b; q < e; q++) {
        int64_t o = q / j->inner, i = q % j->inner;
        const float *x = j->inp + o * j->n * j->inner + i;
        if (j->op == SL_REDUCE_MAX) {
            float m = x[0];
            for (int64_t k = 1; k < j->n; k++) {
                float v = x[k * j->inner];
                if (v > m || v != v) m = v;
                if (m != m) break;
            }
            j->out[q] = m;
        } else {
            double acc = 0;
            for (int64_t k = 0; k < j->n; k++) acc += x[k * j->inner];
            j->out[q] = (float)(j->op == SL_REDUCE_MEAN ? acc / (double)j->n : acc);
        }
    }
}

/* Fixed-size chunks of a full reduction. */
static void red_all_task(void *arg, int64_t b, int64_t e) {
    const red_job *j = arg;
    for (int64_t ch = b; ch < e; ch++) {
        int64_t k1 = (ch + 1) * ELEM_CHUNK < j->n ? (ch + 1) * ELEM_CHUNK : j->n;
        if (j->op == SL_REDUCE_MAX) {
            float m = j->inp[ch * ELEM_CHUNK];
            for (int64_t k = ch * ELEM_CHUNK; k < k1; k++) {
                float v = j->inp[k];
                if (v > m || v != v) m = v;
                if (m != m) break;
            }
            j->partial[ch] = m;
        } else {
            double acc = 0;
            for (int64_t k = ch * ELEM_CHUNK; k < k1; k++) acc += j->inp[k];
            j->partial[ch] = acc;
        }
    }
}

sl_status cpu_reduce(sli_stream *s, sl_tensor *out, const sl_tensor *inp, sl_reduce_op op, int64_t outer, int64_t n,
                     int64_t inner) {
    CPU_F32("reduce", out, inp);
    red_job j = { F(out), NULL, CF(inp), NULL, NULL, NULL, outer, n, inner, op, NULL, NULL };
    if (outer * inner == 1 && n > ELEM_CHUNK) {
        int64_t nch = (n + ELEM_CHUNK - 1) / ELEM_CHUNK;
        j.partial = cpu_workspace(s, (size_t)nch * sizeof(double));
        if (!j.partial) return SL_ERR_NOMEM;
        cpu_run(s, nch, 1, red_all_task, &j);
        double acc = j.partial[0];
        for (int64_t ch = 1; ch < nch; ch++) {
            if (op == SL_REDUCE_MAX) { if (j.partial[ch] > acc || j.partial[ch] != j.partial[ch]) acc = j.partial[ch]; if (acc != acc) break; }
            else acc += j.partial[ch];
        }
        F(out)[0] = (float)(op == SL_REDUCE_MEAN ? acc / (double)n : acc);
        return SL_OK;
    }
    if (n == 0) { /* empty sum */
        for (int64_t q = 0; q < outer * inner; q++) F(out)[q] = 0.0f;
        return SL_OK;
    }
    cpu_run(s, outer * inner, 4096 / (n + 1) + 1, red_task, &j);
    return SL_OK;
}

static void red_bwd_task(void *arg, int64_t b, int64_t e) {
    const red_job *j = arg;
    for (int64_t q = b; q < e; q++) {
        int64_t o = q / j->inner, i = q % j->inner;
        float g = j->dout[q];
        float *dx = j->dinp + o * j->n * j->inner + i;
        if (j->op == SL_REDUCE_MAX) {
            const float *x = j->inp + o * j->n * j->inner + i;
            float m = j->cout[q];
            for (int64_t k = 0; k < j->n; k++)
                if (x[k * j->inner] == m || (m != m && x[k * j->inner] != x[k * j->inner])) {
                    dx[k * j->inner] += g;
                    break;
                }
        } else {
            if (j->op == SL_REDUCE_MEAN) g = (float)((double)g / (double)j->n);
            for (int64_t k = 0; k < j->n; k++) dx[k * j->inner] += g;
        }
    }
}

sl_status cpu_reduce_backward(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *inp,
                              const sl_tensor *out, sl_reduce_op op, int64_t outer, int64_t n, int64_t inner) {
    CPU_F32("reduce_backward", dinp, dout, inp, out);
    red_job j = { NULL, F(dinp), CF(inp), CF(dout), out ? CF(out) : NULL, NULL, outer, n, inner, op, NULL, NULL };
    int64_t grain = 4096 / (n + 1) + 1;
    if (outer * inner == 1) grain = 1;
    cpu_run(s, outer * inner, grain, red_bwd_task, &j);
    return SL_OK;
}

static void argmax_task(void *arg, int64_t b, int64_t e) {
    const red_job *j = arg;
    for (int64_t q = b; q < e; q++) {
        int64_t o = q / j->inner, i = q % j->inner;
        const float *x = j->inp + o * j->n * j->inner + i;
        int64_t best = 0;
        float m = x[0];
        for (int64_t k = 1; k < j->n && m == m; k++) {
            float v = x[k * j->inner];
            if (v > m || v != v) { m = v; best = k; }
        }
        if (j->idx64) j->idx64[q] = best;
        else j->idx32[q] = (int32_t)best;
    }
}

sl_status cpu_argmax(sli_stream *s, sl_tensor *out, const sl_tensor *inp, int64_t outer, int64_t n, int64_t inner) {
    CPU_F32("argmax", inp);
    red_job j = { NULL, NULL, CF(inp), NULL, NULL, NULL, outer, n, inner, SL_REDUCE_MAX,
                  out->dtype == SL_I64 ? (int64_t *)out->data : NULL, out->dtype == SL_I32 ? (int32_t *)out->data : NULL };
    cpu_run(s, outer * inner, 4096 / (n + 1) + 1, argmax_task, &j);
    return SL_OK;
}

/* ============================================================ AdamW, norms */

typedef struct {
    float *p, *m, *v;
    const float *g;
    float lr, b1, b2, eps, decay, step_size, bc2_sqrt, gs;
} adamw_job;

CPU_HOT static void adamw_task(void *arg, int64_t b, int64_t e) {
    const adamw_job *j = arg;
    for (int64_t i = b; i < e; i++) {
        float g = j->g[i] * j->gs;
        float m = j->b1 * j->m[i] + (1.0f - j->b1) * g;
        float v = j->b2 * j->v[i] + (1.0f - j->b2) * g * g;
        j->m[i] = m;
        j->v[i] = v;
        float p = j->p[i] * j->decay;
        float denom = sqrtf(v) / j->bc2_sqrt + j->eps;
        j->p[i] = p - j->step_size * (m / denom);
    }
}

sl_status cpu_adamw(sli_stream *s, sl_tensor *param, const sl_tensor *grad, sl_tensor *m, sl_tensor *v,
                    sl_tensor *param_copy, int64_t t, const sl_adamw_opts *o) {
    CPU_F32("adamw", grad);
    /* Same operation order as torch.optim.AdamW (single-tensor path): decay, moments, then
     * p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps). */
    double bc1 = 1.0 - pow((double)o->beta1, (double)t), bc2 = 1.0 - pow((double)o->beta2, (double)t);
    adamw_job j = { F(param), F(m), F(v), CF(grad), o->lr, o->beta1, o->beta2, o->eps,
                    1.0f - o->lr * o->weight_decay, (float)((double)o->lr / bc1), (float)sqrt(bc2), o->grad_scale };
    cpu_run(s, sl_tensor_numel(param), 8192, adamw_task, &j);
    if (param_copy) return sli_cpu_backend()->copy(s, param_copy, param);
    return SL_OK;
}

typedef struct { const float *x; int64_t n; double *partial; } ss_job;

CPU_HOT static void ss_task(void *arg, int64_t b, int64_t e) {
    const ss_job *j = arg;
    for (int64_t ch = b; ch < e; ch++) {
        int64_t k1 = (ch + 1) * ELEM_CHUNK < j->n ? (ch + 1) * ELEM_CHUNK : j->n;
        /* f32 lanes within a chunk, f64 across chunks: fast and accurate enough for norms */
        float acc[16] = { 0 };
        int64_t k = ch * ELEM_CHUNK;
        for (; k + 16 <= k1; k += 16)
            for (int l = 0; l < 16; l++) acc[l] += j->x[k + l] * j->x[k + l];
        double s = 0;
        for (int l = 0; l < 16; l++) s += acc[l];
        for (; k < k1; k++) s += (double)j->x[k] * j->x[k];
        j->partial[ch] = s;
    }
}

sl_status cpu_sum_squares(sli_stream *s, sl_tensor *const *ts, int n, double *out) {
    double total = 0;
    for (int i = 0; i < n; i++) {
        CPU_F32("global_norm", ts[i]);
        int64_t len = sl_tensor_numel(ts[i]);
        int64_t nch = (len + ELEM_CHUNK - 1) / ELEM_CHUNK;
        if (!nch) continue;
        double *partial = cpu_workspace(s, (size_t)nch * sizeof(double));
        if (!partial) return SL_ERR_NOMEM;
        ss_job j = { CF(ts[i]), len, partial };
        cpu_run(s, nch, 1, ss_task, &j);
        for (int64_t ch = 0; ch < nch; ch++) total += partial[ch];
    }
    *out = total;
    return SL_OK;
}
