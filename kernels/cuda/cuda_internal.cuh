/* cuda_internal.cuh — private interface of the CUDA backend: stream state, error helpers, dtype conversions, launch shapes. */
#ifndef SCILOOP_KERNELS_CUDA_INTERNAL_CUH
#define SCILOOP_KERNELS_CUDA_INTERNAL_CUH

#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <cublas_v2.h>
#include <cublasLt.h>

#include <stdint.h>
#include <string.h>

#include "backend.h"

/* Errors a kernel cannot return: recorded on the device, reported by the next synchronize. */
enum { CU_BAD_NONE = 0, CU_BAD_EMBEDDING_ID = 1, CU_BAD_TARGET = 2 };

typedef struct cu_bad_input {
    int code;           /* CU_BAD_*; the first kernel to see bad input sets it */
    int pad;
    long long index;    /* flat position of the bad id/target */
    long long value;    /* the bad value */
    long long limit;    /* the valid range was [0, limit) */
} cu_bad_input;

/* One cached cuBLASLt plan (layouts + algorithm) for a GEMM shape. */
typedef struct cu_lt_plan cu_lt_plan;

struct sli_stream {
    const sli_ctx_state *state;
    cudaStream_t stream;
    cublasHandle_t blas;
    cublasLtHandle_t lt;
    void *blas_ws;          /* cuBLAS / cuBLASLt workspace (fixed size: same algorithms every run) */
    size_t blas_ws_size;
    void *ws;               /* scratch for multi-pass kernels; grows on demand */
    size_t ws_size;
    cu_bad_input *bad_dev;  /* device-side bad-input record */
    cu_bad_input *bad_host; /* pinned host copy, read after synchronisation */
    int sm_count;
    cu_lt_plan *plans;      /* small LRU of cuBLASLt plans */
    int nplans;
};

/* ---- errors ---- */

/* SL_OK, or SL_ERR_DEVICE with a message naming `what` and the CUDA error. */
sl_status cu_check(cudaError_t e, const char *what);

/* Check for a launch error after a kernel launch (configuration errors; faults surface later). */
static inline sl_status cu_launched(const char *op) { return cu_check(cudaGetLastError(), op); }

/* SL_OK, or SL_ERR_DEVICE naming the cuBLAS status. */
sl_status cu_blas_check(cublasStatus_t st, const char *what);

/* SL_ERR_UNSUPPORTED for an op/dtype the backend does not serve. */
sl_status cu_unsupported(const char *op, sl_dtype dt);

#define CU_TRY(x) do { sl_status _st = (x); if (_st != SL_OK) return _st; } while (0)

/* ---- memory ---- */

/* Scratch of at least `bytes` on the stream (256-byte aligned), valid until the next call
 * into the backend on this stream; NULL with an error set when the memory is not there. */
void *cu_scratch(sli_stream *s, size_t bytes);

sl_status cu_mem_alloc(size_t nbytes, void **out);
void cu_mem_free(void *ptr, size_t nbytes);

/* Device pointer of the stream's bad-input record. */
static inline cu_bad_input *cu_bad(sli_stream *s) { return s->bad_dev; }

/* ---- launch shapes ---- */

static inline unsigned cu_blocks(int64_t n, int threads, int64_t cap) {
    int64_t b = (n + threads - 1) / threads;
    if (b < 1) b = 1;
    if (b > cap) b = cap;
    return (unsigned)b;
}

/* Whether a pointer is aligned to `a` bytes. */
static inline bool cu_aligned(const void *p, size_t a) { return ((uintptr_t)p % a) == 0; }

/* ---- dtype conversions (device) ---- */

__device__ __forceinline__ float cu_tof(float x) { return x; }
__device__ __forceinline__ float cu_tof(__half x) { return __half2float(x); }
__device__ __forceinline__ float cu_tof(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T cu_fromf(float x);
template <> __device__ __forceinline__ float cu_fromf<float>(float x) { return x; }
template <> __device__ __forceinline__ __half cu_fromf<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 cu_fromf<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

/* Run `body` with T bound to the C++ type of a float dtype; other dtypes return unsupported. */
#define CU_FLOAT_SWITCH(dt, opname, T, ...)                                   \
    switch (dt) {                                                             \
    case SL_F32: { typedef float T; __VA_ARGS__ } break;                      \
    case SL_F16: { typedef __half T; __VA_ARGS__ } break;                     \
    case SL_BF16: { typedef __nv_bfloat16 T; __VA_ARGS__ } break;             \
    default: return cu_unsupported(opname, dt);                               \
    }

/* ---- warp/block reductions ---- */

__device__ __forceinline__ float cu_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ double cu_warp_sumd(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float cu_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Sum over the block (blockDim.x a multiple of 32, <= 1024); every thread gets the result.
 * The tree is fixed, so the result is deterministic. `sh` holds 32 floats. */
__device__ __forceinline__ float cu_block_sum(float v, float *sh) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = cu_warp_sum(v);
    __syncthreads();
    if (lane == 0) sh[w] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : 0.0f;
    return cu_warp_sum(v);
}
__device__ __forceinline__ double cu_block_sumd(double v, double *sh) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = cu_warp_sumd(v);
    __syncthreads();
    if (lane == 0) sh[w] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : 0.0;
    return cu_warp_sumd(v);
}
__device__ __forceinline__ float cu_block_max(float v, float *sh) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = cu_warp_max(v);
    __syncthreads();
    if (lane == 0) sh[w] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : -INFINITY;
    return cu_warp_max(v);
}

/* ---- entries implemented across files ---- */

/* dst = src (any strides, any dtypes, rules of sl_cast). */
sl_status cu_copy(sli_stream *s, sl_tensor *dst, const sl_tensor *src);
sl_status cu_fill(sli_stream *s, sl_tensor *t, double value);
sl_status cu_rand_uniform(sli_stream *s, sl_tensor *t, float lo, float hi, uint64_t key, uint64_t offset);
sl_status cu_rand_normal(sli_stream *s, sl_tensor *t, float mean, float std, uint64_t key, uint64_t offset);
sl_status cu_dropout(sli_stream *s, sl_tensor *out, const sl_tensor *inp, float p, uint64_t key, uint64_t offset);
sl_status cu_dropout_backward(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, float p, uint64_t key,
                              uint64_t offset);

/* cuda_blas.cu */
sl_status cu_blas_stream_init(sli_stream *s);
void cu_blas_stream_fini(sli_stream *s);
sl_status cu_matmul(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *, bool, bool, float, float);
sl_status cu_matmul_backward(sli_stream *, sl_tensor *, sl_tensor *, const sl_tensor *, const sl_tensor *,
                             const sl_tensor *, bool, bool, float);
sl_status cu_linear(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *, const sl_tensor *);
sl_status cu_linear_backward(sli_stream *, sl_tensor *, sl_tensor *, sl_tensor *, const sl_tensor *,
                             const sl_tensor *, const sl_tensor *);

/* cuda_ops.cu */
/* dst (C) += column sums of x (rows, C) of dtype dt, deterministic (fixed row chunks). */
sl_status cu_colsum_acc(sli_stream *s, void *dst, const void *x, sl_dtype dt, int64_t rows, int64_t C);
sl_status cu_bias_add(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *);
sl_status cu_bias_add_backward(sli_stream *, sl_tensor *, sl_tensor *, const sl_tensor *);
sl_status cu_add(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *);
sl_status cu_axpby(sli_stream *, sl_tensor *, float, const sl_tensor *, float);
sl_status cu_scale(sli_stream *, sl_tensor *, float);
sl_status cu_gelu(sli_stream *, sl_tensor *, const sl_tensor *, sl_gelu_kind);
sl_status cu_gelu_backward(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *, sl_gelu_kind);
sl_status cu_layernorm(sli_stream *, sl_tensor *, sl_tensor *, sl_tensor *, const sl_tensor *, const sl_tensor *,
                       const sl_tensor *, float);
sl_status cu_layernorm_backward(sli_stream *, sl_tensor *, sl_tensor *, sl_tensor *, const sl_tensor *,
                                const sl_tensor *, const sl_tensor *, const sl_tensor *, const sl_tensor *);
sl_status cu_softmax(sli_stream *, sl_tensor *, const sl_tensor *);
sl_status cu_softmax_backward(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *);
sl_status cu_embedding(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *, const sl_tensor *, int64_t);
sl_status cu_embedding_backward(sli_stream *, sl_tensor *, sl_tensor *, const sl_tensor *, const sl_tensor *, int64_t);
sl_status cu_cross_entropy(sli_stream *, sl_tensor *, sl_tensor *, const sl_tensor *, const sl_tensor *, int64_t);
sl_status cu_cross_entropy_backward(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *,
                                    const sl_tensor *, const sl_tensor *, int64_t);
sl_status cu_reduce(sli_stream *, sl_tensor *, const sl_tensor *, sl_reduce_op, int64_t, int64_t, int64_t);
sl_status cu_reduce_backward(sli_stream *, sl_tensor *, const sl_tensor *, const sl_tensor *, const sl_tensor *,
                             sl_reduce_op, int64_t, int64_t, int64_t);
sl_status cu_argmax(sli_stream *, sl_tensor *, const sl_tensor *, int64_t, int64_t, int64_t);
sl_status cu_adamw(sli_stream *, sl_tensor *, const sl_tensor *, sl_tensor *, sl_tensor *, sl_tensor *, int64_t,
                   const sl_adamw_opts *);
sl_status cu_sum_squares(sli_stream *, sl_tensor *const *, int, double *);

/* cuda_attention.cu */
sl_status cu_attention(sli_stream *, sl_tensor *, sl_tensor *, const sl_tensor *, const sl_tensor *,
                       const sl_tensor *, const sl_tensor *, const sl_attention_opts *);
sl_status cu_attention_backward(sli_stream *, sl_tensor *, sl_tensor *, sl_tensor *, const sl_tensor *,
                                const sl_tensor *, const sl_tensor *, const sl_tensor *, const sl_tensor *,
                                const sl_tensor *, const sl_tensor *, const sl_attention_opts *);

#endif /* SCILOOP_KERNELS_CUDA_INTERNAL_CUH */
