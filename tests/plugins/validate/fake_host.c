/* fake_host.c — the test host table: params with descriptor defaults, input/output paths, fail/log/value capture. */
#define _GNU_SOURCE
#include "fake_host.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const sl_plugin *sciloop_plugin_v1(void);

#define C(ctx) ((fh_ctx *)(ctx))

const sl_op_desc *fh_op(const char *name) {
    const sl_plugin *p = sciloop_plugin_v1();
    for (size_t i = 0; i < p->n_ops; i++)
        if (!strcmp(p->ops[i].name, name)) return &p->ops[i];
    return NULL;
}

void fh_init(fh_ctx *c, const char *op) {
    memset(c, 0, sizeof *c);
    c->op = fh_op(op);
    snprintf(c->scratch, sizeof c->scratch, "/tmp");
}

void fh_param(fh_ctx *c, const char *name, const char *value) {
    c->pnames[c->nparams] = name;
    c->pvalues[c->nparams++] = value;
}
void fh_input(fh_ctx *c, const char *port, const char *path) {
    c->inports[c->nin] = port;
    c->inpaths[c->nin++] = path;
}
void fh_output(fh_ctx *c, const char *port, const char *path) {
    c->outports[c->nout] = port;
    c->outpaths[c->nout++] = path;
}

static const char *h_param(sl_op_ctx *ctx, const char *name) {
    fh_ctx *c = C(ctx);
    for (int i = c->nparams - 1; i >= 0; i--)
        if (!strcmp(c->pnames[i], name)) return c->pvalues[i];
    for (size_t i = 0; c->op && i < c->op->n_params; i++)
        if (!strcmp(c->op->params[i].name, name)) return c->op->params[i].default_value;
    return NULL;
}

static const char *h_step_id(sl_op_ctx *ctx) { return C(ctx)->op ? C(ctx)->op->name : "?"; }
static int h_attempt(sl_op_ctx *ctx) { (void)ctx; return 1; }
static uint64_t h_seed(sl_op_ctx *ctx) { (void)ctx; return 12345; }
static int h_threads(sl_op_ctx *ctx) { (void)ctx; return 1; }
static int h_gpus(sl_op_ctx *ctx) { (void)ctx; return 0; }

static sl_status h_param_int(sl_op_ctx *ctx, const char *name, int64_t *out) {
    const char *s = h_param(ctx, name);
    if (!s || !*s) return SL_ERR_NOT_FOUND;
    *out = strtoll(s, NULL, 10);
    return SL_OK;
}
static sl_status h_param_float(sl_op_ctx *ctx, const char *name, double *out) {
    const char *s = h_param(ctx, name);
    if (!s || !*s) return SL_ERR_NOT_FOUND;
    *out = strtod(s, NULL);
    return SL_OK;
}
static sl_status h_param_bool(sl_op_ctx *ctx, const char *name, int *out) {
    const char *s = h_param(ctx, name);
    if (!s || !*s) return SL_ERR_NOT_FOUND;
    *out = !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcmp(s, "1");
    return SL_OK;
}

/* comma-separated items, trimmed */
static size_t split(fh_ctx *c, const char *s, size_t want, const char **item) {
    size_t n = 0;
    if (!s || !*s) return 0;
    const char *p = s;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && isspace((unsigned char)*p)) p++, len--;
        while (len && isspace((unsigned char)p[len - 1])) len--;
        if (n == want && item && n < 32) {
            snprintf(c->list_tmp[n], sizeof c->list_tmp[n], "%.*s", (int)len, p);
            *item = c->list_tmp[n];
        }
        n++;
        if (!e) break;
        p = e + 1;
    }
    return n;
}
static size_t h_list_count(sl_op_ctx *ctx, const char *name) { return split(C(ctx), h_param(ctx, name), (size_t)-1, NULL); }
static const char *h_list_item(sl_op_ctx *ctx, const char *name, size_t i) {
    const char *it = NULL;
    split(C(ctx), h_param(ctx, name), i, &it);
    return it;
}

static size_t h_input_count(sl_op_ctx *ctx, const char *port) {
    size_t n = 0;
    for (int i = 0; i < C(ctx)->nin; i++) n += !strcmp(C(ctx)->inports[i], port);
    return n;
}
static const char *h_input_path(sl_op_ctx *ctx, const char *port, size_t k) {
    for (int i = 0; i < C(ctx)->nin; i++)
        if (!strcmp(C(ctx)->inports[i], port) && k-- == 0) return C(ctx)->inpaths[i];
    return NULL;
}
static const char *h_output_path(sl_op_ctx *ctx, const char *port) {
    for (int i = 0; i < C(ctx)->nout; i++)
        if (!strcmp(C(ctx)->outports[i], port)) return C(ctx)->outpaths[i];
    return NULL;
}
static const char *h_scratch(sl_op_ctx *ctx) { return C(ctx)->scratch; }

static void h_log(sl_op_ctx *ctx, sl_log_level level, const char *fmt, ...) {
    fh_ctx *c = C(ctx);
    (void)level;
    size_t l = strlen(c->log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->log + l, sizeof c->log - l, fmt, ap);
    va_end(ap);
    l = strlen(c->log);
    if (l + 1 < sizeof c->log) strcat(c->log, "\n");
}
static void h_progress(sl_op_ctx *ctx, double done, double total, const char *what) { (void)ctx, (void)done, (void)total, (void)what; }
static int h_cancelled(sl_op_ctx *ctx) { (void)ctx; return 0; }
static sl_status h_fail(sl_op_ctx *ctx, sl_status st, const char *fmt, ...) {
    fh_ctx *c = C(ctx);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->fail_msg, sizeof c->fail_msg, fmt, ap);
    va_end(ap);
    c->fail_status = st;
    return st;
}
static sl_status h_set_value(sl_op_ctx *ctx, const char *name, const char *value) {
    fh_ctx *c = C(ctx);
    const char *decl = c->op ? c->op->values : NULL;
    if (!decl || !strstr(decl, name)) return h_fail(ctx, SL_ERR_NOT_FOUND, "value '%s' is not declared by the op", name);
    if (c->nvalues >= 4) return SL_ERR_RANGE;
    snprintf(c->values[c->nvalues][0], 256, "%s", name);
    snprintf(c->values[c->nvalues][1], 256, "%s", value);
    c->nvalues++;
    return SL_OK;
}

const sl_host fh_host = {
    sizeof(sl_host), SL_ABI_MAJOR, SL_ABI_MINOR, h_step_id, h_attempt, h_seed, h_threads, h_gpus, h_param, h_param_int,
    h_param_float, h_param_bool, h_list_count, h_list_item, h_input_count, h_input_path, h_output_path, h_scratch, h_log,
    h_progress, h_cancelled, h_fail, h_set_value};

sl_status fh_run(fh_ctx *c) {
    if (!c->op) return SL_ERR_NOT_FOUND;
    return c->op->run(&fh_host, (sl_op_ctx *)c);
}

const char *fh_value(const fh_ctx *c, const char *name) {
    for (int i = 0; i < c->nvalues; i++)
        if (!strcmp(c->values[i][0], name)) return c->values[i][1];
    return NULL;
}
