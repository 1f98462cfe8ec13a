/* sciloop/tensor.h — the tensor runtime: tensors, device contexts, training ops with hand-written backward, safetensors. */
#ifndef SCILOOP_TENSOR_H
#define SCILOOP_TENSOR_H

/*
 * Model in one paragraph. A *context* (sl_ctx) is a handle on one device (CPU or one CUDA GPU)
 * for one thread or stream: it owns the BLAS/cuBLAS handle, the stream, a scratch workspace,
 * the counter-based RNG state, the CPU thread pool and the deterministic flag. Use a context
 * from one thread at a time. A *tensor* (sl_tensor) is a view: dtype, shape, byte strides and
 * a byte offset into a reference-counted *storage* that lives on one device. Views share
 * storage; the storage is freed when its last tensor is destroyed. Device memory comes from a
 * process-wide caching allocator, so tensors may outlive the context that created them.
 *
 * Ops are plain functions that write into tensors the caller allocated (no allocation in the
 * hot path). Every differentiable op has a hand-written `_backward` that ADDS its gradient into
 * the gradient tensors it is given (zero them first with sl_tensor_zero); a gradient pointer
 * may be NULL when that gradient is not wanted. Unless an op says otherwise its tensors must be
 * contiguous (row-major), on the context's device, and of one floating dtype; the CPU backend
 * computes in f32 (f16/bf16 data reach it through sl_cast), the CUDA backend also takes bf16/f16
 * activations. Shapes are written (B,T,C): batch, time (sequence), channels.
 *
 * Errors: every function returning sl_status sets a message with sl_set_error on failure
 * (wrong shape, dtype or device names the argument and what was expected). No function aborts
 * on bad input; only contract violations that cannot be reported (NULL context) assert.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Dtypes and devices
 * ------------------------------------------------------------------------------------------- */

/* Element types. Values are ABI and never renumbered. */
typedef enum sl_dtype {
    SL_F32 = 0,   /* IEEE binary32 */
    SL_F16 = 1,   /* IEEE binary16 */
    SL_BF16 = 2,  /* bfloat16 (upper half of binary32) */
    SL_I32 = 3,   /* signed 32-bit integer */
    SL_I64 = 4,   /* signed 64-bit integer */
    SL_U8 = 5     /* unsigned byte (also boolean masks: 0 = false) */
} sl_dtype;

#define SL_DTYPE_COUNT 6

/* Size of one element in bytes (4, 2, 2, 4, 8, 1); 0 for an invalid dtype. Thread-safe. */
SL_API size_t sl_dtype_size(sl_dtype dtype);

/* Lower-case name ("f32", "f16", "bf16", "i32", "i64", "u8"); "?" for an invalid dtype. */
SL_API const char *sl_dtype_name(sl_dtype dtype);

/* Device kinds. SL_DEVICE_AUTO is only a request (CUDA if a GPU is usable, else CPU). */
typedef enum sl_device {
    SL_DEVICE_CPU = 0,
    SL_DEVICE_CUDA = 1,
    SL_DEVICE_AUTO = 2
} sl_device;

/* Lower-case name ("cpu", "cuda", "auto"). */
SL_API const char *sl_device_name(sl_device device);

/* Most dimensions a tensor can have. */
#define SL_MAX_DIMS 8

/* ---------------------------------------------------------------------------------------------
 * Contexts
 * ------------------------------------------------------------------------------------------- */

typedef struct sl_ctx sl_ctx;

/* Options for sl_ctx_create. Initialise with SL_CTX_OPTIONS_INIT; fields are append-only. */
typedef struct sl_ctx_options {
    size_t struct_size;    /* sizeof(sl_ctx_options) of the caller */
    sl_device device;      /* SL_DEVICE_AUTO (default), _CPU or _CUDA; env SCILOOP_DEVICE=cpu|cuda|auto overrides */
    int gpu_index;         /* which GPU for CUDA (default 0) */
    int threads;           /* CPU thread budget; 0 = number of online CPUs (env SCILOOP_THREADS overrides 0) */
    uint64_t seed;         /* RNG key (default 0) */
    bool deterministic;    /* bit-identical results run to run (no atomics in reductions); default true on CPU */
    size_t workspace_bytes;/* initial scratch size; grows on demand (default 0 = grow from first use) */
} sl_ctx_options;

#define SL_CTX_OPTIONS_INIT { sizeof(sl_ctx_options), SL_DEVICE_AUTO, 0, 0, 0, true, 0 }

/* Create a context. `opt` may be NULL (all defaults). Device choice: an explicit request of
 * SL_DEVICE_CUDA (or SCILOOP_DEVICE=cuda) fails with SL_ERR_DEVICE / SL_ERR_UNSUPPORTED and a
 * message saying why (no CUDA backend built, driver missing, no GPU) when no GPU is usable;
 * SL_DEVICE_AUTO silently falls back to the CPU. The CUDA backend is the shared object
 * libsciloop-tensor-cuda.so, looked up next to libsciloop-tensor.so (or at the path in env
 * SCILOOP_TENSOR_CUDA_LIB) and loaded only here. On success *out owns the context. */
SL_API sl_status sl_ctx_create(const sl_ctx_options *opt, sl_ctx **out);

/* Destroy a context: waits for its pending work, joins its threads, frees its workspace.
 * Tensors created with it stay valid. NULL is a no-op. */
SL_API void sl_ctx_destroy(sl_ctx *ctx);

/* Device the context runs on (never SL_DEVICE_AUTO). */
SL_API sl_device sl_ctx_device(const sl_ctx *ctx);

/* Human-readable description of the device ("cpu: 2 threads, openblas" / "cuda:0 NVIDIA H100 ..."). */
SL_API const char *sl_ctx_describe(const sl_ctx *ctx);

/* Set the CPU thread budget (>= 1) used by the following ops; restarts the pool if it changed. */
SL_API sl_status sl_ctx_set_threads(sl_ctx *ctx, int threads);

/* Current CPU thread budget. */
SL_API int sl_ctx_threads(const sl_ctx *ctx);

/* Turn deterministic mode on or off (see docs/tensor-runtime.md for what it guarantees). */
SL_API void sl_ctx_set_deterministic(sl_ctx *ctx, bool on);

/* Whether deterministic mode is on. */
SL_API bool sl_ctx_deterministic(const sl_ctx *ctx);

/* Wait until every op issued on the context has finished (no-op on CPU, where ops are synchronous). */
SL_API sl_status sl_ctx_synchronize(sl_ctx *ctx);

/* ---------------------------------------------------------------------------------------------
 * Counter-based RNG (Philox4x32-10). Random number i of a stream is a pure function of
 * (seed, offset + i), so CPU and CUDA produce the same bits for uniform draws and dropout masks,
 * whatever the thread or block layout.
 * ------------------------------------------------------------------------------------------- */

/* Reset the context's RNG: key = seed, counter = 0. */
SL_API void sl_ctx_seed(sl_ctx *ctx, uint64_t seed);

/* Reserve `n` consecutive counters and return the first. Ops that take an `rng_offset` use the
 * counters [offset, offset + n) where n is the op's element count; pass the same offset to the
 * backward to regenerate the same random numbers. */
SL_API uint64_t sl_ctx_rng_advance(sl_ctx *ctx, uint64_t n);

/* The key (seed) of the context's RNG. */
SL_API uint64_t sl_ctx_rng_seed(const sl_ctx *ctx);

/* Philox4x32-10 of (key, counter): writes 4 uint32 to out[4]. Pure; the reference the
 * backends follow. */
SL_API void sl_philox4x32(uint64_t key, uint64_t counter_hi, uint64_t counter_lo, uint32_t out[4]);

/* ---------------------------------------------------------------------------------------------
 * Tensors
 * ------------------------------------------------------------------------------------------- */

typedef struct sl_storage sl_storage;

/* A tensor view. All fields are READ-ONLY for users (use the functions below to make views).
 * Element (i0,...,i{n-1}) lives at data + sum_k i_k * strides[k] bytes. A 0-dim tensor
 * (ndim == 0) holds one element. */
typedef struct sl_tensor {
    sl_dtype dtype;
    sl_device device;                /* SL_DEVICE_CPU or SL_DEVICE_CUDA */
    int ndim;                        /* 0..SL_MAX_DIMS */
    int64_t shape[SL_MAX_DIMS];      /* extents; shape[k] >= 0 */
    int64_t strides[SL_MAX_DIMS];    /* byte strides (may be 0 for broadcast views) */
    size_t offset;                   /* byte offset of element 0 inside the storage */
    void *data;                      /* address of element 0 (a device pointer on CUDA) */
    sl_storage *storage;             /* shared, reference-counted */
} sl_tensor;

/* Allocate an uninitialised contiguous tensor on the context's device. On success *out owns a
 * new tensor with fresh storage. Fails with SL_ERR_INVALID for ndim > SL_MAX_DIMS or a
 * negative extent, SL_ERR_NOMEM when the memory is not there. */
SL_API sl_status sl_tensor_create(sl_ctx *ctx, sl_dtype dtype, int ndim, const int64_t *shape,
                                  sl_tensor **out);

/* Same, on the host (CPU), without a context. */
SL_API sl_status sl_tensor_create_host(sl_dtype dtype, int ndim, const int64_t *shape, sl_tensor **out);

/* Wrap caller-owned host memory (contiguous) without copying. `release(user)` is called when
 * the last view goes (may be NULL: the caller keeps the memory alive until then). */
SL_API sl_status sl_tensor_wrap_host(void *data, sl_dtype dtype, int ndim, const int64_t *shape,
                                     void (*release)(void *user), void *user, sl_tensor **out);

/* Destroy a tensor view and drop its reference on the storage. NULL is a no-op. */
SL_API void sl_tensor_destroy(sl_tensor *t);

/* Number of elements (product of the shape; 1 for ndim 0). */
SL_API int64_t sl_tensor_numel(const sl_tensor *t);

/* Bytes the elements occupy if contiguous (numel * dtype size). */
SL_API size_t sl_tensor_nbytes(const sl_tensor *t);

/* Whether the strides are the row-major contiguous ones for the shape. */
SL_API bool sl_tensor_is_contiguous(const sl_tensor *t);

/* Whether two tensors have the same ndim and extents. */
SL_API bool sl_tensor_same_shape(const sl_tensor *a, const sl_tensor *b);

/* Write "f32[2,3,4]" into buf (always NUL-terminated); returns buf. For messages. */
SL_API char *sl_tensor_describe(const sl_tensor *t, char *buf, size_t size);

/* New view on the same storage with explicit shape, byte strides and byte offset (relative to
 * t's element 0). Fails with SL_ERR_RANGE if any element would fall outside the storage. */
SL_API sl_status sl_tensor_view(const sl_tensor *t, int ndim, const int64_t *shape,
                                const int64_t *strides, int64_t offset, sl_tensor **out);

/* New view with another shape of the same numel; t must be contiguous. One extent may be -1
 * (inferred). */
SL_API sl_status sl_tensor_reshape(const sl_tensor *t, int ndim, const int64_t *shape, sl_tensor **out);

/* New view of `len` entries starting at `start` along dimension `dim`. */
SL_API sl_status sl_tensor_slice(const sl_tensor *t, int dim, int64_t start, int64_t len, sl_tensor **out);

/* New view with dimensions d0 and d1 swapped (no copy). */
SL_API sl_status sl_tensor_transpose(const sl_tensor *t, int d0, int d1, sl_tensor **out);

/* Copy src into dst: same shape, any strides, any dtypes (converted as sl_cast does), any
 * devices (host<->device through the context's stream). */
SL_API sl_status sl_tensor_copy(sl_ctx *ctx, sl_tensor *dst, const sl_tensor *src);

/* Copy `nbytes` host bytes into a contiguous tensor (nbytes must equal sl_tensor_nbytes). */
SL_API sl_status sl_tensor_from_host(sl_ctx *ctx, sl_tensor *dst, const void *src, size_t nbytes);

/* Copy a contiguous tensor's bytes to host memory (nbytes must equal sl_tensor_nbytes). */
SL_API sl_status sl_tensor_to_host(sl_ctx *ctx, const sl_tensor *src, void *dst, size_t nbytes);

/* Set every element to zero (any dtype, any strides). */
SL_API sl_status sl_tensor_zero(sl_ctx *ctx, sl_tensor *t);

/* Set every element of a floating or integer tensor to `value` (converted to its dtype). */
SL_API sl_status sl_tensor_fill(sl_ctx *ctx, sl_tensor *t, double value);

/* Fill with uniform numbers in [lo, hi) from counters [rng_offset, rng_offset + numel). */
SL_API sl_status sl_tensor_rand_uniform(sl_ctx *ctx, sl_tensor *t, float lo, float hi, uint64_t rng_offset);

/* Fill with normal numbers (Box–Muller on the Philox stream) from counters starting at rng_offset. */
SL_API sl_status sl_tensor_rand_normal(sl_ctx *ctx, sl_tensor *t, float mean, float std, uint64_t rng_offset);

/* ---------------------------------------------------------------------------------------------
 * Ops. Unless noted: float tensors, contiguous, on the context's device; backward ADDS into
 * the gradients given and skips NULL ones.
 * ------------------------------------------------------------------------------------------- */

/* c = alpha * op(a) @ op(b) + beta * c, op(x) = x or x^T (of the last two dims).
 * a: (...,M,K) (or (...,K,M) with trans_a), b: (...,K,N) (or (...,N,K)), c: (...,M,N).
 * Batch dims of a, b and c are equal, or b (or a) has none and is shared by every batch.
 * The last dimension of each operand must be unit-stride; other strides are free (so views
 * into a fused QKV buffer work). beta == 0 ignores c's old content (NaNs included). */
SL_API sl_status sl_matmul(sl_ctx *ctx, sl_tensor *c, const sl_tensor *a, const sl_tensor *b,
                           bool trans_a, bool trans_b, float alpha, float beta);

/* Backward of sl_matmul (beta's term has no gradient here): da += alpha * dc @ op(b)^T (shaped
 * like a), db += alpha * op(a)^T @ dc (shaped like b; summed over batches when b was shared). */
SL_API sl_status sl_matmul_backward(sl_ctx *ctx, sl_tensor *da, sl_tensor *db, const sl_tensor *dc,
                                    const sl_tensor *a, const sl_tensor *b, bool trans_a, bool trans_b,
                                    float alpha);

/* Fully connected layer as PyTorch's Linear: out (N..,OC) = inp (N..,C) @ weight(OC,C)^T + bias(OC).
 * bias may be NULL. Leading dims of inp/out are flattened. */
SL_API sl_status sl_linear(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp, const sl_tensor *weight,
                           const sl_tensor *bias);

/* Backward of sl_linear: dinp += dout @ weight; dweight += dout^T @ inp; dbias += sum over rows of dout. */
SL_API sl_status sl_linear_backward(sl_ctx *ctx, sl_tensor *dinp, sl_tensor *dweight, sl_tensor *dbias,
                                    const sl_tensor *dout, const sl_tensor *inp, const sl_tensor *weight);

/* out (N..,C) = inp (N..,C) + bias (C). out may alias inp. */
SL_API sl_status sl_bias_add(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp, const sl_tensor *bias);

/* Backward of sl_bias_add: dinp += dout; dbias += sum over rows of dout. */
SL_API sl_status sl_bias_add_backward(sl_ctx *ctx, sl_tensor *dinp, sl_tensor *dbias, const sl_tensor *dout);

/* Residual add: out = a + b (same shape). out may alias a or b. */
SL_API sl_status sl_add(sl_ctx *ctx, sl_tensor *out, const sl_tensor *a, const sl_tensor *b);

/* Backward of sl_add: da += dout; db += dout. */
SL_API sl_status sl_add_backward(sl_ctx *ctx, sl_tensor *da, sl_tensor *db, const sl_tensor *dout);

/* In place: y = alpha * x + beta * y (same shape). With beta = 1 this accumulates gradients. */
SL_API sl_status sl_axpby(sl_ctx *ctx, sl_tensor *y, float alpha, const sl_tensor *x, float beta);

/* In place: t *= alpha. */
SL_API sl_status sl_scale(sl_ctx *ctx, sl_tensor *t, float alpha);

/* GELU variants: the exact erf form x*Phi(x), and the tanh approximation (GPT-2's "gelu_new"). */
typedef enum sl_gelu_kind { SL_GELU_ERF = 0, SL_GELU_TANH = 1 } sl_gelu_kind;

/* out = gelu(inp), elementwise, any shape. out may alias inp. */
SL_API sl_status sl_gelu(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp, sl_gelu_kind kind);

/* Backward of sl_gelu: dinp += dout * gelu'(inp). */
SL_API sl_status sl_gelu_backward(sl_ctx *ctx, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *inp,
                                  sl_gelu_kind kind);

/* LayerNorm over the last dim: inp (N..,C), weight/bias (C) (either may be NULL: 1 and 0),
 * out like inp; mean and rstd (N..) f32 are saved for the backward (either may be NULL when no
 * backward follows). Biased variance, as PyTorch. */
SL_API sl_status sl_layernorm(sl_ctx *ctx, sl_tensor *out, sl_tensor *mean, sl_tensor *rstd,
                              const sl_tensor *inp, const sl_tensor *weight, const sl_tensor *bias, float eps);

/* Backward of sl_layernorm (mean, rstd from the forward). */
SL_API sl_status sl_layernorm_backward(sl_ctx *ctx, sl_tensor *dinp, sl_tensor *dweight, sl_tensor *dbias,
                                       const sl_tensor *dout, const sl_tensor *inp, const sl_tensor *weight,
                                       const sl_tensor *mean, const sl_tensor *rstd);

/* Softmax over the last dim: out (N..,C) = softmax(inp). out may alias inp. */
SL_API sl_status sl_softmax(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp);

/* Backward of sl_softmax given its output: dinp += out * (dout - sum(dout * out)). */
SL_API sl_status sl_softmax_backward(sl_ctx *ctx, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *out);

/* Embedding: out (B,T,C) = table[ids[b,t]] (+ pos_table[pos_offset + t] when pos_table != NULL).
 * ids (B,T) i32 or i64; table (V,C); pos_table (P,C) with pos_offset + T <= P. An id outside
 * [0,V) is an SL_ERR_RANGE error naming it (checked on CPU; the CUDA backend clamps and reports). */
SL_API sl_status sl_embedding(sl_ctx *ctx, sl_tensor *out, const sl_tensor *ids, const sl_tensor *table,
                              const sl_tensor *pos_table, int64_t pos_offset);

/* Backward of sl_embedding: dtable[ids[b,t]] += dout[b,t]; dpos[pos_offset+t] += sum_b dout[b,t].
 * Deterministic (no atomics): each row's contributions are summed in (b,t) order. */
SL_API sl_status sl_embedding_backward(sl_ctx *ctx, sl_tensor *dtable, sl_tensor *dpos_table,
                                       const sl_tensor *dout, const sl_tensor *ids, int64_t pos_offset);

/* Attention options. */
typedef struct sl_attention_opts {
    int n_head;          /* H; C = H * D */
    bool causal;         /* position t attends only to positions <= t */
    float scale;         /* score scale; 0 means 1/sqrt(D) */
} sl_attention_opts;

/* Fused multi-head scaled dot-product attention.
 * q, k, v: (B,T,C) with C = H*D; the last dim must be unit-stride and the row stride is free,
 *          so q/k/v may be views into one (B,T,3C) QKV projection.
 * key_mask: (B,T) u8, 1 = attend, 0 = padding (never attended to), or NULL.
 * out: (B,T,C) contiguous = softmax(scale * Q K^T + masks) V per head, heads concatenated.
 * lse: (B,H,T) f32 saved log-sum-exp of the scaled, masked scores (for the backward); the
 *      T×T probability matrix is never stored in a tensor. A query row with every key masked
 *      yields zeros. */
SL_API sl_status sl_attention(sl_ctx *ctx, sl_tensor *out, sl_tensor *lse, const sl_tensor *q,
                              const sl_tensor *k, const sl_tensor *v, const sl_tensor *key_mask,
                              const sl_attention_opts *opts);

/* Backward of sl_attention: dq, dk, dv (B,T,C, same layout rules as q/k/v) += gradients, from
 * dout, the forward's out and lse. */
SL_API sl_status sl_attention_backward(sl_ctx *ctx, sl_tensor *dq, sl_tensor *dk, sl_tensor *dv,
                                       const sl_tensor *dout, const sl_tensor *q, const sl_tensor *k,
                                       const sl_tensor *v, const sl_tensor *key_mask, const sl_tensor *out,
                                       const sl_tensor *lse, const sl_attention_opts *opts);

/* Inverted dropout: out = inp * keep / (1 - p), keep_i = (uniform_i >= p) where uniform_i is
 * the Philox draw for counter rng_offset + i (i = flat element index). p in [0, 1); p = 0 copies.
 * Reserve the counters with sl_ctx_rng_advance(ctx, numel). out may alias inp. */
SL_API sl_status sl_dropout(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp, float p, uint64_t rng_offset);

/* Backward of sl_dropout with the same p and rng_offset (the mask is regenerated, never stored). */
SL_API sl_status sl_dropout_backward(sl_ctx *ctx, sl_tensor *dinp, const sl_tensor *dout, float p,
                                     uint64_t rng_offset);

/* Cross-entropy fused with log-softmax: logits (N,V) float, targets (N) i32/i64.
 * losses (N) f32 = logsumexp(logits_n) - logits_n[target_n], or 0 where target_n == ignore_index;
 * lse (N) f32 saves logsumexp for the backward. A target outside [0,V) other than ignore_index
 * is SL_ERR_RANGE. The caller reduces losses (e.g. sum / count of non-ignored = PyTorch's mean). */
SL_API sl_status sl_cross_entropy(sl_ctx *ctx, sl_tensor *losses, sl_tensor *lse, const sl_tensor *logits,
                                  const sl_tensor *targets, int64_t ignore_index);

/* Backward: dlogits[n] += dlosses[n] * (softmax(logits_n) - onehot(target_n)); ignored rows get
 * nothing. dlosses (N) f32 (e.g. filled with 1/count for a mean). */
SL_API sl_status sl_cross_entropy_backward(sl_ctx *ctx, sl_tensor *dlogits, const sl_tensor *dlosses,
                                           const sl_tensor *logits, const sl_tensor *lse,
                                           const sl_tensor *targets, int64_t ignore_index);

/* Reductions. */
typedef enum sl_reduce_op { SL_REDUCE_SUM = 0, SL_REDUCE_MEAN = 1, SL_REDUCE_MAX = 2 } sl_reduce_op;

/* Sentinel axis: reduce over every element (out is 0-dim or has one element). */
#define SL_AXIS_ALL (-100)

/* out = reduce(inp) along `axis` (negative counts from the end; SL_AXIS_ALL for all). out has
 * inp's shape without that axis (or with it kept at extent 1: both accepted). Sums are
 * accumulated in f64 in a fixed order, so results do not depend on the thread count. */
SL_API sl_status sl_reduce(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp, sl_reduce_op op, int axis);

/* Backward of sl_reduce: SUM/MEAN spread dout (divided by the count for MEAN) over the axis;
 * MAX routes dout to the first maximal element (inp and out from the forward). */
SL_API sl_status sl_reduce_backward(sl_ctx *ctx, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *inp,
                                    const sl_tensor *out, sl_reduce_op op, int axis);

/* out (i64 or i32) = index of the first maximum of inp along `axis` (no gradient). */
SL_API sl_status sl_argmax(sl_ctx *ctx, sl_tensor *out, const sl_tensor *inp, int axis);

/* Cast src into dst of the same shape, any dtypes: floats round to nearest even; float → int
 * truncates toward zero and saturates (NaN → 0); int → u8 wraps modulo 256. Strided allowed. */
SL_API sl_status sl_cast(sl_ctx *ctx, sl_tensor *dst, const sl_tensor *src);

/* Backward of a float→float sl_cast: dsrc += cast(ddst). */
SL_API sl_status sl_cast_backward(sl_ctx *ctx, sl_tensor *dsrc, const sl_tensor *ddst);

/* ---------------------------------------------------------------------------------------------
 * Optimisation
 * ------------------------------------------------------------------------------------------- */

/* AdamW hyper-parameters (PyTorch's torch.optim.AdamW semantics). */
typedef struct sl_adamw_opts {
    float lr, beta1, beta2, eps, weight_decay;
    float grad_scale;    /* gradients are multiplied by this first (1 = none; clipping passes its factor) */
} sl_adamw_opts;

#define SL_ADAMW_OPTS_INIT { 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1.0f }

/* One fused AdamW update of one parameter tensor at step `t` (1-based, for bias correction):
 *   g = grad_scale*grad; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *   param -= lr * (wd * param + (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)).
 * param, m, v f32 (master weights and state), grad f32 or the activation dtype; all same shape.
 * param_copy (same shape, e.g. bf16) receives the updated weights cast, or is NULL. */
SL_API sl_status sl_adamw(sl_ctx *ctx, sl_tensor *param, const sl_tensor *grad, sl_tensor *m, sl_tensor *v,
                          sl_tensor *param_copy, int64_t t, const sl_adamw_opts *opts);

/* Global L2 norm over n tensors: *norm = sqrt(sum of all squares), accumulated in f64 in a
 * fixed order (deterministic). Synchronises with the device to return the value. */
SL_API sl_status sl_global_norm(sl_ctx *ctx, sl_tensor *const *tensors, int n, float *norm);

/* Clip gradients by global norm as torch.nn.utils.clip_grad_norm_: when norm > max_norm every
 * tensor is scaled by max_norm / (norm + 1e-6). *norm_out (may be NULL) gets the pre-clip norm. */
SL_API sl_status sl_clip_grad_norm(sl_ctx *ctx, sl_tensor *const *grads, int n, float max_norm, float *norm_out);

/* ---------------------------------------------------------------------------------------------
 * safetensors (https://huggingface.co/docs/safetensors): read with mmap (zero copy on CPU),
 * write atomically; sharded checkpoints through model.safetensors.index.json.
 * ------------------------------------------------------------------------------------------- */

typedef struct sl_safetensors sl_safetensors;

/* Open a checkpoint for reading. `path` is a .safetensors file, a *.safetensors.index.json
 * (every shard it names is opened), or a directory holding model.safetensors or
 * model.safetensors.index.json. The header of each file is validated completely before *out is
 * returned: a file shorter than 8 bytes, a header length past the end of the file or over
 * 100 MB, non-UTF-8 or non-object JSON, an unknown dtype, shape × dtype size != byte length,
 * offsets out of range, overlapping or leaving holes, duplicate names (also across shards)
 * each fail with SL_ERR_PARSE (or SL_ERR_IO / SL_ERR_NOT_FOUND) and a message naming the file
 * and the tensor or field. On success *out owns the handle. */
SL_API sl_status sl_safetensors_open(const char *path, sl_safetensors **out);

/* Close. Tensors obtained with sl_safetensors_get stay valid (they hold the mapping). NULL is a no-op. */
SL_API void sl_safetensors_close(sl_safetensors *st);

/* Number of tensors (over all shards). */
SL_API int64_t sl_safetensors_count(const sl_safetensors *st);

/* Name of tensor i (0 <= i < count), in file order (shards in index order). NULL if out of range. */
SL_API const char *sl_safetensors_name(const sl_safetensors *st, int64_t i);

/* Shape/dtype of a named tensor without touching its data. SL_ERR_NOT_FOUND if absent,
 * SL_ERR_UNSUPPORTED for a safetensors dtype the runtime lacks. */
SL_API sl_status sl_safetensors_info(const sl_safetensors *st, const char *name, sl_dtype *dtype, int *ndim,
                                     int64_t shape[SL_MAX_DIMS]);

/* A CPU tensor viewing the named tensor's bytes in the mapping (zero copy). The mapping is
 * private: writing to the tensor changes this process's copy, never the file. A tensor whose
 * bytes are not aligned to its element size in the file is copied instead (files written here
 * are always aligned: the data section starts 8-byte aligned and tensors are stored largest
 * element size first). Tensors with a dtype the runtime lacks (F64, I8, BOOL, ...) are listed
 * but give SL_ERR_UNSUPPORTED here. */
SL_API sl_status sl_safetensors_get(const sl_safetensors *st, const char *name, sl_tensor **out);

/* Value of a "__metadata__" string entry of the first file, or NULL. */
SL_API const char *sl_safetensors_metadata(const sl_safetensors *st, const char *key);

/* Write tensors to `path` atomically (temp file in the same directory, fsync, rename). Tensors
 * may live on any device and have any strides (they are copied out through ctx; ctx may be
 * NULL when all are CPU tensors). names must be unique and non-empty. meta_keys/meta_values
 * (n_meta pairs, may be 0/NULL) become "__metadata__". */
SL_API sl_status sl_safetensors_write(sl_ctx *ctx, const char *path, int64_t n, const char *const *names,
                                      const sl_tensor *const *tensors, int64_t n_meta,
                                      const char *const *meta_keys, const char *const *meta_values);

/* Write a sharded checkpoint into directory `dir` (created if missing): shards named
 * model-00001-of-0000N.safetensors of at most max_shard_bytes each (a larger tensor gets its own
 * shard) and model.safetensors.index.json mapping every name to its shard. With a single shard
 * the file is model.safetensors and no index is written. Each file is written atomically. */
SL_API sl_status sl_safetensors_write_sharded(sl_ctx *ctx, const char *dir, int64_t n, const char *const *names,
                                              const sl_tensor *const *tensors, uint64_t max_shard_bytes);

#ifdef __cplusplus
}
#endif
#endif /* SCILOOP_TENSOR_H */
