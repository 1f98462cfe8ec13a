/* test_ops.c — every op's forward against a naive f64 reference and every backward against central finite differences. */
#include "tensor_test_util.h"

static sl_ctx *ctx;

/* ------------------------------------------------------------------ matmul */

typedef struct { bool ta, tb; float alpha, beta; } mm_arg;

static void mm_fwd(gc_case *c) {
    mm_arg *a = c->user;
    OK(sl_tensor_zero(ctx, c->out[0]));
    OK(sl_matmul(ctx, c->out[0], c->in[0], c->in[1], a->ta, a->tb, a->alpha, 0.0f));
}
static void mm_bwd(gc_case *c) {
    mm_arg *a = c->user;
    OK(sl_matmul_backward(ctx, c->grad[0], c->grad[1], c->dout[0], c->in[0], c->in[1], a->ta, a->tb, a->alpha));
}

/* naive reference of one batched product */
static double mm_ref(const sl_tensor *A, const sl_tensor *B, bool ta, bool tb, int64_t bi, int64_t i, int64_t j) {
    int64_t K = ta ? A->shape[A->ndim - 2] : A->shape[A->ndim - 1];
    int64_t M = ta ? A->shape[A->ndim - 1] : A->shape[A->ndim - 2];
    int64_t N = tb ? B->shape[B->ndim - 2] : B->shape[B->ndim - 1];
    const float *a = FP(A) + (A->ndim > 2 ? bi * M * K : 0), *b = FP(B) + (B->ndim > 2 ? bi * K * N : 0);
    double s = 0;
    for (int64_t k = 0; k < K; k++)
        s += (double)(ta ? a[k * M + i] : a[i * K + k]) * (double)(tb ? b[j * K + k] : b[k * N + j]);
    return s;
}

static void test_matmul(void) {
    for (int v = 0; v < 4; v++) {
        bool ta = v & 1, tb = v & 2;
        int64_t Bn = 3, M = 5, N = 4, K = 6;
        sl_tensor *a = ta ? T(ctx, SL_F32, 3, Bn, K, M) : T(ctx, SL_F32, 3, Bn, M, K);
        sl_tensor *b = tb ? T(ctx, SL_F32, 3, Bn, N, K) : T(ctx, SL_F32, 3, Bn, K, N);
        sl_tensor *c = T(ctx, SL_F32, 3, Bn, M, N);
        tt_randn(ctx, a, 1); tt_randn(ctx, b, 1); tt_randn(ctx, c, 1);
        /* forward with alpha/beta against the reference */
        float *c0 = malloc(sizeof(float) * (size_t)(Bn * M * N));
        memcpy(c0, FP(c), sizeof(float) * (size_t)(Bn * M * N));
        OK(sl_matmul(ctx, c, a, b, ta, tb, 0.5f, 2.0f));
        double err = 0;
        for (int64_t bi = 0; bi < Bn; bi++)
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    double ref = 0.5 * mm_ref(a, b, ta, tb, bi, i, j) + 2.0 * c0[(bi * M + i) * N + j];
                    double e = fabs(ref - FP(c)[(bi * M + i) * N + j]);
                    if (e > err) err = e;
                }
        CHECK_MSG(err < 1e-4, "matmul ta=%d tb=%d forward error %g", ta, tb, err);
        free(c0);
        sl_tensor *da = T(ctx, SL_F32, a->ndim, a->shape[0], a->shape[1], a->shape[2]);
        sl_tensor *db = T(ctx, SL_F32, b->ndim, b->shape[0], b->shape[1], b->shape[2]);
        mm_arg arg = { ta, tb, 0.75f, 0 };
        char name[64];
        snprintf(name, sizeof name, "matmul ta=%d tb=%d", ta, tb);
        gc_case gc = { .name = name, .ctx = ctx, .nin = 2, .in = { a, b }, .grad = { da, db }, .nout = 1,
                       .out = { c }, .fwd = mm_fwd, .bwd = mm_bwd, .user = &arg };
        gc_run(&gc);
        /* shared (unbatched) right operand: db sums over the batch */
        sl_tensor *b2 = tb ? T(ctx, SL_F32, 2, N, K) : T(ctx, SL_F32, 2, K, N);
        sl_tensor *db2 = tb ? T(ctx, SL_F32, 2, N, K) : T(ctx, SL_F32, 2, K, N);
        tt_randn(ctx, b2, 1);
        snprintf(name, sizeof name, "matmul shared-b ta=%d tb=%d", ta, tb);
        gc_case gc2 = { .name = name, .ctx = ctx, .nin = 2, .in = { a, b2 }, .grad = { da, db2 }, .nout = 1,
                        .out = { c }, .fwd = mm_fwd, .bwd = mm_bwd, .user = &arg };
        gc_run(&gc2);
        sl_tensor_destroy(a); sl_tensor_destroy(b); sl_tensor_destroy(c); sl_tensor_destroy(da);
        sl_tensor_destroy(db); sl_tensor_destroy(b2); sl_tensor_destroy(db2);
    }
    /* a strided view (columns of a wider buffer) as the left operand */
    sl_tensor *buf = T(ctx, SL_F32, 2, 4, 10), *a, *b = T(ctx, SL_F32, 2, 3, 5), *c = T(ctx, SL_F32, 2, 4, 5);
    tt_randn(ctx, buf, 1); tt_randn(ctx, b, 1);
    OK(sl_tensor_slice(buf, 1, 4, 3, &a));
    OK(sl_matmul(ctx, c, a, b, false, false, 1, 0));
    double err = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 5; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++) s += (double)FP(buf)[i * 10 + 4 + k] * FP(b)[k * 5 + j];
            err = fmax(err, fabs(s - FP(c)[i * 5 + j]));
        }
    CHECK_MSG(err < 1e-5, "matmul on a strided view: error %g", err);
    /* mismatched shapes are refused with a message */
    sl_tensor *bad = T(ctx, SL_F32, 2, 4, 5);
    CHECK(sl_matmul(ctx, c, a, bad, false, false, 1, 0) == SL_ERR_INVALID);
    CHECK_CONTAINS(sl_last_error(), "do not multiply");
    sl_tensor_destroy(bad); sl_tensor_destroy(a); sl_tensor_destroy(buf); sl_tensor_destroy(b); sl_tensor_destroy(c);
}

/* ------------------------------------------------------------------ linear, bias, add */

static void lin_fwd(gc_case *c) { OK(sl_linear(ctx, c->out[0], c->in[0], c->in[1], c->in[2])); }
static void lin_bwd(gc_case *c) {
    OK(sl_linear_backward(ctx, c->grad[0], c->grad[1], c->grad[2], c->dout[0], c->in[0], c->in[1]));
}
static void bias_fwd(gc_case *c) { OK(sl_bias_add(ctx, c->out[0], c->in[0], c->in[1])); }
static void bias_bwd(gc_case *c) { OK(sl_bias_add_backward(ctx, c->grad[0], c->grad[1], c->dout[0])); }
static void add_fwd(gc_case *c) { OK(sl_add(ctx, c->out[0], c->in[0], c->in[1])); }
static void add_bwd(gc_case *c) { OK(sl_add_backward(ctx, c->grad[0], c->grad[1], c->dout[0])); }

static void test_linear_bias_add(void) {
    sl_tensor *x = T(ctx, SL_F32, 3, 2, 3, 5), *w = T(ctx, SL_F32, 2, 4, 5), *b = T(ctx, SL_F32, 1, 4);
    sl_tensor *y = T(ctx, SL_F32, 3, 2, 3, 4);
    sl_tensor *dx = T(ctx, SL_F32, 3, 2, 3, 5), *dw = T(ctx, SL_F32, 2, 4, 5), *db = T(ctx, SL_F32, 1, 4);
    tt_randn(ctx, x, 1); tt_randn(ctx, w, 1); tt_randn(ctx, b, 1);
    OK(sl_linear(ctx, y, x, w, b));
    double err = 0;
    for (int r = 0; r < 6; r++)
        for (int o = 0; o < 4; o++) {
            double s = FP(b)[o];
            for (int k = 0; k < 5; k++) s += (double)FP(x)[r * 5 + k] * FP(w)[o * 5 + k];
            err = fmax(err, fabs(s - FP(y)[r * 4 + o]));
        }
    CHECK_MSG(err < 1e-5, "linear forward error %g", err);
    gc_case g = { .name = "linear", .ctx = ctx, .nin = 3, .in = { x, w, b }, .grad = { dx, dw, db }, .nout = 1,
                  .out = { y }, .fwd = lin_fwd, .bwd = lin_bwd };
    gc_run(&g);
    /* bias add */
    sl_tensor *y2 = T(ctx, SL_F32, 3, 2, 3, 5), *b5 = T(ctx, SL_F32, 1, 5), *db5 = T(ctx, SL_F32, 1, 5);
    tt_randn(ctx, b5, 1);
    OK(sl_bias_add(ctx, y2, x, b5));
    CHECK_NEAR(FP(y2)[7], FP(x)[7] + FP(b5)[2], 1e-6);
    gc_case g2 = { .name = "bias_add", .ctx = ctx, .nin = 2, .in = { x, b5 }, .grad = { dx, db5 }, .nout = 1,
                   .out = { y2 }, .fwd = bias_fwd, .bwd = bias_bwd };
    gc_run(&g2);
    /* residual add */
    sl_tensor *x2 = T(ctx, SL_F32, 3, 2, 3, 5), *dx2 = T(ctx, SL_F32, 3, 2, 3, 5);
    tt_randn(ctx, x2, 1);
    gc_case g3 = { .name = "add", .ctx = ctx, .nin = 2, .in = { x, x2 }, .grad = { dx, dx2 }, .nout = 1,
                   .out = { y2 }, .fwd = add_fwd, .bwd = add_bwd };
    gc_run(&g3);
    /* wrong bias length names the argument */
    CHECK(sl_bias_add(ctx, y2, x, b) == SL_ERR_INVALID);
    CHECK_CONTAINS(sl_last_error(), "bias");
    sl_tensor *ts[] = { x, w, b, y, dx, dw, db, y2, b5, db5, x2, dx2 };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
}

/* ------------------------------------------------------------------ gelu, layernorm, softmax */

static sl_gelu_kind gelu_kind;
static void gelu_fwd(gc_case *c) { OK(sl_gelu(ctx, c->out[0], c->in[0], gelu_kind)); }
static void gelu_bwd(gc_case *c) { OK(sl_gelu_backward(ctx, c->grad[0], c->dout[0], c->in[0], gelu_kind)); }

static void test_gelu(void) {
    sl_tensor *x = T(ctx, SL_F32, 2, 7, 33), *y = T(ctx, SL_F32, 2, 7, 33), *dx = T(ctx, SL_F32, 2, 7, 33);
    tt_randn(ctx, x, 3);
    FP(x)[0] = -12.0f; FP(x)[1] = 12.0f; FP(x)[2] = 0.0f; FP(x)[3] = -5.5f;
    for (int k = 0; k < 2; k++) {
        gelu_kind = k ? SL_GELU_TANH : SL_GELU_ERF;
        OK(sl_gelu(ctx, y, x, gelu_kind));
        double err = 0;
        for (int64_t i = 0; i < 7 * 33; i++) {
            double v = FP(x)[i], ref;
            if (k) ref = 0.5 * v * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
            else ref = 0.5 * v * erfc(-v / sqrt(2.0));
            double e = fabs(ref - FP(y)[i]) / fmax(fabs(ref), 1e-30);
            if (fabs(ref) > 1e-30 && e > err) err = e;
        }
        CHECK_MSG(err < 2e-6, "gelu %s forward relative error %g", k ? "tanh" : "erf", err);
        gc_case g = { .name = k ? "gelu tanh" : "gelu erf", .ctx = ctx, .nin = 1, .in = { x }, .grad = { dx },
                      .nout = 1, .out = { y }, .fwd = gelu_fwd, .bwd = gelu_bwd };
        gc_run(&g);
    }
    sl_tensor_destroy(x); sl_tensor_destroy(y); sl_tensor_destroy(dx);
}

static sl_tensor *ln_mean, *ln_rstd;
static void ln_fwd(gc_case *c) { OK(sl_layernorm(ctx, c->out[0], ln_mean, ln_rstd, c->in[0], c->in[1], c->in[2], 1e-5f)); }
static void ln_bwd(gc_case *c) {
    OK(sl_layernorm_backward(ctx, c->grad[0], c->grad[1], c->grad[2], c->dout[0], c->in[0], c->in[1], ln_mean, ln_rstd));
}

static void test_layernorm(void) {
    int64_t N = 130, C = 24; /* more rows than one reduction chunk */
    sl_tensor *x = T(ctx, SL_F32, 2, N, C), *w = T(ctx, SL_F32, 1, C), *b = T(ctx, SL_F32, 1, C);
    sl_tensor *y = T(ctx, SL_F32, 2, N, C), *dx = T(ctx, SL_F32, 2, N, C), *dw = T(ctx, SL_F32, 1, C),
              *db = T(ctx, SL_F32, 1, C);
    ln_mean = T(ctx, SL_F32, 1, N);
    ln_rstd = T(ctx, SL_F32, 1, N);
    tt_randn(ctx, x, 2); tt_randn(ctx, w, 1); tt_randn(ctx, b, 1);
    OK(sl_layernorm(ctx, y, ln_mean, ln_rstd, x, w, b, 1e-5f));
    double err = 0;
    for (int64_t r = 0; r < N; r++) {
        double m = 0, v = 0;
        for (int64_t c = 0; c < C; c++) m += FP(x)[r * C + c];
        m /= C;
        for (int64_t c = 0; c < C; c++) v += (FP(x)[r * C + c] - m) * (FP(x)[r * C + c] - m);
        v /= C;
        for (int64_t c = 0; c < C; c++) {
            double ref = (FP(x)[r * C + c] - m) / sqrt(v + 1e-5) * FP(w)[c] + FP(b)[c];
            err = fmax(err, fabs(ref - FP(y)[r * C + c]));
        }
    }
    CHECK_MSG(err < 1e-5, "layernorm forward error %g", err);
    gc_case g = { .name = "layernorm", .ctx = ctx, .nin = 3, .in = { x, w, b }, .grad = { dx, dw, db }, .nout = 1,
                  .out = { y }, .fwd = ln_fwd, .bwd = ln_bwd };
    gc_run(&g);
    sl_tensor *ts[] = { x, w, b, y, dx, dw, db, ln_mean, ln_rstd };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
}

static void sm_fwd(gc_case *c) { OK(sl_softmax(ctx, c->out[0], c->in[0])); }
static void sm_bwd(gc_case *c) { OK(sl_softmax_backward(ctx, c->grad[0], c->dout[0], c->out[0])); }

static void test_softmax(void) {
    sl_tensor *x = T(ctx, SL_F32, 3, 2, 3, 9), *y = T(ctx, SL_F32, 3, 2, 3, 9), *dx = T(ctx, SL_F32, 3, 2, 3, 9);
    tt_randn(ctx, x, 2);
    FP(x)[0] = 80.0f; /* large logit: no overflow */
    OK(sl_softmax(ctx, y, x));
    double err = 0;
    for (int r = 0; r < 6; r++) {
        double m = -1e30, s = 0;
        for (int c = 0; c < 9; c++) m = fmax(m, FP(x)[r * 9 + c]);
        for (int c = 0; c < 9; c++) s += exp(FP(x)[r * 9 + c] - m);
        for (int c = 0; c < 9; c++) err = fmax(err, fabs(exp(FP(x)[r * 9 + c] - m) / s - FP(y)[r * 9 + c]));
    }
    CHECK_MSG(err < 1e-6, "softmax forward error %g", err);
    gc_case g = { .name = "softmax", .ctx = ctx, .nin = 1, .in = { x }, .grad = { dx }, .nout = 1, .out = { y },
                  .fwd = sm_fwd, .bwd = sm_bwd };
    gc_run(&g);
    sl_tensor_destroy(x); sl_tensor_destroy(y); sl_tensor_destroy(dx);
}

/* ------------------------------------------------------------------ embedding */

static sl_tensor *emb_ids;
static void emb_fwd(gc_case *c) { OK(sl_embedding(ctx, c->out[0], emb_ids, c->in[0], c->in[1], 2)); }
static void emb_bwd(gc_case *c) { OK(sl_embedding_backward(ctx, c->grad[0], c->grad[1], c->dout[0], emb_ids, 2)); }

static void test_embedding(void) {
    int64_t B = 2, Tn = 4, V = 7, C = 5, P = 8;
    emb_ids = T(ctx, SL_I64, 2, B, Tn);
    int64_t ids[] = { 1, 3, 3, 0, 6, 1, 1, 2 }; /* repeats: scatter-add must sum */
    memcpy(emb_ids->data, ids, sizeof ids);
    sl_tensor *wte = T(ctx, SL_F32, 2, V, C), *wpe = T(ctx, SL_F32, 2, P, C), *out = T(ctx, SL_F32, 3, B, Tn, C);
    sl_tensor *dwte = T(ctx, SL_F32, 2, V, C), *dwpe = T(ctx, SL_F32, 2, P, C);
    tt_randn(ctx, wte, 1); tt_randn(ctx, wpe, 1);
    OK(sl_embedding(ctx, out, emb_ids, wte, wpe, 2));
    CHECK_NEAR(FP(out)[(1 * Tn + 2) * C + 3], FP(wte)[1 * C + 3] + FP(wpe)[(2 + 2) * C + 3], 1e-6);
    gc_case g = { .name = "embedding+position", .ctx = ctx, .nin = 2, .in = { wte, wpe }, .grad = { dwte, dwpe },
                  .nout = 1, .out = { out }, .fwd = emb_fwd, .bwd = emb_bwd };
    gc_run(&g);
    ((int64_t *)emb_ids->data)[5] = 7;
    CHECK(sl_embedding(ctx, out, emb_ids, wte, wpe, 2) == SL_ERR_RANGE);
    CHECK_CONTAINS(sl_last_error(), "ids[5] = 7");
    CHECK(sl_embedding(ctx, out, emb_ids, wte, wpe, 5) != SL_OK); /* positions past the table */
    sl_tensor *ts[] = { emb_ids, wte, wpe, out, dwte, dwpe };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
}

/* ------------------------------------------------------------------ attention */

typedef struct { sl_attention_opts o; sl_tensor *lse, *mask; sl_tensor *qkv, *dqkv; } att_arg;
static sl_tensor *qv, *kv, *vv, *dqv, *dkv, *dvv; /* views into qkv / dqkv */

static void att_fwd(gc_case *c) {
    att_arg *a = c->user;
    OK(sl_attention(ctx, c->out[0], a->lse, qv, kv, vv, a->mask, &a->o));
}
static void att_bwd(gc_case *c) {
    att_arg *a = c->user;
    OK(sl_attention_backward(ctx, dqv, dkv, dvv, c->dout[0], qv, kv, vv, a->mask, c->out[0], a->lse, &a->o));
}

static void att_reference(const float *qkv, int64_t B, int64_t Tn, int64_t C, int H, bool causal,
                          const unsigned char *mask, double *out) {
    int64_t D = C / H;
    double scale = 1.0 / sqrt((double)D);
    for (int64_t b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int64_t t = 0; t < Tn; t++) {
                double s[64], m = -INFINITY, sum = 0;
                for (int64_t u = 0; u < Tn; u++) {
                    bool ok = (!causal || u <= t) && (!mask || mask[b * Tn + u]);
                    double d = 0;
                    for (int64_t k = 0; k < D; k++)
                        d += (double)qkv[(b * Tn + t) * 3 * C + h * D + k] * qkv[(b * Tn + u) * 3 * C + C + h * D + k];
                    s[u] = ok ? d * scale : -INFINITY;
                    m = fmax(m, s[u]);
                }
                for (int64_t k = 0; k < D; k++) out[(b * Tn + t) * C + h * D + k] = 0;
                if (m == -INFINITY) continue;
                for (int64_t u = 0; u < Tn; u++) sum += s[u] == -INFINITY ? 0 : exp(s[u] - m);
                for (int64_t u = 0; u < Tn; u++) {
                    double p = s[u] == -INFINITY ? 0 : exp(s[u] - m) / sum;
                    for (int64_t k = 0; k < D; k++)
                        out[(b * Tn + t) * C + h * D + k] += p * qkv[(b * Tn + u) * 3 * C + 2 * C + h * D + k];
                }
            }
}

static void test_attention(void) {
    int64_t B = 2, Tn = 5, C = 8;
    int H = 2;
    sl_tensor *qkv = T(ctx, SL_F32, 3, B, Tn, 3 * C), *dqkv = T(ctx, SL_F32, 3, B, Tn, 3 * C);
    sl_tensor *out = T(ctx, SL_F32, 3, B, Tn, C), *lse = T(ctx, SL_F32, 3, B, (int64_t)H, Tn);
    sl_tensor *mask = T(ctx, SL_U8, 2, B, Tn);
    tt_randn(ctx, qkv, 1);
    OK(sl_tensor_slice(qkv, 2, 0, C, &qv)); OK(sl_tensor_slice(qkv, 2, C, C, &kv)); OK(sl_tensor_slice(qkv, 2, 2 * C, C, &vv));
    OK(sl_tensor_slice(dqkv, 2, 0, C, &dqv)); OK(sl_tensor_slice(dqkv, 2, C, C, &dkv));
    OK(sl_tensor_slice(dqkv, 2, 2 * C, C, &dvv));
    unsigned char m[] = { 1, 1, 1, 0, 0, 0, 1, 1, 1, 1 }; /* batch 1 key 0 masked: query 0 causal sees nothing */
    memcpy(mask->data, m, sizeof m);
    double *ref = malloc(sizeof(double) * (size_t)(B * Tn * C));
    for (int v = 0; v < 4; v++) {
        att_arg a = { { H, v & 1, 0 }, lse, (v & 2) ? mask : NULL, qkv, dqkv };
        OK(sl_attention(ctx, out, lse, qv, kv, vv, a.mask, &a.o));
        att_reference(FP(qkv), B, Tn, C, H, a.o.causal, a.mask ? m : NULL, ref);
        double err = 0;
        for (int64_t i = 0; i < B * Tn * C; i++) err = fmax(err, fabs(ref[i] - FP(out)[i]));
        CHECK_MSG(err < 1e-5, "attention causal=%d mask=%d forward error %g", v & 1, (v & 2) != 0, err);
        char name[64];
        snprintf(name, sizeof name, "attention causal=%d mask=%d", v & 1, (v & 2) != 0);
        gc_case g = { .name = name, .ctx = ctx, .nin = 1, .in = { qkv }, .grad = { dqkv }, .nout = 1, .out = { out },
                      .fwd = att_fwd, .bwd = att_bwd, .user = &a };
        gc_run(&g);
    }
    /* fully masked query row (batch 1, t = 0, causal + mask) gives zeros */
    sl_attention_opts o = { H, true, 0 };
    OK(sl_attention(ctx, out, lse, qv, kv, vv, mask, &o));
    for (int k = 0; k < C; k++) CHECK(FP(out)[(1 * Tn + 0) * C + k] == 0.0f);
    free(ref);
    sl_tensor *ts[] = { qkv, dqkv, out, lse, mask, qv, kv, vv, dqv, dkv, dvv };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
}

/* ------------------------------------------------------------------ dropout */

static void drop_fwd(gc_case *c) { OK(sl_dropout(ctx, c->out[0], c->in[0], 0.3f, 64)); }
static void drop_bwd(gc_case *c) { OK(sl_dropout_backward(ctx, c->grad[0], c->dout[0], 0.3f, 64)); }

static void test_dropout(void) {
    int64_t n = 20000;
    sl_tensor *x = T(ctx, SL_F32, 1, n), *y = T(ctx, SL_F32, 1, n), *dx = T(ctx, SL_F32, 1, n);
    OK(sl_tensor_fill(ctx, x, 1.0));
    OK(sl_dropout(ctx, y, x, 0.3f, 64));
    int64_t kept = 0;
    for (int64_t i = 0; i < n; i++) {
        if (FP(y)[i] != 0) { kept++; CHECK_NEAR(FP(y)[i], 1.0 / 0.7, 1e-6); }
    }
    CHECK_MSG(fabs((double)kept / n - 0.7) < 0.02, "dropout keep rate %g", (double)kept / n);
    /* mask is a function of (seed, counter): element i's decision matches the Philox word */
    uint32_t w[4];
    sl_philox4x32(sl_ctx_rng_seed(ctx), 0, (64 + 5) >> 2, w);
    bool keep5 = (float)(w[(64 + 5) & 3] >> 8) * (1.0f / 16777216.0f) >= 0.3f;
    CHECK(keep5 == (FP(y)[5] != 0));
    sl_tensor *xs = T(ctx, SL_F32, 1, 50), *ys = T(ctx, SL_F32, 1, 50), *dxs = T(ctx, SL_F32, 1, 50);
    tt_randn(ctx, xs, 1);
    gc_case g = { .name = "dropout", .ctx = ctx, .nin = 1, .in = { xs }, .grad = { dxs }, .nout = 1, .out = { ys },
                  .fwd = drop_fwd, .bwd = drop_bwd };
    gc_run(&g);
    CHECK(sl_dropout(ctx, y, x, 1.0f, 0) == SL_ERR_RANGE);
    sl_tensor *ts[] = { x, y, dx, xs, ys, dxs };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
}

/* ------------------------------------------------------------------ cross-entropy */

static sl_tensor *ce_t, *ce_lse;
static void ce_fwd(gc_case *c) { OK(sl_cross_entropy(ctx, c->out[0], ce_lse, c->in[0], ce_t, -100)); }
static void ce_bwd(gc_case *c) {
    OK(sl_cross_entropy_backward(ctx, c->grad[0], c->dout[0], c->in[0], ce_lse, ce_t, -100));
}

static void test_cross_entropy(void) {
    int64_t N = 6, V = 11;
    sl_tensor *logits = T(ctx, SL_F32, 2, N, V), *dl = T(ctx, SL_F32, 2, N, V), *losses = T(ctx, SL_F32, 1, N);
    ce_lse = T(ctx, SL_F32, 1, N);
    ce_t = T(ctx, SL_I32, 1, N);
    int32_t tg[] = { 3, 0, -100, 10, 7, 3 };
    memcpy(ce_t->data, tg, sizeof tg);
    tt_randn(ctx, logits, 3);
    OK(sl_cross_entropy(ctx, losses, ce_lse, logits, ce_t, -100));
    for (int r = 0; r < N; r++) {
        double m = -1e30, s = 0;
        for (int c = 0; c < V; c++) m = fmax(m, FP(logits)[r * V + c]);
        for (int c = 0; c < V; c++) s += exp(FP(logits)[r * V + c] - m);
        double ref = tg[r] == -100 ? 0 : m + log(s) - FP(logits)[r * V + tg[r]];
        CHECK_NEAR(FP(losses)[r], ref, 1e-5);
    }
    gc_case g = { .name = "cross_entropy", .ctx = ctx, .nin = 1, .in = { logits }, .grad = { dl }, .nout = 1,
                  .out = { losses }, .fwd = ce_fwd, .bwd = ce_bwd };
    gc_run(&g);
    for (int c = 0; c < V; c++) CHECK(FP(dl)[2 * V + c] == 0.0f); /* ignored row: no gradient */
    ((int32_t *)ce_t->data)[1] = 11;
    CHECK(sl_cross_entropy(ctx, losses, ce_lse, logits, ce_t, -100) == SL_ERR_RANGE);
    CHECK_CONTAINS(sl_last_error(), "targets[1] = 11");
    sl_tensor *ts[] = { logits, dl, losses, ce_lse, ce_t };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
}

/* ------------------------------------------------------------------ reductions, argmax */

static sl_reduce_op red_op;
static int red_axis;
static void red_fwd(gc_case *c) { OK(sl_reduce(ctx, c->out[0], c->in[0], red_op, red_axis)); }
static void red_bwd(gc_case *c) {
    OK(sl_reduce_backward(ctx, c->grad[0], c->dout[0], c->in[0], c->out[0], red_op, red_axis));
}

static void test_reduce(void) {
    sl_tensor *x = T(ctx, SL_F32, 3, 3, 4, 5), *dx = T(ctx, SL_F32, 3, 3, 4, 5);
    tt_randn(ctx, x, 1);
    const char *names[] = { "sum", "mean", "max" };
    int axes[] = { 0, 1, -1, SL_AXIS_ALL };
    for (int op = 0; op < 3; op++)
        for (int ai = 0; ai < 4; ai++) {
            int axis = axes[ai];
            sl_tensor *y;
            if (axis == SL_AXIS_ALL) y = T(ctx, SL_F32, 0, 0);
            else if (axis == 0) y = T(ctx, SL_F32, 2, 4, 5);
            else if (axis == 1) y = T(ctx, SL_F32, 3, 3, 1, 5); /* kept dim */
            else y = T(ctx, SL_F32, 2, 3, 4);
            red_op = (sl_reduce_op)op;
            red_axis = axis;
            OK(sl_reduce(ctx, y, x, red_op, axis));
            /* reference for element 0 of the output */
            int64_t n = axis == SL_AXIS_ALL ? 60 : axis == 0 ? 3 : axis == 1 ? 4 : 5;
            int64_t stride = axis == SL_AXIS_ALL ? 1 : axis == 0 ? 20 : axis == 1 ? 5 : 1;
            double acc = op == 2 ? -1e30 : 0;
            for (int64_t k = 0; k < n; k++) acc = op == 2 ? fmax(acc, FP(x)[k * stride]) : acc + FP(x)[k * stride];
            if (op == 1) acc /= n;
            CHECK_NEAR(FP(y)[0], acc, 1e-5);
            char name[64];
            snprintf(name, sizeof name, "reduce %s axis %d", names[op], axis == SL_AXIS_ALL ? 99 : axis);
            gc_case g = { .name = name, .ctx = ctx, .nin = 1, .in = { x }, .grad = { dx }, .nout = 1, .out = { y },
                          .fwd = red_fwd, .bwd = red_bwd };
            gc_run(&g);
            sl_tensor_destroy(y);
        }
    /* a long full sum exercises the chunked path; the result is independent of thread count */
    int64_t n = 100000;
    sl_tensor *big = T(ctx, SL_F32, 1, n), *s1 = T(ctx, SL_F32, 0, 0);
    for (int64_t i = 0; i < n; i++) FP(big)[i] = (float)(i % 7) * 0.25f;
    OK(sl_reduce(ctx, s1, big, SL_REDUCE_SUM, SL_AXIS_ALL));
    double ref = 0;
    for (int64_t i = 0; i < n; i++) ref += FP(big)[i];
    CHECK_NEAR(FP(s1)[0], ref, 1e-7);
    /* argmax */
    sl_tensor *am = T(ctx, SL_I64, 2, 3, 4);
    OK(sl_argmax(ctx, am, x, -1));
    for (int r = 0; r < 12; r++) {
        int64_t best = 0;
        for (int k = 1; k < 5; k++) if (FP(x)[r * 5 + k] > FP(x)[r * 5 + best]) best = k;
        CHECK_EQ_INT(((int64_t *)am->data)[r], best);
    }
    sl_tensor *bad = T(ctx, SL_F32, 2, 3, 3);
    CHECK(sl_reduce(ctx, bad, x, SL_REDUCE_SUM, 1) == SL_ERR_INVALID);
    sl_tensor *ts[] = { x, dx, big, s1, am, bad };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
}

/* ------------------------------------------------------------------ casts */

static void test_casts(void) {
    float vals[] = { 0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 70000.0f, 1e-8f, 3.14159265f, 6.1e-5f, -300.7f, NAN, INFINITY };
    int n = (int)(sizeof vals / sizeof vals[0]);
    sl_tensor *x = T(ctx, SL_F32, 1, (int64_t)n), *h = T(ctx, SL_F16, 1, (int64_t)n), *bf = T(ctx, SL_BF16, 1, (int64_t)n);
    sl_tensor *back = T(ctx, SL_F32, 1, (int64_t)n), *i32 = T(ctx, SL_I32, 1, (int64_t)n), *u8 = T(ctx, SL_U8, 1, (int64_t)n);
    sl_tensor *i64 = T(ctx, SL_I64, 1, (int64_t)n);
    memcpy(x->data, vals, sizeof vals);
    OK(sl_cast(ctx, h, x));
    const uint16_t *hb = h->data;
    CHECK_EQ_INT(hb[2], 0x3c00);  /* 1.0 */
    CHECK_EQ_INT(hb[3], 0xc100);  /* -2.5 */
    CHECK_EQ_INT(hb[4], 0x7bff);  /* 65504 = max half */
    CHECK_EQ_INT(hb[5], 0x7c00);  /* overflow -> inf */
    CHECK_EQ_INT(hb[6], 0x0000);  /* 1e-8 underflows */
    CHECK_EQ_INT(hb[7], 0x4248);  /* pi */
    CHECK_EQ_INT(hb[8], 0x03ff);  /* 6.1e-5: largest subnormal region, rounds to 0x03ff */
    CHECK((hb[10] & 0x7c00) == 0x7c00 && (hb[10] & 0x3ff));
    OK(sl_cast(ctx, back, h));
    CHECK(FP(back)[3] == -2.5f && FP(back)[4] == 65504.0f && isinf(FP(back)[5]) && isnan(FP(back)[10]));
    OK(sl_cast(ctx, bf, x));
    const uint16_t *bb = bf->data;
    CHECK_EQ_INT(bb[2], 0x3f80);
    CHECK_EQ_INT(bb[7], 0x4049);  /* pi in bf16 */
    OK(sl_cast(ctx, back, bf));
    CHECK(FP(back)[9] == -300.0f); /* bf16 spacing is 2 near 300 */
    OK(sl_cast(ctx, i32, x));
    CHECK_EQ_INT(((int32_t *)i32->data)[3], -2);  /* truncation */
    CHECK_EQ_INT(((int32_t *)i32->data)[10], 0);  /* NaN -> 0 */
    CHECK_EQ_INT(((int32_t *)i32->data)[11], 2147483647); /* saturate */
    OK(sl_cast(ctx, u8, x));
    CHECK_EQ_INT(((uint8_t *)u8->data)[9], 0);    /* saturate at 0 */
    CHECK_EQ_INT(((uint8_t *)u8->data)[5], 255);
    int64_t big[12] = { 300, -1, 5, 1LL << 40 };
    memcpy(i64->data, big, sizeof big);
    OK(sl_cast(ctx, u8, i64));
    CHECK_EQ_INT(((uint8_t *)u8->data)[0], 44);   /* 300 mod 256 */
    OK(sl_cast(ctx, back, i64));
    CHECK(FP(back)[1] == -1.0f && FP(back)[3] == 1099511627776.0f);
    /* strided cast: a transposed view */
    sl_tensor *m = T(ctx, SL_F32, 2, 3, 4), *mt, *mb = T(ctx, SL_BF16, 2, 4, 3);
    for (int i = 0; i < 12; i++) FP(m)[i] = (float)i;
    OK(sl_tensor_transpose(m, 0, 1, &mt));
    OK(sl_cast(ctx, mb, mt));
    CHECK_EQ_INT(((uint16_t *)mb->data)[1 * 3 + 2], 0x4110); /* mt[1][2] = m[2][1] = 9.0 */
    /* cast backward accumulates the converted gradient */
    sl_tensor *g16 = T(ctx, SL_BF16, 1, 4), *g32 = T(ctx, SL_F32, 1, 4);
    OK(sl_tensor_fill(ctx, g16, 0.5));
    OK(sl_tensor_fill(ctx, g32, 1.0));
    OK(sl_cast_backward(ctx, g32, g16));
    CHECK(FP(g32)[3] == 1.5f);
    sl_tensor *ts[] = { x, h, bf, back, i32, u8, i64, m, mt, mb, g16, g32 };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
}

/* ------------------------------------------------------------------ AdamW, clipping */

static void test_adamw(void) {
    int64_t n = 5;
    sl_tensor *p = T(ctx, SL_F32, 1, n), *g = T(ctx, SL_F32, 1, n), *m = T(ctx, SL_F32, 1, n), *v = T(ctx, SL_F32, 1, n);
    sl_tensor *pc = T(ctx, SL_BF16, 1, n);
    float p0[] = { 1, -2, 0.5f, 3, 0 }, gr[] = { 0.1f, -0.2f, 0.3f, 0, 1 };
    memcpy(p->data, p0, sizeof p0);
    memcpy(g->data, gr, sizeof gr);
    OK(sl_tensor_zero(ctx, m));
    OK(sl_tensor_zero(ctx, v));
    sl_adamw_opts o = { 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, 1.0f };
    double rp[5], rm[5] = { 0 }, rv[5] = { 0 };
    for (int i = 0; i < 5; i++) rp[i] = p0[i];
    for (int t = 1; t <= 3; t++) {
        OK(sl_adamw(ctx, p, g, m, v, pc, t, &o));
        for (int i = 0; i < 5; i++) {
            rp[i] *= 1 - 0.01 * 0.1;
            rm[i] = 0.9 * rm[i] + 0.1 * gr[i];
            rv[i] = 0.999 * rv[i] + 0.001 * gr[i] * gr[i];
            double mh = rm[i] / (1 - pow(0.9, t)), vh = rv[i] / (1 - pow(0.999, t));
            rp[i] -= 0.01 * mh / (sqrt(vh) + 1e-8);
        }
    }
    for (int i = 0; i < 5; i++) CHECK_NEAR(FP(p)[i], rp[i], 1e-6);
    for (int i = 0; i < 5; i++) { /* bf16 copy: p rounded to 8 significant bits */
        uint32_t bits = (uint32_t)((uint16_t *)pc->data)[i] << 16;
        float f;
        memcpy(&f, &bits, 4);
        CHECK_NEAR(f, FP(p)[i], 1.0 / 256);
    }
    /* clipping: norm of g = sqrt(0.01+0.04+0.09+0+1) */
    float norm;
    sl_tensor *gs[] = { g, m };
    OK(sl_global_norm(ctx, gs, 1, &norm));
    CHECK_NEAR(norm, sqrt(1.14), 1e-6);
    OK(sl_clip_grad_norm(ctx, gs, 1, 0.5f, &norm));
    float after;
    OK(sl_global_norm(ctx, gs, 1, &after));
    CHECK_NEAR(after, 0.5, 1e-5);
    OK(sl_clip_grad_norm(ctx, gs, 1, 10.0f, NULL)); /* below the limit: unchanged */
    OK(sl_global_norm(ctx, gs, 1, &norm));
    CHECK_NEAR(norm, after, 1e-7);
    CHECK(sl_adamw(ctx, p, g, m, v, NULL, 0, &o) == SL_ERR_RANGE);
    sl_tensor *ts[] = { p, g, m, v, pc };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
}

/* ------------------------------------------------------------------ views, RNG */

static void test_views_rng(void) {
    /* Philox4x32-10 known-answer vectors (Random123 kat_vectors) */
    uint32_t w[4];
    sl_philox4x32(0, 0, 0, w);
    CHECK(w[0] == 0x6627e8d5u && w[1] == 0xe169c58du && w[2] == 0xbc57ac4cu && w[3] == 0x9b00dbd8u);
    sl_philox4x32(0x299f31d0a4093822ull, 0x0370734413198a2eull, 0x85a308d3243f6a88ull, w);
    CHECK(w[0] == 0xd16cfe09u && w[1] == 0x94fdcceb && w[2] == 0x5001e420u && w[3] == 0x24126ea1u);
    sl_tensor *t = T(ctx, SL_F32, 3, 2, 3, 4), *v;
    for (int i = 0; i < 24; i++) FP(t)[i] = (float)i;
    OK(sl_tensor_reshape(t, 2, (int64_t[]){ 6, -1 }, &v));
    CHECK_EQ_INT(v->shape[1], 4);
    sl_tensor_destroy(v);
    CHECK(sl_tensor_reshape(t, 2, (int64_t[]){ 5, -1 }, &v) == SL_ERR_INVALID);
    OK(sl_tensor_slice(t, 1, 1, 2, &v));
    CHECK(((float *)v->data)[0] == 4.0f && !sl_tensor_is_contiguous(v));
    sl_tensor *c = T(ctx, SL_F32, 3, 2, 2, 4);
    OK(sl_tensor_copy(ctx, c, v));
    CHECK(FP(c)[4 * 2] == 16.0f);
    sl_tensor_destroy(v);
    CHECK(sl_tensor_view(t, 1, (int64_t[]){ 25 }, (int64_t[]){ 4 }, 0, &v) == SL_ERR_RANGE);
    /* storage outlives the first view */
    OK(sl_tensor_slice(t, 0, 1, 1, &v));
    sl_tensor_destroy(t);
    CHECK(((float *)v->data)[0] == 12.0f);
    sl_tensor_destroy(v);
    sl_tensor_destroy(c);
    /* uniform draws match the documented stream layout */
    sl_tensor *u = T(ctx, SL_F32, 1, 10);
    OK(sl_tensor_rand_uniform(ctx, u, 0, 1, 6));
    sl_philox4x32(sl_ctx_rng_seed(ctx), 0, (6 + 3) >> 2, w);
    CHECK(FP(u)[3] == (float)(w[(6 + 3) & 3] >> 8) * (1.0f / 16777216.0f));
    sl_tensor *nrm = T(ctx, SL_F32, 1, 20000);
    OK(sl_tensor_rand_normal(ctx, nrm, 1.0f, 2.0f, 0));
    double mean = 0, var = 0;
    for (int i = 0; i < 20000; i++) mean += FP(nrm)[i];
    mean /= 20000;
    for (int i = 0; i < 20000; i++) var += (FP(nrm)[i] - mean) * (FP(nrm)[i] - mean);
    var /= 20000;
    CHECK_MSG(fabs(mean - 1.0) < 0.05 && fabs(sqrt(var) - 2.0) < 0.05, "normal mean %g std %g", mean, sqrt(var));
    sl_tensor_destroy(u);
    sl_tensor_destroy(nrm);
}

int main(void) {
    sl_ctx_options o = SL_CTX_OPTIONS_INIT;
    o.device = SL_DEVICE_CPU;
    o.seed = 1234;
    OK(sl_ctx_create(&o, &ctx));
    fprintf(stderr, "context: %s\n", sl_ctx_describe(ctx));
    test_views_rng();
    test_matmul();
    test_linear_bias_add();
    test_gelu();
    test_layernorm();
    test_softmax();
    test_embedding();
    test_attention();
    test_dropout();
    test_cross_entropy();
    test_reduce();
    test_casts();
    test_adamw();
    sl_ctx_destroy(ctx);
    return SL_TEST_DONE();
}
