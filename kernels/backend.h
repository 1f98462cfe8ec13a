/* backend.h — the internal backend interface: one table of function pointers per device (CPU linked in, CUDA dlopen'ed). */
#ifndef SCILOOP_KERNELS_BACKEND_H
#define SCILOOP_KERNELS_BACKEND_H

/*
 * The core (kernels/core) validates every public call — dtypes, shapes, devices, aliasing —
 * and then calls the matching entry of the context's backend table with the same arguments,
 * the context replaced by the backend's per-context state (sli_stream). A backend may
 * therefore assume:
 *   - every tensor argument is on the backend's device and has the shapes documented in
 *     sciloop/tensor.h (already checked), contiguous unless the op says strides are free;
 *   - float tensors of one op share one dtype, except those tensor.h pins to f32 (LayerNorm
 *     mean/rstd, attention lse, cross-entropy losses/lse/dlosses, AdamW param/m/v);
 *   - optional tensors (gradients, bias, masks) may be NULL;
 *   - sl_tensor::data already points at element 0 (offset applied).
 * A backend returns SL_OK or a status with sl_set_error(); it never aborts on a runtime error.
 * An op whose dtype combination a backend does not serve returns SL_ERR_UNSUPPORTED.
 * Backward entries ADD into gradients, as the public API does.
 *
 * Versioning: the CUDA shared object exports
 *     const sli_backend *sciloop_tensor_backend_v1(void);
 * The core refuses a table whose abi != SLI_BACKEND_ABI or whose struct_size is smaller than
 * the core's sizeof(sli_backend). Entries are append-only.
 */

#include <sciloop/tensor.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLI_BACKEND_ABI 1

/* Name of the symbol the CUDA backend shared object exports. */
#define SLI_BACKEND_ENTRY "sciloop_tensor_backend_v1"

/* Backend-private per-context state: stream, BLAS handle, workspace, thread pool. */
typedef struct sli_stream sli_stream;

/* Context settings the backend reads at call time (owned by the core, outlives the stream). */
typedef struct sli_ctx_state {
    int threads;          /* CPU thread budget (>= 1) */
    bool deterministic;   /* no atomics / fixed reduction order */
    int gpu_index;        /* device ordinal for CUDA */
    size_t workspace_bytes; /* initial workspace size hint */
} sli_ctx_state;

/* Direction of a raw copy between host memory and the backend's memory. */
typedef enum sli_copy_kind {
    SLI_COPY_H2D = 0,  /* host -> device */
    SLI_COPY_D2H = 1,  /* device -> host */
    SLI_COPY_D2D = 2   /* device -> device */
} sli_copy_kind;

typedef struct sli_backend {
    uint32_t abi;          /* SLI_BACKEND_ABI */
    size_t struct_size;    /* sizeof(sli_backend) the backend was compiled with */
    const char *name;      /* "cpu", "cuda" */
    sl_device device;

    /* --- process-wide device management --- */
    /* Probe and initialise device `gpu_index` once per process (may be called again: no-op).
     * Fails with SL_ERR_DEVICE and a clear message when no usable device exists. Writes a
     * one-line description (name, memory, driver) into desc. */
    sl_status (*device_init)(int gpu_index, char *desc, size_t desc_size);
    /* Allocate/free device memory (process-wide caching allocator; thread-safe). The core
     * passes the size given at allocation back to mem_free. nbytes may be 0 (return a unique
     * non-NULL pointer or NULL with SL_OK; both are accepted). */
    sl_status (*mem_alloc)(size_t nbytes, void **out);
    void (*mem_free)(void *ptr, size_t nbytes);

    /* --- per-context state --- */
    sl_status (*stream_create)(const sli_ctx_state *state, sli_stream **out);
    void (*stream_destroy)(sli_stream *s);             /* waits for pending work; NULL no-op */
    sl_status (*stream_threads_changed)(sli_stream *s); /* state->threads changed */
    sl_status (*synchronize)(sli_stream *s);

    /* --- data movement --- */
    /* Raw contiguous copy of n bytes in the given direction (host pointers are plain memory). */
    sl_status (*memcpy)(sli_stream *s, void *dst, const void *src, size_t n, sli_copy_kind kind);
    /* dst = src converted elementwise, both on this device, same shape, any strides, any dtypes
     * (rules of sl_cast). Implements sl_tensor_copy within a device, sl_cast and fills of views. */
    sl_status (*copy)(sli_stream *s, sl_tensor *dst, const sl_tensor *src);
    /* Set every element to `value` converted to t's dtype (any strides). */
    sl_status (*fill)(sli_stream *s, sl_tensor *t, double value);
    /* Philox fills; see sl_tensor_rand_uniform / _normal for the exact stream layout. */
    sl_status (*rand_uniform)(sli_stream *s, sl_tensor *t, float lo, float hi, uint64_t key, uint64_t offset);
    sl_status (*rand_normal)(sli_stream *s, sl_tensor *t, float mean, float std, uint64_t key, uint64_t offset);

    /* --- ops (same meaning and argument order as in sciloop/tensor.h) --- */
    sl_status (*matmul)(sli_stream *s, sl_tensor *c, const sl_tensor *a, const sl_tensor *b,
                        bool trans_a, bool trans_b, float alpha, float beta);
    sl_status (*matmul_backward)(sli_stream *s, sl_tensor *da, sl_tensor *db, const sl_tensor *dc,
                                 const sl_tensor *a, const sl_tensor *b, bool trans_a, bool trans_b, float alpha);
    /* inp (N,C), weight (OC,C), out (N,OC): the core has already flattened leading dims. */
    sl_status (*linear)(sli_stream *s, sl_tensor *out, const sl_tensor *inp, const sl_tensor *weight,
                        const sl_tensor *bias);
    sl_status (*linear_backward)(sli_stream *s, sl_tensor *dinp, sl_tensor *dweight, sl_tensor *dbias,
                                 const sl_tensor *dout, const sl_tensor *inp, const sl_tensor *weight);
    /* inp/out (N,C), bias (C) (flattened by the core). */
    sl_status (*bias_add)(sli_stream *s, sl_tensor *out, const sl_tensor *inp, const sl_tensor *bias);
    sl_status (*bias_add_backward)(sli_stream *s, sl_tensor *dinp, sl_tensor *dbias, const sl_tensor *dout);
    sl_status (*add)(sli_stream *s, sl_tensor *out, const sl_tensor *a, const sl_tensor *b);
    sl_status (*axpby)(sli_stream *s, sl_tensor *y, float alpha, const sl_tensor *x, float beta);
    sl_status (*gelu)(sli_stream *s, sl_tensor *out, const sl_tensor *inp, sl_gelu_kind kind);
    sl_status (*gelu_backward)(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *inp,
                               sl_gelu_kind kind);
    /* inp/out (N,C), mean/rstd (N) (flattened by the core). */
    sl_status (*layernorm)(sli_stream *s, sl_tensor *out, sl_tensor *mean, sl_tensor *rstd, const sl_tensor *inp,
                           const sl_tensor *weight, const sl_tensor *bias, float eps);
    sl_status (*layernorm_backward)(sli_stream *s, sl_tensor *dinp, sl_tensor *dweight, sl_tensor *dbias,
                                    const sl_tensor *dout, const sl_tensor *inp, const sl_tensor *weight,
                                    const sl_tensor *mean, const sl_tensor *rstd);
    /* (N,C) flattened by the core. */
    sl_status (*softmax)(sli_stream *s, sl_tensor *out, const sl_tensor *inp);
    sl_status (*softmax_backward)(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *out);
    /* ids (B,T) checked in range by the core on CPU only. */
    sl_status (*embedding)(sli_stream *s, sl_tensor *out, const sl_tensor *ids, const sl_tensor *table,
                           const sl_tensor *pos_table, int64_t pos_offset);
    sl_status (*embedding_backward)(sli_stream *s, sl_tensor *dtable, sl_tensor *dpos_table, const sl_tensor *dout,
                                    const sl_tensor *ids, int64_t pos_offset);
    /* opts->scale already resolved (never 0). */
    sl_status (*attention)(sli_stream *s, sl_tensor *out, sl_tensor *lse, const sl_tensor *q, const sl_tensor *k,
                           const sl_tensor *v, const sl_tensor *key_mask, const sl_attention_opts *opts);
    sl_status (*attention_backward)(sli_stream *s, sl_tensor *dq, sl_tensor *dk, sl_tensor *dv,
                                    const sl_tensor *dout, const sl_tensor *q, const sl_tensor *k,
                                    const sl_tensor *v, const sl_tensor *key_mask, const sl_tensor *out,
                                    const sl_tensor *lse, const sl_attention_opts *opts);
    sl_status (*dropout)(sli_stream *s, sl_tensor *out, const sl_tensor *inp, float p, uint64_t key, uint64_t offset);
    sl_status (*dropout_backward)(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, float p, uint64_t key,
                                  uint64_t offset);
    sl_status (*cross_entropy)(sli_stream *s, sl_tensor *losses, sl_tensor *lse, const sl_tensor *logits,
                               const sl_tensor *targets, int64_t ignore_index);
    sl_status (*cross_entropy_backward)(sli_stream *s, sl_tensor *dlogits, const sl_tensor *dlosses,
                                        const sl_tensor *logits, const sl_tensor *lse, const sl_tensor *targets,
                                        int64_t ignore_index);
    /* Reductions on a contiguous inp viewed as (outer, n, inner): reduce over n.
     * out has outer*inner elements (contiguous). SL_AXIS_ALL arrives as outer = inner = 1. */
    sl_status (*reduce)(sli_stream *s, sl_tensor *out, const sl_tensor *inp, sl_reduce_op op,
                        int64_t outer, int64_t n, int64_t inner);
    sl_status (*reduce_backward)(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *inp,
                                 const sl_tensor *out, sl_reduce_op op, int64_t outer, int64_t n, int64_t inner);
    sl_status (*argmax)(sli_stream *s, sl_tensor *out, const sl_tensor *inp, int64_t outer, int64_t n, int64_t inner);
    sl_status (*adamw)(sli_stream *s, sl_tensor *param, const sl_tensor *grad, sl_tensor *m, sl_tensor *v,
                       sl_tensor *param_copy, int64_t t, const sl_adamw_opts *opts);
    /* *out = sum over the n tensors of sum of squares, accumulated in f64 (synchronises). */
    sl_status (*sum_squares)(sli_stream *s, sl_tensor *const *tensors, int n, double *out);
    sl_status (*scale)(sli_stream *s, sl_tensor *t, float alpha);
} sli_backend;

/* Signature of the exported entry of a backend shared object. */
typedef const sli_backend *(*sli_backend_entry_fn)(void);

/* The CPU backend, linked into libsciloop-tensor. */
const sli_backend *sli_cpu_backend(void);

#ifdef __cplusplus
}
#endif
#endif /* SCILOOP_KERNELS_BACKEND_H */
