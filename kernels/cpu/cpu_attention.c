/* cpu_attention.c — fused multi-head attention on the CPU: per (batch, head) GEMMs through BLAS, masked softmax in scratch, lse saved. */
#include "cpu.h"
#include "cpu_math.h"

typedef struct {
    const sl_attention_opts *o;
    int64_t B, T, C, D, H;
    const float *q, *k, *v, *out, *dout;
    int64_t lq, lk, lv;        /* row strides (elements) */
    int64_t bq, bk, bv;        /* batch strides (elements) */
    float *o_out;
    float *lse;
    const float *clse;
    float *dq, *dk, *dv;
    int64_t ldq, ldk, ldv, bdq, bdk, bdv;
    const unsigned char *mask;
    float *scratch;            /* per slot: 2 * T * T floats */
    int64_t nslots;
} att_job;

static inline bool key_ok(const att_job *j, int64_t b, int64_t t, int64_t s) {
    if (j->o->causal && s > t) return false;
    if (j->mask && !j->mask[b * j->T + s]) return false;
    return true;
}

/* Turn the score row S[t,:] (already scaled) into probabilities in place; returns the lse
 * (-inf when every key is masked, and then the row is zeros). */
CPU_HOT static float softmax_row(const att_job *j, int64_t b, int64_t t, float *row) {
    int64_t T = j->T, lim = j->o->causal ? t + 1 : T;
    float m = -INFINITY;
    for (int64_t s = 0; s < lim; s++) {
        if (!key_ok(j, b, t, s)) continue;
        m = row[s] > m ? row[s] : m;
    }
    if (m == -INFINITY) {
        memset(row, 0, (size_t)T * sizeof(float));
        return -INFINITY;
    }
    float sum = 0;
    if (!j->mask) {
        for (int64_t s = 0; s < lim; s++) { row[s] = cpu_expf(row[s] - m); sum += row[s]; }
    } else {
        for (int64_t s = 0; s < lim; s++) {
            float p = key_ok(j, b, t, s) ? cpu_expf(row[s] - m) : 0.0f;
            row[s] = p;
            sum += p;
        }
    }
    for (int64_t s = lim; s < T; s++) row[s] = 0.0f;
    float inv = 1.0f / sum;
    for (int64_t s = 0; s < lim; s++) row[s] *= inv;
    return m + logf(sum);
}

static void att_fwd_task(void *arg, int64_t slot0, int64_t slot1) {
    const att_job *j = arg;
    int64_t BH = j->B * j->H, T = j->T, D = j->D;
    for (int64_t slot = slot0; slot < slot1; slot++) {
        float *S = j->scratch + slot * 2 * T * T;
        int64_t per = (BH + j->nslots - 1) / j->nslots;
        int64_t p1 = (slot + 1) * per < BH ? (slot + 1) * per : BH;
        for (int64_t p = slot * per; p < p1; p++) {
            int64_t b = p / j->H, h = p % j->H;
            const float *Q = j->q + b * j->bq + h * D, *K = j->k + b * j->bk + h * D, *V = j->v + b * j->bv + h * D;
            cpu_sgemm_serial(false, true, T, T, D, j->o->scale, Q, j->lq, K, j->lk, 0.0f, S, T);
            for (int64_t t = 0; t < T; t++) j->lse[p * T + t] = softmax_row(j, b, t, S + t * T);
            cpu_sgemm_serial(false, false, T, D, T, 1.0f, S, T, V, j->lv, 0.0f, j->o_out + b * T * j->C + h * D, j->C);
        }
    }
}

CPU_HOT static void probs_from_lse(const att_job *j, int64_t b, int64_t p, float *S) {
    int64_t T = j->T;
    for (int64_t t = 0; t < T; t++) {
        float l = j->clse[p * T + t];
        float *row = S + t * T;
        if (l == -INFINITY) { memset(row, 0, (size_t)T * sizeof(float)); continue; }
        for (int64_t s = 0; s < T; s++) row[s] = key_ok(j, b, t, s) ? cpu_expf(row[s] - l) : 0.0f;
    }
}

/* dS = P * (dP - rowdot(dO, O)) in place in dP. */
CPU_HOT static void dscores(const att_job *j, int64_t b, int64_t h, const float *P, float *dP) {
    int64_t T = j->T, D = j->D;
    for (int64_t t = 0; t < T; t++) {
        const float *dO = j->dout + (b * T + t) * j->C + h * D, *O = j->out + (b * T + t) * j->C + h * D;
        float di = 0;
        for (int64_t d = 0; d < D; d++) di += dO[d] * O[d];
        const float *pr = P + t * T;
        float *dr = dP + t * T;
        for (int64_t s = 0; s < T; s++) dr[s] = pr[s] * (dr[s] - di);
    }
}

static void att_bwd_task(void *arg, int64_t slot0, int64_t slot1) {
    const att_job *j = arg;
    int64_t BH = j->B * j->H, T = j->T, D = j->D, C = j->C;
    for (int64_t slot = slot0; slot < slot1; slot++) {
        float *P = j->scratch + slot * 2 * T * T, *dP = P + T * T;
        int64_t per = (BH + j->nslots - 1) / j->nslots;
        int64_t p1 = (slot + 1) * per < BH ? (slot + 1) * per : BH;
        for (int64_t p = slot * per; p < p1; p++) {
            int64_t b = p / j->H, h = p % j->H;
            const float *Q = j->q + b * j->bq + h * D, *K = j->k + b * j->bk + h * D, *V = j->v + b * j->bv + h * D;
            const float *dO = j->dout + b * T * C + h * D;
            cpu_sgemm_serial(false, true, T, T, D, j->o->scale, Q, j->lq, K, j->lk, 0.0f, P, T);
            probs_from_lse(j, b, p, P);
            cpu_sgemm_serial(false, true, T, T, D, 1.0f, dO, C, V, j->lv, 0.0f, dP, T);
            dscores(j, b, h, P, dP);
            if (j->dq)
                cpu_sgemm_serial(false, false, T, D, T, j->o->scale, dP, T, K, j->lk, 1.0f, j->dq + b * j->bdq + h * D,
                                 j->ldq);
            if (j->dk)
                cpu_sgemm_serial(true, false, T, D, T, j->o->scale, dP, T, Q, j->lq, 1.0f, j->dk + b * j->bdk + h * D,
                                 j->ldk);
            if (j->dv)
                cpu_sgemm_serial(true, false, T, D, T, 1.0f, P, T, dO, C, 1.0f, j->dv + b * j->bdv + h * D, j->ldv);
        }
    }
}

static int64_t row_stride(const sl_tensor *t) { return t->shape[1] <= 1 ? t->shape[2] : t->strides[1] / 4; }

static sl_status setup(sli_stream *s, att_job *j, const sl_tensor *q, const sl_tensor *k, const sl_tensor *v,
                       const sl_tensor *mask, const sl_attention_opts *o) {
    const sl_tensor *ts[3] = { q, k, v };
    for (int i = 0; i < 3; i++)
        if (ts[i]->strides[0] % 4 || ts[i]->strides[1] % 4)
            return sl_set_error(SL_ERR_UNSUPPORTED, "attention: strides must be whole elements");
    j->o = o;
    j->B = q->shape[0]; j->T = q->shape[1]; j->C = q->shape[2]; j->H = o->n_head; j->D = j->C / j->H;
    j->q = q->data; j->k = k->data; j->v = v->data;
    j->lq = row_stride(q); j->lk = row_stride(k); j->lv = row_stride(v);
    j->bq = q->strides[0] / 4; j->bk = k->strides[0] / 4; j->bv = v->strides[0] / 4;
    j->mask = mask ? mask->data : NULL;
    int64_t BH = j->B * j->H;
    j->nslots = BH < cpu_threads(s) ? BH : cpu_threads(s);
    if (j->nslots < 1) j->nslots = 1;
    j->scratch = cpu_workspace(s, (size_t)(j->nslots * 2 * j->T * j->T) * sizeof(float));
    if (!j->scratch && j->T) return SL_ERR_NOMEM;
    return SL_OK;
}

sl_status cpu_attention(sli_stream *s, sl_tensor *out, sl_tensor *lse, const sl_tensor *q, const sl_tensor *k,
                        const sl_tensor *v, const sl_tensor *mask, const sl_attention_opts *o) {
    CPU_F32("attention", out, q, k, v);
    att_job j;
    memset(&j, 0, sizeof j);
    sl_status st = setup(s, &j, q, k, v, mask, o);
    if (st != SL_OK) return st;
    j.o_out = out->data;
    j.lse = lse->data;
    if (j.B * j.T == 0) return SL_OK;
    cpu_run(s, j.nslots, 1, att_fwd_task, &j);
    return SL_OK;
}

sl_status cpu_attention_backward(sli_stream *s, sl_tensor *dq, sl_tensor *dk, sl_tensor *dv, const sl_tensor *dout,
                                 const sl_tensor *q, const sl_tensor *k, const sl_tensor *v, const sl_tensor *mask,
                                 const sl_tensor *out, const sl_tensor *lse, const sl_attention_opts *o) {
    CPU_F32("attention_backward", dq, dk, dv, dout, q, k, v, out);
    att_job j;
    memset(&j, 0, sizeof j);
    sl_status st = setup(s, &j, q, k, v, mask, o);
    if (st != SL_OK) return st;
    const sl_tensor *gs[3] = { dq, dk, dv };
    for (int i = 0; i < 3; i++)
        if (gs[i] && (gs[i]->strides[0] % 4 || gs[i]->strides[1] % 4))
            return sl_set_error(SL_ERR_UNSUPPORTED, "attention_backward: strides must be whole elements");
    j.out = out->data;
    j.dout = dout->data;
    j.clse = lse->data;
    if (dq) { j.dq = dq->data; j.ldq = row_stride(dq); j.bdq = dq->strides[0] / 4; }
    if (dk) { j.dk = dk->data; j.ldk = row_stride(dk); j.bdk = dk->strides[0] / 4; }
    if (dv) { j.dv = dv->data; j.ldv = row_stride(dv); j.bdv = dv->strides[0] / 4; }
    if (j.B * j.T == 0) return SL_OK;
    cpu_run(s, j.nslots, 1, att_bwd_task, &j);
    return SL_OK;
}
