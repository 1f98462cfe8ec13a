/* test_gpu_parity.c — every op on the CUDA backend against the CPU backend on the same inputs, with a per-op tolerance. */
#define _POSIX_C_SOURCE 200809L
#include "tensor_test_util.h"

static sl_ctx *cpu, *gpu;

/* Host tensor with random values (or ids below `ids_below` for integer dtypes). */
static sl_tensor *host_rand(sl_dtype dt, int ndim, const int64_t *shape, int64_t ids_below) {
    sl_tensor *t;
    OK(sl_tensor_create(cpu, dt, ndim, shape, &t));
    if (dt == SL_F32) tt_randn(cpu, t, 1.0f);
    else {
        int64_t n = sl_tensor_numel(t);
        for (int64_t i = 0; i < n; i++) {
            int64_t v = (i * 7919 + 13) % ids_below;
            if (dt == SL_I32) ((int32_t *)t->data)[i] = (int32_t)v;
            else if (dt == SL_I64) ((int64_t *)t->data)[i] = v;
            else ((uint8_t *)t->data)[i] = (uint8_t)v;
        }
    }
    return t;
}

static sl_tensor *to_gpu(const sl_tensor *h) {
    sl_tensor *d;
    OK(sl_tensor_create(gpu, h->dtype, h->ndim, h->shape, &d));
    OK(sl_tensor_copy(gpu, d, h));
    return d;
}

/* Compare a GPU tensor with a CPU one: max abs diff / max(|cpu|_inf, 1e-6) <= tol. */
static void same(const char *op, const char *what, const sl_tensor *d, const sl_tensor *h, double tol) {
    sl_tensor *back;
    OK(sl_tensor_create(cpu, h->dtype, h->ndim, h->shape, &back));
    OK(sl_tensor_copy(gpu, back, d));
    OK(sl_ctx_synchronize(gpu));
    double e = h->dtype == SL_F32 ? tt_rel_err(FP(back), FP(h), sl_tensor_numel(h), 1e-6)
                                  : (memcmp(back->data, h->data, sl_tensor_nbytes(h)) ? 1.0 : 0.0);
    CHECK_MSG(e <= tol, "%s %s: GPU vs CPU relative error %.3g (tolerance %.1g)", op, what, e, tol);
    fprintf(stderr, "gpu parity %-18s %-8s rel err %.3g (tol %.0e)\n", op, what, e, tol);
    sl_tensor_destroy(back);
}

#define SH(...) ((int64_t[]){ __VA_ARGS__ })

static void run_all(void) {
    int64_t B = 4, Tn = 64, C = 256, H = 4, F = 512, V = 1000, N = B * Tn;
    /* matmul / linear (TF32 off is the backend's business: fp32 tolerance 1e-4) */
    sl_tensor *x = host_rand(SL_F32, 3, SH(B, Tn, C), 0), *w = host_rand(SL_F32, 2, SH(F, C), 0);
    sl_tensor *b = host_rand(SL_F32, 1, SH(F), 0), *y = T(cpu, SL_F32, 3, B, Tn, F), *dy = host_rand(SL_F32, 3, SH(B, Tn, F), 0);
    sl_tensor *gx = to_gpu(x), *gw = to_gpu(w), *gb = to_gpu(b), *gy = to_gpu(y), *gdy = to_gpu(dy);
    OK(sl_linear(cpu, y, x, w, b));
    OK(sl_linear(gpu, gy, gx, gw, gb));
    same("linear", "out", gy, y, 1e-4);
    sl_tensor *dx = T(cpu, SL_F32, 3, B, Tn, C), *dw = T(cpu, SL_F32, 2, F, C), *db = T(cpu, SL_F32, 1, F);
    OK(sl_tensor_zero(cpu, dx)); OK(sl_tensor_zero(cpu, dw)); OK(sl_tensor_zero(cpu, db));
    sl_tensor *gdx = to_gpu(dx), *gdw = to_gpu(dw), *gdb = to_gpu(db);
    OK(sl_linear_backward(cpu, dx, dw, db, dy, x, w));
    OK(sl_linear_backward(gpu, gdx, gdw, gdb, gdy, gx, gw));
    same("linear_backward", "dinp", gdx, dx, 1e-4);
    same("linear_backward", "dweight", gdw, dw, 1e-4);
    same("linear_backward", "dbias", gdb, db, 1e-4);
    /* batched matmul with transposes */
    sl_tensor *a3 = host_rand(SL_F32, 3, SH(8, 32, 48), 0), *b3 = host_rand(SL_F32, 3, SH(8, 40, 32), 0);
    sl_tensor *c3 = host_rand(SL_F32, 3, SH(8, 48, 40), 0);
    sl_tensor *ga3 = to_gpu(a3), *gb3 = to_gpu(b3), *gc3 = to_gpu(c3);
    OK(sl_matmul(cpu, c3, a3, b3, true, true, 0.5f, 1.0f));
    OK(sl_matmul(gpu, gc3, ga3, gb3, true, true, 0.5f, 1.0f));
    same("matmul", "c", gc3, c3, 1e-4);
    /* gelu */
    sl_tensor *gy2 = to_gpu(y);
    for (int k = 0; k < 2; k++) {
        sl_gelu_kind kind = k ? SL_GELU_TANH : SL_GELU_ERF;
        OK(sl_gelu(cpu, y, dy, kind));
        OK(sl_gelu(gpu, gy2, gdy, kind));
        same(k ? "gelu tanh" : "gelu erf", "out", gy2, y, 1e-5);
        OK(sl_tensor_zero(cpu, y)); OK(sl_tensor_zero(gpu, gy2));
        OK(sl_gelu_backward(cpu, y, dy, dy, kind));
        OK(sl_gelu_backward(gpu, gy2, gdy, gdy, kind));
        same(k ? "gelu_bwd tanh" : "gelu_bwd erf", "dinp", gy2, y, 1e-5);
    }
    /* layernorm */
    sl_tensor *lw = host_rand(SL_F32, 1, SH(C), 0), *lb = host_rand(SL_F32, 1, SH(C), 0);
    sl_tensor *mu = T(cpu, SL_F32, 1, N), *rs = T(cpu, SL_F32, 1, N), *lo = T(cpu, SL_F32, 3, B, Tn, C);
    sl_tensor *glw = to_gpu(lw), *glb = to_gpu(lb), *gmu = to_gpu(mu), *grs = to_gpu(rs), *glo = to_gpu(lo);
    OK(sl_layernorm(cpu, lo, mu, rs, x, lw, lb, 1e-5f));
    OK(sl_layernorm(gpu, glo, gmu, grs, gx, glw, glb, 1e-5f));
    same("layernorm", "out", glo, lo, 1e-5);
    same("layernorm", "rstd", grs, rs, 1e-5);
    OK(sl_tensor_zero(cpu, dx)); OK(sl_tensor_zero(gpu, gdx));
    sl_tensor *dlw = T(cpu, SL_F32, 1, C), *dlb = T(cpu, SL_F32, 1, C);
    OK(sl_tensor_zero(cpu, dlw)); OK(sl_tensor_zero(cpu, dlb));
    sl_tensor *gdlw = to_gpu(dlw), *gdlb = to_gpu(dlb);
    OK(sl_layernorm_backward(cpu, dx, dlw, dlb, lo, x, lw, mu, rs));
    OK(sl_layernorm_backward(gpu, gdx, gdlw, gdlb, glo, gx, glw, gmu, grs));
    same("layernorm_backward", "dinp", gdx, dx, 1e-4);
    same("layernorm_backward", "dweight", gdlw, dlw, 1e-4);
    /* softmax */
    OK(sl_softmax(cpu, lo, x));
    OK(sl_softmax(gpu, glo, gx));
    same("softmax", "out", glo, lo, 1e-5);
    /* attention, causal and with a padding mask */
    sl_tensor *qkv = host_rand(SL_F32, 3, SH(B, Tn, 3 * C), 0), *gqkv = to_gpu(qkv);
    sl_tensor *mask = host_rand(SL_U8, 2, SH(B, Tn), 2), *gmask = to_gpu(mask);
    sl_tensor *q, *k, *v, *gq, *gk, *gv;
    OK(sl_tensor_slice(qkv, 2, 0, C, &q)); OK(sl_tensor_slice(qkv, 2, C, C, &k)); OK(sl_tensor_slice(qkv, 2, 2 * C, C, &v));
    OK(sl_tensor_slice(gqkv, 2, 0, C, &gq)); OK(sl_tensor_slice(gqkv, 2, C, C, &gk)); OK(sl_tensor_slice(gqkv, 2, 2 * C, C, &gv));
    sl_tensor *ao = T(cpu, SL_F32, 3, B, Tn, C), *lse = T(cpu, SL_F32, 3, B, H, Tn);
    sl_tensor *gao = to_gpu(ao), *glse = to_gpu(lse);
    for (int c = 0; c < 2; c++) {
        sl_attention_opts o = { (int)H, c == 0, 0 };
        const sl_tensor *mk = c ? mask : NULL, *gmk = c ? gmask : NULL;
        OK(sl_attention(cpu, ao, lse, q, k, v, mk, &o));
        OK(sl_attention(gpu, gao, glse, gq, gk, gv, gmk, &o));
        same(c ? "attention mask" : "attention causal", "out", gao, ao, 1e-4);
        sl_tensor *dq = T(cpu, SL_F32, 3, B, Tn, 3 * C), *gdq;
        OK(sl_tensor_zero(cpu, dq));
        gdq = to_gpu(dq);
        sl_tensor *d1, *d2, *d3, *g1, *g2, *g3;
        OK(sl_tensor_slice(dq, 2, 0, C, &d1)); OK(sl_tensor_slice(dq, 2, C, C, &d2)); OK(sl_tensor_slice(dq, 2, 2 * C, C, &d3));
        OK(sl_tensor_slice(gdq, 2, 0, C, &g1)); OK(sl_tensor_slice(gdq, 2, C, C, &g2)); OK(sl_tensor_slice(gdq, 2, 2 * C, C, &g3));
        OK(sl_attention_backward(cpu, d1, d2, d3, x, q, k, v, mk, ao, lse, &o));
        OK(sl_attention_backward(gpu, g1, g2, g3, gx, gq, gk, gv, gmk, gao, glse, &o));
        same(c ? "attention_bwd mask" : "attention_bwd causal", "dqkv", gdq, dq, 1e-4);
        sl_tensor *ts[] = { dq, gdq, d1, d2, d3, g1, g2, g3 };
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
    }
    /* embedding (+ deterministic backward), cross-entropy */
    sl_tensor *ids = host_rand(SL_I32, 2, SH(B, Tn), V), *gids = to_gpu(ids);
    sl_tensor *tab = host_rand(SL_F32, 2, SH(V, C), 0), *pos = host_rand(SL_F32, 2, SH(Tn, C), 0);
    sl_tensor *gtab = to_gpu(tab), *gpos = to_gpu(pos);
    OK(sl_embedding(cpu, ao, ids, tab, pos, 0));
    OK(sl_embedding(gpu, gao, gids, gtab, gpos, 0));
    same("embedding", "out", gao, ao, 0);
    OK(sl_tensor_zero(cpu, tab)); OK(sl_tensor_zero(gpu, gtab));
    OK(sl_embedding_backward(cpu, tab, NULL, x, ids, 0));
    OK(sl_embedding_backward(gpu, gtab, NULL, gx, gids, 0));
    same("embedding_backward", "dtable", gtab, tab, 1e-5);
    sl_tensor *logits = host_rand(SL_F32, 2, SH(N, V), 0), *glogits = to_gpu(logits);
    sl_tensor *tg = host_rand(SL_I64, 1, SH(N), V), *gtg = to_gpu(tg);
    sl_tensor *losses = T(cpu, SL_F32, 1, N), *clse = T(cpu, SL_F32, 1, N);
    sl_tensor *glosses = to_gpu(losses), *gclse = to_gpu(clse);
    OK(sl_cross_entropy(cpu, losses, clse, logits, tg, 5));
    OK(sl_cross_entropy(gpu, glosses, gclse, glogits, gtg, 5));
    same("cross_entropy", "losses", glosses, losses, 1e-5);
    OK(sl_tensor_fill(cpu, losses, 0.01)); OK(sl_tensor_fill(gpu, glosses, 0.01));
    sl_tensor *dl = T(cpu, SL_F32, 2, N, V), *gdl;
    OK(sl_tensor_zero(cpu, dl));
    gdl = to_gpu(dl);
    OK(sl_cross_entropy_backward(cpu, dl, losses, logits, clse, tg, 5));
    OK(sl_cross_entropy_backward(gpu, gdl, glosses, glogits, gclse, gtg, 5));
    same("cross_entropy_bwd", "dlogits", gdl, dl, 1e-5);
    /* reductions, dropout and random fills (bit-identical by construction) */
    sl_tensor *rsum = T(cpu, SL_F32, 1, N), *grsum = to_gpu(rsum);
    OK(sl_reduce(cpu, rsum, logits, SL_REDUCE_SUM, -1));
    OK(sl_reduce(gpu, grsum, glogits, SL_REDUCE_SUM, -1));
    same("reduce sum", "out", grsum, rsum, 1e-5);
    OK(sl_dropout(cpu, dl, logits, 0.25f, 4096));
    OK(sl_dropout(gpu, gdl, glogits, 0.25f, 4096));
    same("dropout", "out", gdl, dl, 0);
    OK(sl_tensor_rand_uniform(cpu, dl, -1, 1, 77));
    OK(sl_tensor_rand_uniform(gpu, gdl, -1, 1, 77));
    same("rand_uniform", "bits", gdl, dl, 0);
    /* AdamW */
    sl_tensor *pm = T(cpu, SL_F32, 2, F, C), *pv = T(cpu, SL_F32, 2, F, C);
    OK(sl_tensor_zero(cpu, pm)); OK(sl_tensor_zero(cpu, pv));
    sl_tensor *gpm = to_gpu(pm), *gpv = to_gpu(pv);
    sl_adamw_opts ao2 = SL_ADAMW_OPTS_INIT;
    for (int t = 1; t <= 3; t++) {
        OK(sl_adamw(cpu, w, dw, pm, pv, NULL, t, &ao2));
        OK(sl_adamw(gpu, gw, gdw, gpm, gpv, NULL, t, &ao2));
    }
    same("adamw", "param", gw, w, 1e-5);
    /* bf16 cast round trip */
    sl_tensor *hb = T(cpu, SL_BF16, 3, B, Tn, C), *ghb = to_gpu(hb);
    OK(sl_cast(cpu, hb, x));
    OK(sl_cast(gpu, ghb, gx));
    same("cast f32->bf16", "bits", ghb, hb, 0);
}

int main(void) {
    sl_ctx_options o = SL_CTX_OPTIONS_INIT;
    o.device = SL_DEVICE_CUDA;
    o.seed = 7; /* the seed is the RNG key: both contexts need the same one for bit-equal draws */
    if (getenv("SCILOOP_DEVICE")) unsetenv("SCILOOP_DEVICE");
    if (sl_ctx_create(&o, &gpu) != SL_OK) {
        printf("no GPU: skipped (%s)\n", sl_last_error());
        return SL_TEST_SKIP;
    }
    o.device = SL_DEVICE_CPU;
    OK(sl_ctx_create(&o, &cpu));
    fprintf(stderr, "GPU: %s\n", sl_ctx_describe(gpu));
    run_all();
    sl_ctx_destroy(gpu);
    sl_ctx_destroy(cpu);
    return SL_TEST_DONE();
}
