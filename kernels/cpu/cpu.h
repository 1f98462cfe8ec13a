/* cpu.h — private interface of the CPU backend: stream state, thread pool, workspace, GEMM, half-precision conversions. */
#ifndef SCILOOP_KERNELS_CPU_H
#define SCILOOP_KERNELS_CPU_H

#include <math.h>
#include <string.h>

#include "backend.h"

/* ---- thread pool: persistent workers, static partitioning (deterministic) ---- */

typedef struct cpu_pool cpu_pool;

/* fn(arg, begin, end): process items [begin, end). */
typedef void (*cpu_task_fn)(void *arg, int64_t begin, int64_t end);

sl_status cpu_pool_create(int threads, cpu_pool **out);
void cpu_pool_destroy(cpu_pool *p);
int cpu_pool_threads(const cpu_pool *p);
/* Split [0, n) into at most `threads` contiguous chunks of at least `grain` items and run them,
 * the caller taking the first; returns when all are done. Chunk boundaries depend only on n,
 * grain and the thread count. Not reentrant: a task must not call cpu_pool_run. */
void cpu_pool_run(cpu_pool *p, int64_t n, int64_t grain, cpu_task_fn fn, void *arg);

/* ---- stream ---- */

struct sli_stream {
    const sli_ctx_state *state;
    cpu_pool *pool;
    void *ws;          /* workspace, 64-byte aligned, grows on demand */
    size_t ws_size;
};

/* Workspace of at least `bytes` (64-byte aligned), valid until the next call; NULL on OOM
 * (error set). Grows only, so steady-state training does no allocation. */
void *cpu_workspace(sli_stream *s, size_t bytes);

static inline void cpu_run(sli_stream *s, int64_t n, int64_t grain, cpu_task_fn fn, void *arg) {
    cpu_pool_run(s->pool, n, grain, fn, arg);
}

static inline int cpu_threads(const sli_stream *s) { return cpu_pool_threads(s->pool); }

/* ---- GEMM (row-major): C = alpha * op(A) op(B) + beta * C ---- */

/* One GEMM parallelised over the pool (each worker a block of rows or columns of C). */
void cpu_sgemm(sli_stream *s, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
               int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

/* The same on the calling thread only (for use inside pool tasks). */
void cpu_sgemm_serial(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                      const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

/* Name of the GEMM provider ("openblas" or "built-in"). */
const char *cpu_gemm_provider(void);

/* Called once at backend init (pins OpenBLAS to one thread: the pool provides parallelism). */
void cpu_gemm_init(void);

/* ---- ops implemented across files ---- */
sl_status cpu_attention(sli_stream *s, sl_tensor *out, sl_tensor *lse, const sl_tensor *q, const sl_tensor *k,
                        const sl_tensor *v, const sl_tensor *key_mask, const sl_attention_opts *opts);
sl_status cpu_attention_backward(sli_stream *s, sl_tensor *dq, sl_tensor *dk, sl_tensor *dv, const sl_tensor *dout,
                                 const sl_tensor *q, const sl_tensor *k, const sl_tensor *v,
                                 const sl_tensor *key_mask, const sl_tensor *out, const sl_tensor *lse,
                                 const sl_attention_opts *opts);
sl_status cpu_rand_uniform(sli_stream *s, sl_tensor *t, float lo, float hi, uint64_t key, uint64_t offset);
sl_status cpu_rand_normal(sli_stream *s, sl_tensor *t, float mean, float std, uint64_t key, uint64_t offset);
sl_status cpu_dropout(sli_stream *s, sl_tensor *out, const sl_tensor *inp, float p, uint64_t key, uint64_t offset);
sl_status cpu_dropout_backward(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, float p, uint64_t key,
                               uint64_t offset);

/* Returns SL_ERR_UNSUPPORTED unless every given tensor (NULLs skipped) is f32. */
sl_status cpu_need_f32(const char *op, int n, const sl_tensor *const *ts);
#define CPU_F32(op, ...) do { const sl_tensor *_ts[] = { __VA_ARGS__ }; \
    sl_status _st = cpu_need_f32(op, (int)(sizeof _ts / sizeof _ts[0]), _ts); if (_st != SL_OK) return _st; } while (0)

/* ---- half precision (round to nearest even; NaN stays NaN) ---- */

static inline uint32_t cpu_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float cpu_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static inline uint16_t cpu_f32_to_bf16(float f) {
    uint32_t u = cpu_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}
static inline float cpu_bf16_to_f32(uint16_t h) { return cpu_bits_f32((uint32_t)h << 16); }

static inline float cpu_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    uint32_t u;
    if (exp == 0) {
        if (man == 0) u = sign;
        else { /* subnormal: normalise */
            int e = -1;
            do { e++; man <<= 1; } while (!(man & 0x400));
            u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (man << 13);
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    return cpu_bits_f32(u);
}

static inline uint16_t cpu_f32_to_f16(float f) {
    uint32_t u = cpu_f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000;
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00); /* NaN */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* rounds to >= 65520: inf */
    if (a < 0x38800000u) { /* below the smallest normal half: subnormal or zero */
        if (a < 0x33000000u) return (uint16_t)sign; /* < 2^-25: rounds to 0 */
        uint32_t e = a >> 23, man = (a & 0x7fffff) | 0x800000;
        /* value = man * 2^(e-150); in units of 2^-24 that is man >> (126 - e) */
        uint32_t shift = 126 - e;
        uint32_t q = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t r = a + 0xfffu + ((a >> 13) & 1); /* round mantissa to 10 bits, nearest even */
    return (uint16_t)(sign | (((r >> 23) - 112) << 10) | ((r >> 13) & 0x3ff));
}

#endif /* SCILOOP_KERNELS_CPU_H */
