/* sciloop/plugin.h — plugin ABI 1: the descriptor a plugin exports and the host table the engine hands its ops. */
#ifndef SCILOOP_PLUGIN_H
#define SCILOOP_PLUGIN_H

/*
 * A plugin is a shared object that exports exactly one symbol:
 *
 *     SL_PLUGIN_EXPORT const sl_plugin *sciloop_plugin_v1(void);
 *
 * returning a pointer to a `static const` descriptor. Calling it must have no side effects:
 * the engine calls it to list and describe ops without running anything. The engine loads
 * plugins with RTLD_NOW | RTLD_LOCAL.
 *
 * Evolution rules (ABI 1):
 *   - every descriptor struct starts with `struct_size`; set it to sizeof(the struct);
 *   - fields are only ever appended; the engine reads a field only if struct_size covers it;
 *   - arrays of descriptors (ports, params, ops) are walked with the stride given by their
 *     first element's struct_size, so a plugin built against older headers keeps working;
 *   - abi_major must equal SL_ABI_MAJOR or the engine refuses the plugin; abi_minor may be
 *     lower than the engine's (never higher).
 *
 * An op is a plain function `sl_status run(const sl_host *host, sl_op_ctx *ctx)`. Everything it
 * needs (params, input paths, output paths, scratch space, logging, progress, cancellation,
 * seed, thread budget) comes through `host`, so plugins never link engine internals. An op:
 *   - returns SL_OK on success, otherwise a status after calling host->fail() with a message
 *     naming the input, line/field and what was expected;
 *   - never calls exit(), never writes outside its output paths and scratch dir;
 *   - may be run concurrently with other ops on other threads of the same process (inline
 *     executor), so it must keep no mutable global state;
 *   - should call host->cancelled() in long loops and return SL_ERR_CANCELLED when it is true.
 */

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Types of op parameters. A workflow's <set> text is checked against these before a run. */
typedef enum sl_param_type {
    SL_PARAM_STRING = 0, /* any text */
    SL_PARAM_INT = 1,    /* 64-bit signed decimal integer; min/max apply */
    SL_PARAM_FLOAT = 2,  /* double ("1e-3", "0.5", "inf" refused); min/max apply */
    SL_PARAM_BOOL = 3,   /* true|false|yes|no|1|0 (case-insensitive) */
    SL_PARAM_PATH = 4,   /* a filesystem path, relative to the workflow file's folder */
    SL_PARAM_ENUM = 5,   /* one of `choices` */
    SL_PARAM_LIST = 6    /* comma-separated items; surrounding spaces trimmed */
} sl_param_type;

/* Port flags. */
#define SL_PORT_OPTIONAL 0x1u /* an input that may be left unconnected */
#define SL_PORT_MULTI 0x2u    /* an input that accepts several artifacts (in workflow order) */

/* Op flags. */
#define SL_OP_DETERMINISTIC 0x1u /* same inputs + params + seed give byte-identical outputs */
#define SL_OP_USES_GPU 0x2u      /* wants a GPU when one is present (the step's gpus= budget) */
#define SL_OP_NO_CACHE 0x4u      /* never reuse a cached result (e.g. reads the clock or network) */

/* Parameter descriptor. */
typedef struct sl_param_desc {
    size_t struct_size;          /* sizeof(sl_param_desc) */
    const char *name;            /* identifier: [A-Za-z_][A-Za-z0-9_.-]* */
    sl_param_type type;
    const char *default_value;   /* text of the default; NULL makes the param required */
    const char *min;             /* inclusive lower bound for INT/FLOAT (text), or NULL */
    const char *max;             /* inclusive upper bound for INT/FLOAT (text), or NULL */
    const char *choices;         /* ENUM: allowed values separated by '|', e.g. "fail|skip" */
    const char *doc;             /* one or two sentences for `sciloop ops describe` */
} sl_param_desc;

/* Port descriptor (an op's input or output). */
typedef struct sl_port_desc {
    size_t struct_size;          /* sizeof(sl_port_desc) */
    const char *name;            /* identifier */
    const char *type;            /* artifact type (see sciloop/artifact.h), e.g. "table"; "any" on inputs */
    uint32_t flags;              /* SL_PORT_* */
    const char *doc;             /* one sentence */
    /* Output ports only: how `sciloop replay` compares a re-computed output with the recorded
     * one. NULL or "exact" = same bytes; "table:rel=1e-9" = CSV cells equal or numerically within
     * that relative tolerance; "tensors:rel=1e-5,abs=1e-7" = safetensors within tolerance. */
    const char *compare;
} sl_port_desc;

typedef struct sl_host sl_host;
typedef struct sl_op_ctx sl_op_ctx; /* opaque, owned by the engine, valid during one run call */

/* An op's run function. */
typedef sl_status (*sl_op_run_fn)(const sl_host *host, sl_op_ctx *ctx);

/* Op descriptor. The op's full name is "<plugin>.<name>". */
typedef struct sl_op_desc {
    size_t struct_size;          /* sizeof(sl_op_desc) */
    const char *name;            /* identifier within the plugin, e.g. "parse" */
    const char *summary;         /* one line */
    const char *doc;             /* longer description (may be NULL) */
    const sl_port_desc *inputs;  size_t n_inputs;
    const sl_port_desc *outputs; size_t n_outputs;
    const sl_param_desc *params; size_t n_params;
    uint32_t flags;              /* SL_OP_* */
    sl_op_run_fn run;
    /* Names of the values the op publishes with host->set_value (comma-separated, may be NULL),
     * e.g. "verdict,p_min". A workflow's loop reads them: until="check.verdict = supported". */
    const char *values;
} sl_op_desc;

/* Plugin descriptor, returned by the entry symbol. */
typedef struct sl_plugin {
    size_t struct_size;          /* sizeof(sl_plugin) */
    uint32_t abi_major;          /* SL_ABI_MAJOR */
    uint32_t abi_minor;          /* SL_ABI_MINOR */
    const char *name;            /* identifier, e.g. "litparse"; must be unique among loaded plugins */
    const char *version;         /* the plugin's own version, e.g. "1.2.0"; part of every cache key */
    const char *license;         /* SPDX identifier, e.g. "MIT" */
    const char *summary;         /* one line */
    const sl_op_desc *ops;       size_t n_ops;
} sl_plugin;

/* Signature and name of the entry symbol. */
typedef const sl_plugin *(*sl_plugin_entry_fn)(void);
#define SL_PLUGIN_ENTRY_NAME "sciloop_plugin_v1"

/* Log levels for host->log. */
typedef enum sl_log_level {
    SL_LOG_DEBUG = 0,
    SL_LOG_INFO = 1,
    SL_LOG_WARN = 2,
    SL_LOG_ERROR = 3
} sl_log_level;

/*
 * Services the engine offers an op. The table is const and lives as long as the process;
 * `ctx` is valid only during the run call. Strings returned are owned by the engine and stay
 * valid until the run call returns. All functions may be called from the op's own threads
 * except where noted.
 */
struct sl_host {
    size_t struct_size;          /* sizeof(sl_host) as the engine knows it */
    uint32_t abi_major, abi_minor;

    /* --- identity of this execution --- */
    const char *(*step_id)(sl_op_ctx *ctx);      /* e.g. "graph" or "study[2].check" */
    int (*attempt)(sl_op_ctx *ctx);              /* 1 on the first try, 2 on the first retry, ... */
    uint64_t (*seed)(sl_op_ctx *ctx);            /* the step's seed, stable across re-runs */
    int (*threads)(sl_op_ctx *ctx);              /* CPU threads the op may use (>= 1) */
    int (*gpus)(sl_op_ctx *ctx);                 /* GPUs granted to the step (0 = use the CPU) */

    /* --- parameters (already checked against the op's descriptor, defaults applied) --- */
    /* Text of a param, or NULL if it has no value (optional without default). */
    const char *(*param)(sl_op_ctx *ctx, const char *name);
    /* Typed getters: return SL_OK, or SL_ERR_NOT_FOUND when the param has no value. */
    sl_status (*param_int)(sl_op_ctx *ctx, const char *name, int64_t *out);
    sl_status (*param_float)(sl_op_ctx *ctx, const char *name, double *out);
    sl_status (*param_bool)(sl_op_ctx *ctx, const char *name, int *out);
    /* LIST params: number of items, and item i (trimmed). Count 0 when unset or empty. */
    size_t (*param_list_count)(sl_op_ctx *ctx, const char *name);
    const char *(*param_list_item)(sl_op_ctx *ctx, const char *name, size_t i);

    /* --- artifacts --- */
    /* Number of artifacts bound to an input port (0 for an unconnected optional port). */
    size_t (*input_count)(sl_op_ctx *ctx, const char *port);
    /* Path of the i-th artifact on an input port, or NULL. Read-only: never modify it. */
    const char *(*input_path)(sl_op_ctx *ctx, const char *port, size_t i);
    /* Path the op must write an output port to. For file-shaped types the op creates the
     * file; for directory-shaped types (model, design, report, dir) the directory exists
     * and is empty. The engine moves it into the store after the op returns SL_OK. */
    const char *(*output_path)(sl_op_ctx *ctx, const char *port);
    /* A private, empty directory for temporary files; deleted after the step. */
    const char *(*scratch_dir)(sl_op_ctx *ctx);

    /* --- reporting --- */
    /* Append a line to the step's log file (and the console at WARN and above). */
    void (*log)(sl_op_ctx *ctx, sl_log_level level, const char *fmt, ...) SL_PRINTF(3, 4);
    /* Report progress: `done` of `total` units (total <= 0: unknown); `what` may be NULL. */
    void (*progress)(sl_op_ctx *ctx, double done, double total, const char *what);
    /* Non-zero once the step is being cancelled; the op should return SL_ERR_CANCELLED soon. */
    int (*cancelled)(sl_op_ctx *ctx);
    /* Record why the op failed and return `status`: `return host->fail(ctx, SL_ERR_PARSE,
     * "%s:%d:%d: expected ...", path, line, col);`. The message reaches the user verbatim. */
    sl_status (*fail)(sl_op_ctx *ctx, sl_status status, const char *fmt, ...) SL_PRINTF(3, 4);
    /* Publish a small named value (declared in the op's `values`), e.g. "verdict" ->
     * "supported". Values are cached with the outputs and readable by loop conditions. */
    sl_status (*set_value)(sl_op_ctx *ctx, const char *name, const char *value);

    /* --- since ABI 1.1 (check host->abi_minor >= 1, or struct_size) --- */
    /* Give a file-shaped output port its whole content from memory, instead of creating the
     * file at output_path (doing both fails the step). A second call replaces the first. The
     * bytes are copied; the artifact is the same as if written to the file, with the same
     * hash. The point is cost: when the step runs inline, outputs of up to 64 KiB are appended
     * to a pack file in the store instead of becoming one file each, and become files only
     * when something asks for their path. Returns SL_ERR_NOT_FOUND for an unknown port,
     * SL_ERR_TYPE for a directory-shaped one, SL_ERR_NOMEM. */
    sl_status (*write_output)(sl_op_ctx *ctx, const char *port, const void *data, size_t size);
};

/* Convenience for plugin authors: declare the entry point with the right visibility. */
#define SL_PLUGIN_DEFINE(descriptor_expr)                                  \
    SL_PLUGIN_EXPORT const sl_plugin *sciloop_plugin_v1(void);            \
    SL_PLUGIN_EXPORT const sl_plugin *sciloop_plugin_v1(void) { return &(descriptor_expr); }

#ifdef __cplusplus
}
#endif
#endif /* SCILOOP_PLUGIN_H */
