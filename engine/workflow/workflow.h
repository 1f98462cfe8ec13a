/* workflow.h — the workflow model: what a workflow XML file says, before params are bound or anything is planned. */
#ifndef SCILOOP_ENGINE_WORKFLOW_H
#define SCILOOP_ENGINE_WORKFLOW_H

#include <stddef.h>

#include <sciloop/plugin.h>

#include "../base/base.h"

/* A place in a workflow file, for messages: "file:line:col". */
typedef struct wf_loc {
    const char *file;
    int line, col;
} wf_loc;

typedef struct wf_param {
    const char *name;
    sl_param_type type;
    const char *default_value; /* NULL: the param must be given with --param */
    const char *min, *max, *choices, *doc;
    wf_loc loc;
} wf_param;

typedef struct wf_input {
    const char *port;
    const char *from;   /* "step.port" (uninterpolated), or NULL */
    const char *path;   /* file or folder path (uninterpolated), or NULL */
    const char *select; /* sub-path inside a directory artifact, or NULL */
    int previous;       /* round="previous": the previous loop round's artifact */
    int optional;       /* optional="true": no error if the source does not exist */
    wf_loc loc, from_loc, path_loc;
} wf_input;

typedef struct wf_set {
    const char *name;
    const char *value; /* text, uninterpolated */
    wf_loc loc;
} wf_set;

typedef enum wf_kind { WF_STEP, WF_FOREACH, WF_LOOP } wf_kind;

typedef struct wf_node {
    wf_kind kind;
    const char *id;
    wf_loc loc;
    /* WF_STEP */
    const char *op;
    wf_loc op_loc;
    const char *resources, *retry, *timeout, *when; /* uninterpolated, or NULL */
    wf_loc resources_loc, retry_loc, timeout_loc, when_loc;
    wf_input *inputs;
    size_t n_inputs;
    wf_set *sets;
    size_t n_sets;
    /* WF_FOREACH */
    const char *var, *items;
    wf_loc items_loc;
    /* WF_LOOP */
    const char *max, *until;
    wf_loc max_loc, until_loc;
    /* WF_FOREACH and WF_LOOP */
    struct wf_node **children;
    size_t n_children;
    struct wf_node *parent; /* enclosing foreach/loop, or NULL */
    void *aux;              /* the planner's record of this node */
} wf_node;

typedef struct wf_output {
    const char *name, *from, *select;
    wf_loc loc;
} wf_output;

typedef struct wf_workflow {
    sli_arena *arena;  /* owns every string and node below */
    const char *path;  /* absolute path of the file */
    const char *dir;   /* folder of the file: relative paths in it resolve against this */
    const char *name, *description, *seed;
    char *source;      /* the file's bytes (for computing columns and for bundles) */
    size_t source_len;
    size_t *line_starts; /* byte offset where each line begins (line 1 at index 0) */
    size_t n_lines;
    wf_param *params;
    size_t n_params;
    wf_node **nodes;   /* top level, in file order */
    size_t n_nodes;
    wf_output *outputs;
    size_t n_outputs;
} wf_workflow;

/* Read, check against the embedded XSD, and build the model of a workflow file. The parse
 * never touches the network, refuses DOCTYPE declarations (so no external or recursive
 * entities), and reports every error as "file:line:col: what was expected". On failure
 * returns a status with the message in sl_last_error(). */
sl_status wf_load(const char *path, wf_workflow **out);

/* Free a workflow; NULL is a no-op. */
void wf_destroy(wf_workflow *wf);

/* The embedded schema text (workflows/schema/sciloop-workflow-1.xsd) and its length. */
extern const char sli_workflow_xsd[];
extern const size_t sli_workflow_xsd_len;

/* Parse the name of a param type ("int" ...); returns -1 if unknown. */
int wf_param_type_from_name(const char *name);
const char *wf_param_type_name(sl_param_type t);

#endif
