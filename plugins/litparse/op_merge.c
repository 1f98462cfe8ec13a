/* op_merge.c — litparse.merge: union document sets, group duplicates by identifiers and title, merge each group. */
#include "ops.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

/* --- keys --- */

/* Case-folded, accent-stripped, letters and digits only. */
static char *norm_key(const char *s) {
    if (!s) return NULL;
    utf8proc_uint8_t *folded = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &folded,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK);
    if (n < 0) return NULL;
    char *o = (char *)folded;
    size_t k = 0;
    for (utf8proc_ssize_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t len = utf8proc_iterate(folded + i, n - i, &cp);
        if (len <= 0) break;
        utf8proc_category_t cat = utf8proc_category(cp);
        int keep = (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) || cat == UTF8PROC_CATEGORY_ND;
        if (keep) {
            memmove(o + k, folded + i, (size_t)len);
            k += (size_t)len;
        }
        i += len;
    }
    o[k] = '\0';
    return o;
}

static char *lower_dup(const char *prefix, const char *s) {
    size_t pn = strlen(prefix), n = strlen(s);
    char *r = malloc(pn + n + 1);
    if (!r) return NULL;
    memcpy(r, prefix, pn);
    for (size_t i = 0; i < n; i++) r[pn + i] = (char)tolower((unsigned char)s[i]);
    r[pn + n] = '\0';
    return r;
}

/* arXiv id without its version: "1605.08386v2" -> "1605.08386" */
static char *arxiv_key(const char *s) {
    char *r = lower_dup("arxiv:", s);
    if (!r) return NULL;
    size_t n = strlen(r), k = n;
    while (k > 6 && isdigit((unsigned char)r[k - 1])) k--;
    if (k < n && k > 6 && r[k - 1] == 'v') r[k - 1] = '\0';
    return r;
}

static const char *first_family(const json_t *doc) {
    const json_t *a = json_array_get(json_object_get(doc, "authors"), 0);
    const char *f = lp_jstr(a, "family");
    return f ? f : lp_jstr(a, "collab");
}

/* --- the grouping --- */

typedef struct item {
    uint32_t file;
    long long offset;
    size_t len;
    uint32_t parent;       /* union-find */
    uint32_t next;         /* next member of the group (UINT32_MAX: last) */
    uint32_t last;         /* roots: last member */
    char *doi, *pmid;      /* roots: the group's identifiers, to refuse title matches that conflict */
    int rank;              /* format rank of the document (lower is richer) */
    unsigned matched;      /* roots: bit set of the key kinds that joined the group */
} item;

enum { K_DOI, K_PMID, K_PMCID, K_ARXIV, K_TITLE, K_COUNT };
static const char *const key_names[K_COUNT] = {"doi", "pmid", "pmcid", "arxiv", "title"};

static uint32_t find(item *v, uint32_t i) {
    while (v[i].parent != i) {
        v[i].parent = v[v[i].parent].parent;
        i = v[i].parent;
    }
    return i;
}

static void unite(item *v, uint32_t a, uint32_t b, int kind) {
    a = find(v, a);
    b = find(v, b);
    if (a == b) {
        v[a].matched |= 1u << kind;
        return;
    }
    if (b < a) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    /* the earlier document stays the root so groups come out in input order */
    v[b].parent = a;
    v[v[a].last].next = b;
    v[a].last = v[b].last;
    v[a].matched |= v[b].matched | (1u << kind);
    if (!v[a].doi) v[a].doi = v[b].doi, v[b].doi = NULL;
    if (!v[a].pmid) v[a].pmid = v[b].pmid, v[b].pmid = NULL;
}

static int conflict(const item *v, uint32_t a, uint32_t b) {
    const item *x = &v[a], *y = &v[b];
    if (x->doi && y->doi && strcmp(x->doi, y->doi) != 0) return 1;
    if (x->pmid && y->pmid && strcmp(x->pmid, y->pmid) != 0) return 1;
    return 0;
}

static int format_rank(const json_t *doc) {
    static const char *order[] = {"jats", "tei", "medline", "atom", "bibtex", "delimited", "text"};
    int best = 7;
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(doc, "sources"), i, s) {
        const char *f = lp_jstr(s, "format");
        for (int k = 0; f && k < 7; k++)
            if (!strcmp(f, order[k]) && k < best) best = k;
    }
    return best;
}

/* --- merging two documents --- */

static size_t text_len(const json_t *arr) {
    size_t n = 0, i;
    const json_t *p;
    json_array_foreach(arr, i, p) {
        const char *t = lp_jstr(p, "text");
        n += t ? strlen(t) : 0;
    }
    return n;
}

static int str_in(const json_t *arr, const char *s) {
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), s)) return 1;
    return 0;
}

static int same_id(const char *kind, const char *a, const char *b) {
    return !strcmp(kind, "doi") ? !strcasecmp(a, b) : !strcmp(a, b);
}

static void merge_ids(json_t *base, const json_t *other) {
    json_t *bids = json_object_get(base, "ids");
    const json_t *oids = json_object_get(other, "ids");
    if (!oids) return;
    if (!bids) {
        json_object_set_new(base, "ids", bids = json_object());
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)oids, k, v) {
        const char *ov = json_string_value(v);
        const char *bv = lp_jstr(bids, k);
        if (!ov) continue;
        if (!bv) {
            json_object_set(bids, k, v);
        } else if (!same_id(k, bv, ov)) {
            /* a second, different identifier of the same kind (preprint and journal DOIs) is kept too */
            json_t *alt = json_object_get(base, "ids_alt");
            if (!alt) json_object_set_new(base, "ids_alt", alt = json_object());
            json_t *lst = json_object_get(alt, k);
            if (!lst) json_object_set_new(alt, k, lst = json_array());
            if (!str_in(lst, ov)) json_array_append(lst, v);
        }
    }
    const json_t *oalt = json_object_get(other, "ids_alt");
    json_object_foreach((json_t *)oalt, k, v) {
        json_t *alt = json_object_get(base, "ids_alt");
        if (!alt) json_object_set_new(base, "ids_alt", alt = json_object());
        json_t *lst = json_object_get(alt, k);
        if (!lst) json_object_set_new(alt, k, lst = json_array());
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) if (json_is_string(x) && !str_in(lst, json_string_value(x))) json_array_append(lst, x);
    }
}

static const char *const string_sets[] = {"keywords", "subjects", "categories", "publication_types", "children", NULL};
static const char *const rich_arrays[] = {"summaries", "sections", "figures", "references", "mesh", "chemicals", "editors",
                                          "contributors", NULL};

static int in_list(const char *const *l, const char *k) {
    for (; *l; l++)
        if (!strcmp(*l, k)) return 1;
    return 0;
}

static void merge_into(json_t *base, const json_t *other) {
    merge_ids(base, other);
    const char *k;
    json_t *ov;
    json_object_foreach((json_t *)other, k, ov) {
        json_t *bv = json_object_get(base, k);
        if (!strcmp(k, "id") || !strcmp(k, "ids") || !strcmp(k, "ids_alt") || !strcmp(k, "affiliations") ||
            !strcmp(k, "authors_et_al"))
            continue;
        if (!strcmp(k, "sources")) {
            if (!bv) json_object_set_new(base, "sources", bv = json_array());
            json_array_extend(bv, ov);
        } else if (!strcmp(k, "authors")) {
            /* the longer author list wins, with its own affiliation list (indices point into it) */
            size_t bn = json_array_size(bv), on = json_array_size(ov);
            int o_aff = json_array_size(json_object_get(other, "affiliations")) > 0;
            int b_aff = json_array_size(json_object_get(base, "affiliations")) > 0;
            if (on > bn || (on == bn && o_aff && !b_aff)) {
                json_object_set(base, "authors", ov);
                json_t *oa = json_object_get(other, "affiliations");
                if (oa) json_object_set(base, "affiliations", oa);
                else json_object_del(base, "affiliations");
                json_t *oe = json_object_get(other, "authors_et_al");
                if (oe) json_object_set(base, "authors_et_al", oe);
                else json_object_del(base, "authors_et_al");
            }
        } else if (in_list(string_sets, k)) {
            if (!bv) json_object_set_new(base, k, bv = json_array());
            size_t i;
            json_t *x;
            json_array_foreach(ov, i, x) if (json_is_string(x) && !str_in(bv, json_string_value(x))) json_array_append(bv, x);
        } else if (!strcmp(k, "abstract")) {
            if (!bv || text_len(ov) > text_len(bv)) json_object_set(base, k, ov);
        } else if (in_list(rich_arrays, k)) {
            if (!bv || json_array_size(ov) > json_array_size(bv)) json_object_set(base, k, ov);
        } else if (json_is_object(ov)) {
            if (!bv) json_object_set(base, k, ov);
            else if (json_is_object(bv)) json_object_update_missing(bv, ov);
        } else if (!bv || json_is_null(bv)) {
            json_object_set(base, k, ov);
        }
    }
}

/* Rebuild the object with keys in the order the parser writes them. */
static json_t *canonical(json_t *doc) {
    static const char *const order[] = {
        "id", "parent", "children", "relation", "ids", "ids_alt", "arxiv_version", "type", "item_type", "language", "title",
        "subtitle", "authors", "authors_et_al", "affiliations", "editors", "contributors", "venue", "journal", "dates", "year", "abstract",
        "summaries", "keywords", "subjects", "categories", "mesh", "chemicals", "publication_types", "sections", "figures",
        "references", "license", "copyright", "comment", "journal_ref", "url", "note", "sources", NULL};
    static const char *const id_order[] = {"doi", "pmid", "pmcid", "arxiv", "publisher_id", NULL};
    json_t *out = json_object();
    for (int i = 0; order[i]; i++) {
        json_t *v = json_object_get(doc, order[i]);
        if (!v) continue;
        if (!strcmp(order[i], "ids")) {
            json_t *ids = json_object();
            for (int k = 0; id_order[k]; k++) {
                json_t *x = json_object_get(v, id_order[k]);
                if (x) json_object_set(ids, id_order[k], x);
            }
            const char *key;
            json_t *x;
            json_object_foreach(v, key, x) if (!json_object_get(ids, key)) json_object_set(ids, key, x);
            json_object_set_new(out, "ids", ids);
        } else {
            json_object_set(out, order[i], v);
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) if (!json_object_get(out, key)) json_object_set(out, key, v);
    json_decref(doc);
    return out;
}

static void set_id(json_t *doc) {
    const char *kinds[] = {"doi", "pmid", "pmcid", "arxiv"};
    for (int i = 0; i < 4; i++) {
        const char *v = lp_jid(doc, kinds[i]);
        if (!v) continue;
        char *s = lower_dup("", v);
        if (!s) return;
        char *id;
        if (asprintf(&id, "%s:%s", kinds[i], i == 0 ? s : v) >= 0) {
            json_object_set_new(doc, "id", json_string(id));
            free(id);
        }
        free(s);
        return;
    }
}

/* --- the op --- */

typedef struct input {
    const char *path;
    FILE *f;
} input;

static json_t *load(const sl_host *h, sl_op_ctx *c, input *in, const item *it, lp_buf *buf) {
    buf->n = 0;
    if (lp_buf_reserve(buf, it->len + 1) != 0) {
        h->fail(c, SL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (fseeko(in->f, it->offset, SEEK_SET) != 0 || fread(buf->p, 1, it->len, in->f) != it->len) {
        h->fail(c, SL_ERR_IO, "%s: cannot re-read a document: %s", in->path, strerror(errno));
        return NULL;
    }
    buf->n = it->len;
    json_error_t err;
    json_t *d = json_loadb(buf->p, buf->n, 0, &err);
    if (!d) h->fail(c, SL_ERR_IO, "%s: a document changed while merging: %s", in->path, err.text);
    return d;
}

sl_status lp_op_merge(const sl_host *h, sl_op_ctx *c) {
    int use[K_COUNT] = {0};
    size_t nby = h->param_list_count(c, "by");
    for (size_t i = 0; i < nby; i++) {
        const char *b = h->param_list_item(c, "by", i);
        int found = 0;
        for (int k = 0; k < K_COUNT; k++)
            if (b && !strcmp(b, key_names[k])) use[k] = 1, found = 1;
        if (!found) return h->fail(c, SL_ERR_INVALID, "by: unknown key '%s' (known: doi, pmid, pmcid, arxiv, title)", b ? b : "");
    }
    int64_t min_title = 20, mb = 256;
    h->param_int(c, "min_title_chars", &min_title);
    h->param_int(c, "max_record_mb", &mb);
    size_t nin = h->input_count(c, "documents");
    input *ins = calloc(nin ? nin : 1, sizeof *ins);
    item *v = NULL;
    size_t n = 0, cap = 0;
    lp_strmap keys = {0};
    sl_status st = SL_OK;
    lp_buf kb = {0};
    if (!ins) return h->fail(c, SL_ERR_NOMEM, "out of memory");

    /* pass 1: keys of every document */
    for (size_t f = 0; f < nin && st == SL_OK; f++) {
        lp_jsonl r;
        ins[f].path = h->input_path(c, "documents", f);
        st = lp_jsonl_open(&r, ins[f].path, (size_t)mb << 20);
        if (st != SL_OK) {
            st = h->fail(c, st, "%s", sl_last_error());
            break;
        }
        int k;
        while ((k = lp_jsonl_next(&r)) == 1) {
            json_t *doc = lp_jsonl_parse(&r);
            if (!doc) {
                st = h->fail(c, SL_ERR_PARSE, "%s", sl_last_error());
                break;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                item *nv = realloc(v, cap * sizeof *v);
                if (!nv || cap >= UINT32_MAX) {
                    json_decref(doc);
                    st = h->fail(c, SL_ERR_NOMEM, "out of memory");
                    break;
                }
                v = nv;
            }
            uint32_t me = (uint32_t)n++;
            item *it = &v[me];
            memset(it, 0, sizeof *it);
            it->file = (uint32_t)f;
            it->offset = r.offset;
            it->len = r.line.n;
            it->parent = me;
            it->next = UINT32_MAX;
            it->last = me;
            it->rank = format_rank(doc);
            const char *doi = lp_jid(doc, "doi"), *pmid = lp_jid(doc, "pmid");
            it->doi = doi ? lower_dup("", doi) : NULL;
            it->pmid = pmid ? strdup(pmid) : NULL;
            char *kv[K_COUNT] = {0};
            if (use[K_DOI] && doi) kv[K_DOI] = lower_dup("doi:", doi);
            if (use[K_PMID] && pmid) kv[K_PMID] = lower_dup("pmid:", pmid);
            if (use[K_PMCID] && lp_jid(doc, "pmcid")) kv[K_PMCID] = lower_dup("pmcid:", lp_jid(doc, "pmcid"));
            if (use[K_ARXIV] && lp_jid(doc, "arxiv")) kv[K_ARXIV] = arxiv_key(lp_jid(doc, "arxiv"));
            if (use[K_TITLE] && lp_jstr(doc, "title") && lp_jyear(doc)) {
                char *t = norm_key(lp_jstr(doc, "title"));
                char *a = norm_key(first_family(doc));
                if (t && strlen(t) >= (size_t)min_title) {
                    kb.n = 0;
                    lp_buf_printf(&kb, "title:%s|%s|%d", t, a ? a : "", lp_jyear(doc));
                    kv[K_TITLE] = kb.p ? strdup(kb.p) : NULL;
                }
                free(t);
                free(a);
            }
            json_decref(doc);
            for (int kind = 0; kind < K_COUNT && st == SL_OK; kind++) {
                if (!kv[kind]) continue;
                uint32_t other = lp_strmap_put(&keys, kv[kind], me);
                if (other == UINT32_MAX) st = h->fail(c, SL_ERR_NOMEM, "out of memory");
                else if (other != me) {
                    uint32_t ra = find(v, other), rb = find(v, me);
                    if (kind != K_TITLE || !conflict(v, ra, rb)) unite(v, other, me, kind);
                }
            }
            for (int kind = 0; kind < K_COUNT; kind++) free(kv[kind]);
            if (st != SL_OK) break;
        }
        if (k < 0 && st == SL_OK) st = h->fail(c, sl_last_status(), "%s", sl_last_error());
        lp_jsonl_close(&r);
        if (h->cancelled(c)) st = h->fail(c, SL_ERR_CANCELLED, "cancelled");
    }
    lp_strmap_free(&keys);
    lp_buf_free(&kb);

    /* pass 2: write each group once, at its first document */
    const char *out_path = h->output_path(c, "documents");
    const char *dup_path = h->output_path(c, "duplicates");
    char tmp[4096];
    FILE *out = NULL;
    sl_csv_writer *tw = NULL;
    size_t groups = 0, merged = 0;
    if (st == SL_OK) out = lp_out_open(h, c, out_path, tmp, sizeof tmp);
    if (st == SL_OK && !out) st = SL_ERR_IO;
    for (size_t f = 0; f < nin && st == SL_OK; f++) {
        ins[f].f = fopen(ins[f].path, "rb");
        if (!ins[f].f) st = h->fail(c, SL_ERR_IO, "%s: cannot open: %s", ins[f].path, strerror(errno));
    }
    if (st == SL_OK && dup_path) {
        if (sl_csv_open(dup_path, &tw) != SL_OK) st = h->fail(c, SL_ERR_IO, "%s", sl_last_error());
        else {
            static const char *const head[] = {"id", "documents", "matched_by", "sources"};
            sl_csv_write_row(tw, head, 4);
        }
    }
    lp_buf buf = {0}, srcs = {0};
    for (size_t i = 0; i < n && st == SL_OK; i++) {
        if (v[i].parent != i) continue; /* not the first document of its group */
        groups++;
        if (v[i].next == UINT32_MAX) {
            /* a document without duplicates is copied byte for byte */
            json_t *d = load(h, c, &ins[v[i].file], &v[i], &buf);
            json_decref(d);
            if (!d) {
                st = SL_ERR_IO;
                break;
            }
            if (fwrite(buf.p, 1, buf.n, out) != buf.n || fputc('\n', out) == EOF) st = h->fail(c, SL_ERR_IO, "cannot write: %s", strerror(errno));
            continue;
        }
        /* the richest member is the base; the others fill in */
        uint32_t best = (uint32_t)i;
        size_t members = 0;
        for (uint32_t m = (uint32_t)i; m != UINT32_MAX; m = v[m].next) {
            members++;
            if (v[m].rank < v[best].rank || (v[m].rank == v[best].rank && v[m].len > v[best].len)) best = m;
        }
        json_t *base = load(h, c, &ins[v[best].file], &v[best], &buf);
        if (!base) {
            st = SL_ERR_IO;
            break;
        }
        for (uint32_t m = (uint32_t)i; m != UINT32_MAX && st == SL_OK; m = v[m].next) {
            if (m == best) continue;
            json_t *o = load(h, c, &ins[v[m].file], &v[m], &buf);
            if (!o) {
                st = SL_ERR_IO;
                break;
            }
            merge_into(base, o);
            json_decref(o);
        }
        if (st != SL_OK) {
            json_decref(base);
            break;
        }
        set_id(base);
        base = canonical(base);
        merged += members - 1;
        if (lp_jwrite(out, base) != 0) st = h->fail(c, SL_ERR_IO, "cannot write: %s", strerror(errno));
        if (tw && st == SL_OK) {
            char cnt[32], how[64] = "";
            snprintf(cnt, sizeof cnt, "%zu", members);
            for (int k = 0; k < K_COUNT; k++)
                if (v[i].matched & (1u << k)) {
                    if (*how) strcat(how, "+");
                    strcat(how, key_names[k]);
                }
            srcs.n = 0;
            size_t si;
            json_t *s;
            json_array_foreach(json_object_get(base, "sources"), si, s) {
                if (srcs.n) lp_buf_adds(&srcs, "; ");
                lp_buf_adds(&srcs, lp_jstr(s, "file") ? lp_jstr(s, "file") : "?");
                if (json_is_integer(json_object_get(s, "record")))
                    lp_buf_printf(&srcs, "#%lld", (long long)json_integer_value(json_object_get(s, "record")));
            }
            const char *row[] = {lp_jstr(base, "id") ? lp_jstr(base, "id") : "", cnt, how, srcs.p ? srcs.p : ""};
            sl_csv_write_row(tw, row, 4);
        }
        json_decref(base);
        if ((groups & 1023) == 0 && h->cancelled(c)) st = h->fail(c, SL_ERR_CANCELLED, "cancelled");
    }
    lp_buf_free(&buf);
    lp_buf_free(&srcs);
    for (size_t f = 0; f < nin; f++)
        if (ins[f].f) fclose(ins[f].f);
    free(ins);
    for (size_t i = 0; i < n; i++) {
        free(v[i].doi);
        free(v[i].pmid);
    }
    free(v);
    if (out) {
        if (st == SL_OK) st = lp_out_commit(h, c, out, tmp, out_path);
        else {
            fclose(out);
            remove(tmp);
        }
    }
    if (tw) {
        if (st == SL_OK && sl_csv_commit(tw) != SL_OK) st = h->fail(c, SL_ERR_IO, "%s", sl_last_error());
        sl_csv_destroy(tw);
    }
    if (st != SL_OK) return st;
    char val[32];
    snprintf(val, sizeof val, "%zu", groups);
    h->set_value(c, "documents", val);
    snprintf(val, sizeof val, "%zu", merged);
    h->set_value(c, "merged", val);
    h->log(c, SL_LOG_INFO, "%zu documents in, %zu out (%zu merged into others)", n, groups, merged);
    return SL_OK;
}
