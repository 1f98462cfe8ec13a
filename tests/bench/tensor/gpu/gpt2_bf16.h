/* gpt2_bf16.h — GPT-2 trained in mixed precision on the tensor API (bf16 activations and matmuls, f32 master weights and AdamW state), for the GPU benchmark. */
#ifndef SCILOOP_BENCH_GPT2_BF16_H
#define SCILOOP_BENCH_GPT2_BF16_H

#include <sciloop/tensor.h>

/* Model shape: layers, heads, width, vocabulary (as used: padded vocabularies train all rows),
 * longest sequence. */
typedef struct gpt2_config {
    int n_layer, n_head, d_model, vocab, max_pos;
} gpt2_config;

typedef struct gpt2 gpt2;

/* Allocate f32 master weights, bf16 weight copies and gradients, f32 AdamW moments and the bf16
 * activations of batches (B,T) on ctx's device. Weights start at N(0, 0.02) (the residual
 * projections at 0.02/sqrt(2 n_layer)), LayerNorms at 1 and 0, biases at 0, from ctx's RNG. */
sl_status gpt2_create(sl_ctx *ctx, const gpt2_config *cfg, int B, int T, gpt2 **out);
void gpt2_destroy(gpt2 *m);

/* Number of parameters. */
int64_t gpt2_param_count(const gpt2 *m);

/* Upload one batch of token ids and next-token targets, B*T int32 each. */
sl_status gpt2_set_batch(gpt2 *m, const int32_t *ids, const int32_t *targets);

/* One training step on the current batch: forward, mean cross-entropy, backward, global-norm
 * clipping at clip (0 = none), AdamW step t (1-based; weight decay on matrices only). *loss
 * gets the step's loss (the step waits for the GPU). */
sl_status gpt2_step(gpt2 *m, const sl_adamw_opts *opts, int64_t t, float clip, float *loss);

/* The same, synchronising between phases: ms[0..2] get forward, backward and optimiser
 * (clipping + AdamW) milliseconds. */
sl_status gpt2_step_timed(gpt2 *m, const sl_adamw_opts *opts, int64_t t, float clip, float *loss, double ms[3]);

/* Write the f32 master weights (names as in gpt2_bf16.c) and the batch ("ids", "targets") to
 * a safetensors file, so another framework can start from the same point. */
sl_status gpt2_save(gpt2 *m, const char *path);

#endif /* SCILOOP_BENCH_GPT2_BF16_H */
