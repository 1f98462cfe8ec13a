/* cuda_attention.cu — fused multi-head attention on the GPU: flash-style tensor-core kernels (bf16/f16, head dim 64/128) and a scalar fallback, forward and backward, never storing T×T. */
#include "cuda_internal.cuh"

#include <limits.h>
#include <stdlib.h>
#include <strings.h>

/*
 * Both paths compute exactly what the CPU backend computes: per (batch, head), scores
 * S = scale * Q K^T with causal and key-padding masks, out = softmax(S) V, and the saved
 * lse = log-sum-exp of each masked score row (-inf and a zero output when every key is masked).
 * Scores live only in registers (tensor-core path) or in a small tile (scalar path); the
 * softmax is computed online, one key tile at a time (FlashAttention-2's schedule).
 *
 * The backward recomputes the probabilities from lse. dK and dV come from one kernel (a block
 * owns a key tile and walks the query tiles), dQ from another (a block owns a query tile and
 * walks the key tiles); each gradient element is written by exactly one thread, so there are
 * no atomics and the result is bit-identical from run to run. It costs two extra tile products
 * over the atomic-accumulation schedule.
 */

#define LOG2E 1.4426950408889634f
#define LN2 0.6931471805599453f

typedef struct {
    int64_t B, T, H, D, C;
    int64_t q_bs, q_rs, k_bs, k_rs, v_bs, v_rs;   /* element strides of q, k, v */
    float scale;
    bool causal;
    const uint8_t *mask;                          /* (B,T) or NULL */
} att_geom;

/* ============================================================ scalar path (any float dtype, D <= 256) */

#define SCALAR_BLOCK 64

template <typename T, int DMAX, int KT>
__global__ void __launch_bounds__(SCALAR_BLOCK) att_fwd_scalar(T *out, float *lse, const T *q, const T *k, const T *v,
                                                               att_geom g) {
    __shared__ float sk[KT][DMAX], sv[KT][DMAX], ssc[KT][SCALAR_BLOCK];
    int64_t bh = blockIdx.y, b = bh / g.H, h = bh % g.H;
    const int D = (int)g.D;
    int64_t t = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    bool active = t < g.T;
    float qr[DMAX], acc[DMAX];
#pragma unroll
    for (int d = 0; d < DMAX; d++) {
        qr[d] = (active && d < D) ? cu_tof(q[b * g.q_bs + t * g.q_rs + h * D + d]) : 0.0f;
        acc[d] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    int64_t tlast = ((int64_t)blockIdx.x + 1) * blockDim.x - 1;
    if (tlast >= g.T) tlast = g.T - 1;
    int64_t kend = g.causal ? tlast + 1 : g.T;
    for (int64_t k0 = 0; k0 < kend; k0 += KT) {
        __syncthreads();
        for (int idx = threadIdx.x; idx < KT * D; idx += blockDim.x) {
            int j = idx / D, d = idx % D;
            int64_t key = k0 + j;
            sk[j][d] = key < g.T ? cu_tof(k[b * g.k_bs + key * g.k_rs + h * D + d]) : 0.0f;
            sv[j][d] = key < g.T ? cu_tof(v[b * g.v_bs + key * g.v_rs + h * D + d]) : 0.0f;
        }
        __syncthreads();
        if (!active) continue;
        float tm = -INFINITY;
        for (int j = 0; j < KT; j++) {
            int64_t key = k0 + j;
            bool ok = key < g.T && (!g.causal || key <= t) && (!g.mask || g.mask[b * g.T + key]);
            float s = 0.0f;
#pragma unroll
            for (int d = 0; d < DMAX; d++) s += qr[d] * sk[j][d];
            s = ok ? s * g.scale : -INFINITY;
            ssc[j][threadIdx.x] = s;
            tm = fmaxf(tm, s);
        }
        if (tm == -INFINITY) continue;
        float mn = fmaxf(m, tm), corr = expf(m - mn);
        l *= corr;
#pragma unroll
        for (int d = 0; d < DMAX; d++) acc[d] *= corr;
        for (int j = 0; j < KT; j++) {
            float p = expf(ssc[j][threadIdx.x] - mn);
            l += p;
#pragma unroll
            for (int d = 0; d < DMAX; d++) acc[d] += p * sv[j][d];
        }
        m = mn;
    }
    if (!active) return;
    float inv = l > 0.0f ? 1.0f / l : 0.0f;
    T *o = out + (b * g.T + t) * g.C + h * D;
#pragma unroll
    for (int d = 0; d < DMAX; d++)
        if (d < D) o[d] = cu_fromf<T>(acc[d] * inv);
    lse[bh * g.T + t] = l > 0.0f ? m + logf(l) : -INFINITY;
}

/* Di = rowsum(dO * O) per (b, h, t), f32. */
template <typename T>
__global__ void att_di_kernel(float *di, const T *dout, const T *out, int64_t B, int64_t T_, int64_t H, int64_t D) {
    int64_t n = B * H * T_;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t t = i % T_, bh = i / T_, b = bh / H, h = bh % H;
        const T *x = dout + (b * T_ + t) * H * D + h * D, *y = out + (b * T_ + t) * H * D + h * D;
        float acc = 0.0f;
        for (int64_t d = 0; d < D; d++) acc += cu_tof(x[d]) * cu_tof(y[d]);
        di[i] = acc;
    }
}

/* dK, dV: one thread per key row, query tiles through shared memory. */
template <typename T, int DMAX, int KT>
__global__ void att_bwd_kv_scalar(T *dk, T *dv, const T *q, const T *k, const T *v, const T *dout, const float *lse,
                                  const float *di, att_geom g, int64_t dk_bs, int64_t dk_rs, int64_t dv_bs,
                                  int64_t dv_rs) {
    __shared__ float sq[KT][DMAX], sdo[KT][DMAX], sl[KT], sd[KT];
    int64_t bh = blockIdx.y, b = bh / g.H, h = bh % g.H;
    const int D = (int)g.D;
    int64_t s = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    bool active = s < g.T && (!g.mask || g.mask[b * g.T + s]);
    float kr[DMAX], vr[DMAX], gk[DMAX], gv[DMAX];
#pragma unroll
    for (int d = 0; d < DMAX; d++) {
        kr[d] = (active && d < D) ? cu_tof(k[b * g.k_bs + s * g.k_rs + h * D + d]) : 0.0f;
        vr[d] = (active && d < D) ? cu_tof(v[b * g.v_bs + s * g.v_rs + h * D + d]) : 0.0f;
        gk[d] = gv[d] = 0.0f;
    }
    int64_t sfirst = (int64_t)blockIdx.x * blockDim.x;
    int64_t q0start = g.causal ? sfirst / KT * KT : 0;
    for (int64_t q0 = q0start; q0 < g.T; q0 += KT) {
        __syncthreads();
        for (int idx = threadIdx.x; idx < KT * D; idx += blockDim.x) {
            int j = idx / D, d = idx % D;
            int64_t qi = q0 + j;
            sq[j][d] = qi < g.T ? cu_tof(q[b * g.q_bs + qi * g.q_rs + h * D + d]) : 0.0f;
            sdo[j][d] = qi < g.T ? cu_tof(dout[(b * g.T + qi) * g.C + h * D + d]) : 0.0f;
        }
        for (int j = threadIdx.x; j < KT; j += blockDim.x) {
            int64_t qi = q0 + j;
            sl[j] = qi < g.T ? lse[bh * g.T + qi] : -INFINITY;
            sd[j] = qi < g.T ? di[bh * g.T + qi] : 0.0f;
        }
        __syncthreads();
        if (!active) continue;
        for (int j = 0; j < KT; j++) {
            int64_t qi = q0 + j;
            if (qi >= g.T || sl[j] == -INFINITY || (g.causal && s > qi)) continue;
            float sc = 0.0f, dp = 0.0f;
#pragma unroll
            for (int d = 0; d < DMAX; d++) { sc += sq[j][d] * kr[d]; dp += sdo[j][d] * vr[d]; }
            float p = expf(sc * g.scale - sl[j]);
            float ds = p * (dp - sd[j]);
#pragma unroll
            for (int d = 0; d < DMAX; d++) { gv[d] += p * sdo[j][d]; gk[d] += ds * sq[j][d]; }
        }
    }
    if (s >= g.T) return;
#pragma unroll
    for (int d = 0; d < DMAX; d++) {
        if (d >= D) continue;
        if (dk) { T *x = dk + b * dk_bs + s * dk_rs + h * D + d; *x = cu_fromf<T>(cu_tof(*x) + gk[d] * g.scale); }
        if (dv) { T *x = dv + b * dv_bs + s * dv_rs + h * D + d; *x = cu_fromf<T>(cu_tof(*x) + gv[d]); }
    }
}

/* dQ: one thread per query row, key tiles through shared memory. */
template <typename T, int DMAX, int KT>
__global__ void att_bwd_q_scalar(T *dq, const T *q, const T *k, const T *v, const T *dout, const float *lse,
                                 const float *di, att_geom g, int64_t dq_bs, int64_t dq_rs) {
    __shared__ float sk[KT][DMAX], sv[KT][DMAX];
    int64_t bh = blockIdx.y, b = bh / g.H, h = bh % g.H;
    const int D = (int)g.D;
    int64_t t = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    float l = t < g.T ? lse[bh * g.T + t] : -INFINITY;
    bool active = t < g.T && l != -INFINITY;
    float dd = active ? di[bh * g.T + t] : 0.0f;
    float qr[DMAX], dor[DMAX], gq[DMAX];
#pragma unroll
    for (int d = 0; d < DMAX; d++) {
        qr[d] = (active && d < D) ? cu_tof(q[b * g.q_bs + t * g.q_rs + h * D + d]) : 0.0f;
        dor[d] = (active && d < D) ? cu_tof(dout[(b * g.T + t) * g.C + h * D + d]) : 0.0f;
        gq[d] = 0.0f;
    }
    int64_t tlast = ((int64_t)blockIdx.x + 1) * blockDim.x - 1;
    if (tlast >= g.T) tlast = g.T - 1;
    int64_t kend = g.causal ? tlast + 1 : g.T;
    for (int64_t k0 = 0; k0 < kend; k0 += KT) {
        __syncthreads();
        for (int idx = threadIdx.x; idx < KT * D; idx += blockDim.x) {
            int j = idx / D, d = idx % D;
            int64_t key = k0 + j;
            sk[j][d] = key < g.T ? cu_tof(k[b * g.k_bs + key * g.k_rs + h * D + d]) : 0.0f;
            sv[j][d] = key < g.T ? cu_tof(v[b * g.v_bs + key * g.v_rs + h * D + d]) : 0.0f;
        }
        __syncthreads();
        if (!active) continue;
        for (int j = 0; j < KT; j++) {
            int64_t key = k0 + j;
            if (key >= g.T || (g.causal && key > t) || (g.mask && !g.mask[b * g.T + key])) continue;
            float sc = 0.0f, dp = 0.0f;
#pragma unroll
            for (int d = 0; d < DMAX; d++) { sc += qr[d] * sk[j][d]; dp += dor[d] * sv[j][d]; }
            float p = expf(sc * g.scale - l);
            float ds = p * (dp - dd);
#pragma unroll
            for (int d = 0; d < DMAX; d++) gq[d] += ds * sk[j][d];
        }
    }
    if (t >= g.T || !dq) return;
#pragma unroll
    for (int d = 0; d < DMAX; d++) {
        if (d >= D) continue;
        T *x = dq + b * dq_bs + t * dq_rs + h * D + d;
        *x = cu_fromf<T>(cu_tof(*x) + gq[d] * g.scale);
    }
}

/* ============================================================ tensor-core path (mma.sync m16n8k16) */

__device__ __forceinline__ uint32_t smem_u32(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, bool valid) {
    unsigned sz = valid ? 16u : 0u; /* 0 bytes read: the 16 shared bytes are zero-filled */
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_u32(smem)), "l"(gmem), "r"(sz));
}
__device__ __forceinline__ void cp_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

__device__ __forceinline__ void ldsm_x4(uint32_t r[4], const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_u32(p)));
}
__device__ __forceinline__ void ldsm_x4_t(uint32_t r[4], const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_u32(p)));
}

template <typename T> __device__ __forceinline__ void mma16816(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1);
template <> __device__ __forceinline__ void mma16816<__nv_bfloat16>(float c[4], const uint32_t a[4], uint32_t b0,
                                                                    uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <> __device__ __forceinline__ void mma16816<__half>(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* 2^x on the special-function unit (flushes results below 2^-126 to zero: harmless for
 * probabilities). */
__device__ __forceinline__ float ex2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

/* Two floats as one register of the 16-bit type, the lower column in the low half. */
template <typename T> __device__ __forceinline__ uint32_t pack2(float lo, float hi);
template <> __device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *(uint32_t *)&v;
}
template <> __device__ __forceinline__ uint32_t pack2<__half>(float lo, float hi) {
    __half2 v = __floats2half2_rn(lo, hi);
    return *(uint32_t *)&v;
}
template <typename T> __device__ __forceinline__ float2 unpack2(uint32_t u);
template <> __device__ __forceinline__ float2 unpack2<__nv_bfloat16>(uint32_t u) {
    return __bfloat1622float2(*(__nv_bfloat162 *)&u);
}
template <> __device__ __forceinline__ float2 unpack2<__half>(uint32_t u) { return __half22float2(*(__half2 *)&u); }

/* Tiles are 64 rows of D elements in shared memory, rows padded by 8 elements (16 bytes) so
 * the 8 rows one ldmatrix reads fall in different banks. */
#define TILE 64

template <typename T, int D>
__device__ __forceinline__ void load_tile(T *s, const T *g, int64_t ld, int64_t r0, int64_t nrows, int tid) {
    const int CH = D / 8, LD = D + 8;
    for (int c = tid; c < TILE * CH; c += 128) {
        int r = c / CH, kc = c % CH;
        int64_t gr = r0 + r;
        bool ok = gr < nrows;
        cp_async16(s + r * LD + kc * 8, ok ? (const void *)(g + gr * ld + kc * 8) : (const void *)g, ok);
    }
}

/* A operand (16 rows x 16 k) from a row-major tile. */
template <int LD, typename T>
__device__ __forceinline__ void frag_a(uint32_t a[4], const T *s, int row0, int k0, int lane) {
    ldsm_x4(a, s + (row0 + (lane & 15)) * LD + k0 + ((lane >> 4) << 3));
}
/* B operands of two n-blocks (n0, n0+8) x 16 k from a tile stored [n][k]. */
template <int LD, typename T>
__device__ __forceinline__ void frag_b_nk(uint32_t b[4], const T *s, int n0, int k0, int lane) {
    ldsm_x4(b, s + (n0 + (lane & 7) + ((lane >> 4) << 3)) * LD + k0 + (((lane >> 3) & 1) << 3));
}
/* B operands of two n-blocks (n0, n0+8) x 16 k from a tile stored [k][n]. */
template <int LD, typename T>
__device__ __forceinline__ void frag_b_kn(uint32_t b[4], const T *s, int k0, int n0, int lane) {
    ldsm_x4_t(b, s + (k0 + (lane & 7) + (((lane >> 3) & 1) << 3)) * LD + n0 + ((lane >> 4) << 3));
}

/* acc(16 x 64) = A(16 x D) . Bt^T where Bt is a 64 x D tile stored [n][k]; a preloaded or read from sA. */
template <typename T, int D, bool PRE>
__device__ __forceinline__ void mm_rows_x_tileT(float acc[8][4], const uint32_t (*af)[4], const T *sA, int arow0,
                                                const T *sB, int lane) {
    const int LD = D + 8;
#pragma unroll
    for (int nb = 0; nb < 8; nb++)
#pragma unroll
        for (int e = 0; e < 4; e++) acc[nb][e] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
        uint32_t a[4];
        if (PRE) { a[0] = af[kk][0]; a[1] = af[kk][1]; a[2] = af[kk][2]; a[3] = af[kk][3]; }
        else frag_a<LD>(a, sA, arow0, kk * 16, lane);
#pragma unroll
        for (int np = 0; np < 4; np++) {
            uint32_t b[4];
            frag_b_nk<LD>(b, sB, np * 16, kk * 16, lane);
            mma16816<T>(acc[2 * np], a, b[0], b[1]);
            mma16816<T>(acc[2 * np + 1], a, b[2], b[3]);
        }
    }
}

/* out(16 x D) += P(16 x 64, in C-fragment registers) . Bk where Bk is a 64 x D tile stored [k][n]. */
template <typename T, int D>
__device__ __forceinline__ void mm_p_x_tile(float out[D / 8][4], const float p[8][4], const T *sB, int lane) {
    const int LD = D + 8;
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
        uint32_t a[4] = { pack2<T>(p[2 * kk][0], p[2 * kk][1]), pack2<T>(p[2 * kk][2], p[2 * kk][3]),
                          pack2<T>(p[2 * kk + 1][0], p[2 * kk + 1][1]), pack2<T>(p[2 * kk + 1][2], p[2 * kk + 1][3]) };
#pragma unroll
        for (int dn = 0; dn < D / 16; dn++) {
            uint32_t b[4];
            frag_b_kn<LD>(b, sB, kk * 16, dn * 16, lane);
            mma16816<T>(out[2 * dn], a, b[0], b[1]);
            mma16816<T>(out[2 * dn + 1], a, b[2], b[3]);
        }
    }
}

/* Forward. A block owns 64*MB query rows (4 warps of 16*MB rows: with MB = 2 every K/V
 * fragment read from shared memory feeds two row blocks) and walks the key tiles. */
template <typename T, int D, int MB>
__global__ void __launch_bounds__(128) fa_fwd_kernel(T *out, float *lse, const T *q, const T *k, const T *v,
                                                     att_geom g, int nqt) {
    extern __shared__ __align__(16) unsigned char smem[];
    const int LD = D + 8, BR = TILE * MB;
    T *sQ = (T *)smem, *sK = sQ + BR * LD, *sV = sK + 2 * TILE * LD;
    uint8_t *sM = (uint8_t *)(sV + 2 * TILE * LD);
    int64_t BH = g.B * g.H, bh = blockIdx.x % BH, b = bh / g.H, h = bh % g.H;
    int qt = nqt - 1 - (int)(blockIdx.x / BH); /* the longest causal rows first */
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int64_t q0 = (int64_t)qt * BR;
    const T *qg = q + b * g.q_bs + h * D, *kg = k + b * g.k_bs + h * D, *vg = v + b * g.v_bs + h * D;
    const uint8_t *mk = g.mask ? g.mask + b * g.T : NULL;
    int nkt = (int)((g.T + TILE - 1) / TILE);
    if (g.causal && nkt > (qt + 1) * MB) nkt = (qt + 1) * MB;

    auto stage = [&](int j) {
        int buf = j & 1;
        int64_t k0 = (int64_t)j * TILE;
        load_tile<T, D>(sK + buf * TILE * LD, kg, g.k_rs, k0, g.T, tid);
        load_tile<T, D>(sV + buf * TILE * LD, vg, g.v_rs, k0, g.T, tid);
        for (int i = tid; i < TILE; i += 128) {
            int64_t key = k0 + i;
            sM[buf * TILE + i] = key < g.T ? (mk ? (mk[key] != 0) : 1) : 0;
        }
    };
#pragma unroll
    for (int mb = 0; mb < MB; mb++) load_tile<T, D>(sQ + mb * TILE * LD, qg, g.q_rs, q0 + mb * TILE, g.T, tid);
    stage(0);
    cp_commit();

    const float sl2 = g.scale * LOG2E;
    float m_r[MB][2], l_r[MB][2];
    float o[MB][D / 8][4];
    uint32_t qf[MB][D / 16][4];
#pragma unroll
    for (int mb = 0; mb < MB; mb++) {
        m_r[mb][0] = m_r[mb][1] = -INFINITY;
        l_r[mb][0] = l_r[mb][1] = 0.0f;
#pragma unroll
        for (int i = 0; i < D / 8; i++) o[mb][i][0] = o[mb][i][1] = o[mb][i][2] = o[mb][i][3] = 0.0f;
    }
    int wrow = warp * 16 * MB; /* first row of this warp in the block */

    for (int j = 0; j < nkt; j++) {
        if (j + 1 < nkt) { stage(j + 1); cp_commit(); cp_wait<1>(); }
        else cp_wait<0>();
        __syncthreads();
        if (j == 0) {
#pragma unroll
            for (int mb = 0; mb < MB; mb++)
#pragma unroll
                for (int kk = 0; kk < D / 16; kk++) frag_a<LD>(qf[mb][kk], sQ, wrow + 16 * mb, kk * 16, lane);
        }
        const T *cK = sK + (j & 1) * TILE * LD, *cV = sV + (j & 1) * TILE * LD;
        const uint8_t *cM = sM + (j & 1) * TILE;
        float sc[MB][8][4];
#pragma unroll
        for (int mb = 0; mb < MB; mb++)
#pragma unroll
            for (int nb = 0; nb < 8; nb++) sc[mb][nb][0] = sc[mb][nb][1] = sc[mb][nb][2] = sc[mb][nb][3] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++)
#pragma unroll
            for (int np = 0; np < 4; np++) {
                uint32_t bf[4];
                frag_b_nk<LD>(bf, cK, np * 16, kk * 16, lane);
#pragma unroll
                for (int mb = 0; mb < MB; mb++) {
                    mma16816<T>(sc[mb][2 * np], qf[mb][kk], bf[0], bf[1]);
                    mma16816<T>(sc[mb][2 * np + 1], qf[mb][kk], bf[2], bf[3]);
                }
            }
        int64_t k0 = (int64_t)j * TILE;
        /* only tiles on the diagonal, past the end or with a padding mask need per-element tests */
        const bool need = g.mask || k0 + TILE > g.T || (g.causal && k0 + TILE - 1 > q0);
        const int dlt = (int)(k0 - q0);
#pragma unroll
        for (int mb = 0; mb < MB; mb++) {
            int rq = wrow + 16 * mb + (lane >> 2);
            float mx[2] = { -INFINITY, -INFINITY };
#pragma unroll
            for (int nb = 0; nb < 8; nb++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    int col = nb * 8 + ((lane & 3) << 1) + (e & 1);
                    float x = sc[mb][nb][e] * sl2;
                    if (need) {
                        bool ok = cM[col] && (!g.causal || dlt + col <= rq + ((e >> 1) << 3));
                        x = ok ? x : -INFINITY;
                    }
                    sc[mb][nb][e] = x;
                    mx[e >> 1] = fmaxf(mx[e >> 1], x);
                }
            float mu[2], corr[2], ls[2] = { 0.0f, 0.0f };
#pragma unroll
            for (int r = 0; r < 2; r++) {
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
                float mn = fmaxf(m_r[mb][r], mx[r]);
                mu[r] = mn == -INFINITY ? 0.0f : mn;
                corr[r] = ex2(m_r[mb][r] - mu[r]);
                m_r[mb][r] = mn;
            }
#pragma unroll
            for (int nb = 0; nb < 8; nb++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    float p = ex2(sc[mb][nb][e] - mu[e >> 1]);
                    sc[mb][nb][e] = p;
                    ls[e >> 1] += p;
                }
#pragma unroll
            for (int r = 0; r < 2; r++) l_r[mb][r] = l_r[mb][r] * corr[r] + ls[r];
#pragma unroll
            for (int i = 0; i < D / 8; i++) {
                o[mb][i][0] *= corr[0]; o[mb][i][1] *= corr[0];
                o[mb][i][2] *= corr[1]; o[mb][i][3] *= corr[1];
            }
        }
        /* O += P V, each V fragment shared by the MB row blocks */
#pragma unroll
        for (int kk = 0; kk < 4; kk++) {
            uint32_t pa[MB][4];
#pragma unroll
            for (int mb = 0; mb < MB; mb++) {
                pa[mb][0] = pack2<T>(sc[mb][2 * kk][0], sc[mb][2 * kk][1]);
                pa[mb][1] = pack2<T>(sc[mb][2 * kk][2], sc[mb][2 * kk][3]);
                pa[mb][2] = pack2<T>(sc[mb][2 * kk + 1][0], sc[mb][2 * kk + 1][1]);
                pa[mb][3] = pack2<T>(sc[mb][2 * kk + 1][2], sc[mb][2 * kk + 1][3]);
            }
#pragma unroll
            for (int dn = 0; dn < D / 16; dn++) {
                uint32_t bf[4];
                frag_b_kn<LD>(bf, cV, kk * 16, dn * 16, lane);
#pragma unroll
                for (int mb = 0; mb < MB; mb++) {
                    mma16816<T>(o[mb][2 * dn], pa[mb], bf[0], bf[1]);
                    mma16816<T>(o[mb][2 * dn + 1], pa[mb], bf[2], bf[3]);
                }
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int mb = 0; mb < MB; mb++)
#pragma unroll
        for (int r = 0; r < 2; r++) {
            float l = l_r[mb][r];
            l += __shfl_xor_sync(0xffffffffu, l, 1);
            l += __shfl_xor_sync(0xffffffffu, l, 2);
            int64_t qi = q0 + wrow + 16 * mb + (lane >> 2) + 8 * r;
            float inv = l > 0.0f ? 1.0f / l : 0.0f;
            if (qi < g.T) {
                if ((lane & 3) == 0) lse[bh * g.T + qi] = l > 0.0f ? (m_r[mb][r] + log2f(l)) * LN2 : -INFINITY;
                T *orow = out + (b * g.T + qi) * g.C + h * D;
#pragma unroll
                for (int i = 0; i < D / 8; i++) {
                    int col = i * 8 + ((lane & 3) << 1);
                    *(uint32_t *)(orow + col) = pack2<T>(o[mb][i][2 * r] * inv, o[mb][i][2 * r + 1] * inv);
                }
            }
        }
}

/* Add a 16 x D fragment accumulator (rows row0 + lane/4 (+8)) into a strided bf16/f16 matrix. */
template <typename T, int D>
__device__ __forceinline__ void add_rows(T *base, int64_t rs, int64_t r_lo, int64_t nrows, const float acc[D / 8][4],
                                         float mul, int lane) {
#pragma unroll
    for (int r = 0; r < 2; r++) {
        int64_t row = r_lo + 8 * r;
        if (row >= nrows) continue;
        T *p = base + row * rs;
#pragma unroll
        for (int i = 0; i < D / 8; i++) {
            int col = i * 8 + ((lane & 3) << 1);
            float2 old = unpack2<T>(*(uint32_t *)(p + col));
            *(uint32_t *)(p + col) = pack2<T>(old.x + acc[i][2 * r] * mul, old.y + acc[i][2 * r + 1] * mul);
        }
    }
}

/* dK, dV for one key tile: S^T = K Q^T, P^T, dV += P^T dO, dP^T = V dO^T, dS^T, dK += dS^T Q. */
template <typename T, int D>
__global__ void __launch_bounds__(128) fa_bwd_kv_kernel(T *dk, T *dv, const T *q, const T *k, const T *v,
                                                        const T *dout, const float *lse, const float *di, att_geom g,
                                                        int nqt, int64_t dk_bs, int64_t dk_rs, int64_t dv_bs,
                                                        int64_t dv_rs) {
    extern __shared__ __align__(16) unsigned char smem[];
    const int LD = D + 8;
    const bool PRE = D <= 64;
    T *sK = (T *)smem, *sV = sK + TILE * LD, *sQ = sV + TILE * LD, *sO = sQ + 2 * TILE * LD;
    float *sL = (float *)(sO + 2 * TILE * LD), *sD = sL + 2 * TILE;
    uint8_t *sMk = (uint8_t *)(sD + 2 * TILE);
    int64_t BH = g.B * g.H, bh = blockIdx.x % BH, b = bh / g.H, h = bh % g.H;
    int kt = (int)(blockIdx.x / BH); /* causal: the first key tiles see the most queries */
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int64_t k0 = (int64_t)kt * TILE;
    const T *qg = q + b * g.q_bs + h * D, *kg = k + b * g.k_bs + h * D, *vg = v + b * g.v_bs + h * D;
    const T *og = dout + b * g.T * g.C + h * D;
    const uint8_t *mk = g.mask ? g.mask + b * g.T : NULL;
    int qt0 = g.causal ? kt : 0;

    auto stage = [&](int i) {
        int buf = i & 1;
        int64_t q0 = (int64_t)i * TILE;
        load_tile<T, D>(sQ + buf * TILE * LD, qg, g.q_rs, q0, g.T, tid);
        load_tile<T, D>(sO + buf * TILE * LD, og, g.C, q0, g.T, tid);
        for (int r = tid; r < TILE; r += 128) {
            int64_t qi = q0 + r;
            float l = qi < g.T ? lse[bh * g.T + qi] : -INFINITY;
            /* +inf makes exp2(s - lse) zero: padding rows and fully masked queries add nothing */
            sL[buf * TILE + r] = l == -INFINITY ? INFINITY : l * LOG2E;
            sD[buf * TILE + r] = qi < g.T ? di[bh * g.T + qi] : 0.0f;
        }
    };
    load_tile<T, D>(sK, kg, g.k_rs, k0, g.T, tid);
    load_tile<T, D>(sV, vg, g.v_rs, k0, g.T, tid);
    for (int r = tid; r < TILE; r += 128) {
        int64_t key = k0 + r;
        sMk[r] = key < g.T ? (mk ? (mk[key] != 0) : 1) : 0;
    }
    if (qt0 < nqt) stage(qt0);
    cp_commit();

    const float sl2 = g.scale * LOG2E;
    float gk[D / 8][4], gv[D / 8][4];
#pragma unroll
    for (int i = 0; i < D / 8; i++)
#pragma unroll
        for (int e = 0; e < 4; e++) gk[i][e] = gv[i][e] = 0.0f;
    uint32_t kf[PRE ? D / 16 : 1][4], vf[PRE ? D / 16 : 1][4];
    int rlo = warp * 16 + (lane >> 2);

    for (int i = qt0; i < nqt; i++) {
        if (i + 1 < nqt) { stage(i + 1); cp_commit(); cp_wait<1>(); }
        else cp_wait<0>();
        __syncthreads();
        if (PRE && i == qt0) {
#pragma unroll
            for (int kk = 0; kk < (PRE ? D / 16 : 1); kk++) {
                frag_a<LD>(kf[kk], sK, warp * 16, kk * 16, lane);
                frag_a<LD>(vf[kk], sV, warp * 16, kk * 16, lane);
            }
        }
        const T *cQ = sQ + (i & 1) * TILE * LD, *cO = sO + (i & 1) * TILE * LD;
        const float *cL = sL + (i & 1) * TILE, *cD = sD + (i & 1) * TILE;
        int64_t q0 = (int64_t)i * TILE;
        float st[8][4], dp[8][4];
        mm_rows_x_tileT<T, D, PRE>(st, kf, sK, warp * 16, cQ, lane);
        const bool need = g.mask || k0 + TILE > g.T || (g.causal && k0 + TILE - 1 > q0);
        const int dlt = (int)(k0 - q0);
#pragma unroll
        for (int nb = 0; nb < 8; nb++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int col = nb * 8 + ((lane & 3) << 1) + (e & 1);
                float p = ex2(st[nb][e] * sl2 - cL[col]);
                if (need) {
                    int row = rlo + ((e >> 1) << 3);
                    bool ok = sMk[row] && (!g.causal || dlt + row <= col);
                    p = ok ? p : 0.0f;
                }
                st[nb][e] = p;
            }
        mm_p_x_tile<T, D>(gv, st, cO, lane);
        mm_rows_x_tileT<T, D, PRE>(dp, vf, sV, warp * 16, cO, lane);
#pragma unroll
        for (int nb = 0; nb < 8; nb++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int col = nb * 8 + ((lane & 3) << 1) + (e & 1);
                st[nb][e] = st[nb][e] * (dp[nb][e] - cD[col]);
            }
        mm_p_x_tile<T, D>(gk, st, cQ, lane);
        __syncthreads();
    }
    if (dk) add_rows<T, D>(dk + b * dk_bs + h * D, dk_rs, k0 + rlo, g.T, gk, g.scale, lane);
    if (dv) add_rows<T, D>(dv + b * dv_bs + h * D, dv_rs, k0 + rlo, g.T, gv, 1.0f, lane);
}

/* dQ for one query tile: S = Q K^T, P, dP = dO V^T, dS, dQ += dS K. */
template <typename T, int D>
__global__ void __launch_bounds__(128) fa_bwd_q_kernel(T *dq, const T *q, const T *k, const T *v, const T *dout,
                                                       const float *lse, const float *di, att_geom g, int nqt,
                                                       int64_t dq_bs, int64_t dq_rs) {
    extern __shared__ __align__(16) unsigned char smem[];
    const int LD = D + 8;
    const bool PRE = D <= 64;
    T *sQ = (T *)smem, *sO = sQ + TILE * LD, *sK = sO + TILE * LD, *sV = sK + 2 * TILE * LD;
    uint8_t *sM = (uint8_t *)(sV + 2 * TILE * LD);
    int64_t BH = g.B * g.H, bh = blockIdx.x % BH, b = bh / g.H, h = bh % g.H;
    int qt = nqt - 1 - (int)(blockIdx.x / BH);
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int64_t q0 = (int64_t)qt * TILE;
    const T *qg = q + b * g.q_bs + h * D, *kg = k + b * g.k_bs + h * D, *vg = v + b * g.v_bs + h * D;
    const T *og = dout + b * g.T * g.C + h * D;
    const uint8_t *mk = g.mask ? g.mask + b * g.T : NULL;
    int nkt = (int)((g.T + TILE - 1) / TILE);
    if (g.causal && nkt > qt + 1) nkt = qt + 1;

    auto stage = [&](int j) {
        int buf = j & 1;
        int64_t kk0 = (int64_t)j * TILE;
        load_tile<T, D>(sK + buf * TILE * LD, kg, g.k_rs, kk0, g.T, tid);
        load_tile<T, D>(sV + buf * TILE * LD, vg, g.v_rs, kk0, g.T, tid);
        for (int i = tid; i < TILE; i += 128) {
            int64_t key = kk0 + i;
            sM[buf * TILE + i] = key < g.T ? (mk ? (mk[key] != 0) : 1) : 0;
        }
    };
    load_tile<T, D>(sQ, qg, g.q_rs, q0, g.T, tid);
    load_tile<T, D>(sO, og, g.C, q0, g.T, tid);
    stage(0);
    cp_commit();

    const float sl2 = g.scale * LOG2E;
    int rlo = warp * 16 + (lane >> 2);
    float l2[2], dd[2];
#pragma unroll
    for (int r = 0; r < 2; r++) {
        int64_t qi = q0 + rlo + 8 * r;
        float l = qi < g.T ? lse[bh * g.T + qi] : -INFINITY;
        l2[r] = l == -INFINITY ? INFINITY : l * LOG2E;
        dd[r] = qi < g.T ? di[bh * g.T + qi] : 0.0f;
    }
    float gq[D / 8][4];
#pragma unroll
    for (int i = 0; i < D / 8; i++) gq[i][0] = gq[i][1] = gq[i][2] = gq[i][3] = 0.0f;
    uint32_t qf[PRE ? D / 16 : 1][4], of[PRE ? D / 16 : 1][4];

    for (int j = 0; j < nkt; j++) {
        if (j + 1 < nkt) { stage(j + 1); cp_commit(); cp_wait<1>(); }
        else cp_wait<0>();
        __syncthreads();
        if (PRE && j == 0) {
#pragma unroll
            for (int kk = 0; kk < (PRE ? D / 16 : 1); kk++) {
                frag_a<LD>(qf[kk], sQ, warp * 16, kk * 16, lane);
                frag_a<LD>(of[kk], sO, warp * 16, kk * 16, lane);
            }
        }
        const T *cK = sK + (j & 1) * TILE * LD, *cV = sV + (j & 1) * TILE * LD;
        const uint8_t *cM = sM + (j & 1) * TILE;
        int64_t k0 = (int64_t)j * TILE;
        float sc[8][4], dp[8][4];
        mm_rows_x_tileT<T, D, PRE>(sc, qf, sQ, warp * 16, cK, lane);
        mm_rows_x_tileT<T, D, PRE>(dp, of, sO, warp * 16, cV, lane);
        const bool need = g.mask || k0 + TILE > g.T || (g.causal && k0 + TILE - 1 > q0);
        const int dlt = (int)(k0 - q0);
#pragma unroll
        for (int nb = 0; nb < 8; nb++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int col = nb * 8 + ((lane & 3) << 1) + (e & 1);
                int r = e >> 1;
                float p = ex2(sc[nb][e] * sl2 - l2[r]);
                if (need) {
                    bool ok = cM[col] && (!g.causal || dlt + col <= rlo + 8 * r);
                    p = ok ? p : 0.0f;
                }
                sc[nb][e] = p * (dp[nb][e] - dd[r]);
            }
        mm_p_x_tile<T, D>(gq, sc, cK, lane);
        __syncthreads();
    }
    if (dq) add_rows<T, D>(dq + b * dq_bs + h * D, dq_rs, q0 + rlo, g.T, gq, g.scale, lane);
}

/* ============================================================ dispatch */

static size_t fa_fwd_smem(int D, int MB) { return (size_t)(4 + MB) * TILE * (D + 8) * 2 + 2 * TILE; }
static size_t fa_bwd_kv_smem(int D) { return (size_t)6 * TILE * (D + 8) * 2 + 4 * TILE * sizeof(float) + TILE; }
static size_t fa_bwd_q_smem(int D) { return (size_t)6 * TILE * (D + 8) * 2 + 2 * TILE; }

/* Raise a kernel's dynamic shared-memory limit once (idempotent, so a race is harmless). */
template <typename K>
static sl_status smem_limit(K kernel, size_t bytes, bool *done) {
    if (*done) return SL_OK;
    CU_TRY(cu_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes),
                    "attention: raising the shared-memory limit"));
    *done = true;
    return SL_OK;
}

static sl_status geom(const sl_tensor *q, const sl_tensor *k, const sl_tensor *v, const sl_tensor *mask,
                      const sl_attention_opts *o, att_geom *g) {
    const sl_tensor *ts[3] = { q, k, v };
    int64_t es = (int64_t)sl_dtype_size(q->dtype);
    for (int i = 0; i < 3; i++)
        if (ts[i]->strides[0] % es || ts[i]->strides[1] % es)
            return sl_set_error(SL_ERR_UNSUPPORTED, "attention: strides must be whole elements");
    g->B = q->shape[0];
    g->T = q->shape[1];
    g->C = q->shape[2];
    g->H = o->n_head;
    g->D = g->C / g->H;
    g->q_bs = q->strides[0] / es; g->q_rs = q->strides[1] / es;
    g->k_bs = k->strides[0] / es; g->k_rs = k->strides[1] / es;
    g->v_bs = v->strides[0] / es; g->v_rs = v->strides[1] / es;
    g->scale = o->scale;
    g->causal = o->causal;
    g->mask = mask ? (const uint8_t *)mask->data : NULL;
    return SL_OK;
}

/* SCILOOP_CUDA_ATTENTION=scalar forces the scalar kernels, =br128 the 128-row forward blocks
 * at head dim 64 (two row blocks per warp; measured slower on H100: 255 registers). For
 * comparison and debugging; read once. */
static int attention_mode(void) {
    static int cached = -1;
    if (cached < 0) {
        const char *e = getenv("SCILOOP_CUDA_ATTENTION");
        cached = e && !strcasecmp(e, "scalar") ? 1 : e && !strcasecmp(e, "br128") ? 2 : 0;
    }
    return cached;
}

static bool tensor_cores_allowed(void) { return attention_mode() != 1; }

static bool rows_ok(const void *p, int64_t bs, int64_t rs, int64_t align_elems, size_t align_bytes) {
    return cu_aligned(p, align_bytes) && bs % align_elems == 0 && rs % align_elems == 0;
}

/* Whether the tensor-core kernels serve this call. */
static bool use_tc(const att_geom &g, sl_dtype dt, const sl_tensor *q, const sl_tensor *k, const sl_tensor *v) {
    if (!tensor_cores_allowed() || (dt != SL_BF16 && dt != SL_F16) || (g.D != 64 && g.D != 128)) return false;
    if (g.C % 8) return false;
    return rows_ok(q->data, g.q_bs, g.q_rs, 8, 16) && rows_ok(k->data, g.k_bs, g.k_rs, 8, 16) &&
           rows_ok(v->data, g.v_bs, g.v_rs, 8, 16);
}

static int dmax_for(int64_t D) { return D <= 64 ? 64 : D <= 128 ? 128 : D <= 256 ? 256 : 0; }

sl_status cu_attention(sli_stream *s, sl_tensor *out, sl_tensor *lse, const sl_tensor *q, const sl_tensor *k,
                       const sl_tensor *v, const sl_tensor *mask, const sl_attention_opts *o) {
    att_geom g;
    CU_TRY(geom(q, k, v, mask, o, &g));
    if (g.B * g.T == 0) return SL_OK;
    int64_t BH = g.B * g.H;
    if (use_tc(g, q->dtype, q, k, v) && out->data && cu_aligned(out->data, 4)) {
        /* one 16-row block per warp (Br = 64) unless asked for two at head dim 64 */
        int MBr = g.D == 64 && attention_mode() == 2 ? 2 : 1;
        int nqt = (int)((g.T + TILE * MBr - 1) / (TILE * MBr));
        if ((int64_t)nqt * BH > INT_MAX) return sl_set_error(SL_ERR_UNSUPPORTED, "attention: grid too large");
        unsigned grid = (unsigned)(nqt * BH);
        size_t sm = fa_fwd_smem((int)g.D, MBr);
#define FA_FWD(TT, DD, MM) do { static bool done; CU_TRY(smem_limit(fa_fwd_kernel<TT, DD, MM>, sm, &done)); \
        fa_fwd_kernel<TT, DD, MM><<<grid, 128, sm, s->stream>>>((TT *)out->data, (float *)lse->data, \
            (const TT *)q->data, (const TT *)k->data, (const TT *)v->data, g, nqt); } while (0)
        if (q->dtype == SL_BF16) {
            if (g.D == 64 && MBr == 2) FA_FWD(__nv_bfloat16, 64, 2);
            else if (g.D == 64) FA_FWD(__nv_bfloat16, 64, 1);
            else FA_FWD(__nv_bfloat16, 128, 1);
        } else {
            if (g.D == 64 && MBr == 2) FA_FWD(__half, 64, 2);
            else if (g.D == 64) FA_FWD(__half, 64, 1);
            else FA_FWD(__half, 128, 1);
        }
#undef FA_FWD
        return cu_launched("attention");
    }
    int dmax = dmax_for(g.D);
    if (!dmax) return sl_set_error(SL_ERR_UNSUPPORTED, "attention: head dimension %lld > 256 on cuda", (long long)g.D);
    if (BH > 65535) return sl_set_error(SL_ERR_UNSUPPORTED, "attention: B*H > 65535 on the scalar path");
    dim3 grid((unsigned)((g.T + SCALAR_BLOCK - 1) / SCALAR_BLOCK), (unsigned)BH);
    CU_FLOAT_SWITCH(q->dtype, "attention", TT, {
        const TT *qp = (const TT *)q->data, *kp = (const TT *)k->data, *vp = (const TT *)v->data;
        TT *op = (TT *)out->data;
        float *lp = (float *)lse->data;
        switch (dmax) {
        case 64: att_fwd_scalar<TT, 64, 16><<<grid, SCALAR_BLOCK, 0, s->stream>>>(op, lp, qp, kp, vp, g); break;
        case 128: att_fwd_scalar<TT, 128, 16><<<grid, SCALAR_BLOCK, 0, s->stream>>>(op, lp, qp, kp, vp, g); break;
        default: att_fwd_scalar<TT, 256, 8><<<grid, SCALAR_BLOCK, 0, s->stream>>>(op, lp, qp, kp, vp, g); break;
        }
    })
    return cu_launched("attention");
}

template <typename TT, int DM, int KT>
static void scalar_bwd(sli_stream *s, dim3 grid, sl_tensor *dq, sl_tensor *dk, sl_tensor *dv, const sl_tensor *dout,
                       const sl_tensor *q, const sl_tensor *k, const sl_tensor *v, const sl_tensor *lse,
                       const float *di, const att_geom &g, const int64_t *bs, const int64_t *rs) {
    const TT *qp = (const TT *)q->data, *kp = (const TT *)k->data, *vp = (const TT *)v->data,
             *op = (const TT *)dout->data;
    const float *lp = (const float *)lse->data;
    if (dk || dv)
        att_bwd_kv_scalar<TT, DM, KT><<<grid, SCALAR_BLOCK, 0, s->stream>>>(
            dk ? (TT *)dk->data : NULL, dv ? (TT *)dv->data : NULL, qp, kp, vp, op, lp, di, g, bs[1], rs[1], bs[2],
            rs[2]);
    if (dq)
        att_bwd_q_scalar<TT, DM, KT><<<grid, SCALAR_BLOCK, 0, s->stream>>>((TT *)dq->data, qp, kp, vp, op, lp, di, g,
                                                                          bs[0], rs[0]);
}

sl_status cu_attention_backward(sli_stream *s, sl_tensor *dq, sl_tensor *dk, sl_tensor *dv, const sl_tensor *dout,
                                const sl_tensor *q, const sl_tensor *k, const sl_tensor *v, const sl_tensor *mask,
                                const sl_tensor *out, const sl_tensor *lse, const sl_attention_opts *o) {
    att_geom g;
    CU_TRY(geom(q, k, v, mask, o, &g));
    if (g.B * g.T == 0) return SL_OK;
    int64_t es = (int64_t)sl_dtype_size(q->dtype), BH = g.B * g.H;
    sl_tensor *gs[3] = { dq, dk, dv };
    int64_t bs[3] = { 0, 0, 0 }, rs[3] = { 0, 0, 0 };
    bool grads_tc = true;
    for (int i = 0; i < 3; i++) {
        if (!gs[i]) continue;
        if (gs[i]->strides[0] % es || gs[i]->strides[1] % es)
            return sl_set_error(SL_ERR_UNSUPPORTED, "attention_backward: strides must be whole elements");
        bs[i] = gs[i]->strides[0] / es;
        rs[i] = gs[i]->strides[1] / es;
        if (!rows_ok(gs[i]->data, bs[i], rs[i], 2, 4)) grads_tc = false;
    }
    float *di = (float *)cu_scratch(s, (size_t)(BH * g.T) * sizeof(float));
    if (!di) return SL_ERR_NOMEM;
    CU_FLOAT_SWITCH(q->dtype, "attention_backward", TT, {
        att_di_kernel<TT><<<cu_blocks(BH * g.T, 256, (int64_t)s->sm_count * 16), 256, 0, s->stream>>>(
            di, (const TT *)dout->data, (const TT *)out->data, g.B, g.T, g.H, g.D);
    })
    CU_TRY(cu_launched("attention_backward"));
    bool tc = use_tc(g, q->dtype, q, k, v) && grads_tc && rows_ok(dout->data, 0, g.C, 8, 16);
    if (tc) {
        int nt = (int)((g.T + TILE - 1) / TILE);
        if ((int64_t)nt * BH > INT_MAX) return sl_set_error(SL_ERR_UNSUPPORTED, "attention_backward: grid too large");
        unsigned grid = (unsigned)(nt * BH);
        size_t smkv = fa_bwd_kv_smem((int)g.D), smq = fa_bwd_q_smem((int)g.D);
#define FA_BWD(TT, DD) do { \
        const TT *qp = (const TT *)q->data, *kp = (const TT *)k->data, *vp = (const TT *)v->data, \
                 *op = (const TT *)dout->data; \
        const float *lp = (const float *)lse->data; \
        if (dk || dv) { static bool done; CU_TRY(smem_limit(fa_bwd_kv_kernel<TT, DD>, smkv, &done)); \
            fa_bwd_kv_kernel<TT, DD><<<grid, 128, smkv, s->stream>>>(dk ? (TT *)dk->data : NULL, \
                dv ? (TT *)dv->data : NULL, qp, kp, vp, op, lp, di, g, nt, bs[1], rs[1], bs[2], rs[2]); } \
        if (dq) { static bool done; CU_TRY(smem_limit(fa_bwd_q_kernel<TT, DD>, smq, &done)); \
            fa_bwd_q_kernel<TT, DD><<<grid, 128, smq, s->stream>>>((TT *)dq->data, qp, kp, vp, op, lp, di, g, nt, \
                                                                   bs[0], rs[0]); } } while (0)
        if (q->dtype == SL_BF16) { if (g.D == 64) FA_BWD(__nv_bfloat16, 64); else FA_BWD(__nv_bfloat16, 128); }
        else { if (g.D == 64) FA_BWD(__half, 64); else FA_BWD(__half, 128); }
#undef FA_BWD
        return cu_launched("attention_backward");
    }
    int dmax = dmax_for(g.D);
    if (!dmax)
        return sl_set_error(SL_ERR_UNSUPPORTED, "attention_backward: head dimension %lld > 256 on cuda",
                            (long long)g.D);
    if (BH > 65535) return sl_set_error(SL_ERR_UNSUPPORTED, "attention_backward: B*H > 65535 on the scalar path");
    dim3 grid((unsigned)((g.T + SCALAR_BLOCK - 1) / SCALAR_BLOCK), (unsigned)BH);
    CU_FLOAT_SWITCH(q->dtype, "attention_backward", TT, {
        switch (dmax) {
        case 64: scalar_bwd<TT, 64, 16>(s, grid, dq, dk, dv, dout, q, k, v, lse, di, g, bs, rs); break;
        case 128: scalar_bwd<TT, 128, 8>(s, grid, dq, dk, dv, dout, q, k, v, lse, di, g, bs, rs); break;
        default: scalar_bwd<TT, 256, 8>(s, grid, dq, dk, dv, dout, q, k, v, lse, di, g, bs, rs); break;
        }
    })
    return cu_launched("attention_backward");
}
