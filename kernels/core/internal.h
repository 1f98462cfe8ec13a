/* internal.h — private structures of the tensor core: storage, context, and the validation helpers ops share. */
#ifndef SCILOOP_KERNELS_CORE_INTERNAL_H
#define SCILOOP_KERNELS_CORE_INTERNAL_H

#include <stdatomic.h>

#include "backend.h"

/* Reference-counted memory block on one device. */
struct sl_storage {
    atomic_long refs;
    void *base;                    /* start of the block (device pointer on CUDA) */
    size_t nbytes;                 /* usable bytes from base */
    sl_device device;
    const sli_backend *backend;    /* frees base with mem_free when set */
    void (*release)(void *user);   /* else: external memory, released with this (may be NULL) */
    void *user;
};

struct sl_ctx {
    sli_ctx_state state;
    const sli_backend *be;
    sli_stream *stream;
    sl_device device;
    uint64_t seed;
    uint64_t rng_counter;
    char desc[256];
};

/* The backend serving a device kind, loading the CUDA one on first use. Fails with a message
 * saying why (not built, no driver, no GPU). */
sl_status sli_backend_for(sl_device device, int gpu_index, const sli_backend **out, char *desc, size_t desc_size);

/* New storage of nbytes on the backend's device. */
sl_status sli_storage_alloc(const sli_backend *be, size_t nbytes, sl_storage **out);

/* New storage over external memory; release(user) runs when the last reference goes. */
sl_status sli_storage_wrap(void *base, size_t nbytes, void (*release)(void *), void *user, sl_storage **out);

/* Reference counting on storage. */
void sli_storage_retain(sl_storage *s);
void sli_storage_release(sl_storage *s);

/* New tensor header over storage (retains it), contiguous strides for the shape. */
sl_status sli_tensor_over(sl_storage *s, size_t offset, sl_dtype dtype, int ndim, const int64_t *shape,
                          sl_tensor **out);

/* Fill contiguous strides for a shape. */
void sli_contiguous_strides(sl_dtype dtype, int ndim, const int64_t *shape, int64_t *strides);

/* Stack-allocated header of t's view with leading dims flattened into (rows, last). t must be
 * contiguous; the header shares t's storage without retaining it (valid while t lives). */
void sli_flatten2(const sl_tensor *t, sl_tensor *out2d);

/* dtype predicates */
static inline bool sli_is_float(sl_dtype d) { return d == SL_F32 || d == SL_F16 || d == SL_BF16; }
static inline bool sli_is_int(sl_dtype d) { return d == SL_I32 || d == SL_I64 || d == SL_U8; }

#endif /* SCILOOP_KERNELS_CORE_INTERNAL_H */
