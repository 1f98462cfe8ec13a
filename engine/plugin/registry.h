/* registry.h — finding, loading and checking plugins (ABI 1), and looking up their ops by name. */
#ifndef SCILOOP_ENGINE_REGISTRY_H
#define SCILOOP_ENGINE_REGISTRY_H

#include <sciloop/artifact.h>
#include <sciloop/plugin.h>

#include "../base/base.h"

typedef struct pl_plugin pl_plugin;

/* An op as the engine uses it: descriptors copied into the engine's own struct layout, so
 * fields a plugin's older headers lacked read as zero. */
typedef struct pl_op {
    pl_plugin *plugin;
    const char *name;      /* "plugin.op" */
    const char *short_name;
    const char *summary, *doc, *values;
    sl_port_desc *inputs;
    size_t n_inputs;
    sl_port_desc *outputs;
    size_t n_outputs;
    sl_param_desc *params;
    size_t n_params;
    uint32_t flags;
    sl_op_run_fn run;
} pl_op;

struct pl_plugin {
    char *path;            /* the .so, or "(built-in)" */
    void *handle;          /* dlopen handle, NULL for built-ins */
    const char *name, *version, *license, *summary;
    uint32_t abi_major, abi_minor;
    pl_op *ops;
    size_t n_ops;
    char so_hash[SL_HASH_HEX_SIZE]; /* SHA-256 of the .so (of the engine for built-ins); "" until computed */
};

/* A plugin file that could not be used, and why. */
typedef struct pl_problem {
    char *path;
    char *message;
} pl_problem;

typedef struct pl_registry {
    pl_plugin **plugins;
    size_t n_plugins;
    pl_problem *problems;
    size_t n_problems;
    sli_map ops;           /* "plugin.op" -> pl_op* */
    sli_map by_name;       /* "plugin" -> pl_plugin* */
} pl_registry;

/* Load the built-in plugin and every *.so found on the plugin search path:
 * $SCILOOP_PLUGIN_PATH (colon-separated folders), then <exe>/../lib/sciloop/plugins (the
 * install's plugin folder, which is also the build tree's). A plugin whose name is already
 * loaded is skipped (so SCILOOP_PLUGIN_PATH can shadow a built-in folder's copy). Files that
 * fail (dlopen error, missing entry symbol, ABI mismatch, truncated or inconsistent
 * descriptor) are recorded as problems, not fatal. */
pl_registry *pl_registry_load(void);

/* A registry holding only the built-in plugin (workers add the one file they need). */
pl_registry *pl_registry_load_builtin(void);

/* Load one plugin file into the registry; SL_OK or an error (also recorded as a problem). */
sl_status pl_registry_add_file(pl_registry *r, const char *path);

void pl_registry_destroy(pl_registry *r);

/* Op by full name, or NULL. */
const pl_op *pl_registry_find(const pl_registry *r, const char *full_name);

/* Explain why `full_name` is unknown: nearest names and plugin load problems. Writes into buf. */
void pl_registry_explain_unknown(const pl_registry *r, const char *full_name, sli_buf *buf);

/* The plugin's build hash (computed on first use). */
const char *pl_plugin_hash(pl_plugin *p);

/* Index of a port/param by name in an op, or -1. */
int pl_op_input(const pl_op *op, const char *name);
int pl_op_output(const pl_op *op, const char *name);
int pl_op_param(const pl_op *op, const char *name);

/* Check a param value's text against its descriptor; on failure writes the reason into buf
 * (e.g. "expected an integer in [1, 10], got '12'") and returns non-zero. */
int pl_param_check(const sl_param_desc *p, const char *value, sli_buf *why);

/* Levenshtein distance, for "did you mean" hints. */
size_t sli_edit_distance(const char *a, const char *b);

/* Path of the running executable (for finding plugins and hashing built-ins). */
const char *sli_self_exe(void);

/* The built-in "core" plugin (core.shell). */
const sl_plugin *sli_core_plugin(void);

#endif
