/* jats.c — JATS/NLM article XML (NLM 2.3 to JATS 1.3; PMC, PLOS, eLife) to documents, sub-articles as children. */
#include "parsers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct jats {
    lp_ctx *c;
    lp_arena *a;
    int failed;
} jats;

#define A (j->a)

static int is_any(const lp_node *n, const char *const *names) {
    if (!n || !n->name) return 0;
    /* the first byte settles most names without a call */
    for (; *names; names++)
        if (n->name[0] == (*names)[0] && strcmp(n->name, *names) == 0) return 1;
    return 0;
}

/* Classification bits beyond parsers.h's, for the JATS walkers below: they test a bit per
 * element instead of comparing its name with several strings. */
enum {
    NF_FLOAT = 32,   /* fig, table-wrap, supplementary-material, boxed-text, media: parse_floats */
    NF_NESTED = 64,  /* sub-article, response: documents of their own, walks stop there */
    NF_REF = 128     /* ref (JATS reference, TEI pointer) */
};
_Static_assert(((LP_NF_SKIP | LP_NF_BLOCK | LP_NF_MATH | LP_NF_XREF | LP_NF_SEEN) & (NF_FLOAT | NF_NESTED | NF_REF)) == 0,
               "JATS classification bits overlap the shared ones");

static char *text_of(jats *j, const lp_node *n) { return n ? lp_text(A, n) : NULL; }
static char *child_text(jats *j, const lp_node *n, const char *name) { return text_of(j, lp_child(n, name)); }

/* --- inline flattening --- */

/* Elements whose content never belongs to the running text of a paragraph. */
static const char *const skip_inline[] = {"fig", "fig-group", "table-wrap", "table-wrap-group", "supplementary-material",
                                          "tex-math", "graphic", "inline-graphic", "media", "object-id", "fn", "alt-text",
                                          "long-desc", "permissions", "attrib", "table", NULL};
/* Elements that separate words when they start or end. */
static const char *const block_inline[] = {"list", "list-item", "p", "disp-quote", "disp-formula", "def-list", "def-item",
                                           "term", "def", "break", "label", "title", "caption", "statement", "verse-line",
                                           "mml:mtr", "td", "th", "tr", NULL};
static const char *const float_names[] = {"fig", "table-wrap", "supplementary-material", "boxed-text", "media", NULL};
static const char *const nested_names[] = {"sub-article", "response", NULL};

/* MathML: white space between tokens is layout, not text; tokens are glued as printed. */
static void flat_math(lp_ctx *c, const lp_node *n) {
    for (const lp_node *k = n->first; k; k = k->next) {
        if (k->name) {
            if (!lp_is(k, "annotation") && !lp_is(k, "annotation-xml")) flat_math(c, k);
            continue;
        }
        size_t s = 0, e = k->len;
        while (s < e && lp_is_space((unsigned char)k->text[s])) s++;
        while (e > s && lp_is_space((unsigned char)k->text[e - 1])) e--;
        if (e > s) lp_flat_text(&c->flat, k->text + s, e - s);
    }
}

unsigned lp_flat_classify(const char *name) {
    lp_node n;
    memset(&n, 0, sizeof n);
    n.name = name;
    unsigned f = LP_NF_SEEN;
    if (is_any(&n, skip_inline)) f |= LP_NF_SKIP;
    if (is_any(&n, block_inline)) f |= LP_NF_BLOCK;
    if (!strcmp(name, "math")) f |= LP_NF_MATH;
    if (!strcmp(name, "xref")) f |= LP_NF_XREF;
    if (is_any(&n, float_names)) f |= NF_FLOAT;
    if (is_any(&n, nested_names)) f |= NF_NESTED;
    if (!strcmp(name, "ref")) f |= NF_REF;
    return f;
}

/* The flags of `k` for the default lists: from the parse when it classified names, else now. */
static unsigned flags_of(const lp_node *k) { return k->flags & LP_NF_SEEN ? k->flags : lp_flat_classify(k->name); }

void lp_flat_node(lp_ctx *c, lp_arena *a, const lp_node *n, const char *const *skip) {
    for (const lp_node *k = n->first; k; k = k->next) {
        if (!k->name) {
            lp_flat_text(&c->flat, k->text, k->len);
            continue;
        }
        unsigned fl = flags_of(k);
        if (fl & LP_NF_MATH) {
            flat_math(c, k);
            continue;
        }
        if (skip ? is_any(k, skip) : (fl & LP_NF_SKIP) != 0) continue;
        int block = (fl & LP_NF_BLOCK) != 0;
        if (block) lp_flat_space(&c->flat);
        if ((fl & LP_NF_XREF) || ((fl & NF_REF) && lp_attr_get(k, "target"))) {
            /* JATS <xref rid="B1 B2" ref-type="bibr">, TEI <ref type="bibr" target="#b1"> */
            size_t s = lp_flat_start(&c->flat);
            lp_flat_node(c, a, k, skip);
            size_t e = lp_flat_end(&c->flat);
            const char *rid = lp_attr_get(k, "rid");
            const char *type = lp_attr_get(k, (fl & LP_NF_XREF) ? "ref-type" : "type");
            if (!rid) rid = lp_attr_get(k, "target");
            if (!rid || !*rid) {
                lp_flat_mark(&c->flat, NULL, type, s, e);
                continue;
            }
            /* one cite per target ("B1 B2"); TEI targets start with '#' */
            for (const char *p = rid; *p;) {
                while (*p == ' ') p++;
                const char *q = p;
                while (*q && *q != ' ') q++;
                const char *tok = p + (*p == '#');
                if (q > tok) {
                    char *t = lp_arena_strndup(a, tok, (size_t)(q - tok));
                    if (!t) c->flat.err = 1;
                    else lp_flat_mark(&c->flat, t, type, s, e);
                }
                p = q;
            }
            continue;
        }
        lp_flat_node(c, a, k, skip);
        if (block) lp_flat_space(&c->flat);
    }
}

/* Flatten one element into a new paragraph of `sec`. */
static void add_para(jats *j, lp_section *sec, const lp_node *n) {
    lp_ctx *c = j->c;
    lp_flat_reset(&c->flat);
    lp_flat_node(c, A, n, NULL);
    if (lp_flat_emit(&c->flat, A, sec, &c->spans) != 0) j->failed = 1;
}

/* --- sections --- */

typedef struct secvec {
    lp_section **v;
    size_t *n, *cap;
} secvec;

static lp_section *new_sec(jats *j, secvec sv, const char *title, const char *label, const char *type, int level,
                           int parent) {
    lp_section *s = lp_doc_add_section(A, sv.v, sv.n, sv.cap);
    if (!s) {
        j->failed = 1;
        return NULL;
    }
    s->title = title;
    s->label = label;
    s->type = type;
    s->level = level;
    s->parent = parent;
    return s;
}

/* Walk the block content of `n` (a sec, body, abstract, ack, app, boxed-text) into section
 * `idx` of `sv`, creating child sections for nested secs. */
static void walk_blocks(jats *j, secvec sv, const lp_node *n, int idx, int level) {
    for (const lp_node *k = n->first; k && !j->failed; k = k->next) {
        if (!k->name) {
            /* stray text directly in a section (NLM 2.3 files sometimes have it) */
            const char *t = k->text;
            size_t len = k->len;
            size_t i = 0;
            while (i < len && lp_is_space((unsigned char)t[i])) i++;
            if (i < len) {
                lp_ctx *c = j->c;
                lp_flat_reset(&c->flat);
                lp_flat_text(&c->flat, t, len);
                if (lp_flat_emit(&c->flat, A, &(*sv.v)[idx], &c->spans) != 0) j->failed = 1;
            }
            continue;
        }
        const char *nm = k->name;
        if (!strcmp(nm, "p") || !strcmp(nm, "list") || !strcmp(nm, "def-list") || !strcmp(nm, "verse-group") ||
            !strcmp(nm, "speech") || !strcmp(nm, "preformat") || !strcmp(nm, "address")) {
            if (!strcmp(nm, "list")) {
                /* one paragraph per list item keeps items apart for sentence splitting */
                for (const lp_node *li = lp_child(k, "list-item"); li; li = lp_next(li, "list-item")) add_para(j, &(*sv.v)[idx], li);
            } else {
                add_para(j, &(*sv.v)[idx], k);
            }
        } else if (!strcmp(nm, "disp-quote") || !strcmp(nm, "statement")) {
            walk_blocks(j, sv, k, idx, level);
        } else if (!strcmp(nm, "sec") || !strcmp(nm, "boxed-text") || !strcmp(nm, "app") || !strcmp(nm, "ack") ||
                   !strcmp(nm, "notes") || !strcmp(nm, "bio")) {
            const lp_node *cap = lp_child(k, "caption");
            const char *title = child_text(j, k, "title");
            if (!title && cap) title = child_text(j, cap, "title");
            const char *type = lp_attr_get(k, "sec-type");
            if (!type && strcmp(nm, "sec") != 0) type = nm;
            lp_section *s = new_sec(j, sv, title, child_text(j, k, "label"), type, level + 1, idx);
            if (!s) return;
            int me = (int)(s - *sv.v);
            if (cap && !lp_is(k, "sec")) {
                /* a box's caption paragraphs are part of its text */
                for (const lp_node *p = lp_child(cap, "p"); p; p = lp_next(p, "p")) add_para(j, &(*sv.v)[me], p);
            }
            walk_blocks(j, sv, k, me, level + 1);
        } else if (!strcmp(nm, "app-group")) {
            walk_blocks(j, sv, k, idx, level);
        }
        /* title/label handled by the caller; figures, tables, formulas, ref-lists elsewhere */
    }
}

/* Sections from a body/back-like container: top-level secs become level-1 sections; loose
 * paragraphs go to an untitled level-1 section opened where they appear. */
static void walk_top(jats *j, secvec sv, const lp_node *n, const char *loose_type) {
    int loose = -1;
    for (const lp_node *k = n->first; k && !j->failed; k = k->next) {
        if (!k->name) continue;
        const char *nm = k->name;
        if (!strcmp(nm, "sec") || !strcmp(nm, "ack") || !strcmp(nm, "app") || !strcmp(nm, "boxed-text") ||
            !strcmp(nm, "notes") || !strcmp(nm, "bio")) {
            const lp_node *cap = lp_child(k, "caption");
            const char *title = child_text(j, k, "title");
            if (!title && cap) title = child_text(j, cap, "title");
            const char *type = lp_attr_get(k, "sec-type");
            if (!type && strcmp(nm, "sec") != 0) type = nm;
            lp_section *s = new_sec(j, sv, title, child_text(j, k, "label"), type, 1, -1);
            if (!s) return;
            walk_blocks(j, sv, k, (int)(s - *sv.v), 1);
            loose = -1;
        } else if (!strcmp(nm, "app-group")) {
            walk_top(j, sv, k, "appendix");
        } else if (!strcmp(nm, "p") || !strcmp(nm, "list") || !strcmp(nm, "disp-quote") || !strcmp(nm, "def-list") ||
                   !strcmp(nm, "statement")) {
            if (loose < 0) {
                lp_section *s = new_sec(j, sv, NULL, NULL, loose_type, 1, -1);
                if (!s) return;
                loose = (int)(s - *sv.v);
            }
            /* reuse walk_blocks on a one-element view: handle the element directly */
            if (!strcmp(nm, "list")) {
                for (const lp_node *li = lp_child(k, "list-item"); li; li = lp_next(li, "list-item")) add_para(j, &(*sv.v)[loose], li);
            } else if (!strcmp(nm, "disp-quote") || !strcmp(nm, "statement")) {
                walk_blocks(j, sv, k, loose, 1);
            } else {
                add_para(j, &(*sv.v)[loose], k);
            }
        }
    }
}

/* --- abstract --- */

static void parse_abstract(jats *j, lp_doc *d, const lp_node *ab) {
    const char *type = lp_attr_get(ab, "abstract-type");
    /* the main abstract has no type (or "abstract"); others are summaries */
    if (type && strcmp(type, "abstract") != 0) {
        lp_summary sm;
        memset(&sm, 0, sizeof sm);
        sm.type = type;
        sm.title = child_text(j, ab, "title");
        if (LP_VEC_PUSH(A, d->summaries, d->nsummaries, d->summaries_cap, sm) != 0) {
            j->failed = 1;
            return;
        }
        lp_summary *s = &d->summaries[d->nsummaries - 1];
        secvec sv = {&s->secs, &s->nsecs, &s->secs_cap};
        walk_top(j, sv, ab, NULL);
        return;
    }
    if (d->nabstract) return; /* a second untyped abstract is a translation or alternative */
    secvec sv = {&d->abstract, &d->nabstract, &d->abstract_cap};
    walk_top(j, sv, ab, NULL);
}

/* --- contributors and affiliations --- */

/* Text of an affiliation with its label dropped; adjacent elements with nothing between them
 * (<institution>X</institution><country>Y</country>) are joined with ", ". */
static void aff_flat(jats *j, const lp_node *n, int *prev_elem) {
    lp_flat *f = &j->c->flat;
    for (const lp_node *k = n->first; k; k = k->next) {
        if (!k->name) {
            lp_flat_text(f, k->text, k->len);
            for (size_t i = 0; i < k->len; i++)
                if (!lp_is_space((unsigned char)k->text[i])) {
                    *prev_elem = 0;
                    break;
                }
            continue;
        }
        if (lp_is(k, "label") || lp_is(k, "sup") || lp_is(k, "xref") || lp_is(k, "fn")) continue;
        if (*prev_elem && f->buf.n && !strchr(",;:", f->buf.p[f->buf.n - 1])) {
            f->pending = 0; /* "X, Y", not "X , Y" */
            lp_flat_text(f, ",", 1);
        }
        lp_flat_space(f);
        if (k->first && k->first->name && !lp_is(k, "named-content")) {
            aff_flat(j, k, prev_elem);
        } else {
            lp_flat_node(j->c, A, k, NULL);
        }
        *prev_elem = 1;
    }
}

static char *aff_text(jats *j, const lp_node *aff) {
    if (lp_is(aff, "aff-alternatives")) aff = lp_child(aff, "aff");
    if (!aff) return NULL;
    lp_flat_reset(&j->c->flat);
    int prev = 0;
    aff_flat(j, aff, &prev);
    char *t = lp_flat_take(&j->c->flat, A);
    /* drop a trailing separator left by markup like "..., <country>X</country>." */
    if (t) {
        size_t n = strlen(t);
        while (n && (t[n - 1] == ',' || t[n - 1] == ';' || t[n - 1] == ' ')) t[--n] = '\0';
        if (!n) t = NULL;
    }
    return t;
}

/* Map from aff id to its element, gathered from the article front. */
typedef struct affmap {
    const lp_node **nodes;
    size_t n, cap;
} affmap;

static void collect_affs(jats *j, const lp_node *front, affmap *m) {
    for (const lp_node *x = lp_find(front, NULL); x; x = lp_find_next(front, x, NULL, lp_is(x, "sub-article"))) {
        if ((lp_is(x, "aff") || lp_is(x, "aff-alternatives")) && lp_attr_get(x, "id")) {
            if (LP_VEC_PUSH(A, m->nodes, m->n, m->cap, x) != 0) j->failed = 1;
        }
    }
}

static const lp_node *aff_by_id(const affmap *m, const char *id) {
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(lp_attr_get(m->nodes[i], "id"), id) == 0) return m->nodes[i];
    return NULL;
}

static int add_aff_node(jats *j, lp_doc *d, const lp_node *aff) {
    char *t = aff_text(j, aff);
    if (!t) return -1;
    return lp_doc_add_aff(A, d, lp_attr_get(aff, "id"), t);
}

static void name_parts(jats *j, const lp_node *nm, const char **given, const char **family, const char **suffix) {
    if (lp_is(nm, "name-alternatives")) nm = lp_child(nm, NULL);
    *family = child_text(j, nm, "surname");
    *given = child_text(j, nm, "given-names");
    *suffix = child_text(j, nm, "suffix");
    if (!*family && !*given && lp_is(nm, "string-name")) *family = text_of(j, nm);
}

static const char *collab_text(jats *j, const lp_node *collab) {
    static const char *const skip[] = {"contrib-group", "xref", "fn", "sup", NULL};
    lp_flat_reset(&j->c->flat);
    lp_flat_node(j->c, A, collab, skip);
    return lp_flat_take(&j->c->flat, A);
}

static void parse_contrib(jats *j, lp_doc *d, const lp_node *ct, const affmap *am, const lp_node *group) {
    const char *type = lp_attr_get(ct, "contrib-type");
    if (type && strcmp(type, "editor") == 0) {
        lp_name nm = {0};
        const lp_node *n = lp_child(ct, "name");
        if (!n) n = lp_child(ct, "string-name");
        if (!n) n = lp_child(ct, "name-alternatives");
        if (n) name_parts(j, n, &nm.given, &nm.family, &nm.suffix);
        else if (lp_child(ct, "collab")) nm.literal = collab_text(j, lp_child(ct, "collab"));
        if ((nm.family || nm.literal) && LP_VEC_PUSH(A, d->editors, d->neditors, d->editors_cap, nm) != 0) j->failed = 1;
        return;
    }
    if (type && strcmp(type, "author") != 0) return; /* reviewers, "author non-byline" group members, ... */
    if (!type && group) {
        /* an untyped contrib is an author only in a group that types none of its contribs; next to
         * typed authors it is a member of a group author (PLOS lists them so) */
        const char *ct_type = lp_attr_get(group, "content-type");
        if (ct_type && strcmp(ct_type, "authors") != 0) return;
        for (const lp_node *o = lp_child(group, "contrib"); o; o = lp_next(o, "contrib"))
            if (lp_attr_get(o, "contrib-type")) return;
    }
    lp_author *au = lp_doc_add_author(A, d);
    if (!au) {
        j->failed = 1;
        return;
    }
    const lp_node *n = lp_child(ct, "name");
    if (!n) n = lp_child(ct, "name-alternatives");
    if (!n) n = lp_child(ct, "string-name");
    if (n) name_parts(j, n, &au->given, &au->family, &au->suffix);
    const lp_node *col = lp_child(ct, "collab");
    if (!col && lp_child(ct, "collab-alternatives")) col = lp_child(lp_child(ct, "collab-alternatives"), "collab");
    if (col && !n) au->collab = collab_text(j, col);
    au->corresponding = lp_attr_is(ct, "corresp", "yes");
    for (const lp_node *k = ct->first; k; k = k->next) {
        if (!k->name) continue;
        if (lp_is(k, "contrib-id")) {
            const char *t = lp_attr_get(k, "contrib-id-type");
            char *v = text_of(j, k);
            if ((!t || strcmp(t, "orcid") == 0) && v && !au->orcid) au->orcid = lp_orcid_norm(A, v);
        } else if (lp_is(k, "uri") || lp_is(k, "ext-link")) {
            char *v = text_of(j, k);
            const char *href = lp_attr_get(k, "href");
            if (!au->orcid && ((v && strstr(v, "orcid.org")) || (href && strstr(href, "orcid.org"))))
                au->orcid = lp_orcid_norm(A, href && strstr(href, "orcid") ? href : v);
        } else if (lp_is(k, "email")) {
            if (!au->email) au->email = text_of(j, k);
        } else if (lp_is(k, "address")) {
            if (!au->email) au->email = child_text(j, k, "email");
        } else if (lp_is(k, "xref")) {
            const char *rt = lp_attr_get(k, "ref-type");
            const char *rid = lp_attr_get(k, "rid");
            if (rt && !strcmp(rt, "corresp")) au->corresponding = 1;
            if (rt && !strcmp(rt, "aff") && rid) {
                /* rid may list several ids */
                for (const char *p = rid; *p;) {
                    while (*p == ' ') p++;
                    const char *q = p;
                    while (*q && *q != ' ') q++;
                    if (q > p) {
                        char id[128];
                        size_t len = (size_t)(q - p) < sizeof id - 1 ? (size_t)(q - p) : sizeof id - 1;
                        memcpy(id, p, len);
                        id[len] = '\0';
                        const lp_node *af = aff_by_id(am, id);
                        if (af) {
                            int idx = add_aff_node(j, d, af);
                            if (lp_author_add_aff(A, au, idx) != 0) j->failed = 1;
                        }
                    }
                    p = q;
                }
            }
        } else if (lp_is(k, "aff") || lp_is(k, "aff-alternatives")) {
            int idx = add_aff_node(j, d, k);
            if (lp_author_add_aff(A, au, idx) != 0) j->failed = 1;
        }
    }
}

static void parse_contribs(jats *j, lp_doc *d, const lp_node *meta, const affmap *am) {
    for (const lp_node *g = lp_child(meta, "contrib-group"); g && !j->failed; g = lp_next(g, "contrib-group")) {
        size_t first = d->nauthors;
        for (const lp_node *ct = lp_child(g, "contrib"); ct; ct = lp_next(ct, "contrib")) parse_contrib(j, d, ct, am, g);
        if (lp_child(g, "etal")) d->authors_et_al = 1;
        /* affiliations listed in the group without ids belong to every author of the group that has none */
        for (const lp_node *af = g->first; af; af = af->next) {
            if (!(lp_is(af, "aff") || lp_is(af, "aff-alternatives"))) continue;
            int idx = add_aff_node(j, d, af);
            if (idx < 0) continue;
            if (lp_attr_get(af, "id")) continue;
            for (size_t i = first; i < d->nauthors; i++)
                if (d->authors[i].naffs == 0 || d->authors[i].affs[d->authors[i].naffs - 1] >= 0) {
                    int has_xref = 0;
                    for (size_t k = 0; k < d->authors[i].naffs; k++) has_xref |= d->affs[d->authors[i].affs[k]].id != NULL;
                    if (!has_xref && lp_author_add_aff(A, &d->authors[i], idx) != 0) j->failed = 1;
                }
        }
    }
    /* affiliations of the article not tied to any author (NLM 2.3 lists them after the contribs) */
    for (const lp_node *af = meta->first; af; af = af->next)
        if (lp_is(af, "aff") || lp_is(af, "aff-alternatives")) add_aff_node(j, d, af);
}

/* --- dates --- */

static void parse_date(jats *j, lp_doc *d, const lp_node *dt, const char *kind) {
    int y = 0, m = 0, day = 0;
    const char *iso = lp_attr_get(dt, "iso-8601-date");
    if (iso && strlen(iso) >= 4) {
        y = lp_first_year(iso);
        if (y && strlen(iso) >= 7 && iso[4] == '-') m = atoi(iso + 5);
        if (y && strlen(iso) >= 10 && iso[7] == '-') day = atoi(iso + 8);
    }
    if (!y) {
        char *ys = child_text(j, dt, "year");
        y = lp_first_year(ys);
        char *ms = child_text(j, dt, "month");
        if (!ms) ms = child_text(j, dt, "season");
        m = lp_month_num(ms);
        char *ds = child_text(j, dt, "day");
        day = ds ? (int)lp_first_int(ds) : 0;
    }
    if (y && lp_doc_add_date(A, d, kind, y, m, day) != 0) j->failed = 1;
}

static const char *pub_date_kind(const lp_node *pd) {
    const char *pt = lp_attr_get(pd, "pub-type");
    const char *dt = lp_attr_get(pd, "date-type");
    const char *fmt = lp_attr_get(pd, "publication-format");
    if (pt) {
        if (!strcmp(pt, "epub-ppub")) return "published";
        if (!strcmp(pt, "epub") || !strcmp(pt, "ppub") || !strcmp(pt, "collection") || !strcmp(pt, "pmc-release") ||
            !strcmp(pt, "ecorrected") || !strcmp(pt, "pcorrected") || !strcmp(pt, "epreprint"))
            return pt;
        return "published";
    }
    if (!dt || !strcmp(dt, "pub") || !strcmp(dt, "publication")) {
        if (fmt && !strcmp(fmt, "electronic")) return "epub";
        if (fmt && !strcmp(fmt, "print")) return "ppub";
        return "published";
    }
    if (!strcmp(dt, "collection")) return "collection";
    if (!strcmp(dt, "update")) return "updated";
    return dt;
}

/* --- licence --- */

static const char *license_from_url(jats *j, const char *url) {
    if (!url) return NULL;
    const char *p = strstr(url, "creativecommons.org/");
    if (!p) return NULL;
    p += strlen("creativecommons.org/");
    if (!strncmp(p, "publicdomain/zero/", 18)) return lp_arena_printf(A, "CC0-%.3s", p + 18);
    if (!strncmp(p, "publicdomain/mark/", 18)) return "public-domain";
    if (strncmp(p, "licenses/", 9) != 0) return NULL;
    p += 9;
    char kind[32], ver[8];
    size_t k = 0;
    while (*p && *p != '/' && k + 1 < sizeof kind) kind[k++] = (char)toupper((unsigned char)*p++);
    kind[k] = '\0';
    size_t v = 0;
    if (*p == '/') {
        p++;
        while (*p && *p != '/' && v + 1 < sizeof ver) ver[v++] = *p++;
    }
    ver[v] = '\0';
    return v ? lp_arena_printf(A, "CC-%s-%s", kind, ver) : lp_arena_printf(A, "CC-%s", kind);
}

static const char *license_from_prose(const char *t) {
    if (!t) return NULL;
    if (strstr(t, "CC0") || strstr(t, "Public Domain declaration") || strstr(t, "public domain dedication")) return "CC0";
    if (strstr(t, "Creative Commons") || strstr(t, "creativecommons.org")) {
        int nc = strstr(t, "NonCommercial") || strstr(t, "Non-Commercial") || strstr(t, "Noncommercial");
        int nd = strstr(t, "NoDerivs") || strstr(t, "No Derivative") || strstr(t, "NoDerivatives");
        int sa = strstr(t, "ShareAlike") || strstr(t, "Share Alike");
        if (nc && nd) return "CC-BY-NC-ND";
        if (nc && sa) return "CC-BY-NC-SA";
        if (nc) return "CC-BY-NC";
        if (nd) return "CC-BY-ND";
        if (sa) return "CC-BY-SA";
        if (strstr(t, "Attribution")) return "CC-BY";
    }
    if (strstr(t, "public domain") || strstr(t, "Public Domain")) return "public-domain";
    return NULL;
}

static void parse_permissions(jats *j, lp_doc *d, const lp_node *meta) {
    const lp_node *perm = lp_child(meta, "permissions");
    const lp_node *scope = perm ? perm : meta;
    const char *cs = child_text(j, scope, "copyright-statement");
    if (!cs && perm) cs = child_text(j, meta, "copyright-statement");
    d->copyright = cs;
    const lp_node *lic = lp_child(scope, "license");
    if (lic) {
        const char *url = lp_attr_get(lic, "href");
        const lp_node *ref = lp_child(lic, "license_ref");
        if (!url && ref) url = text_of(j, ref);
        for (const lp_node *lp = lp_child(lic, "license-p"); lp && !url; lp = lp_next(lp, "license-p")) {
            const lp_node *el = lp_find(lp, "ext-link");
            if (el) url = lp_attr_get(el, "href");
        }
        lp_flat_reset(&j->c->flat);
        for (const lp_node *k = lic->first; k; k = k->next)
            if (lp_is(k, "license-p") || lp_is(k, "p")) {
                lp_flat_space(&j->c->flat);
                lp_flat_node(j->c, A, k, NULL);
            }
        d->license_text = lp_flat_take(&j->c->flat, A);
        d->license_url = url;
        d->license_type = license_from_url(j, url);
        if (!d->license_type) d->license_type = license_from_prose(d->license_text);
        if (!d->license_type) d->license_type = lp_attr_get(lic, "license-type");
        d->license_from = "element";
    } else if (cs && license_from_prose(cs)) {
        /* licence stated only in the copyright prose (older PLOS files) */
        d->license_text = cs;
        d->license_type = license_from_prose(cs);
        d->license_from = "prose";
    }
}

/* --- references --- */

static const char *pages_of(jats *j, const lp_node *cit) {
    char *fp = child_text(j, cit, "fpage"), *lpg = child_text(j, cit, "lpage");
    if (fp && lpg) return lp_arena_cat3(A, fp, "-", lpg);
    if (fp) return fp;
    char *pr = child_text(j, cit, "page-range");
    if (pr) return pr;
    return child_text(j, cit, "elocation-id");
}

static void ref_names(jats *j, lp_ref *r, const lp_node *holder) {
    for (const lp_node *k = holder->first; k; k = k->next) {
        if (!k->name) continue;
        lp_name nm = {0};
        if (lp_is(k, "name") || lp_is(k, "string-name") || lp_is(k, "name-alternatives")) {
            name_parts(j, k, &nm.given, &nm.family, &nm.suffix);
        } else if (lp_is(k, "collab")) {
            nm.literal = collab_text(j, k);
        } else if (lp_is(k, "etal")) {
            r->et_al = 1;
            continue;
        } else {
            continue;
        }
        if (lp_ref_add_author(A, r, nm) != 0) j->failed = 1;
    }
}

static void parse_citation(jats *j, lp_ref *r, const lp_node *cit) {
    r->kind = lp_attr_get(cit, "publication-type");
    if (!r->kind) r->kind = lp_attr_get(cit, "citation-type");
    int groups = 0;
    for (const lp_node *pg = lp_child(cit, "person-group"); pg; pg = lp_next(pg, "person-group")) {
        const char *t = lp_attr_get(pg, "person-group-type");
        if (t && strcmp(t, "author") != 0) continue;
        ref_names(j, r, pg);
        groups++;
    }
    if (!groups) ref_names(j, r, cit); /* NLM 2.3 puts names directly in the citation */
    r->title = child_text(j, cit, "article-title");
    if (!r->title) r->title = child_text(j, cit, "chapter-title");
    if (!r->title) r->title = child_text(j, cit, "data-title");
    if (!r->title) r->title = child_text(j, cit, "part-title");
    r->source = child_text(j, cit, "source");
    r->year = child_text(j, cit, "year");
    if (!r->year) {
        const lp_node *dt = lp_child(cit, "date");
        if (dt) r->year = child_text(j, dt, "year");
    }
    r->volume = child_text(j, cit, "volume");
    r->issue = child_text(j, cit, "issue");
    r->pages = pages_of(j, cit);
    r->publisher = child_text(j, cit, "publisher-name");
    for (const lp_node *k = lp_find(cit, NULL); k; k = lp_find_next(cit, k, NULL, 0)) {
        if (lp_is(k, "pub-id") || lp_is(k, "object-id")) {
            const char *t = lp_attr_get(k, "pub-id-type");
            char *v = text_of(j, k);
            if (!t || !v) continue;
            if (!strcmp(t, "doi") && !r->doi) r->doi = lp_doi_norm(A, v);
            else if (!strcmp(t, "pmid") && !r->pmid) r->pmid = lp_pmid_norm(A, v);
            else if ((!strcmp(t, "pmcid") || !strcmp(t, "pmc")) && !r->pmcid) r->pmcid = lp_pmcid_norm(A, v);
            else if (!strcmp(t, "arxiv") && !r->arxiv) r->arxiv = v;
        } else if (lp_is(k, "ext-link") || lp_is(k, "uri")) {
            const char *t = lp_attr_get(k, "ext-link-type");
            const char *href = lp_attr_get(k, "href");
            char *v = text_of(j, k);
            if (t && !strcmp(t, "doi") && !r->doi) r->doi = lp_doi_norm(A, href ? href : v);
            else if (!r->doi && href && strstr(href, "doi.org/")) r->doi = lp_doi_norm(A, href);
            else if (!r->url) r->url = href ? href : v;
        }
    }
    if (lp_is(cit, "mixed-citation") || lp_is(cit, "citation")) {
        static const char *const skip[] = {"object-id", NULL};
        lp_flat_reset(&j->c->flat);
        lp_flat_node(j->c, A, cit, skip);
        r->text = lp_flat_take(&j->c->flat, A);
        /* a mixed citation with neither title nor names still carries its text */
    }
    if (!r->doi) r->doi = lp_doi_find(A, r->text);
    if (r->doi) r->doi = lp_doi_norm(A, r->doi);
    if (!r->title && !r->source && !r->text) {
        /* element-citation with only free text inside a comment */
        r->text = text_of(j, cit);
    }
}

static void parse_ref(jats *j, lp_doc *d, const lp_node *ref) {
    lp_ref *r = lp_doc_add_ref(A, d);
    if (!r) {
        j->failed = 1;
        return;
    }
    r->id = lp_attr_get(ref, "id");
    r->label = child_text(j, ref, "label");
    const lp_node *cit = NULL;
    for (const lp_node *k = ref->first; k && !cit; k = k->next) {
        if (lp_is(k, "element-citation") || lp_is(k, "mixed-citation") || lp_is(k, "citation") || lp_is(k, "nlm-citation"))
            cit = k;
        else if (lp_is(k, "citation-alternatives"))
            cit = lp_child(k, NULL);
    }
    if (cit) parse_citation(j, r, cit);
    else r->text = text_of(j, ref);
}

static void parse_ref_lists(jats *j, lp_doc *d, const lp_node *scope) {
    for (const lp_node *x = lp_find(scope, NULL); x && !j->failed;
         x = lp_find_next(scope, x, NULL, (flags_of(x) & (NF_NESTED | NF_REF)) != 0)) {
        if ((flags_of(x) & NF_REF) && x->parent && lp_is(x->parent, "ref-list")) parse_ref(j, d, x);
    }
}

/* --- figures and tables --- */

static void parse_floats(jats *j, lp_doc *d, const lp_node *scope) {
    for (const lp_node *x = lp_find(scope, NULL); x && !j->failed;
         x = lp_find_next(scope, x, NULL, (flags_of(x) & NF_NESTED) != 0)) {
        if (!(flags_of(x) & NF_FLOAT)) continue;
        const char *kind = NULL;
        if (lp_is(x, "fig")) kind = "figure";
        else if (lp_is(x, "table-wrap")) kind = "table";
        else if (lp_is(x, "supplementary-material")) kind = "supplementary";
        else if (lp_is(x, "boxed-text") && lp_child(x, "caption")) kind = "box";
        else if (lp_is(x, "media") && lp_child(x, "caption")) kind = "media";
        if (!kind) continue;
        /* a fig inside a supplementary-material's caption is part of that caption */
        lp_figure f = {lp_attr_get(x, "id"), child_text(j, x, "label"), kind, NULL};
        const lp_node *cap = lp_child(x, "caption");
        if (cap) {
            lp_flat_reset(&j->c->flat);
            for (const lp_node *k = cap->first; k; k = k->next) {
                if (!k->name) continue;
                lp_flat_space(&j->c->flat);
                lp_flat_node(j->c, A, k, NULL);
                if (lp_is(k, "title")) {
                    /* "Title. First caption sentence": keep the title a sentence of its own */
                    lp_buf *b = &j->c->flat.buf;
                    if (b->n && !strchr(".?!:", b->p[b->n - 1])) lp_flat_text(&j->c->flat, ".", 1);
                }
            }
            f.caption = lp_flat_take(&j->c->flat, A);
        }
        if (!f.caption && !f.label) continue;
        if (LP_VEC_PUSH(A, d->figures, d->nfigures, d->figures_cap, f) != 0) j->failed = 1;
    }
}

/* --- front matter --- */

static void parse_journal_meta(jats *j, lp_doc *d, const lp_node *jm) {
    if (!jm) return;
    const lp_node *tg = lp_child(jm, "journal-title-group");
    d->venue = child_text(j, tg ? tg : jm, "journal-title");
    d->journal_abbrev = child_text(j, tg ? tg : jm, "abbrev-journal-title");
    for (const lp_node *is = lp_child(jm, "issn"); is; is = lp_next(is, "issn")) {
        const char *t = lp_attr_get(is, "pub-type");
        if (!t) t = lp_attr_get(is, "publication-format");
        char *v = text_of(j, is);
        if (t && (!strcmp(t, "epub") || !strcmp(t, "electronic"))) {
            if (!d->eissn) d->eissn = v;
        } else if (!d->issn) {
            d->issn = v;
        }
    }
    const lp_node *pub = lp_child(jm, "publisher");
    if (pub) d->publisher = child_text(j, pub, "publisher-name");
    /* NLM 3.0 PLOS files have no journal-title, only journal-ids: the NLM title abbreviation names the journal */
    static const char *const id_types[] = {"nlm-ta", "iso-abbrev", NULL};
    for (int k = 0; id_types[k] && (!d->venue || !d->journal_abbrev); k++)
        for (const lp_node *ji = lp_child(jm, "journal-id"); ji; ji = lp_next(ji, "journal-id"))
            if (lp_attr_is(ji, "journal-id-type", id_types[k])) {
                char *v = text_of(j, ji);
                if (!d->venue) d->venue = v;
                if (!d->journal_abbrev) d->journal_abbrev = v;
                break;
            }
}

static void parse_ids(jats *j, lp_doc *d, const lp_node *meta) {
    for (const lp_node *id = lp_child(meta, "article-id"); id; id = lp_next(id, "article-id")) {
        const char *t = lp_attr_get(id, "pub-id-type");
        char *v = text_of(j, id);
        if (!v) continue;
        if (!t) t = "other";
        if (!strcmp(t, "doi")) {
            if (!d->doi) d->doi = lp_doi_norm(A, v);
        } else if (!strcmp(t, "pmid")) {
            if (!d->pmid) d->pmid = lp_pmid_norm(A, v);
        } else if (!strcmp(t, "pmc") || !strcmp(t, "pmcid")) {
            if (!d->pmcid) d->pmcid = lp_pmcid_norm(A, v);
        } else if (!strcmp(t, "publisher-id")) {
            if (!d->publisher_id) d->publisher_id = v;
        } else if (!strcmp(t, "arxiv")) {
            if (!d->arxiv) d->arxiv = v;
        } else if (lp_doc_add_other_id(A, d, t, v) != 0) {
            j->failed = 1;
        }
    }
}

static void parse_meta(jats *j, lp_doc *d, const lp_node *meta, const affmap *am) {
    parse_ids(j, d, meta);
    const lp_node *cats = lp_child(meta, "article-categories");
    if (cats)
        for (const lp_node *s = lp_find(cats, "subject"); s; s = lp_find_next(cats, s, "subject", 0))
            if (lp_doc_add_str(A, &d->subjects, &d->nsubjects, &d->subjects_cap, text_of(j, s)) != 0) j->failed = 1;
    const lp_node *tg = lp_child(meta, "title-group");
    if (tg) {
        static const char *const skip[] = {"xref", "fn", NULL};
        const lp_node *t = lp_child(tg, "article-title");
        if (t) {
            lp_flat_reset(&j->c->flat);
            lp_flat_node(j->c, A, t, skip);
            d->title = lp_flat_take(&j->c->flat, A);
        }
        d->subtitle = child_text(j, tg, "subtitle");
    }
    parse_contribs(j, d, meta, am);
    for (const lp_node *pd = lp_child(meta, "pub-date"); pd; pd = lp_next(pd, "pub-date")) parse_date(j, d, pd, pub_date_kind(pd));
    d->volume = child_text(j, meta, "volume");
    d->issue = child_text(j, meta, "issue");
    d->pages = pages_of(j, meta);
    const lp_node *hist = lp_child(meta, "history");
    if (hist)
        for (const lp_node *dt = lp_child(hist, "date"); dt; dt = lp_next(dt, "date")) {
            const char *k = lp_attr_get(dt, "date-type");
            parse_date(j, d, dt, k ? k : "history");
        }
    parse_permissions(j, d, meta);
    for (const lp_node *ab = lp_child(meta, "abstract"); ab; ab = lp_next(ab, "abstract")) parse_abstract(j, d, ab);
    for (const lp_node *kg = lp_child(meta, "kwd-group"); kg; kg = lp_next(kg, "kwd-group")) {
        const char *t = lp_attr_get(kg, "kwd-group-type");
        if (t && (!strcmp(t, "abbreviations") || !strcmp(t, "abbreviation"))) continue;
        for (const lp_node *k = kg->first; k; k = k->next) {
            const char *v = NULL;
            if (lp_is(k, "kwd")) v = text_of(j, k);
            else if (lp_is(k, "compound-kwd")) v = text_of(j, k);
            if (v && lp_doc_add_str(A, &d->keywords, &d->nkeywords, &d->keywords_cap, v) != 0) j->failed = 1;
        }
    }
}

/* --- one article or sub-article --- */

static lp_doc *build(jats *j, const lp_node *art, const lp_doc *parent);

static void body_and_back(jats *j, lp_doc *d, const lp_node *art) {
    secvec sv = {&d->sections, &d->nsections, &d->sections_cap};
    const lp_node *body = lp_child(art, "body");
    if (body) walk_top(j, sv, body, NULL);
    const lp_node *back = lp_child(art, "back");
    if (back) walk_top(j, sv, back, NULL);
    /* figures/tables wherever they float (body, back, floats-group), and the references */
    parse_floats(j, d, art);
    if (back) parse_ref_lists(j, d, back);
    if (body) parse_ref_lists(j, d, body);
}

static lp_doc *build(jats *j, const lp_node *art, const lp_doc *parent) {
    lp_ctx *c = j->c;
    lp_doc *d = lp_doc_new(A, c->file, c->format, c->record);
    if (!d) {
        j->failed = 1;
        return NULL;
    }
    d->type = lp_attr_get(art, "article-type");
    d->item_type = "journalArticle";
    const char *lang = lp_attr_get(art, "lang");
    d->language = lp_lang_norm(A, lang);
    const lp_node *front = lp_child(art, "front");
    if (!front) front = lp_child(art, "front-stub");
    const lp_node *meta = front ? lp_child(front, "article-meta") : NULL;
    if (!meta && front && lp_is(front, "front-stub")) meta = front;
    affmap am = {0};
    if (front) collect_affs(j, front, &am);
    if (front) parse_journal_meta(j, d, lp_child(front, "journal-meta"));
    if (meta) parse_meta(j, d, meta, &am);
    if (parent) {
        d->relation = d->type;
        d->parent = parent->id;
        /* a sub-article is published in its parent's journal and issue */
        if (!d->venue) d->venue = parent->venue;
        if (!d->journal_abbrev) d->journal_abbrev = parent->journal_abbrev;
        if (!d->ndates) d->year = parent->year;
        if (!d->language) d->language = parent->language;
        if (!d->license_text && !d->license_url) {
            d->license_type = parent->license_type;
            d->license_url = parent->license_url;
            d->license_text = parent->license_text;
            d->license_from = parent->license_from;
        }
        if (!d->doi) d->id = lp_arena_printf(A, "%s/%s", parent->id, lp_attr_get(art, "id") ? lp_attr_get(art, "id") : "sub");
    }
    body_and_back(j, d, art);
    if (lp_doc_finish(A, d) != 0) j->failed = 1;
    return d;
}

/* Build `art` and, depth first, its sub-articles; emit parent before children. */
static sl_status build_tree(jats *j, const lp_node *art, lp_doc *parent) {
    lp_doc *d = build(j, art, parent);
    if (!d || j->failed) return lp_ctx_arena_fail(j->c, A, art->line);
    /* children first collected so the parent lists their ids */
    const lp_node *kids[256];
    lp_doc *kdocs[256];
    size_t nk = 0;
    for (const lp_node *k = art->first; k; k = k->next)
        if ((lp_is(k, "sub-article") || lp_is(k, "response")) && nk < 256) kids[nk++] = k;
    for (size_t i = 0; i < nk; i++) {
        kdocs[i] = build(j, kids[i], d);
        if (!kdocs[i] || j->failed) return lp_ctx_arena_fail(j->c, A, kids[i]->line);
        if (lp_doc_add_str(A, &d->children, &d->nchildren, &d->children_cap, kdocs[i]->id) != 0)
            return lp_ctx_arena_fail(j->c, A, kids[i]->line);
    }
    sl_status st = lp_ctx_emit(j->c, A, d);
    if (st != SL_OK) return st;
    for (size_t i = 0; i < nk; i++) {
        st = lp_ctx_emit(j->c, A, kdocs[i]);
        if (st != SL_OK) return st;
        /* grandchildren (a reply to a reply) */
        for (const lp_node *g = kids[i]->first; g; g = g->next)
            if (lp_is(g, "sub-article") || lp_is(g, "response")) {
                st = build_tree(j, g, kdocs[i]);
                if (st != SL_OK) return st;
            }
    }
    return SL_OK;
}

static sl_status on_record(void *user, lp_node *rec, lp_arena *a) {
    lp_ctx *c = user;
    if (!lp_is(rec, "article")) return SL_OK; /* pmc-articleset may carry other elements */
    jats j = {c, a, 0};
    sl_status st = build_tree(&j, rec, NULL);
    c->record++;
    return st;
}

sl_status lp_parse_jats(lp_ctx *c, lp_source *src) {
    static const char *const wrappers[] = {"pmc-articleset", "articles", NULL};
    lp_xml_cfg cfg = {wrappers, on_record, c, c->opts ? c->opts->max_record_bytes : 0, lp_flat_classify};
    lp_xml_info info;
    sl_status st = lp_xml_parse(src, &cfg, &info);
    if (st != SL_OK) return st;
    if (strcmp(info.root, "article") != 0 && strcmp(info.root, "pmc-articleset") != 0 && strcmp(info.root, "articles") != 0)
        return sl_set_error(SL_ERR_PARSE, "%s:1:1: root element <%s> is not a JATS <article>", c->file, info.root);
    lp_ctx_xml_notes(c, &info);
    return SL_OK;
}

