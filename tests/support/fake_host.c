/* fake_host.c — the fake host table tests use to call a plugin's ops without the engine. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fake_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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
static uint64_t h_seed(sl_op_ctx *ctx) { (void)ctx; return 1; }
static int h_threads(sl_op_ctx *ctx) { return C(ctx)->threads > 0 ? C(ctx)->threads : 1; }
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

/* LIST params split on ',' with spaces trimmed, like the engine. */
static int list_index(fh_ctx *c, const char *name) {
    for (int i = c->nparams - 1; i >= 0; i--)
        if (!strcmp(c->pnames[i], name)) return i;
    return -1;
}

static size_t split_list(const char *v, char items[16][512]) {
    size_t n = 0;
    if (!v || !*v) return 0;
    for (const char *p = v; n < 16;) {
        const char *e = strchr(p, ',');
        const char *end = e ? e : p + strlen(p);
        while (p < end && *p == ' ') p++;
        const char *q = end;
        while (q > p && q[-1] == ' ') q--;
        snprintf(items[n++], 512, "%.*s", (int)(q - p), p);
        if (!e) break;
        p = e + 1;
    }
    return n;
}

static size_t h_list_count(sl_op_ctx *ctx, const char *name) {
    fh_ctx *c = C(ctx);
    int i = list_index(c, name);
    char tmp[16][512];
    return split_list(i >= 0 ? c->pvalues[i] : h_param(ctx, name), tmp);
}

static const char *h_list_item(sl_op_ctx *ctx, const char *name, size_t k) {
    fh_ctx *c = C(ctx);
    int i = list_index(c, name);
    if (i < 0) {
        /* a default value: split into the last slot */
        size_t n = split_list(h_param(ctx, name), c->list_items[FH_MAX - 1]);
        return k < n ? c->list_items[FH_MAX - 1][k] : NULL;
    }
    size_t n = split_list(c->pvalues[i], c->list_items[i]);
    return k < n ? c->list_items[i][k] : NULL;
}

static size_t h_input_count(sl_op_ctx *ctx, const char *port) {
    fh_ctx *c = C(ctx);
    size_t n = 0;
    for (int i = 0; i < c->nin; i++) n += !strcmp(c->inports[i], port);
    return n;
}

static const char *h_input_path(sl_op_ctx *ctx, const char *port, size_t k) {
    fh_ctx *c = C(ctx);
    for (int i = 0; i < c->nin; i++)
        if (!strcmp(c->inports[i], port) && k-- == 0) return c->inpaths[i];
    return NULL;
}

static const char *h_output_path(sl_op_ctx *ctx, const char *port) {
    fh_ctx *c = C(ctx);
    for (int i = 0; i < c->nout; i++)
        if (!strcmp(c->outports[i], port)) return c->outpaths[i];
    return NULL;
}

static const char *h_scratch(sl_op_ctx *ctx) { (void)ctx; return "/tmp"; }

static void h_log(sl_op_ctx *ctx, sl_log_level level, const char *fmt, ...) {
    fh_ctx *c = C(ctx);
    static const char *lv[] = {"debug", "info", "warn", "error"};
    if (c->loglen + 16 >= sizeof c->log) return;
    c->loglen += (size_t)snprintf(c->log + c->loglen, sizeof c->log - c->loglen, "%s: ", lv[level & 3]);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->log + c->loglen, sizeof c->log - c->loglen, fmt, ap);
    va_end(ap);
    if (n > 0) c->loglen += (size_t)n;
    if (c->loglen >= sizeof c->log - 1) c->loglen = sizeof c->log - 2;
    c->log[c->loglen++] = '\n';
    c->log[c->loglen] = '\0';
}

static void h_progress(sl_op_ctx *ctx, double done, double total, const char *what) { (void)ctx, (void)done, (void)total, (void)what; }

static int h_cancelled(sl_op_ctx *ctx) {
    fh_ctx *c = C(ctx);
    return c->cancel_after > 0 && ++c->cancel_calls >= c->cancel_after;
}

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
    if (c->nvalues >= 8) return SL_ERR_RANGE;
    snprintf(c->vnames[c->nvalues], 64, "%s", name);
    snprintf(c->vvalues[c->nvalues++], 256, "%s", value);
    return SL_OK;
}

const sl_host fh_host = {
    .struct_size = sizeof(sl_host),
    .abi_major = SL_ABI_MAJOR,
    .abi_minor = SL_ABI_MINOR,
    .step_id = h_step_id,
    .attempt = h_attempt,
    .seed = h_seed,
    .threads = h_threads,
    .gpus = h_gpus,
    .param = h_param,
    .param_int = h_param_int,
    .param_float = h_param_float,
    .param_bool = h_param_bool,
    .param_list_count = h_list_count,
    .param_list_item = h_list_item,
    .input_count = h_input_count,
    .input_path = h_input_path,
    .output_path = h_output_path,
    .scratch_dir = h_scratch,
    .log = h_log,
    .progress = h_progress,
    .cancelled = h_cancelled,
    .fail = h_fail,
    .set_value = h_set_value,
};

sl_status fh_run(fh_ctx *c) {
    if (!c->op) return SL_ERR_NOT_FOUND;
    return c->op->run(&fh_host, (sl_op_ctx *)c);
}

const char *fh_value(const fh_ctx *c, const char *name) {
    for (int i = 0; i < c->nvalues; i++)
        if (!strcmp(c->vnames[i], name)) return c->vvalues[i];
    return NULL;
}

char *fh_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/sciloop-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

char *fh_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *p = malloc(cap + 1);
    size_t k;
    while (p && (k = fread(p + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *q = realloc(p, cap * 2 + 1);
            if (!q) {
                free(p);
                p = NULL;
                break;
            }
            p = q;
            cap *= 2;
        }
    }
    fclose(f);
    if (p) p[n] = '\0';
    if (len) *len = n;
    return p;
}

int fh_write(const char *path, const char *text, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(text, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

long fh_lines(const char *path) {
    size_t n;
    char *t = fh_read(path, &n);
    if (!t) return -1;
    long k = 0;
    for (size_t i = 0; i < n; i++) k += t[i] == '\n';
    free(t);
    return k;
}

const char *fh_corpus(void) {
    static char path[4096];
    const char *s = getenv("SCILOOP_SHARED_DIR");
    if (!s || !*s) return NULL;
    snprintf(path, sizeof path, "%s/corpus", s);
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? path : NULL;
}
