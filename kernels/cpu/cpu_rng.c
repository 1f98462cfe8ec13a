/* cpu_rng.c — Philox-based uniform/normal fills and dropout on the CPU; the bit-exact reference for the CUDA backend. */
#include "cpu.h"
#include "core/internal.h"

/* Word j of the stream with key `key`: word (j & 3) of Philox(key, counter j >> 2). */
typedef struct { uint64_t key, offset; float a, b, p, scale; float *out; const float *in; } rng_job;

#define TWO_PI 6.28318530717958647692

static inline float u01(uint32_t w) { return (float)(w >> 8) * (1.0f / 16777216.0f); }

/* Process elements [b, e): generate whole Philox blocks and pick the needed words. */
static void uniform_task(void *arg, int64_t b, int64_t e) {
    const rng_job *j = arg;
    uint32_t w[4];
    uint64_t blk = UINT64_MAX;
    for (int64_t i = b; i < e; i++) {
        uint64_t c = j->offset + (uint64_t)i;
        if ((c >> 2) != blk) { blk = c >> 2; sl_philox4x32(j->key, 0, blk, w); }
        j->out[i] = j->a + (j->b - j->a) * u01(w[c & 3]);
    }
}

static void normal_task(void *arg, int64_t b, int64_t e) {
    const rng_job *j = arg;
    uint32_t w[4];
    uint64_t blk = UINT64_MAX;
    for (int64_t i = b; i < e; i++) {
        uint64_t c = j->offset + (uint64_t)i;
        if ((c >> 2) != blk) { blk = c >> 2; sl_philox4x32(j->key, 0, blk, w); }
        uint64_t pair = c & 2; /* words (pair, pair+1) of the block */
        double u1 = ((double)(w[pair] >> 8) + 1.0) * (1.0 / 16777216.0); /* (0, 1] */
        double u2 = (double)(w[pair + 1] >> 8) * (1.0 / 16777216.0);
        double r = sqrt(-2.0 * log(u1));
        double z = (c & 1) ? r * sin(TWO_PI * u2) : r * cos(TWO_PI * u2);
        j->out[i] = j->a + j->b * (float)z;
    }
}

static void dropout_task(void *arg, int64_t b, int64_t e) {
    const rng_job *j = arg;
    uint32_t w[4];
    uint64_t blk = UINT64_MAX;
    for (int64_t i = b; i < e; i++) {
        uint64_t c = j->offset + (uint64_t)i;
        if ((c >> 2) != blk) { blk = c >> 2; sl_philox4x32(j->key, 0, blk, w); }
        j->out[i] = u01(w[c & 3]) >= j->p ? j->in[i] * j->scale : 0.0f;
    }
}

static void dropout_bwd_task(void *arg, int64_t b, int64_t e) {
    const rng_job *j = arg;
    uint32_t w[4];
    uint64_t blk = UINT64_MAX;
    for (int64_t i = b; i < e; i++) {
        uint64_t c = j->offset + (uint64_t)i;
        if ((c >> 2) != blk) { blk = c >> 2; sl_philox4x32(j->key, 0, blk, w); }
        if (u01(w[c & 3]) >= j->p) j->out[i] += j->in[i] * j->scale;
    }
}

/* Fill a float tensor of any float dtype via an f32 staging buffer in the workspace. */
static sl_status rand_fill(sli_stream *s, sl_tensor *t, cpu_task_fn fn, rng_job *j) {
    int64_t n = sl_tensor_numel(t);
    if (t->dtype == SL_F32) {
        j->out = t->data;
        cpu_run(s, n, 4096, fn, j);
        return SL_OK;
    }
    float *tmp = cpu_workspace(s, (size_t)n * sizeof(float));
    if (!tmp && n) return SL_ERR_NOMEM;
    j->out = tmp;
    cpu_run(s, n, 4096, fn, j);
    sl_tensor src = *t;
    src.dtype = SL_F32;
    src.data = tmp;
    sli_contiguous_strides(SL_F32, src.ndim, src.shape, src.strides);
    return sli_cpu_backend()->copy(s, t, &src);
}

sl_status cpu_rand_uniform(sli_stream *s, sl_tensor *t, float lo, float hi, uint64_t key, uint64_t offset) {
    rng_job j = { key, offset, lo, hi, 0, 0, NULL, NULL };
    return rand_fill(s, t, uniform_task, &j);
}

sl_status cpu_rand_normal(sli_stream *s, sl_tensor *t, float mean, float std, uint64_t key, uint64_t offset) {
    rng_job j = { key, offset, mean, std, 0, 0, NULL, NULL };
    return rand_fill(s, t, normal_task, &j);
}

sl_status cpu_dropout(sli_stream *s, sl_tensor *out, const sl_tensor *inp, float p, uint64_t key, uint64_t offset) {
    CPU_F32("dropout", out, inp);
    rng_job j = { key, offset, 0, 0, p, 1.0f / (1.0f - p), out->data, inp->data };
    cpu_run(s, sl_tensor_numel(inp), 4096, dropout_task, &j);
    return SL_OK;
}

sl_status cpu_dropout_backward(sli_stream *s, sl_tensor *dinp, const sl_tensor *dout, float p, uint64_t key,
                               uint64_t offset) {
    CPU_F32("dropout_backward", dinp, dout);
    rng_job j = { key, offset, 0, 0, p, 1.0f / (1.0f - p), dinp->data, dout->data };
    cpu_run(s, sl_tensor_numel(dout), 4096, dropout_bwd_task, &j);
    return SL_OK;
}
