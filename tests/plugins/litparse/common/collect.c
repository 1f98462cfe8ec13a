/* collect.c — test sink: serialise each document, check the JSON round-trips through jansson, keep it. */
#include "collect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sl_status emit(void *user, lp_doc *d) {
    lp_collected *c = user;
    lp_buf b = {0};
    if (lp_doc_to_json(d, &b) != 0) return SL_ERR_NOMEM;
    json_error_t err;
    json_t *o = json_loadb(b.p, b.n, JSON_REJECT_DUPLICATES, &err);
    if (!o) {
        fprintf(stderr, "invalid JSON line (%s): %.200s\n", err.text, b.p);
        c->json_errors++;
    } else {
        /* the writer promises jansson's compact order-preserving form, newline-terminated */
        char *again = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!again || strlen(again) + 1 != b.n || memcmp(again, b.p, b.n - 1) != 0) {
            fprintf(stderr, "JSON line does not round-trip:\n  %.300s\n  %.300s\n", b.p, again ? again : "(null)");
            c->json_errors++;
        }
        free(again);
        json_array_append_new(c->docs, o);
    }
    lp_buf_free(&b);
    return SL_OK;
}

static sl_status del(void *user, const char *pmid) {
    lp_collected *c = user;
    json_array_append_new(c->deleted, json_string(pmid));
    return SL_OK;
}

static void note(void *user, const char *msg) {
    lp_collected *c = user;
    json_array_append_new(c->notes, json_string(msg));
}

static void start(lp_collected *c) {
    memset(c, 0, sizeof *c);
    c->docs = json_array();
    c->deleted = json_array();
    c->notes = json_array();
}

static void finish(lp_collected *c, sl_status st) {
    c->status = st;
    if (st != SL_OK) snprintf(c->error, sizeof c->error, "%s", sl_last_error());
}

void lp_collect_file(lp_collected *c, const char *path, const char *display, lp_format fmt, const lp_options *opts) {
    start(c);
    lp_sink s = {emit, del, note, c};
    finish(c, lp_parse_file(path, display, fmt, opts, &s, &c->res));
}

void lp_collect_mem(lp_collected *c, const char *text, size_t len, const char *display, lp_format fmt, const lp_options *opts) {
    start(c);
    lp_sink s = {emit, del, note, c};
    finish(c, lp_parse_mem(text, len, display, fmt, opts, &s, &c->res));
}

void lp_collect_free(lp_collected *c) {
    json_decref(c->docs);
    json_decref(c->deleted);
    json_decref(c->notes);
    memset(c, 0, sizeof *c);
}

static const json_t *walk(const json_t *o, const char *path) {
    char part[128];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof part) return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        if (json_is_array(o)) o = json_array_get(o, (size_t)atol(part));
        else o = json_object_get(o, part);
        path += n + (dot ? 1 : 0);
    }
    return o;
}

const char *jstr(const json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }
const char *jpath(const json_t *o, const char *path) { return json_string_value(walk(o, path)); }

long jint(const json_t *o, const char *path) {
    const json_t *v = walk(o, path);
    return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

size_t jlen(const json_t *o, const char *path) {
    const json_t *v = walk(o, path);
    return json_is_array(v) ? json_array_size(v) : json_is_object(v) ? json_object_size(v) : 0;
}

json_t *jdoc(const lp_collected *c, const char *id) {
    size_t i;
    json_t *d;
    json_array_foreach(c->docs, i, d) if (jstr(d, "id") && !strcmp(jstr(d, "id"), id)) return d;
    return NULL;
}
