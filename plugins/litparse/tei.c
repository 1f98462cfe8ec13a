/* tei.c — GROBID TEI (header, abstract, body divisions, figures, biblStruct bibliography) to documents. */
#include "parsers.h"

#include <stdlib.h>
#include <string.h>

typedef struct tei {
    lp_ctx *c;
    lp_arena *a;
    int failed;
} tei;

#define A (t->a)

static char *txt(tei *t, const lp_node *n) { return n ? lp_text(A, n) : NULL; }
static char *ctxt(tei *t, const lp_node *n, const char *name) { return txt(t, lp_child(n, name)); }

/* First child `name` whose attribute `attr` equals `value` (value NULL: attribute absent). */
static lp_node *child_with(const lp_node *n, const char *name, const char *attr, const char *value) {
    for (lp_node *k = lp_child(n, name); k; k = lp_next(k, name)) {
        const char *v = lp_attr_get(k, attr);
        if (value ? (v && !strcmp(v, value)) : !v) return k;
    }
    return NULL;
}

static void pers_name(tei *t, const lp_node *pn, const char **given, const char **family, const char **suffix) {
    *given = *family = *suffix = NULL;
    if (!pn) return;
    lp_buf *b = &t->c->tmp;
    b->n = 0;
    for (const lp_node *f = lp_child(pn, "forename"); f; f = lp_next(f, "forename")) {
        char *v = txt(t, f);
        if (!v) continue;
        if (b->n) lp_buf_addc(b, ' ');
        lp_buf_adds(b, v);
    }
    if (b->n) *given = lp_arena_strndup(A, b->p, b->n);
    *family = ctxt(t, pn, "surname");
    *suffix = ctxt(t, pn, "genName");
}

static char *aff_text(tei *t, const lp_node *af) {
    const lp_node *raw = child_with(af, "note", "type", "raw_affiliation");
    if (raw) {
        static const char *const skip[] = {"label", NULL};
        lp_flat_reset(&t->c->flat);
        lp_flat_node(t->c, A, raw, skip);
        return lp_flat_take(&t->c->flat, A);
    }
    lp_buf *b = &t->c->tmp;
    b->n = 0;
    /* orgName (laboratory, department, institution) then address parts, comma-separated */
    for (const lp_node *k = af->first; k; k = k->next) {
        if (lp_is(k, "orgName")) {
            char *v = txt(t, k);
            if (v) {
                if (b->n) lp_buf_adds(b, ", ");
                lp_buf_adds(b, v);
            }
        } else if (lp_is(k, "address")) {
            for (const lp_node *p = k->first; p; p = p->next) {
                char *v = p->name ? txt(t, p) : NULL;
                if (v) {
                    if (b->n) lp_buf_adds(b, ", ");
                    lp_buf_adds(b, v);
                }
            }
        }
    }
    return b->n ? lp_arena_strndup(A, b->p, b->n) : NULL;
}

static void parse_header_bibl(tei *t, lp_doc *d, const lp_node *bs) {
    const lp_node *an = lp_child(bs, "analytic");
    const lp_node *mo = lp_child(bs, "monogr");
    for (const lp_node *au = lp_child(an ? an : mo, "author"); au; au = lp_next(au, "author")) {
        const lp_node *pn = lp_child(au, "persName");
        if (!pn) continue; /* GROBID emits affiliation-only <author> blocks for unmatched affiliations */
        lp_author *a = lp_doc_add_author(A, d);
        if (!a) {
            t->failed = 1;
            return;
        }
        pers_name(t, pn, &a->given, &a->family, &a->suffix);
        a->email = ctxt(t, au, "email");
        a->corresponding = lp_attr_is(au, "role", "corresp");
        for (const lp_node *idn = lp_child(au, "idno"); idn; idn = lp_next(idn, "idno"))
            if (lp_attr_is(idn, "type", "ORCID") && !a->orcid) a->orcid = lp_orcid_norm(A, txt(t, idn));
        for (const lp_node *af = lp_child(au, "affiliation"); af; af = lp_next(af, "affiliation")) {
            char *tx = aff_text(t, af);
            if (tx && lp_author_add_aff(A, a, lp_doc_add_aff(A, d, lp_attr_get(af, "key"), tx)) != 0) t->failed = 1;
        }
    }
    for (const lp_node *idn = lp_child(bs, "idno"); idn; idn = lp_next(idn, "idno")) {
        const char *ty = lp_attr_get(idn, "type");
        char *v = txt(t, idn);
        if (!ty || !v) continue;
        if (lp_strieq(ty, "DOI") && !d->doi) d->doi = lp_doi_norm(A, v);
        else if (lp_strieq(ty, "PMID") && !d->pmid) d->pmid = lp_pmid_norm(A, v);
        else if (lp_strieq(ty, "PMCID") && !d->pmcid) d->pmcid = lp_pmcid_norm(A, v);
        else if (lp_strieq(ty, "arXiv") && !d->arxiv) d->arxiv = v;
    }
    if (mo) {
        const lp_node *ti = lp_child(mo, "title");
        if (ti) d->venue = txt(t, ti);
        const lp_node *meeting = lp_child(mo, "meeting");
        if (!d->venue && meeting) d->venue = txt(t, meeting);
        const lp_node *imp = lp_child(mo, "imprint");
        if (imp) {
            d->publisher = ctxt(t, imp, "publisher");
            for (const lp_node *dt = lp_child(imp, "date"); dt; dt = lp_next(dt, "date")) {
                const char *when = lp_attr_get(dt, "when");
                int y = lp_first_year(when ? when : txt(t, dt));
                int mo2 = when && strlen(when) >= 7 ? atoi(when + 5) : 0;
                int dd = when && strlen(when) >= 10 ? atoi(when + 8) : 0;
                if (y && lp_doc_add_date(A, d, "published", y, mo2, dd) != 0) t->failed = 1;
            }
            for (const lp_node *sc = lp_child(imp, "biblScope"); sc; sc = lp_next(sc, "biblScope")) {
                const char *u = lp_attr_get(sc, "unit");
                if (u && !strcmp(u, "volume")) d->volume = txt(t, sc);
                else if (u && !strcmp(u, "issue")) d->issue = txt(t, sc);
            }
        }
    }
}

/* A GROBID bibliography entry. */
static void parse_bibl(tei *t, lp_doc *d, const lp_node *bs) {
    lp_ref *r = lp_doc_add_ref(A, d);
    if (!r) {
        t->failed = 1;
        return;
    }
    r->id = lp_attr_get(bs, "id");
    r->kind = lp_attr_get(bs, "type");
    const lp_node *an = lp_child(bs, "analytic");
    const lp_node *mo = lp_child(bs, "monogr");
    const lp_node *who = an && lp_child(an, "author") ? an : mo;
    if (who)
        for (const lp_node *au = lp_child(who, "author"); au; au = lp_next(au, "author")) {
            lp_name nm = {0};
            const lp_node *pn = lp_child(au, "persName");
            if (pn) pers_name(t, pn, &nm.given, &nm.family, &nm.suffix);
            else nm.literal = ctxt(t, au, "orgName");
            if (lp_ref_add_author(A, r, nm) != 0) t->failed = 1;
        }
    if (an) r->title = ctxt(t, an, "title");
    if (mo) {
        const lp_node *ti = lp_child(mo, "title");
        char *mt = txt(t, ti);
        if (!r->title && ti && lp_attr_is(ti, "level", "m") && !an) r->title = mt;
        else r->source = mt;
        if (!r->source) r->source = ctxt(t, mo, "meeting");
        const lp_node *imp = lp_child(mo, "imprint");
        if (imp) {
            r->publisher = ctxt(t, imp, "publisher");
            const lp_node *dt = child_with(imp, "date", "type", "published");
            if (!dt) dt = lp_child(imp, "date");
            if (dt) {
                const char *when = lp_attr_get(dt, "when");
                int y = lp_first_year(when ? when : txt(t, dt));
                if (y) r->year = lp_arena_printf(A, "%d", y);
            }
            for (const lp_node *sc = lp_child(imp, "biblScope"); sc; sc = lp_next(sc, "biblScope")) {
                const char *u = lp_attr_get(sc, "unit");
                if (!u) continue;
                if (!strcmp(u, "volume")) r->volume = txt(t, sc);
                else if (!strcmp(u, "issue")) r->issue = txt(t, sc);
                else if (!strcmp(u, "page")) {
                    const char *from = lp_attr_get(sc, "from"), *to = lp_attr_get(sc, "to");
                    if (from && to) r->pages = lp_arena_printf(A, "%s-%s", from, to);
                    else r->pages = from ? from : txt(t, sc);
                }
            }
        }
    }
    for (const lp_node *x = lp_find(bs, NULL); x; x = lp_find_next(bs, x, NULL, 0)) {
        if (lp_is(x, "idno")) {
            const char *ty = lp_attr_get(x, "type");
            char *v = txt(t, x);
            if (!ty || !v) continue;
            if (lp_strieq(ty, "DOI") && !r->doi) r->doi = lp_doi_norm(A, v);
            else if (lp_strieq(ty, "PMID") && !r->pmid) r->pmid = lp_pmid_norm(A, v);
            else if (lp_strieq(ty, "PMCID") && !r->pmcid) r->pmcid = lp_pmcid_norm(A, v);
            else if (lp_strieq(ty, "arXiv") && !r->arxiv) r->arxiv = v;
        } else if (lp_is(x, "ptr") && !r->url) {
            r->url = lp_attr_get(x, "target");
        } else if (lp_is(x, "note") && lp_attr_is(x, "type", "raw_reference")) {
            r->text = txt(t, x);
        }
    }
    if (!r->doi && r->text) {
        r->doi = lp_doi_find(A, r->text);
        if (r->doi) r->doi = lp_doi_norm(A, r->doi);
    }
}

static const char *const skip_p[] = {"figure", "note", "table", "graphic", NULL};

/* Paragraph-level content of a div: <p>, <formula> (kept as its own paragraph), <list>. */
static void div_content(tei *t, lp_section *s, const lp_node *div) {
    lp_ctx *c = t->c;
    for (const lp_node *k = div->first; k && !t->failed; k = k->next) {
        if (lp_is(k, "p") || lp_is(k, "formula") || lp_is(k, "item")) {
            lp_flat_reset(&c->flat);
            lp_flat_node(c, A, k, skip_p);
            if (lp_flat_emit(&c->flat, A, s, &c->spans) != 0) t->failed = 1;
        } else if (lp_is(k, "list")) {
            div_content(t, s, k);
        }
    }
}

static int level_of(const char *n) {
    if (!n) return 1;
    int lv = 1;
    for (const char *p = n; *p; p++)
        if (*p == '.' && p[1] && p[1] != '.') lv++;
    return lv;
}

/* Body or back divisions; GROBID writes them flat and numbers them in head/@n ("2.1"). */
static void parse_divs(tei *t, lp_doc *d, const lp_node *container, const char *type) {
    int last_at_level[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    for (const lp_node *div = lp_child(container, "div"); div && !t->failed; div = lp_next(div, "div")) {
        const char *dtype = lp_attr_get(div, "type");
        if (dtype && (!strcmp(dtype, "references") || !strcmp(dtype, "toc"))) continue;
        if (dtype && !strcmp(dtype, "annex")) {
            parse_divs(t, d, div, "appendix");
            continue;
        }
        const lp_node *head = lp_child(div, "head");
        lp_section *s = lp_doc_add_section(A, &d->sections, &d->nsections, &d->sections_cap);
        if (!s) {
            t->failed = 1;
            return;
        }
        s->title = txt(t, head);
        s->label = lp_attr_get(head, "n");
        s->type = dtype && !strcmp(dtype, "acknowledgement") ? "ack" : (dtype ? dtype : type);
        int lv = s->label ? level_of(s->label) : 1;
        if (lv > 7) lv = 7;
        s->level = lv;
        s->parent = lv > 1 ? last_at_level[lv - 1] : -1;
        int idx = (int)(s - d->sections);
        last_at_level[lv] = idx;
        for (int k = lv + 1; k < 8; k++) last_at_level[k] = -1;
        div_content(t, &d->sections[idx], div);
        /* nested divs (annexes, some GROBID versions) */
        if (lp_child(div, "div")) parse_divs(t, d, div, type);
    }
}

static void parse_figures(tei *t, lp_doc *d, const lp_node *text) {
    for (const lp_node *f = lp_find(text, "figure"); f && !t->failed; f = lp_find_next(text, f, "figure", 1)) {
        lp_figure fg = {lp_attr_get(f, "id"), ctxt(t, f, "label"), lp_attr_is(f, "type", "table") ? "table" : "figure", NULL};
        lp_buf *b = &t->c->tmp;
        b->n = 0;
        char *head = ctxt(t, f, "head"), *desc = ctxt(t, f, "figDesc");
        if (head) lp_buf_adds(b, head);
        if (head && desc && strncmp(desc, head, strlen(head)) != 0) {
            if (!strchr(".:?!", head[strlen(head) - 1])) lp_buf_addc(b, '.');
            lp_buf_addc(b, ' ');
            lp_buf_adds(b, desc);
        } else if (desc) {
            b->n = 0;
            lp_buf_adds(b, desc);
        }
        fg.caption = b->n ? lp_arena_strndup(A, b->p, b->n) : NULL;
        if (!fg.caption && !fg.label) continue;
        if (LP_VEC_PUSH(A, d->figures, d->nfigures, d->figures_cap, fg) != 0) t->failed = 1;
    }
}

static sl_status build(tei *t, const lp_node *rec) {
    lp_ctx *c = t->c;
    lp_doc *d = lp_doc_new(A, c->file, c->format, c->record);
    if (!d) return lp_ctx_arena_fail(c, A, rec->line);
    const lp_node *hdr = lp_child(rec, "teiHeader");
    const lp_node *fd = lp_child(hdr, "fileDesc");
    d->language = lp_lang_norm(A, lp_attr_get(hdr, "lang"));
    const lp_node *ts = lp_child(fd, "titleStmt");
    const lp_node *ti = child_with(ts, "title", "type", "main");
    if (!ti) ti = lp_child(ts, "title");
    d->title = txt(t, ti);
    const lp_node *ps = lp_child(fd, "publicationStmt");
    if (ps) {
        if (!d->publisher) d->publisher = ctxt(t, ps, "publisher");
        const lp_node *av = lp_child(ps, "availability");
        const lp_node *lic = av ? lp_child(av, "licence") : NULL;
        if (lic) {
            d->license_text = txt(t, lic);
            d->license_url = lp_attr_get(lic, "target");
            if (d->license_text || d->license_url) d->license_from = "element";
        }
        const lp_node *dt = lp_child(ps, "date");
        if (dt) {
            const char *when = lp_attr_get(dt, "when");
            int y = lp_first_year(when ? when : txt(t, dt));
            if (y && lp_doc_add_date(A, d, "published", y, when && strlen(when) >= 7 ? atoi(when + 5) : 0,
                                     when && strlen(when) >= 10 ? atoi(when + 8) : 0) != 0)
                t->failed = 1;
        }
    }
    const lp_node *sd = lp_child(fd, "sourceDesc");
    const lp_node *bs = lp_child(sd, "biblStruct");
    if (bs) parse_header_bibl(t, d, bs);
    const lp_node *prof = lp_child(hdr, "profileDesc");
    if (prof) {
        const lp_node *ab = lp_child(prof, "abstract");
        if (ab) {
            if (lp_child(ab, "div")) {
                for (const lp_node *div = lp_child(ab, "div"); div; div = lp_next(div, "div")) {
                    lp_section *s = lp_doc_add_section(A, &d->abstract, &d->nabstract, &d->abstract_cap);
                    if (!s) return lp_ctx_arena_fail(c, A, div->line);
                    s->title = ctxt(t, div, "head");
                    div_content(t, s, div);
                }
            } else {
                lp_section *s = lp_doc_add_section(A, &d->abstract, &d->nabstract, &d->abstract_cap);
                if (!s) return lp_ctx_arena_fail(c, A, ab->line);
                div_content(t, s, ab);
            }
        }
        const lp_node *tc = lp_child(prof, "textClass");
        const lp_node *kw = tc ? lp_child(tc, "keywords") : NULL;
        if (kw) {
            for (const lp_node *term = lp_child(kw, "term"); term; term = lp_next(term, "term"))
                if (lp_doc_add_str(A, &d->keywords, &d->nkeywords, &d->keywords_cap, txt(t, term)) != 0) t->failed = 1;
        }
    }
    const lp_node *text = lp_child(rec, "text");
    if (text) {
        const lp_node *body = lp_child(text, "body");
        if (body) parse_divs(t, d, body, NULL);
        if (body) {
            /* GROBID puts the paper's footnotes at the end of the body: one section of their own */
            lp_section *fs = NULL;
            for (const lp_node *nt = lp_child(body, "note"); nt && !t->failed; nt = lp_next(nt, "note")) {
                if (!lp_attr_is(nt, "place", "foot")) continue;
                if (!fs) {
                    fs = lp_doc_add_section(A, &d->sections, &d->nsections, &d->sections_cap);
                    if (!fs) return lp_ctx_arena_fail(c, A, nt->line);
                    fs->type = "footnotes";
                }
                lp_flat_reset(&c->flat);
                lp_flat_node(c, A, nt, skip_p);
                if (lp_flat_emit(&c->flat, A, fs, &c->spans) != 0) t->failed = 1;
            }
        }
        const lp_node *back = lp_child(text, "back");
        if (back) parse_divs(t, d, back, NULL);
        parse_figures(t, d, text);
        for (const lp_node *lb = lp_find(text, "listBibl"); lb; lb = lp_find_next(text, lb, "listBibl", 1))
            for (const lp_node *b = lp_child(lb, "biblStruct"); b && !t->failed; b = lp_next(b, "biblStruct")) parse_bibl(t, d, b);
    }
    if (t->failed || A->failed) return lp_ctx_arena_fail(c, A, rec->line);
    sl_status st = lp_ctx_emit(c, A, d);
    c->record++;
    return st;
}

static sl_status on_record(void *user, lp_node *rec, lp_arena *a) {
    lp_ctx *c = user;
    if (!lp_is(rec, "TEI")) return SL_OK;
    tei t = {c, a, 0};
    return build(&t, rec);
}

sl_status lp_parse_tei(lp_ctx *c, lp_source *src) {
    static const char *const wrappers[] = {"teiCorpus", NULL};
    lp_xml_cfg cfg = {wrappers, on_record, c, c->opts ? c->opts->max_record_bytes : 0, lp_flat_classify};
    lp_xml_info info;
    sl_status st = lp_xml_parse(src, &cfg, &info);
    if (st != SL_OK) return st;
    lp_ctx_xml_notes(c, &info);
    if (strcmp(info.root, "TEI") != 0 && strcmp(info.root, "teiCorpus") != 0)
        return sl_set_error(SL_ERR_PARSE, "%s:1:1: root element <%s> is not TEI", c->file, info.root);
    return SL_OK;
}
