/* cuda_backend.cu — the CUDA backend table: device probe, caching allocator, streams, copies/casts, fills, Philox RNG, dropout. */
#include "cuda_internal.cuh"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* ============================================================ errors */

sl_status cu_check(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return SL_OK;
    return sl_set_error(SL_ERR_DEVICE, "cuda: %s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

sl_status cu_blas_check(cublasStatus_t st, const char *what) {
    if (st == CUBLAS_STATUS_SUCCESS) return SL_OK;
    return sl_set_error(st == CUBLAS_STATUS_NOT_SUPPORTED ? SL_ERR_UNSUPPORTED : SL_ERR_DEVICE, "cublas: %s: %s",
                        what, cublasGetStatusString(st));
}

sl_status cu_unsupported(const char *op, sl_dtype dt) {
    return sl_set_error(SL_ERR_UNSUPPORTED, "%s: the CUDA backend does not serve %s tensors here", op,
                        sl_dtype_name(dt));
}

/* ============================================================ device */

static pthread_mutex_t dev_lock = PTHREAD_MUTEX_INITIALIZER;
static int dev_index = -1;          /* the one device this process uses */
static char dev_desc[256];

static sl_status cuda_device_init(int gpu_index, char *desc, size_t desc_size) {
    pthread_mutex_lock(&dev_lock);
    sl_status st = SL_OK;
    if (dev_index >= 0) {
        if (gpu_index != dev_index)
            st = sl_set_error(SL_ERR_UNSUPPORTED, "cuda: this process already uses GPU %d; one GPU per process "
                              "(asked for GPU %d)", dev_index, gpu_index);
        else
            cudaSetDevice(dev_index);
        goto out;
    }
    {
        int n = 0;
        cudaError_t e = cudaGetDeviceCount(&n);
        if (e != cudaSuccess) {
            st = sl_set_error(SL_ERR_DEVICE, "cuda: no usable driver or GPU: %s", cudaGetErrorString(e));
            goto out;
        }
        if (n == 0) {
            st = sl_set_error(SL_ERR_DEVICE, "cuda: the driver reports no GPU");
            goto out;
        }
        if (gpu_index < 0 || gpu_index >= n) {
            st = sl_set_error(SL_ERR_DEVICE, "cuda: GPU %d asked for, %d present", gpu_index, n);
            goto out;
        }
        cudaDeviceProp p;
        if ((st = cu_check(cudaGetDeviceProperties(&p, gpu_index), "cudaGetDeviceProperties")) != SL_OK) goto out;
        if (p.major < 8) {
            st = sl_set_error(SL_ERR_DEVICE, "cuda: GPU %d (%s) has compute capability %d.%d; this backend needs "
                              "8.0 or newer (bf16 tensor cores)", gpu_index, p.name, p.major, p.minor);
            goto out;
        }
        if ((st = cu_check(cudaSetDevice(gpu_index), "cudaSetDevice")) != SL_OK) goto out;
        int drv = 0, rt = 0;
        cudaDriverGetVersion(&drv);
        cudaRuntimeGetVersion(&rt);
        snprintf(dev_desc, sizeof dev_desc, "cuda:%d %.96s (sm_%d%d, %d SMs, %.1f GiB, driver %d.%d, runtime %d.%d)",
                 gpu_index, p.name, p.major, p.minor, p.multiProcessorCount,
                 (double)p.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), drv / 1000, (drv % 1000) / 10, rt / 1000,
                 (rt % 1000) / 10);
        dev_index = gpu_index;
    }
out:
    if (st == SL_OK) snprintf(desc, desc_size, "%s", dev_desc);
    pthread_mutex_unlock(&dev_lock);
    return st;
}

/* ============================================================ caching allocator
 *
 * cudaMalloc/cudaFree synchronise the device and cost tens of microseconds, so freed blocks
 * are kept in a process-wide cache and handed out again for the same rounded size. A block
 * freed while work may still be queued on it is safe to hand to the same stream (stream
 * order); when several streams are alive, the free records an event on each and the next
 * allocation of that block waits for them. */

#define CU_MAX_EVENTS 8

typedef struct cu_block {
    void *ptr;
    size_t size;                     /* rounded size */
    int nev;
    cudaEvent_t ev[CU_MAX_EVENTS];
    struct cu_block *next;
} cu_block;

static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static cu_block *free_blocks;
static size_t cached_bytes, used_bytes;
static cudaStream_t live_streams[64];
static int nlive;

static size_t round_size(size_t n) {
    if (n <= 512) return 512;
    if (n <= ((size_t)1 << 20)) return (n + 511) & ~(size_t)511;
    size_t two = (size_t)2 << 20;
    return (n + two - 1) / two * two;
}

/* Release every cached block to the driver (called on out-of-memory). Lock held. */
static void release_cache(void) {
    cudaDeviceSynchronize();
    while (free_blocks) {
        cu_block *b = free_blocks;
        free_blocks = b->next;
        for (int i = 0; i < b->nev; i++) cudaEventDestroy(b->ev[i]);
        cudaFree(b->ptr);
        cached_bytes -= b->size;
        free(b);
    }
}

sl_status cu_mem_alloc(size_t nbytes, void **out) {
    size_t size = round_size(nbytes);
    pthread_mutex_lock(&mem_lock);
    cu_block **pp = &free_blocks;
    while (*pp && (*pp)->size != size) pp = &(*pp)->next;
    if (*pp) {
        cu_block *b = *pp;
        *pp = b->next;
        cached_bytes -= size;
        used_bytes += size;
        pthread_mutex_unlock(&mem_lock);
        for (int i = 0; i < b->nev; i++) {
            cudaEventSynchronize(b->ev[i]);
            cudaEventDestroy(b->ev[i]);
        }
        *out = b->ptr;
        free(b);
        return SL_OK;
    }
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, size);
    if (e == cudaErrorMemoryAllocation && free_blocks) {
        cudaGetLastError(); /* clear the sticky-free error state of the runtime */
        release_cache();
        e = cudaMalloc(&p, size);
    }
    if (e != cudaSuccess) {
        cudaGetLastError();
        size_t freeb = 0, total = 0;
        cudaMemGetInfo(&freeb, &total);
        size_t used = used_bytes;
        pthread_mutex_unlock(&mem_lock);
        return sl_set_error(e == cudaErrorMemoryAllocation ? SL_ERR_NOMEM : SL_ERR_DEVICE,
                            "cuda: cannot allocate %zu bytes of device memory: %s (%.2f GiB in tensors, %.2f GiB "
                            "free of %.2f GiB)", nbytes, cudaGetErrorString(e), (double)used / 1073741824.0,
                            (double)freeb / 1073741824.0, (double)total / 1073741824.0);
    }
    used_bytes += size;
    pthread_mutex_unlock(&mem_lock);
    *out = p;
    return SL_OK;
}

void cu_mem_free(void *ptr, size_t nbytes) {
    if (!ptr) return;
    cu_block *b = (cu_block *)calloc(1, sizeof *b);
    pthread_mutex_lock(&mem_lock);
    size_t size = round_size(nbytes);
    used_bytes -= size;
    if (!b) { /* cannot cache it: give it back (cudaFree waits for the device) */
        pthread_mutex_unlock(&mem_lock);
        cudaFree(ptr);
        return;
    }
    b->ptr = ptr;
    b->size = size;
    if (nlive > 1) {
        for (int i = 0; i < nlive && i < CU_MAX_EVENTS; i++) {
            if (cudaEventCreateWithFlags(&b->ev[b->nev], cudaEventDisableTiming) != cudaSuccess) break;
            cudaEventRecord(b->ev[b->nev], live_streams[i]);
            b->nev++;
        }
        if (nlive > CU_MAX_EVENTS) cudaDeviceSynchronize();
    }
    b->next = free_blocks;
    free_blocks = b;
    cached_bytes += size;
    pthread_mutex_unlock(&mem_lock);
}

static void streams_add(cudaStream_t st) {
    pthread_mutex_lock(&mem_lock);
    if (nlive < (int)(sizeof live_streams / sizeof live_streams[0])) live_streams[nlive] = st;
    nlive++;
    pthread_mutex_unlock(&mem_lock);
}

static void streams_remove(cudaStream_t st) {
    pthread_mutex_lock(&mem_lock);
    int cap = (int)(sizeof live_streams / sizeof live_streams[0]);
    for (int i = 0; i < nlive && i < cap; i++)
        if (live_streams[i] == st) {
            live_streams[i] = live_streams[(nlive < cap ? nlive : cap) - 1];
            break;
        }
    nlive--;
    pthread_mutex_unlock(&mem_lock);
}

/* ============================================================ streams */

static sl_status cuda_stream_create(const sli_ctx_state *state, sli_stream **out) {
    sli_stream *s = (sli_stream *)calloc(1, sizeof *s);
    if (!s) return sl_set_error(SL_ERR_NOMEM, "cuda stream: out of memory");
    s->state = state;
    sl_status st = cu_check(cudaSetDevice(state->gpu_index), "cudaSetDevice");
    int dev = state->gpu_index;
    if (st == SL_OK) st = cu_check(cudaDeviceGetAttribute(&s->sm_count, cudaDevAttrMultiProcessorCount, dev),
                                   "cudaDeviceGetAttribute");
    if (st == SL_OK) st = cu_check(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking), "cudaStreamCreate");
    if (st == SL_OK) st = cu_check(cudaHostAlloc((void **)&s->bad_host, sizeof(cu_bad_input), cudaHostAllocDefault),
                                   "cudaHostAlloc");
    if (st == SL_OK) st = cu_mem_alloc(sizeof(cu_bad_input), (void **)&s->bad_dev);
    if (st == SL_OK) st = cu_check(cudaMemsetAsync(s->bad_dev, 0, sizeof(cu_bad_input), s->stream), "cudaMemset");
    if (st == SL_OK) st = cu_blas_stream_init(s);
    if (st == SL_OK && state->workspace_bytes && !cu_scratch(s, state->workspace_bytes)) st = SL_ERR_NOMEM;
    if (st == SL_OK) st = cu_check(cudaStreamSynchronize(s->stream), "cudaStreamSynchronize");
    if (st != SL_OK) {
        sl_status keep = st;
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", sl_last_error());
        cu_blas_stream_fini(s);
        if (s->ws) cu_mem_free(s->ws, s->ws_size);
        if (s->bad_dev) cu_mem_free(s->bad_dev, sizeof(cu_bad_input));
        if (s->bad_host) cudaFreeHost(s->bad_host);
        if (s->stream) cudaStreamDestroy(s->stream);
        free(s);
        return sl_set_error(keep, "%s", msg);
    }
    streams_add(s->stream);
    *out = s;
    return SL_OK;
}

static void cuda_stream_destroy(sli_stream *s) {
    if (!s) return;
    cudaStreamSynchronize(s->stream);
    cu_blas_stream_fini(s);
    if (s->ws) cu_mem_free(s->ws, s->ws_size);
    cu_mem_free(s->bad_dev, sizeof(cu_bad_input));
    cudaFreeHost(s->bad_host);
    streams_remove(s->stream);
    cudaStreamDestroy(s->stream);
    free(s);
}

static sl_status cuda_stream_threads_changed(sli_stream *s) { (void)s; return SL_OK; }

/* After the stream is idle: report (once) any bad input a kernel recorded. */
static sl_status report_bad_input(sli_stream *s) {
    CU_TRY(cu_check(cudaMemcpyAsync(s->bad_host, s->bad_dev, sizeof(cu_bad_input), cudaMemcpyDeviceToHost, s->stream),
                    "reading the bad-input record"));
    CU_TRY(cu_check(cudaStreamSynchronize(s->stream), "cudaStreamSynchronize"));
    cu_bad_input b = *s->bad_host;
    if (b.code == CU_BAD_NONE) return SL_OK;
    CU_TRY(cu_check(cudaMemsetAsync(s->bad_dev, 0, sizeof(cu_bad_input), s->stream), "cudaMemset"));
    if (b.code == CU_BAD_EMBEDDING_ID)
        return sl_set_error(SL_ERR_RANGE, "sl_embedding/sl_embedding_backward (cuda): ids[%lld] = %lld is outside "
                            "[0, %lld); the row was clamped, so the results since the last synchronisation are "
                            "wrong", b.index, b.value,
                            b.limit);
    return sl_set_error(SL_ERR_RANGE, "sl_cross_entropy (cuda): targets[%lld] = %lld is outside [0, %lld) and not "
                        "the ignore index; the row was skipped, so the results since the last synchronisation are "
                        "wrong", b.index, b.value, b.limit);
}

static sl_status cuda_synchronize(sli_stream *s) {
    CU_TRY(cu_check(cudaStreamSynchronize(s->stream), "cudaStreamSynchronize"));
    return report_bad_input(s);
}

void *cu_scratch(sli_stream *s, size_t bytes) {
    if (bytes <= s->ws_size) return s->ws;
    size_t n = s->ws_size ? s->ws_size : (size_t)1 << 20;
    while (n < bytes) n *= 2;
    void *p;
    if (cu_mem_alloc(n, &p) != SL_OK) return NULL;
    if (s->ws) cu_mem_free(s->ws, s->ws_size); /* same stream reuses it in order */
    s->ws = p;
    s->ws_size = n;
    return p;
}

/* ============================================================ memcpy */

static sl_status cuda_memcpy(sli_stream *s, void *dst, const void *src, size_t n, sli_copy_kind kind) {
    if (!n) return SL_OK;
    cudaMemcpyKind k = kind == SLI_COPY_H2D ? cudaMemcpyHostToDevice
                     : kind == SLI_COPY_D2H ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice;
    CU_TRY(cu_check(cudaMemcpyAsync(dst, src, n, k, s->stream), "cudaMemcpyAsync"));
    /* Host buffers may be reused as soon as this returns (the core frees staging images right
     * away), and D2H data must be there: both directions wait. */
    if (kind == SLI_COPY_D2D) return SL_OK;
    CU_TRY(cu_check(cudaStreamSynchronize(s->stream), "cudaMemcpy (synchronising)"));
    return kind == SLI_COPY_D2H ? report_bad_input(s) : SL_OK;
}

/* ============================================================ copies and casts */

/* Host and device: IEEE binary32 -> bfloat16 / binary16 exactly as the CPU backend rounds
 * (nearest even, NaN stays NaN), so casts agree bit for bit. */
__host__ __device__ static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
__host__ __device__ static inline float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

__host__ __device__ static inline uint16_t f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

__host__ __device__ static inline float bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

__host__ __device__ static inline float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0) {
        if (man == 0) u = sign;
        else {
            int e = -1;
            do { e++; man <<= 1; } while (!(man & 0x400));
            u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (man << 13);
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    return bits_f32(u);
}

__host__ __device__ static inline uint16_t f32_to_f16(float f) {
    uint32_t u = f32_bits(f), sign = (u >> 16) & 0x8000, a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00);
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);
    if (a < 0x38800000u) {
        if (a < 0x33000000u) return (uint16_t)sign;
        uint32_t e = a >> 23, man = (a & 0x7fffff) | 0x800000, shift = 126 - e;
        uint32_t q = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t r = a + 0xfffu + ((a >> 13) & 1);
    return (uint16_t)(sign | (((r >> 23) - 112) << 10) | ((r >> 13) & 0x3ff));
}

__device__ static inline bool dt_float(int d) { return d == SL_F32 || d == SL_F16 || d == SL_BF16; }

__device__ static inline double load_f(int d, const char *p) {
    switch (d) {
    case SL_F32: return *(const float *)p;
    case SL_F16: return f16_to_f32(*(const uint16_t *)p);
    case SL_BF16: return bf16_to_f32(*(const uint16_t *)p);
    case SL_I32: return *(const int32_t *)p;
    case SL_I64: return (double)*(const int64_t *)p;
    case SL_U8: return *(const unsigned char *)p;
    }
    return 0;
}

__device__ static inline int64_t load_i(int d, const char *p) {
    switch (d) {
    case SL_I32: return *(const int32_t *)p;
    case SL_I64: return *(const int64_t *)p;
    case SL_U8: return *(const unsigned char *)p;
    }
    return 0;
}

__device__ static inline int64_t sat_i(double v, double lo, double hi) {
    if (v != v) return 0;
    if (v <= lo) return (int64_t)lo;
    if (v >= hi) return (int64_t)hi;
    return (int64_t)v;
}

/* One element: the conversion rules of sl_cast, the same as the CPU backend's. */
__device__ static inline void store_conv(int dd, char *q, int sd, const char *p) {
    if (!dt_float(sd) && !dt_float(dd)) {
        int64_t v = load_i(sd, p);
        switch (dd) {
        case SL_I32: {
            int32_t w = (int32_t)(uint32_t)v;
            if (sd == SL_I64) w = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
            *(int32_t *)q = w;
            break;
        }
        case SL_I64: *(int64_t *)q = v; break;
        case SL_U8: *(unsigned char *)q = (unsigned char)(uint64_t)v; break;
        }
        return;
    }
    double v = load_f(sd, p);
    switch (dd) {
    case SL_F32: *(float *)q = (float)v; break;
    case SL_F16: *(uint16_t *)q = f32_to_f16((float)v); break;
    case SL_BF16: *(uint16_t *)q = f32_to_bf16((float)v); break;
    case SL_I32: *(int32_t *)q = (int32_t)sat_i(v, -2147483648.0, 2147483647.0); break;
    case SL_I64: *(int64_t *)q = sat_i(v, -9223372036854775808.0, 9223372036854774784.0); break;
    case SL_U8: *(unsigned char *)q = (unsigned char)sat_i(v, 0.0, 255.0); break;
    }
}

/* Geometry of a strided tensor for index decomposition on the device. */
typedef struct {
    int ndim;
    int64_t shape[SL_MAX_DIMS];
    int64_t sstride[SL_MAX_DIMS];  /* source (or only) tensor byte strides */
    int64_t dstride[SL_MAX_DIMS];  /* destination byte strides */
} cu_geom;

__device__ static inline void offsets(const cu_geom &g, int64_t i, int64_t *so, int64_t *dof) {
    int64_t s = 0, d = 0;
    for (int k = g.ndim - 1; k >= 0; k--) {
        int64_t x = i % g.shape[k];
        i /= g.shape[k];
        s += x * g.sstride[k];
        d += x * g.dstride[k];
    }
    *so = s;
    *dof = d;
}

__global__ void copy_strided_kernel(char *dst, int dd, const char *src, int sd, cu_geom g, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t so, dof;
        offsets(g, i, &so, &dof);
        store_conv(dd, dst + dof, sd, src + so);
    }
}

/* Contiguous float -> float conversions (the mixed-precision hot path: master weights to bf16). */
template <typename D, typename S>
__global__ void convert_kernel(D *__restrict__ dst, const S *__restrict__ src, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        dst[i] = cu_fromf<D>(cu_tof(src[i]));
}

/* bf16 rounding of the fast path must equal the CPU's: both round to nearest even; only NaN
 * payloads may differ, which no comparison sees. */
template <typename D>
static sl_status convert_from(sli_stream *s, D *dst, const sl_tensor *src, int64_t n, unsigned grid) {
    switch (src->dtype) {
    case SL_F32: convert_kernel<D, float><<<grid, 256, 0, s->stream>>>(dst, (const float *)src->data, n); break;
    case SL_F16: convert_kernel<D, __half><<<grid, 256, 0, s->stream>>>(dst, (const __half *)src->data, n); break;
    case SL_BF16:
        convert_kernel<D, __nv_bfloat16><<<grid, 256, 0, s->stream>>>(dst, (const __nv_bfloat16 *)src->data, n);
        break;
    default: return SL_ERR_UNSUPPORTED;
    }
    return cu_launched("copy");
}

static bool is_float_dt(sl_dtype d) { return d == SL_F32 || d == SL_F16 || d == SL_BF16; }

sl_status cu_copy(sli_stream *s, sl_tensor *dst, const sl_tensor *src) {
    int64_t n = sl_tensor_numel(src);
    if (!n) return SL_OK;
    bool dc = sl_tensor_is_contiguous(dst), sc = sl_tensor_is_contiguous(src);
    if (dst->dtype == src->dtype && dc && sc) {
        if (dst->data == src->data) return SL_OK;
        return cu_check(cudaMemcpyAsync(dst->data, src->data, sl_tensor_nbytes(src), cudaMemcpyDeviceToDevice,
                                        s->stream), "copy");
    }
    unsigned grid = cu_blocks(n, 256, (int64_t)s->sm_count * 16);
    if (dc && sc && is_float_dt(dst->dtype) && is_float_dt(src->dtype) &&
        !(dst->dtype == SL_BF16 || dst->dtype == SL_F16)) {
        /* widening into f32 is exact whichever code does it */
        return convert_from<float>(s, (float *)dst->data, src, n, grid);
    }
    if (dc && sc && is_float_dt(dst->dtype) && src->dtype == SL_F32) {
        if (dst->dtype == SL_BF16) return convert_from<__nv_bfloat16>(s, (__nv_bfloat16 *)dst->data, src, n, grid);
        return convert_from<__half>(s, (__half *)dst->data, src, n, grid);
    }
    cu_geom g;
    memset(&g, 0, sizeof g);
    g.ndim = src->ndim;
    for (int k = 0; k < src->ndim; k++) {
        g.shape[k] = src->shape[k];
        g.sstride[k] = src->strides[k];
        g.dstride[k] = dst->strides[k];
    }
    copy_strided_kernel<<<grid, 256, 0, s->stream>>>((char *)dst->data, dst->dtype, (const char *)src->data,
                                                     src->dtype, g, n);
    return cu_launched("copy");
}

/* ============================================================ fill */

__global__ void fill_kernel(char *base, int64_t esz, uint64_t pattern, cu_geom g, int64_t n, bool contiguous) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t so = 0, dof;
        if (contiguous) dof = i * esz;
        else offsets(g, i, &so, &dof);
        char *q = base + dof;
        switch (esz) {
        case 1: *(uint8_t *)q = (uint8_t)pattern; break;
        case 2: *(uint16_t *)q = (uint16_t)pattern; break;
        case 4: *(uint32_t *)q = (uint32_t)pattern; break;
        default: *(uint64_t *)q = pattern; break;
        }
    }
}

sl_status cu_fill(sli_stream *s, sl_tensor *t, double v) {
    int64_t n = sl_tensor_numel(t);
    if (!n) return SL_OK;
    bool contig = sl_tensor_is_contiguous(t);
    if (v == 0.0 && contig)
        return cu_check(cudaMemsetAsync(t->data, 0, sl_tensor_nbytes(t), s->stream), "fill");
    uint64_t pat = 0;
    switch (t->dtype) {
    case SL_F32: { float f = (float)v; uint32_t u; memcpy(&u, &f, 4); pat = u; break; }
    case SL_F16: pat = f32_to_f16((float)v); break;
    case SL_BF16: pat = f32_to_bf16((float)v); break;
    default: {
        /* the CPU rules: truncate toward zero, saturate, NaN -> 0 */
        int64_t iv = v != v ? 0 : v >= 9.2233720368547748e18 ? INT64_MAX : v <= -9.2233720368547758e18 ? INT64_MIN
                                                                                                   : (int64_t)v;
        if (t->dtype == SL_U8) iv = iv < 0 ? 0 : iv > 255 ? 255 : iv;
        if (t->dtype == SL_I32) iv = iv < INT32_MIN ? INT32_MIN : iv > INT32_MAX ? INT32_MAX : iv;
        if (t->dtype == SL_I32) pat = (uint32_t)(int32_t)iv;
        else if (t->dtype == SL_U8) pat = (uint8_t)iv;
        else pat = (uint64_t)iv;
        break;
    }
    }
    cu_geom g;
    memset(&g, 0, sizeof g);
    g.ndim = t->ndim;
    for (int k = 0; k < t->ndim; k++) {
        g.shape[k] = t->shape[k];
        g.dstride[k] = t->strides[k];
    }
    unsigned grid = cu_blocks(n, 256, (int64_t)s->sm_count * 16);
    fill_kernel<<<grid, 256, 0, s->stream>>>((char *)t->data, (int64_t)sl_dtype_size(t->dtype), pat, g, n, contig);
    return cu_launched("fill");
}

/* ============================================================ Philox RNG
 * Counter c of a stream with key k is word (c & 3) of Philox4x32-10(k, 0, c >> 2), exactly
 * as sl_philox4x32 and the CPU backend; arithmetic below avoids fused multiply-adds so every
 * float comes out bit-identical to the CPU's. */

__device__ static inline void philox(uint64_t key, uint64_t ctr, uint32_t out[4]) {
    uint32_t c0 = (uint32_t)ctr, c1 = (uint32_t)(ctr >> 32), c2 = 0, c3 = 0;
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
#pragma unroll
    for (int r = 0; r < 10; r++) {
        uint32_t hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        uint32_t hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

__device__ static inline float u01(uint32_t w) { return __fmul_rn((float)(w >> 8), 1.0f / 16777216.0f); }

/* Each thread handles one Philox block (4 consecutive counters) so the generator runs once
 * per 4 elements; element i uses counter offset + i. */
template <typename T>
__global__ void uniform_kernel(T *out, int64_t n, float lo, float hi, uint64_t key, uint64_t offset) {
    int64_t first_blk = (int64_t)(offset >> 2), last_blk = (int64_t)((offset + n - 1) >> 2);
    float span = __fsub_rn(hi, lo);
    for (int64_t b = first_blk + blockIdx.x * (int64_t)blockDim.x + threadIdx.x; b <= last_blk;
         b += (int64_t)gridDim.x * blockDim.x) {
        uint32_t w[4];
        philox(key, (uint64_t)b, w);
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int64_t i = (int64_t)(((uint64_t)b << 2) + j - offset);
            if (i < 0 || i >= n) continue;
            out[i] = cu_fromf<T>(__fadd_rn(lo, __fmul_rn(span, u01(w[j]))));
        }
    }
}

template <typename T>
__global__ void normal_kernel(T *out, int64_t n, float mean, float std, uint64_t key, uint64_t offset) {
    int64_t first_blk = (int64_t)(offset >> 2), last_blk = (int64_t)((offset + n - 1) >> 2);
    for (int64_t b = first_blk + blockIdx.x * (int64_t)blockDim.x + threadIdx.x; b <= last_blk;
         b += (int64_t)gridDim.x * blockDim.x) {
        uint32_t w[4];
        philox(key, (uint64_t)b, w);
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int64_t i = (int64_t)(((uint64_t)b << 2) + j - offset);
            if (i < 0 || i >= n) continue;
            int pair = j & 2;
            double u1 = __dmul_rn((double)(w[pair] >> 8) + 1.0, 1.0 / 16777216.0);
            double u2 = __dmul_rn((double)(w[pair + 1] >> 8), 1.0 / 16777216.0);
            double r = sqrt(__dmul_rn(-2.0, log(u1)));
            double ang = __dmul_rn(6.28318530717958647692, u2);
            double z = (j & 1) ? __dmul_rn(r, sin(ang)) : __dmul_rn(r, cos(ang));
            out[i] = cu_fromf<T>(__fadd_rn(mean, __fmul_rn(std, (float)z)));
        }
    }
}

static sl_status rand_launch(sli_stream *s, sl_tensor *t, bool normal, float a, float b, uint64_t key,
                             uint64_t offset) {
    int64_t n = sl_tensor_numel(t);
    if (!n) return SL_OK;
    unsigned grid = cu_blocks((n + 3) / 4 + 1, 256, (int64_t)s->sm_count * 8);
    CU_FLOAT_SWITCH(t->dtype, normal ? "rand_normal" : "rand_uniform", T, {
        if (normal) normal_kernel<T><<<grid, 256, 0, s->stream>>>((T *)t->data, n, a, b, key, offset);
        else uniform_kernel<T><<<grid, 256, 0, s->stream>>>((T *)t->data, n, a, b, key, offset);
    })
    return cu_launched(normal ? "rand_normal" : "rand_uniform");
}

sl_status cu_rand_uniform(sli_stream *s, sl_tensor *t, float lo, float hi, uint64_t key, uint64_t offset) {
    return rand_launch(s, t, false, lo, hi, key, offset);
}

sl_status cu_rand_normal(sli_stream *s, sl_tensor *t, float mean, float std, uint64_t key, uint64_t offset) {
    return rand_launch(s, t, true, mean, std, key, offset);
}

/* ============================================================ dropout */

template <typename T, bool BACKWARD>
__global__ void dropout_kernel(T *out, const T *in, int64_t n, float p, float scale, uint64_t key, uint64_t offset) {
    int64_t first_blk = (int64_t)(offset >> 2), last_blk = (int64_t)((offset + n - 1) >> 2);
    for (int64_t b = first_blk + blockIdx.x * (int64_t)blockDim.x + threadIdx.x; b <= last_blk;
         b += (int64_t)gridDim.x * blockDim.x) {
        uint32_t w[4];
        philox(key, (uint64_t)b, w);
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int64_t i = (int64_t)(((uint64_t)b << 2) + j - offset);
            if (i < 0 || i >= n) continue;
            bool keep = u01(w[j]) >= p;
            float x = __fmul_rn(cu_tof(in[i]), scale);
            if (BACKWARD) {
                if (keep) out[i] = cu_fromf<T>(__fadd_rn(cu_tof(out[i]), x));
            } else {
                out[i] = cu_fromf<T>(keep ? x : 0.0f);
            }
        }
    }
}

template <bool BACKWARD>
static sl_status dropout_launch(sli_stream *s, sl_tensor *out, const sl_tensor *in, float p, uint64_t key,
                                uint64_t offset, const char *op) {
    int64_t n = sl_tensor_numel(in);
    if (!n) return SL_OK;
    float scale = 1.0f / (1.0f - p);
    unsigned grid = cu_blocks((n + 3) / 4 + 1, 256, (int64_t)s->sm_count * 8);
    CU_FLOAT_SWITCH(in->dtype, op, T, {
        dropout_kernel<T, BACKWARD><<<grid, 256, 0, s->stream>>>((T *)out->data, (const T *)in->data, n, p, scale,
                                                                 key, offset);
    })
    return cu_launched(op);
}

sl_status cu_dropout(sli_stream *s, sl_tensor *out, const sl_tensor *inp, float p, uint64_t key, uint64_t offset) {
    return dropout_launch<false>(s, out, inp, p, key, offset, "dropout");
}

sl_status cu_dropout_backward(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, float p, uint64_t key,
                              uint64_t offset) {
    return dropout_launch<true>(s, dinp, dout, p, key, offset, "dropout_backward");
}

/* ============================================================ the table */

static const sli_backend cuda_table = {
    .abi = SLI_BACKEND_ABI,
    .struct_size = sizeof(sli_backend),
    .name = "cuda",
    .device = SL_DEVICE_CUDA,
    .device_init = cuda_device_init,
    .mem_alloc = cu_mem_alloc,
    .mem_free = cu_mem_free,
    .stream_create = cuda_stream_create,
    .stream_destroy = cuda_stream_destroy,
    .stream_threads_changed = cuda_stream_threads_changed,
    .synchronize = cuda_synchronize,
    .memcpy = cuda_memcpy,
    .copy = cu_copy,
    .fill = cu_fill,
    .rand_uniform = cu_rand_uniform,
    .rand_normal = cu_rand_normal,
    .matmul = cu_matmul,
    .matmul_backward = cu_matmul_backward,
    .linear = cu_linear,
    .linear_backward = cu_linear_backward,
    .bias_add = cu_bias_add,
    .bias_add_backward = cu_bias_add_backward,
    .add = cu_add,
    .axpby = cu_axpby,
    .gelu = cu_gelu,
    .gelu_backward = cu_gelu_backward,
    .layernorm = cu_layernorm,
    .layernorm_backward = cu_layernorm_backward,
    .softmax = cu_softmax,
    .softmax_backward = cu_softmax_backward,
    .embedding = cu_embedding,
    .embedding_backward = cu_embedding_backward,
    .attention = cu_attention,
    .attention_backward = cu_attention_backward,
    .dropout = cu_dropout,
    .dropout_backward = cu_dropout_backward,
    .cross_entropy = cu_cross_entropy,
    .cross_entropy_backward = cu_cross_entropy_backward,
    .reduce = cu_reduce,
    .reduce_backward = cu_reduce_backward,
    .argmax = cu_argmax,
    .adamw = cu_adamw,
    .sum_squares = cu_sum_squares,
    .scale = cu_scale,
};

/* The one exported symbol: the core dlopens this library and calls it. */
extern "C" __attribute__((visibility("default"))) const sli_backend *sciloop_tensor_backend_v1(void) {
    return &cuda_table;
}
