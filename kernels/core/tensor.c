/* tensor.c — tensor headers, reference-counted storage, views, and copies within and across devices. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SL_API size_t sl_dtype_size(sl_dtype d) {
    switch (d) {
    case SL_F32: return 4;
    case SL_F16: return 2;
    case SL_BF16: return 2;
    case SL_I32: return 4;
    case SL_I64: return 8;
    case SL_U8: return 1;
    }
    return 0;
}

SL_API const char *sl_dtype_name(sl_dtype d) {
    switch (d) {
    case SL_F32: return "f32";
    case SL_F16: return "f16";
    case SL_BF16: return "bf16";
    case SL_I32: return "i32";
    case SL_I64: return "i64";
    case SL_U8: return "u8";
    }
    return "?";
}

SL_API const char *sl_device_name(sl_device d) {
    switch (d) {
    case SL_DEVICE_CPU: return "cpu";
    case SL_DEVICE_CUDA: return "cuda";
    case SL_DEVICE_AUTO: return "auto";
    }
    return "?";
}

/* ---- storage ---- */

sl_status sli_storage_alloc(const sli_backend *be, size_t nbytes, sl_storage **out) {
    sl_storage *s = calloc(1, sizeof *s);
    if (!s) return sl_set_error(SL_ERR_NOMEM, "tensor storage: out of memory");
    void *p = NULL;
    sl_status st = be->mem_alloc(nbytes, &p);
    if (st != SL_OK) { free(s); return st; }
    atomic_init(&s->refs, 1);
    s->base = p;
    s->nbytes = nbytes;
    s->device = be->device;
    s->backend = be;
    *out = s;
    return SL_OK;
}

sl_status sli_storage_wrap(void *base, size_t nbytes, void (*release)(void *), void *user, sl_storage **out) {
    sl_storage *s = calloc(1, sizeof *s);
    if (!s) return sl_set_error(SL_ERR_NOMEM, "tensor storage: out of memory");
    atomic_init(&s->refs, 1);
    s->base = base;
    s->nbytes = nbytes;
    s->device = SL_DEVICE_CPU;
    s->release = release;
    s->user = user;
    *out = s;
    return SL_OK;
}

void sli_storage_retain(sl_storage *s) { atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed); }

void sli_storage_release(sl_storage *s) {
    if (!s) return;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1) return;
    if (s->backend) s->backend->mem_free(s->base, s->nbytes);
    else if (s->release) s->release(s->user);
    free(s);
}

/* ---- headers ---- */

void sli_contiguous_strides(sl_dtype dtype, int ndim, const int64_t *shape, int64_t *strides) {
    int64_t st = (int64_t)sl_dtype_size(dtype);
    for (int k = ndim - 1; k >= 0; k--) {
        strides[k] = st;
        st *= shape[k] > 0 ? shape[k] : 1;
    }
}

static sl_status check_shape(sl_dtype dtype, int ndim, const int64_t *shape, size_t *nbytes) {
    if (sl_dtype_size(dtype) == 0) return sl_set_error(SL_ERR_INVALID, "tensor: unknown dtype %d", (int)dtype);
    if (ndim < 0 || ndim > SL_MAX_DIMS)
        return sl_set_error(SL_ERR_INVALID, "tensor: %d dimensions (expected 0..%d)", ndim, SL_MAX_DIMS);
    if (ndim > 0 && !shape) return sl_set_error(SL_ERR_INVALID, "tensor: shape is NULL");
    uint64_t n = 1;
    for (int k = 0; k < ndim; k++) {
        if (shape[k] < 0) return sl_set_error(SL_ERR_INVALID, "tensor: extent %lld of dim %d is negative",
                                              (long long)shape[k], k);
        if (shape[k] && n > (UINT64_MAX >> 4) / (uint64_t)shape[k])
            return sl_set_error(SL_ERR_RANGE, "tensor: shape too large");
        n *= (uint64_t)shape[k];
    }
    *nbytes = (size_t)(n * sl_dtype_size(dtype));
    return SL_OK;
}

sl_status sli_tensor_over(sl_storage *s, size_t offset, sl_dtype dtype, int ndim, const int64_t *shape,
                          sl_tensor **out) {
    sl_tensor *t = calloc(1, sizeof *t);
    if (!t) return sl_set_error(SL_ERR_NOMEM, "tensor: out of memory");
    t->dtype = dtype;
    t->device = s->device;
    t->ndim = ndim;
    for (int k = 0; k < ndim; k++) t->shape[k] = shape[k];
    sli_contiguous_strides(dtype, ndim, shape, t->strides);
    t->offset = offset;
    t->data = (char *)s->base + offset;
    t->storage = s;
    sli_storage_retain(s);
    *out = t;
    return SL_OK;
}

static sl_status create_on(const sli_backend *be, sl_dtype dtype, int ndim, const int64_t *shape, sl_tensor **out) {
    if (!out) return sl_set_error(SL_ERR_INVALID, "sl_tensor_create: out is NULL");
    *out = NULL;
    size_t nbytes;
    sl_status st = check_shape(dtype, ndim, shape, &nbytes);
    if (st != SL_OK) return st;
    sl_storage *s = NULL;
    st = sli_storage_alloc(be, nbytes, &s);
    if (st != SL_OK) return st;
    st = sli_tensor_over(s, 0, dtype, ndim, shape, out);
    sli_storage_release(s);
    return st;
}

SL_API sl_status sl_tensor_create(sl_ctx *ctx, sl_dtype dtype, int ndim, const int64_t *shape, sl_tensor **out) {
    SL_ASSERT(ctx);
    return create_on(ctx->be, dtype, ndim, shape, out);
}

SL_API sl_status sl_tensor_create_host(sl_dtype dtype, int ndim, const int64_t *shape, sl_tensor **out) {
    return create_on(sli_cpu_backend(), dtype, ndim, shape, out);
}

SL_API sl_status sl_tensor_wrap_host(void *data, sl_dtype dtype, int ndim, const int64_t *shape,
                                     void (*release)(void *user), void *user, sl_tensor **out) {
    if (!out) return sl_set_error(SL_ERR_INVALID, "sl_tensor_wrap_host: out is NULL");
    *out = NULL;
    size_t nbytes;
    sl_status st = check_shape(dtype, ndim, shape, &nbytes);
    if (st != SL_OK) return st;
    if (!data && nbytes) return sl_set_error(SL_ERR_INVALID, "sl_tensor_wrap_host: data is NULL");
    sl_storage *s = NULL;
    st = sli_storage_wrap(data, nbytes, release, user, &s);
    if (st != SL_OK) return st;
    st = sli_tensor_over(s, 0, dtype, ndim, shape, out);
    sli_storage_release(s);
    return st;
}

SL_API void sl_tensor_destroy(sl_tensor *t) {
    if (!t) return;
    sli_storage_release(t->storage);
    free(t);
}

SL_API int64_t sl_tensor_numel(const sl_tensor *t) {
    int64_t n = 1;
    for (int k = 0; k < t->ndim; k++) n *= t->shape[k];
    return n;
}

SL_API size_t sl_tensor_nbytes(const sl_tensor *t) { return (size_t)sl_tensor_numel(t) * sl_dtype_size(t->dtype); }

SL_API bool sl_tensor_is_contiguous(const sl_tensor *t) {
    int64_t st = (int64_t)sl_dtype_size(t->dtype);
    for (int k = t->ndim - 1; k >= 0; k--) {
        if (t->shape[k] != 1 && t->strides[k] != st) return false;
        st *= t->shape[k];
    }
    return true;
}

SL_API bool sl_tensor_same_shape(const sl_tensor *a, const sl_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int k = 0; k < a->ndim; k++)
        if (a->shape[k] != b->shape[k]) return false;
    return true;
}

SL_API char *sl_tensor_describe(const sl_tensor *t, char *buf, size_t size) {
    if (!buf || !size) return buf;
    if (!t) { snprintf(buf, size, "(null)"); return buf; }
    size_t n = (size_t)snprintf(buf, size, "%s[", sl_dtype_name(t->dtype));
    for (int k = 0; k < t->ndim && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, k ? ",%lld" : "%lld", (long long)t->shape[k]);
    if (n < size) snprintf(buf + n, size - n, "]%s", t->device == SL_DEVICE_CUDA ? "@cuda" : "");
    return buf;
}

void sli_flatten2(const sl_tensor *t, sl_tensor *o) {
    *o = *t;
    int64_t last = t->ndim ? t->shape[t->ndim - 1] : 1;
    int64_t rows = last ? sl_tensor_numel(t) / last : 0;
    if (!last) {
        rows = 1;
        for (int k = 0; k + 1 < t->ndim; k++) rows *= t->shape[k];
    }
    o->ndim = 2;
    o->shape[0] = rows;
    o->shape[1] = last;
    int64_t es = (int64_t)sl_dtype_size(t->dtype);
    o->strides[1] = es;
    o->strides[0] = es * last;
}

/* ---- views ---- */

/* Byte range [lo, hi) a view touches relative to the storage base; false if empty. */
static bool view_extent(size_t offset, int ndim, const int64_t *shape, const int64_t *strides, size_t esize,
                        int64_t *lo, int64_t *hi) {
    int64_t a = (int64_t)offset, b = (int64_t)offset;
    for (int k = 0; k < ndim; k++) {
        if (shape[k] == 0) return false;
        int64_t span = (shape[k] - 1) * strides[k];
        if (span < 0) a += span; else b += span;
    }
    *lo = a;
    *hi = b + (int64_t)esize;
    return true;
}

SL_API sl_status sl_tensor_view(const sl_tensor *t, int ndim, const int64_t *shape, const int64_t *strides,
                                int64_t offset, sl_tensor **out) {
    if (!t || !out) return sl_set_error(SL_ERR_INVALID, "sl_tensor_view: NULL argument");
    *out = NULL;
    size_t nbytes;
    sl_status st = check_shape(t->dtype, ndim, shape, &nbytes);
    if (st != SL_OK) return st;
    int64_t off = (int64_t)t->offset + offset;
    if (off < 0) return sl_set_error(SL_ERR_RANGE, "sl_tensor_view: offset %lld before the storage", (long long)offset);
    int64_t lo, hi;
    if (view_extent((size_t)off, ndim, shape, strides, sl_dtype_size(t->dtype), &lo, &hi) &&
        (lo < 0 || hi > (int64_t)t->storage->nbytes))
        return sl_set_error(SL_ERR_RANGE, "sl_tensor_view: the view spans bytes [%lld,%lld) of a %zu-byte storage",
                            (long long)lo, (long long)hi, t->storage->nbytes);
    st = sli_tensor_over(t->storage, (size_t)off, t->dtype, ndim, shape, out);
    if (st != SL_OK) return st;
    for (int k = 0; k < ndim; k++) (*out)->strides[k] = strides[k];
    return SL_OK;
}

SL_API sl_status sl_tensor_reshape(const sl_tensor *t, int ndim, const int64_t *shape, sl_tensor **out) {
    if (!t || !out || (ndim && !shape)) return sl_set_error(SL_ERR_INVALID, "sl_tensor_reshape: NULL argument");
    *out = NULL;
    if (ndim < 0 || ndim > SL_MAX_DIMS)
        return sl_set_error(SL_ERR_INVALID, "sl_tensor_reshape: %d dimensions (expected 0..%d)", ndim, SL_MAX_DIMS);
    if (!sl_tensor_is_contiguous(t))
        return sl_set_error(SL_ERR_INVALID, "sl_tensor_reshape: the tensor is not contiguous (copy it first)");
    int64_t s[SL_MAX_DIMS], known = 1;
    int infer = -1;
    for (int k = 0; k < ndim; k++) {
        s[k] = shape[k];
        if (s[k] == -1) {
            if (infer >= 0) return sl_set_error(SL_ERR_INVALID, "sl_tensor_reshape: more than one -1 extent");
            infer = k;
        } else if (s[k] < 0) {
            return sl_set_error(SL_ERR_INVALID, "sl_tensor_reshape: extent %lld", (long long)s[k]);
        } else {
            known *= s[k];
        }
    }
    int64_t n = sl_tensor_numel(t);
    if (infer >= 0) {
        if (known == 0 || n % known)
            return sl_set_error(SL_ERR_INVALID, "sl_tensor_reshape: cannot infer -1 for %lld elements", (long long)n);
        s[infer] = n / known;
        known *= s[infer];
    }
    if (known != n) {
        char buf[128];
        return sl_set_error(SL_ERR_INVALID, "sl_tensor_reshape: %s has %lld elements, the new shape %lld",
                            sl_tensor_describe(t, buf, sizeof buf), (long long)n, (long long)known);
    }
    return sli_tensor_over(t->storage, t->offset, t->dtype, ndim, s, out);
}

SL_API sl_status sl_tensor_slice(const sl_tensor *t, int dim, int64_t start, int64_t len, sl_tensor **out) {
    if (!t || !out) return sl_set_error(SL_ERR_INVALID, "sl_tensor_slice: NULL argument");
    *out = NULL;
    if (dim < 0) dim += t->ndim;
    if (dim < 0 || dim >= t->ndim) return sl_set_error(SL_ERR_INVALID, "sl_tensor_slice: no dimension %d", dim);
    if (start < 0 || len < 0 || start + len > t->shape[dim])
        return sl_set_error(SL_ERR_RANGE, "sl_tensor_slice: [%lld, %lld) outside extent %lld of dim %d",
                            (long long)start, (long long)(start + len), (long long)t->shape[dim], dim);
    int64_t shape[SL_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    shape[dim] = len;
    return sl_tensor_view(t, t->ndim, shape, t->strides, start * t->strides[dim], out);
}

SL_API sl_status sl_tensor_transpose(const sl_tensor *t, int d0, int d1, sl_tensor **out) {
    if (!t || !out) return sl_set_error(SL_ERR_INVALID, "sl_tensor_transpose: NULL argument");
    *out = NULL;
    if (d0 < 0) d0 += t->ndim;
    if (d1 < 0) d1 += t->ndim;
    if (d0 < 0 || d1 < 0 || d0 >= t->ndim || d1 >= t->ndim)
        return sl_set_error(SL_ERR_INVALID, "sl_tensor_transpose: dimensions out of range for %d dims", t->ndim);
    int64_t shape[SL_MAX_DIMS], strides[SL_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    memcpy(strides, t->strides, sizeof strides);
    int64_t x = shape[d0]; shape[d0] = shape[d1]; shape[d1] = x;
    x = strides[d0]; strides[d0] = strides[d1]; strides[d1] = x;
    return sl_tensor_view(t, t->ndim, shape, strides, 0, out);
}

/* ---- copies ---- */

/* Contiguous temporary with t's shape and the given dtype on a backend. */
static sl_status temp_like(const sli_backend *be, const sl_tensor *t, sl_dtype dtype, sl_tensor **out) {
    return create_on(be, dtype, t->ndim, t->shape, out);
}

SL_API sl_status sl_tensor_copy(sl_ctx *ctx, sl_tensor *dst, const sl_tensor *src) {
    SL_ASSERT(ctx);
    if (!dst || !src) return sl_set_error(SL_ERR_INVALID, "sl_tensor_copy: NULL tensor");
    if (!sl_tensor_same_shape(dst, src)) {
        char a[96], b[96];
        return sl_set_error(SL_ERR_INVALID, "sl_tensor_copy: shapes differ (dst %s, src %s)",
                            sl_tensor_describe(dst, a, sizeof a), sl_tensor_describe(src, b, sizeof b));
    }
    if (sl_tensor_numel(src) == 0) return SL_OK;
    const sli_backend *cpu = sli_cpu_backend();
    if (dst->device == src->device) {
        if (dst->device == SL_DEVICE_CPU && ctx->device != SL_DEVICE_CPU) {
            /* Host tensors with a GPU context: the CPU kernels do it. */
            sli_ctx_state one = { 1, true, 0, 0 };
            sli_stream *s;
            sl_status st = cpu->stream_create(&one, &s);
            if (st != SL_OK) return st;
            st = cpu->copy(s, dst, src);
            cpu->stream_destroy(s);
            return st;
        }
        if (dst->device != ctx->device)
            return sl_set_error(SL_ERR_INVALID, "sl_tensor_copy: tensors on %s, context on %s",
                                sl_device_name(dst->device), sl_device_name(ctx->device));
        return ctx->be->copy(ctx->stream, dst, src);
    }
    /* Across devices: make a contiguous image in the destination's dtype on the source side,
     * move the bytes, then place them (strides) on the destination side. */
    if (ctx->device != SL_DEVICE_CUDA)
        return sl_set_error(SL_ERR_INVALID, "sl_tensor_copy: copying between cpu and cuda needs a cuda context");
    bool to_dev = dst->device == SL_DEVICE_CUDA;
    const sli_backend *src_be = to_dev ? cpu : ctx->be;
    const sli_backend *dst_be = to_dev ? ctx->be : cpu;
    sl_status st = SL_OK;
    sl_tensor *a = NULL, *b = NULL;
    const sl_tensor *s_img = src;
    if (!sl_tensor_is_contiguous(src) || src->dtype != dst->dtype) {
        st = temp_like(src_be, src, dst->dtype, &a);
        if (st == SL_OK) st = sl_cast(ctx, a, src); /* routed to the right backend by device below */
        s_img = a;
    }
    sl_tensor *d_img = dst;
    if (st == SL_OK && !sl_tensor_is_contiguous(dst)) {
        st = temp_like(dst_be, dst, dst->dtype, &b);
        d_img = b;
    }
    if (st == SL_OK)
        st = ctx->be->memcpy(ctx->stream, d_img->data, s_img->data, sl_tensor_nbytes(dst),
                             to_dev ? SLI_COPY_H2D : SLI_COPY_D2H);
    if (st == SL_OK && b) st = sl_tensor_copy(ctx, dst, b);
    sl_tensor_destroy(a);
    sl_tensor_destroy(b);
    return st;
}

SL_API sl_status sl_tensor_from_host(sl_ctx *ctx, sl_tensor *dst, const void *src, size_t nbytes) {
    SL_ASSERT(ctx);
    if (!dst || (!src && nbytes)) return sl_set_error(SL_ERR_INVALID, "sl_tensor_from_host: NULL argument");
    if (!sl_tensor_is_contiguous(dst)) return sl_set_error(SL_ERR_INVALID, "sl_tensor_from_host: dst is not contiguous");
    if (nbytes != sl_tensor_nbytes(dst))
        return sl_set_error(SL_ERR_INVALID, "sl_tensor_from_host: %zu bytes given, the tensor holds %zu", nbytes,
                            sl_tensor_nbytes(dst));
    if (!nbytes) return SL_OK;
    if (dst->device == SL_DEVICE_CPU) { memcpy(dst->data, src, nbytes); return SL_OK; }
    if (ctx->device != dst->device) return sl_set_error(SL_ERR_INVALID, "sl_tensor_from_host: context on another device");
    return ctx->be->memcpy(ctx->stream, dst->data, src, nbytes, SLI_COPY_H2D);
}

SL_API sl_status sl_tensor_to_host(sl_ctx *ctx, const sl_tensor *src, void *dst, size_t nbytes) {
    SL_ASSERT(ctx);
    if (!src || (!dst && nbytes)) return sl_set_error(SL_ERR_INVALID, "sl_tensor_to_host: NULL argument");
    if (!sl_tensor_is_contiguous(src)) return sl_set_error(SL_ERR_INVALID, "sl_tensor_to_host: src is not contiguous");
    if (nbytes != sl_tensor_nbytes(src))
        return sl_set_error(SL_ERR_INVALID, "sl_tensor_to_host: %zu bytes asked, the tensor holds %zu", nbytes,
                            sl_tensor_nbytes(src));
    if (!nbytes) return SL_OK;
    if (src->device == SL_DEVICE_CPU) { memcpy(dst, src->data, nbytes); return SL_OK; }
    if (ctx->device != src->device) return sl_set_error(SL_ERR_INVALID, "sl_tensor_to_host: context on another device");
    return ctx->be->memcpy(ctx->stream, dst, src->data, nbytes, SLI_COPY_D2H);
}
