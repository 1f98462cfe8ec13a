/* test_corpus.c — every file of the shared corpus parses, and specific fields of real files come out right. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "fake_host.h"
#include "sl_test.h"

static size_t cp_len(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Invariants every document must satisfy, whatever its format. */
static int check_paragraph(const json_t *p, const char *where) {
    int bad = 0;
    const char *text = jstr(p, "text");
    if (!text || !*text) {
        fprintf(stderr, "%s: paragraph without text\n", where);
        return 1;
    }
    size_t n = cp_len(text);
    size_t i, last = 0;
    const json_t *s;
    json_array_foreach(json_object_get(p, "sentences"), i, s) {
        long a = (long)json_integer_value(json_array_get(s, 0)), b = (long)json_integer_value(json_array_get(s, 1));
        if (a < (long)last || b <= a || (size_t)b > n) {
            fprintf(stderr, "%s: sentence span [%ld,%ld) out of order or past %zu\n", where, a, b, n);
            bad = 1;
        }
        last = (size_t)b;
    }
    if (!jlen(p, "sentences")) {
        fprintf(stderr, "%s: paragraph without sentences\n", where);
        bad = 1;
    }
    json_array_foreach(json_object_get(p, "cites"), i, s) {
        long a = jint(s, "start"), b = jint(s, "end");
        if (a < 0 || b <= a || (size_t)b > n) {
            fprintf(stderr, "%s: cite span [%ld,%ld) outside the paragraph (%zu)\n", where, a, b, n);
            bad = 1;
        }
    }
    return bad;
}

static int check_doc(const json_t *d, const char *file) {
    int bad = 0;
    char where[512];
    snprintf(where, sizeof where, "%s %s", file, jstr(d, "id") ? jstr(d, "id") : "(no id)");
    if (!jstr(d, "id") || !jlen(d, "sources")) bad = 1, fprintf(stderr, "%s: no id or sources\n", where);
    long y = jint(d, "year");
    if (y != -1 && (y < 1 || y > 9999)) bad = 1, fprintf(stderr, "%s: year %ld\n", where, y);
    size_t naff = jlen(d, "affiliations"), i, k;
    const json_t *a, *x;
    json_array_foreach(json_object_get(d, "authors"), i, a) {
        if (!jstr(a, "family") && !jstr(a, "collab") && !jstr(a, "given"))
            bad = 1, fprintf(stderr, "%s: author %zu has no name\n", where, i);
        json_array_foreach(json_object_get(a, "affiliations"), k, x) if ((size_t)json_integer_value(x) >= naff) bad = 1,
            fprintf(stderr, "%s: author %zu points at affiliation %lld of %zu\n", where, i, (long long)json_integer_value(x), naff);
    }
    json_array_foreach(json_object_get(d, "abstract"), i, x) bad |= check_paragraph(x, where);
    json_array_foreach(json_object_get(d, "sections"), i, a) {
        long parent = jint(a, "parent");
        if (parent >= (long)i) bad = 1, fprintf(stderr, "%s: section %zu has a later parent %ld\n", where, i, parent);
        json_array_foreach(json_object_get(a, "paragraphs"), k, x) bad |= check_paragraph(x, where);
    }
    return bad;
}

typedef struct tally {
    size_t files, docs, failed, bad_docs, json_errors, children;
} tally;

static void parse_folder(const char *dir, const char *suffix, tally *t, const lp_options *opts) {
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "cannot open %s", dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), sn = strlen(suffix);
        if (e->d_name[0] == '.' || n < sn || strcmp(e->d_name + n - sn, suffix) != 0) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        lp_collected c;
        lp_collect_file(&c, path, e->d_name, LP_FMT_UNKNOWN, opts);
        t->files++;
        if (c.status != SL_OK) {
            t->failed++;
            fprintf(stderr, "FAILED %s: %s\n", path, c.error);
        }
        t->docs += json_array_size(c.docs);
        t->json_errors += (size_t)c.json_errors;
        size_t i;
        json_t *doc;
        json_array_foreach(c.docs, i, doc) {
            t->bad_docs += (size_t)check_doc(doc, e->d_name);
            t->children += json_object_get(doc, "parent") != NULL;
        }
        lp_collect_free(&c);
    }
    closedir(d);
}

static void every_file_parses(const char *corpus) {
    char dir[4096];
    struct {
        const char *sub, *suffix;
        size_t files, docs;
    } sets[] = {
        {"jats/plos", ".xml", 61, 61},  {"jats/elife", ".xml", 23, 57}, {"jats/pmc", ".nxml", 6, 6},
        {"pubmed", ".xml", 7, 9},       {"pubmed", ".xml.gz", 1, 604},  {"tei", ".tei.xml", 2, 2},
        {"arxiv", ".atom.xml", 20, 221}, {"bibtex", ".bib", 59, 0},
    };
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
        tally t = {0};
        snprintf(dir, sizeof dir, "%s/%s", corpus, sets[i].sub);
        parse_folder(dir, sets[i].suffix, &t, NULL);
        fprintf(stderr, "%-10s %-9s files %zu, documents %zu (%zu children)\n", sets[i].sub, sets[i].suffix, t.files, t.docs, t.children);
        CHECK_EQ_INT(t.files, sets[i].files);
        CHECK_EQ_INT(t.failed, 0);
        CHECK_EQ_INT(t.bad_docs, 0);
        CHECK_EQ_INT(t.json_errors, 0);
        if (sets[i].docs) CHECK_EQ_INT(t.docs, sets[i].docs);
        else CHECK(t.docs > 1000); /* BibTeX: every entry of 59 libraries */
    }
    /* the delimited LBD sets need their column mapping (they have no header row) */
    lp_options o = {0};
    o.columns = "pmid=0,year=1,title=2,abstract=3";
    o.header = -1;
    tally t = {0};
    snprintf(dir, sizeof dir, "%s/lbd", corpus);
    parse_folder(dir, ".psv.gz", &t, &o);
    CHECK_EQ_INT(t.files, 2);
    CHECK_EQ_INT(t.failed, 0);
    CHECK_EQ_INT(t.bad_docs, 0);
    CHECK(t.docs > 1000);
}

static lp_collected parse(const char *corpus, const char *rel) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", corpus, rel);
    lp_collected c;
    lp_collect_file(&c, path, rel, LP_FMT_UNKNOWN, NULL);
    CHECK_MSG(c.status == SL_OK, "%s: %s", rel, c.error);
    return c;
}

static void jats_elife_kitchen(const char *corpus) {
    lp_collected c = parse(corpus, "jats/elife/elife-00666.xml");
    CHECK_EQ_INT(json_array_size(c.docs), 3);
    json_t *d = jdoc(&c, "doi:10.7554/elife.00666");
    CHECK(d != NULL);
    if (d) {
        CHECK_STR(jstr(d, "title"), "The eLife research article");
        CHECK_STR(jpath(d, "ids.doi"), "10.7554/eLife.00666");
        CHECK_EQ_INT(jlen(d, "authors"), 4);
        CHECK_STR(jpath(d, "authors.0.family"), "Harrison");
        CHECK_STR(jpath(d, "authors.0.given"), "Melissa");
        CHECK_STR(jpath(d, "authors.0.orcid"), "0000-0003-3523-4408");
        CHECK_STR(jpath(d, "authors.2.collab"), "eLife Editorial Production Group");
        CHECK_STR(jpath(d, "affiliations.0.text"), "Department of Production, eLife, Cambridge, United Kingdom");
        CHECK_EQ_INT(jlen(d, "references"), 54); /* <ref id=...> elements in the file */
        CHECK_STR(jpath(d, "references.0.doi"), "10.1083/jcb.200510010");
        CHECK_STR(jpath(d, "references.0.pmid"), "16769818");
        CHECK_STR(jpath(d, "license.type"), "CC-BY-4.0");
        CHECK_STR(jpath(d, "license.from"), "element");
        /* both date conventions: <pub-date date-type="pub" publication-format="electronic"> and history */
        CHECK_STR(jpath(d, "dates.epub"), "2016-04-25");
        CHECK_STR(jpath(d, "dates.received"), "2016-03-01");
        CHECK_EQ_INT(jint(d, "year"), 2016);
        CHECK_EQ_INT(jlen(d, "children"), 2);
        /* MathML in the abstract keeps its tokens together */
        const char *ab = jpath(d, "abstract.0.text");
        CHECK_CONTAINS(ab, "MathML is also allowed: mpm=0");
        /* an in-text citation points at a reference id and its offsets cut out the cited text */
        const json_t *p = json_array_get(json_object_get(json_array_get(json_object_get(d, "sections"), 1), "paragraphs"), 0);
        const json_t *cite = json_array_get(json_object_get(p, "cites"), 0);
        CHECK_STR(jstr(cite, "type"), "bibr");
        CHECK(jstr(cite, "ref") && !strncmp(jstr(cite, "ref"), "bib", 3));
        CHECK(jlen(d, "figures") >= 10);
    }
    json_t *dl = jdoc(&c, "doi:10.7554/elife.00666.029");
    CHECK(dl != NULL);
    if (dl) {
        CHECK_STR(jstr(dl, "relation"), "decision-letter");
        CHECK_STR(jstr(dl, "parent"), "doi:10.7554/elife.00666");
        CHECK_STR(jstr(dl, "title"), "Decision letter");
        CHECK_STR(jpath(dl, "editors.0.family"), "Collings");
        CHECK_STR(jstr(dl, "venue"), "eLife");
    }
    CHECK_STR(jstr(jdoc(&c, "doi:10.7554/elife.00666.030"), "relation"), "reply");
    lp_collect_free(&c);
}

static void jats_pmc(const char *corpus) {
    lp_collected c = parse(corpus, "jats/pmc/pone.0046493.nxml");
    json_t *d = json_array_get(c.docs, 0);
    CHECK_STR(jpath(d, "ids.pmid"), "23029536");
    CHECK_STR(jpath(d, "ids.pmcid"), "PMC3460867");
    CHECK_STR(jpath(d, "ids.doi"), "10.1371/journal.pone.0046493");
    CHECK_EQ_INT(jlen(d, "authors"), 9);
    CHECK_STR(jpath(d, "authors.8.family"), "Canaan");
    CHECK(json_is_true(json_object_get(json_array_get(json_object_get(d, "authors"), 8), "corresponding")));
    CHECK_STR(jpath(d, "authors.1.given"), "Sadia V.");
    CHECK_STR(jpath(d, "authors.3.given"), "Jean-François"); /* UTF-8 kept */
    CHECK_EQ_INT(jlen(d, "references"), 58);
    CHECK_STR(jpath(d, "dates.received"), "2012-06-11");
    CHECK_STR(jpath(d, "venue"), "PLoS ONE");
    CHECK_STR(jpath(d, "license.type"), "CC-BY");
    CHECK_EQ_INT(jint(d, "year"), 2012);
    lp_collect_free(&c);

    /* a PLOS letter whose only licence statement is prose in the copyright statement */
    c = parse(corpus, "jats/plos/journal.pbio.0020188.xml");
    d = json_array_get(c.docs, 0);
    CHECK_STR(jstr(d, "title"), "Taking the Stem Cell Debate to the Public");
    CHECK_EQ_INT(jlen(d, "authors"), 3);
    CHECK_STR(jpath(d, "dates.ppub"), "2004-06");
    CHECK_STR(jpath(d, "summaries.0.type"), "toc");
    lp_collect_free(&c);

    /* a group author whose members are listed inside <collab> is one byline author */
    c = parse(corpus, "jats/plos/journal.pmed.1001300.xml");
    d = json_array_get(c.docs, 0);
    CHECK_EQ_INT(jlen(d, "authors"), 73);
    CHECK_STR(jpath(d, "authors.72.collab"), "Collaborative Group for Meta-Analysis of Individual Patient Data in MDR-TB");
    lp_collect_free(&c);
}

static void medline(const char *corpus) {
    lp_collected c = parse(corpus, "pubmed/medline16n0902.xml.gz");
    CHECK_EQ_INT(json_array_size(c.docs), 604);
    CHECK_EQ_INT(c.res.deletions, 1);
    CHECK_STR(json_string_value(json_array_get(c.deleted, 0)), "26432306");
    json_t *d = json_array_get(c.docs, 0);
    CHECK_STR(jstr(d, "id"), "pmid:17942999");
    CHECK_STR(jpath(d, "abstract.0.label"), "PURPOSE");
    CHECK_STR(jpath(d, "abstract.0.type"), "OBJECTIVE");
    CHECK_STR(jpath(d, "abstract.3.label"), "CONCLUSIONS");
    CHECK_STR(jpath(d, "journal.abbrev"), "Restor. Neurol. Neurosci.");
    CHECK_STR(jpath(d, "dates.completed"), "2008-02-07");
    CHECK_EQ_INT(jint(d, "year"), 2007);
    CHECK_STR(jpath(d, "ids.pmcid"), "PMC4380289"); /* from <OtherID Source="NLM">PMC... */
    CHECK_STR(jpath(d, "language"), "en");
    size_t mesh = 0, i;
    json_t *x;
    json_array_foreach(c.docs, i, x) mesh += jlen(x, "mesh");
    CHECK_EQ_INT(mesh, 1404); /* <DescriptorName> elements in the file */
    lp_collect_free(&c);

    c = parse(corpus, "pubmed/biopython-pubmed4.xml");
    d = json_array_get(c.docs, 0);
    CHECK_STR(jpath(d, "ids.doi"), "10.1136/gutjnl-2016-312510");
    CHECK_STR(jpath(d, "ids.pmid"), "27797938");
    CHECK_EQ_INT(jlen(d, "authors"), 22);
    CHECK_EQ_INT(jlen(d, "mesh"), 21);
    CHECK_STR(jpath(d, "mesh.0.descriptor"), "Adenocarcinoma");
    CHECK_STR(jpath(d, "mesh.0.ui"), "D000230");
    CHECK_STR(jpath(d, "mesh.0.qualifiers.0.name"), "epidemiology");
    CHECK(json_is_true(json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(d, "mesh"), 0), "qualifiers"), 0), "major")));
    CHECK_EQ_INT(jlen(d, "chemicals"), 2);
    CHECK_STR(jpath(d, "chemicals.1.name"), "Telomerase");
    CHECK_STR(jpath(d, "chemicals.1.registry_number"), "EC 2.7.7.49");
    CHECK_STR(jpath(d, "publication_types.1"), "Observational Study");
    CHECK_STR(jpath(d, "keywords.0"), "PANCREATIC CANCER");
    lp_collect_free(&c);
}

static void tei(const char *corpus) {
    lp_collected c = parse(corpus, "tei/N18-3011.tei.xml");
    json_t *d = json_array_get(c.docs, 0);
    CHECK_STR(jstr(d, "title"), "Construction of the Literature Graph in Semantic Scholar");
    CHECK_EQ_INT(jlen(d, "authors"), 23);
    CHECK_STR(jpath(d, "authors.0.email"), "waleeda@allenai.org");
    CHECK_EQ_INT(jlen(d, "references"), 27); /* the S2ORC JSON beside the file lists 27 bib_entries */
    CHECK_STR(jpath(d, "references.1.id"), "b1");
    CHECK_STR(jpath(d, "references.1.authors.4.given"), "Andrew D");
    CHECK_STR(jpath(d, "sections.0.title"), "Introduction");
    CHECK_STR(jpath(d, "sections.0.label"), "1");
    /* S2ORC: cite_spans start 187, end 203, ref_id BIBREF25 (= b25) */
    const json_t *cite = json_array_get(json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(d, "sections"), 0), "paragraphs"), 0), "cites"), 0);
    CHECK_STR(jstr(cite, "ref"), "b25");
    CHECK_EQ_INT(jint(cite, "start"), 187);
    CHECK_EQ_INT(jint(cite, "end"), 203);
    lp_collect_free(&c);
}

static void atom(const char *corpus) {
    lp_collected c = parse(corpus, "arxiv/id_astro-ph_0601001_s0_m100_3150dca9dc76.atom.xml");
    json_t *d = json_array_get(c.docs, 0);
    CHECK_STR(jstr(d, "id"), "arxiv:astro-ph/0601001");
    CHECK_EQ_INT(jint(d, "arxiv_version"), 1);
    CHECK_STR(jpath(d, "authors.2.given"), "B. Scott");
    CHECK_STR(jpath(d, "authors.2.family"), "Gaudi");
    CHECK_STR(jpath(d, "affiliations.0.text"), "Ohio State");
    CHECK_STR(jpath(d, "categories.0"), "astro-ph");
    CHECK_STR(jpath(d, "dates.published"), "2006-01-02");
    lp_collect_free(&c);

    c = parse(corpus, "arxiv/q_testing_s0_m100_cfe7536492ca.atom.xml");
    CHECK_EQ_INT(json_array_size(c.docs), 100);
    d = json_array_get(c.docs, 0);
    CHECK_STR(jpath(d, "ids.arxiv"), "2202.12139");
    CHECK_STR(jpath(d, "ids.doi"), "10.1109/ICSTW55395.2022.00035");
    CHECK_STR(jpath(d, "categories.0"), "cs.SE");
    lp_collect_free(&c);

    /* an error feed and an empty result are handled: no documents, a remark, no failure */
    c = parse(corpus, "arxiv/id_abc_s0_m100_b79c8dcf6bc3.atom.xml");
    CHECK_EQ_INT(json_array_size(c.docs), 0);
    CHECK_EQ_INT(c.res.api_error, 1);
    CHECK_CONTAINS(json_string_value(json_array_get(c.notes, 0)), "incorrect id format for abc");
    lp_collect_free(&c);
    c = parse(corpus, "arxiv/id_0000.0000_s0_m100_8b51d9633a68.atom.xml");
    CHECK_EQ_INT(json_array_size(c.docs), 0);
    CHECK_EQ_INT(c.res.api_error, 0);
    CHECK_CONTAINS(json_string_value(json_array_get(c.notes, 0)), "no results");
    lp_collect_free(&c);
}

static void bibtex(const char *corpus) {
    lp_collected c = parse(corpus, "bibtex/Import_fails_to_perform_@String_substitutions__154.bib");
    json_t *d = json_array_get(c.docs, 0);
    CHECK_EQ_INT(json_array_size(c.docs), 1);
    CHECK_STR(jstr(d, "title"), "SQL is great");
    CHECK_STR(jpath(d, "journal.publisher"), "Freds Publishing"); /* @string macro expanded */
    CHECK_STR(jpath(d, "authors.0.family"), "Bert");
    CHECK_STR(jpath(d, "authors.0.given"), "R. A.");
    CHECK_STR(jstr(d, "item_type"), "book");
    CHECK_STR(jpath(d, "sources.0.key"), "Bert:2001:SQL");
    lp_collect_free(&c);
}

static void lbd(const char *corpus) {
    char path[4096];
    snprintf(path, sizeof path, "%s/lbd/pmid_dp_ti_ab_fish_20241127.psv.gz", corpus);
    lp_options o = {0};
    o.columns = "pmid=0,year=1,title=2,abstract=3";
    o.header = -1;
    lp_collected c;
    lp_collect_file(&c, path, "fish.psv.gz", LP_FMT_UNKNOWN, &o);
    CHECK_MSG(c.status == SL_OK, "%s", c.error);
    CHECK_EQ_INT(c.res.format, LP_FMT_DELIMITED);
    CHECK_EQ_INT(json_array_size(c.docs), 153);
    json_t *d = json_array_get(c.docs, 0);
    CHECK_STR(jstr(d, "id"), "pmid:91820");
    CHECK_EQ_INT(jint(d, "year"), 1979);
    CHECK_STR(jstr(d, "title"), "Fish oils, prostaglandins, and arterial thrombosis.");
    CHECK(json_object_get(d, "abstract") == NULL); /* NULL means no abstract */
    CHECK_EQ_INT(jlen(json_array_get(c.docs, 2), "abstract"), 1);
    size_t with_abstract = 0, i;
    json_array_foreach(c.docs, i, d) with_abstract += json_object_get(d, "abstract") != NULL;
    CHECK_EQ_INT(with_abstract, 153 - 43); /* 43 rows end in |NULL */
    lp_collect_free(&c);

    /* without a mapping the header-less file is refused with advice */
    lp_collect_file(&c, path, "fish.psv.gz", LP_FMT_UNKNOWN, NULL);
    CHECK(c.status == SL_ERR_INVALID);
    CHECK_CONTAINS(c.error, "fish.psv.gz:1: no header row");
    CHECK_CONTAINS(c.error, "columns=pmid=0,year=1,title=2,abstract=3");
    lp_collect_free(&c);
}

int main(void) {
    const char *corpus = fh_corpus();
    if (!corpus) {
        fprintf(stderr, "SCILOOP_SHARED_DIR/corpus not found: skipped\n");
        return SL_TEST_SKIP;
    }
    every_file_parses(corpus);
    jats_elife_kitchen(corpus);
    jats_pmc(corpus);
    medline(corpus);
    tei(corpus);
    atom(corpus);
    bibtex(corpus);
    lbd(corpus);
    return SL_TEST_DONE();
}
