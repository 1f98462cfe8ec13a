/* cpu_backend.c — the CPU backend table: memory, streams (pool + workspace), strided copies/casts, fills. */
#include "cpu.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/internal.h"

/* ---- memory ---- */

static sl_status cpu_device_init(int gpu_index, char *desc, size_t size) {
    (void)gpu_index;
    static bool once;
    if (!once) { cpu_gemm_init(); once = true; } /* benign race: idempotent */
    snprintf(desc, size, "cpu (%s)", cpu_gemm_provider());
    return SL_OK;
}

static sl_status cpu_mem_alloc(size_t nbytes, void **out) {
    size_t n = (nbytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, n ? n : 64);
    if (!p) return sl_set_error(SL_ERR_NOMEM, "out of memory allocating %zu bytes for a tensor", nbytes);
    *out = p;
    return SL_OK;
}

static void cpu_mem_free(void *p, size_t nbytes) { (void)nbytes; free(p); }

/* ---- streams ---- */

static sl_status cpu_stream_create(const sli_ctx_state *state, sli_stream **out) {
    sli_stream *s = calloc(1, sizeof *s);
    if (!s) return sl_set_error(SL_ERR_NOMEM, "cpu stream: out of memory");
    s->state = state;
    sl_status st = cpu_pool_create(state->threads, &s->pool);
    if (st != SL_OK) { free(s); return st; }
    if (state->workspace_bytes && !cpu_workspace(s, state->workspace_bytes)) {
        cpu_pool_destroy(s->pool);
        free(s);
        return SL_ERR_NOMEM;
    }
    *out = s;
    return SL_OK;
}

static void cpu_stream_destroy(sli_stream *s) {
    if (!s) return;
    cpu_pool_destroy(s->pool);
    free(s->ws);
    free(s);
}

static sl_status cpu_stream_threads_changed(sli_stream *s) {
    cpu_pool *p;
    sl_status st = cpu_pool_create(s->state->threads, &p);
    if (st != SL_OK) return st;
    cpu_pool_destroy(s->pool);
    s->pool = p;
    return SL_OK;
}

static sl_status cpu_synchronize(sli_stream *s) { (void)s; return SL_OK; }

void *cpu_workspace(sli_stream *s, size_t bytes) {
    if (bytes <= s->ws_size) return s->ws;
    size_t n = s->ws_size ? s->ws_size : 1 << 20;
    while (n < bytes) n *= 2;
    void *p = aligned_alloc(64, n);
    if (!p) {
        sl_set_error(SL_ERR_NOMEM, "cpu workspace: out of memory (%zu bytes)", n);
        return NULL;
    }
    free(s->ws);
    s->ws = p;
    s->ws_size = n;
    return p;
}

sl_status cpu_need_f32(const char *op, int n, const sl_tensor *const *ts) {
    for (int i = 0; i < n; i++)
        if (ts[i] && sli_is_float(ts[i]->dtype) && ts[i]->dtype != SL_F32)
            return sl_set_error(SL_ERR_UNSUPPORTED, "%s: the CPU backend computes in f32; got a %s tensor "
                                "(cast it with sl_cast first)", op, sl_dtype_name(ts[i]->dtype));
    return SL_OK;
}

static sl_status cpu_memcpy(sli_stream *s, void *dst, const void *src, size_t n, sli_copy_kind kind) {
    (void)s; (void)kind;
    memcpy(dst, src, n);
    return SL_OK;
}

/* ---- strided copy with conversion ---- */

static inline double load_f(sl_dtype d, const char *p) {
    switch (d) {
    case SL_F32: { float f; memcpy(&f, p, 4); return f; }
    case SL_F16: { uint16_t h; memcpy(&h, p, 2); return cpu_f16_to_f32(h); }
    case SL_BF16: { uint16_t h; memcpy(&h, p, 2); return cpu_bf16_to_f32(h); }
    case SL_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case SL_I64: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    case SL_U8: return (unsigned char)*p;
    }
    return 0;
}

static inline int64_t load_i(sl_dtype d, const char *p) {
    switch (d) {
    case SL_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case SL_I64: { int64_t v; memcpy(&v, p, 8); return v; }
    case SL_U8: return (unsigned char)*p;
    default: return 0;
    }
}

/* float -> integer: truncate toward zero, saturate, NaN -> 0 */
static inline int64_t sat_i(double v, double lo, double hi) {
    if (v != v) return 0;
    if (v <= lo) return (int64_t)lo;
    if (v >= hi) return (int64_t)hi;
    return (int64_t)v;
}

static inline void store(sl_dtype dd, char *q, sl_dtype sd, const char *p) {
    if (!sli_is_float(sd) && !sli_is_float(dd)) {
        int64_t v = load_i(sd, p);
        switch (dd) {
        case SL_I32: { int32_t w = (int32_t)(uint32_t)v; if (sd == SL_I64) w = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v; memcpy(q, &w, 4); break; }
        case SL_I64: memcpy(q, &v, 8); break;
        case SL_U8: *q = (char)(unsigned char)(uint64_t)v; break;
        default: break;
        }
        return;
    }
    double v = load_f(sd, p);
    switch (dd) {
    case SL_F32: { float f = (float)v; memcpy(q, &f, 4); break; }
    case SL_F16: { uint16_t h = cpu_f32_to_f16((float)v); memcpy(q, &h, 2); break; }
    case SL_BF16: { uint16_t h = cpu_f32_to_bf16((float)v); memcpy(q, &h, 2); break; }
    case SL_I32: { int32_t w = (int32_t)sat_i(v, -2147483648.0, 2147483647.0); memcpy(q, &w, 4); break; }
    case SL_I64: { int64_t w = sat_i(v, -9223372036854775808.0, 9223372036854774784.0); memcpy(q, &w, 8); break; }
    case SL_U8: *q = (char)(unsigned char)sat_i(v, 0.0, 255.0); break;
    }
}

typedef struct {
    sl_tensor *dst;
    const sl_tensor *src;
    int64_t inner;  /* extent of the last dim */
} copy_job;

static void copy_task(void *arg, int64_t b, int64_t e) {
    const copy_job *j = arg;
    const sl_tensor *s = j->src;
    sl_tensor *d = j->dst;
    int nd = s->ndim;
    int64_t ds = nd ? d->strides[nd - 1] : 0, ss = nd ? s->strides[nd - 1] : 0;
    size_t dsz = sl_dtype_size(d->dtype), ssz = sl_dtype_size(s->dtype);
    for (int64_t r = b; r < e; r++) {
        /* row r of the outer dims -> byte offsets */
        int64_t rem = r, doff = 0, soff = 0;
        for (int k = nd - 2; k >= 0; k--) {
            int64_t i = rem % s->shape[k];
            rem /= s->shape[k];
            doff += i * d->strides[k];
            soff += i * s->strides[k];
        }
        char *q = (char *)d->data + doff;
        const char *p = (const char *)s->data + soff;
        if (d->dtype == s->dtype && ds == (int64_t)dsz && ss == (int64_t)ssz) {
            memcpy(q, p, (size_t)j->inner * dsz);
        } else if (d->dtype == SL_F32 && s->dtype == SL_BF16 && ds == 4 && ss == 2) {
            float *o = (float *)q; const uint16_t *h = (const uint16_t *)p;
            for (int64_t i = 0; i < j->inner; i++) o[i] = cpu_bf16_to_f32(h[i]);
        } else if (d->dtype == SL_BF16 && s->dtype == SL_F32 && ds == 2 && ss == 4) {
            uint16_t *o = (uint16_t *)q; const float *f = (const float *)p;
            for (int64_t i = 0; i < j->inner; i++) o[i] = cpu_f32_to_bf16(f[i]);
        } else {
            for (int64_t i = 0; i < j->inner; i++) store(d->dtype, q + i * ds, s->dtype, p + i * ss);
        }
    }
}

static sl_status cpu_copy(sli_stream *s, sl_tensor *dst, const sl_tensor *src) {
    int64_t n = sl_tensor_numel(src);
    if (!n) return SL_OK;
    if (dst->dtype == src->dtype && sl_tensor_is_contiguous(dst) && sl_tensor_is_contiguous(src)) {
        if (dst->data != src->data) memmove(dst->data, src->data, sl_tensor_nbytes(src));
        return SL_OK;
    }
    copy_job j = { dst, src, src->ndim ? src->shape[src->ndim - 1] : 1 };
    int64_t rows = n / j.inner;
    cpu_run(s, rows, 16384 / (j.inner + 1) + 1, copy_task, &j);
    return SL_OK;
}

typedef struct { sl_tensor *t; double v; char pattern[8]; int64_t inner; } fill_job;

static void fill_task(void *arg, int64_t b, int64_t e) {
    const fill_job *j = arg;
    const sl_tensor *t = j->t;
    int nd = t->ndim;
    size_t es = sl_dtype_size(t->dtype);
    int64_t st = nd ? t->strides[nd - 1] : 0;
    for (int64_t r = b; r < e; r++) {
        int64_t rem = r, off = 0;
        for (int k = nd - 2; k >= 0; k--) {
            off += (rem % t->shape[k]) * t->strides[k];
            rem /= t->shape[k];
        }
        char *q = (char *)t->data + off;
        if (t->dtype == SL_F32 && st == 4) {
            float f = (float)j->v, *o = (float *)q;
            for (int64_t i = 0; i < j->inner; i++) o[i] = f;
        } else {
            for (int64_t i = 0; i < j->inner; i++) memcpy(q + i * st, j->pattern, es);
        }
    }
}

static sl_status cpu_fill(sli_stream *s, sl_tensor *t, double v) {
    int64_t n = sl_tensor_numel(t);
    if (!n) return SL_OK;
    fill_job j = { t, v, { 0 }, t->ndim ? t->shape[t->ndim - 1] : 1 };
    if (v == 0.0 && sl_tensor_is_contiguous(t)) {
        memset(t->data, 0, sl_tensor_nbytes(t));
        return SL_OK;
    }
    if (sli_is_float(t->dtype)) {
        float f = (float)v;
        store(t->dtype, j.pattern, SL_F32, (const char *)&f);
    } else {
        /* integers: the cast rules (truncate, saturate, NaN -> 0) through an f32 image would lose
         * precision for large i64 values, so convert here */
        int64_t iv = v != v ? 0 : v >= 9.2233720368547748e18 ? INT64_MAX : v <= -9.2233720368547758e18 ? INT64_MIN
                                                                                                   : (int64_t)v;
        if (t->dtype == SL_U8) iv = iv < 0 ? 0 : iv > 255 ? 255 : iv;
        if (t->dtype == SL_I32) iv = iv < INT32_MIN ? INT32_MIN : iv > INT32_MAX ? INT32_MAX : iv;
        store(t->dtype, j.pattern, SL_I64, (const char *)&iv);
    }
    cpu_run(s, n / j.inner, 16384 / (j.inner + 1) + 1, fill_task, &j);
    return SL_OK;
}

/* ---- the table; ops live in cpu_ops.c / cpu_attention.c / cpu_rng.c ---- */

extern const sli_backend sli_cpu_table;

const sli_backend *sli_cpu_backend(void) { return &sli_cpu_table; }

/* entries defined in cpu_ops.c */
sl_status cpu_matmul(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *, bool, bool, float, float);
sl_status cpu_matmul_backward(sli_stream *, sl_tensor *, sl_tensor *, const sl_tensor *, const sl_tensor *,
                              const sl_tensor *, bool, bool, float);
sl_status cpu_linear(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *, const sl_tensor *);
sl_status cpu_linear_backward(sli_stream *, sl_tensor *, sl_tensor *, sl_tensor *, const sl_tensor *,
                              const sl_tensor *, const sl_tensor *);
sl_status cpu_bias_add(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *);
sl_status cpu_bias_add_backward(sli_stream *, sl_tensor *, sl_tensor *, const sl_tensor *);
sl_status cpu_add(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *);
sl_status cpu_axpby(sli_stream *, sl_tensor *, float, const sl_tensor *, float);
sl_status cpu_gelu(sli_stream *, sl_tensor *, const sl_tensor *, sl_gelu_kind);
sl_status cpu_gelu_backward(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *, sl_gelu_kind);
sl_status cpu_layernorm(sli_stream *, sl_tensor *, sl_tensor *, sl_tensor *, const sl_tensor *, const sl_tensor *,
                        const sl_tensor *, float);
sl_status cpu_layernorm_backward(sli_stream *, sl_tensor *, sl_tensor *, sl_tensor *, const sl_tensor *,
                                 const sl_tensor *, const sl_tensor *, const sl_tensor *, const sl_tensor *);
sl_status cpu_softmax(sli_stream *, sl_tensor *, const sl_tensor *);
sl_status cpu_softmax_backward(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *);
sl_status cpu_embedding(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *, const sl_tensor *, int64_t);
sl_status cpu_embedding_backward(sli_stream *, sl_tensor *, sl_tensor *, const sl_tensor *, const sl_tensor *, int64_t);
sl_status cpu_cross_entropy(sli_stream *, sl_tensor *, sl_tensor *, const sl_tensor *, const sl_tensor *, int64_t);
sl_status cpu_cross_entropy_backward(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *,
                                     const sl_tensor *, const sl_tensor *, int64_t);
sl_status cpu_reduce(sli_stream *, sl_tensor *, const sl_tensor *, sl_reduce_op, int64_t, int64_t, int64_t);
sl_status cpu_reduce_backward(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *, const sl_tensor *,
                              sl_reduce_op, int64_t, int64_t, int64_t);
sl_status cpu_argmax(sli_stream *, sl_tensor *, const sl_tensor *, int64_t, int64_t, int64_t);
sl_status cpu_adamw(sli_stream *, sl_tensor *, const sl_tensor *, sl_tensor *, sl_tensor *, sl_tensor *, int64_t,
                    const sl_adamw_opts *);
sl_status cpu_sum_squares(sli_stream *, sl_tensor *const *, int, double *);
sl_status cpu_scale(sli_stream *, sl_tensor *, float);

const sli_backend sli_cpu_table = {
    .abi = SLI_BACKEND_ABI,
    .struct_size = sizeof(sli_backend),
    .name = "cpu",
    .device = SL_DEVICE_CPU,
    .device_init = cpu_device_init,
    .mem_alloc = cpu_mem_alloc,
    .mem_free = cpu_mem_free,
    .stream_create = cpu_stream_create,
    .stream_destroy = cpu_stream_destroy,
    .stream_threads_changed = cpu_stream_threads_changed,
    .synchronize = cpu_synchronize,
    .memcpy = cpu_memcpy,
    .copy = cpu_copy,
    .fill = cpu_fill,
    .rand_uniform = cpu_rand_uniform,
    .rand_normal = cpu_rand_normal,
    .matmul = cpu_matmul,
    .matmul_backward = cpu_matmul_backward,
    .linear = cpu_linear,
    .linear_backward = cpu_linear_backward,
    .bias_add = cpu_bias_add,
    .bias_add_backward = cpu_bias_add_backward,
    .add = cpu_add,
    .axpby = cpu_axpby,
    .gelu = cpu_gelu,
    .gelu_backward = cpu_gelu_backward,
    .layernorm = cpu_layernorm,
    .layernorm_backward = cpu_layernorm_backward,
    .softmax = cpu_softmax,
    .softmax_backward = cpu_softmax_backward,
    .embedding = cpu_embedding,
    .embedding_backward = cpu_embedding_backward,
    .attention = cpu_attention,
    .attention_backward = cpu_attention_backward,
    .dropout = cpu_dropout,
    .dropout_backward = cpu_dropout_backward,
    .cross_entropy = cpu_cross_entropy,
    .cross_entropy_backward = cpu_cross_entropy_backward,
    .reduce = cpu_reduce,
    .reduce_backward = cpu_reduce_backward,
    .argmax = cpu_argmax,
    .adamw = cpu_adamw,
    .sum_squares = cpu_sum_squares,
    .scale = cpu_scale,
};
