/* host.c — implementation of the sl_host services (params, artifacts, logging, progress, values) over sl_op_ctx. */
#define _GNU_SOURCE
#include "host.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *h_step_id(sl_op_ctx *c) { return c->step_id; }
static int h_attempt(sl_op_ctx *c) { return c->attempt; }
static uint64_t h_seed(sl_op_ctx *c) { return c->seed; }
static int h_threads(sl_op_ctx *c) { return c->threads > 0 ? c->threads : 1; }
static int h_gpus(sl_op_ctx *c) { return c->gpus; }

static int param_index(sl_op_ctx *c, const char *name) {
    return name ? pl_op_param(c->op, name) : -1;
}

static const char *h_param(sl_op_ctx *c, const char *name) {
    int i = param_index(c, name);
    return i < 0 ? NULL : c->param_values[i];
}

static sl_status h_param_int(sl_op_ctx *c, const char *name, int64_t *out) {
    const char *v = h_param(c, name);
    if (!v) return SL_ERR_NOT_FOUND;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    while (isspace((unsigned char)*end)) end++;
    if (*end || errno) return sl_set_error(SL_ERR_TYPE, "param '%s': '%s' is not an integer", name, v);
    *out = x;
    return SL_OK;
}

static sl_status h_param_float(sl_op_ctx *c, const char *name, double *out) {
    const char *v = h_param(c, name);
    if (!v) return SL_ERR_NOT_FOUND;
    char *end;
    double x = strtod(v, &end);
    while (isspace((unsigned char)*end)) end++;
    if (*end || end == v) return sl_set_error(SL_ERR_TYPE, "param '%s': '%s' is not a number", name, v);
    *out = x;
    return SL_OK;
}

static sl_status h_param_bool(sl_op_ctx *c, const char *name, int *out) {
    const char *v = h_param(c, name);
    if (!v) return SL_ERR_NOT_FOUND;
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1")) *out = 1;
    else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0")) *out = 0;
    else return sl_set_error(SL_ERR_TYPE, "param '%s': '%s' is not a bool", name, v);
    return SL_OK;
}

/* Split a LIST param once, on first use. */
static void ensure_list(sl_op_ctx *c, int i) {
    pthread_mutex_lock(&c->lock);
    if (!c->list_items[i] && c->param_values[i]) {
        const char *v = c->param_values[i];
        size_t n = 0, cap = 4;
        char **items = calloc(cap + 1, sizeof *items);
        if (items && *v) {
            for (const char *p = v;;) {
                const char *e = strchr(p, ',');
                const char *end = e ? e : p + strlen(p);
                while (p < end && isspace((unsigned char)*p)) p++;
                const char *q = end;
                while (q > p && isspace((unsigned char)q[-1])) q--;
                if (n == cap) {
                    char **ni = realloc(items, (cap * 2 + 1) * sizeof *items);
                    if (!ni) break;
                    items = ni;
                    cap *= 2;
                }
                items[n++] = strndup(p, (size_t)(q - p));
                if (!e) break;
                p = e + 1;
            }
        }
        c->list_items[i] = items;
        c->list_counts[i] = items ? n : 0;
    }
    pthread_mutex_unlock(&c->lock);
}

static size_t h_param_list_count(sl_op_ctx *c, const char *name) {
    int i = param_index(c, name);
    if (i < 0 || !c->param_values[i]) return 0;
    ensure_list(c, i);
    return c->list_counts[i];
}

static const char *h_param_list_item(sl_op_ctx *c, const char *name, size_t k) {
    int i = param_index(c, name);
    if (i < 0 || !c->param_values[i]) return NULL;
    ensure_list(c, i);
    return k < c->list_counts[i] ? c->list_items[i][k] : NULL;
}

static size_t h_input_count(sl_op_ctx *c, const char *port) {
    int i = port ? pl_op_input(c->op, port) : -1;
    return i < 0 ? 0 : c->input_counts[i];
}

static sl_status h_fail(sl_op_ctx *c, sl_status status, const char *fmt, ...) SL_PRINTF(3, 4);

static const char *h_input_path(sl_op_ctx *c, const char *port, size_t k) {
    int i = port ? pl_op_input(c->op, port) : -1;
    if (i < 0 || k >= c->input_counts[i]) return NULL;
    const char *path = c->input_paths[i][k];
    if (c->materialise && c->materialise(c->materialise_arg, path) != SL_OK) {
        h_fail(c, sl_last_status(), "input '%s' [%zu]: %s", port, k, sl_last_error());
        return NULL;
    }
    return path;
}

static const char *h_output_path(sl_op_ctx *c, const char *port) {
    int i = port ? pl_op_output(c->op, port) : -1;
    if (i < 0) return NULL;
    pthread_mutex_lock(&c->lock); /* ops may ask from their own threads */
    c->output_asked[i] = 1;
    pthread_mutex_unlock(&c->lock);
    return c->output_paths[i];
}

static sl_status h_write_output(sl_op_ctx *c, const char *port, const void *data, size_t size) {
    int i = port ? pl_op_output(c->op, port) : -1;
    if (i < 0) return sl_set_error(SL_ERR_NOT_FOUND, "op %s has no output port '%s'", c->op->name, port ? port : "(null)");
    if (sl_artifact_type_is_dir(c->op->outputs[i].type))
        return sl_set_error(SL_ERR_TYPE, "output port '%s' is a directory (type '%s'): write it at output_path", port, c->op->outputs[i].type);
    if (!data && size) return sl_set_error(SL_ERR_INVALID, "output port '%s': no data for %zu bytes", port, size);
    void *copy = malloc(size ? size : 1);
    if (!copy) return sl_set_error(SL_ERR_NOMEM, "output port '%s': out of memory for %zu bytes", port, size);
    if (size) memcpy(copy, data, size);
    pthread_mutex_lock(&c->lock);
    free(c->output_data[i]);
    c->output_data[i] = copy;
    c->output_sizes[i] = size;
    pthread_mutex_unlock(&c->lock);
    return SL_OK;
}

static const char *h_scratch_dir(sl_op_ctx *c) {
    /* created lazily: most ops never need one, and a million tiny steps should not pay for it */
    pthread_mutex_lock(&c->lock);
    if (!c->scratch_made && c->scratch) {
        if (sli_mkdirs(c->scratch, 0755) == SL_OK) c->scratch_made = 1;
    }
    pthread_mutex_unlock(&c->lock);
    return c->scratch;
}

static const char *level_name(sl_log_level l) {
    switch (l) {
    case SL_LOG_DEBUG: return "debug";
    case SL_LOG_INFO: return "info";
    case SL_LOG_WARN: return "warn";
    case SL_LOG_ERROR: return "error";
    }
    return "info";
}

static void vlog(sl_op_ctx *c, sl_log_level level, const char *fmt, va_list ap) {
    char line[8192];
    vsnprintf(line, sizeof line, fmt, ap);
    pthread_mutex_lock(&c->lock);
    if (!c->log && c->log_path) c->log = fopen(c->log_path, "a");
    if (c->log) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        fprintf(c->log, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s\n", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_name(level), line);
        fflush(c->log);
    }
    pthread_mutex_unlock(&c->lock);
    if (level >= SL_LOG_WARN && c->on_notice) c->on_notice(c->user, level, line);
}

static void h_log(sl_op_ctx *c, sl_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(c, level, fmt, ap);
    va_end(ap);
}

void sli_ctx_log(sl_op_ctx *c, sl_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(c, level, fmt, ap);
    va_end(ap);
}

static void h_progress(sl_op_ctx *c, double done, double total, const char *what) {
    if (c->on_progress) c->on_progress(c->user, done, total, what);
}

static int h_cancelled(sl_op_ctx *c) { return c->cancel_flag && *c->cancel_flag; }

static sl_status h_fail(sl_op_ctx *c, sl_status status, const char *fmt, ...) {
    char msg[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (status == SL_OK) status = SL_ERR_FAILED;
    pthread_mutex_lock(&c->lock);
    if (!c->fail_message) { /* the first failure is the cause; later ones are consequences */
        c->fail_message = strdup(msg);
        c->fail_status = status;
    }
    pthread_mutex_unlock(&c->lock);
    h_log(c, SL_LOG_ERROR, "%s", msg);
    return status;
}

static sl_status h_set_value(sl_op_ctx *c, const char *name, const char *value) {
    if (!name || !value) return SL_ERR_INVALID;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n_values; i++)
        if (strcmp(c->value_names[i], name) == 0) {
            char *v = strdup(value);
            if (!v) {
                pthread_mutex_unlock(&c->lock);
                return SL_ERR_NOMEM;
            }
            free(c->value_texts[i]);
            c->value_texts[i] = v;
            pthread_mutex_unlock(&c->lock);
            return SL_OK;
        }
    char **nn = realloc(c->value_names, (c->n_values + 1) * sizeof *nn);
    if (nn) c->value_names = nn;
    char **nt = realloc(c->value_texts, (c->n_values + 1) * sizeof *nt);
    if (nt) c->value_texts = nt;
    if (!nn || !nt) {
        pthread_mutex_unlock(&c->lock);
        return SL_ERR_NOMEM;
    }
    c->value_names[c->n_values] = strdup(name);
    c->value_texts[c->n_values] = strdup(value);
    c->n_values++;
    pthread_mutex_unlock(&c->lock);
    return SL_OK;
}

static const sl_host host_table = {
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
    .param_list_count = h_param_list_count,
    .param_list_item = h_param_list_item,
    .input_count = h_input_count,
    .input_path = h_input_path,
    .output_path = h_output_path,
    .scratch_dir = h_scratch_dir,
    .log = h_log,
    .progress = h_progress,
    .cancelled = h_cancelled,
    .fail = h_fail,
    .set_value = h_set_value,
    .write_output = h_write_output,
};

const sl_host *sli_host(void) { return &host_table; }

void sli_ctx_init(sl_op_ctx *c) {
    pthread_mutex_init(&c->lock, NULL);
    size_t n = c->op->n_params + 1;
    c->list_items = sli_xcalloc(n, sizeof *c->list_items);
    c->list_counts = sli_xcalloc(n, sizeof *c->list_counts);
    c->output_data = sli_xcalloc(c->op->n_outputs + 1, sizeof *c->output_data);
    c->output_sizes = sli_xcalloc(c->op->n_outputs + 1, sizeof *c->output_sizes);
    c->output_asked = sli_xcalloc(c->op->n_outputs + 1, sizeof *c->output_asked);
}

void sli_ctx_release(sl_op_ctx *c) {
    for (size_t i = 0; i < c->op->n_params; i++) {
        if (!c->list_items[i]) continue;
        for (size_t k = 0; k < c->list_counts[i]; k++) free(c->list_items[i][k]);
        free(c->list_items[i]);
    }
    free(c->list_items);
    free(c->list_counts);
    for (size_t i = 0; i < c->op->n_outputs; i++) free(c->output_data[i]);
    free(c->output_data);
    free(c->output_sizes);
    free(c->output_asked);
    if (c->log) fclose(c->log);
    c->log = NULL;
    free(c->fail_message);
    c->fail_message = NULL;
    for (size_t i = 0; i < c->n_values; i++) {
        free(c->value_names[i]);
        free(c->value_texts[i]);
    }
    free(c->value_names);
    free(c->value_texts);
    c->n_values = 0;
    pthread_mutex_destroy(&c->lock);
}
