/* atom.c — arXiv API Atom feeds (entries, error feeds, empty results) to documents. */
#include "parsers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct atom {
    lp_ctx *c;
    lp_arena *a;
    int failed;
} atom;

#define A (t->a)

static char *txt(atom *t, const lp_node *n) { return n ? lp_text(A, n) : NULL; }
static char *ctxt(atom *t, const lp_node *n, const char *name) { return txt(t, lp_child(n, name)); }

/* "http://arxiv.org/abs/1605.08386v2" -> id "1605.08386", version 2;
 * "http://arxiv.org/abs/astro-ph/0601001v1" -> "astro-ph/0601001", 1. */
static void arxiv_id(atom *t, const char *url, const char **id, int *version) {
    *id = NULL;
    *version = 0;
    if (!url) return;
    const char *p = strstr(url, "/abs/");
    p = p ? p + 5 : url;
    size_t n = strlen(p);
    size_t e = n;
    size_t k = e;
    while (k > 0 && isdigit((unsigned char)p[k - 1])) k--;
    if (k > 0 && k < e && p[k - 1] == 'v') {
        *version = atoi(p + k);
        e = k - 1;
    }
    if (e) *id = lp_arena_strndup(A, p, e);
}

/* Split "Jean-Paul van der Berg Jr." into given "Jean-Paul", family "van der Berg", suffix "Jr.". */
static void split_name(atom *t, const char *full, lp_author *au) {
    if (!full) return;
    const char *words[64];
    size_t lens[64], nw = 0;
    for (const char *p = full; *p && nw < 64;) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *s = p;
        while (*p && *p != ' ') p++;
        words[nw] = s;
        lens[nw++] = (size_t)(p - s);
    }
    if (nw == 0) return;
    size_t last = nw - 1;
    if (nw > 2 && (!strncmp(words[last], "Jr", 2) || !strncmp(words[last], "Sr", 2) || !strncmp(words[last], "III", 3) ||
                   !strncmp(words[last], "II", 2))) {
        au->suffix = lp_arena_strndup(A, words[last], lens[last]);
        last--;
    }
    size_t fam = last;
    /* lower-case particles before the last word belong to the family name */
    while (fam > 1 && islower((unsigned char)words[fam - 1][0])) fam--;
    if (fam == 0) {
        au->family = lp_arena_strndup(A, words[0], lens[0]);
        return;
    }
    au->given = lp_arena_strndup(A, words[0], (size_t)(words[fam - 1] + lens[fam - 1] - words[0]));
    au->family = lp_arena_strndup(A, words[fam], (size_t)(words[last] + lens[last] - words[fam]));
}

static void iso_date(atom *t, lp_doc *d, const char *s, const char *kind) {
    if (!s) return;
    int y = lp_first_year(s);
    int m = strlen(s) >= 7 ? atoi(s + 5) : 0;
    int day = strlen(s) >= 10 ? atoi(s + 8) : 0;
    if (y && lp_doc_add_date(A, d, kind, y, m, day) != 0) t->failed = 1;
}

static sl_status entry(atom *t, const lp_node *e) {
    lp_ctx *c = t->c;
    char *idurl = ctxt(t, e, "id");
    if (idurl && strstr(idurl, "arxiv.org/api/errors")) {
        /* the API answers a bad query with a feed holding one "Error" entry */
        char *why = ctxt(t, e, "summary");
        c->res->api_error = 1;
        lp_ctx_note(c, "%s: arXiv API error feed: %s", c->file, why ? why : idurl);
        return SL_OK;
    }
    lp_doc *d = lp_doc_new(A, c->file, c->format, c->record);
    if (!d) return lp_ctx_arena_fail(c, A, e->line);
    arxiv_id(t, idurl, &d->arxiv, &d->arxiv_version);
    d->title = ctxt(t, e, "title");
    char *sum = ctxt(t, e, "summary");
    if (sum) {
        lp_section *s = lp_doc_add_section(A, &d->abstract, &d->nabstract, &d->abstract_cap);
        if (!s || !lp_section_add_para(A, s, sum, strlen(sum), &c->spans)) t->failed = 1;
    }
    iso_date(t, d, ctxt(t, e, "published"), "published");
    iso_date(t, d, ctxt(t, e, "updated"), "updated");
    for (const lp_node *au = lp_child(e, "author"); au; au = lp_next(au, "author")) {
        lp_author *a = lp_doc_add_author(A, d);
        if (!a) return lp_ctx_arena_fail(c, A, au->line);
        split_name(t, ctxt(t, au, "name"), a);
        for (const lp_node *af = lp_child(au, "affiliation"); af; af = lp_next(af, "affiliation")) {
            char *tx = txt(t, af);
            if (tx && lp_author_add_aff(A, a, lp_doc_add_aff(A, d, NULL, tx)) != 0) t->failed = 1;
        }
    }
    const lp_node *pc = lp_child(e, "primary_category");
    if (pc && lp_doc_add_str(A, &d->categories, &d->ncategories, &d->categories_cap, lp_attr_get(pc, "term")) != 0)
        t->failed = 1;
    for (const lp_node *cat = lp_child(e, "category"); cat; cat = lp_next(cat, "category"))
        if (lp_doc_add_str(A, &d->categories, &d->ncategories, &d->categories_cap, lp_attr_get(cat, "term")) != 0) t->failed = 1;
    for (const lp_node *ln = lp_child(e, "link"); ln; ln = lp_next(ln, "link")) {
        const char *rel = lp_attr_get(ln, "rel"), *title = lp_attr_get(ln, "title"), *href = lp_attr_get(ln, "href");
        if (title && !strcmp(title, "doi") && !d->doi) d->doi = lp_doi_norm(A, href);
        else if (rel && !strcmp(rel, "alternate") && !d->url) d->url = href;
    }
    char *doi = ctxt(t, e, "doi");
    if (doi) {
        /* arxiv:doi may list several DOIs separated by spaces; the first is the article's */
        char *sp = strchr(doi, ' ');
        if (sp) *sp = '\0';
        d->doi = lp_doi_norm(A, doi);
    }
    d->journal_ref = ctxt(t, e, "journal_ref");
    d->comment = ctxt(t, e, "comment");
    d->type = "preprint";
    d->item_type = "preprint";
    if (t->failed || A->failed) return lp_ctx_arena_fail(c, A, e->line);
    sl_status st = lp_ctx_emit(c, A, d);
    c->record++;
    return st;
}

static sl_status on_record(void *user, lp_node *rec, lp_arena *a) {
    lp_ctx *c = user;
    atom t = {c, a, 0};
    if (lp_is(rec, "entry")) return entry(&t, rec);
    if (lp_is(rec, "totalResults")) {
        char *v = lp_text(a, rec);
        if (v && !strcmp(v, "0")) lp_ctx_note(c, "%s: the feed holds no results (totalResults = 0)", c->file);
    }
    return SL_OK;
}

sl_status lp_parse_atom(lp_ctx *c, lp_source *src) {
    static const char *const wrappers[] = {"feed", NULL};
    lp_xml_cfg cfg = {wrappers, on_record, c, c->opts ? c->opts->max_record_bytes : 0, lp_flat_classify};
    lp_xml_info info;
    sl_status st = lp_xml_parse(src, &cfg, &info);
    if (st != SL_OK) return st;
    lp_ctx_xml_notes(c, &info);
    if (strcmp(info.root, "feed") != 0)
        return sl_set_error(SL_ERR_PARSE, "%s:1:1: root element <%s> is not an Atom <feed>", c->file, info.root);
    return SL_OK;
}
