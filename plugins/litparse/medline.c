/* medline.c — PubMed/MEDLINE citation XML (PubmedArticleSet, MedlineCitationSet, book articles) to documents, streamed. */
#include "parsers.h"

#include <stdlib.h>
#include <string.h>

typedef struct med {
    lp_ctx *c;
    lp_arena *a;
    int failed;
} med;

#define A (m->a)

static char *txt(med *m, const lp_node *n) { return n ? lp_text(A, n) : NULL; }
static char *ctxt(med *m, const lp_node *n, const char *name) { return txt(m, lp_child(n, name)); }

/* Title-like text with inline markup (<i>, <sup>, MathML) flattened. */
static char *inline_text(med *m, const lp_node *n) {
    if (!n) return NULL;
    lp_flat_reset(&m->c->flat);
    lp_flat_node(m->c, A, n, NULL);
    return lp_flat_take(&m->c->flat, A);
}

static int yn(const lp_node *n, const char *attr) { return lp_attr_is(n, attr, "Y"); }

/* <PubDate>/<ArticleDate>/<DateCompleted>/<PubMedPubDate>: Year Month Day, Season, or MedlineDate. */
static void add_date(med *m, lp_doc *d, const lp_node *dt, const char *kind) {
    if (!dt) return;
    int y = lp_first_year(ctxt(m, dt, "Year"));
    int mo = 0, day = 0;
    if (y) {
        char *ms = ctxt(m, dt, "Month");
        if (!ms) ms = ctxt(m, dt, "Season");
        mo = lp_month_num(ms);
        char *ds = ctxt(m, dt, "Day");
        day = ds ? (int)lp_first_int(ds) : 0;
    } else {
        char *md = ctxt(m, dt, "MedlineDate"); /* "1998 Dec-1999 Jan", "2000 Spring" */
        y = lp_first_year(md);
        if (md) {
            const char *p = md;
            while (*p && !(*p >= 'A' && *p <= 'Z') && !(*p >= 'a' && *p <= 'z')) p++;
            mo = lp_month_num(p);
        }
    }
    if (y && lp_doc_add_date(A, d, kind, y, mo, day) != 0) m->failed = 1;
}

static void parse_ids(med *m, lp_doc *d, const lp_node *list) {
    if (!list) return;
    for (const lp_node *id = lp_child(list, "ArticleId"); id; id = lp_next(id, "ArticleId")) {
        const char *t = lp_attr_get(id, "IdType");
        char *v = txt(m, id);
        if (!t || !v) continue;
        if (!strcmp(t, "doi")) {
            if (!d->doi) d->doi = lp_doi_norm(A, v);
        } else if (!strcmp(t, "pubmed")) {
            if (!d->pmid) d->pmid = lp_pmid_norm(A, v);
        } else if (!strcmp(t, "pmc")) {
            if (!d->pmcid) d->pmcid = lp_pmcid_norm(A, v);
        } else if (lp_doc_add_other_id(A, d, t, v) != 0) {
            m->failed = 1;
        }
    }
}

static void parse_authors(med *m, lp_doc *d, const lp_node *list, const char *article_aff) {
    if (!list) return;
    for (const lp_node *au = lp_child(list, "Author"); au; au = lp_next(au, "Author")) {
        if (lp_attr_is(au, "ValidYN", "N")) continue; /* an erroneous name PubMed keeps for the record */
        lp_author *a = lp_doc_add_author(A, d);
        if (!a) {
            m->failed = 1;
            return;
        }
        a->family = ctxt(m, au, "LastName");
        a->given = ctxt(m, au, "ForeName");
        if (!a->given) a->given = ctxt(m, au, "FirstName");
        if (!a->given) a->given = ctxt(m, au, "Initials");
        a->suffix = ctxt(m, au, "Suffix");
        a->collab = ctxt(m, au, "CollectiveName");
        for (const lp_node *idn = lp_child(au, "Identifier"); idn; idn = lp_next(idn, "Identifier"))
            if (lp_attr_is(idn, "Source", "ORCID") && !a->orcid) a->orcid = lp_orcid_norm(A, txt(m, idn));
        for (const lp_node *ai = lp_child(au, "AffiliationInfo"); ai; ai = lp_next(ai, "AffiliationInfo")) {
            char *t = ctxt(m, ai, "Affiliation");
            if (t && lp_author_add_aff(A, a, lp_doc_add_aff(A, d, NULL, t)) != 0) m->failed = 1;
        }
        /* DTDs before 2015: one <Affiliation> directly in the author */
        char *t = ctxt(m, au, "Affiliation");
        if (t && lp_author_add_aff(A, a, lp_doc_add_aff(A, d, NULL, t)) != 0) m->failed = 1;
    }
    /* older records: one <Affiliation> for the article, which NLM took from the first author */
    if (article_aff && d->nauthors && d->authors[0].naffs == 0)
        if (lp_author_add_aff(A, &d->authors[0], lp_doc_add_aff(A, d, NULL, article_aff)) != 0) m->failed = 1;
}

static void parse_abstract(med *m, lp_doc *d, const lp_node *ab) {
    if (!ab) return;
    for (const lp_node *t = lp_child(ab, "AbstractText"); t; t = lp_next(t, "AbstractText")) {
        lp_section *s = lp_doc_add_section(A, &d->abstract, &d->nabstract, &d->abstract_cap);
        if (!s) {
            m->failed = 1;
            return;
        }
        s->title = lp_attr_get(t, "Label");
        s->type = lp_attr_get(t, "NlmCategory");
        lp_flat_reset(&m->c->flat);
        lp_flat_node(m->c, A, t, NULL);
        if (lp_flat_emit(&m->c->flat, A, s, &m->c->spans) != 0) m->failed = 1;
    }
    if (!d->copyright) d->copyright = ctxt(m, ab, "CopyrightInformation");
}

static void parse_article(med *m, lp_doc *d, const lp_node *art) {
    if (!art) return;
    const lp_node *j = lp_child(art, "Journal");
    if (j) {
        for (const lp_node *is = lp_child(j, "ISSN"); is; is = lp_next(is, "ISSN")) {
            char *v = txt(m, is);
            if (lp_attr_is(is, "IssnType", "Electronic")) {
                if (!d->eissn) d->eissn = v;
            } else if (!d->issn) {
                d->issn = v;
            }
        }
        const lp_node *ji = lp_child(j, "JournalIssue");
        if (ji) {
            d->volume = ctxt(m, ji, "Volume");
            d->issue = ctxt(m, ji, "Issue");
            add_date(m, d, lp_child(ji, "PubDate"), "published");
        }
        d->venue = ctxt(m, j, "Title");
        d->journal_abbrev = ctxt(m, j, "ISOAbbreviation");
    }
    d->title = inline_text(m, lp_child(art, "ArticleTitle"));
    const lp_node *pg = lp_child(art, "Pagination");
    if (pg) {
        d->pages = ctxt(m, pg, "MedlinePgn");
        if (!d->pages) {
            char *sp = ctxt(m, pg, "StartPage"), *ep = ctxt(m, pg, "EndPage");
            d->pages = sp && ep ? lp_arena_cat3(A, sp, "-", ep) : sp;
        }
    }
    for (const lp_node *el = lp_child(art, "ELocationID"); el; el = lp_next(el, "ELocationID")) {
        if (lp_attr_is(el, "ValidYN", "N")) continue;
        const char *t = lp_attr_get(el, "EIdType");
        char *v = txt(m, el);
        if (t && !strcmp(t, "doi") && !d->doi) d->doi = lp_doi_norm(A, v);
        else if (t && !strcmp(t, "pii") && v && lp_doc_add_other_id(A, d, "pii", v) != 0) m->failed = 1;
        if (!d->pages && t && !strcmp(t, "pii")) d->pages = v;
    }
    parse_abstract(m, d, lp_child(art, "Abstract"));
    parse_authors(m, d, lp_child(art, "AuthorList"), ctxt(m, art, "Affiliation"));
    const char *lang = ctxt(m, art, "Language");
    if (lang) d->language = lp_lang_norm(A, lang);
    const lp_node *ptl = lp_child(art, "PublicationTypeList");
    if (ptl)
        for (const lp_node *pt = lp_child(ptl, "PublicationType"); pt; pt = lp_next(pt, "PublicationType"))
            if (lp_doc_add_str(A, &d->pubtypes, &d->npubtypes, &d->pubtypes_cap, txt(m, pt)) != 0) m->failed = 1;
    for (const lp_node *ad = lp_child(art, "ArticleDate"); ad; ad = lp_next(ad, "ArticleDate"))
        add_date(m, d, ad, lp_attr_is(ad, "DateType", "Electronic") || !lp_attr_get(ad, "DateType") ? "epub" : "article");
    char *vt = inline_text(m, lp_child(art, "VernacularTitle"));
    if (vt && lp_doc_add_other_id(A, d, "vernacular_title", vt) != 0) m->failed = 1;
}

static void parse_citation(med *m, lp_doc *d, const lp_node *mc) {
    if (!d->pmid) d->pmid = lp_pmid_norm(A, ctxt(m, mc, "PMID"));
    parse_article(m, d, lp_child(mc, "Article"));
    const lp_node *mji = lp_child(mc, "MedlineJournalInfo");
    if (mji) {
        char *ta = ctxt(m, mji, "MedlineTA");
        if (!d->venue) d->venue = ta;
        if (!d->journal_abbrev) d->journal_abbrev = ta;
    }
    add_date(m, d, lp_child(mc, "DateCompleted"), "completed");
    add_date(m, d, lp_child(mc, "DateRevised"), "revised");
    add_date(m, d, lp_child(mc, "DateCreated"), "created");
    const lp_node *cl = lp_child(mc, "ChemicalList");
    if (cl)
        for (const lp_node *ch = lp_child(cl, "Chemical"); ch; ch = lp_next(ch, "Chemical")) {
            const lp_node *nos = lp_child(ch, "NameOfSubstance");
            char *reg = ctxt(m, ch, "RegistryNumber");
            lp_chem c = {txt(m, nos), lp_attr_get(nos, "UI"), reg && strcmp(reg, "0") != 0 ? reg : NULL};
            if (c.name && LP_VEC_PUSH(A, d->chemicals, d->nchemicals, d->chemicals_cap, c) != 0) m->failed = 1;
        }
    const lp_node *ml = lp_child(mc, "MeshHeadingList");
    if (ml)
        for (const lp_node *mh = lp_child(ml, "MeshHeading"); mh; mh = lp_next(mh, "MeshHeading")) {
            const lp_node *dn = lp_child(mh, "DescriptorName");
            if (!dn) continue;
            lp_mesh *me = lp_doc_add_mesh(A, d);
            if (!me) {
                m->failed = 1;
                return;
            }
            me->descriptor = txt(m, dn);
            me->ui = lp_attr_get(dn, "UI");
            me->major = yn(dn, "MajorTopicYN");
            for (const lp_node *q = lp_child(mh, "QualifierName"); q; q = lp_next(q, "QualifierName")) {
                lp_qual ql = {txt(m, q), lp_attr_get(q, "UI"), yn(q, "MajorTopicYN")};
                if (ql.name && lp_mesh_add_qual(A, me, ql) != 0) m->failed = 1;
            }
        }
    for (const lp_node *kl = lp_child(mc, "KeywordList"); kl; kl = lp_next(kl, "KeywordList"))
        for (const lp_node *kw = lp_child(kl, "Keyword"); kw; kw = lp_next(kw, "Keyword"))
            if (lp_doc_add_str(A, &d->keywords, &d->nkeywords, &d->keywords_cap, inline_text(m, kw)) != 0) m->failed = 1;
    for (const lp_node *oi = lp_child(mc, "OtherID"); oi; oi = lp_next(oi, "OtherID")) {
        char *v = txt(m, oi);
        /* "PMC4688250 [Available on 12/22/16]" */
        if (v && !strncmp(v, "PMC", 3) && !d->pmcid) d->pmcid = lp_pmcid_norm(A, v);
    }
    char *note = NULL;
    for (const lp_node *gn = lp_child(mc, "GeneralNote"); gn && !note; gn = lp_next(gn, "GeneralNote")) note = txt(m, gn);
    d->note = note;
    const lp_node *coi = lp_child(mc, "CoiStatement");
    if (coi && lp_doc_add_other_id(A, d, "coi_statement", inline_text(m, coi)) != 0) m->failed = 1;
}

static void parse_pubmed_data(med *m, lp_doc *d, const lp_node *pd) {
    if (!pd) return;
    parse_ids(m, d, lp_child(pd, "ArticleIdList"));
    const lp_node *h = lp_child(pd, "History");
    if (h)
        for (const lp_node *dt = lp_child(h, "PubMedPubDate"); dt; dt = lp_next(dt, "PubMedPubDate")) {
            const char *st = lp_attr_get(dt, "PubStatus");
            /* pubmed/medline/entrez are database events, not publication history */
            if (!st || !strcmp(st, "pubmed") || !strcmp(st, "medline") || !strcmp(st, "entrez") || !strcmp(st, "pmc-release"))
                continue;
            add_date(m, d, dt, st);
        }
    char *status = ctxt(m, pd, "PublicationStatus");
    if (status) d->type = status;
    for (const lp_node *rl = lp_child(pd, "ReferenceList"); rl; rl = lp_next(rl, "ReferenceList"))
        for (const lp_node *rf = lp_child(rl, "Reference"); rf; rf = lp_next(rf, "Reference")) {
            lp_ref *r = lp_doc_add_ref(A, d);
            if (!r) {
                m->failed = 1;
                return;
            }
            r->text = inline_text(m, lp_child(rf, "Citation"));
            const lp_node *ids = lp_child(rf, "ArticleIdList");
            if (ids)
                for (const lp_node *id = lp_child(ids, "ArticleId"); id; id = lp_next(id, "ArticleId")) {
                    const char *t = lp_attr_get(id, "IdType");
                    char *v = txt(m, id);
                    if (!t || !v) continue;
                    if (!strcmp(t, "doi") && !r->doi) r->doi = lp_doi_norm(A, v);
                    else if (!strcmp(t, "pubmed") && !r->pmid) r->pmid = lp_pmid_norm(A, v);
                    else if (!strcmp(t, "pmc") && !r->pmcid) r->pmcid = lp_pmcid_norm(A, v);
                }
            if (!r->doi) r->doi = lp_doi_find(A, r->text);
            if (r->doi) r->doi = lp_doi_norm(A, r->doi);
        }
}

static void parse_book(med *m, lp_doc *d, const lp_node *bd) {
    d->pmid = lp_pmid_norm(A, ctxt(m, bd, "PMID"));
    parse_ids(m, d, lp_child(bd, "ArticleIdList"));
    const lp_node *book = lp_child(bd, "Book");
    d->title = inline_text(m, lp_child(bd, "ArticleTitle"));
    if (book) {
        char *bt = inline_text(m, lp_child(book, "BookTitle"));
        if (!d->title) d->title = bt;
        else d->venue = bt;
        const lp_node *pub = lp_child(book, "Publisher");
        if (pub) d->publisher = ctxt(m, pub, "PublisherName");
        add_date(m, d, lp_child(book, "PubDate"), "published");
    }
    for (const lp_node *al = lp_child(bd, "AuthorList"); al; al = lp_next(al, "AuthorList")) {
        const char *t = lp_attr_get(al, "Type");
        if (!t || !strcmp(t, "authors")) parse_authors(m, d, al, NULL);
    }
    if (!d->nauthors && book)
        for (const lp_node *al = lp_child(book, "AuthorList"); al; al = lp_next(al, "AuthorList")) {
            const char *t = lp_attr_get(al, "Type");
            if (!t || !strcmp(t, "authors")) parse_authors(m, d, al, NULL);
        }
    parse_abstract(m, d, lp_child(bd, "Abstract"));
    const char *lang = ctxt(m, bd, "Language");
    if (lang) d->language = lp_lang_norm(A, lang);
    d->type = "book";
    d->item_type = d->venue ? "bookSection" : "book"; /* a chapter names its book as the venue */
}

static sl_status on_record(void *user, lp_node *rec, lp_arena *a) {
    lp_ctx *c = user;
    med mm = {c, a, 0}, *m = &mm;
    if (lp_is(rec, "DeleteCitation") || lp_is(rec, "DeleteDocument")) {
        for (const lp_node *p = lp_child(rec, "PMID"); p; p = lp_next(p, "PMID")) {
            char *pmid = lp_pmid_norm(a, txt(m, p));
            if (!pmid) continue;
            c->res->deletions++;
            if (c->sink->delete_pmid) {
                sl_status st = c->sink->delete_pmid(c->sink->user, pmid);
                if (st != SL_OK) return st;
            }
        }
        return SL_OK;
    }
    const lp_node *mc = NULL, *pd = NULL, *bd = NULL;
    if (lp_is(rec, "PubmedArticle")) {
        mc = lp_child(rec, "MedlineCitation");
        pd = lp_child(rec, "PubmedData");
    } else if (lp_is(rec, "MedlineCitation")) {
        mc = rec;
    } else if (lp_is(rec, "PubmedBookArticle")) {
        bd = lp_child(rec, "BookDocument");
        pd = lp_child(rec, "PubmedBookData");
    } else {
        return SL_OK; /* other children of the set (none in current DTDs) */
    }
    if (!mc && !bd)
        return sl_set_error(SL_ERR_PARSE, "%s:%u: <%s> without <MedlineCitation>/<BookDocument>", c->file, rec->line, rec->name);
    lp_doc *d = lp_doc_new(a, c->file, c->format, c->record);
    if (!d) return lp_ctx_arena_fail(c, a, rec->line);
    d->item_type = "journalArticle";
    if (mc) parse_citation(m, d, mc);
    else parse_book(m, d, bd);
    parse_pubmed_data(m, d, pd);
    if (m->failed || a->failed) return lp_ctx_arena_fail(c, a, rec->line);
    if (!d->pmid) return sl_set_error(SL_ERR_PARSE, "%s:%u: <%s> has no <PMID>", c->file, rec->line, rec->name);
    sl_status st = lp_ctx_emit(c, a, d);
    c->record++;
    return st;
}

sl_status lp_parse_medline(lp_ctx *c, lp_source *src) {
    static const char *const wrappers[] = {"PubmedArticleSet", "MedlineCitationSet", "PubmedBookArticleSet", NULL};
    lp_xml_cfg cfg = {wrappers, on_record, c, c->opts ? c->opts->max_record_bytes : 0, lp_flat_classify};
    lp_xml_info info;
    sl_status st = lp_xml_parse(src, &cfg, &info);
    if (st != SL_OK) return st;
    lp_ctx_xml_notes(c, &info);
    return SL_OK;
}
