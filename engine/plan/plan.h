/* plan.h — from a workflow model and the loaded ops to a checked DAG of step instances (foreach expanded, loop rounds added lazily). */
#ifndef SCILOOP_ENGINE_PLAN_H
#define SCILOOP_ENGINE_PLAN_H

#include <stdint.h>

#include "../plugin/registry.h"
#include "../workflow/workflow.h"

/* Where one artifact bound to an input port comes from. */
typedef struct pn_src {
    const char *path;    /* SRC is a file/folder given by path= (absolute), or NULL */
    uint32_t step;       /* else: producer step index */
    uint16_t port;       /* producer output port index */
    const char *select;  /* sub-path inside a directory artifact, or NULL */
} pn_src;

typedef struct pn_binding {
    pn_src *srcs;
    uint32_t n;
} pn_binding;

typedef enum pn_state {
    PS_WAITING = 0, /* inputs not ready */
    PS_READY,       /* in the ready queue */
    PS_RUNNING,
    PS_DONE,        /* ran and succeeded */
    PS_CACHED,      /* reused a cached result */
    PS_FAILED,      /* ran and failed (after retries) */
    PS_SKIPPED,     /* not run because something it needs failed */
    PS_DISABLED     /* when= evaluated to false */
} pn_state;

typedef struct pn_scope pn_scope;
typedef struct pn_group pn_group;

typedef struct pn_step {
    const char *id;           /* instance id, e.g. "sweep[2].train" */
    const pl_op *op;
    const wf_node *node;      /* template (for locations) */
    pn_scope *scope;          /* container instance it belongs to */
    pn_scope *round;          /* enclosing loop round, or NULL */
    const char **params;      /* op->n_params values after defaults; NULL = none */
    pn_binding *inputs;       /* op->n_inputs bindings */
    uint32_t *users;          /* steps that read this one's outputs */
    uint32_t n_users, cap_users;
    uint32_t pending;         /* producers (and unfinished loops) not yet finished */
    uint16_t cpus, gpus, retry, attempt;
    uint64_t mem;
    double timeout;           /* seconds; 0 = none */
    double priority;          /* length of the longest path to a sink */
    uint8_t state;            /* pn_state */
    uint8_t deferred;         /* inputs must be re-resolved when waited-on loops finish */
    /* results, once finished */
    char key[SL_HASH_HEX_SIZE];
    const char **out_paths;   /* store paths per output port */
    char (*out_hashes)[SL_HASH_HEX_SIZE];
    const char **value_names, **value_texts;
    uint32_t n_values;
} pn_step;

struct pn_scope {
    const wf_node *node;      /* foreach/loop node, NULL for the workflow itself */
    pn_scope *parent;
    pn_group *group;          /* the group this instance belongs to (NULL for root) */
    int index;                /* foreach item number or loop round, 1-based */
    const char *value;        /* foreach item text */
    const char *prefix;       /* id prefix of steps inside, e.g. "sweep[2]." */
    sli_map steps;            /* template step id -> (pn_step index + 1), direct children */
    sli_map groups;           /* child container id -> pn_group* */
    uint32_t remaining;       /* loop rounds: steps inside not yet finished */
    int failed;               /* loop rounds: a step inside failed */
};

struct pn_group {
    const wf_node *node;
    pn_scope *parent;
    pn_scope **inst;
    size_t n_inst;
    /* loops */
    int max_rounds;
    int finished;             /* no more rounds will be added */
    int failed;
    const char *stop_reason;  /* why the loop ended, for the report */
    uint32_t *waiters;        /* steps outside waiting for the loop to finish */
    size_t n_waiters, cap_waiters;
};

typedef struct pn_plan {
    sli_arena *arena;
    const wf_workflow *wf;
    const pl_registry *reg;
    const char **param_values; /* workflow params, bound */
    pn_step *steps;
    uint32_t n_steps, cap_steps;
    pn_scope *root;
    pn_group **loops;          /* every loop group, for the scheduler */
    size_t n_loops;
    uint64_t seed;
    struct pn_priv *priv;      /* templates and other build state, private to plan.c */
} pn_plan;

/* Overrides from the command line: "name=value". */
typedef struct pn_overrides {
    const char **items;
    size_t n;
} pn_overrides;

/* Build and check the plan: bind params, check every step's op, ports, params and types,
 * report cycles (naming the steps), expand foreach, instantiate the first round of each
 * loop, bind inputs, check that input paths exist, compute priorities. Nothing runs. On
 * failure returns a status with a "file:line:col: ..." message. */
sl_status pn_build(const wf_workflow *wf, const pl_registry *reg, const pn_overrides *ov, pn_plan **out);

void pn_destroy(pn_plan *p);

/* Record a finished step's outputs; returns SL_OK. (Called by the runner.) */
void pn_set_results(pn_plan *p, uint32_t step, const char *const *paths, const char (*hashes)[SL_HASH_HEX_SIZE],
                    const char *const *value_names, const char *const *value_texts, size_t n_values);

/* Re-resolve a deferred step's inputs now that the loops it waited for are finished. */
sl_status pn_resolve_inputs(pn_plan *p, uint32_t step);

/* Called when a loop round has no unfinished step left. Evaluates the loop's until
 * condition and either appends the next round (its new step indices are returned through
 * `new_first`/`new_count`, already bound and counted) or finishes the loop (its waiters'
 * pending counts are decremented; the runner then checks them). */
sl_status pn_round_finished(pn_plan *p, pn_scope *round, uint32_t *new_first, uint32_t *new_count);

/* Path of the artifact a source refers to (store path or input path), with select applied;
 * malloc'd. The producer must have finished. */
char *pn_src_path(const pn_plan *p, const pn_src *s);

/* Artifact type of a source. */
const char *pn_src_type(const pn_plan *p, const pn_src *s);

/* Resolve a "step.port" (or "step.value") reference from the root scope to finished steps,
 * for workflow outputs and `why`. Returns the step index or -1. */
long pn_find_step(const pn_plan *p, const char *instance_id);

/* Compute priorities (longest path to a sink) for all steps. */
void pn_compute_priorities(pn_plan *p);

/* Steps in a topological order (malloc'd array of n_steps indices). */
uint32_t *pn_topo_order(const pn_plan *p);

/* Parse a duration ("90", "90s", "5m", "2h", "1h30m", "250ms") in seconds; -1 if invalid. */
double pn_parse_duration(const char *s);

#endif
