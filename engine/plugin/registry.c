/* registry.c — dlopen plugins, check their ABI 1 descriptors field by field, index their ops. */
#define _GNU_SOURCE
#include "registry.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Sizes of the descriptor structs as ABI 1.0 defined them: the least a plugin may declare.
 * When a later minor appends fields, these stay and the new fields read as zero for older
 * plugins. */
#define MIN_PLUGIN_SIZE (offsetof(sl_plugin, n_ops) + sizeof(size_t))
#define MIN_OP_SIZE (offsetof(sl_op_desc, values) + sizeof(const char *))
#define MIN_PORT_SIZE (offsetof(sl_port_desc, compare) + sizeof(const char *))
#define MIN_PARAM_SIZE (offsetof(sl_param_desc, doc) + sizeof(const char *))

const char *sli_self_exe(void) {
    static char path[PATH_MAX];
    if (!path[0]) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n < 0) n = 0;
        path[n] = '\0';
    }
    return path;
}

static int valid_ident(const char *s) {
    if (!s || !*s || !(isalpha((unsigned char)*s) || *s == '_')) return 0;
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-')) return 0;
    return strlen(s) <= 128;
}

size_t sli_edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return (size_t)-1;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (a[i - 1] != b[j - 1]);
            size_t del = row[j] + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            prev = cur;
        }
    }
    return row[lb];
}

/* ------------------------------------------------------------------------------------------ */
/* Param value checking                                                                       */

static int parse_int(const char *s, long long *out) {
    char *end;
    errno = 0;
    while (isspace((unsigned char)*s)) s++;
    long long v = strtoll(s, &end, 10);
    while (isspace((unsigned char)*end)) end++;
    if (end == s || *end || errno) return -1;
    *out = v;
    return 0;
}

static int parse_float(const char *s, double *out) {
    char *end;
    errno = 0;
    while (isspace((unsigned char)*s)) s++;
    double v = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    if (end == s || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int pl_param_check(const sl_param_desc *p, const char *v, sli_buf *why) {
    switch (p->type) {
    case SL_PARAM_STRING:
    case SL_PARAM_PATH:
    case SL_PARAM_LIST:
        return 0;
    case SL_PARAM_BOOL:
        if (!strcasecmp(v, "true") || !strcasecmp(v, "false") || !strcasecmp(v, "yes") ||
            !strcasecmp(v, "no") || !strcmp(v, "1") || !strcmp(v, "0"))
            return 0;
        sli_buf_printf(why, "expected a bool (true|false|yes|no|1|0), got '%s'", v);
        return 1;
    case SL_PARAM_ENUM: {
        const char *c = p->choices ? p->choices : "";
        size_t vl = strlen(v);
        for (const char *q = c; *q;) {
            const char *e = strchr(q, '|');
            size_t n = e ? (size_t)(e - q) : strlen(q);
            if (n == vl && strncmp(q, v, n) == 0) return 0;
            q += n + (e ? 1 : 0);
        }
        sli_buf_printf(why, "expected one of %s, got '%s'", c, v);
        return 1;
    }
    case SL_PARAM_INT: {
        long long x, lo, hi;
        if (parse_int(v, &x) != 0) {
            sli_buf_printf(why, "expected an integer, got '%s'", v);
            return 1;
        }
        if ((p->min && parse_int(p->min, &lo) == 0 && x < lo) || (p->max && parse_int(p->max, &hi) == 0 && x > hi)) {
            sli_buf_printf(why, "expected an integer in [%s, %s], got %lld", p->min ? p->min : "-inf", p->max ? p->max : "inf", x);
            return 1;
        }
        return 0;
    }
    case SL_PARAM_FLOAT: {
        double x, lo, hi;
        if (parse_float(v, &x) != 0) {
            sli_buf_printf(why, "expected a finite number, got '%s'", v);
            return 1;
        }
        if ((p->min && parse_float(p->min, &lo) == 0 && x < lo) || (p->max && parse_float(p->max, &hi) == 0 && x > hi)) {
            sli_buf_printf(why, "expected a number in [%s, %s], got %s", p->min ? p->min : "-inf", p->max ? p->max : "inf", v);
            return 1;
        }
        return 0;
    }
    }
    sli_buf_printf(why, "parameter has an unknown type %d", (int)p->type);
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Descriptor checking and copying                                                            */

static void add_problem(pl_registry *r, const char *path, const char *msg) {
    r->problems = sli_xrealloc(r->problems, (r->n_problems + 1) * sizeof *r->problems);
    r->problems[r->n_problems].path = sli_xstrdup(path);
    r->problems[r->n_problems].message = sli_xstrdup(msg);
    r->n_problems++;
}

/* Copy an array of descriptors whose stride is its first element's struct_size into an array
 * of the engine's layout. */
static sl_status copy_ports(const char *where, const sl_port_desc *src, size_t n, int is_output,
                            sl_port_desc **out) {
    *out = sli_xcalloc(n + 1, sizeof **out);
    if (n == 0) return SL_OK;
    if (!src) return sl_set_error(SL_ERR_ABI, "%s: %zu %s ports declared but the array is NULL", where, n, is_output ? "output" : "input");
    size_t stride = src->struct_size;
    if (stride < MIN_PORT_SIZE)
        return sl_set_error(SL_ERR_ABI, "%s: port descriptor struct_size %zu is smaller than ABI 1.0's %zu (truncated descriptor)",
                            where, stride, (size_t)MIN_PORT_SIZE);
    for (size_t i = 0; i < n; i++) {
        const sl_port_desc *p = (const sl_port_desc *)((const char *)src + i * stride);
        if (p->struct_size != stride)
            return sl_set_error(SL_ERR_ABI, "%s: port %zu has struct_size %zu, port 0 has %zu", where, i, p->struct_size, stride);
        memcpy(&(*out)[i], p, stride < sizeof(sl_port_desc) ? stride : sizeof(sl_port_desc));
        (*out)[i].struct_size = sizeof(sl_port_desc);
        const sl_port_desc *q = &(*out)[i];
        if (!valid_ident(q->name))
            return sl_set_error(SL_ERR_ABI, "%s: %s port %zu has an invalid name", where, is_output ? "output" : "input", i);
        if (!q->type || !sl_artifact_type_known(q->type) || (is_output && strcmp(q->type, "any") == 0))
            return sl_set_error(SL_ERR_ABI, "%s: port '%s' has unknown artifact type '%s'", where, q->name, q->type ? q->type : "(null)");
        for (size_t k = 0; k < i; k++)
            if (strcmp((*out)[k].name, q->name) == 0)
                return sl_set_error(SL_ERR_ABI, "%s: port '%s' is declared twice", where, q->name);
    }
    return SL_OK;
}

static sl_status copy_params(const char *where, const sl_param_desc *src, size_t n, sl_param_desc **out) {
    *out = sli_xcalloc(n + 1, sizeof **out);
    if (n == 0) return SL_OK;
    if (!src) return sl_set_error(SL_ERR_ABI, "%s: %zu params declared but the array is NULL", where, n);
    size_t stride = src->struct_size;
    if (stride < MIN_PARAM_SIZE)
        return sl_set_error(SL_ERR_ABI, "%s: param descriptor struct_size %zu is smaller than ABI 1.0's %zu (truncated descriptor)",
                            where, stride, (size_t)MIN_PARAM_SIZE);
    for (size_t i = 0; i < n; i++) {
        const sl_param_desc *p = (const sl_param_desc *)((const char *)src + i * stride);
        if (p->struct_size != stride)
            return sl_set_error(SL_ERR_ABI, "%s: param %zu has struct_size %zu, param 0 has %zu", where, i, p->struct_size, stride);
        memcpy(&(*out)[i], p, stride < sizeof(sl_param_desc) ? stride : sizeof(sl_param_desc));
        (*out)[i].struct_size = sizeof(sl_param_desc);
        const sl_param_desc *q = &(*out)[i];
        if (!q->name || !*q->name)
            return sl_set_error(SL_ERR_ABI, "%s: param %zu has no name", where, i);
        if ((unsigned)q->type > SL_PARAM_LIST)
            return sl_set_error(SL_ERR_ABI, "%s: param '%s' has unknown type %d", where, q->name, (int)q->type);
        if (q->type == SL_PARAM_ENUM && (!q->choices || !*q->choices))
            return sl_set_error(SL_ERR_ABI, "%s: enum param '%s' has no choices", where, q->name);
        if (q->default_value) {
            sli_buf why = {0};
            if (pl_param_check(q, q->default_value, &why)) {
                sl_status st = sl_set_error(SL_ERR_ABI, "%s: default of param '%s' is invalid: %s", where, q->name, why.data);
                sli_buf_free(&why);
                return st;
            }
            sli_buf_free(&why);
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp((*out)[k].name, q->name) == 0)
                return sl_set_error(SL_ERR_ABI, "%s: param '%s' is declared twice", where, q->name);
    }
    return SL_OK;
}

static void free_plugin(pl_plugin *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n_ops; i++) {
        free((char *)p->ops[i].name);
        free(p->ops[i].inputs);
        free(p->ops[i].outputs);
        free(p->ops[i].params);
    }
    free(p->ops);
    if (p->handle) dlclose(p->handle);
    free(p->path);
    free(p);
}

/* Turn a descriptor into a pl_plugin, checking everything the engine will later rely on. */
static sl_status adopt(const char *path, void *handle, const sl_plugin *d, pl_plugin **out) {
    *out = NULL;
    if (!d) return sl_set_error(SL_ERR_ABI, "%s: " SL_PLUGIN_ENTRY_NAME "() returned NULL", path);
    if (d->struct_size < offsetof(sl_plugin, abi_minor) + sizeof(uint32_t))
        return sl_set_error(SL_ERR_ABI, "%s: plugin descriptor struct_size %zu is too small to hold the ABI version (truncated descriptor)",
                            path, d->struct_size);
    if (d->abi_major != SL_ABI_MAJOR)
        return sl_set_error(SL_ERR_ABI, "%s: plugin speaks ABI %u.%u but this engine speaks ABI %d.%d; rebuild the plugin against this SDK",
                            path, d->abi_major, d->abi_minor, SL_ABI_MAJOR, SL_ABI_MINOR);
    if (d->struct_size < MIN_PLUGIN_SIZE)
        return sl_set_error(SL_ERR_ABI, "%s: plugin descriptor struct_size %zu is smaller than ABI 1.0's %zu (truncated descriptor)",
                            path, d->struct_size, (size_t)MIN_PLUGIN_SIZE);
    if (!valid_ident(d->name))
        return sl_set_error(SL_ERR_ABI, "%s: plugin name '%s' is not an identifier", path, d->name ? d->name : "(null)");
    if (!d->version || !*d->version) return sl_set_error(SL_ERR_ABI, "%s: plugin '%s' has no version", path, d->name);
    if (d->n_ops > 0 && !d->ops) return sl_set_error(SL_ERR_ABI, "%s: plugin '%s' declares %zu ops but the array is NULL", path, d->name, d->n_ops);
    pl_plugin *p = sli_xcalloc(1, sizeof *p);
    p->path = sli_xstrdup(path);
    p->handle = handle;
    p->name = d->name;
    p->version = d->version;
    p->license = d->license;
    p->summary = d->summary;
    p->abi_major = d->abi_major;
    p->abi_minor = d->abi_minor;
    p->ops = sli_xcalloc(d->n_ops + 1, sizeof *p->ops);
    size_t stride = d->n_ops ? d->ops->struct_size : 0;
    sl_status st = SL_OK;
    if (d->n_ops && stride < MIN_OP_SIZE)
        st = sl_set_error(SL_ERR_ABI, "%s: op descriptor struct_size %zu is smaller than ABI 1.0's %zu (truncated descriptor)",
                          path, stride, (size_t)MIN_OP_SIZE);
    for (size_t i = 0; st == SL_OK && i < d->n_ops; i++) {
        const sl_op_desc *o = (const sl_op_desc *)((const char *)d->ops + i * stride);
        if (o->struct_size != stride) {
            st = sl_set_error(SL_ERR_ABI, "%s: op %zu has struct_size %zu, op 0 has %zu", path, i, o->struct_size, stride);
            break;
        }
        if (!valid_ident(o->name)) {
            st = sl_set_error(SL_ERR_ABI, "%s: op %zu of plugin '%s' has an invalid name", path, i, d->name);
            break;
        }
        pl_op *op = &p->ops[p->n_ops++];
        op->plugin = p;
        op->name = sli_xasprintf("%s.%s", d->name, o->name);
        op->short_name = o->name;
        op->summary = o->summary;
        op->doc = o->doc;
        op->values = o->values;
        op->flags = o->flags;
        op->run = o->run;
        op->n_inputs = o->n_inputs;
        op->n_outputs = o->n_outputs;
        op->n_params = o->n_params;
        char where[PATH_MAX + 200];
        snprintf(where, sizeof where, "%s: op '%s'", path, op->name);
        if (!o->run) st = sl_set_error(SL_ERR_ABI, "%s has no run function", where);
        if (st == SL_OK) st = copy_ports(where, o->inputs, o->n_inputs, 0, &op->inputs);
        if (st == SL_OK) st = copy_ports(where, o->outputs, o->n_outputs, 1, &op->outputs);
        if (st == SL_OK) st = copy_params(where, o->params, o->n_params, &op->params);
        for (size_t k = 0; st == SL_OK && k + 1 < p->n_ops; k++)
            if (strcmp(p->ops[k].name, op->name) == 0) st = sl_set_error(SL_ERR_ABI, "%s is declared twice", where);
    }
    if (st != SL_OK) {
        p->handle = NULL; /* the caller closes it */
        free_plugin(p);
        return st;
    }
    *out = p;
    return SL_OK;
}

static void index_plugin(pl_registry *r, pl_plugin *p) {
    r->plugins = sli_xrealloc(r->plugins, (r->n_plugins + 1) * sizeof *r->plugins);
    r->plugins[r->n_plugins++] = p;
    sli_map_put(&r->by_name, p->name, p);
    for (size_t i = 0; i < p->n_ops; i++) sli_map_put(&r->ops, p->ops[i].name, &p->ops[i]);
}

sl_status pl_registry_add_file(pl_registry *r, const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        sl_status st = sl_set_error(SL_ERR_ABI, "%s: cannot load plugin: %s", path, e ? e : "unknown dlopen error");
        add_problem(r, path, sl_last_error());
        return st;
    }
    dlerror();
    void *sym = dlsym(h, SL_PLUGIN_ENTRY_NAME);
    if (!sym) {
        dlclose(h);
        sl_status st = sl_set_error(SL_ERR_ABI, "%s: not a sciloop plugin: it does not export the entry symbol '" SL_PLUGIN_ENTRY_NAME "'", path);
        add_problem(r, path, sl_last_error());
        return st;
    }
    sl_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* object pointer to function pointer, as POSIX allows */
    pl_plugin *p;
    sl_status st = adopt(path, h, entry(), &p);
    if (st != SL_OK) {
        dlclose(h);
        add_problem(r, path, sl_last_error());
        return st;
    }
    if (sli_map_get(&r->by_name, p->name)) {
        pl_plugin *first = sli_map_get(&r->by_name, p->name);
        char *msg = sli_xasprintf("plugin '%s' is already loaded from %s; this copy is ignored", p->name, first->path);
        add_problem(r, path, msg);
        free(msg);
        free_plugin(p);
        return SL_OK;
    }
    index_plugin(r, p);
    return SL_OK;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void load_dir(pl_registry *r, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    sli_ptrvec names = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 3 && strcmp(e->d_name + n - 3, ".so") == 0) sli_ptrvec_push(&names, sli_xasprintf("%s/%s", dir, e->d_name));
    }
    closedir(d);
    qsort(names.items, names.n, sizeof *names.items, cmp_names);
    for (size_t i = 0; i < names.n; i++) {
        pl_registry_add_file(r, names.items[i]);
        free(names.items[i]);
    }
    sli_ptrvec_free(&names);
}

pl_registry *pl_registry_load_builtin(void) {
    pl_registry *r = sli_xcalloc(1, sizeof *r);
    pl_plugin *core;
    if (adopt("(built-in)", NULL, sli_core_plugin(), &core) == SL_OK) index_plugin(r, core);
    return r;
}

pl_registry *pl_registry_load(void) {
    pl_registry *r = pl_registry_load_builtin();
    const char *env = getenv("SCILOOP_PLUGIN_PATH");
    if (env && *env) {
        char *copy = sli_xstrdup(env), *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) load_dir(r, dir);
        free(copy);
    }
    char *exe_dir = sli_dirname(sli_self_exe());
    char *plugdir = sli_xasprintf("%s/../lib/sciloop/plugins", exe_dir);
    load_dir(r, plugdir);
    free(plugdir);
    free(exe_dir);
    return r;
}

void pl_registry_destroy(pl_registry *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n_plugins; i++) free_plugin(r->plugins[i]);
    free(r->plugins);
    for (size_t i = 0; i < r->n_problems; i++) {
        free(r->problems[i].path);
        free(r->problems[i].message);
    }
    free(r->problems);
    sli_map_free(&r->ops);
    sli_map_free(&r->by_name);
    free(r);
}

const pl_op *pl_registry_find(const pl_registry *r, const char *full_name) {
    return sli_map_get(&r->ops, full_name);
}

void pl_registry_explain_unknown(const pl_registry *r, const char *full_name, sli_buf *buf) {
    const char *best = NULL;
    size_t bestd = (size_t)-1;
    for (size_t i = 0; i < r->n_plugins; i++)
        for (size_t k = 0; k < r->plugins[i]->n_ops; k++) {
            size_t d = sli_edit_distance(full_name, r->plugins[i]->ops[k].name);
            if (d < bestd) {
                bestd = d;
                best = r->plugins[i]->ops[k].name;
            }
        }
    if (best && bestd <= 3) sli_buf_printf(buf, "; did you mean '%s'?", best);
    const char *dot = strchr(full_name, '.');
    size_t plen = dot ? (size_t)(dot - full_name) : strlen(full_name);
    char pname[130];
    snprintf(pname, sizeof pname, "%.*s", (int)(plen < 128 ? plen : 128), full_name);
    pl_plugin *p = sli_map_get(&r->by_name, pname);
    if (p) {
        sli_buf_printf(buf, " (plugin '%s' has:", p->name);
        for (size_t k = 0; k < p->n_ops; k++) sli_buf_printf(buf, " %s", p->ops[k].short_name);
        sli_buf_puts(buf, ")");
    } else {
        sli_buf_printf(buf, " (no plugin named '%s' is loaded; see `sciloop plugins`", pname);
        for (size_t i = 0; i < r->n_problems; i++) sli_buf_printf(buf, "; %s", r->problems[i].message);
        sli_buf_puts(buf, ")");
    }
}

const char *pl_plugin_hash(pl_plugin *p) {
    if (!p->so_hash[0]) {
        const char *path = p->handle ? p->path : sli_self_exe();
        if (sl_artifact_hash(path, p->so_hash) != SL_OK) snprintf(p->so_hash, sizeof p->so_hash, "unhashable");
    }
    return p->so_hash;
}

int pl_op_input(const pl_op *op, const char *name) {
    for (size_t i = 0; i < op->n_inputs; i++)
        if (strcmp(op->inputs[i].name, name) == 0) return (int)i;
    return -1;
}

int pl_op_output(const pl_op *op, const char *name) {
    for (size_t i = 0; i < op->n_outputs; i++)
        if (strcmp(op->outputs[i].name, name) == 0) return (int)i;
    return -1;
}

int pl_op_param(const pl_op *op, const char *name) {
    for (size_t i = 0; i < op->n_params; i++)
        if (strcmp(op->params[i].name, name) == 0) return (int)i;
    return -1;
}
