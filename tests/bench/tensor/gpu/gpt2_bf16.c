/* gpt2_bf16.c — GPT-2 forward, hand-written backward and AdamW step in bf16 mixed precision on the tensor API (the llm.c schedule). */
#define _POSIX_C_SOURCE 200809L
#include "gpt2_bf16.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRY(x) do { sl_status _s = (x); if (_s != SL_OK) return _s; } while (0)
#define MAXP 512

/* Parameters live in flat buffers (f32 master, bf16 copy, bf16 gradient, f32 m and v), matrices
 * first, so AdamW runs as two fused calls (with and without weight decay). */
typedef struct {
    char name[64];
    int ndim;
    int64_t shape[2];
    int64_t off;                 /* element offset in the flat buffers */
    sl_tensor *w32, *w, *g;      /* views: master, bf16 copy, bf16 grad */
} param;

typedef struct { int ln1w, ln1b, qkvw, qkvb, projw, projb, ln2w, ln2b, fcw, fcb, fc2w, fc2b; } layer_idx;

typedef struct {
    sl_tensor *res, *ln1, *m1, *r1, *qkv, *q, *k, *v, *att, *lse, *res2, *ln2, *m2, *r2, *fch, *fcg;
    sl_tensor *dq, *dk, *dv;     /* views into the shared dqkv */
} layer_act;

struct gpt2 {
    sl_ctx *ctx;
    gpt2_config c;
    int B, T;
    int np;
    param p[MAXP];
    int64_t n_all, n_decay;      /* elements in total, in the decayed (first) part */
    sl_tensor *P32, *Pb, *G, *M, *V;                  /* flat buffers */
    sl_tensor *P32d, *P32n, *Pbd, *Pbn, *Gd, *Gn, *Md, *Mn, *Vd, *Vn, *Gall;
    int wte, wpe, lnfw, lnfb;
    layer_idx *li;
    layer_act *la;
    sl_tensor *ids, *targets, *out_res, *lnf, *lnfm, *lnfr, *logits, *losses, *ce_lse, *dlosses, *loss;
    sl_tensor *tmp, *dres, *dtmp, *dqkv, *dfcg, *dfch, *dlogits;
};

static sl_status new_t(sl_ctx *ctx, sl_dtype dt, int ndim, int64_t a, int64_t b, int64_t c, sl_tensor **t) {
    int64_t s[3] = { a, b, c };
    return sl_tensor_create(ctx, dt, ndim, s, t);
}

static sl_status add_param(gpt2 *m, const char *name, int ndim, int64_t d0, int64_t d1, int *idx) {
    if (m->np >= MAXP) return sl_set_error(SL_ERR_RANGE, "gpt2: too many parameters");
    param *p = &m->p[m->np];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->shape[0] = d0;
    p->shape[1] = d1;
    *idx = m->np++;
    return SL_OK;
}

static int64_t numel(const param *p) { return p->ndim == 1 ? p->shape[0] : p->shape[0] * p->shape[1]; }

static sl_status view_of(const sl_tensor *flat, const param *p, sl_tensor **out) {
    int64_t es = (int64_t)sl_dtype_size(flat->dtype);
    int64_t st[2] = { p->ndim == 2 ? p->shape[1] * es : es, es };
    return sl_tensor_view(flat, p->ndim, p->shape, st, p->off * es, out);
}

static sl_status flat_view(const sl_tensor *flat, int64_t start, int64_t n, sl_tensor **out) {
    return sl_tensor_slice(flat, 0, start, n, out);
}

static sl_status layout(gpt2 *m) {
    const gpt2_config *c = &m->c;
    int64_t C = c->d_model, L = c->n_layer;
    char nm[64];
    m->li = calloc((size_t)L, sizeof *m->li);
    if (!m->li) return sl_set_error(SL_ERR_NOMEM, "gpt2: out of memory");
    /* matrices (weight decay) */
    TRY(add_param(m, "wte", 2, c->vocab, C, &m->wte));
    TRY(add_param(m, "wpe", 2, c->max_pos, C, &m->wpe));
    for (int l = 0; l < L; l++) {
        layer_idx *x = &m->li[l];
        snprintf(nm, sizeof nm, "h.%d.attn.c_attn.weight", l); TRY(add_param(m, nm, 2, 3 * C, C, &x->qkvw));
        snprintf(nm, sizeof nm, "h.%d.attn.c_proj.weight", l); TRY(add_param(m, nm, 2, C, C, &x->projw));
        snprintf(nm, sizeof nm, "h.%d.mlp.c_fc.weight", l); TRY(add_param(m, nm, 2, 4 * C, C, &x->fcw));
        snprintf(nm, sizeof nm, "h.%d.mlp.c_proj.weight", l); TRY(add_param(m, nm, 2, C, 4 * C, &x->fc2w));
    }
    int first_vec = m->np;
    for (int l = 0; l < L; l++) {
        layer_idx *x = &m->li[l];
        snprintf(nm, sizeof nm, "h.%d.ln_1.weight", l); TRY(add_param(m, nm, 1, C, 0, &x->ln1w));
        snprintf(nm, sizeof nm, "h.%d.ln_1.bias", l); TRY(add_param(m, nm, 1, C, 0, &x->ln1b));
        snprintf(nm, sizeof nm, "h.%d.attn.c_attn.bias", l); TRY(add_param(m, nm, 1, 3 * C, 0, &x->qkvb));
        snprintf(nm, sizeof nm, "h.%d.attn.c_proj.bias", l); TRY(add_param(m, nm, 1, C, 0, &x->projb));
        snprintf(nm, sizeof nm, "h.%d.ln_2.weight", l); TRY(add_param(m, nm, 1, C, 0, &x->ln2w));
        snprintf(nm, sizeof nm, "h.%d.ln_2.bias", l); TRY(add_param(m, nm, 1, C, 0, &x->ln2b));
        snprintf(nm, sizeof nm, "h.%d.mlp.c_fc.bias", l); TRY(add_param(m, nm, 1, 4 * C, 0, &x->fcb));
        snprintf(nm, sizeof nm, "h.%d.mlp.c_proj.bias", l); TRY(add_param(m, nm, 1, C, 0, &x->fc2b));
    }
    TRY(add_param(m, "ln_f.weight", 1, C, 0, &m->lnfw));
    TRY(add_param(m, "ln_f.bias", 1, C, 0, &m->lnfb));
    int64_t off = 0;
    for (int i = 0; i < m->np; i++) {
        if (i == first_vec) m->n_decay = off;
        m->p[i].off = off;
        off += (numel(&m->p[i]) + 7) & ~(int64_t)7; /* keep every view 16-byte aligned */
    }
    m->n_all = off;
    return SL_OK;
}

static sl_status alloc_all(gpt2 *m) {
    sl_ctx *ctx = m->ctx;
    const gpt2_config *c = &m->c;
    int64_t N = m->n_all, B = m->B, T = m->T, C = c->d_model, H = c->n_head, L = c->n_layer, BT = B * T;
    TRY(new_t(ctx, SL_F32, 1, N, 0, 0, &m->P32));
    TRY(new_t(ctx, SL_BF16, 1, N, 0, 0, &m->Pb));
    TRY(new_t(ctx, SL_BF16, 1, N, 0, 0, &m->G));
    TRY(new_t(ctx, SL_F32, 1, N, 0, 0, &m->M));
    TRY(new_t(ctx, SL_F32, 1, N, 0, 0, &m->V));
    TRY(flat_view(m->P32, 0, m->n_decay, &m->P32d)); TRY(flat_view(m->P32, m->n_decay, N - m->n_decay, &m->P32n));
    TRY(flat_view(m->Pb, 0, m->n_decay, &m->Pbd)); TRY(flat_view(m->Pb, m->n_decay, N - m->n_decay, &m->Pbn));
    TRY(flat_view(m->G, 0, m->n_decay, &m->Gd)); TRY(flat_view(m->G, m->n_decay, N - m->n_decay, &m->Gn));
    TRY(flat_view(m->M, 0, m->n_decay, &m->Md)); TRY(flat_view(m->M, m->n_decay, N - m->n_decay, &m->Mn));
    TRY(flat_view(m->V, 0, m->n_decay, &m->Vd)); TRY(flat_view(m->V, m->n_decay, N - m->n_decay, &m->Vn));
    TRY(flat_view(m->G, 0, N, &m->Gall));
    for (int i = 0; i < m->np; i++) {
        TRY(view_of(m->P32, &m->p[i], &m->p[i].w32));
        TRY(view_of(m->Pb, &m->p[i], &m->p[i].w));
        TRY(view_of(m->G, &m->p[i], &m->p[i].g));
    }
    m->la = calloc((size_t)L, sizeof *m->la);
    if (!m->la) return sl_set_error(SL_ERR_NOMEM, "gpt2: out of memory");
    TRY(new_t(ctx, SL_BF16, 3, B, T, 3 * C, &m->dqkv));
    for (int l = 0; l < L; l++) {
        layer_act *a = &m->la[l];
        TRY(new_t(ctx, SL_BF16, 3, B, T, C, &a->res));
        TRY(new_t(ctx, SL_BF16, 3, B, T, C, &a->ln1));
        TRY(new_t(ctx, SL_F32, 1, BT, 0, 0, &a->m1));
        TRY(new_t(ctx, SL_F32, 1, BT, 0, 0, &a->r1));
        TRY(new_t(ctx, SL_BF16, 3, B, T, 3 * C, &a->qkv));
        TRY(sl_tensor_slice(a->qkv, 2, 0, C, &a->q));
        TRY(sl_tensor_slice(a->qkv, 2, C, C, &a->k));
        TRY(sl_tensor_slice(a->qkv, 2, 2 * C, C, &a->v));
        TRY(sl_tensor_slice(m->dqkv, 2, 0, C, &a->dq));
        TRY(sl_tensor_slice(m->dqkv, 2, C, C, &a->dk));
        TRY(sl_tensor_slice(m->dqkv, 2, 2 * C, C, &a->dv));
        TRY(new_t(ctx, SL_BF16, 3, B, T, C, &a->att));
        TRY(new_t(ctx, SL_F32, 3, B, H, T, &a->lse));
        TRY(new_t(ctx, SL_BF16, 3, B, T, C, &a->res2));
        TRY(new_t(ctx, SL_BF16, 3, B, T, C, &a->ln2));
        TRY(new_t(ctx, SL_F32, 1, BT, 0, 0, &a->m2));
        TRY(new_t(ctx, SL_F32, 1, BT, 0, 0, &a->r2));
        TRY(new_t(ctx, SL_BF16, 3, B, T, 4 * C, &a->fch));
        TRY(new_t(ctx, SL_BF16, 3, B, T, 4 * C, &a->fcg));
    }
    TRY(new_t(ctx, SL_I32, 2, B, T, 0, &m->ids));
    TRY(new_t(ctx, SL_I32, 1, BT, 0, 0, &m->targets));
    TRY(new_t(ctx, SL_BF16, 3, B, T, C, &m->out_res));
    TRY(new_t(ctx, SL_BF16, 3, B, T, C, &m->lnf));
    TRY(new_t(ctx, SL_F32, 1, BT, 0, 0, &m->lnfm));
    TRY(new_t(ctx, SL_F32, 1, BT, 0, 0, &m->lnfr));
    TRY(new_t(ctx, SL_BF16, 3, B, T, c->vocab, &m->logits));
    TRY(new_t(ctx, SL_BF16, 3, B, T, c->vocab, &m->dlogits));
    TRY(new_t(ctx, SL_F32, 1, BT, 0, 0, &m->losses));
    TRY(new_t(ctx, SL_F32, 1, BT, 0, 0, &m->ce_lse));
    TRY(new_t(ctx, SL_F32, 1, BT, 0, 0, &m->dlosses));
    TRY(new_t(ctx, SL_F32, 1, 1, 0, 0, &m->loss));
    TRY(new_t(ctx, SL_BF16, 3, B, T, C, &m->tmp));
    TRY(new_t(ctx, SL_BF16, 3, B, T, C, &m->dres));
    TRY(new_t(ctx, SL_BF16, 3, B, T, C, &m->dtmp));
    TRY(new_t(ctx, SL_BF16, 3, B, T, 4 * C, &m->dfcg));
    TRY(new_t(ctx, SL_BF16, 3, B, T, 4 * C, &m->dfch));
    TRY(sl_tensor_fill(ctx, m->dlosses, 1.0 / (double)BT));
    return SL_OK;
}

static sl_status init_weights(gpt2 *m) {
    sl_ctx *ctx = m->ctx;
    float proj_std = 0.02f / sqrtf(2.0f * (float)m->c.n_layer);
    TRY(sl_tensor_zero(ctx, m->P32)); /* the alignment gaps between parameters too */
    for (int i = 0; i < m->np; i++) {
        param *p = &m->p[i];
        if (p->ndim == 2) {
            bool proj = strstr(p->name, "c_proj.weight") != NULL;
            uint64_t off = sl_ctx_rng_advance(ctx, (uint64_t)numel(p));
            TRY(sl_tensor_rand_normal(ctx, p->w32, 0.0f, proj ? proj_std : 0.02f, off));
        } else {
            TRY(sl_tensor_fill(ctx, p->w32, strstr(p->name, "ln_") && strstr(p->name, ".weight") ? 1.0 : 0.0));
        }
    }
    TRY(sl_tensor_zero(ctx, m->M));
    TRY(sl_tensor_zero(ctx, m->V));
    return sl_cast(ctx, m->Pb, m->P32);
}

sl_status gpt2_create(sl_ctx *ctx, const gpt2_config *cfg, int B, int T, gpt2 **out) {
    *out = NULL;
    if (cfg->d_model % cfg->n_head || T > cfg->max_pos || B < 1 || T < 1)
        return sl_set_error(SL_ERR_INVALID, "gpt2: bad shape");
    gpt2 *m = calloc(1, sizeof *m);
    if (!m) return sl_set_error(SL_ERR_NOMEM, "gpt2: out of memory");
    m->ctx = ctx;
    m->c = *cfg;
    m->B = B;
    m->T = T;
    sl_status st = layout(m);
    if (st == SL_OK) st = alloc_all(m);
    if (st == SL_OK) st = init_weights(m);
    if (st != SL_OK) {
        gpt2_destroy(m);
        return st;
    }
    *out = m;
    return SL_OK;
}

void gpt2_destroy(gpt2 *m) {
    if (!m) return;
    for (int i = 0; i < m->np; i++) {
        sl_tensor_destroy(m->p[i].w32);
        sl_tensor_destroy(m->p[i].w);
        sl_tensor_destroy(m->p[i].g);
    }
    if (m->la)
        for (int l = 0; l < m->c.n_layer; l++) {
            layer_act *a = &m->la[l];
            sl_tensor *ts[] = { a->res, a->ln1, a->m1, a->r1, a->qkv, a->q, a->k, a->v, a->att, a->lse, a->res2,
                                a->ln2, a->m2, a->r2, a->fch, a->fcg, a->dq, a->dk, a->dv };
            for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
        }
    sl_tensor *ts[] = { m->P32, m->Pb, m->G, m->M, m->V, m->P32d, m->P32n, m->Pbd, m->Pbn, m->Gd, m->Gn, m->Md,
                        m->Mn, m->Vd, m->Vn, m->Gall, m->ids, m->targets, m->out_res, m->lnf, m->lnfm, m->lnfr,
                        m->logits, m->losses, m->ce_lse, m->dlosses, m->loss, m->tmp, m->dres, m->dtmp, m->dqkv,
                        m->dfcg, m->dfch, m->dlogits };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sl_tensor_destroy(ts[i]);
    free(m->li);
    free(m->la);
    free(m);
}

int64_t gpt2_param_count(const gpt2 *m) {
    int64_t n = 0;
    for (int i = 0; i < m->np; i++) n += numel(&m->p[i]);
    return n;
}

sl_status gpt2_set_batch(gpt2 *m, const int32_t *ids, const int32_t *targets) {
    size_t n = (size_t)m->B * (size_t)m->T * sizeof(int32_t);
    TRY(sl_tensor_from_host(m->ctx, m->ids, ids, n));
    return sl_tensor_from_host(m->ctx, m->targets, targets, n);
}

#define W(i) (m->p[i].w)
#define G(i) (m->p[i].g)

static sl_status forward(gpt2 *m) {
    sl_ctx *ctx = m->ctx;
    const gpt2_config *c = &m->c;
    sl_attention_opts ao = { c->n_head, true, 0.0f };
    TRY(sl_embedding(ctx, m->la[0].res, m->ids, W(m->wte), W(m->wpe), 0));
    for (int l = 0; l < c->n_layer; l++) {
        layer_act *a = &m->la[l];
        layer_idx *x = &m->li[l];
        sl_tensor *next = l + 1 < c->n_layer ? m->la[l + 1].res : m->out_res;
        TRY(sl_layernorm(ctx, a->ln1, a->m1, a->r1, a->res, W(x->ln1w), W(x->ln1b), 1e-5f));
        TRY(sl_linear(ctx, a->qkv, a->ln1, W(x->qkvw), W(x->qkvb)));
        TRY(sl_attention(ctx, a->att, a->lse, a->q, a->k, a->v, NULL, &ao));
        TRY(sl_linear(ctx, m->tmp, a->att, W(x->projw), W(x->projb)));
        TRY(sl_add(ctx, a->res2, a->res, m->tmp));
        TRY(sl_layernorm(ctx, a->ln2, a->m2, a->r2, a->res2, W(x->ln2w), W(x->ln2b), 1e-5f));
        TRY(sl_linear(ctx, a->fch, a->ln2, W(x->fcw), W(x->fcb)));
        TRY(sl_gelu(ctx, a->fcg, a->fch, SL_GELU_TANH));
        TRY(sl_linear(ctx, m->tmp, a->fcg, W(x->fc2w), W(x->fc2b)));
        TRY(sl_add(ctx, next, a->res2, m->tmp));
    }
    TRY(sl_layernorm(ctx, m->lnf, m->lnfm, m->lnfr, m->out_res, W(m->lnfw), W(m->lnfb), 1e-5f));
    TRY(sl_linear(ctx, m->logits, m->lnf, W(m->wte), NULL));
    TRY(sl_cross_entropy(ctx, m->losses, m->ce_lse, m->logits, m->targets, -1));
    return sl_reduce(ctx, m->loss, m->losses, SL_REDUCE_MEAN, SL_AXIS_ALL);
}

/* Input gradient of a linear layer written, not accumulated: dinp = dout @ W through sl_matmul
 * with beta = 0, which spares zeroing dinp and reading it back (sl_linear_backward adds). */
static sl_status dinp(gpt2 *m, sl_tensor *dinp_, const sl_tensor *dout, const sl_tensor *w) {
    return sl_matmul(m->ctx, dinp_, dout, w, false, false, 1.0f, 0.0f);
}

static sl_status backward(gpt2 *m) {
    sl_ctx *ctx = m->ctx;
    const gpt2_config *c = &m->c;
    sl_attention_opts ao = { c->n_head, true, 0.0f };
    TRY(sl_tensor_zero(ctx, m->G));
    TRY(sl_tensor_zero(ctx, m->dlogits));
    TRY(sl_cross_entropy_backward(ctx, m->dlogits, m->dlosses, m->logits, m->ce_lse, m->targets, -1));
    TRY(dinp(m, m->dtmp, m->dlogits, W(m->wte)));
    TRY(sl_linear_backward(ctx, NULL, G(m->wte), NULL, m->dlogits, m->lnf, W(m->wte)));
    TRY(sl_tensor_zero(ctx, m->dres));
    TRY(sl_layernorm_backward(ctx, m->dres, G(m->lnfw), G(m->lnfb), m->dtmp, m->out_res, W(m->lnfw), m->lnfm,
                              m->lnfr));
    for (int l = c->n_layer - 1; l >= 0; l--) {
        layer_act *a = &m->la[l];
        layer_idx *x = &m->li[l];
        /* res_out = res2 + fc2(gelu(fc(ln2(res2)))): dres flows through unchanged and gains the MLP branch */
        TRY(dinp(m, m->dfcg, m->dres, W(x->fc2w)));
        TRY(sl_linear_backward(ctx, NULL, G(x->fc2w), G(x->fc2b), m->dres, a->fcg, W(x->fc2w)));
        TRY(sl_tensor_zero(ctx, m->dfch));
        TRY(sl_gelu_backward(ctx, m->dfch, m->dfcg, a->fch, SL_GELU_TANH));
        TRY(dinp(m, m->dtmp, m->dfch, W(x->fcw)));
        TRY(sl_linear_backward(ctx, NULL, G(x->fcw), G(x->fcb), m->dfch, a->ln2, W(x->fcw)));
        TRY(sl_layernorm_backward(ctx, m->dres, G(x->ln2w), G(x->ln2b), m->dtmp, a->res2, W(x->ln2w), a->m2, a->r2));
        /* res2 = res + proj(attention(qkv(ln1(res)))) */
        TRY(dinp(m, m->dtmp, m->dres, W(x->projw)));
        TRY(sl_linear_backward(ctx, NULL, G(x->projw), G(x->projb), m->dres, a->att, W(x->projw)));
        TRY(sl_tensor_zero(ctx, m->dqkv));
        TRY(sl_attention_backward(ctx, a->dq, a->dk, a->dv, m->dtmp, a->q, a->k, a->v, NULL, a->att, a->lse, &ao));
        TRY(dinp(m, m->dtmp, m->dqkv, W(x->qkvw)));
        TRY(sl_linear_backward(ctx, NULL, G(x->qkvw), G(x->qkvb), m->dqkv, a->ln1, W(x->qkvw)));
        TRY(sl_layernorm_backward(ctx, m->dres, G(x->ln1w), G(x->ln1b), m->dtmp, a->res, W(x->ln1w), a->m1, a->r1));
    }
    return sl_embedding_backward(ctx, G(m->wte), G(m->wpe), m->dres, m->ids, 0);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

sl_status gpt2_step(gpt2 *m, const sl_adamw_opts *opts, int64_t t, float clip, float *loss) {
    return gpt2_step_timed(m, opts, t, clip, loss, NULL);
}

sl_status gpt2_step_timed(gpt2 *m, const sl_adamw_opts *opts, int64_t t, float clip, float *loss, double ms[3]) {
    double t0 = 0, t1 = 0, t2 = 0;
    if (ms) { TRY(sl_ctx_synchronize(m->ctx)); t0 = now_s(); }
    TRY(forward(m));
    if (ms) { TRY(sl_ctx_synchronize(m->ctx)); t1 = now_s(); }
    TRY(backward(m));
    if (ms) { TRY(sl_ctx_synchronize(m->ctx)); t2 = now_s(); }
    sl_adamw_opts o = *opts;
    if (clip > 0) {
        float norm;
        TRY(sl_global_norm(m->ctx, &m->Gall, 1, &norm));
        /* clip_grad_norm_'s factor, folded into the optimiser's gradient scale */
        if (norm > clip) o.grad_scale = (float)((double)clip / ((double)norm + 1e-6));
    }
    TRY(sl_adamw(m->ctx, m->P32d, m->Gd, m->Md, m->Vd, m->Pbd, t, &o));
    o.weight_decay = 0.0f;
    TRY(sl_adamw(m->ctx, m->P32n, m->Gn, m->Mn, m->Vn, m->Pbn, t, &o));
    if (loss) TRY(sl_tensor_to_host(m->ctx, m->loss, loss, sizeof *loss));
    if (ms) {
        TRY(sl_ctx_synchronize(m->ctx));
        ms[0] = (t1 - t0) * 1e3;
        ms[1] = (t2 - t1) * 1e3;
        ms[2] = (now_s() - t2) * 1e3;
    }
    return SL_OK;
}

sl_status gpt2_save(gpt2 *m, const char *path) {
    int n = m->np + 2;
    const char **names = calloc((size_t)n, sizeof *names);
    const sl_tensor **ts = calloc((size_t)n, sizeof *ts);
    if (!names || !ts) { free(names); free(ts); return sl_set_error(SL_ERR_NOMEM, "gpt2: out of memory"); }
    for (int i = 0; i < m->np; i++) { names[i] = m->p[i].name; ts[i] = m->p[i].w32; }
    names[m->np] = "ids";
    ts[m->np] = m->ids;
    names[m->np + 1] = "targets";
    ts[m->np + 1] = m->targets;
    sl_status st = sl_safetensors_write(m->ctx, path, n, names, (const sl_tensor *const *)ts, 0, NULL, NULL);
    free(names);
    free(ts);
    return st;
}
