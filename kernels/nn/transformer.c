/* transformer.c — GPT-2 / BERT stacks: parameters, activations, forward, hand-written backward, AdamW step. */
#define _POSIX_C_SOURCE 200809L
#include "transformer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY(x) do { sl_status _s = (x); if (_s != SL_OK) return _s; } while (0)
#define MAX_PARAMS 512

/* Parameters of one block (indices into the model's parameter list). */
typedef struct { int ln1_w, ln1_b, qkv_w, qkv_b, proj_w, proj_b, ln2_w, ln2_b, fc_w, fc_b, fc2_w, fc2_b; } blk_idx;

/* Activations of one block saved for the backward, (B,T,.) each. */
typedef struct {
    sl_tensor *x_in, *ln1, *m1, *r1, *qkv, *q, *k, *v, *att, *lse, *proj, *res2, *ln2, *m2, *r2, *fch, *fcg, *fc2, *sum2;
    uint64_t drop_off[2];
} blk_act;

struct sl_nn_model {
    sl_ctx *ctx;
    sl_nn_config cfg;
    int B, T;
    int np;
    char *names[MAX_PARAMS];
    sl_tensor *p[MAX_PARAMS], *g[MAX_PARAMS], *m[MAX_PARAMS], *v[MAX_PARAMS];
    int wte, wpe, wtt, lne_w, lne_b, lnf_w, lnf_b, head_w, head_b;
    blk_idx *blk;
    blk_act *act;
    sl_tensor *ids, *tids, *mask, *targets;
    sl_tensor *emb, *emb2, *embm, *embr, *h_out, *lnf, *lnfm, *lnfr, *logits, *losses, *lse;
    sl_tensor *dres, *dA, *dB, *dqkv, *dq, *dk, *dv, *datt, *dfch, *dfcg, *dlogits, *dlosses, *dlnf;
    uint64_t emb_drop_off;
    bool have_mask, have_targets, train;
    int64_t ignore;
    int64_t step;
};

static sl_status add_param(sl_nn_model *m, const char *name, int ndim, int64_t d0, int64_t d1, int *idx) {
    if (m->np >= MAX_PARAMS) return sl_set_error(SL_ERR_RANGE, "nn: too many parameters");
    int64_t shape[2] = { d0, d1 };
    int i = m->np;
    m->names[i] = strdup(name);
    if (!m->names[i]) return sl_set_error(SL_ERR_NOMEM, "nn: out of memory");
    m->np++;
    TRY(sl_tensor_create(m->ctx, SL_F32, ndim, shape, &m->p[i]));
    TRY(sl_tensor_create(m->ctx, SL_F32, ndim, shape, &m->g[i]));
    TRY(sl_tensor_create(m->ctx, SL_F32, ndim, shape, &m->m[i]));
    TRY(sl_tensor_create(m->ctx, SL_F32, ndim, shape, &m->v[i]));
    TRY(sl_tensor_zero(m->ctx, m->p[i]));
    TRY(sl_tensor_zero(m->ctx, m->g[i]));
    TRY(sl_tensor_zero(m->ctx, m->m[i]));
    TRY(sl_tensor_zero(m->ctx, m->v[i]));
    *idx = i;
    return SL_OK;
}

static sl_status act3(sl_nn_model *m, int64_t C, sl_tensor **t) {
    int64_t s[3] = { m->B, m->T, C };
    return sl_tensor_create(m->ctx, SL_F32, 3, s, t);
}
static sl_status act1(sl_nn_model *m, sl_tensor **t) {
    int64_t s[1] = { (int64_t)m->B * m->T };
    return sl_tensor_create(m->ctx, SL_F32, 1, s, t);
}

static sl_status build(sl_nn_model *m) {
    const sl_nn_config *c = &m->cfg;
    int64_t C = c->d_model, F = c->d_ff, V = c->vocab, H = c->n_head;
    bool gpt = c->arch == SL_NN_GPT2;
    char nm[128];
    if (gpt) {
        TRY(add_param(m, "wte", 2, V, C, &m->wte));
        TRY(add_param(m, "wpe", 2, c->max_pos, C, &m->wpe));
    } else {
        TRY(add_param(m, "embeddings.word_embeddings.weight", 2, V, C, &m->wte));
        TRY(add_param(m, "embeddings.position_embeddings.weight", 2, c->max_pos, C, &m->wpe));
        TRY(add_param(m, "embeddings.token_type_embeddings.weight", 2, c->type_vocab, C, &m->wtt));
        TRY(add_param(m, "embeddings.LayerNorm.weight", 1, C, 0, &m->lne_w));
        TRY(add_param(m, "embeddings.LayerNorm.bias", 1, C, 0, &m->lne_b));
    }
    m->blk = calloc((size_t)c->n_layer, sizeof *m->blk);
    m->act = calloc((size_t)c->n_layer, sizeof *m->act);
    if (!m->blk || !m->act) return sl_set_error(SL_ERR_NOMEM, "nn: out of memory");
    for (int l = 0; l < c->n_layer; l++) {
        blk_idx *b = &m->blk[l];
        const char *pre = gpt ? "h" : "encoder.layer";
#define P(field, suffix, nd, d0, d1) \
        snprintf(nm, sizeof nm, "%s.%d.%s", pre, l, suffix); TRY(add_param(m, nm, nd, d0, d1, &b->field));
        if (gpt) {
            P(ln1_w, "ln_1.weight", 1, C, 0) P(ln1_b, "ln_1.bias", 1, C, 0)
            P(qkv_w, "attn.c_attn.weight", 2, 3 * C, C) P(qkv_b, "attn.c_attn.bias", 1, 3 * C, 0)
            P(proj_w, "attn.c_proj.weight", 2, C, C) P(proj_b, "attn.c_proj.bias", 1, C, 0)
            P(ln2_w, "ln_2.weight", 1, C, 0) P(ln2_b, "ln_2.bias", 1, C, 0)
            P(fc_w, "mlp.c_fc.weight", 2, F, C) P(fc_b, "mlp.c_fc.bias", 1, F, 0)
            P(fc2_w, "mlp.c_proj.weight", 2, C, F) P(fc2_b, "mlp.c_proj.bias", 1, C, 0)
        } else {
            P(qkv_w, "attention.self.qkv.weight", 2, 3 * C, C) P(qkv_b, "attention.self.qkv.bias", 1, 3 * C, 0)
            P(proj_w, "attention.output.dense.weight", 2, C, C) P(proj_b, "attention.output.dense.bias", 1, C, 0)
            P(ln1_w, "attention.output.LayerNorm.weight", 1, C, 0) P(ln1_b, "attention.output.LayerNorm.bias", 1, C, 0)
            P(fc_w, "intermediate.dense.weight", 2, F, C) P(fc_b, "intermediate.dense.bias", 1, F, 0)
            P(fc2_w, "output.dense.weight", 2, C, F) P(fc2_b, "output.dense.bias", 1, C, 0)
            P(ln2_w, "output.LayerNorm.weight", 1, C, 0) P(ln2_b, "output.LayerNorm.bias", 1, C, 0)
        }
#undef P
        blk_act *a = &m->act[l];
        TRY(act3(m, C, &a->x_in));
        TRY(act3(m, 3 * C, &a->qkv));
        TRY(sl_tensor_slice(a->qkv, 2, 0, C, &a->q));
        TRY(sl_tensor_slice(a->qkv, 2, C, C, &a->k));
        TRY(sl_tensor_slice(a->qkv, 2, 2 * C, C, &a->v));
        TRY(act3(m, C, &a->att));
        int64_t ls[3] = { m->B, H, m->T };
        TRY(sl_tensor_create(m->ctx, SL_F32, 3, ls, &a->lse));
        TRY(act3(m, C, &a->proj));
        TRY(act3(m, C, &a->res2));
        TRY(act3(m, C, &a->ln2));
        TRY(act1(m, &a->m1)); TRY(act1(m, &a->r1)); TRY(act1(m, &a->m2)); TRY(act1(m, &a->r2));
        TRY(act3(m, F, &a->fch));
        TRY(act3(m, F, &a->fcg));
        TRY(act3(m, C, &a->fc2));
        if (gpt) TRY(act3(m, C, &a->ln1));
        else TRY(act3(m, C, &a->sum2));
    }
    if (gpt) {
        TRY(add_param(m, "ln_f.weight", 1, C, 0, &m->lnf_w));
        TRY(add_param(m, "ln_f.bias", 1, C, 0, &m->lnf_b));
        TRY(act3(m, C, &m->lnf)); TRY(act1(m, &m->lnfm)); TRY(act1(m, &m->lnfr)); TRY(act3(m, C, &m->dlnf));
    } else {
        TRY(add_param(m, "cls.weight", 2, V, C, &m->head_w));
        TRY(add_param(m, "cls.bias", 1, V, 0, &m->head_b));
        TRY(act3(m, C, &m->emb2)); TRY(act1(m, &m->embm)); TRY(act1(m, &m->embr));
    }
    int64_t bt[2] = { m->B, m->T };
    TRY(sl_tensor_create(m->ctx, SL_I32, 2, bt, &m->ids));
    TRY(sl_tensor_create(m->ctx, SL_I32, 2, bt, &m->tids));
    TRY(sl_tensor_create(m->ctx, SL_U8, 2, bt, &m->mask));
    TRY(sl_tensor_create(m->ctx, SL_I32, 2, bt, &m->targets));
    TRY(act3(m, C, &m->emb));
    TRY(act3(m, C, &m->h_out));
    TRY(act3(m, V, &m->logits));
    TRY(act3(m, V, &m->dlogits));
    TRY(act1(m, &m->losses)); TRY(act1(m, &m->lse)); TRY(act1(m, &m->dlosses));
    TRY(act3(m, C, &m->dres)); TRY(act3(m, C, &m->dA)); TRY(act3(m, C, &m->dB));
    TRY(act3(m, 3 * C, &m->dqkv));
    TRY(sl_tensor_slice(m->dqkv, 2, 0, C, &m->dq));
    TRY(sl_tensor_slice(m->dqkv, 2, C, C, &m->dk));
    TRY(sl_tensor_slice(m->dqkv, 2, 2 * C, C, &m->dv));
    TRY(act3(m, C, &m->datt));
    TRY(act3(m, F, &m->dfch));
    TRY(act3(m, F, &m->dfcg));
    return SL_OK;
}

sl_status sl_nn_create(sl_ctx *ctx, const sl_nn_config *cfg, int B, int T, sl_nn_model **out) {
    *out = NULL;
    if (!cfg || B < 1 || T < 1 || cfg->n_layer < 1 || cfg->n_head < 1 || cfg->d_model % cfg->n_head ||
        cfg->vocab < 1 || cfg->d_ff < 1 || T > cfg->max_pos || (cfg->arch == SL_NN_BERT && cfg->type_vocab < 1))
        return sl_set_error(SL_ERR_INVALID, "nn: invalid configuration or batch shape");
    sl_nn_model *m = calloc(1, sizeof *m);
    if (!m) return sl_set_error(SL_ERR_NOMEM, "nn: out of memory");
    m->ctx = ctx;
    m->cfg = *cfg;
    m->B = B;
    m->T = T;
    m->wtt = m->lne_w = m->lne_b = m->lnf_w = m->lnf_b = m->head_w = m->head_b = -1;
    sl_status st = build(m);
    if (st != SL_OK) { sl_nn_destroy(m); return st; }
    *out = m;
    return SL_OK;
}

void sl_nn_destroy(sl_nn_model *m) {
    if (!m) return;
    for (int i = 0; i < m->np; i++) {
        free(m->names[i]);
        sl_tensor_destroy(m->p[i]); sl_tensor_destroy(m->g[i]); sl_tensor_destroy(m->m[i]); sl_tensor_destroy(m->v[i]);
    }
    if (m->act)
        for (int l = 0; l < m->cfg.n_layer; l++) {
            blk_act *a = &m->act[l];
            sl_tensor *ts[] = { a->x_in, a->ln1, a->m1, a->r1, a->qkv, a->q, a->k, a->v, a->att, a->lse, a->proj,
                                a->res2, a->ln2, a->m2, a->r2, a->fch, a->fcg, a->fc2, a->sum2 };
            for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
        }
    sl_tensor *ts[] = { m->ids, m->tids, m->mask, m->targets, m->emb, m->emb2, m->embm, m->embr, m->h_out, m->lnf,
                        m->lnfm, m->lnfr, m->logits, m->losses, m->lse, m->dres, m->dA, m->dB, m->dqkv, m->dq, m->dk,
                        m->dv, m->datt, m->dfch, m->dfcg, m->dlogits, m->dlosses, m->dlnf };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
    free(m->blk);
    free(m->act);
    free(m);
}

int sl_nn_param_count(const sl_nn_model *m) { return m->np; }
const char *sl_nn_param_name(const sl_nn_model *m, int i) { return i >= 0 && i < m->np ? m->names[i] : NULL; }
sl_tensor *sl_nn_param(sl_nn_model *m, int i) { return i >= 0 && i < m->np ? m->p[i] : NULL; }
sl_tensor *sl_nn_grad(sl_nn_model *m, int i) { return i >= 0 && i < m->np ? m->g[i] : NULL; }
const sl_tensor *sl_nn_logits(const sl_nn_model *m) { return m->logits; }

sl_status sl_nn_init_normal(sl_nn_model *m, float std) {
    for (int i = 0; i < m->np; i++) {
        const char *n = m->names[i];
        bool is_ln = strstr(n, "ln_") || strstr(n, "LayerNorm");
        bool is_bias = strlen(n) > 5 && !strcmp(n + strlen(n) - 5, ".bias");
        if (is_ln && !is_bias) TRY(sl_tensor_fill(m->ctx, m->p[i], 1.0));
        else if (is_bias) TRY(sl_tensor_zero(m->ctx, m->p[i]));
        else TRY(sl_tensor_rand_normal(m->ctx, m->p[i], 0.0f, std,
                                       sl_ctx_rng_advance(m->ctx, (uint64_t)sl_tensor_numel(m->p[i]))));
    }
    return SL_OK;
}

sl_status sl_nn_load(sl_nn_model *m, const sl_safetensors *st, const char *prefix) {
    for (int i = 0; i < m->np; i++) {
        char name[256];
        snprintf(name, sizeof name, "%s%s", prefix ? prefix : "", m->names[i]);
        sl_tensor *t;
        TRY(sl_safetensors_get(st, name, &t));
        sl_status s = SL_OK;
        if (!sl_tensor_same_shape(t, m->p[i])) {
            char a[64], b[64];
            s = sl_set_error(SL_ERR_INVALID, "nn: checkpoint tensor '%s' is %s, the model expects %s", name,
                             sl_tensor_describe(t, a, sizeof a), sl_tensor_describe(m->p[i], b, sizeof b));
        }
        if (s == SL_OK) s = sl_tensor_copy(m->ctx, m->p[i], t);
        sl_tensor_destroy(t);
        TRY(s);
    }
    return SL_OK;
}

sl_status sl_nn_zero_grad(sl_nn_model *m) {
    for (int i = 0; i < m->np; i++) TRY(sl_tensor_zero(m->ctx, m->g[i]));
    return SL_OK;
}

/* Dropout in place (train mode, p > 0); remembers the counter offset for the backward. */
static sl_status drop(sl_nn_model *m, sl_tensor *t, uint64_t *off) {
    if (!m->train || m->cfg.dropout <= 0) return SL_OK;
    *off = sl_ctx_rng_advance(m->ctx, (uint64_t)sl_tensor_numel(t));
    return sl_dropout(m->ctx, t, t, m->cfg.dropout, *off);
}

/* Backward of an in-place dropout on a gradient buffer: g = mask * g / (1 - p). */
static sl_status drop_bwd(sl_nn_model *m, sl_tensor *g, uint64_t off, sl_tensor *scratch) {
    if (!m->train || m->cfg.dropout <= 0) return SL_OK;
    TRY(sl_tensor_zero(m->ctx, scratch));
    TRY(sl_dropout_backward(m->ctx, scratch, g, m->cfg.dropout, off));
    return sl_tensor_copy(m->ctx, g, scratch);
}

sl_status sl_nn_forward(sl_nn_model *m, const int32_t *ids, const int32_t *type_ids, const uint8_t *key_mask,
                        const int32_t *targets, int64_t ignore_index, bool train, float *loss) {
    sl_ctx *ctx = m->ctx;
    const sl_nn_config *c = &m->cfg;
    size_t n = (size_t)m->B * (size_t)m->T;
    bool gpt = c->arch == SL_NN_GPT2;
    m->train = train;
    TRY(sl_tensor_from_host(ctx, m->ids, ids, n * sizeof(int32_t)));
    m->have_mask = !gpt && key_mask;
    if (m->have_mask) TRY(sl_tensor_from_host(ctx, m->mask, key_mask, n));
    sl_attention_opts ao = { c->n_head, gpt, 0 };
    const sl_tensor *mask = m->have_mask ? m->mask : NULL;

    /* embeddings */
    TRY(sl_embedding(ctx, m->emb, m->ids, m->p[m->wte], m->p[m->wpe], 0));
    if (!gpt) {
        if (type_ids) TRY(sl_tensor_from_host(ctx, m->tids, type_ids, n * sizeof(int32_t)));
        else TRY(sl_tensor_zero(ctx, m->tids));
        TRY(sl_embedding(ctx, m->emb2, m->tids, m->p[m->wtt], NULL, 0));
        TRY(sl_add(ctx, m->emb, m->emb, m->emb2));
        TRY(sl_layernorm(ctx, m->act[0].x_in, m->embm, m->embr, m->emb, m->p[m->lne_w], m->p[m->lne_b], c->ln_eps));
    } else {
        TRY(sl_tensor_copy(ctx, m->act[0].x_in, m->emb));
    }
    TRY(drop(m, m->act[0].x_in, &m->emb_drop_off));

    for (int l = 0; l < c->n_layer; l++) {
        blk_idx *b = &m->blk[l];
        blk_act *a = &m->act[l];
        sl_tensor *out = l + 1 < c->n_layer ? m->act[l + 1].x_in : m->h_out;
        sl_tensor **P = m->p;
        if (gpt) {
            TRY(sl_layernorm(ctx, a->ln1, a->m1, a->r1, a->x_in, P[b->ln1_w], P[b->ln1_b], c->ln_eps));
            TRY(sl_linear(ctx, a->qkv, a->ln1, P[b->qkv_w], P[b->qkv_b]));
        } else {
            TRY(sl_linear(ctx, a->qkv, a->x_in, P[b->qkv_w], P[b->qkv_b]));
        }
        TRY(sl_attention(ctx, a->att, a->lse, a->q, a->k, a->v, mask, &ao));
        TRY(sl_linear(ctx, a->proj, a->att, P[b->proj_w], P[b->proj_b]));
        TRY(drop(m, a->proj, &a->drop_off[0]));
        TRY(sl_add(ctx, a->res2, a->x_in, a->proj));
        if (gpt) {
            TRY(sl_layernorm(ctx, a->ln2, a->m2, a->r2, a->res2, P[b->ln2_w], P[b->ln2_b], c->ln_eps));
        } else { /* BERT: ln2 holds LN1(x + attn) */
            TRY(sl_layernorm(ctx, a->ln2, a->m1, a->r1, a->res2, P[b->ln1_w], P[b->ln1_b], c->ln_eps));
        }
        TRY(sl_linear(ctx, a->fch, a->ln2, P[b->fc_w], P[b->fc_b]));
        TRY(sl_gelu(ctx, a->fcg, a->fch, gpt ? SL_GELU_TANH : SL_GELU_ERF));
        TRY(sl_linear(ctx, a->fc2, a->fcg, P[b->fc2_w], P[b->fc2_b]));
        TRY(drop(m, a->fc2, &a->drop_off[1]));
        if (gpt) {
            TRY(sl_add(ctx, out, a->res2, a->fc2));
        } else {
            TRY(sl_add(ctx, a->sum2, a->ln2, a->fc2));
            TRY(sl_layernorm(ctx, out, a->m2, a->r2, a->sum2, P[b->ln2_w], P[b->ln2_b], c->ln_eps));
        }
    }
    if (gpt) {
        TRY(sl_layernorm(ctx, m->lnf, m->lnfm, m->lnfr, m->h_out, m->p[m->lnf_w], m->p[m->lnf_b], c->ln_eps));
        TRY(sl_linear(ctx, m->logits, m->lnf, m->p[m->wte], NULL));
    } else {
        TRY(sl_linear(ctx, m->logits, m->h_out, m->p[m->head_w], m->p[m->head_b]));
    }
    m->have_targets = targets != NULL;
    if (!targets) return SL_OK;
    m->ignore = ignore_index;
    TRY(sl_tensor_from_host(ctx, m->targets, targets, n * sizeof(int32_t)));
    TRY(sl_cross_entropy(ctx, m->losses, m->lse, m->logits, m->targets, ignore_index));
    int64_t valid = 0;
    for (size_t i = 0; i < n; i++) valid += targets[i] != ignore_index;
    TRY(sl_tensor_fill(ctx, m->dlosses, valid ? 1.0 / (double)valid : 0.0));
    if (loss) {
        float *host = malloc(n * sizeof(float));
        if (!host) return sl_set_error(SL_ERR_NOMEM, "nn: out of memory");
        sl_status s = sl_tensor_to_host(ctx, m->losses, host, n * sizeof(float));
        double sum = 0;
        for (size_t i = 0; i < n; i++) sum += host[i];
        free(host);
        TRY(s);
        *loss = valid ? (float)(sum / (double)valid) : 0.0f;
    }
    return SL_OK;
}

sl_status sl_nn_backward(sl_nn_model *m) {
    if (!m->have_targets) return sl_set_error(SL_ERR_INVALID, "nn: backward needs a forward with targets");
    sl_ctx *ctx = m->ctx;
    const sl_nn_config *c = &m->cfg;
    bool gpt = c->arch == SL_NN_GPT2;
    sl_attention_opts ao = { c->n_head, gpt, 0 };
    const sl_tensor *mask = m->have_mask ? m->mask : NULL;
    sl_tensor **P = m->p, **G = m->g;

    TRY(sl_tensor_zero(ctx, m->dlogits));
    TRY(sl_cross_entropy_backward(ctx, m->dlogits, m->dlosses, m->logits, m->lse, m->targets, m->ignore));
    TRY(sl_tensor_zero(ctx, m->dres));
    if (gpt) {
        TRY(sl_tensor_zero(ctx, m->dlnf));
        TRY(sl_linear_backward(ctx, m->dlnf, G[m->wte], NULL, m->dlogits, m->lnf, P[m->wte]));
        TRY(sl_layernorm_backward(ctx, m->dres, G[m->lnf_w], G[m->lnf_b], m->dlnf, m->h_out, P[m->lnf_w], m->lnfm,
                                  m->lnfr));
    } else {
        TRY(sl_linear_backward(ctx, m->dres, G[m->head_w], G[m->head_b], m->dlogits, m->h_out, P[m->head_w]));
    }
    /* m->dres holds d(out of the block) */
    for (int l = c->n_layer - 1; l >= 0; l--) {
        blk_idx *b = &m->blk[l];
        blk_act *a = &m->act[l];
        sl_tensor *dy = m->dres, *dA = m->dA, *dB = m->dB;
        if (gpt) {
            /* y = res2 + fc2: dres is also d(res2) */
            TRY(sl_tensor_copy(ctx, dB, dy));
            TRY(drop_bwd(m, dB, a->drop_off[1], dA));
            TRY(sl_tensor_zero(ctx, m->dfcg));
            TRY(sl_linear_backward(ctx, m->dfcg, G[b->fc2_w], G[b->fc2_b], dB, a->fcg, P[b->fc2_w]));
            TRY(sl_tensor_zero(ctx, m->dfch));
            TRY(sl_gelu_backward(ctx, m->dfch, m->dfcg, a->fch, SL_GELU_TANH));
            TRY(sl_tensor_zero(ctx, dA));
            TRY(sl_linear_backward(ctx, dA, G[b->fc_w], G[b->fc_b], m->dfch, a->ln2, P[b->fc_w]));
            TRY(sl_layernorm_backward(ctx, dy, G[b->ln2_w], G[b->ln2_b], dA, a->res2, P[b->ln2_w], a->m2, a->r2));
            /* res2 = x + proj: dy is now d(res2) = d(x) residual part and d(proj) */
            TRY(sl_tensor_copy(ctx, dB, dy));
            TRY(drop_bwd(m, dB, a->drop_off[0], dA));
            TRY(sl_tensor_zero(ctx, m->datt));
            TRY(sl_linear_backward(ctx, m->datt, G[b->proj_w], G[b->proj_b], dB, a->att, P[b->proj_w]));
            TRY(sl_tensor_zero(ctx, m->dqkv));
            TRY(sl_attention_backward(ctx, m->dq, m->dk, m->dv, m->datt, a->q, a->k, a->v, mask, a->att, a->lse, &ao));
            TRY(sl_tensor_zero(ctx, dA));
            TRY(sl_linear_backward(ctx, dA, G[b->qkv_w], G[b->qkv_b], m->dqkv, a->ln1, P[b->qkv_w]));
            TRY(sl_layernorm_backward(ctx, dy, G[b->ln1_w], G[b->ln1_b], dA, a->x_in, P[b->ln1_w], a->m1, a->r1));
        } else {
            /* out = LN2(sum2), sum2 = ln2 + fc2 (ln2 = LN1(res2)), res2 = x + proj */
            TRY(sl_tensor_zero(ctx, dA));
            TRY(sl_layernorm_backward(ctx, dA, G[b->ln2_w], G[b->ln2_b], dy, a->sum2, P[b->ln2_w], a->m2, a->r2));
            TRY(sl_tensor_copy(ctx, dB, dA)); /* d(ln2) via the residual */
            TRY(drop_bwd(m, dA, a->drop_off[1], dy));
            TRY(sl_tensor_zero(ctx, m->dfcg));
            TRY(sl_linear_backward(ctx, m->dfcg, G[b->fc2_w], G[b->fc2_b], dA, a->fcg, P[b->fc2_w]));
            TRY(sl_tensor_zero(ctx, m->dfch));
            TRY(sl_gelu_backward(ctx, m->dfch, m->dfcg, a->fch, SL_GELU_ERF));
            TRY(sl_linear_backward(ctx, dB, G[b->fc_w], G[b->fc_b], m->dfch, a->ln2, P[b->fc_w]));
            TRY(sl_tensor_zero(ctx, dy));
            TRY(sl_layernorm_backward(ctx, dy, G[b->ln1_w], G[b->ln1_b], dB, a->res2, P[b->ln1_w], a->m1, a->r1));
            /* dy = d(res2) = d(x) residual part and d(proj) */
            TRY(sl_tensor_copy(ctx, dB, dy));
            TRY(drop_bwd(m, dB, a->drop_off[0], dA));
            TRY(sl_tensor_zero(ctx, m->datt));
            TRY(sl_linear_backward(ctx, m->datt, G[b->proj_w], G[b->proj_b], dB, a->att, P[b->proj_w]));
            TRY(sl_tensor_zero(ctx, m->dqkv));
            TRY(sl_attention_backward(ctx, m->dq, m->dk, m->dv, m->datt, a->q, a->k, a->v, mask, a->att, a->lse, &ao));
            TRY(sl_linear_backward(ctx, dy, G[b->qkv_w], G[b->qkv_b], m->dqkv, a->x_in, P[b->qkv_w]));
        }
    }
    /* m->dres = d(x_in of block 0) */
    TRY(drop_bwd(m, m->dres, m->emb_drop_off, m->dA));
    if (gpt) {
        TRY(sl_embedding_backward(ctx, G[m->wte], G[m->wpe], m->dres, m->ids, 0));
    } else {
        TRY(sl_tensor_zero(ctx, m->dA));
        TRY(sl_layernorm_backward(ctx, m->dA, G[m->lne_w], G[m->lne_b], m->dres, m->emb, P[m->lne_w], m->embm, m->embr));
        TRY(sl_embedding_backward(ctx, G[m->wte], G[m->wpe], m->dA, m->ids, 0));
        TRY(sl_embedding_backward(ctx, G[m->wtt], NULL, m->dA, m->tids, 0));
    }
    return SL_OK;
}

sl_status sl_nn_step(sl_nn_model *m, const sl_adamw_opts *opts, float max_norm, float *grad_norm) {
    sl_adamw_opts o = *opts;
    if (max_norm > 0 || grad_norm) {
        float norm;
        TRY(sl_global_norm(m->ctx, m->g, m->np, &norm));
        if (grad_norm) *grad_norm = norm;
        if (max_norm > 0) {
            double coef = (double)max_norm / ((double)norm + 1e-6);
            if (coef < 1.0) o.grad_scale *= (float)coef;
        }
    }
    m->step++;
    for (int i = 0; i < m->np; i++) TRY(sl_adamw(m->ctx, m->p[i], m->g[i], m->m[i], m->v[i], NULL, m->step, &o));
    return SL_OK;
}
