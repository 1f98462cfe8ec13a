/* transformer.h — GPT-2 (pre-LN decoder) and BERT (post-LN encoder) stacks with hand-written backward, on the tensor API. */
#ifndef SCILOOP_KERNELS_NN_TRANSFORMER_H
#define SCILOOP_KERNELS_NN_TRANSFORMER_H

#include <sciloop/tensor.h>

typedef enum sl_nn_arch { SL_NN_GPT2 = 0, SL_NN_BERT = 1 } sl_nn_arch;

/* Model shape. GPT-2: causal attention, pre-LN blocks, tanh GELU, final LN, LM head tied to
 * the token embedding. BERT: bidirectional attention with a key padding mask, post-LN blocks,
 * erf GELU, word + position + token-type embeddings with LayerNorm, an untied (V,C) output head. */
typedef struct sl_nn_config {
    sl_nn_arch arch;
    int n_layer, n_head, d_model, d_ff, vocab, max_pos, type_vocab;
    float ln_eps;
    float dropout;        /* hidden dropout after embeddings, attention output and MLP (0 = off) */
} sl_nn_config;

typedef struct sl_nn_model sl_nn_model;

/* Allocate parameters, gradients, AdamW state and activations for batches of (B,T) on ctx's
 * device. Parameters start at zero: load them or call sl_nn_init_normal. */
sl_status sl_nn_create(sl_ctx *ctx, const sl_nn_config *cfg, int B, int T, sl_nn_model **out);
void sl_nn_destroy(sl_nn_model *m);

/* Parameters in a fixed order with Hugging Face-like names (q,k,v fused into one (3C,C)
 * "qkv"/"c_attn" weight; every weight stored (out,in) as torch.nn.Linear does). */
int sl_nn_param_count(const sl_nn_model *m);
const char *sl_nn_param_name(const sl_nn_model *m, int i);
sl_tensor *sl_nn_param(sl_nn_model *m, int i);
sl_tensor *sl_nn_grad(sl_nn_model *m, int i);

/* Weights N(0, std), LayerNorm weights 1 and biases 0, from the context's RNG. */
sl_status sl_nn_init_normal(sl_nn_model *m, float std);

/* Copy every parameter from a checkpoint (names prefixed by `prefix`, may be ""). */
sl_status sl_nn_load(sl_nn_model *m, const sl_safetensors *st, const char *prefix);

/* Forward pass. ids/type_ids (B*T) token ids (type_ids BERT only, may be NULL = zeros);
 * key_mask (B*T) 1 = real token (BERT only, may be NULL); targets (B*T) or NULL (no loss),
 * entries equal to ignore_index are skipped. *loss (may be NULL) = mean cross-entropy over the
 * non-ignored targets. `train` enables dropout. */
sl_status sl_nn_forward(sl_nn_model *m, const int32_t *ids, const int32_t *type_ids, const uint8_t *key_mask,
                        const int32_t *targets, int64_t ignore_index, bool train, float *loss);

/* Logits (B,T,V) of the last forward. */
const sl_tensor *sl_nn_logits(const sl_nn_model *m);

/* Gradients of the last forward's mean loss, ADDED into the gradient tensors. */
sl_status sl_nn_zero_grad(sl_nn_model *m);
sl_status sl_nn_backward(sl_nn_model *m);

/* Clip by global norm (max_norm > 0; 0 disables) then one AdamW step on every parameter. */
sl_status sl_nn_step(sl_nn_model *m, const sl_adamw_opts *opts, float max_norm, float *grad_norm);

#endif /* SCILOOP_KERNELS_NN_TRANSFORMER_H */
