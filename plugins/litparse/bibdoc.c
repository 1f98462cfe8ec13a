/* bibdoc.c — BibTeX/BibLaTeX entries (parsed by bibtex.c) mapped to documents. */
#include "bibtex.h"
#include "parsers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_FILE ((size_t)512 << 20)

static const char *get(const lp_bib_entry *e, const char *name) {
    const char *v = lp_bib_entry_get(e, name);
    return v && *v ? v : NULL;
}

static char *cp(lp_arena *a, const char *s) {
    if (!s) return NULL;
    return lp_arena_norm(a, s, strlen(s));
}

/* BibLaTeX `language` names ("english", "ngerman") to ISO 639-1; codes pass through lp_lang_norm. */
static char *language(lp_arena *a, const char *v) {
    static const char *map[][2] = {{"english", "en"}, {"american", "en"}, {"british", "en"}, {"german", "de"},
                                   {"ngerman", "de"}, {"austrian", "de"}, {"french", "fr"}, {"spanish", "es"},
                                   {"italian", "it"}, {"portuguese", "pt"}, {"brazilian", "pt"}, {"dutch", "nl"},
                                   {"russian", "ru"}, {"polish", "pl"}, {"swedish", "sv"}, {"danish", "da"},
                                   {"norwegian", "no"}, {"finnish", "fi"}, {"czech", "cs"}, {"greek", "el"},
                                   {"japanese", "ja"}, {"chinese", "zh"}, {"latin", "la"}, {"turkish", "tr"}};
    if (!v) return NULL;
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (lp_strieq(v, map[i][0])) return lp_arena_strdup(a, map[i][1]);
    return lp_lang_norm(a, v);
}

static lp_name name_of(lp_arena *a, const lp_bib_name *n) {
    lp_name nm = {0};
    if (n->literal) {
        nm.literal = cp(a, n->family);
        return nm;
    }
    nm.given = cp(a, n->given);
    nm.family = n->von ? lp_arena_printf(a, "%s %s", n->von, n->family) : cp(a, n->family);
    nm.suffix = cp(a, n->suffix);
    return nm;
}

static int add_split(lp_arena *a, lp_doc *d, const char *v) {
    /* keywords = {a, b; c} */
    if (!v) return 0;
    const char *p = v;
    while (*p) {
        const char *q = p;
        while (*q && *q != ',' && *q != ';') q++;
        char *k = lp_arena_norm(a, p, (size_t)(q - p));
        if (k && lp_doc_add_str(a, &d->keywords, &d->nkeywords, &d->keywords_cap, k) != 0) return -1;
        p = *q ? q + 1 : q;
    }
    return 0;
}

static sl_status entry_doc(lp_ctx *c, lp_arena *a, const lp_bib_entry *e, long index) {
    lp_doc *d = lp_doc_new(a, c->file, c->format, index);
    if (!d) return lp_ctx_arena_fail(c, a, (unsigned)e->line);
    d->src_key = *e->key ? cp(a, e->key) : NULL;
    d->type = cp(a, e->type);
    d->item_type = lp_bib_item_type(e);
    char *title = lp_bib_entry_title(e);
    if (title) {
        d->title = cp(a, title);
        free(title);
    }
    for (size_t i = 0; i < e->nauthors; i++) {
        lp_author *au = lp_doc_add_author(a, d);
        if (!au) return lp_ctx_arena_fail(c, a, (unsigned)e->line);
        lp_name nm = name_of(a, &e->authors[i]);
        au->given = nm.given;
        au->family = nm.family;
        au->suffix = nm.suffix;
        au->collab = nm.literal;
    }
    d->authors_et_al = e->authors_et_al;
    for (size_t i = 0; i < e->neditors; i++) {
        lp_name nm = name_of(a, &e->editors[i]);
        if (LP_VEC_PUSH(a, d->editors, d->neditors, d->editors_cap, nm) != 0) return lp_ctx_arena_fail(c, a, (unsigned)e->line);
    }
    for (size_t k = 0; k < e->nnames; k++) {
        const lp_bib_names *nl = &e->names[k];
        if (!strcmp(nl->field, "author") || !strcmp(nl->field, "editor")) continue;
        for (size_t i = 0; i < nl->n; i++) {
            lp_name nm = name_of(a, &nl->names[i]);
            nm.role = nl->field;
            if (LP_VEC_PUSH(a, d->contributors, d->ncontributors, d->contributors_cap, nm) != 0)
                return lp_ctx_arena_fail(c, a, (unsigned)e->line);
        }
    }
    d->doi = lp_doi_norm(a, get(e, "doi"));
    if (!d->doi) {
        /* some exporters put the DOI in `url` or `note` only */
        const char *u = get(e, "url");
        if (u && strstr(u, "doi.org/")) d->doi = lp_doi_norm(a, u);
    }
    d->pmid = lp_pmid_norm(a, get(e, "pmid"));
    d->pmcid = lp_pmcid_norm(a, get(e, "pmcid"));
    const char *eprint = get(e, "eprint"), *eptype = get(e, "eprinttype");
    if (!eptype) eptype = get(e, "archiveprefix");
    if (eprint && eptype && lp_strieq(eptype, "arxiv")) d->arxiv = cp(a, eprint);
    if (!d->arxiv) {
        const char *ax = get(e, "arxiv");
        if (ax) d->arxiv = cp(a, ax);
    }
    if (eprint && !d->arxiv && eptype && lp_strieq(eptype, "pubmed")) d->pmid = lp_pmid_norm(a, eprint);
    const char *venue = get(e, "journaltitle");
    if (!venue) venue = get(e, "journal");
    if (!venue) venue = get(e, "booktitle");
    if (!venue) venue = get(e, "eventtitle");
    if (!venue) venue = get(e, "school");
    if (!venue) venue = get(e, "institution");
    if (!venue) venue = get(e, "howpublished");
    d->venue = cp(a, venue);
    d->journal_abbrev = cp(a, get(e, "shortjournal"));
    d->issn = cp(a, get(e, "issn"));
    d->publisher = cp(a, get(e, "publisher"));
    d->volume = cp(a, get(e, "volume"));
    d->issue = cp(a, get(e, "number"));
    if (!d->issue) d->issue = cp(a, get(e, "issue"));
    d->pages = cp(a, get(e, "pages"));
    const char *isbn = get(e, "isbn");
    if (isbn && lp_doc_add_other_id(a, d, "isbn", cp(a, isbn)) != 0) return lp_ctx_arena_fail(c, a, (unsigned)e->line);
    int y = lp_bib_entry_year(e);
    if (y) {
        int m = lp_month_num(get(e, "month"));
        const char *date = get(e, "date");
        int day = 0;
        if (date && strlen(date) >= 7 && date[4] == '-') {
            m = atoi(date + 5);
            if (strlen(date) >= 10 && date[7] == '-') day = atoi(date + 8);
        }
        if (lp_doc_add_date(a, d, "published", y, m, day) != 0) return lp_ctx_arena_fail(c, a, (unsigned)e->line);
        d->year = y;
    }
    const char *ab = get(e, "abstract");
    if (ab) {
        lp_section *s = lp_doc_add_section(a, &d->abstract, &d->nabstract, &d->abstract_cap);
        if (!s) return lp_ctx_arena_fail(c, a, (unsigned)e->line);
        /* a blank line in the value is a paragraph break */
        const char *p = ab;
        while (*p) {
            const char *q = strstr(p, "\n\n");
            size_t len = q ? (size_t)(q - p) : strlen(p);
            char *para = lp_arena_norm(a, p, len);
            if (para && !lp_section_add_para(a, s, para, strlen(para), &c->spans)) return lp_ctx_arena_fail(c, a, (unsigned)e->line);
            p += len;
            while (*p == '\n') p++;
        }
    }
    if (add_split(a, d, get(e, "keywords")) != 0) return lp_ctx_arena_fail(c, a, (unsigned)e->line);
    d->language = language(a, get(e, "language"));
    d->url = cp(a, get(e, "url"));
    d->note = cp(a, get(e, "note"));
    const char *rights = get(e, "rights");
    if (!rights) rights = get(e, "copyright");
    if (rights) {
        d->license_text = cp(a, rights);
        d->license_from = "source";
    }
    return lp_ctx_emit(c, a, d);
}

sl_status lp_parse_bibtex(lp_ctx *c, lp_source *src) {
    size_t max = c->opts && c->opts->max_file_bytes ? c->opts->max_file_bytes : DEFAULT_MAX_FILE;
    char *text;
    size_t len;
    sl_status st = lp_source_slurp(src, max, &text, &len);
    if (st != SL_OK) return st;
    lp_bib *bib = NULL;
    st = lp_bib_parse(text, len, c->file, NULL, &bib);
    free(text);
    if (st != SL_OK) return st;
    size_t errors = 0;
    for (size_t i = 0; i < bib->ndiags; i++) {
        errors += bib->diags[i].is_error != 0;
        /* broken entries are dropped and the rest of the file is kept; say which */
        lp_ctx_note(c, "%s%s", bib->diags[i].is_error ? "" : "warning: ", bib->diags[i].message);
    }
    if (bib->ndiags_dropped) lp_ctx_note(c, "%s: %zu more diagnostics not shown", c->file, bib->ndiags_dropped);
    if (bib->nentries == 0 && errors) {
        st = sl_set_error(SL_ERR_PARSE, "%s", bib->diags[0].message);
        lp_bib_destroy(bib);
        return st;
    }
    lp_arena a;
    lp_arena_init(&a, c->opts && c->opts->max_record_bytes ? c->opts->max_record_bytes : (size_t)256 << 20);
    for (size_t i = 0; i < bib->nentries && st == SL_OK; i++) {
        c->record = (long)i;
        st = entry_doc(c, &a, &bib->entries[i], (long)i);
        lp_arena_reset(&a);
    }
    lp_arena_free(&a);
    lp_bib_destroy(bib);
    return st;
}
