/* test_determinism.c — a training step (dropout on) repeated gives bit-identical losses, logits and gradients. */
#include "tensor_test_util.h"
#include "transformer.h"

/* One BERT step from a fresh context; returns malloc'd logits + every gradient, flattened. */
static float *run(int threads, size_t *len) {
    sl_ctx_options o = SL_CTX_OPTIONS_INIT;
    o.device = SL_DEVICE_CPU;
    o.threads = threads;
    o.seed = 99;
    o.deterministic = true;
    sl_ctx *ctx;
    OK(sl_ctx_create(&o, &ctx));
    sl_nn_config cfg = { SL_NN_BERT, 2, 4, 64, 256, 50, 64, 2, 1e-12f, 0.1f };
    int B = 3, Tn = 40;
    sl_nn_model *m;
    OK(sl_nn_create(ctx, &cfg, B, Tn, &m));
    OK(sl_nn_init_normal(m, 0.1f));
    int32_t ids[120], tg[120];
    uint8_t mask[120];
    for (int i = 0; i < B * Tn; i++) { ids[i] = (i * 13) % 50; tg[i] = i % 5 ? (i * 7) % 50 : -100; mask[i] = i % 40 < 35; }
    float loss;
    sl_adamw_opts ao = SL_ADAMW_OPTS_INIT;
    for (int s = 0; s < 2; s++) {
        OK(sl_nn_zero_grad(m));
        OK(sl_nn_forward(m, ids, NULL, mask, tg, -100, true, &loss));
        OK(sl_nn_backward(m));
        if (s == 0) OK(sl_nn_step(m, &ao, 1.0f, NULL));
    }
    size_t n = (size_t)sl_tensor_numel(sl_nn_logits(m)) + 1;
    for (int i = 0; i < sl_nn_param_count(m); i++) n += (size_t)sl_tensor_numel(sl_nn_grad(m, i));
    float *out = malloc(n * sizeof(float)), *p = out;
    *p++ = loss;
    memcpy(p, sl_nn_logits(m)->data, sl_tensor_nbytes(sl_nn_logits(m)));
    p += sl_tensor_numel(sl_nn_logits(m));
    for (int i = 0; i < sl_nn_param_count(m); i++) {
        memcpy(p, sl_nn_grad(m, i)->data, sl_tensor_nbytes(sl_nn_grad(m, i)));
        p += sl_tensor_numel(sl_nn_grad(m, i));
    }
    *len = n;
    sl_nn_destroy(m);
    sl_ctx_destroy(ctx);
    return out;
}

int main(void) {
    /* Bit-identity is promised run to run for a given thread count (BLAS may pick other
     * kernels for other block shapes, so different thread counts may differ in the last bits). */
    for (int threads = 1; threads <= 3; threads++) {
        size_t n1, n2;
        float *a = run(threads, &n1), *b = run(threads, &n2);
        CHECK(n1 == n2);
        CHECK_MSG(memcmp(a, b, n1 * sizeof(float)) == 0, "two runs with %d threads differ", threads);
        CHECK(a[0] > 0 && isfinite(a[0]));
        fprintf(stderr, "%d threads: loss %.7f, %zu values bit-identical across runs\n", threads, a[0], n1);
        free(a);
        free(b);
    }
    return SL_TEST_DONE();
}
