/* runner.h — executes a plan: cache lookups, a priority-ordered resource-aware scheduler, local and inline executors, journal, trace. */
#ifndef SCILOOP_ENGINE_RUNNER_H
#define SCILOOP_ENGINE_RUNNER_H

#include "../plan/plan.h"
#include "../store/store.h"

typedef enum rn_executor { RN_LOCAL = 0, RN_INLINE = 1 } rn_executor;

typedef struct rn_options {
    rn_executor executor;
    int jobs;              /* steps running at once (>= 1) */
    int cpus, gpus;        /* budgets; steps' resources= are granted from these */
    uint64_t mem;          /* bytes; 0 = no limit */
    int keep_going;        /* after a failure, go on with steps that do not depend on it */
    int quiet;
    int live;              /* redraw a live progress block (stderr is a TTY) */
    const char *outdir;    /* where workflow <output>s are published; NULL = don't */
    const char *run_id;    /* folder name under <workdir>/runs */
} rn_options;

/* Run the plan to completion (or failure or interruption). Returns the process exit code:
 * 0 all steps succeeded; 1 a step failed; 130 interrupted (SIGINT/SIGTERM). */
int rn_run(pn_plan *plan, pl_registry *reg, st_store *store, const rn_options *opt);

/* Cache-key parts of a step whose inputs are all available, as the lines hashed into the key
 * ("op ...", "param name=value", "seed ...", "input port[i] hash"), and the key itself.
 * Path inputs are hashed once per run through `path_hashes` (a map kept by the caller;
 * values malloc'd), with the store's memo of unchanged files. */
sl_status rn_step_key(pn_plan *plan, uint32_t step, st_store *store, sli_map *path_hashes, sli_buf *parts, char key[SL_HASH_HEX_SIZE]);

/* Seed of a step: derived from the workflow seed and the step id. */
uint64_t rn_step_seed(const pn_plan *plan, const pn_step *s);

/* Set by the SIGINT/SIGTERM handler the runner installs. */
extern volatile int sli_interrupted;

#endif
