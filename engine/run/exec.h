/* exec.h — one attempt of one step: stage outputs, call the op through the host table, commit outputs to the store. */
#ifndef SCILOOP_ENGINE_EXEC_H
#define SCILOOP_ENGINE_EXEC_H

#include "../plugin/host.h"

/* Everything needed to run one attempt, whichever executor runs it. */
typedef struct sx_spec {
    const pl_op *op;
    const char *step_id;
    int attempt, threads, gpus;
    uint64_t seed;
    const char *const *params;           /* op->n_params; NULL = no value */
    const size_t *input_counts;          /* op->n_inputs */
    const char *const *const *input_paths;
    const char *stage;                   /* unique path prefix for this attempt's staging */
    const char *objects_dir;             /* store objects folder */
    struct st_store *store;              /* in the engine's process: packs small outputs given from
                                          * memory, materialises packed inputs; NULL in a worker */
    const char *log_path;
    volatile int *cancel_flag;
    sli_progress_fn on_progress;
    sli_notice_fn on_notice;
    void *user;
} sx_spec;

typedef struct sx_result {
    sl_status status;
    char *message;                       /* why it failed, or NULL */
    char **out_paths;                    /* op->n_outputs store paths */
    char (*out_hashes)[SL_HASH_HEX_SIZE];
    uint64_t *out_sizes;
    const char **out_packs;              /* the pack holding each output, or NULL (a file) */
    uint64_t *out_offsets;
    size_t n_outputs;
    size_t n_values;
    char **value_names, **value_texts;
    double cpu;                          /* seconds of CPU the attempt used, storing its outputs included
                                          * (inline: its thread's time) */
    long peak_rss_kb;                    /* peak resident set: the worker's, or the engine's inline (set by the runner) */
} sx_result;

/* Run the attempt. Outputs are written under spec->stage, then hashed and moved into the store;
 * on any failure nothing reaches the store and the staging is removed. Fills `res` (free with
 * sx_result_free) and returns res->status. */
sl_status sx_execute(const sx_spec *spec, sx_result *res);

void sx_result_free(sx_result *res);

/* Serialise a spec for a worker process (`sciloop-worker`, `sciloop step`) and read it back
 * there. The reader loads the op's plugin from the spec's plugin path into `reg` and
 * allocates everything in `arena`; `name` is used in messages. */
char *sx_spec_to_json(const sx_spec *spec, const char *plugin_path);
sl_status sx_spec_from_json(const char *name, const char *text, size_t len, pl_registry *reg, sli_arena *arena, sx_spec *spec);

/* A worker's result as one line of JSON (malloc'd), and back. */
char *sx_result_to_json(const sx_result *res);
sl_status sx_result_from_json(const char *text, size_t len, size_t n_outputs, sx_result *res);

#endif
