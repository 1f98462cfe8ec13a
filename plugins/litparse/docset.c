/* docset.c — reading document sets (JSON Lines) and writing outputs atomically, for the ops. */
#include "ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *lp_param(const sl_host *h, sl_op_ctx *c, const char *name) {
    const char *v = h->param(c, name);
    return v && *v ? v : NULL;
}

sl_status lp_jsonl_open(lp_jsonl *r, const char *path, size_t max_line) {
    memset(r, 0, sizeof *r);
    r->path = path;
    r->max_line = max_line ? max_line : (size_t)256 << 20;
    r->f = fopen(path, "rb");
    if (!r->f) return sl_set_error(errno == ENOENT ? SL_ERR_NOT_FOUND : SL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    return SL_OK;
}

int lp_jsonl_next(lp_jsonl *r) {
    for (;;) {
        r->line.n = 0;
        r->offset = r->next_offset;
        char chunk[8192];
        int got_any = 0;
        for (;;) {
            if (!fgets(chunk, sizeof chunk, r->f)) {
                if (ferror(r->f)) {
                    sl_set_error(SL_ERR_IO, "%s: read error: %s", r->path, strerror(errno));
                    return -1;
                }
                break;
            }
            got_any = 1;
            size_t n = strlen(chunk);
            r->next_offset += (long long)n;
            int nl = n && chunk[n - 1] == '\n';
            if (nl) n--;
            if (r->line.n + n > r->max_line) {
                sl_set_error(SL_ERR_RANGE, "%s:%ld: line longer than the %zu MiB limit", r->path, r->lineno + 1, r->max_line >> 20);
                return -1;
            }
            if (lp_buf_add(&r->line, chunk, n) != 0) {
                sl_set_error(SL_ERR_NOMEM, "%s:%ld: out of memory", r->path, r->lineno + 1);
                return -1;
            }
            if (nl) break;
        }
        if (!got_any) return 0;
        r->lineno++;
        size_t i = 0;
        while (i < r->line.n && lp_is_space((unsigned char)r->line.p[i])) i++;
        if (i < r->line.n) return 1;
    }
}

json_t *lp_jsonl_parse(lp_jsonl *r) {
    json_error_t err;
    json_t *doc = json_loadb(r->line.p, r->line.n, JSON_REJECT_DUPLICATES, &err);
    if (!doc) {
        sl_set_error(SL_ERR_PARSE, "%s:%ld:%d: not a JSON document: %s", r->path, r->lineno, err.column, err.text);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        sl_set_error(SL_ERR_PARSE, "%s:%ld: expected a JSON object (one document per line)", r->path, r->lineno);
        return NULL;
    }
    return doc;
}

void lp_jsonl_close(lp_jsonl *r) {
    if (!r) return;
    if (r->f) fclose(r->f);
    lp_buf_free(&r->line);
    r->f = NULL;
}

const char *lp_jstr(const json_t *obj, const char *key) {
    const json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *lp_jid(const json_t *doc, const char *kind) { return lp_jstr(json_object_get(doc, "ids"), kind); }

int lp_jyear(const json_t *doc) {
    const json_t *y = json_object_get(doc, "year");
    return json_is_integer(y) ? (int)json_integer_value(y) : 0;
}

void lp_jtext(const json_t *doc, int title, int abstract, lp_buf *b) {
    b->n = 0;
    if (b->p) b->p[0] = '\0';
    const char *t = title ? lp_jstr(doc, "title") : NULL;
    if (t) lp_buf_adds(b, t);
    if (!abstract) return;
    const json_t *ab = json_object_get(doc, "abstract");
    size_t i;
    const json_t *p;
    json_array_foreach(ab, i, p) {
        const char *s = lp_jstr(p, "text");
        if (!s) continue;
        if (b->n) lp_buf_addc(b, title && i == 0 ? '\n' : ' ');
        lp_buf_adds(b, s);
    }
}

int lp_jwrite(FILE *f, const json_t *doc) {
    char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s) return -1;
    int rc = fputs(s, f) < 0 || fputc('\n', f) == EOF ? -1 : 0;
    free(s);
    return rc;
}

FILE *lp_out_open(const sl_host *h, sl_op_ctx *c, const char *path, char *tmp, size_t tmpsz) {
    if (!path) {
        h->fail(c, SL_ERR_INTERNAL, "no output path");
        return NULL;
    }
    snprintf(tmp, tmpsz, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) h->fail(c, SL_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    return f;
}

sl_status lp_out_commit(const sl_host *h, sl_op_ctx *c, FILE *f, const char *tmp, const char *path) {
    int bad = fflush(f) != 0 || ferror(f);
    if (!bad) bad = fsync(fileno(f)) != 0;
    if (fclose(f) != 0) bad = 1;
    if (bad) {
        unlink(tmp);
        return h->fail(c, SL_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return h->fail(c, SL_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
    }
    return SL_OK;
}
