/* op_stats.c — litparse.stats: a table of how many documents of each source carry each field. */
#include "ops.h"

#include <stdlib.h>
#include <string.h>

/* The fields counted, in table order. `items` says what is counted beyond presence. */
enum {
    S_DOI, S_PMID, S_PMCID, S_ARXIV, S_TITLE, S_AUTHORS, S_ORCID, S_AFFILIATIONS, S_VENUE, S_YEAR, S_DATES, S_LANGUAGE,
    S_ABSTRACT, S_SUMMARIES, S_KEYWORDS, S_SUBJECTS, S_CATEGORIES, S_MESH, S_MESH_MAJOR, S_CHEMICALS, S_PUBTYPES,
    S_SECTIONS, S_PARAGRAPHS, S_SENTENCES, S_CITES, S_FIGURES, S_REFERENCES, S_REF_DOI, S_REF_PMID, S_LICENSE,
    S_PARENT, S_CHILDREN, S_MERGED, S_NFIELDS
};
static const char *const names[S_NFIELDS] = {
    "doi", "pmid", "pmcid", "arxiv", "title", "authors", "authors_orcid", "affiliations", "venue", "year", "dates",
    "language", "abstract", "summaries", "keywords", "subjects", "categories", "mesh", "mesh_major", "chemicals",
    "publication_types", "sections", "paragraphs", "sentences", "in_text_citations", "figures", "references",
    "references_doi", "references_pmid", "license", "parent", "children", "merged"};

typedef struct group {
    char *name;
    size_t docs;
    size_t present[S_NFIELDS];
    size_t items[S_NFIELDS];
} group;

static size_t asize(const json_t *doc, const char *k) { return json_array_size(json_object_get(doc, k)); }

/* Count, for one document, each field's item count (0 = absent). */
static void measure(const json_t *doc, size_t out[S_NFIELDS]) {
    memset(out, 0, S_NFIELDS * sizeof *out);
    out[S_DOI] = lp_jid(doc, "doi") != NULL;
    out[S_PMID] = lp_jid(doc, "pmid") != NULL;
    out[S_PMCID] = lp_jid(doc, "pmcid") != NULL;
    out[S_ARXIV] = lp_jid(doc, "arxiv") != NULL;
    out[S_TITLE] = lp_jstr(doc, "title") != NULL;
    out[S_AUTHORS] = asize(doc, "authors");
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(doc, "authors"), i, x) out[S_ORCID] += lp_jstr(x, "orcid") != NULL;
    out[S_AFFILIATIONS] = asize(doc, "affiliations");
    out[S_VENUE] = lp_jstr(doc, "venue") != NULL;
    out[S_YEAR] = lp_jyear(doc) != 0;
    out[S_DATES] = json_object_size(json_object_get(doc, "dates"));
    out[S_LANGUAGE] = lp_jstr(doc, "language") != NULL;
    out[S_ABSTRACT] = asize(doc, "abstract");
    out[S_SUMMARIES] = asize(doc, "summaries");
    out[S_KEYWORDS] = asize(doc, "keywords");
    out[S_SUBJECTS] = asize(doc, "subjects");
    out[S_CATEGORIES] = asize(doc, "categories");
    out[S_MESH] = asize(doc, "mesh");
    json_array_foreach(json_object_get(doc, "mesh"), i, x) out[S_MESH_MAJOR] += json_is_true(json_object_get(x, "major"));
    out[S_CHEMICALS] = asize(doc, "chemicals");
    out[S_PUBTYPES] = asize(doc, "publication_types");
    out[S_SECTIONS] = asize(doc, "sections");
    json_array_foreach(json_object_get(doc, "abstract"), i, x) out[S_SENTENCES] += asize(x, "sentences");
    json_array_foreach(json_object_get(doc, "sections"), i, x) {
        size_t k;
        const json_t *p;
        json_array_foreach(json_object_get(x, "paragraphs"), k, p) {
            out[S_PARAGRAPHS]++;
            out[S_SENTENCES] += asize(p, "sentences");
            out[S_CITES] += asize(p, "cites");
        }
    }
    out[S_FIGURES] = asize(doc, "figures");
    out[S_REFERENCES] = asize(doc, "references");
    json_array_foreach(json_object_get(doc, "references"), i, x) {
        out[S_REF_DOI] += lp_jstr(x, "doi") != NULL;
        out[S_REF_PMID] += lp_jstr(x, "pmid") != NULL;
    }
    out[S_LICENSE] = json_object_get(doc, "license") != NULL;
    out[S_PARENT] = lp_jstr(doc, "parent") != NULL;
    out[S_CHILDREN] = asize(doc, "children");
    out[S_MERGED] = asize(doc, "sources") > 1;
}

static group *group_for(lp_strmap *idx, group **v, size_t *n, size_t *cap, const char *name) {
    uint32_t g = lp_strmap_get(idx, name);
    if (g != UINT32_MAX) return &(*v)[g];
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        group *nv = realloc(*v, nc * sizeof *nv);
        if (!nv) return NULL;
        *v = nv;
        *cap = nc;
    }
    group *gr = &(*v)[*n];
    memset(gr, 0, sizeof *gr);
    gr->name = strdup(name);
    if (!gr->name || lp_strmap_put(idx, name, (uint32_t)*n) == UINT32_MAX) {
        free(gr->name);
        return NULL;
    }
    (*n)++;
    return gr;
}

static int cmp_group(const void *a, const void *b) {
    const group *x = a, *y = b;
    if (!strcmp(x->name, "all")) return -1;
    if (!strcmp(y->name, "all")) return 1;
    return strcmp(x->name, y->name);
}

/* The group a document counts in: its format (or "mixed" when merged from several), or its file. */
static const char *group_name(const json_t *doc, const char *by) {
    const json_t *srcs = json_object_get(doc, "sources");
    const json_t *s0 = json_array_get(srcs, 0);
    if (!strcmp(by, "file")) return lp_jstr(s0, "file") ? lp_jstr(s0, "file") : "(unknown)";
    const char *f = lp_jstr(s0, "format");
    size_t i;
    const json_t *s;
    json_array_foreach(srcs, i, s) {
        const char *g = lp_jstr(s, "format");
        if (g && f && strcmp(g, f) != 0) return "mixed";
    }
    return f ? f : "(unknown)";
}

sl_status lp_op_stats(const sl_host *h, sl_op_ctx *c) {
    const char *by = lp_param(h, c, "by");
    if (!by) by = "format";
    int64_t mb = 256;
    h->param_int(c, "max_record_mb", &mb);
    lp_strmap idx = {0};
    group *groups = NULL;
    size_t ng = 0, cap = 0;
    sl_status st = SL_OK;
    size_t total = 0;
    if (!group_for(&idx, &groups, &ng, &cap, "all")) st = h->fail(c, SL_ERR_NOMEM, "out of memory");
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
            size_t m[S_NFIELDS];
            measure(doc, m);
            group *gs[2] = {&groups[0], NULL};
            if (strcmp(by, "none") != 0) {
                gs[1] = group_for(&idx, &groups, &ng, &cap, group_name(doc, by));
                gs[0] = &groups[0]; /* groups may have moved */
                if (!gs[1]) st = h->fail(c, SL_ERR_NOMEM, "out of memory");
            }
            json_decref(doc);
            for (int k = 0; k < 2 && st == SL_OK; k++) {
                if (!gs[k]) continue;
                gs[k]->docs++;
                for (int fi = 0; fi < S_NFIELDS; fi++) {
                    gs[k]->present[fi] += m[fi] > 0;
                    gs[k]->items[fi] += m[fi];
                }
            }
            total++;
            if (st != SL_OK) break;
        }
        if (more < 0 && st == SL_OK) st = h->fail(c, sl_last_status(), "%s", sl_last_error());
        lp_jsonl_close(&r);
    }
    lp_strmap_free(&idx);
    sl_csv_writer *w = NULL;
    if (st == SL_OK && sl_csv_open(h->output_path(c, "table"), &w) != SL_OK) st = h->fail(c, SL_ERR_IO, "%s", sl_last_error());
    if (st == SL_OK) {
        qsort(groups, ng, sizeof *groups, cmp_group);
        static const char *const head[] = {"source", "field", "documents", "present", "percent", "items"};
        sl_csv_write_row(w, head, 6);
        for (size_t g = 0; g < ng; g++) {
            if (g > 0 && strcmp(by, "none") == 0) break;
            for (int fi = 0; fi < S_NFIELDS; fi++) {
                char d[32], p[32], pc[32], it[32];
                snprintf(d, sizeof d, "%zu", groups[g].docs);
                snprintf(p, sizeof p, "%zu", groups[g].present[fi]);
                snprintf(pc, sizeof pc, "%.1f", groups[g].docs ? 100.0 * (double)groups[g].present[fi] / (double)groups[g].docs : 0.0);
                snprintf(it, sizeof it, "%zu", groups[g].items[fi]);
                const char *row[] = {groups[g].name, names[fi], d, p, pc, it};
                sl_csv_write_row(w, row, 6);
            }
        }
        if (sl_csv_commit(w) != SL_OK) st = h->fail(c, SL_ERR_IO, "%s", sl_last_error());
    }
    sl_csv_destroy(w);
    for (size_t g = 0; g < ng; g++) free(groups[g].name);
    free(groups);
    if (st != SL_OK) return st;
    char v[32];
    snprintf(v, sizeof v, "%zu", total);
    h->set_value(c, "documents", v);
    return SL_OK;
}
