/* test_transformer_parity.c — GPT-2 and BERT stacks on the runtime vs PyTorch: logits, loss, every gradient, 10 AdamW steps. */
#include "tensor_test_util.h"
#include "transformer.h"

#define REL_TOL 1e-4
#define LOSS_TOL 1e-5

static double rel_err_t(const sl_tensor *a, const sl_tensor *b) {
    return tt_rel_err((const float *)a->data, (const float *)b->data, sl_tensor_numel(b), 1e-12);
}

static void *get_i32(sl_safetensors *st, const char *name, sl_tensor **keep) {
    sl_tensor *t = NULL;
    if (sl_safetensors_get(st, name, &t) != SL_OK) { *keep = NULL; return NULL; }
    *keep = t;
    return t->data;
}

static void parity(sl_ctx *ctx, const char *file, sl_nn_config cfg) {
    char path[512];
    const char *src = getenv("SCILOOP_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/reference/tensor/%s", src ? src : ".", file);
    sl_safetensors *st;
    OK(sl_safetensors_open(path, &st));
    sl_tensor *ids_t, *tt_t, *mask_t, *tg_t;
    int32_t *ids = get_i32(st, "ids", &ids_t), *targets = get_i32(st, "targets", &tg_t);
    int32_t *type_ids = get_i32(st, "type_ids", &tt_t);
    uint8_t *mask = get_i32(st, "mask", &mask_t);
    int B = (int)ids_t->shape[0], Tn = (int)ids_t->shape[1];
    sl_nn_model *m;
    OK(sl_nn_create(ctx, &cfg, B, Tn, &m));
    OK(sl_nn_load(m, st, "param."));
    float loss;
    OK(sl_nn_forward(m, ids, type_ids, mask, targets, -100, false, &loss));
    sl_tensor *ref;
    OK(sl_safetensors_get(st, "logits", &ref));
    double e = rel_err_t(sl_nn_logits(m), ref);
    fprintf(stderr, "%s: logits rel err %.3g\n", file, e);
    CHECK_MSG(e <= REL_TOL, "%s logits: relative error %g", file, e);
    sl_tensor_destroy(ref);
    OK(sl_safetensors_get(st, "loss", &ref));
    fprintf(stderr, "%s: loss %.7f (PyTorch %.7f)\n", file, loss, FP(ref)[0]);
    CHECK_MSG(fabs(loss - FP(ref)[0]) <= REL_TOL * fabs(FP(ref)[0]), "%s loss %.8g vs %.8g", file, loss, FP(ref)[0]);
    sl_tensor_destroy(ref);
    OK(sl_nn_zero_grad(m));
    OK(sl_nn_backward(m));
    double worst = 0;
    const char *worst_name = "";
    for (int i = 0; i < sl_nn_param_count(m); i++) {
        char name[256];
        snprintf(name, sizeof name, "grad.%s", sl_nn_param_name(m, i));
        OK(sl_safetensors_get(st, name, &ref));
        double g = rel_err_t(sl_nn_grad(m, i), ref);
        CHECK_MSG(g <= REL_TOL, "%s %s: relative error %g", file, name, g);
        if (g > worst) { worst = g; worst_name = sl_nn_param_name(m, i); }
        sl_tensor_destroy(ref);
    }
    fprintf(stderr, "%s: %d parameter gradients, worst rel err %.3g (%s)\n", file, sl_nn_param_count(m), worst,
            worst_name);
    /* 10 AdamW steps with clipping, as the reference script */
    OK(sl_safetensors_get(st, "losses", &ref));
    sl_adamw_opts o = { 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, 1.0f };
    double wl = 0;
    for (int s = 0; s <= 10; s++) {
        OK(sl_nn_forward(m, ids, type_ids, mask, targets, -100, false, &loss));
        double d = fabs(loss - FP(ref)[s]);
        if (d > wl) wl = d;
        CHECK_MSG(d <= LOSS_TOL, "%s step %d: loss %.8f vs PyTorch %.8f", file, s, loss, FP(ref)[s]);
        if (s == 10) break;
        OK(sl_nn_zero_grad(m));
        OK(sl_nn_backward(m));
        OK(sl_nn_step(m, &o, 1.0f, NULL));
    }
    fprintf(stderr, "%s: 10 AdamW steps, loss %.6f -> %.6f, worst |diff| %.3g\n", file, FP(ref)[0], FP(ref)[10], wl);
    sl_tensor_destroy(ref);
    sl_nn_destroy(m);
    sl_tensor_destroy(ids_t); sl_tensor_destroy(tt_t); sl_tensor_destroy(mask_t); sl_tensor_destroy(tg_t);
    sl_safetensors_close(st);
}

int main(void) {
    sl_ctx_options o = SL_CTX_OPTIONS_INIT;
    o.device = SL_DEVICE_CPU;
    sl_ctx *ctx;
    OK(sl_ctx_create(&o, &ctx));
    sl_nn_config gpt = { SL_NN_GPT2, 2, 4, 32, 128, 64, 16, 0, 1e-5f, 0.0f };
    sl_nn_config bert = { SL_NN_BERT, 2, 4, 32, 128, 64, 16, 2, 1e-12f, 0.0f };
    parity(ctx, "gpt2_ref.safetensors", gpt);
    parity(ctx, "bert_ref.safetensors", bert);
    sl_ctx_destroy(ctx);
    return SL_TEST_DONE();
}
