/* op_filter.c — litparse.filter: keep the documents that pass year, venue, field, language and regex conditions. */
#include "ops.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct cond {
    int64_t ymin, ymax;
    regex_t re_title, re_abs, re_text;
    int has_title, has_abs, has_text;
    int parents_only;
} cond;

static sl_status compile(const sl_host *h, sl_op_ctx *c, const char *param, regex_t *re, int *has) {
    const char *pat = lp_param(h, c, param);
    *has = 0;
    if (!pat) return SL_OK;
    int rc = regcomp(re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB);
    if (rc != 0) {
        char why[256];
        regerror(rc, re, why, sizeof why);
        return h->fail(c, SL_ERR_INVALID, "%s: '%s' is not a valid regular expression: %s", param, pat, why);
    }
    *has = 1;
    return SL_OK;
}

/* Present and non-empty: a string, array or object with something in it, a number, true. */
static int present(const json_t *doc, const char *field) {
    const json_t *v = json_object_get(doc, field);
    if (!v) v = json_object_get(json_object_get(doc, "ids"), field);
    if (!v || json_is_null(v) || json_is_false(v)) return 0;
    if (json_is_string(v)) return json_string_length(v) > 0;
    if (json_is_array(v)) return json_array_size(v) > 0;
    if (json_is_object(v)) return json_object_size(v) > 0;
    return 1;
}

static int contains_ci(const char *hay, const char *needle) {
    if (!hay || !needle) return 0;
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (!strncasecmp(p, needle, n)) return 1;
    return 0;
}

static int keep(const sl_host *h, sl_op_ctx *c, const cond *k, const json_t *doc, lp_buf *b) {
    int y = lp_jyear(doc);
    if ((k->ymin > 0 || k->ymax < 9999) && (!y || y < k->ymin || y > k->ymax)) return 0;
    if (k->parents_only && json_object_get(doc, "parent")) return 0;
    size_t nv = h->param_list_count(c, "venue");
    if (nv) {
        const char *venue = lp_jstr(doc, "venue");
        const char *abbrev = lp_jstr(json_object_get(doc, "journal"), "abbrev");
        int any = 0;
        for (size_t i = 0; i < nv && !any; i++) {
            const char *want = h->param_list_item(c, "venue", i);
            any = want && *want && (contains_ci(venue, want) || contains_ci(abbrev, want));
        }
        if (!any) return 0;
    }
    size_t nr = h->param_list_count(c, "require");
    for (size_t i = 0; i < nr; i++) {
        const char *f = h->param_list_item(c, "require", i);
        if (f && *f && !present(doc, f)) return 0;
    }
    size_t nl = h->param_list_count(c, "language");
    if (nl) {
        const char *lang = lp_jstr(doc, "language");
        int any = 0;
        for (size_t i = 0; i < nl && !any && lang; i++) {
            const char *want = h->param_list_item(c, "language", i);
            if (!want) continue;
            lp_arena a;
            lp_arena_init(&a, 0);
            char *w = lp_lang_norm(&a, want);
            any = w && !strcasecmp(w, lang);
            lp_arena_free(&a);
        }
        if (!any) return 0;
    }
    if (k->has_title) {
        const char *t = lp_jstr(doc, "title");
        if (!t || regexec(&k->re_title, t, 0, NULL, 0) != 0) return 0;
    }
    if (k->has_abs) {
        lp_jtext(doc, 0, 1, b);
        if (!b->n || regexec(&k->re_abs, b->p, 0, NULL, 0) != 0) return 0;
    }
    if (k->has_text) {
        lp_jtext(doc, 1, 1, b);
        if (!b->n || regexec(&k->re_text, b->p, 0, NULL, 0) != 0) return 0;
    }
    return 1;
}

sl_status lp_op_filter(const sl_host *h, sl_op_ctx *c) {
    cond k;
    memset(&k, 0, sizeof k);
    k.ymin = 0;
    k.ymax = 9999;
    h->param_int(c, "year_min", &k.ymin);
    h->param_int(c, "year_max", &k.ymax);
    if (k.ymin > k.ymax) return h->fail(c, SL_ERR_INVALID, "year_min (%lld) is after year_max (%lld)", (long long)k.ymin, (long long)k.ymax);
    h->param_bool(c, "parents_only", &k.parents_only);
    int64_t mb = 256;
    h->param_int(c, "max_record_mb", &mb);
    sl_status st = compile(h, c, "title_regex", &k.re_title, &k.has_title);
    if (st == SL_OK) st = compile(h, c, "abstract_regex", &k.re_abs, &k.has_abs);
    if (st == SL_OK) st = compile(h, c, "text_regex", &k.re_text, &k.has_text);
    const char *out_path = h->output_path(c, "documents");
    char tmp[4096];
    FILE *out = NULL;
    if (st == SL_OK && !(out = lp_out_open(h, c, out_path, tmp, sizeof tmp))) st = SL_ERR_IO;
    size_t kept = 0, seen = 0;
    lp_buf b = {0};
    size_t nin = h->input_count(c, "documents");
    for (size_t f = 0; f < nin && st == SL_OK; f++) {
        lp_jsonl r;
        st = lp_jsonl_open(&r, h->input_path(c, "documents", f), (size_t)mb << 20);
        if (st != SL_OK) {
            st = h->fail(c, st, "%s", sl_last_error());
            break;
        }
        int more;
        while ((more = lp_jsonl_next(&r)) == 1) {
            json_t *doc = lp_jsonl_parse(&r);
            if (!doc) {
                st = h->fail(c, SL_ERR_PARSE, "%s", sl_last_error());
                break;
            }
            seen++;
            int yes = keep(h, c, &k, doc, &b);
            json_decref(doc);
            if (yes) {
                /* the line is copied as it is, so filtering never rewrites a document */
                if (fwrite(r.line.p, 1, r.line.n, out) != r.line.n || fputc('\n', out) == EOF) {
                    st = h->fail(c, SL_ERR_IO, "cannot write: %s", strerror(errno));
                    break;
                }
                kept++;
            }
        }
        if (more < 0 && st == SL_OK) st = h->fail(c, sl_last_status(), "%s", sl_last_error());
        lp_jsonl_close(&r);
    }
    lp_buf_free(&b);
    if (k.has_title) regfree(&k.re_title);
    if (k.has_abs) regfree(&k.re_abs);
    if (k.has_text) regfree(&k.re_text);
    if (out) {
        if (st == SL_OK) st = lp_out_commit(h, c, out, tmp, out_path);
        else {
            fclose(out);
            remove(tmp);
        }
    }
    if (st != SL_OK) return st;
    char v[32];
    snprintf(v, sizeof v, "%zu", kept);
    h->set_value(c, "documents", v);
    h->log(c, SL_LOG_INFO, "kept %zu of %zu documents", kept, seen);
    return SL_OK;
}
