/* doc.h — the document model every parser fills and the JSON Lines writer that serialises it. */
#ifndef LP_DOC_H
#define LP_DOC_H

#include <stddef.h>
#include <stdio.h>
#include <sciloop/status.h>
#include "sentences.h"
#include "util.h"

/* All strings are UTF-8, NUL-terminated, white space folded, and owned by the arena the
 * document was built in; NULL means absent (the writer omits absent fields and empty lists).
 * docs/documents-schema.md describes every field and where each format takes it from. */

typedef struct lp_span32 { uint32_t start, end; } lp_span32; /* code-point offsets [start, end) */

/* An in-text pointer (citation, figure reference) inside a paragraph. */
typedef struct lp_cite {
    const char *ref;    /* target id (a reference's or figure's id); may be NULL for unlinked */
    const char *type;   /* "bibr", "fig", "table", "formula", ... */
    lp_span32 span;     /* where its text is in the paragraph, in code points */
} lp_cite;

typedef struct lp_para {
    const char *text;
    size_t len;
    lp_span32 *sents; size_t nsents;  /* sentences, code-point offsets into text */
    lp_cite *cites;   size_t ncites, cites_cap;
} lp_para;

/* A titled block: a body section, an abstract section, a summary. */
typedef struct lp_section {
    const char *title;
    const char *label;       /* "2.1", "Figure 3" */
    const char *type;        /* JATS sec-type, NLM abstract category, "ack", "appendix" */
    int level;               /* 1 for top level */
    int parent;              /* index of the enclosing section, -1 at top level */
    lp_para *paras; size_t nparas, paras_cap;
} lp_section;

/* An abstract of another kind than the main one (eLife digest, author summary, teaser). */
typedef struct lp_summary {
    const char *type;
    const char *title;
    lp_section *secs; size_t nsecs, secs_cap;
} lp_summary;

typedef struct lp_author {
    const char *given, *family, *suffix;
    const char *collab;      /* group author / organisation name */
    const char *orcid, *email;
    int corresponding;
    int *affs; size_t naffs, affs_cap; /* indices into lp_doc.affs */
} lp_author;

typedef struct lp_aff {
    const char *id;          /* id in the source (JATS aff/@id), or NULL */
    const char *text;
} lp_aff;

typedef struct lp_date {
    const char *kind;        /* "published", "epub", "ppub", "received", "accepted", "updated", ... */
    int year, month, day;    /* 0 when unknown */
} lp_date;

typedef struct lp_qual {
    const char *name, *ui;
    int major;
} lp_qual;

typedef struct lp_mesh {
    const char *descriptor, *ui;
    int major;               /* the descriptor itself is a major topic */
    lp_qual *quals; size_t nquals, quals_cap;
} lp_mesh;

typedef struct lp_chem {
    const char *name, *ui, *registry;
} lp_chem;

typedef struct lp_figure {
    const char *id, *label;
    const char *kind;        /* "figure", "table", "supplementary", "box" */
    const char *caption;     /* title and caption paragraphs joined */
} lp_figure;

typedef struct lp_name {
    const char *given, *family, *suffix, *literal;
    const char *role;        /* contributors only: "translator", "bookauthor", ... */
} lp_name;

typedef struct lp_ref {
    const char *id, *label, *kind;  /* kind: JATS publication-type, TEI type, ... */
    lp_name *authors; size_t nauthors, authors_cap;
    int et_al;
    const char *title, *source, *year, *volume, *issue, *pages, *publisher;
    const char *doi, *pmid, *pmcid, *arxiv, *url;
    const char *text;               /* the citation as printed (mixed-citation text, raw_reference) */
} lp_ref;

typedef struct lp_kv { const char *key, *value; } lp_kv;

typedef struct lp_doc {
    const char *id;                 /* stable id: "doi:...", "pmid:...", ... (lp_doc_finish sets it) */
    const char *parent;             /* id of the enclosing document (JATS sub-article) */
    const char **children; size_t nchildren, children_cap;
    const char *relation;           /* a child's role: "decision-letter", "reply", ... */

    /* identifiers */
    const char *doi, *pmid, *pmcid, *arxiv, *publisher_id;
    int arxiv_version;
    lp_kv *other_ids; size_t nother_ids, other_ids_cap;

    const char *type;               /* the source's own kind: JATS article-type, BibTeX entry type, ... */
    const char *item_type;          /* the kind in Zotero/CSL terms: "journalArticle", "preprint", "book", ... */
    const char *language;           /* ISO 639-1 when known */
    const char *title, *subtitle;
    const char *venue;              /* journal or proceedings name as a reader cites it */
    const char *journal_abbrev, *issn, *eissn, *publisher;
    const char *volume, *issue, *pages;
    lp_date *dates; size_t ndates, dates_cap;
    int year;                       /* 0 when unknown */

    lp_author *authors; size_t nauthors, authors_cap;
    int authors_et_al;              /* the source's author list ends with "et al." / "and others" */
    lp_aff *affs; size_t naffs, affs_cap;
    lp_name *editors; size_t neditors, editors_cap;
    lp_name *contributors; size_t ncontributors, contributors_cap; /* other roles (translator, ...) */

    lp_section *abstract; size_t nabstract, abstract_cap;
    lp_summary *summaries; size_t nsummaries, summaries_cap;
    const char **keywords; size_t nkeywords, keywords_cap;
    const char **subjects; size_t nsubjects, subjects_cap;
    const char **categories; size_t ncategories, categories_cap; /* arXiv; primary first */
    lp_mesh *mesh; size_t nmesh, mesh_cap;
    lp_chem *chemicals; size_t nchemicals, chemicals_cap;
    const char **pubtypes; size_t npubtypes, pubtypes_cap;

    lp_section *sections; size_t nsections, sections_cap;
    lp_figure *figures; size_t nfigures, figures_cap;
    lp_ref *refs; size_t nrefs, refs_cap;

    /* licence */
    const char *license_type, *license_url, *license_text, *license_from; /* from: "element" | "prose" | "source" */
    const char *copyright;

    const char *comment, *journal_ref, *url, *note;

    /* provenance */
    const char *src_file;           /* path as the user sees it (relative to the input root) */
    const char *src_format;         /* "jats", "medline", "tei", "atom", "bibtex", "delimited", "text" */
    long src_record;                /* record index in the file (0-based) */
    const char *src_key;            /* BibTeX key, delimited row number, ... */
} lp_doc;

/* Where parsers send documents. `emit` owns nothing: it must serialise or copy before
 * returning. Return SL_OK to continue. */
typedef struct lp_sink {
    sl_status (*emit)(void *user, lp_doc *doc);
    /* A MEDLINE DeleteCitation: the PMID must be removed from what was emitted before. May be NULL. */
    sl_status (*delete_pmid)(void *user, const char *pmid);
    /* Non-fatal remark about the file being parsed (API error feed, unknown entity, ...). May be NULL. */
    void (*note)(void *user, const char *msg);
    void *user;
} lp_sink;

/* A zeroed document in `a` with its provenance set. NULL when the arena failed. */
lp_doc *lp_doc_new(lp_arena *a, const char *file, const char *format, long record);

/* Builders: each returns 0 or -1 when the arena failed. Strings are stored as given (already
 * in the arena) and skipped when NULL. */
int lp_doc_add_str(lp_arena *a, const char ***v, size_t *n, size_t *cap, const char *s);
int lp_doc_add_date(lp_arena *a, lp_doc *d, const char *kind, int y, int m, int day);
int lp_doc_add_other_id(lp_arena *a, lp_doc *d, const char *key, const char *value);
/* Add an affiliation (deduplicated by text) and return its index, or -1. */
int lp_doc_add_aff(lp_arena *a, lp_doc *d, const char *id, const char *text);
lp_author *lp_doc_add_author(lp_arena *a, lp_doc *d);
int lp_author_add_aff(lp_arena *a, lp_author *au, int aff);
lp_section *lp_doc_add_section(lp_arena *a, lp_section **v, size_t *n, size_t *cap);
/* Add a paragraph of `len` bytes of folded text to `sec` and split it into sentences with
 * `spans` as scratch. Returns the paragraph, or NULL when the arena failed. Empty text adds nothing
 * and returns NULL with no failure (check a->failed). */
lp_para *lp_section_add_para(lp_arena *a, lp_section *sec, const char *text, size_t len, lp_spans *spans);
int lp_para_add_cite(lp_arena *a, lp_para *p, const char *ref, const char *type, uint32_t s, uint32_t e);
lp_ref *lp_doc_add_ref(lp_arena *a, lp_doc *d);
int lp_ref_add_author(lp_arena *a, lp_ref *r, lp_name nm);
lp_mesh *lp_doc_add_mesh(lp_arena *a, lp_doc *d);
int lp_mesh_add_qual(lp_arena *a, lp_mesh *m, lp_qual q);

/* Fill derived fields before emitting: `id` from the strongest identifier (doi > pmid > pmcid >
 * arxiv > source file and record), `year` from the dates when unset. Returns 0 or -1. */
int lp_doc_finish(lp_arena *a, lp_doc *d);

/* Append `d` as one line of compact JSON (jansson's compact, order-preserving form, so a line
 * loaded and dumped again by jansson is byte-identical) plus '\n' to `out`. 0 or -1 (NOMEM). */
int lp_doc_to_json(const lp_doc *d, lp_buf *out);

/* Append `s` (n bytes) as a JSON string literal, escaping as jansson does. */
int lp_json_str(lp_buf *b, const char *s, size_t n);

#endif /* LP_DOC_H */
