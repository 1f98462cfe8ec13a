/* host.h — the engine's side of the host table: the per-execution op context and the sl_host functions over it. */
#ifndef SCILOOP_ENGINE_HOST_H
#define SCILOOP_ENGINE_HOST_H

#include <pthread.h>
#include <stdio.h>

#include "registry.h"

/* Called when an op reports progress or logs at WARN and above (e.g. to update the console
 * or forward to the engine from a worker). May be called from the op's threads. */
typedef void (*sli_progress_fn)(void *user, double done, double total, const char *what);
typedef void (*sli_notice_fn)(void *user, sl_log_level level, const char *line);

struct sl_op_ctx {
    const pl_op *op;
    const char *step_id;
    int attempt, threads, gpus;
    uint64_t seed;
    /* params, indexed like op->params; NULL = no value */
    const char **param_values;
    char ***list_items; /* parsed lazily under `lock` */
    size_t *list_counts;
    /* inputs, indexed like op->inputs */
    size_t *input_counts;
    const char ***input_paths;
    /* outputs, indexed like op->outputs: where the op may write them, and the content it
     * gave from memory instead (write_output; NULL = not given), owned by the ctx */
    const char **output_paths;
    void **output_data;
    size_t *output_sizes;
    unsigned char *output_asked; /* the op asked for output_path (so may have written there) */
    /* Makes an input path exist before the op sees it (inputs the store keeps packed become
     * files only when an op asks for them); NULL when every input path already exists. */
    sl_status (*materialise)(void *arg, const char *path);
    void *materialise_arg;
    const char *scratch;        /* created on first use by host->scratch_dir */
    int scratch_made;
    const char *log_path;
    FILE *log;                  /* opened on first use */
    volatile int *cancel_flag;  /* non-zero: cancelled */
    sli_progress_fn on_progress;
    sli_notice_fn on_notice;
    void *user;
    pthread_mutex_t lock;       /* guards log, values, failure, list parsing, given outputs */
    sl_status fail_status;
    char *fail_message;
    size_t n_values;
    char **value_names, **value_texts;
};

/* The host table handed to every op. */
const sl_host *sli_host(void);

/* Initialise / release the parts of a ctx the host owns (lock, lists, log, values, failure).
 * The caller fills the descriptive fields. */
void sli_ctx_init(sl_op_ctx *ctx);
void sli_ctx_release(sl_op_ctx *ctx);

/* Append a line to the ctx's log file (used by the engine for its own notes about a step). */
void sli_ctx_log(sl_op_ctx *ctx, sl_log_level level, const char *fmt, ...) SL_PRINTF(3, 4);

#endif
