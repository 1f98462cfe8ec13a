/* cuda_ops.cu — CUDA kernels of every op but matmul and attention: elementwise, LayerNorm, softmax, embedding, cross-entropy, reductions, AdamW, norms. */
#include "cuda_internal.cuh"

#include <cub/cub.cuh>
#include <math.h>
#include <limits.h>
#include <stdlib.h>

/* Every reduction below runs in a fixed order that depends only on the shapes (fixed row
 * chunks, fixed block trees, no atomics), so results are bit-identical from run to run
 * whether or not the context asked for deterministic mode. */

#define ROW_CHUNK 256   /* rows per partial in column reductions */

static inline unsigned grid_for(sli_stream *s, int64_t n, int threads) {
    return cu_blocks(n, threads, (int64_t)s->sm_count * 32);
}

/* ============================================================ elementwise map
 * y[i] = op(a[i], b[i], y[i]) with 16-byte vector accesses where the pointers allow. */

/* V adjacent elements moved as one access (V * sizeof(T) bytes, at most 16). */
template <typename T, int V> struct alignas(sizeof(T) * V) cu_vec { T v[V]; };

template <typename T, int V, typename Op>
__global__ void map_kernel(T *__restrict__ y, const T *__restrict__ a, const T *__restrict__ b, int64_t n, Op op) {
    int64_t nv = n / V;
    int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < nv; i += stride) {
        cu_vec<T, V> va, vb, vy;
        if (Op::A) va = ((const cu_vec<T, V> *)a)[i];
        if (Op::B) vb = ((const cu_vec<T, V> *)b)[i];
        if (Op::Y) vy = ((const cu_vec<T, V> *)y)[i];
#pragma unroll
        for (int j = 0; j < V; j++)
            vy.v[j] = cu_fromf<T>(op(Op::A ? cu_tof(va.v[j]) : 0.0f, Op::B ? cu_tof(vb.v[j]) : 0.0f,
                                     Op::Y ? cu_tof(vy.v[j]) : 0.0f));
        ((cu_vec<T, V> *)y)[i] = vy;
    }
    for (int64_t i = nv * V + blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += stride)
        y[i] = cu_fromf<T>(op(Op::A ? cu_tof(a[i]) : 0.0f, Op::B ? cu_tof(b[i]) : 0.0f, Op::Y ? cu_tof(y[i]) : 0.0f));
}

template <typename T, typename Op>
static sl_status map_launch(sli_stream *s, T *y, const T *a, const T *b, int64_t n, Op op, const char *name) {
    if (n == 0) return SL_OK;
    const int V = 16 / (int)sizeof(T);
    bool vec = cu_aligned(y, 16) && (!Op::A || cu_aligned(a, 16)) && (!Op::B || cu_aligned(b, 16));
    if (vec) map_kernel<T, V, Op><<<grid_for(s, n / V + 1, 256), 256, 0, s->stream>>>(y, a, b, n, op);
    else map_kernel<T, 1, Op><<<grid_for(s, n, 256), 256, 0, s->stream>>>(y, a, b, n, op);
    return cu_launched(name);
}

struct op_add { static const bool A = true, B = true, Y = false;
    __device__ float operator()(float a, float b, float) const { return a + b; } };
struct op_axpby { static const bool A = true, B = false, Y = true; float al, be;
    __device__ float operator()(float x, float, float y) const { return al * x + be * y; } };
struct op_axpy0 { static const bool A = true, B = false, Y = false; float al;   /* beta == 0: old y ignored */
    __device__ float operator()(float x, float, float) const { return al * x; } };
struct op_acc { static const bool A = true, B = false, Y = true;
    __device__ float operator()(float x, float, float y) const { return y + x; } };
struct op_scale { static const bool A = false, B = false, Y = true; float al;
    __device__ float operator()(float, float, float y) const { return y * al; } };

#define GELU_K 0.7978845608028654f
#define GELU_C 0.044715f
#define INV_SQRT_2PI 0.3989422804014327f

struct op_gelu_erf { static const bool A = true, B = false, Y = false;
    __device__ float operator()(float x, float, float) const { return x * normcdff(x); } };
struct op_gelu_tanh { static const bool A = true, B = false, Y = false;
    __device__ float operator()(float x, float, float) const {
        float u = GELU_K * (x + GELU_C * x * x * x);
        return x / (1.0f + expf(-2.0f * u)); /* 0.5 x (1 + tanh u) without cancellation */
    } };
struct op_gelu_erf_bwd { static const bool A = true, B = true, Y = true;   /* a = inp, b = dout */
    __device__ float operator()(float x, float dy, float acc) const {
        float g = normcdff(x) + x * INV_SQRT_2PI * expf(-0.5f * x * x);
        return acc + dy * g;
    } };
struct op_gelu_tanh_bwd { static const bool A = true, B = true, Y = true;
    __device__ float operator()(float x, float dy, float acc) const {
        float u = GELU_K * (x + GELU_C * x * x * x);
        float sg = 1.0f / (1.0f + expf(-2.0f * u));
        float du = GELU_K * (1.0f + 3.0f * GELU_C * x * x);
        float g = sg + x * 2.0f * sg * (1.0f - sg) * du;
        return acc + dy * g;
    } };

sl_status cu_add(sli_stream *s, sl_tensor *out, const sl_tensor *a, const sl_tensor *b) {
    int64_t n = sl_tensor_numel(a);
    CU_FLOAT_SWITCH(a->dtype, "add", T,
        return map_launch<T>(s, (T *)out->data, (const T *)a->data, (const T *)b->data, n, op_add(), "add");)
    return SL_OK;
}

sl_status cu_axpby(sli_stream *s, sl_tensor *y, float alpha, const sl_tensor *x, float beta) {
    int64_t n = sl_tensor_numel(x);
    CU_FLOAT_SWITCH(x->dtype, "axpby", T, {
        if (beta == 0.0f) {
            op_axpy0 o; o.al = alpha;
            return map_launch<T>(s, (T *)y->data, (const T *)x->data, (const T *)NULL, n, o, "axpby");
        }
        if (alpha == 1.0f && beta == 1.0f)
            return map_launch<T>(s, (T *)y->data, (const T *)x->data, (const T *)NULL, n, op_acc(), "axpby");
        op_axpby o; o.al = alpha; o.be = beta;
        return map_launch<T>(s, (T *)y->data, (const T *)x->data, (const T *)NULL, n, o, "axpby");
    })
    return SL_OK;
}

sl_status cu_scale(sli_stream *s, sl_tensor *t, float alpha) {
    int64_t n = sl_tensor_numel(t);
    CU_FLOAT_SWITCH(t->dtype, "scale", T, {
        op_scale o; o.al = alpha;
        return map_launch<T>(s, (T *)t->data, (const T *)NULL, (const T *)NULL, n, o, "scale");
    })
    return SL_OK;
}

sl_status cu_gelu(sli_stream *s, sl_tensor *out, const sl_tensor *inp, sl_gelu_kind kind) {
    int64_t n = sl_tensor_numel(inp);
    CU_FLOAT_SWITCH(inp->dtype, "gelu", T, {
        if (kind == SL_GELU_ERF)
            return map_launch<T>(s, (T *)out->data, (const T *)inp->data, (const T *)NULL, n, op_gelu_erf(), "gelu");
        return map_launch<T>(s, (T *)out->data, (const T *)inp->data, (const T *)NULL, n, op_gelu_tanh(), "gelu");
    })
    return SL_OK;
}

sl_status cu_gelu_backward(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *inp,
                           sl_gelu_kind kind) {
    int64_t n = sl_tensor_numel(inp);
    CU_FLOAT_SWITCH(inp->dtype, "gelu_backward", T, {
        if (kind == SL_GELU_ERF)
            return map_launch<T>(s, (T *)dinp->data, (const T *)inp->data, (const T *)dout->data, n,
                                 op_gelu_erf_bwd(), "gelu_backward");
        return map_launch<T>(s, (T *)dinp->data, (const T *)inp->data, (const T *)dout->data, n, op_gelu_tanh_bwd(),
                             "gelu_backward");
    })
    return SL_OK;
}

/* ============================================================ bias */

template <typename T>
__global__ void bias_add_kernel(T *out, const T *inp, const T *bias, int64_t n, int64_t C) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = cu_fromf<T>(cu_tof(inp[i]) + cu_tof(bias[i % C]));
}

sl_status cu_bias_add(sli_stream *s, sl_tensor *out, const sl_tensor *inp, const sl_tensor *bias) {
    int64_t n = sl_tensor_numel(inp), C = inp->shape[1];
    if (!n) return SL_OK;
    CU_FLOAT_SWITCH(inp->dtype, "bias_add", T, {
        bias_add_kernel<T><<<grid_for(s, n, 256), 256, 0, s->stream>>>((T *)out->data, (const T *)inp->data,
                                                                       (const T *)bias->data, n, C);
    })
    return cu_launched("bias_add");
}

/* Rows per partial: ROW_CHUNK, doubled until the chunks fit in a grid's y extent. Depends on
 * the row count only, so the summation order is fixed. */
static int64_t rows_per_chunk(int64_t rows) {
    int64_t rpc = ROW_CHUNK;
    while ((rows + rpc - 1) / rpc > 65535) rpc *= 2;
    return rpc;
}

/* Column partial sums: block (32 column lanes x 8 row lanes) per (column tile, chunk of rpc
 * rows); each lane owns CPT adjacent columns, so a warp reads 128 contiguous bytes per row.
 * MODE 0: partial[chunk][c] = sum x. MODE 1 (LayerNorm weight/bias grads):
 * partial[chunk][c] = sum dy * (x - mean) * rstd and partial[chunk][C + c] = sum dy. */
template <typename T, int MODE, int CPT>
__global__ void colpartial_kernel(float *partial, const T *x, const T *dy, const float *mean, const float *rstd,
                                  int64_t rows, int64_t C, int64_t rpc) {
    __shared__ float sh[2][8][32 * CPT + 1];
    int tx = threadIdx.x, ty = threadIdx.y;
    int64_t c0 = (blockIdx.x * 32 + tx) * CPT, chunk = blockIdx.y;
    int64_t r0 = chunk * rpc, r1 = r0 + rpc < rows ? r0 + rpc : rows;
    float a0[CPT], a1[CPT];
#pragma unroll
    for (int j = 0; j < CPT; j++) a0[j] = a1[j] = 0.0f;
    if (c0 < C) {
#pragma unroll 4
        for (int64_t r = r0 + ty; r < r1; r += 8) {
            cu_vec<T, CPT> xv = *(const cu_vec<T, CPT> *)(x + r * C + c0);
            if (MODE == 0) {
#pragma unroll
                for (int j = 0; j < CPT; j++) a0[j] += cu_tof(xv.v[j]);
            } else {
                cu_vec<T, CPT> gv = *(const cu_vec<T, CPT> *)(dy + r * C + c0);
                float m = mean[r], rs = rstd[r];
#pragma unroll
                for (int j = 0; j < CPT; j++) {
                    float g = cu_tof(gv.v[j]);
                    a0[j] += g * ((cu_tof(xv.v[j]) - m) * rs);
                    a1[j] += g;
                }
            }
        }
    }
#pragma unroll
    for (int j = 0; j < CPT; j++) {
        sh[0][ty][tx * CPT + j] = a0[j];
        sh[1][ty][tx * CPT + j] = a1[j];
    }
    __syncthreads();
    /* fixed-order sum over the 8 row lanes, one column per thread of the first 32*CPT */
    int lin = ty * 32 + tx;
    if (lin < 32 * CPT) {
        int64_t c = blockIdx.x * 32 * CPT + lin;
        if (c < C) {
            float s0 = 0, s1 = 0;
            for (int k = 0; k < 8; k++) { s0 += sh[0][k][lin]; s1 += sh[1][k][lin]; }
            partial[chunk * (MODE ? 2 * C : C) + c] = s0;
            if (MODE) partial[chunk * 2 * C + C + c] = s1;
        }
    }
}

/* Launch the column partials with 4-byte (or wider) accesses where the layout allows. */
template <typename T, int MODE>
static void colpartial_launch(sli_stream *s, float *partial, const T *x, const T *dy, const float *mean,
                              const float *rstd, int64_t rows, int64_t C, int64_t rpc, int64_t nch) {
    const int W = sizeof(T) == 2 ? 2 : 1;
    bool wide = W > 1 && C % W == 0 && cu_aligned(x, 4) && (!dy || cu_aligned(dy, 4));
    dim3 block(32, 8);
    if (wide) {
        dim3 grid((unsigned)((C + 32 * W - 1) / (32 * W)), (unsigned)nch);
        colpartial_kernel<T, MODE, W><<<grid, block, 0, s->stream>>>(partial, x, dy, mean, rstd, rows, C, rpc);
    } else {
        dim3 grid((unsigned)((C + 31) / 32), (unsigned)nch);
        colpartial_kernel<T, MODE, 1><<<grid, block, 0, s->stream>>>(partial, x, dy, mean, rstd, rows, C, rpc);
    }
}

/* dst[c] += sum over chunks of partial[chunk][off + c], in chunk order. */
template <typename T>
__global__ void colfinish_kernel(T *dst, const float *partial, int64_t nch, int64_t width, int64_t off, int64_t C) {
    int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (c >= C || !dst) return;
    float acc = 0;
    for (int64_t ch = 0; ch < nch; ch++) acc += partial[ch * width + off + c];
    dst[c] = cu_fromf<T>(cu_tof(dst[c]) + acc);
}

sl_status cu_colsum_acc(sli_stream *s, void *dst, const void *x, sl_dtype dt, int64_t rows, int64_t C) {
    int64_t rpc = rows_per_chunk(rows), nch = (rows + rpc - 1) / rpc;
    if (!nch || !C) return SL_OK;
    float *partial = (float *)cu_scratch(s, (size_t)(nch * C) * sizeof(float));
    if (!partial) return SL_ERR_NOMEM;
    CU_FLOAT_SWITCH(dt, "bias gradient", T, {
        colpartial_launch<T, 0>(s, partial, (const T *)x, (const T *)NULL, NULL, NULL, rows, C, rpc, nch);
        colfinish_kernel<T><<<cu_blocks(C, 256, 1 << 30), 256, 0, s->stream>>>((T *)dst, partial, nch, C, 0, C);
    })
    return cu_launched("bias gradient");
}

sl_status cu_bias_add_backward(sli_stream *s, sl_tensor *dinp, sl_tensor *dbias, const sl_tensor *dout) {
    if (dinp) CU_TRY(cu_axpby(s, dinp, 1.0f, dout, 1.0f));
    if (dbias) return cu_colsum_acc(s, dbias->data, dout->data, dout->dtype, dout->shape[0], dout->shape[1]);
    return SL_OK;
}

/* ============================================================ LayerNorm */

/* One warp per row; two passes (mean, then centred variance) as the CPU does. */
template <typename T>
__global__ void ln_fwd_kernel(T *out, float *mean, float *rstd, const T *inp, const T *w, const T *b, int64_t N,
                              int64_t C, float eps) {
    int64_t row = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x & 31;
    if (row >= N) return;
    const T *x = inp + row * C;
    float sum = 0;
    for (int64_t c = lane; c < C; c += 32) sum += cu_tof(x[c]);
    float m = cu_warp_sum(sum) / (float)C;
    float var = 0;
    for (int64_t c = lane; c < C; c += 32) { float d = cu_tof(x[c]) - m; var += d * d; }
    float rs = rsqrtf(cu_warp_sum(var) / (float)C + eps);
    T *o = out + row * C;
    for (int64_t c = lane; c < C; c += 32) {
        float y = (cu_tof(x[c]) - m) * rs;
        if (w) y *= cu_tof(w[c]);
        if (b) y += cu_tof(b[c]);
        o[c] = cu_fromf<T>(y);
    }
    if (lane == 0) {
        if (mean) mean[row] = m;
        if (rstd) rstd[row] = rs;
    }
}

/* The same with the row held in registers and 16-byte accesses: C = 32 * V * NV exactly
 * (768 in bf16 is NV = 3), one warp per row, one read of x. */
template <typename T, int NV>
__global__ void ln_fwd_vec_kernel(T *out, float *mean, float *rstd, const T *inp, const T *w, const T *b, int64_t N,
                                  float eps) {
    const int V = 16 / (int)sizeof(T), C = 32 * V * NV;
    int64_t row = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x & 31;
    if (row >= N) return;
    const cu_vec<T, V> *x = (const cu_vec<T, V> *)(inp + row * C);
    float v[NV][V];
    float sum = 0;
#pragma unroll
    for (int i = 0; i < NV; i++) {
        cu_vec<T, V> xv = x[lane + 32 * i];
#pragma unroll
        for (int j = 0; j < V; j++) { v[i][j] = cu_tof(xv.v[j]); sum += v[i][j]; }
    }
    float m = cu_warp_sum(sum) / (float)C;
    float var = 0;
#pragma unroll
    for (int i = 0; i < NV; i++)
#pragma unroll
        for (int j = 0; j < V; j++) { float d = v[i][j] - m; var += d * d; }
    float rs = rsqrtf(cu_warp_sum(var) / (float)C + eps);
    cu_vec<T, V> *o = (cu_vec<T, V> *)(out + row * C);
#pragma unroll
    for (int i = 0; i < NV; i++) {
        int e = lane + 32 * i;
        cu_vec<T, V> wv, bv, ov;
        if (w) wv = ((const cu_vec<T, V> *)w)[e];
        if (b) bv = ((const cu_vec<T, V> *)b)[e];
#pragma unroll
        for (int j = 0; j < V; j++) {
            float y = (v[i][j] - m) * rs;
            if (w) y *= cu_tof(wv.v[j]);
            if (b) y += cu_tof(bv.v[j]);
            ov.v[j] = cu_fromf<T>(y);
        }
        o[e] = ov;
    }
    if (lane == 0) {
        if (mean) mean[row] = m;
        if (rstd) rstd[row] = rs;
    }
}

template <typename T, int NV>
__global__ void ln_bwd_dinp_vec_kernel(T *dinp, const T *dout, const T *inp, const T *w, const float *mean,
                                       const float *rstd, int64_t N) {
    const int V = 16 / (int)sizeof(T), C = 32 * V * NV;
    int64_t row = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x & 31;
    if (row >= N) return;
    float m = mean[row], rs = rstd[row];
    float dn[NV][V], nx[NV][V];
    float s1 = 0, s2 = 0;
#pragma unroll
    for (int i = 0; i < NV; i++) {
        int e = lane + 32 * i;
        cu_vec<T, V> xv = ((const cu_vec<T, V> *)(inp + row * C))[e], gv = ((const cu_vec<T, V> *)(dout + row * C))[e];
        cu_vec<T, V> wv;
        if (w) wv = ((const cu_vec<T, V> *)w)[e];
#pragma unroll
        for (int j = 0; j < V; j++) {
            dn[i][j] = cu_tof(gv.v[j]) * (w ? cu_tof(wv.v[j]) : 1.0f);
            nx[i][j] = (cu_tof(xv.v[j]) - m) * rs;
            s1 += dn[i][j];
            s2 += dn[i][j] * nx[i][j];
        }
    }
    s1 = cu_warp_sum(s1) / (float)C;
    s2 = cu_warp_sum(s2) / (float)C;
    cu_vec<T, V> *dx = (cu_vec<T, V> *)(dinp + row * C);
#pragma unroll
    for (int i = 0; i < NV; i++) {
        int e = lane + 32 * i;
        cu_vec<T, V> d = dx[e];
#pragma unroll
        for (int j = 0; j < V; j++) d.v[j] = cu_fromf<T>(cu_tof(d.v[j]) + (dn[i][j] - s1 - nx[i][j] * s2) * rs);
        dx[e] = d;
    }
}

/* NV (16-byte vectors per lane) when the row fits the register kernels, else 0. */
static int ln_nv(int64_t C, size_t esz, const void *const *ptrs, int n) {
    int64_t per = 32 * (16 / (int64_t)esz);
    if (C % per || C / per < 1 || C / per > 8) return 0;
    for (int i = 0; i < n; i++)
        if (ptrs[i] && !cu_aligned(ptrs[i], 16)) return 0;
    return (int)(C / per);
}

#define LN_NV_SWITCH(nv, NV, ...) switch (nv) { \
    case 1: { const int NV = 1; __VA_ARGS__ } break; case 2: { const int NV = 2; __VA_ARGS__ } break; \
    case 3: { const int NV = 3; __VA_ARGS__ } break; case 4: { const int NV = 4; __VA_ARGS__ } break; \
    case 5: { const int NV = 5; __VA_ARGS__ } break; case 6: { const int NV = 6; __VA_ARGS__ } break; \
    case 7: { const int NV = 7; __VA_ARGS__ } break; default: { const int NV = 8; __VA_ARGS__ } break; }

sl_status cu_layernorm(sli_stream *s, sl_tensor *out, sl_tensor *mean, sl_tensor *rstd, const sl_tensor *inp,
                       const sl_tensor *w, const sl_tensor *bias, float eps) {
    int64_t N = inp->shape[0], C = inp->shape[1];
    if (!N) return SL_OK;
    const void *ptrs[4] = { out->data, inp->data, w ? w->data : NULL, bias ? bias->data : NULL };
    int nv = ln_nv(C, sl_dtype_size(inp->dtype), ptrs, 4);
    CU_FLOAT_SWITCH(inp->dtype, "layernorm", T, {
        if (nv) {
            LN_NV_SWITCH(nv, NV, ln_fwd_vec_kernel<T, NV><<<cu_blocks(N, 8, 1LL << 31), 256, 0, s->stream>>>(
                (T *)out->data, mean ? (float *)mean->data : NULL, rstd ? (float *)rstd->data : NULL,
                (const T *)inp->data, w ? (const T *)w->data : NULL, bias ? (const T *)bias->data : NULL, N, eps);)
            return cu_launched("layernorm");
        }
        ln_fwd_kernel<T><<<cu_blocks(N, 8, 1LL << 31), 256, 0, s->stream>>>(
            (T *)out->data, mean ? (float *)mean->data : NULL, rstd ? (float *)rstd->data : NULL,
            (const T *)inp->data, w ? (const T *)w->data : NULL, bias ? (const T *)bias->data : NULL, N, C, eps);
    })
    return cu_launched("layernorm");
}

template <typename T>
__global__ void ln_bwd_dinp_kernel(T *dinp, const T *dout, const T *inp, const T *w, const float *mean,
                                   const float *rstd, int64_t N, int64_t C) {
    int64_t row = blockIdx.x * (int64_t)(blockDim.x / 32) + threadIdx.x / 32;
    int lane = threadIdx.x & 31;
    if (row >= N) return;
    const T *x = inp + row * C, *dy = dout + row * C;
    float m = mean[row], rs = rstd[row];
    float s1 = 0, s2 = 0;
    for (int64_t c = lane; c < C; c += 32) {
        float dn = cu_tof(dy[c]) * (w ? cu_tof(w[c]) : 1.0f);
        s1 += dn;
        s2 += dn * (cu_tof(x[c]) - m) * rs;
    }
    s1 = cu_warp_sum(s1) / (float)C;
    s2 = cu_warp_sum(s2) / (float)C;
    T *dx = dinp + row * C;
    for (int64_t c = lane; c < C; c += 32) {
        float dn = cu_tof(dy[c]) * (w ? cu_tof(w[c]) : 1.0f);
        float n = (cu_tof(x[c]) - m) * rs;
        dx[c] = cu_fromf<T>(cu_tof(dx[c]) + (dn - s1 - n * s2) * rs);
    }
}

sl_status cu_layernorm_backward(sli_stream *s, sl_tensor *dinp, sl_tensor *dweight, sl_tensor *dbias,
                                const sl_tensor *dout, const sl_tensor *inp, const sl_tensor *w,
                                const sl_tensor *mean, const sl_tensor *rstd) {
    int64_t N = inp->shape[0], C = inp->shape[1];
    if (!N || !C) return SL_OK;
    int64_t rpc = rows_per_chunk(N), nch = (N + rpc - 1) / rpc;
    float *partial = NULL;
    if (dweight || dbias) {
        partial = (float *)cu_scratch(s, (size_t)(nch * 2 * C) * sizeof(float));
        if (!partial) return SL_ERR_NOMEM;
    }
    const void *ptrs[4] = { dinp ? dinp->data : NULL, dout->data, inp->data, w ? w->data : NULL };
    int nv = dinp ? ln_nv(C, sl_dtype_size(inp->dtype), ptrs, 4) : 0;
    CU_FLOAT_SWITCH(inp->dtype, "layernorm_backward", T, {
        if (nv) {
            LN_NV_SWITCH(nv, NV, ln_bwd_dinp_vec_kernel<T, NV><<<cu_blocks(N, 8, 1LL << 31), 256, 0, s->stream>>>(
                (T *)dinp->data, (const T *)dout->data, (const T *)inp->data, w ? (const T *)w->data : NULL,
                (const float *)mean->data, (const float *)rstd->data, N);)
        } else if (dinp)
            ln_bwd_dinp_kernel<T><<<cu_blocks(N, 8, 1LL << 31), 256, 0, s->stream>>>(
                (T *)dinp->data, (const T *)dout->data, (const T *)inp->data, w ? (const T *)w->data : NULL,
                (const float *)mean->data, (const float *)rstd->data, N, C);
        if (partial) {
            colpartial_launch<T, 1>(s, partial, (const T *)inp->data, (const T *)dout->data,
                                    (const float *)mean->data, (const float *)rstd->data, N, C, rpc, nch);
            unsigned g = cu_blocks(C, 256, 1 << 30);
            if (dweight)
                colfinish_kernel<T><<<g, 256, 0, s->stream>>>((T *)dweight->data, partial, nch, 2 * C, 0, C);
            if (dbias)
                colfinish_kernel<T><<<g, 256, 0, s->stream>>>((T *)dbias->data, partial, nch, 2 * C, C, C);
        }
    })
    return cu_launched("layernorm_backward");
}

/* ============================================================ softmax */

template <typename T>
__global__ void softmax_kernel(T *out, const T *inp, int64_t C) {
    __shared__ float sh[32];
    const T *x = inp + blockIdx.x * C;
    T *o = out + blockIdx.x * C;
    float m = -INFINITY;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) m = fmaxf(m, cu_tof(x[c]));
    m = cu_block_max(m, sh);
    float sum = 0;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) sum += expf(cu_tof(x[c]) - m);
    sum = cu_block_sum(sum, sh);
    float inv = 1.0f / sum;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) o[c] = cu_fromf<T>(expf(cu_tof(x[c]) - m) * inv);
}

template <typename T>
__global__ void softmax_bwd_kernel(T *dinp, const T *dout, const T *out, int64_t C) {
    __shared__ float sh[32];
    const T *y = out + blockIdx.x * C, *dy = dout + blockIdx.x * C;
    T *dx = dinp + blockIdx.x * C;
    float dot = 0;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) dot += cu_tof(dy[c]) * cu_tof(y[c]);
    dot = cu_block_sum(dot, sh);
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
        dx[c] = cu_fromf<T>(cu_tof(dx[c]) + cu_tof(y[c]) * (cu_tof(dy[c]) - dot));
}

static int row_threads(int64_t C) { return C >= 1024 ? 512 : C >= 256 ? 256 : C >= 64 ? 64 : 32; }

sl_status cu_softmax(sli_stream *s, sl_tensor *out, const sl_tensor *inp) {
    int64_t N = inp->shape[0], C = inp->shape[1];
    if (!N || !C) return SL_OK;
    if (N > INT_MAX) return sl_set_error(SL_ERR_UNSUPPORTED, "softmax: more than 2^31 rows");
    CU_FLOAT_SWITCH(inp->dtype, "softmax", T, {
        softmax_kernel<T><<<(unsigned)N, row_threads(C), 0, s->stream>>>((T *)out->data, (const T *)inp->data, C);
    })
    return cu_launched("softmax");
}

sl_status cu_softmax_backward(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *out) {
    int64_t N = out->shape[0], C = out->shape[1];
    if (!N || !C) return SL_OK;
    if (N > INT_MAX) return sl_set_error(SL_ERR_UNSUPPORTED, "softmax_backward: more than 2^31 rows");
    CU_FLOAT_SWITCH(out->dtype, "softmax_backward", T, {
        softmax_bwd_kernel<T><<<(unsigned)N, row_threads(C), 0, s->stream>>>((T *)dinp->data, (const T *)dout->data,
                                                                            (const T *)out->data, C);
    })
    return cu_launched("softmax_backward");
}

/* ============================================================ embedding */

__device__ static inline int64_t id_load(const void *ids, bool i64, int64_t i) {
    return i64 ? ((const int64_t *)ids)[i] : (int64_t)((const int32_t *)ids)[i];
}

__device__ static inline void record_bad(cu_bad_input *bad, int code, int64_t index, int64_t value, int64_t limit) {
    if (atomicCAS(&bad->code, 0, code) == 0) {
        bad->index = index;
        bad->value = value;
        bad->limit = limit;
    }
}

template <typename T>
__global__ void emb_fwd_kernel(T *out, const void *ids, bool i64, const T *table, const T *pos, int64_t V,
                               int64_t T_, int64_t C, int64_t pos_offset, int64_t n, cu_bad_input *bad) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i / C, c = i % C;
        int64_t id = id_load(ids, i64, r);
        if (id < 0 || id >= V) {
            if (c == 0) record_bad(bad, CU_BAD_EMBEDDING_ID, r, id, V);
            id = id < 0 ? 0 : V - 1;
        }
        float v = cu_tof(table[id * C + c]);
        if (pos) v += cu_tof(pos[(pos_offset + r % T_) * C + c]);
        out[i] = cu_fromf<T>(v);
    }
}

sl_status cu_embedding(sli_stream *s, sl_tensor *out, const sl_tensor *ids, const sl_tensor *table,
                       const sl_tensor *pos, int64_t pos_offset) {
    int64_t B = ids->shape[0], T_ = ids->shape[1], C = out->shape[2], V = table->shape[0];
    int64_t n = B * T_ * C;
    if (!n) return SL_OK;
    if (V == 0) return sl_set_error(SL_ERR_RANGE, "embedding: the table has no rows");
    CU_FLOAT_SWITCH(out->dtype, "embedding", T, {
        emb_fwd_kernel<T><<<grid_for(s, n, 256), 256, 0, s->stream>>>(
            (T *)out->data, ids->data, ids->dtype == SL_I64, (const T *)table->data, pos ? (const T *)pos->data : NULL,
            V, T_, C, pos_offset, n, cu_bad(s));
    })
    return cu_launched("embedding");
}

/* Keys for the stable sort: ids clamped into [0, V) (bad ones reported). */
__global__ void emb_keys_kernel(int32_t *keys, int32_t *vals, const void *ids, bool i64, int64_t V, int64_t n,
                                cu_bad_input *bad) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t id = id_load(ids, i64, i);
        if (id < 0 || id >= V) {
            record_bad(bad, CU_BAD_EMBEDDING_ID, i, id, V);
            id = id < 0 ? 0 : V - 1;
        }
        keys[i] = (int32_t)id;
        vals[i] = (int32_t)i;
    }
}

/* After a stable sort by id, each run of equal ids is one gradient row: the block at the start
 * of a run sums its rows in (b,t) order in f32 and adds the total once. */
template <typename T>
__global__ void emb_bwd_rows_kernel(T *dtable, const T *dout, const int32_t *keys, const int32_t *rows, int64_t n,
                                    int64_t C) {
    int64_t i = blockIdx.x;
    if (i >= n || (i > 0 && keys[i] == keys[i - 1])) return;
    int32_t id = keys[i];
    int64_t end = i + 1;
    while (end < n && keys[end] == id) end++;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
        float acc = 0;
        for (int64_t j = i; j < end; j++) acc += cu_tof(dout[(int64_t)rows[j] * C + c]);
        T *g = dtable + (int64_t)id * C + c;
        *g = cu_fromf<T>(cu_tof(*g) + acc);
    }
}

/* dpos[pos_offset + t][c] += sum over b of dout[b][t][c], b in order. */
template <typename T>
__global__ void emb_bwd_pos_kernel(T *dpos, const T *dout, int64_t B, int64_t T_, int64_t C, int64_t pos_offset) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < T_ * C; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t t = i / C, c = i % C;
        float acc = 0;
        for (int64_t b = 0; b < B; b++) acc += cu_tof(dout[(b * T_ + t) * C + c]);
        T *g = dpos + (pos_offset + t) * C + c;
        *g = cu_fromf<T>(cu_tof(*g) + acc);
    }
}

sl_status cu_embedding_backward(sli_stream *s, sl_tensor *dtable, sl_tensor *dpos, const sl_tensor *dout,
                                const sl_tensor *ids, int64_t pos_offset) {
    int64_t B = ids->shape[0], T_ = ids->shape[1], C = dout->shape[2], n = B * T_;
    if (!n || !C) return SL_OK;
    const char *op = "embedding_backward";
    if (dpos) {
        CU_FLOAT_SWITCH(dout->dtype, op, T, {
            emb_bwd_pos_kernel<T><<<grid_for(s, T_ * C, 256), 256, 0, s->stream>>>((T *)dpos->data,
                                                                                  (const T *)dout->data, B, T_, C,
                                                                                  pos_offset);
        })
        CU_TRY(cu_launched(op));
    }
    if (!dtable) return SL_OK;
    int64_t V = dtable->shape[0];
    if (V > INT_MAX || n > INT_MAX) return sl_set_error(SL_ERR_UNSUPPORTED, "%s: more than 2^31 ids or rows", op);
    if (V == 0) return sl_set_error(SL_ERR_RANGE, "%s: the table has no rows", op);
    int end_bit = 1;
    while (end_bit < 31 && ((int64_t)1 << end_bit) < V) end_bit++;
    size_t temp = 0;
    cub::DeviceRadixSort::SortPairs(NULL, temp, (const int32_t *)NULL, (int32_t *)NULL, (const int32_t *)NULL,
                                    (int32_t *)NULL, (int)n, 0, end_bit, s->stream);
    size_t arr = ((size_t)n * sizeof(int32_t) + 255) & ~(size_t)255;
    char *ws = (char *)cu_scratch(s, 4 * arr + temp);
    if (!ws) return SL_ERR_NOMEM;
    int32_t *k_in = (int32_t *)ws, *v_in = (int32_t *)(ws + arr), *k_out = (int32_t *)(ws + 2 * arr),
            *v_out = (int32_t *)(ws + 3 * arr);
    emb_keys_kernel<<<grid_for(s, n, 256), 256, 0, s->stream>>>(k_in, v_in, ids->data, ids->dtype == SL_I64, V, n,
                                                                cu_bad(s));
    CU_TRY(cu_launched(op));
    CU_TRY(cu_check(cub::DeviceRadixSort::SortPairs(ws + 4 * arr, temp, k_in, k_out, v_in, v_out, (int)n, 0, end_bit,
                                                    s->stream), "embedding_backward: sorting ids"));
    CU_FLOAT_SWITCH(dout->dtype, op, T, {
        emb_bwd_rows_kernel<T><<<(unsigned)n, C >= 256 ? 256 : 64, 0, s->stream>>>((T *)dtable->data,
                                                                                 (const T *)dout->data, k_out, v_out,
                                                                                 n, C);
    })
    return cu_launched(op);
}

/* ============================================================ cross-entropy */

/* Online max/sum-exp state combined in a fixed tree. */
struct ms_pair { float m, s; };

__device__ static inline ms_pair ms_combine(ms_pair a, ms_pair b) {
    float m = fmaxf(a.m, b.m);
    if (m == -INFINITY) return a;
    ms_pair r;
    r.m = m;
    r.s = a.s * expf(a.m - m) + b.s * expf(b.m - m);
    return r;
}

__device__ static inline ms_pair ms_block(ms_pair v, float *shm, float *shs) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    for (int o = 16; o > 0; o >>= 1) {
        ms_pair x = { __shfl_xor_sync(0xffffffffu, v.m, o), __shfl_xor_sync(0xffffffffu, v.s, o) };
        v = ms_combine(v, x);
    }
    __syncthreads();
    if (lane == 0) { shm[w] = v.m; shs[w] = v.s; }
    __syncthreads();
    ms_pair r = { -INFINITY, 0.0f };
    if (lane < nw) { r.m = shm[lane]; r.s = shs[lane]; }
    for (int o = 16; o > 0; o >>= 1) {
        ms_pair x = { __shfl_xor_sync(0xffffffffu, r.m, o), __shfl_xor_sync(0xffffffffu, r.s, o) };
        r = ms_combine(r, x);
    }
    return r;
}

template <typename T, int V>
__global__ void ce_fwd_kernel(float *losses, float *lse, const T *logits, const void *targets, bool i64, int64_t Vn,
                              int64_t ignore, cu_bad_input *bad) {
    __shared__ float shm[32], shs[32];
    int64_t row = blockIdx.x;
    const T *x = logits + row * Vn;
    ms_pair st = { -INFINITY, 0.0f };
    int64_t nv = Vn / V;
    for (int64_t i = threadIdx.x; i < nv; i += blockDim.x) {
        cu_vec<T, V> v = ((const cu_vec<T, V> *)x)[i];
        float mx = -INFINITY;
#pragma unroll
        for (int j = 0; j < V; j++) mx = fmaxf(mx, cu_tof(v.v[j]));
        float nm = fmaxf(st.m, mx);
        float sum = st.m == -INFINITY ? 0.0f : st.s * expf(st.m - nm);
#pragma unroll
        for (int j = 0; j < V; j++) sum += expf(cu_tof(v.v[j]) - nm);
        st.m = nm;
        st.s = sum;
    }
    for (int64_t c = nv * V + threadIdx.x; c < Vn; c += blockDim.x) {
        ms_pair one = { cu_tof(x[c]), 1.0f };
        st = ms_combine(st, one);
    }
    st = ms_block(st, shm, shs);
    if (threadIdx.x == 0) {
        float l = st.m + logf(st.s);
        lse[row] = l;
        int64_t t = id_load(targets, i64, row);
        float loss = 0.0f;
        if (t != ignore) {
            if (t < 0 || t >= Vn) record_bad(bad, CU_BAD_TARGET, row, t, Vn);
            else loss = l - cu_tof(x[t]);
        }
        losses[row] = loss;
    }
}

template <typename T, int V>
__global__ void ce_bwd_kernel(T *dlogits, const float *dlosses, const T *logits, const float *lse, const void *targets,
                              bool i64, int64_t Vn, int64_t ignore) {
    int64_t row = blockIdx.x;
    int64_t t = id_load(targets, i64, row);
    if (t == ignore || t < 0 || t >= Vn) return;
    const T *x = logits + row * Vn;
    T *dx = dlogits + row * Vn;
    float g = dlosses[row], l = lse[row];
    int64_t nv = Vn / V;
    for (int64_t i = threadIdx.x; i < nv; i += blockDim.x) {
        cu_vec<T, V> v = ((const cu_vec<T, V> *)x)[i], d = ((cu_vec<T, V> *)dx)[i];
#pragma unroll
        for (int j = 0; j < V; j++) {
            int64_t c = i * V + j;
            float p = expf(cu_tof(v.v[j]) - l);
            d.v[j] = cu_fromf<T>(cu_tof(d.v[j]) + g * p - (c == t ? g : 0.0f));
        }
        ((cu_vec<T, V> *)dx)[i] = d;
    }
    for (int64_t c = nv * V + threadIdx.x; c < Vn; c += blockDim.x) {
        float p = expf(cu_tof(x[c]) - l);
        dx[c] = cu_fromf<T>(cu_tof(dx[c]) + g * p - (c == t ? g : 0.0f));
    }
}

sl_status cu_cross_entropy(sli_stream *s, sl_tensor *losses, sl_tensor *lse, const sl_tensor *logits,
                           const sl_tensor *targets, int64_t ignore_index) {
    int64_t N = logits->shape[0], Vn = logits->shape[1];
    if (!N) return SL_OK;
    if (N > INT_MAX) return sl_set_error(SL_ERR_UNSUPPORTED, "cross_entropy: more than 2^31 rows");
    int th = row_threads(Vn);
    CU_FLOAT_SWITCH(logits->dtype, "cross_entropy", T, {
        const int V = 16 / (int)sizeof(T);
        bool vec = cu_aligned(logits->data, 16) && (Vn * (int64_t)sizeof(T)) % 16 == 0;
        if (vec)
            ce_fwd_kernel<T, V><<<(unsigned)N, th, 0, s->stream>>>((float *)losses->data, (float *)lse->data,
                                                                   (const T *)logits->data, targets->data,
                                                                   targets->dtype == SL_I64, Vn, ignore_index,
                                                                   cu_bad(s));
        else
            ce_fwd_kernel<T, 1><<<(unsigned)N, th, 0, s->stream>>>((float *)losses->data, (float *)lse->data,
                                                                   (const T *)logits->data, targets->data,
                                                                   targets->dtype == SL_I64, Vn, ignore_index,
                                                                   cu_bad(s));
    })
    return cu_launched("cross_entropy");
}

sl_status cu_cross_entropy_backward(sli_stream *s, sl_tensor *dlogits, const sl_tensor *dlosses,
                                    const sl_tensor *logits, const sl_tensor *lse, const sl_tensor *targets,
                                    int64_t ignore_index) {
    int64_t N = logits->shape[0], Vn = logits->shape[1];
    if (!N) return SL_OK;
    if (N > INT_MAX) return sl_set_error(SL_ERR_UNSUPPORTED, "cross_entropy_backward: more than 2^31 rows");
    int th = row_threads(Vn);
    CU_FLOAT_SWITCH(logits->dtype, "cross_entropy_backward", T, {
        const int V = 16 / (int)sizeof(T);
        bool vec = cu_aligned(logits->data, 16) && cu_aligned(dlogits->data, 16) &&
                   (Vn * (int64_t)sizeof(T)) % 16 == 0;
        if (vec)
            ce_bwd_kernel<T, V><<<(unsigned)N, th, 0, s->stream>>>((T *)dlogits->data, (const float *)dlosses->data,
                                                                   (const T *)logits->data, (const float *)lse->data,
                                                                   targets->data, targets->dtype == SL_I64, Vn,
                                                                   ignore_index);
        else
            ce_bwd_kernel<T, 1><<<(unsigned)N, th, 0, s->stream>>>((T *)dlogits->data, (const float *)dlosses->data,
                                                                   (const T *)logits->data, (const float *)lse->data,
                                                                   targets->data, targets->dtype == SL_I64, Vn,
                                                                   ignore_index);
    })
    return cu_launched("cross_entropy_backward");
}

/* ============================================================ reductions */

/* max that propagates NaN, as the CPU's (v > m || v != v) loop does */
__device__ static inline float nan_max(float a, float b) { return (a != a || b != b) ? NAN : fmaxf(a, b); }

#define RED_BLOCK 256
#define RED_CHUNK 65536   /* elements per partial of a full reduction */

/* One block per output (o, i): threads stride over n, then a fixed tree. */
template <typename T>
__global__ void reduce_block_kernel(T *out, double *partial, const T *inp, int op, int64_t outer_inner, int64_t n,
                                    int64_t inner, int64_t k0, int64_t klen, double divisor) {
    __shared__ double shd[32];
    __shared__ float shf[32];
    int64_t q = blockIdx.x;
    int64_t o = q / inner, i = q % inner;
    const T *x = inp + o * n * inner + i;
    int64_t kb = k0 + (partial ? blockIdx.x * klen : 0), ke = partial ? kb + klen : n;
    if (partial) { x = inp; if (ke > n) ke = n; }
    if (op == SL_REDUCE_MAX) {
        float m = -INFINITY;
        for (int64_t k = kb + threadIdx.x; k < ke; k += blockDim.x) m = nan_max(m, cu_tof(x[k * inner]));
        /* block max with NaN propagation: a NaN anywhere wins */
        int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
        for (int off = 16; off > 0; off >>= 1) m = nan_max(m, __shfl_xor_sync(0xffffffffu, m, off));
        __syncthreads();
        if (lane == 0) shf[w] = m;
        __syncthreads();
        if (threadIdx.x == 0) {
            float r = shf[0];
            for (int j = 1; j < nw; j++) r = nan_max(r, shf[j]);
            if (partial) partial[blockIdx.x] = r;
            else out[q] = cu_fromf<T>(r);
        }
        (void)outer_inner;
        return;
    }
    double acc = 0;
    for (int64_t k = kb + threadIdx.x; k < ke; k += blockDim.x) acc += (double)cu_tof(x[k * inner]);
    acc = cu_block_sumd(acc, shd);
    if (threadIdx.x == 0) {
        if (partial) partial[blockIdx.x] = acc;
        else out[q] = cu_fromf<T>((float)(acc / divisor));
    }
}

/* One thread per output, looping over n (coalesced when inner is large). */
template <typename T>
__global__ void reduce_thread_kernel(T *out, const T *inp, int op, int64_t outer_inner, int64_t n, int64_t inner,
                                     double divisor) {
    for (int64_t q = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; q < outer_inner;
         q += (int64_t)gridDim.x * blockDim.x) {
        int64_t o = q / inner, i = q % inner;
        const T *x = inp + o * n * inner + i;
        if (op == SL_REDUCE_MAX) {
            float m = cu_tof(x[0]);
            for (int64_t k = 1; k < n && m == m; k++) m = nan_max(m, cu_tof(x[k * inner]));
            out[q] = cu_fromf<T>(m);
        } else {
            double acc = 0;
            for (int64_t k = 0; k < n; k++) acc += (double)cu_tof(x[k * inner]);
            out[q] = cu_fromf<T>((float)(acc / divisor));
        }
    }
}

/* Final pass of a full reduction: partials in chunk order. */
template <typename T>
__global__ void reduce_finish_kernel(T *out, const double *partial, int64_t nch, int op, double divisor) {
    double acc = partial[0];
    for (int64_t c = 1; c < nch; c++) {
        if (op == SL_REDUCE_MAX) {
            double v = partial[c];
            if (v != v || acc != acc) acc = NAN;
            else if (v > acc) acc = v;
        } else {
            acc += partial[c];
        }
    }
    out[0] = cu_fromf<T>((float)(op == SL_REDUCE_MAX ? acc : acc / divisor));
}

sl_status cu_reduce(sli_stream *s, sl_tensor *out, const sl_tensor *inp, sl_reduce_op op, int64_t outer, int64_t n,
                    int64_t inner) {
    int64_t nout = outer * inner;
    if (!nout) return SL_OK;
    double divisor = op == SL_REDUCE_MEAN ? (double)n : 1.0;
    if (n == 0) return cu_fill(s, out, 0.0);
    CU_FLOAT_SWITCH(inp->dtype, "reduce", T, {
        if (nout == 1 && n > RED_CHUNK) {
            int64_t nch = (n + RED_CHUNK - 1) / RED_CHUNK;
            double *partial = (double *)cu_scratch(s, (size_t)nch * sizeof(double));
            if (!partial) return SL_ERR_NOMEM;
            reduce_block_kernel<T><<<(unsigned)nch, RED_BLOCK, 0, s->stream>>>(NULL, partial, (const T *)inp->data,
                                                                               op, 1, n, 1, 0, RED_CHUNK, 1.0);
            reduce_finish_kernel<T><<<1, 1, 0, s->stream>>>((T *)out->data, partial, nch, op, divisor);
        } else if (inner >= 32 || n < 64) {
            reduce_thread_kernel<T><<<grid_for(s, nout, 256), 256, 0, s->stream>>>((T *)out->data, (const T *)inp->data,
                                                                                  op, nout, n, inner, divisor);
        } else {
            if (nout > INT_MAX) return sl_set_error(SL_ERR_UNSUPPORTED, "reduce: more than 2^31 outputs");
            reduce_block_kernel<T><<<(unsigned)nout, RED_BLOCK, 0, s->stream>>>((T *)out->data, NULL,
                                                                                (const T *)inp->data, op, nout, n,
                                                                                inner, 0, n, divisor);
        }
    })
    return cu_launched("reduce");
}

/* SUM / MEAN: every input element gets its output's gradient. */
template <typename T>
__global__ void reduce_bwd_spread_kernel(T *dinp, const T *dout, int64_t total, int64_t n, int64_t inner, double n_div,
                                         bool mean) {
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < total; e += (int64_t)gridDim.x * blockDim.x) {
        int64_t i = e % inner, o = e / (inner * n);
        float g = cu_tof(dout[o * inner + i]);
        if (mean) g = (float)((double)g / n_div);
        dinp[e] = cu_fromf<T>(cu_tof(dinp[e]) + g);
    }
}

/* MAX / argmax: (value, index) pairs; NaN first, then the larger value, ties to the lower index. */
struct vi_pair { float v; long long i; };

__device__ static inline vi_pair vi_better(vi_pair a, vi_pair b) {
    bool an = a.v != a.v, bn = b.v != b.v;
    if (an || bn) {
        if (an && bn) return a.i <= b.i ? a : b;
        return an ? a : b;
    }
    if (a.v > b.v) return a;
    if (b.v > a.v) return b;
    return a.i <= b.i ? a : b;
}

/* Block per output: the first index holding the maximum (or the first NaN). */
template <typename T, typename O>
__global__ void argmax_kernel(O *idx, const T *inp, int64_t n, int64_t inner) {
    __shared__ float shv[32];
    __shared__ long long shi[32];
    int64_t q = blockIdx.x, o = q / inner, i = q % inner;
    const T *x = inp + o * n * inner + i;
    vi_pair best = { -INFINITY, (long long)n };
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x) {
        vi_pair c = { cu_tof(x[k * inner]), (long long)k };
        best = best.i == n ? c : vi_better(best, c);
    }
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    for (int off = 16; off > 0; off >>= 1) {
        vi_pair c = { __shfl_xor_sync(0xffffffffu, best.v, off), __shfl_xor_sync(0xffffffffu, best.i, off) };
        if (c.i != n) best = best.i == n ? c : vi_better(best, c);
    }
    __syncthreads();
    if (lane == 0) { shv[w] = best.v; shi[w] = best.i; }
    __syncthreads();
    if (threadIdx.x == 0) {
        vi_pair r = { shv[0], shi[0] };
        for (int j = 1; j < nw; j++) {
            vi_pair c = { shv[j], shi[j] };
            if (c.i != n) r = r.i == n ? c : vi_better(r, c);
        }
        idx[q] = (O)r.i;
    }
}

/* MAX backward: dout goes to the first element equal to the forward's max (or the first NaN). */
template <typename T>
__global__ void reduce_bwd_max_kernel(T *dinp, const T *dout, const T *inp, const T *out, int64_t n, int64_t inner) {
    __shared__ long long shi[32];
    int64_t q = blockIdx.x, o = q / inner, i = q % inner;
    const T *x = inp + o * n * inner + i;
    float m = cu_tof(out[q]);
    bool mnan = m != m;
    long long first = (long long)n;
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x) {
        float v = cu_tof(x[k * inner]);
        if ((v == m || (mnan && v != v)) && k < first) { first = k; break; }
    }
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    for (int off = 16; off > 0; off >>= 1) {
        long long c = __shfl_xor_sync(0xffffffffu, first, off);
        first = c < first ? c : first;
    }
    __syncthreads();
    if (lane == 0) shi[w] = first;
    __syncthreads();
    if (threadIdx.x == 0) {
        long long r = shi[0];
        for (int j = 1; j < nw; j++) r = shi[j] < r ? shi[j] : r;
        if (r < n) {
            T *d = dinp + o * n * inner + r * inner + i;
            *d = cu_fromf<T>(cu_tof(*d) + cu_tof(dout[q]));
        }
    }
}

sl_status cu_reduce_backward(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, const sl_tensor *inp,
                             const sl_tensor *out, sl_reduce_op op, int64_t outer, int64_t n, int64_t inner) {
    int64_t nout = outer * inner, total = nout * n;
    if (!total) return SL_OK;
    CU_FLOAT_SWITCH(inp->dtype, "reduce_backward", T, {
        if (op == SL_REDUCE_MAX) {
            if (nout > INT_MAX) return sl_set_error(SL_ERR_UNSUPPORTED, "reduce_backward: more than 2^31 outputs");
            reduce_bwd_max_kernel<T><<<(unsigned)nout, n >= 256 ? 256 : 32, 0, s->stream>>>(
                (T *)dinp->data, (const T *)dout->data, (const T *)inp->data, (const T *)out->data, n, inner);
        } else {
            reduce_bwd_spread_kernel<T><<<grid_for(s, total, 256), 256, 0, s->stream>>>(
                (T *)dinp->data, (const T *)dout->data, total, n, inner, (double)n, op == SL_REDUCE_MEAN);
        }
    })
    return cu_launched("reduce_backward");
}

sl_status cu_argmax(sli_stream *s, sl_tensor *out, const sl_tensor *inp, int64_t outer, int64_t n, int64_t inner) {
    int64_t nout = outer * inner;
    if (!nout) return SL_OK;
    if (nout > INT_MAX) return sl_set_error(SL_ERR_UNSUPPORTED, "argmax: more than 2^31 outputs");
    int th = n >= 256 ? 256 : 32;
    CU_FLOAT_SWITCH(inp->dtype, "argmax", T, {
        if (out->dtype == SL_I64)
            argmax_kernel<T, int64_t><<<(unsigned)nout, th, 0, s->stream>>>((int64_t *)out->data,
                                                                            (const T *)inp->data, n, inner);
        else
            argmax_kernel<T, int32_t><<<(unsigned)nout, th, 0, s->stream>>>((int32_t *)out->data,
                                                                            (const T *)inp->data, n, inner);
    })
    return cu_launched("argmax");
}

/* ============================================================ AdamW */

template <typename G, typename P>
__global__ void adamw_kernel(float *__restrict__ p, const G *__restrict__ grad, float *__restrict__ m,
                             float *__restrict__ v, P *__restrict__ copy, int64_t n, float b1, float b2, float eps,
                             float decay, float step_size, float bc2_sqrt, float gs) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        float g = cu_tof(grad[i]) * gs;
        float mi = b1 * m[i] + (1.0f - b1) * g;
        float vi = b2 * v[i] + (1.0f - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        float pi = p[i] * decay;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        pi = pi - step_size * (mi / denom);
        p[i] = pi;
        if (copy) copy[i] = cu_fromf<P>(pi);
    }
}

template <typename G>
static sl_status adamw_with_grad(sli_stream *s, sl_tensor *param, const sl_tensor *grad, sl_tensor *m, sl_tensor *v,
                                 sl_tensor *copy, int64_t n, float b1, float b2, float eps, float decay, float step,
                                 float bc2s, float gs) {
    unsigned g = grid_for(s, n, 256);
    sl_dtype cd = copy ? copy->dtype : SL_F32;
    switch (cd) {
    case SL_F32:
        adamw_kernel<G, float><<<g, 256, 0, s->stream>>>((float *)param->data, (const G *)grad->data,
                                                         (float *)m->data, (float *)v->data,
                                                         copy ? (float *)copy->data : NULL, n, b1, b2, eps, decay,
                                                         step, bc2s, gs);
        break;
    case SL_F16:
        adamw_kernel<G, __half><<<g, 256, 0, s->stream>>>((float *)param->data, (const G *)grad->data,
                                                          (float *)m->data, (float *)v->data, (__half *)copy->data, n,
                                                          b1, b2, eps, decay, step, bc2s, gs);
        break;
    case SL_BF16:
        adamw_kernel<G, __nv_bfloat16><<<g, 256, 0, s->stream>>>((float *)param->data, (const G *)grad->data,
                                                                 (float *)m->data, (float *)v->data,
                                                                 (__nv_bfloat16 *)copy->data, n, b1, b2, eps, decay,
                                                                 step, bc2s, gs);
        break;
    default: return cu_unsupported("adamw (param_copy)", cd);
    }
    return cu_launched("adamw");
}

sl_status cu_adamw(sli_stream *s, sl_tensor *param, const sl_tensor *grad, sl_tensor *m, sl_tensor *v,
                   sl_tensor *param_copy, int64_t t, const sl_adamw_opts *o) {
    int64_t n = sl_tensor_numel(param);
    if (!n) return SL_OK;
    if (param_copy && !sl_tensor_is_contiguous(param_copy))
        return sl_set_error(SL_ERR_UNSUPPORTED, "adamw: param_copy must be contiguous on cuda");
    /* the same operation order as torch.optim.AdamW and the CPU backend */
    double bc1 = 1.0 - pow((double)o->beta1, (double)t), bc2 = 1.0 - pow((double)o->beta2, (double)t);
    float decay = 1.0f - o->lr * o->weight_decay, step = (float)((double)o->lr / bc1), bc2s = (float)sqrt(bc2);
    CU_FLOAT_SWITCH(grad->dtype, "adamw", G,
        return adamw_with_grad<G>(s, param, grad, m, v, param_copy, n, o->beta1, o->beta2, o->eps, decay, step, bc2s,
                                  o->grad_scale);)
    return SL_OK;
}

/* ============================================================ sum of squares (global norm) */

typedef struct {
    const void *data;
    int64_t n;
    int64_t first_chunk;
    int dtype;
} ss_desc;

#define SS_CHUNK 32768

/* One block per chunk of one tensor; the partial of chunk c lands in partial[c]. */
__global__ void sumsq_kernel(double *partial, const ss_desc *descs, int nd) {
    __shared__ double sh[32];
    int64_t c = blockIdx.x;
    int lo = 0, hi = nd - 1;
    while (lo < hi) { /* last descriptor whose first_chunk <= c */
        int mid = (lo + hi + 1) / 2;
        if (descs[mid].first_chunk <= c) lo = mid;
        else hi = mid - 1;
    }
    ss_desc d = descs[lo];
    int64_t b = (c - d.first_chunk) * SS_CHUNK, e = b + SS_CHUNK < d.n ? b + SS_CHUNK : d.n;
    double acc = 0;
    for (int64_t i = b + threadIdx.x; i < e; i += blockDim.x) {
        float x = d.dtype == SL_F32 ? ((const float *)d.data)[i]
                : d.dtype == SL_BF16 ? __bfloat162float(((const __nv_bfloat16 *)d.data)[i])
                                     : __half2float(((const __half *)d.data)[i]);
        acc += (double)x * (double)x;
    }
    acc = cu_block_sumd(acc, sh);
    if (threadIdx.x == 0) partial[c] = acc;
}

sl_status cu_sum_squares(sli_stream *s, sl_tensor *const *ts, int n, double *out) {
    *out = 0;
    if (n <= 0) return SL_OK;
    ss_desc *h = (ss_desc *)malloc((size_t)n * sizeof *h);
    if (!h) return sl_set_error(SL_ERR_NOMEM, "global_norm: out of memory");
    int nd = 0;
    int64_t nch = 0;
    for (int i = 0; i < n; i++) {
        int64_t len = sl_tensor_numel(ts[i]);
        sl_dtype dt = ts[i]->dtype;
        if (dt != SL_F32 && dt != SL_F16 && dt != SL_BF16) { free(h); return cu_unsupported("global_norm", dt); }
        if (!len) continue;
        h[nd].data = ts[i]->data;
        h[nd].n = len;
        h[nd].first_chunk = nch;
        h[nd].dtype = dt;
        nch += (len + SS_CHUNK - 1) / SS_CHUNK;
        nd++;
    }
    if (!nd) { free(h); return SL_OK; }
    if (nch > INT_MAX) { free(h); return sl_set_error(SL_ERR_UNSUPPORTED, "global_norm: too many elements"); }
    size_t dbytes = ((size_t)nd * sizeof(ss_desc) + 255) & ~(size_t)255;
    char *ws = (char *)cu_scratch(s, dbytes + (size_t)nch * sizeof(double));
    if (!ws) { free(h); return SL_ERR_NOMEM; }
    double *partial = (double *)(ws + dbytes);
    double *hp = (double *)malloc((size_t)nch * sizeof(double));
    sl_status st = hp ? SL_OK : sl_set_error(SL_ERR_NOMEM, "global_norm: out of memory");
    if (st == SL_OK)
        st = cu_check(cudaMemcpyAsync(ws, h, (size_t)nd * sizeof(ss_desc), cudaMemcpyHostToDevice, s->stream),
                      "global_norm: uploading descriptors");
    if (st == SL_OK) {
        sumsq_kernel<<<(unsigned)nch, 256, 0, s->stream>>>(partial, (const ss_desc *)ws, nd);
        st = cu_launched("global_norm");
    }
    if (st == SL_OK)
        st = cu_check(cudaMemcpyAsync(hp, partial, (size_t)nch * sizeof(double), cudaMemcpyDeviceToHost, s->stream),
                      "global_norm: reading partials");
    if (st == SL_OK) st = cu_check(cudaStreamSynchronize(s->stream), "global_norm");
    if (st == SL_OK) {
        double total = 0;
        for (int64_t c = 0; c < nch; c++) total += hp[c];
        *out = total;
    }
    free(hp);
    free(h);
    return st;
}
