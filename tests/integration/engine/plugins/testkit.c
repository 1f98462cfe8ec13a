/* testkit.c — a plugin of small, predictable ops the engine's tests drive: no-op, sleep, crash, fail, counters, typed outputs. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sciloop/sciloop.h>

/* out = SHA-256 over (value, every input's content hash): a deterministic function of the
 * inputs, so re-runs and resumed runs must produce identical bytes. It reads every input by
 * path and gives its output from memory, so packed artifacts are read back in every test. */
static sl_status noop_run(const sl_host *h, sl_op_ctx *ctx) {
    const char *value = h->param(ctx, "value");
    size_t n = h->input_count(ctx, "in");
    size_t cap = strlen(value) + 2 + n * SL_HASH_HEX_SIZE;
    char *acc = malloc(cap);
    if (!acc) return h->fail(ctx, SL_ERR_NOMEM, "out of memory");
    size_t len = (size_t)snprintf(acc, cap, "%s\n", value);
    for (size_t i = 0; i < n; i++) {
        char hex[SL_HASH_HEX_SIZE];
        const char *path = h->input_path(ctx, "in", i); /* NULL if it could not be had: failed already */
        if (!path || sl_artifact_hash(path, hex) != SL_OK) {
            free(acc);
            return h->fail(ctx, SL_ERR_IO, "%s", sl_last_error());
        }
        memcpy(acc + len, hex, SL_HASH_HEX_SIZE - 1);
        len += SL_HASH_HEX_SIZE - 1;
    }
    char out[SL_HASH_HEX_SIZE + 1];
    sl_sha256_hex(acc, len, out);
    free(acc);
    out[SL_HASH_HEX_SIZE - 1] = '\n';
    if (h->write_output(ctx, "out", out, SL_HASH_HEX_SIZE) != SL_OK) return h->fail(ctx, sl_last_status(), "%s", sl_last_error());
    return SL_OK;
}

/* Writes the param value to its output file and reads nothing: a benchmark of it measures the
 * engine plus one small file per step. */
static sl_status touch_run(const sl_host *h, sl_op_ctx *ctx) {
    FILE *f = fopen(h->output_path(ctx, "out"), "w");
    if (!f) return h->fail(ctx, SL_ERR_IO, "cannot write %s", h->output_path(ctx, "out"));
    fputs(h->param(ctx, "value"), f);
    fclose(f);
    return SL_OK;
}

/* The cheapest op there is: gives the param value as its output from memory and reads
 * nothing, so a benchmark of it measures the engine alone. */
static sl_status emit_run(const sl_host *h, sl_op_ctx *ctx) {
    const char *v = h->param(ctx, "value");
    if (h->write_output(ctx, "out", v, strlen(v)) != SL_OK) return h->fail(ctx, sl_last_status(), "%s", sl_last_error());
    return SL_OK;
}

/* Misuses write_output as the engine must refuse: `mode` "both" also writes the file,
 * "dir" gives a directory port from memory. */
static sl_status misuse_run(const sl_host *h, sl_op_ctx *ctx) {
    const char *mode = h->param(ctx, "mode");
    if (strcmp(mode, "dir") == 0) {
        if (h->write_output(ctx, "dir", "x", 1) != SL_OK) return h->fail(ctx, sl_last_status(), "%s", sl_last_error());
        return SL_OK;
    }
    FILE *f = fopen(h->output_path(ctx, "out"), "w");
    if (!f) return h->fail(ctx, SL_ERR_IO, "cannot write %s", h->output_path(ctx, "out"));
    fputs("file", f);
    fclose(f);
    if (h->write_output(ctx, "out", "memory", 6) != SL_OK) return h->fail(ctx, sl_last_status(), "%s", sl_last_error());
    return SL_OK;
}

static sl_status sleep_run(const sl_host *h, sl_op_ctx *ctx) {
    double secs = 0;
    h->param_float(ctx, "seconds", &secs);
    for (double t = 0; t < secs; t += 0.01) {
        if (h->cancelled(ctx)) return h->fail(ctx, SL_ERR_CANCELLED, "cancelled after %.2fs", t);
        h->progress(ctx, t, secs, "sleeping");
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return noop_run(h, ctx);
}

static sl_status crash_run(const sl_host *h, sl_op_ctx *ctx) {
    h->log(ctx, SL_LOG_INFO, "about to crash");
    raise(SIGSEGV);
    return SL_OK;
}

static sl_status fail_run(const sl_host *h, sl_op_ctx *ctx) {
    int64_t until = 0;
    h->param_int(ctx, "fail_attempts", &until);
    if (h->attempt(ctx) <= until)
        return h->fail(ctx, SL_ERR_FAILED, "failing on purpose on attempt %d of the first %lld", h->attempt(ctx), (long long)until);
    return noop_run(h, ctx);
}

/* Reads the previous count (optional input), writes count+1, publishes it as value "count". */
static sl_status count_run(const sl_host *h, sl_op_ctx *ctx) {
    long count = 0;
    if (h->input_count(ctx, "previous")) {
        FILE *f = fopen(h->input_path(ctx, "previous", 0), "r");
        if (!f || fscanf(f, "%ld", &count) != 1) {
            if (f) fclose(f);
            return h->fail(ctx, SL_ERR_PARSE, "%s: expected a number", h->input_path(ctx, "previous", 0));
        }
        fclose(f);
    }
    count++;
    FILE *f = fopen(h->output_path(ctx, "out"), "w");
    if (!f) return h->fail(ctx, SL_ERR_IO, "cannot write output");
    fprintf(f, "%ld\n", count);
    fclose(f);
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", count);
    h->set_value(ctx, "count", buf);
    h->set_value(ctx, "verdict", count >= 3 ? "supported" : "inconclusive");
    return SL_OK;
}

static sl_status table_run(const sl_host *h, sl_op_ctx *ctx) {
    sl_csv_writer *w;
    if (sl_csv_open(h->output_path(ctx, "table"), &w) != SL_OK) return h->fail(ctx, SL_ERR_IO, "%s", sl_last_error());
    const char *hdr[] = {"x", "y"}, *row[] = {"1", "2"};
    sl_csv_write_row(w, hdr, 2);
    sl_csv_write_row(w, row, 2);
    sl_status st = sl_csv_commit(w);
    sl_csv_destroy(w);
    return st == SL_OK ? SL_OK : h->fail(ctx, st, "%s", sl_last_error());
}

static sl_status graph_run(const sl_host *h, sl_op_ctx *ctx) { return noop_run(h, ctx); }

#define PORT(n, t, f, d) {.struct_size = sizeof(sl_port_desc), .name = n, .type = t, .flags = f, .doc = d}
static const sl_port_desc any_in[] = {PORT("in", "any", SL_PORT_OPTIONAL | SL_PORT_MULTI, "anything")};
static const sl_port_desc file_out[] = {PORT("out", "file", 0, "a digest of the value and inputs")};
static const sl_port_desc prev_in[] = {PORT("previous", "file", SL_PORT_OPTIONAL, "the previous round's count")};
static const sl_port_desc table_out[] = {PORT("table", "table", 0, "a small CSV table")};
static const sl_port_desc file_dir_out[] = {PORT("out", "file", 0, "a file"), PORT("dir", "dir", 0, "a folder")};
static const sl_port_desc graph_in[] = {PORT("graph", "graph", 0, "a graph"), PORT("in", "any", SL_PORT_OPTIONAL | SL_PORT_MULTI, "anything")};

static const sl_param_desc noop_params[] = {
    {.struct_size = sizeof(sl_param_desc), .name = "value", .type = SL_PARAM_STRING, .default_value = "", .doc = "mixed into the output"},
};
static const sl_param_desc sleep_params[] = {
    {.struct_size = sizeof(sl_param_desc), .name = "value", .type = SL_PARAM_STRING, .default_value = "", .doc = "mixed into the output"},
    {.struct_size = sizeof(sl_param_desc), .name = "seconds", .type = SL_PARAM_FLOAT, .default_value = "1", .min = "0", .max = "3600", .doc = "how long"},
};
static const sl_param_desc misuse_params[] = {
    {.struct_size = sizeof(sl_param_desc), .name = "mode", .type = SL_PARAM_STRING, .default_value = "both", .doc = "both or dir"},
};
static const sl_param_desc fail_params[] = {
    {.struct_size = sizeof(sl_param_desc), .name = "value", .type = SL_PARAM_STRING, .default_value = "", .doc = "mixed into the output"},
    {.struct_size = sizeof(sl_param_desc), .name = "fail_attempts", .type = SL_PARAM_INT, .default_value = "1000", .min = "0", .doc = "fail while attempt <= this"},
};

#define OP(n, s, in, nin, out, nout, par, npar, fl, fn, vals) \
    {.struct_size = sizeof(sl_op_desc), .name = n, .summary = s, .inputs = in, .n_inputs = nin, .outputs = out, .n_outputs = nout, \
     .params = par, .n_params = npar, .flags = fl, .run = fn, .values = vals}
static const sl_op_desc ops[] = {
    OP("noop", "Digest of inputs and a value", any_in, 1, file_out, 1, noop_params, 1, SL_OP_DETERMINISTIC, noop_run, NULL),
    OP("touch", "Write the value; read nothing", any_in, 1, file_out, 1, noop_params, 1, SL_OP_DETERMINISTIC, touch_run, NULL),
    OP("emit", "Give the value from memory; read nothing", any_in, 1, file_out, 1, noop_params, 1, SL_OP_DETERMINISTIC, emit_run, NULL),
    OP("misuse", "Use write_output wrongly", NULL, 0, file_dir_out, 2, misuse_params, 1, 0, misuse_run, NULL),
    OP("sleep", "Sleep, checking for cancellation", any_in, 1, file_out, 1, sleep_params, 2, SL_OP_DETERMINISTIC, sleep_run, NULL),
    OP("crash", "Die with SIGSEGV", any_in, 1, file_out, 1, noop_params, 1, 0, crash_run, NULL),
    OP("fail", "Fail the first attempts", any_in, 1, file_out, 1, fail_params, 2, 0, fail_run, NULL),
    OP("count", "Count rounds", prev_in, 1, file_out, 1, NULL, 0, SL_OP_DETERMINISTIC, count_run, "count,verdict"),
    OP("table", "Write a table", NULL, 0, table_out, 1, NULL, 0, SL_OP_DETERMINISTIC, table_run, NULL),
    OP("graphuser", "Needs a graph", graph_in, 2, file_out, 1, noop_params, 1, SL_OP_DETERMINISTIC, graph_run, NULL),
};

static const sl_plugin plugin = {
    .struct_size = sizeof(sl_plugin), .abi_major = SL_ABI_MAJOR, .abi_minor = SL_ABI_MINOR, .name = "testkit",
    .version = "1.0.0", .license = "MIT", .summary = "Ops for testing the engine", .ops = ops, .n_ops = sizeof ops / sizeof ops[0],
};

SL_PLUGIN_DEFINE(plugin)
