/* ops.c — the public op entry points: validate dtypes, shapes, devices and layouts, then dispatch to the backend. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Requirements a tensor argument can carry. */
enum {
    R_FLOAT = 1,    /* f32, f16 or bf16 */
    R_F32 = 2,      /* exactly f32 */
    R_INDEX = 4,    /* i32 or i64 */
    R_U8 = 8,       /* u8 */
    R_CONTIG = 16,  /* row-major contiguous */
    R_ROWS = 32     /* last dim unit-stride (other strides free) */
};

static sl_status need(const sl_ctx *ctx, const char *op, const char *name, const sl_tensor *t, unsigned req) {
    char buf[96];
    if (!t) return sl_set_error(SL_ERR_INVALID, "%s: %s is NULL", op, name);
    if (t->device != ctx->device)
        return sl_set_error(SL_ERR_INVALID, "%s: %s %s is on %s but the context is on %s", op, name,
                            sl_tensor_describe(t, buf, sizeof buf), sl_device_name(t->device),
                            sl_device_name(ctx->device));
    if ((req & R_FLOAT) && !sli_is_float(t->dtype))
        return sl_set_error(SL_ERR_TYPE, "%s: %s %s must be a float tensor (f32, f16 or bf16)", op, name,
                            sl_tensor_describe(t, buf, sizeof buf));
    if ((req & R_F32) && t->dtype != SL_F32)
        return sl_set_error(SL_ERR_TYPE, "%s: %s %s must be f32", op, name, sl_tensor_describe(t, buf, sizeof buf));
    if ((req & R_INDEX) && t->dtype != SL_I32 && t->dtype != SL_I64)
        return sl_set_error(SL_ERR_TYPE, "%s: %s %s must be i32 or i64", op, name,
                            sl_tensor_describe(t, buf, sizeof buf));
    if ((req & R_U8) && t->dtype != SL_U8)
        return sl_set_error(SL_ERR_TYPE, "%s: %s %s must be u8", op, name, sl_tensor_describe(t, buf, sizeof buf));
    if ((req & R_CONTIG) && !sl_tensor_is_contiguous(t))
        return sl_set_error(SL_ERR_INVALID, "%s: %s %s must be contiguous", op, name,
                            sl_tensor_describe(t, buf, sizeof buf));
    if ((req & R_ROWS) && t->ndim && t->shape[t->ndim - 1] > 1 &&
        t->strides[t->ndim - 1] != (int64_t)sl_dtype_size(t->dtype))
        return sl_set_error(SL_ERR_INVALID, "%s: %s %s must have a unit-stride last dimension", op, name,
                            sl_tensor_describe(t, buf, sizeof buf));
    return SL_OK;
}

static sl_status same_dtype(const char *op, const char *name, const sl_tensor *t, const sl_tensor *ref) {
    if (t->dtype != ref->dtype)
        return sl_set_error(SL_ERR_TYPE, "%s: %s is %s but the op computes in %s", op, name, sl_dtype_name(t->dtype),
                            sl_dtype_name(ref->dtype));
    return SL_OK;
}

static sl_status same_shape(const char *op, const char *name, const sl_tensor *t, const sl_tensor *ref,
                            const char *refname) {
    if (!sl_tensor_same_shape(t, ref)) {
        char a[96], b[96];
        return sl_set_error(SL_ERR_INVALID, "%s: %s %s must have the shape of %s %s", op, name,
                            sl_tensor_describe(t, a, sizeof a), refname, sl_tensor_describe(ref, b, sizeof b));
    }
    return SL_OK;
}

/* Shape check against expected extents; -1 matches anything. */
static sl_status want_shape(const char *op, const char *name, const sl_tensor *t, int ndim, const int64_t *ext,
                            const char *spelled) {
    bool ok = t->ndim == ndim;
    for (int k = 0; ok && k < ndim; k++)
        if (ext[k] >= 0 && t->shape[k] != ext[k]) ok = false;
    if (!ok) {
        char a[96];
        return sl_set_error(SL_ERR_INVALID, "%s: %s is %s, expected shape %s", op, name,
                            sl_tensor_describe(t, a, sizeof a), spelled);
    }
    return SL_OK;
}

static int64_t last_dim(const sl_tensor *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }
static int64_t rows_of(const sl_tensor *t) {
    int64_t r = 1;
    for (int k = 0; k + 1 < t->ndim; k++) r *= t->shape[k];
    return r;
}

#define TRY(x) do { sl_status _s = (x); if (_s != SL_OK) return _s; } while (0)
#define OPT(t, expr) do { if (t) TRY(expr); } while (0)

/* ---------------------------------------------------------------- matmul */

static sl_status matmul_check(sl_ctx *ctx, const char *op, const sl_tensor *c, const sl_tensor *a,
                              const sl_tensor *b, bool ta, bool tb) {
    TRY(need(ctx, op, "a", a, R_FLOAT | R_ROWS));
    TRY(need(ctx, op, "b", b, R_FLOAT | R_ROWS));
    TRY(need(ctx, op, "c", c, R_FLOAT | R_ROWS));
    TRY(same_dtype(op, "b", b, a));
    TRY(same_dtype(op, "c", c, a));
    char x[96], y[96], z[96];
    if (a->ndim < 2 || b->ndim < 2 || c->ndim < 2)
        return sl_set_error(SL_ERR_INVALID, "%s: operands need at least 2 dims (a %s, b %s, c %s)", op,
                            sl_tensor_describe(a, x, sizeof x), sl_tensor_describe(b, y, sizeof y),
                            sl_tensor_describe(c, z, sizeof z));
    int64_t M = ta ? a->shape[a->ndim - 1] : a->shape[a->ndim - 2];
    int64_t K = ta ? a->shape[a->ndim - 2] : a->shape[a->ndim - 1];
    int64_t K2 = tb ? b->shape[b->ndim - 1] : b->shape[b->ndim - 2];
    int64_t N = tb ? b->shape[b->ndim - 2] : b->shape[b->ndim - 1];
    bool ok = K == K2 && c->shape[c->ndim - 2] == M && c->shape[c->ndim - 1] == N;
    /* batch dims: equal everywhere, or one operand unbatched */
    int ba = a->ndim - 2, bb = b->ndim - 2, bc = c->ndim - 2;
    if (ok) {
        const sl_tensor *big = ba >= bb ? a : b;
        int nb = ba >= bb ? ba : bb;
        if (!(ba == bb || ba == 0 || bb == 0) || bc != nb) ok = false;
        for (int k = 0; ok && k < nb; k++)
            if (c->shape[k] != big->shape[k] || (ba == bb && a->shape[k] != b->shape[k])) ok = false;
    }
    if (!ok)
        return sl_set_error(SL_ERR_INVALID, "%s: shapes do not multiply: a %s%s, b %s%s, c %s (want a (...,M,K), "
                            "b (...,K,N), c (...,M,N), batch dims equal or absent on one input)", op,
                            sl_tensor_describe(a, x, sizeof x), ta ? "^T" : "", sl_tensor_describe(b, y, sizeof y),
                            tb ? "^T" : "", sl_tensor_describe(c, z, sizeof z));
    return SL_OK;
}

SL_API sl_status sl_matmul(sl_ctx *ctx, sl_tensor *c, const sl_tensor *a, const sl_tensor *b, bool trans_a,
                           bool trans_b, float alpha, float beta) {
    SL_ASSERT(ctx);
    TRY(matmul_check(ctx, "sl_matmul", c, a, b, trans_a, trans_b));
    if (a->ndim == 2 && b->ndim > 2)
        return sl_set_error(SL_ERR_UNSUPPORTED, "sl_matmul: a unbatched with b batched: transpose the product instead");
    return ctx->be->matmul(ctx->stream, c, a, b, trans_a, trans_b, alpha, beta);
}

SL_API sl_status sl_matmul_backward(sl_ctx *ctx, sl_tensor *da, sl_tensor *db, const sl_tensor *dc,
                                    const sl_tensor *a, const sl_tensor *b, bool trans_a, bool trans_b, float alpha) {
    SL_ASSERT(ctx);
    const char *op = "sl_matmul_backward";
    TRY(matmul_check(ctx, op, dc, a, b, trans_a, trans_b));
    if (a->ndim == 2 && b->ndim > 2)
        return sl_set_error(SL_ERR_UNSUPPORTED, "%s: a unbatched with b batched", op);
    OPT(da, need(ctx, op, "da", da, R_FLOAT | R_ROWS));
    OPT(da, same_shape(op, "da", da, a, "a"));
    OPT(da, same_dtype(op, "da", da, a));
    OPT(db, need(ctx, op, "db", db, R_FLOAT | R_ROWS));
    OPT(db, same_shape(op, "db", db, b, "b"));
    OPT(db, same_dtype(op, "db", db, a));
    if (!da && !db) return SL_OK;
    return ctx->be->matmul_backward(ctx->stream, da, db, dc, a, b, trans_a, trans_b, alpha);
}

/* ---------------------------------------------------------------- linear, bias, add */

static sl_status linear_check(sl_ctx *ctx, const char *op, const sl_tensor *out, const sl_tensor *inp,
                              const sl_tensor *w, const sl_tensor *bias) {
    TRY(need(ctx, op, "inp", inp, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "weight", w, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "out", out, R_FLOAT | R_CONTIG));
    TRY(same_dtype(op, "weight", w, inp));
    TRY(same_dtype(op, "out", out, inp));
    if (inp->ndim < 1 || w->ndim != 2 || out->ndim != inp->ndim || w->shape[1] != last_dim(inp) ||
        last_dim(out) != w->shape[0] || rows_of(out) != rows_of(inp)) {
        char x[96], y[96], z[96];
        return sl_set_error(SL_ERR_INVALID, "%s: inp %s, weight %s, out %s (want inp (N..,C), weight (OC,C), "
                            "out (N..,OC))", op, sl_tensor_describe(inp, x, sizeof x),
                            sl_tensor_describe(w, y, sizeof y), sl_tensor_describe(out, z, sizeof z));
    }
    if (bias) {
        TRY(need(ctx, op, "bias", bias, R_FLOAT | R_CONTIG));
        TRY(same_dtype(op, "bias", bias, inp));
        int64_t e[1] = { w->shape[0] };
        TRY(want_shape(op, "bias", bias, 1, e, "(OC)"));
    }
    return SL_OK;
}

SL_API sl_status sl_linear(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp, const sl_tensor *weight,
                           const sl_tensor *bias) {
    SL_ASSERT(ctx);
    TRY(linear_check(ctx, "sl_linear", out, inp, weight, bias));
    sl_tensor o2, i2;
    sli_flatten2(out, &o2);
    sli_flatten2(inp, &i2);
    return ctx->be->linear(ctx->stream, &o2, &i2, weight, bias);
}

SL_API sl_status sl_linear_backward(sl_ctx *ctx, sl_tensor *dinp, sl_tensor *dweight, sl_tensor *dbias,
                                    const sl_tensor *dout, const sl_tensor *inp, const sl_tensor *weight) {
    SL_ASSERT(ctx);
    const char *op = "sl_linear_backward";
    TRY(linear_check(ctx, op, dout, inp, weight, NULL));
    OPT(dinp, need(ctx, op, "dinp", dinp, R_FLOAT | R_CONTIG));
    OPT(dinp, same_shape(op, "dinp", dinp, inp, "inp"));
    OPT(dinp, same_dtype(op, "dinp", dinp, inp));
    OPT(dweight, need(ctx, op, "dweight", dweight, R_FLOAT | R_CONTIG));
    OPT(dweight, same_shape(op, "dweight", dweight, weight, "weight"));
    OPT(dweight, same_dtype(op, "dweight", dweight, inp));
    if (dbias) {
        TRY(need(ctx, op, "dbias", dbias, R_FLOAT | R_CONTIG));
        TRY(same_dtype(op, "dbias", dbias, inp));
        int64_t e[1] = { weight->shape[0] };
        TRY(want_shape(op, "dbias", dbias, 1, e, "(OC)"));
    }
    sl_tensor d2, i2, di2;
    sli_flatten2(dout, &d2);
    sli_flatten2(inp, &i2);
    if (dinp) sli_flatten2(dinp, &di2);
    return ctx->be->linear_backward(ctx->stream, dinp ? &di2 : NULL, dweight, dbias, &d2, &i2, weight);
}

SL_API sl_status sl_bias_add(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp, const sl_tensor *bias) {
    SL_ASSERT(ctx);
    const char *op = "sl_bias_add";
    TRY(need(ctx, op, "inp", inp, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "out", out, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "bias", bias, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "out", out, inp, "inp"));
    TRY(same_dtype(op, "out", out, inp));
    TRY(same_dtype(op, "bias", bias, inp));
    int64_t e[1] = { last_dim(inp) };
    TRY(want_shape(op, "bias", bias, 1, e, "(C) with C the last extent of inp"));
    sl_tensor o2, i2;
    sli_flatten2(out, &o2);
    sli_flatten2(inp, &i2);
    return ctx->be->bias_add(ctx->stream, &o2, &i2, bias);
}

SL_API sl_status sl_bias_add_backward(sl_ctx *ctx, sl_tensor *dinp, sl_tensor *dbias, const sl_tensor *dout) {
    SL_ASSERT(ctx);
    const char *op = "sl_bias_add_backward";
    TRY(need(ctx, op, "dout", dout, R_FLOAT | R_CONTIG));
    OPT(dinp, need(ctx, op, "dinp", dinp, R_FLOAT | R_CONTIG));
    OPT(dinp, same_shape(op, "dinp", dinp, dout, "dout"));
    OPT(dinp, same_dtype(op, "dinp", dinp, dout));
    if (dbias) {
        TRY(need(ctx, op, "dbias", dbias, R_FLOAT | R_CONTIG));
        TRY(same_dtype(op, "dbias", dbias, dout));
        int64_t e[1] = { last_dim(dout) };
        TRY(want_shape(op, "dbias", dbias, 1, e, "(C)"));
    }
    sl_tensor d2, di2;
    sli_flatten2(dout, &d2);
    if (dinp) sli_flatten2(dinp, &di2);
    return ctx->be->bias_add_backward(ctx->stream, dinp ? &di2 : NULL, dbias, &d2);
}

SL_API sl_status sl_add(sl_ctx *ctx, sl_tensor *out, const sl_tensor *a, const sl_tensor *b) {
    SL_ASSERT(ctx);
    const char *op = "sl_add";
    TRY(need(ctx, op, "a", a, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "b", b, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "out", out, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "b", b, a, "a"));
    TRY(same_shape(op, "out", out, a, "a"));
    TRY(same_dtype(op, "b", b, a));
    TRY(same_dtype(op, "out", out, a));
    return ctx->be->add(ctx->stream, out, a, b);
}

SL_API sl_status sl_axpby(sl_ctx *ctx, sl_tensor *y, float alpha, const sl_tensor *x, float beta) {
    SL_ASSERT(ctx);
    const char *op = "sl_axpby";
    TRY(need(ctx, op, "x", x, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "y", y, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "y", y, x, "x"));
    TRY(same_dtype(op, "y", y, x));
    return ctx->be->axpby(ctx->stream, y, alpha, x, beta);
}

SL_API sl_status sl_add_backward(sl_ctx *ctx, sl_tensor *da, sl_tensor *db, const sl_tensor *dout) {
    SL_ASSERT(ctx);
    if (da) TRY(sl_axpby(ctx, da, 1.0f, dout, 1.0f));
    if (db) TRY(sl_axpby(ctx, db, 1.0f, dout, 1.0f));
    return SL_OK;
}

SL_API sl_status sl_scale(sl_ctx *ctx, sl_tensor *t, float alpha) {
    SL_ASSERT(ctx);
    TRY(need(ctx, "sl_scale", "t", t, R_FLOAT | R_CONTIG));
    return ctx->be->scale(ctx->stream, t, alpha);
}

/* ---------------------------------------------------------------- gelu, layernorm, softmax */

static sl_status gelu_kind_ok(const char *op, sl_gelu_kind kind) {
    if (kind != SL_GELU_ERF && kind != SL_GELU_TANH)
        return sl_set_error(SL_ERR_INVALID, "%s: unknown GELU kind %d", op, (int)kind);
    return SL_OK;
}

SL_API sl_status sl_gelu(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp, sl_gelu_kind kind) {
    SL_ASSERT(ctx);
    const char *op = "sl_gelu";
    TRY(gelu_kind_ok(op, kind));
    TRY(need(ctx, op, "inp", inp, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "out", out, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "out", out, inp, "inp"));
    TRY(same_dtype(op, "out", out, inp));
    return ctx->be->gelu(ctx->stream, out, inp, kind);
}

SL_API sl_status sl_gelu_backward(sl_ctx *ctx, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *inp,
                                  sl_gelu_kind kind) {
    SL_ASSERT(ctx);
    const char *op = "sl_gelu_backward";
    TRY(gelu_kind_ok(op, kind));
    TRY(need(ctx, op, "inp", inp, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "dout", dout, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "dout", dout, inp, "inp"));
    TRY(same_dtype(op, "dout", dout, inp));
    if (!dinp) return SL_OK;
    TRY(need(ctx, op, "dinp", dinp, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "dinp", dinp, inp, "inp"));
    TRY(same_dtype(op, "dinp", dinp, inp));
    return ctx->be->gelu_backward(ctx->stream, dinp, dout, inp, kind);
}

static sl_status stats_check(sl_ctx *ctx, const char *op, const char *name, const sl_tensor *t, int64_t rows) {
    TRY(need(ctx, op, name, t, R_F32 | R_CONTIG));
    if (sl_tensor_numel(t) != rows) {
        char a[96];
        return sl_set_error(SL_ERR_INVALID, "%s: %s %s must hold one f32 per row (%lld)", op, name,
                            sl_tensor_describe(t, a, sizeof a), (long long)rows);
    }
    return SL_OK;
}

static sl_status vec_check(sl_ctx *ctx, const char *op, const char *name, const sl_tensor *t, const sl_tensor *ref) {
    TRY(need(ctx, op, name, t, R_FLOAT | R_CONTIG));
    TRY(same_dtype(op, name, t, ref));
    int64_t e[1] = { last_dim(ref) };
    return want_shape(op, name, t, 1, e, "(C) with C the last extent of inp");
}

SL_API sl_status sl_layernorm(sl_ctx *ctx, sl_tensor *out, sl_tensor *mean, sl_tensor *rstd, const sl_tensor *inp,
                              const sl_tensor *weight, const sl_tensor *bias, float eps) {
    SL_ASSERT(ctx);
    const char *op = "sl_layernorm";
    TRY(need(ctx, op, "inp", inp, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "out", out, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "out", out, inp, "inp"));
    TRY(same_dtype(op, "out", out, inp));
    if (inp->ndim < 1) return sl_set_error(SL_ERR_INVALID, "%s: inp needs at least one dimension", op);
    if (!(eps >= 0)) return sl_set_error(SL_ERR_RANGE, "%s: eps %g must be >= 0", op, (double)eps);
    int64_t rows = rows_of(inp);
    OPT(mean, stats_check(ctx, op, "mean", mean, rows));
    OPT(rstd, stats_check(ctx, op, "rstd", rstd, rows));
    OPT(weight, vec_check(ctx, op, "weight", weight, inp));
    OPT(bias, vec_check(ctx, op, "bias", bias, inp));
    sl_tensor o2, i2;
    sli_flatten2(out, &o2);
    sli_flatten2(inp, &i2);
    return ctx->be->layernorm(ctx->stream, &o2, mean, rstd, &i2, weight, bias, eps);
}

SL_API sl_status sl_layernorm_backward(sl_ctx *ctx, sl_tensor *dinp, sl_tensor *dweight, sl_tensor *dbias,
                                       const sl_tensor *dout, const sl_tensor *inp, const sl_tensor *weight,
                                       const sl_tensor *mean, const sl_tensor *rstd) {
    SL_ASSERT(ctx);
    const char *op = "sl_layernorm_backward";
    TRY(need(ctx, op, "inp", inp, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "dout", dout, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "dout", dout, inp, "inp"));
    TRY(same_dtype(op, "dout", dout, inp));
    if (inp->ndim < 1) return sl_set_error(SL_ERR_INVALID, "%s: inp needs at least one dimension", op);
    int64_t rows = rows_of(inp);
    TRY(stats_check(ctx, op, "mean", mean, rows));
    TRY(stats_check(ctx, op, "rstd", rstd, rows));
    OPT(weight, vec_check(ctx, op, "weight", weight, inp));
    OPT(dweight, vec_check(ctx, op, "dweight", dweight, inp));
    OPT(dbias, vec_check(ctx, op, "dbias", dbias, inp));
    OPT(dinp, need(ctx, op, "dinp", dinp, R_FLOAT | R_CONTIG));
    OPT(dinp, same_shape(op, "dinp", dinp, inp, "inp"));
    OPT(dinp, same_dtype(op, "dinp", dinp, inp));
    sl_tensor d2, i2, di2;
    sli_flatten2(dout, &d2);
    sli_flatten2(inp, &i2);
    if (dinp) sli_flatten2(dinp, &di2);
    return ctx->be->layernorm_backward(ctx->stream, dinp ? &di2 : NULL, dweight, dbias, &d2, &i2, weight, mean, rstd);
}

SL_API sl_status sl_softmax(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp) {
    SL_ASSERT(ctx);
    const char *op = "sl_softmax";
    TRY(need(ctx, op, "inp", inp, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "out", out, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "out", out, inp, "inp"));
    TRY(same_dtype(op, "out", out, inp));
    if (inp->ndim < 1) return sl_set_error(SL_ERR_INVALID, "%s: inp needs at least one dimension", op);
    sl_tensor o2, i2;
    sli_flatten2(out, &o2);
    sli_flatten2(inp, &i2);
    return ctx->be->softmax(ctx->stream, &o2, &i2);
}

SL_API sl_status sl_softmax_backward(sl_ctx *ctx, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *out) {
    SL_ASSERT(ctx);
    const char *op = "sl_softmax_backward";
    TRY(need(ctx, op, "out", out, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "dout", dout, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "dout", dout, out, "out"));
    TRY(same_dtype(op, "dout", dout, out));
    if (out->ndim < 1) return sl_set_error(SL_ERR_INVALID, "%s: out needs at least one dimension", op);
    if (!dinp) return SL_OK;
    TRY(need(ctx, op, "dinp", dinp, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "dinp", dinp, out, "out"));
    TRY(same_dtype(op, "dinp", dinp, out));
    sl_tensor o2, d2, di2;
    sli_flatten2(out, &o2);
    sli_flatten2(dout, &d2);
    sli_flatten2(dinp, &di2);
    return ctx->be->softmax_backward(ctx->stream, &di2, &d2, &o2);
}

/* ---------------------------------------------------------------- embedding */

/* Host-side id check: names the first bad id and where it sits. */
static sl_status check_ids(const char *op, const char *name, const sl_tensor *ids, int64_t limit, bool allow_ignore,
                           int64_t ignore) {
    if (ids->device != SL_DEVICE_CPU) return SL_OK; /* device backends clamp and report */
    int64_t n = sl_tensor_numel(ids);
    for (int64_t i = 0; i < n; i++) {
        int64_t v = ids->dtype == SL_I32 ? ((const int32_t *)ids->data)[i] : ((const int64_t *)ids->data)[i];
        if (allow_ignore && v == ignore) continue;
        if (v < 0 || v >= limit)
            return sl_set_error(SL_ERR_RANGE, "%s: %s[%lld] = %lld is outside [0, %lld)", op, name, (long long)i,
                                (long long)v, (long long)limit);
    }
    return SL_OK;
}

static sl_status embedding_check(sl_ctx *ctx, const char *op, const sl_tensor *out, const sl_tensor *ids,
                                 const sl_tensor *table, const sl_tensor *pos, int64_t pos_offset) {
    TRY(need(ctx, op, "ids", ids, R_INDEX | R_CONTIG));
    TRY(need(ctx, op, "out", out, R_FLOAT | R_CONTIG));
    if (ids->ndim != 2) return sl_set_error(SL_ERR_INVALID, "%s: ids must be (B,T)", op);
    int64_t B = ids->shape[0], T = ids->shape[1];
    int64_t e[3] = { B, T, -1 };
    TRY(want_shape(op, "out/dout", out, 3, e, "(B,T,C)"));
    int64_t C = out->shape[2];
    if (table) {
        TRY(need(ctx, op, "table", table, R_FLOAT | R_CONTIG));
        TRY(same_dtype(op, "table", table, out));
        int64_t et[2] = { -1, C };
        TRY(want_shape(op, "table", table, 2, et, "(V,C)"));
    }
    if (pos) {
        TRY(need(ctx, op, "pos_table", pos, R_FLOAT | R_CONTIG));
        TRY(same_dtype(op, "pos_table", pos, out));
        int64_t ep[2] = { -1, C };
        TRY(want_shape(op, "pos_table", pos, 2, ep, "(P,C)"));
        if (pos_offset < 0 || pos_offset + T > pos->shape[0])
            return sl_set_error(SL_ERR_RANGE, "%s: positions [%lld, %lld) exceed the %lld rows of pos_table", op,
                                (long long)pos_offset, (long long)(pos_offset + T), (long long)pos->shape[0]);
    }
    return SL_OK;
}

SL_API sl_status sl_embedding(sl_ctx *ctx, sl_tensor *out, const sl_tensor *ids, const sl_tensor *table,
                              const sl_tensor *pos_table, int64_t pos_offset) {
    SL_ASSERT(ctx);
    const char *op = "sl_embedding";
    if (!table) return sl_set_error(SL_ERR_INVALID, "%s: table is NULL", op);
    TRY(embedding_check(ctx, op, out, ids, table, pos_table, pos_offset));
    TRY(check_ids(op, "ids", ids, table->shape[0], false, 0));
    return ctx->be->embedding(ctx->stream, out, ids, table, pos_table, pos_offset);
}

SL_API sl_status sl_embedding_backward(sl_ctx *ctx, sl_tensor *dtable, sl_tensor *dpos_table, const sl_tensor *dout,
                                       const sl_tensor *ids, int64_t pos_offset) {
    SL_ASSERT(ctx);
    const char *op = "sl_embedding_backward";
    TRY(embedding_check(ctx, op, dout, ids, dtable, dpos_table, pos_offset));
    if (dtable) TRY(check_ids(op, "ids", ids, dtable->shape[0], false, 0));
    if (!dtable && !dpos_table) return SL_OK;
    return ctx->be->embedding_backward(ctx->stream, dtable, dpos_table, dout, ids, pos_offset);
}

/* ---------------------------------------------------------------- attention */

static sl_status attention_check(sl_ctx *ctx, const char *op, const sl_tensor *q, const sl_tensor *k,
                                 const sl_tensor *v, const sl_tensor *mask, const sl_tensor *out,
                                 const sl_tensor *lse, const sl_attention_opts *opts, sl_attention_opts *resolved) {
    if (!opts) return sl_set_error(SL_ERR_INVALID, "%s: opts is NULL", op);
    TRY(need(ctx, op, "q", q, R_FLOAT | R_ROWS));
    TRY(need(ctx, op, "k", k, R_FLOAT | R_ROWS));
    TRY(need(ctx, op, "v", v, R_FLOAT | R_ROWS));
    TRY(need(ctx, op, "out", out, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "lse", lse, R_F32 | R_CONTIG));
    TRY(same_dtype(op, "k", k, q));
    TRY(same_dtype(op, "v", v, q));
    TRY(same_dtype(op, "out", out, q));
    if (q->ndim != 3) return sl_set_error(SL_ERR_INVALID, "%s: q must be (B,T,C)", op);
    int64_t B = q->shape[0], T = q->shape[1], C = q->shape[2];
    int H = opts->n_head;
    if (H < 1 || C % H) return sl_set_error(SL_ERR_INVALID, "%s: n_head %d does not divide C = %lld", op, H, (long long)C);
    int64_t e3[3] = { B, T, C };
    TRY(want_shape(op, "k", k, 3, e3, "(B,T,C) like q"));
    TRY(want_shape(op, "v", v, 3, e3, "(B,T,C) like q"));
    TRY(want_shape(op, "out", out, 3, e3, "(B,T,C) like q"));
    int64_t el[3] = { B, H, T };
    TRY(want_shape(op, "lse", lse, 3, el, "(B,H,T)"));
    if (mask) {
        TRY(need(ctx, op, "key_mask", mask, R_U8 | R_CONTIG));
        int64_t em[2] = { B, T };
        TRY(want_shape(op, "key_mask", mask, 2, em, "(B,T)"));
    }
    *resolved = *opts;
    if (!(opts->scale >= 0) && !(opts->scale < 0))
        return sl_set_error(SL_ERR_INVALID, "%s: scale is NaN", op);
    if (opts->scale == 0) resolved->scale = (float)(1.0 / sqrt((double)(C / H)));
    return SL_OK;
}

SL_API sl_status sl_attention(sl_ctx *ctx, sl_tensor *out, sl_tensor *lse, const sl_tensor *q, const sl_tensor *k,
                              const sl_tensor *v, const sl_tensor *key_mask, const sl_attention_opts *opts) {
    SL_ASSERT(ctx);
    sl_attention_opts o;
    TRY(attention_check(ctx, "sl_attention", q, k, v, key_mask, out, lse, opts, &o));
    return ctx->be->attention(ctx->stream, out, lse, q, k, v, key_mask, &o);
}

SL_API sl_status sl_attention_backward(sl_ctx *ctx, sl_tensor *dq, sl_tensor *dk, sl_tensor *dv, const sl_tensor *dout,
                                       const sl_tensor *q, const sl_tensor *k, const sl_tensor *v,
                                       const sl_tensor *key_mask, const sl_tensor *out, const sl_tensor *lse,
                                       const sl_attention_opts *opts) {
    SL_ASSERT(ctx);
    const char *op = "sl_attention_backward";
    sl_attention_opts o;
    TRY(attention_check(ctx, op, q, k, v, key_mask, out, lse, opts, &o));
    TRY(need(ctx, op, "dout", dout, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "dout", dout, out, "out"));
    TRY(same_dtype(op, "dout", dout, q));
    sl_tensor *g[3] = { dq, dk, dv };
    const char *gn[3] = { "dq", "dk", "dv" };
    for (int i = 0; i < 3; i++) {
        if (!g[i]) continue;
        TRY(need(ctx, op, gn[i], g[i], R_FLOAT | R_ROWS));
        TRY(same_shape(op, gn[i], g[i], q, "q"));
        TRY(same_dtype(op, gn[i], g[i], q));
    }
    if (!dq && !dk && !dv) return SL_OK;
    return ctx->be->attention_backward(ctx->stream, dq, dk, dv, dout, q, k, v, key_mask, out, lse, &o);
}

/* ---------------------------------------------------------------- dropout */

static sl_status dropout_p_ok(const char *op, float p) {
    if (!(p >= 0.0f && p < 1.0f)) return sl_set_error(SL_ERR_RANGE, "%s: p = %g (expected 0 <= p < 1)", op, (double)p);
    return SL_OK;
}

SL_API sl_status sl_dropout(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp, float p, uint64_t rng_offset) {
    SL_ASSERT(ctx);
    const char *op = "sl_dropout";
    TRY(dropout_p_ok(op, p));
    TRY(need(ctx, op, "inp", inp, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "out", out, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "out", out, inp, "inp"));
    TRY(same_dtype(op, "out", out, inp));
    return ctx->be->dropout(ctx->stream, out, inp, p, ctx->seed, rng_offset);
}

SL_API sl_status sl_dropout_backward(sl_ctx *ctx, sl_tensor *dinp, const sl_tensor *dout, float p, uint64_t rng_offset) {
    SL_ASSERT(ctx);
    const char *op = "sl_dropout_backward";
    TRY(dropout_p_ok(op, p));
    TRY(need(ctx, op, "dout", dout, R_FLOAT | R_CONTIG));
    if (!dinp) return SL_OK;
    TRY(need(ctx, op, "dinp", dinp, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "dinp", dinp, dout, "dout"));
    TRY(same_dtype(op, "dinp", dinp, dout));
    return ctx->be->dropout_backward(ctx->stream, dinp, dout, p, ctx->seed, rng_offset);
}

/* ---------------------------------------------------------------- cross-entropy */

static sl_status ce_check(sl_ctx *ctx, const char *op, const sl_tensor *logits, const sl_tensor *targets,
                          const sl_tensor *lse, const sl_tensor *per_row, const char *per_row_name) {
    TRY(need(ctx, op, "logits", logits, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "targets", targets, R_INDEX | R_CONTIG));
    if (logits->ndim < 1) return sl_set_error(SL_ERR_INVALID, "%s: logits must be (N,V)", op);
    int64_t N = rows_of(logits);
    if (sl_tensor_numel(targets) != N)
        return sl_set_error(SL_ERR_INVALID, "%s: targets has %lld entries, logits %lld rows", op,
                            (long long)sl_tensor_numel(targets), (long long)N);
    TRY(stats_check(ctx, op, "lse", lse, N));
    TRY(stats_check(ctx, op, per_row_name, per_row, N));
    return SL_OK;
}

SL_API sl_status sl_cross_entropy(sl_ctx *ctx, sl_tensor *losses, sl_tensor *lse, const sl_tensor *logits,
                                  const sl_tensor *targets, int64_t ignore_index) {
    SL_ASSERT(ctx);
    const char *op = "sl_cross_entropy";
    TRY(ce_check(ctx, op, logits, targets, lse, losses, "losses"));
    TRY(check_ids(op, "targets", targets, last_dim(logits), true, ignore_index));
    sl_tensor l2;
    sli_flatten2(logits, &l2);
    return ctx->be->cross_entropy(ctx->stream, losses, lse, &l2, targets, ignore_index);
}

SL_API sl_status sl_cross_entropy_backward(sl_ctx *ctx, sl_tensor *dlogits, const sl_tensor *dlosses,
                                           const sl_tensor *logits, const sl_tensor *lse, const sl_tensor *targets,
                                           int64_t ignore_index) {
    SL_ASSERT(ctx);
    const char *op = "sl_cross_entropy_backward";
    TRY(ce_check(ctx, op, logits, targets, lse, dlosses, "dlosses"));
    TRY(check_ids(op, "targets", targets, last_dim(logits), true, ignore_index));
    if (!dlogits) return SL_OK;
    TRY(need(ctx, op, "dlogits", dlogits, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "dlogits", dlogits, logits, "logits"));
    TRY(same_dtype(op, "dlogits", dlogits, logits));
    sl_tensor l2, d2;
    sli_flatten2(logits, &l2);
    sli_flatten2(dlogits, &d2);
    return ctx->be->cross_entropy_backward(ctx->stream, &d2, dlosses, &l2, lse, targets, ignore_index);
}

/* ---------------------------------------------------------------- reductions */

/* Resolve the axis and the (outer, n, inner) view; check out's element count. */
static sl_status reduce_geometry(const char *op, const sl_tensor *inp, const sl_tensor *out, int axis, int64_t *outer,
                                 int64_t *n, int64_t *inner) {
    if (axis == SL_AXIS_ALL) {
        *outer = 1; *inner = 1; *n = sl_tensor_numel(inp);
        if (sl_tensor_numel(out) != 1)
            return sl_set_error(SL_ERR_INVALID, "%s: reducing everything needs a one-element out", op);
        return SL_OK;
    }
    int a = axis < 0 ? axis + inp->ndim : axis;
    if (a < 0 || a >= inp->ndim)
        return sl_set_error(SL_ERR_INVALID, "%s: axis %d out of range for %d dims", op, axis, inp->ndim);
    *outer = 1; *inner = 1;
    for (int k = 0; k < a; k++) *outer *= inp->shape[k];
    for (int k = a + 1; k < inp->ndim; k++) *inner *= inp->shape[k];
    *n = inp->shape[a];
    /* out: inp's shape without axis, or with it kept at 1 */
    bool ok_drop = out->ndim == inp->ndim - 1, ok_keep = out->ndim == inp->ndim;
    for (int k = 0, j = 0; k < inp->ndim; k++) {
        if (k == a) {
            if (ok_keep && out->shape[k] != 1) ok_keep = false;
            continue;
        }
        if (ok_drop && out->shape[j] != inp->shape[k]) ok_drop = false;
        if (ok_keep && out->shape[k] != inp->shape[k]) ok_keep = false;
        j++;
    }
    if (!ok_drop && !ok_keep) {
        char x[96], y[96];
        return sl_set_error(SL_ERR_INVALID, "%s: out %s is not inp %s reduced along axis %d", op,
                            sl_tensor_describe(out, x, sizeof x), sl_tensor_describe(inp, y, sizeof y), axis);
    }
    return SL_OK;
}

static sl_status reduce_op_ok(const char *op, sl_reduce_op r) {
    if (r != SL_REDUCE_SUM && r != SL_REDUCE_MEAN && r != SL_REDUCE_MAX)
        return sl_set_error(SL_ERR_INVALID, "%s: unknown reduction %d", op, (int)r);
    return SL_OK;
}

SL_API sl_status sl_reduce(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp, sl_reduce_op rop, int axis) {
    SL_ASSERT(ctx);
    const char *op = "sl_reduce";
    TRY(reduce_op_ok(op, rop));
    TRY(need(ctx, op, "inp", inp, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "out", out, R_FLOAT | R_CONTIG));
    TRY(same_dtype(op, "out", out, inp));
    int64_t outer, n, inner;
    TRY(reduce_geometry(op, inp, out, axis, &outer, &n, &inner));
    if (n == 0 && rop != SL_REDUCE_SUM)
        return sl_set_error(SL_ERR_INVALID, "%s: %s over an empty axis", op, rop == SL_REDUCE_MAX ? "max" : "mean");
    return ctx->be->reduce(ctx->stream, out, inp, rop, outer, n, inner);
}

SL_API sl_status sl_reduce_backward(sl_ctx *ctx, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *inp,
                                    const sl_tensor *out, sl_reduce_op rop, int axis) {
    SL_ASSERT(ctx);
    const char *op = "sl_reduce_backward";
    TRY(reduce_op_ok(op, rop));
    TRY(need(ctx, op, "inp", inp, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "dout", dout, R_FLOAT | R_CONTIG));
    TRY(same_dtype(op, "dout", dout, inp));
    int64_t outer, n, inner;
    TRY(reduce_geometry(op, inp, dout, axis, &outer, &n, &inner));
    if (rop == SL_REDUCE_MAX) {
        TRY(need(ctx, op, "out", out, R_FLOAT | R_CONTIG));
        TRY(same_shape(op, "out", out, dout, "dout"));
    }
    if (!dinp) return SL_OK;
    TRY(need(ctx, op, "dinp", dinp, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "dinp", dinp, inp, "inp"));
    TRY(same_dtype(op, "dinp", dinp, inp));
    return ctx->be->reduce_backward(ctx->stream, dinp, dout, inp, out, rop, outer, n, inner);
}

SL_API sl_status sl_argmax(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp, int axis) {
    SL_ASSERT(ctx);
    const char *op = "sl_argmax";
    TRY(need(ctx, op, "inp", inp, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "out", out, R_INDEX | R_CONTIG));
    int64_t outer, n, inner;
    TRY(reduce_geometry(op, inp, out, axis, &outer, &n, &inner));
    if (n == 0) return sl_set_error(SL_ERR_INVALID, "%s: argmax over an empty axis", op);
    return ctx->be->argmax(ctx->stream, out, inp, outer, n, inner);
}

/* ---------------------------------------------------------------- casts, fills */

SL_API sl_status sl_cast(sl_ctx *ctx, sl_tensor *dst, const sl_tensor *src) {
    SL_ASSERT(ctx);
    if (!dst || !src) return sl_set_error(SL_ERR_INVALID, "sl_cast: NULL tensor");
    if (dst->device != src->device)
        return sl_set_error(SL_ERR_INVALID, "sl_cast: dst on %s, src on %s (use sl_tensor_copy across devices)",
                            sl_device_name(dst->device), sl_device_name(src->device));
    return sl_tensor_copy(ctx, dst, src);
}

SL_API sl_status sl_cast_backward(sl_ctx *ctx, sl_tensor *dsrc, const sl_tensor *ddst) {
    SL_ASSERT(ctx);
    const char *op = "sl_cast_backward";
    TRY(need(ctx, op, "ddst", ddst, R_FLOAT | R_CONTIG));
    if (!dsrc) return SL_OK;
    TRY(need(ctx, op, "dsrc", dsrc, R_FLOAT | R_CONTIG));
    TRY(same_shape(op, "dsrc", dsrc, ddst, "ddst"));
    if (dsrc->dtype == ddst->dtype) return ctx->be->axpby(ctx->stream, dsrc, 1.0f, ddst, 1.0f);
    sl_tensor *tmp;
    TRY(sl_tensor_create(ctx, dsrc->dtype, dsrc->ndim, dsrc->shape, &tmp));
    sl_status st = ctx->be->copy(ctx->stream, tmp, ddst);
    if (st == SL_OK) st = ctx->be->axpby(ctx->stream, dsrc, 1.0f, tmp, 1.0f);
    sl_tensor_destroy(tmp);
    return st;
}

static sl_status fill_target(sl_ctx *ctx, const char *op, const sl_tensor *t) {
    if (!t) return sl_set_error(SL_ERR_INVALID, "%s: t is NULL", op);
    if (t->device != ctx->device && t->device != SL_DEVICE_CPU)
        return sl_set_error(SL_ERR_INVALID, "%s: tensor on %s, context on %s", op, sl_device_name(t->device),
                            sl_device_name(ctx->device));
    return SL_OK;
}

/* Host tensors are served by a one-thread CPU stream whatever the context's device. */
static sl_status on_host(sl_tensor *t, sl_status (*fn)(const sli_backend *, sli_stream *, sl_tensor *, void *),
                         void *arg) {
    const sli_backend *cpu = sli_cpu_backend();
    sli_ctx_state one = { 1, true, 0, 0 };
    sli_stream *s;
    TRY(cpu->stream_create(&one, &s));
    sl_status st = fn(cpu, s, t, arg);
    cpu->stream_destroy(s);
    return st;
}

static sl_status host_fill(const sli_backend *b, sli_stream *s, sl_tensor *t, void *arg) {
    return b->fill(s, t, *(double *)arg);
}

SL_API sl_status sl_tensor_fill(sl_ctx *ctx, sl_tensor *t, double value) {
    SL_ASSERT(ctx);
    TRY(fill_target(ctx, "sl_tensor_fill", t));
    if (t->device != ctx->device) return on_host(t, host_fill, &value);
    return ctx->be->fill(ctx->stream, t, value);
}

SL_API sl_status sl_tensor_zero(sl_ctx *ctx, sl_tensor *t) { return sl_tensor_fill(ctx, t, 0.0); }

struct rand_arg { float a, b; uint64_t key, offset; bool normal; };

static sl_status host_rand(const sli_backend *be, sli_stream *s, sl_tensor *t, void *arg) {
    struct rand_arg *r = arg;
    return r->normal ? be->rand_normal(s, t, r->a, r->b, r->key, r->offset)
                     : be->rand_uniform(s, t, r->a, r->b, r->key, r->offset);
}

static sl_status rand_fill(sl_ctx *ctx, const char *op, sl_tensor *t, struct rand_arg *r) {
    TRY(fill_target(ctx, op, t));
    if (!sli_is_float(t->dtype)) return sl_set_error(SL_ERR_TYPE, "%s: needs a float tensor", op);
    if (!sl_tensor_is_contiguous(t)) return sl_set_error(SL_ERR_INVALID, "%s: needs a contiguous tensor", op);
    r->key = ctx->seed;
    if (t->device != ctx->device) return on_host(t, host_rand, r);
    return host_rand(ctx->be, ctx->stream, t, r);
}

SL_API sl_status sl_tensor_rand_uniform(sl_ctx *ctx, sl_tensor *t, float lo, float hi, uint64_t rng_offset) {
    SL_ASSERT(ctx);
    struct rand_arg r = { lo, hi, 0, rng_offset, false };
    return rand_fill(ctx, "sl_tensor_rand_uniform", t, &r);
}

SL_API sl_status sl_tensor_rand_normal(sl_ctx *ctx, sl_tensor *t, float mean, float std, uint64_t rng_offset) {
    SL_ASSERT(ctx);
    struct rand_arg r = { mean, std, 0, rng_offset, true };
    return rand_fill(ctx, "sl_tensor_rand_normal", t, &r);
}

/* ---------------------------------------------------------------- optimiser */

SL_API sl_status sl_adamw(sl_ctx *ctx, sl_tensor *param, const sl_tensor *grad, sl_tensor *m, sl_tensor *v,
                          sl_tensor *param_copy, int64_t t, const sl_adamw_opts *opts) {
    SL_ASSERT(ctx);
    const char *op = "sl_adamw";
    if (!opts) return sl_set_error(SL_ERR_INVALID, "%s: opts is NULL", op);
    if (t < 1) return sl_set_error(SL_ERR_RANGE, "%s: step t = %lld (expected >= 1)", op, (long long)t);
    if (!(opts->beta1 >= 0 && opts->beta1 < 1) || !(opts->beta2 >= 0 && opts->beta2 < 1) || !(opts->eps >= 0) ||
        !(opts->lr >= 0) || !(opts->weight_decay >= 0))
        return sl_set_error(SL_ERR_RANGE, "%s: hyper-parameters out of range (lr %g, betas %g %g, eps %g, wd %g)", op,
                            (double)opts->lr, (double)opts->beta1, (double)opts->beta2, (double)opts->eps,
                            (double)opts->weight_decay);
    TRY(need(ctx, op, "param", param, R_F32 | R_CONTIG));
    TRY(need(ctx, op, "grad", grad, R_FLOAT | R_CONTIG));
    TRY(need(ctx, op, "m", m, R_F32 | R_CONTIG));
    TRY(need(ctx, op, "v", v, R_F32 | R_CONTIG));
    TRY(same_shape(op, "grad", grad, param, "param"));
    TRY(same_shape(op, "m", m, param, "param"));
    TRY(same_shape(op, "v", v, param, "param"));
    if (param_copy) {
        TRY(need(ctx, op, "param_copy", param_copy, R_FLOAT | R_CONTIG));
        TRY(same_shape(op, "param_copy", param_copy, param, "param"));
    }
    return ctx->be->adamw(ctx->stream, param, grad, m, v, param_copy, t, opts);
}

SL_API sl_status sl_global_norm(sl_ctx *ctx, sl_tensor *const *tensors, int n, float *norm) {
    SL_ASSERT(ctx);
    const char *op = "sl_global_norm";
    if (n < 0 || (n && !tensors) || !norm) return sl_set_error(SL_ERR_INVALID, "%s: bad arguments", op);
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "tensors[%d]", i);
        TRY(need(ctx, op, name, tensors[i], R_FLOAT | R_CONTIG));
    }
    double ss = 0;
    TRY(ctx->be->sum_squares(ctx->stream, tensors, n, &ss));
    *norm = (float)sqrt(ss);
    return SL_OK;
}

SL_API sl_status sl_clip_grad_norm(sl_ctx *ctx, sl_tensor *const *grads, int n, float max_norm, float *norm_out) {
    SL_ASSERT(ctx);
    if (!(max_norm > 0)) return sl_set_error(SL_ERR_RANGE, "sl_clip_grad_norm: max_norm %g must be > 0", (double)max_norm);
    float norm;
    TRY(sl_global_norm(ctx, grads, n, &norm));
    if (norm_out) *norm_out = norm;
    float coef = (float)((double)max_norm / ((double)norm + 1e-6));
    if (coef < 1.0f)
        for (int i = 0; i < n; i++) TRY(ctx->be->scale(ctx->stream, grads[i], coef));
    return SL_OK;
}
