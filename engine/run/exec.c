/* exec.c — run one step attempt in this process and commit its outputs; (de)serialise attempts for worker processes. */
#define _GNU_SOURCE
#include "exec.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../store/store.h"

static double thread_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* This thread's CPU time when its last attempt ended, or -1. An attempt's CPU is counted from
 * there, so a thread running attempt after attempt (the inline executor's) reads the clock
 * once per step, not twice: reading a thread's CPU clock is a system call. The hand-off
 * between two attempts, a few microseconds, counts with the second. */
static __thread double cpu_mark = -1;

void sx_result_free(sx_result *r) {
    if (!r) return;
    free(r->message);
    for (size_t i = 0; i < r->n_outputs; i++) free(r->out_paths ? r->out_paths[i] : NULL);
    free(r->out_paths);
    free(r->out_hashes);
    free(r->out_sizes);
    free(r->out_packs);
    free(r->out_offsets);
    for (size_t i = 0; i < r->n_values; i++) {
        free(r->value_names[i]);
        free(r->value_texts[i]);
    }
    free(r->value_names);
    free(r->value_texts);
    memset(r, 0, sizeof *r);
}

static void alloc_outputs(sx_result *r, size_t n) {
    r->n_outputs = n;
    r->out_paths = sli_xcalloc(n + 1, sizeof *r->out_paths);
    r->out_hashes = sli_xcalloc(n + 1, sizeof *r->out_hashes);
    r->out_sizes = sli_xcalloc(n + 1, sizeof *r->out_sizes);
    r->out_packs = sli_xcalloc(n + 1, sizeof *r->out_packs);
    r->out_offsets = sli_xcalloc(n + 1, sizeof *r->out_offsets);
}

/* Commit an output the op gave from memory: small ones into the store's pack when there is a
 * store, the rest written to the staging path and committed like a file the op wrote. */
static sl_status commit_memory_output(const sx_spec *spec, size_t i, const char *staged, int path_asked, const void *data, size_t len,
                                      sx_result *res) {
    const sl_port_desc *port = &spec->op->outputs[i];
    if (path_asked && sli_path_exists(staged))
        return sl_set_error(SL_ERR_FAILED, "op %s both wrote output port '%s' at %s and gave it with write_output; do one or the other",
                            spec->op->name, port->name, staged);
    if (spec->store && len <= ST_PACK_MAX) {
        sl_sha256_hex(data, len, res->out_hashes[i]);
        res->out_sizes[i] = len;
        sl_status st = st_pack_put(spec->store, data, len, res->out_hashes[i], port->type, &res->out_packs[i], &res->out_offsets[i]);
        if (st == SL_OK) res->out_paths[i] = st_object_path(spec->objects_dir, res->out_hashes[i], port->type);
        return st;
    }
    FILE *f = fopen(staged, "wbx");
    if (!f) return sl_set_error(SL_ERR_IO, "%s: cannot create: %s", staged, strerror(errno));
    size_t w = fwrite(data, 1, len, f);
    if (fclose(f) != 0 || w != len) {
        unlink(staged);
        return sl_set_error(SL_ERR_IO, "%s: cannot write %zu bytes", staged, len);
    }
    return st_commit_object(spec->objects_dir, staged, port->type, res->out_hashes[i], &res->out_sizes[i], &res->out_paths[i]);
}

sl_status sx_execute(const sx_spec *spec, sx_result *res) {
    const pl_op *op = spec->op;
    double c0 = cpu_mark >= 0 ? cpu_mark : thread_cpu();
    memset(res, 0, sizeof *res);
    alloc_outputs(res, op->n_outputs);
    sl_op_ctx ctx = {0};
    ctx.op = op;
    ctx.step_id = spec->step_id;
    ctx.attempt = spec->attempt;
    ctx.threads = spec->threads;
    ctx.gpus = spec->gpus;
    ctx.seed = spec->seed;
    ctx.param_values = (const char **)spec->params;
    ctx.input_counts = (size_t *)spec->input_counts;
    ctx.input_paths = (const char ***)spec->input_paths;
    ctx.log_path = spec->log_path;
    ctx.cancel_flag = spec->cancel_flag;
    ctx.on_progress = spec->on_progress;
    ctx.on_notice = spec->on_notice;
    ctx.user = spec->user;
    sli_ctx_init(&ctx);

    /* Staging: file outputs sit directly at <stage>.<port><ext>; directory outputs are created
     * here, empty, as the host table promises; the scratch folder on first use. */
    char **staged = sli_xcalloc(op->n_outputs + 1, sizeof *staged);
    char *scratch = sli_xasprintf("%s.scratch", spec->stage);
    sl_status st = SL_OK;
    for (size_t i = 0; i < op->n_outputs && st == SL_OK; i++) {
        staged[i] = sli_xasprintf("%s.%s%s", spec->stage, op->outputs[i].name, sl_artifact_type_ext(op->outputs[i].type));
        if (sl_artifact_type_is_dir(op->outputs[i].type)) st = sli_mkdirs(staged[i], 0755);
    }
    ctx.output_paths = (const char **)staged;
    ctx.scratch = scratch;
    if (spec->store) {
        ctx.materialise = st_materialise;
        ctx.materialise_arg = spec->store;
    }
    if (st != SL_OK) {
        res->status = st;
        res->message = sli_xstrdup(sl_last_error());
    } else {
        sl_clear_error();
        sl_status rc = op->run(sli_host(), &ctx);
        if (rc != SL_OK) {
            res->status = rc;
            if (ctx.fail_message) res->message = sli_xstrdup(ctx.fail_message);
            else if (*sl_last_error()) res->message = sli_xasprintf("%s", sl_last_error());
            else res->message = sli_xasprintf("op %s returned status '%s' without a message (it should call host->fail)", op->name, sl_status_name(rc));
        } else if (ctx.cancel_flag && *ctx.cancel_flag) {
            res->status = SL_ERR_CANCELLED;
            res->message = sli_xstrdup("cancelled");
        }
    }
    /* Commit each output. An output the op did not write fails the step; objects already
     * committed for its other ports are whole and simply stay unreferenced. */
    for (size_t i = 0; i < op->n_outputs && res->status == SL_OK; i++) {
        sl_status cs = ctx.output_data[i] ? commit_memory_output(spec, i, staged[i], ctx.output_asked[i], ctx.output_data[i], ctx.output_sizes[i], res)
                                          : st_commit_object(spec->objects_dir, staged[i], op->outputs[i].type, res->out_hashes[i],
                                                             &res->out_sizes[i], &res->out_paths[i]);
        if (cs == SL_ERR_NOT_FOUND && !ctx.output_data[i]) {
            res->status = SL_ERR_FAILED;
            res->message = sli_xasprintf("op %s returned success but did not write output port '%s' (expected a file at %s)", op->name,
                                         op->outputs[i].name, staged[i]);
        } else if (cs != SL_OK) {
            res->status = cs;
            res->message = sli_xasprintf("output port '%s': %s", op->outputs[i].name, sl_last_error());
        }
    }
    if (res->status == SL_OK) {
        res->n_values = ctx.n_values;
        res->value_names = ctx.value_names;
        res->value_texts = ctx.value_texts;
        ctx.value_names = ctx.value_texts = NULL;
        ctx.n_values = 0;
    }
    for (size_t i = 0; i < op->n_outputs; i++) {
        if (staged[i] && res->status != SL_OK) sli_remove_tree(staged[i]);
        free(staged[i]);
    }
    free(staged);
    if (ctx.scratch_made) sli_remove_tree(scratch);
    free(scratch);
    sli_ctx_release(&ctx);
    cpu_mark = thread_cpu();
    res->cpu = cpu_mark - c0;
    return res->status;
}

/* ------------------------------------------------------------------------------------------ */

char *sx_spec_to_json(const sx_spec *spec, const char *plugin_path) {
    const pl_op *op = spec->op;
    json_t *o = json_object();
    json_object_set_new(o, "plugin", json_string(plugin_path));
    json_object_set_new(o, "op", json_string(op->name));
    json_object_set_new(o, "step", json_string(spec->step_id));
    json_object_set_new(o, "attempt", json_integer(spec->attempt));
    json_object_set_new(o, "threads", json_integer(spec->threads));
    json_object_set_new(o, "gpus", json_integer(spec->gpus));
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)spec->seed);
    json_object_set_new(o, "seed", json_string(seed));
    json_t *params = json_object();
    for (size_t i = 0; i < op->n_params; i++)
        if (spec->params[i]) json_object_set_new(params, op->params[i].name, json_string(spec->params[i]));
    json_object_set_new(o, "params", params);
    json_t *inputs = json_object();
    for (size_t i = 0; i < op->n_inputs; i++) {
        json_t *a = json_array();
        for (size_t k = 0; k < spec->input_counts[i]; k++) json_array_append_new(a, json_string(spec->input_paths[i][k]));
        json_object_set_new(inputs, op->inputs[i].name, a);
    }
    json_object_set_new(o, "inputs", inputs);
    json_object_set_new(o, "stage", json_string(spec->stage));
    json_object_set_new(o, "objects", json_string(spec->objects_dir));
    json_object_set_new(o, "log", json_string(spec->log_path ? spec->log_path : ""));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

sl_status sx_spec_from_json(const char *path, const char *text, size_t len, pl_registry *reg, sli_arena *a, sx_spec *spec) {
    json_error_t err;
    json_t *o = json_loadb(text, len, 0, &err);
    if (!o) return sl_set_error(SL_ERR_PARSE, "%s:%d:%d: %s", path, err.line, err.column, err.text);
    memset(spec, 0, sizeof *spec);
    const char *plugin = json_string_value(json_object_get(o, "plugin"));
    const char *opname = json_string_value(json_object_get(o, "op"));
    sl_status st = SL_OK;
    if (!plugin || !opname) st = sl_set_error(SL_ERR_PARSE, "%s: missing plugin or op", path);
    if (st == SL_OK && strcmp(plugin, "(built-in)") != 0) st = pl_registry_add_file(reg, plugin);
    const pl_op *op = st == SL_OK ? pl_registry_find(reg, opname) : NULL;
    if (st == SL_OK && !op) st = sl_set_error(SL_ERR_NOT_FOUND, "%s: op %s not found in %s", path, opname, plugin);
    if (st != SL_OK) {
        json_decref(o);
        return st;
    }
    spec->op = op;
    spec->step_id = sli_arena_strdup(a, json_string_value(json_object_get(o, "step")));
    spec->attempt = (int)json_integer_value(json_object_get(o, "attempt"));
    spec->threads = (int)json_integer_value(json_object_get(o, "threads"));
    spec->gpus = (int)json_integer_value(json_object_get(o, "gpus"));
    const char *seed = json_string_value(json_object_get(o, "seed"));
    spec->seed = seed ? strtoull(seed, NULL, 10) : 0;
    const char **params = sli_arena_alloc(a, (op->n_params + 1) * sizeof *params);
    json_t *jp = json_object_get(o, "params");
    for (size_t i = 0; i < op->n_params; i++) params[i] = sli_arena_strdup(a, json_string_value(json_object_get(jp, op->params[i].name)));
    spec->params = params;
    size_t *counts = sli_arena_alloc(a, (op->n_inputs + 1) * sizeof *counts);
    const char ***paths = sli_arena_alloc(a, (op->n_inputs + 1) * sizeof *paths);
    json_t *ji = json_object_get(o, "inputs");
    for (size_t i = 0; i < op->n_inputs; i++) {
        json_t *arr = json_object_get(ji, op->inputs[i].name);
        counts[i] = json_array_size(arr);
        paths[i] = sli_arena_alloc(a, (counts[i] + 1) * sizeof **paths);
        for (size_t k = 0; k < counts[i]; k++) paths[i][k] = sli_arena_strdup(a, json_string_value(json_array_get(arr, k)));
    }
    spec->input_counts = counts;
    spec->input_paths = (const char *const *const *)paths;
    spec->stage = sli_arena_strdup(a, json_string_value(json_object_get(o, "stage")));
    spec->objects_dir = sli_arena_strdup(a, json_string_value(json_object_get(o, "objects")));
    const char *log = json_string_value(json_object_get(o, "log"));
    spec->log_path = log && *log ? sli_arena_strdup(a, log) : NULL;
    json_decref(o);
    if (!spec->stage || !spec->objects_dir || !spec->step_id) return sl_set_error(SL_ERR_PARSE, "%s: missing stage, objects or step", path);
    return SL_OK;
}

char *sx_result_to_json(const sx_result *r) {
    json_t *o = json_object();
    json_object_set_new(o, "status", json_integer(r->status));
    if (r->message) json_object_set_new(o, "message", json_string(r->message));
    json_t *outs = json_array();
    for (size_t i = 0; i < r->n_outputs && r->status == SL_OK; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "path", json_string(r->out_paths[i] ? r->out_paths[i] : ""));
        json_object_set_new(x, "hash", json_string(r->out_hashes[i]));
        json_object_set_new(x, "size", json_integer((json_int_t)r->out_sizes[i]));
        json_array_append_new(outs, x);
    }
    json_object_set_new(o, "outputs", outs);
    json_t *vals = json_array();
    for (size_t i = 0; i < r->n_values; i++) {
        json_t *pair = json_array();
        json_array_append_new(pair, json_string(r->value_names[i]));
        json_array_append_new(pair, json_string(r->value_texts[i]));
        json_array_append_new(vals, pair);
    }
    json_object_set_new(o, "values", vals);
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII); /* one line: newlines are escaped */
    json_decref(o);
    return s;
}

sl_status sx_result_from_json(const char *text, size_t len, size_t n_outputs, sx_result *r) {
    json_error_t err;
    json_t *o = json_loadb(text, len, 0, &err);
    memset(r, 0, sizeof *r);
    alloc_outputs(r, n_outputs);
    const char *path = "worker result";
    if (!o) return sl_set_error(SL_ERR_PARSE, "%s: %s", path, err.text);
    r->status = (sl_status)json_integer_value(json_object_get(o, "status"));
    const char *m = json_string_value(json_object_get(o, "message"));
    if (m) r->message = sli_xstrdup(m);
    json_t *outs = json_object_get(o, "outputs");
    if (r->status == SL_OK && json_array_size(outs) != n_outputs) {
        json_decref(o);
        return sl_set_error(SL_ERR_PARSE, "%s: %zu outputs, expected %zu", path, json_array_size(outs), n_outputs);
    }
    for (size_t i = 0; i < n_outputs && r->status == SL_OK; i++) {
        json_t *x = json_array_get(outs, i);
        r->out_paths[i] = sli_xstrdup(json_string_value(json_object_get(x, "path")) ? json_string_value(json_object_get(x, "path")) : "");
        snprintf(r->out_hashes[i], SL_HASH_HEX_SIZE, "%s", json_string_value(json_object_get(x, "hash")) ? json_string_value(json_object_get(x, "hash")) : "");
        r->out_sizes[i] = (uint64_t)json_integer_value(json_object_get(x, "size"));
    }
    json_t *vals = json_object_get(o, "values");
    r->n_values = json_array_size(vals);
    r->value_names = sli_xcalloc(r->n_values + 1, sizeof *r->value_names);
    r->value_texts = sli_xcalloc(r->n_values + 1, sizeof *r->value_texts);
    for (size_t i = 0; i < r->n_values; i++) {
        json_t *pair = json_array_get(vals, i);
        const char *n = json_string_value(json_array_get(pair, 0)), *v = json_string_value(json_array_get(pair, 1));
        r->value_names[i] = sli_xstrdup(n ? n : "");
        r->value_texts[i] = sli_xstrdup(v ? v : "");
    }
    json_decref(o);
    return SL_OK;
}
