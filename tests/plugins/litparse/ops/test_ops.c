/* test_ops.c — the litparse ops through a fake host: parse (folders, globs, policies, deletions), merge, filter, stats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sciloop/artifact.h>

#include "collect.h"
#include "fake_host.h"
#include "sl_test.h"

static char *tmp;

static const char *P(const char *name) {
    static char buf[8][4096];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmp, name);
    return buf[k];
}

static void put(const char *name, const char *text) { CHECK(fh_write(P(name), text, strlen(text)) == 0); }

static json_t *load_docs(const char *path) {
    json_t *arr = json_array();
    size_t n;
    char *t = fh_read(path, &n);
    if (!t) return arr;
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t e;
        json_t *o = json_loads(line, 0, &e);
        CHECK_MSG(o != NULL, "bad JSON line in %s: %s", path, e.text);
        if (o) json_array_append_new(arr, o);
    }
    free(t);
    return arr;
}

static json_t *by_id(json_t *docs, const char *id) {
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d) if (jstr(d, "id") && !strcmp(jstr(d, "id"), id)) return d;
    return NULL;
}

/* A table cell by row and column name, or NULL. */
static const char *cell(const sl_table *t, size_t row, const char *col) {
    long c = sl_table_find_col(t, col);
    return c < 0 || row >= sl_table_rows(t) ? NULL : sl_table_cell(t, row, (size_t)c);
}

static long find_row(const sl_table *t, const char *col, const char *value) {
    for (size_t r = 0; r < sl_table_rows(t); r++)
        if (cell(t, r, col) && !strcmp(cell(t, r, col), value)) return (long)r;
    return -1;
}

static const char *pubmed_set(int pmid, const char *title, int year) {
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "<PubmedArticle><MedlineCitation><PMID>%d</PMID><Article><Journal><JournalIssue><PubDate><Year>%d</Year>"
             "</PubDate></JournalIssue><Title>Journal of Tests</Title></Journal><ArticleTitle>%s</ArticleTitle>"
             "<AuthorList><Author><LastName>Smith</LastName><ForeName>Ann</ForeName></Author></AuthorList>"
             "<Language>eng</Language></Article></MedlineCitation></PubmedArticle>\n",
             pmid, year, title);
    return buf;
}

static void parse_demo_folder(void) {
    /* the shipped demo corpus: every format, README left out, the PSV file given its columns */
    fh_ctx c;
    fh_init(&c, "parse");
    fh_input(&c, "source", "examples/literature");
    fh_param(&c, "columns", "pmid=0,year=1,title=2,abstract=3");
    fh_param(&c, "exclude", "README*");
    fh_output(&c, "documents", P("demo.jsonl"));
    fh_output(&c, "files", P("demo-files.csv"));
    sl_status st = fh_run(&c);
    CHECK_MSG(st == SL_OK, "%s", c.fail_msg);
    sl_table *t = NULL;
    CHECK(sl_table_read(P("demo-files.csv"), &t) == SL_OK);
    if (t) {
        CHECK_EQ_INT(sl_table_rows(t), 13);
        CHECK(find_row(t, "file", "literature/README.md") < 0);
        long r = find_row(t, "file", "literature/lbd/pmid_dp_ti_ab_fish_20241127.psv.gz");
        CHECK(r >= 0);
        CHECK_STR(cell(t, (size_t)r, "format"), "delimited");
        CHECK_STR(cell(t, (size_t)r, "documents"), "153");
        r = find_row(t, "file", "literature/jats/elife06003.xml");
        CHECK_STR(cell(t, (size_t)r, "documents"), "3"); /* article, decision letter, author response */
        for (size_t i = 0; i < sl_table_rows(t); i++) CHECK_STR(cell(t, i, "status"), "ok");
        sl_table_destroy(t);
    }
    json_t *docs = load_docs(P("demo.jsonl"));
    CHECK_STR(fh_value(&c, "documents"), "185");
    CHECK_EQ_INT(json_array_size(docs), 185);
    CHECK_STR(fh_value(&c, "failed"), "0");
    json_t *d = by_id(docs, "pmid:91820");
    CHECK_STR(jpath(d, "sources.0.file"), "literature/lbd/pmid_dp_ti_ab_fish_20241127.psv.gz");
    json_decref(docs);

    /* several threads give the same bytes as one */
    fh_init(&c, "parse");
    c.threads = 3;
    fh_input(&c, "source", "examples/literature");
    fh_param(&c, "columns", "pmid=0,year=1,title=2,abstract=3");
    fh_param(&c, "exclude", "README*");
    fh_output(&c, "documents", P("demo3.jsonl"));
    fh_output(&c, "files", P("demo3-files.csv"));
    CHECK_MSG(fh_run(&c) == SL_OK, "%s", c.fail_msg);
    size_t n1, n3, t1, t3;
    char *a = fh_read(P("demo.jsonl"), &n1), *b = fh_read(P("demo3.jsonl"), &n3);
    CHECK(a && b && n1 == n3 && memcmp(a, b, n1) == 0);
    free(a);
    free(b);
    a = fh_read(P("demo-files.csv"), &t1);
    b = fh_read(P("demo3-files.csv"), &t3);
    CHECK(a && b && t1 == t3 && memcmp(a, b, t1) == 0);
    free(a);
    free(b);
}

static void parse_policies(void) {
    mkdir(P("mixed"), 0755);
    mkdir(P("mixed/sub"), 0755);
    put("mixed/a.xml", "<?xml version=\"1.0\"?>\n<PubmedArticleSet>\n");
    char good[4096];
    snprintf(good, sizeof good, "<?xml version=\"1.0\"?>\n<PubmedArticleSet>%s</PubmedArticleSet>\n", pubmed_set(1, "Good one", 2001));
    put("mixed/sub/b.xml", good);
    put("mixed/notes.json", "{\"not\": \"literature\"}\n");
    put("mixed/.hidden.xml", "garbage");
    put("mixed/words", "alpha\nbeta\ngamma\n");

    fh_ctx c;
    fh_init(&c, "parse");
    fh_input(&c, "source", P("mixed"));
    fh_output(&c, "documents", P("mixed.jsonl"));
    fh_output(&c, "files", P("mixed.csv"));
    sl_status st = fh_run(&c);
    CHECK(st == SL_ERR_PARSE);
    CHECK_CONTAINS(c.fail_msg, "mixed/a.xml:3:1:");
    CHECK_CONTAINS(c.fail_msg, "the file ends inside <PubmedArticleSet> opened at line 2");
    CHECK_CONTAINS(c.fail_msg, "on_error=skip");
    struct stat sb;
    CHECK(stat(P("mixed.jsonl"), &sb) != 0); /* a failed step leaves no output behind */
    CHECK(stat(P("mixed.jsonl.tmp"), &sb) != 0);

    fh_init(&c, "parse");
    fh_input(&c, "source", P("mixed"));
    fh_param(&c, "on_error", "skip");
    fh_output(&c, "documents", P("mixed.jsonl"));
    fh_output(&c, "files", P("mixed.csv"));
    st = fh_run(&c);
    CHECK_MSG(st == SL_OK, "%s", c.fail_msg);
    CHECK_STR(fh_value(&c, "documents"), "1");
    CHECK_STR(fh_value(&c, "failed"), "1");
    CHECK_CONTAINS(c.log, "skipped mixed/a.xml: mixed/a.xml:3:1:");
    sl_table *t = NULL;
    CHECK(sl_table_read(P("mixed.csv"), &t) == SL_OK);
    if (t) {
        CHECK_EQ_INT(sl_table_rows(t), 4); /* a.xml, notes.json, sub/b.xml, words; the hidden file is not listed */
        long r = find_row(t, "file", "mixed/a.xml");
        CHECK_STR(cell(t, (size_t)r, "status"), "skipped");
        CHECK_CONTAINS(cell(t, (size_t)r, "message"), "malformed XML");
        CHECK_STR(cell(t, (size_t)find_row(t, "file", "mixed/notes.json"), "status"), "ignored");
        CHECK_STR(cell(t, (size_t)find_row(t, "file", "mixed/words"), "status"), "ignored");
        CHECK_STR(cell(t, (size_t)find_row(t, "file", "mixed/sub/b.xml"), "status"), "ok");
        sl_table_destroy(t);
    }

    /* the same with three threads: same table, same failure */
    fh_init(&c, "parse");
    c.threads = 3;
    fh_input(&c, "source", P("mixed"));
    fh_param(&c, "on_error", "skip");
    fh_output(&c, "documents", P("mixed3.jsonl"));
    fh_output(&c, "files", P("mixed3.csv"));
    CHECK_MSG(fh_run(&c) == SL_OK, "%s", c.fail_msg);
    size_t na, nb;
    char *ta = fh_read(P("mixed.csv"), &na), *tb = fh_read(P("mixed3.csv"), &nb);
    CHECK(ta && tb && na == nb && memcmp(ta, tb, na) == 0);
    free(ta);
    free(tb);
    fh_init(&c, "parse");
    c.threads = 3;
    fh_input(&c, "source", P("mixed"));
    fh_output(&c, "documents", P("mixed4.jsonl"));
    CHECK(fh_run(&c) == SL_ERR_PARSE);
    CHECK_CONTAINS(c.fail_msg, "mixed/a.xml:3:1:");
    CHECK(stat(P("mixed4.jsonl"), &sb) != 0);

    /* a glob in the paths param; include= filters folder walks */
    fh_init(&c, "parse");
    char glob[4200];
    snprintf(glob, sizeof glob, "%s/mixed/sub/*.xml", tmp);
    fh_param(&c, "paths", glob);
    fh_output(&c, "documents", P("glob.jsonl"));
    fh_output(&c, "files", P("glob.csv"));
    CHECK_MSG(fh_run(&c) == SL_OK, "%s", c.fail_msg);
    CHECK_EQ_INT(fh_lines(P("glob.jsonl")), 1);

    fh_init(&c, "parse");
    snprintf(glob, sizeof glob, "%s/mixed/*.none", tmp);
    fh_param(&c, "paths", glob);
    fh_output(&c, "documents", P("none.jsonl"));
    CHECK(fh_run(&c) == SL_ERR_NOT_FOUND);
    CHECK_CONTAINS(c.fail_msg, "no file matches");

    fh_init(&c, "parse");
    fh_output(&c, "documents", P("nothing.jsonl"));
    CHECK(fh_run(&c) == SL_ERR_INVALID);
    CHECK_CONTAINS(c.fail_msg, "nothing to parse");

    /* a file named directly is parsed whatever its name; JSON is refused with the reason */
    fh_init(&c, "parse");
    fh_input(&c, "source", P("mixed/notes.json"));
    fh_output(&c, "documents", P("json.jsonl"));
    CHECK(fh_run(&c) == SL_ERR_UNSUPPORTED);
    CHECK_CONTAINS(c.fail_msg, "notes.json: unrecognised content: JSON");

    /* cancellation stops between files */
    fh_init(&c, "parse");
    fh_input(&c, "source", P("mixed/sub/b.xml"));
    fh_input(&c, "source", P("mixed/sub/b.xml"));
    c.cancel_after = 1;
    fh_output(&c, "documents", P("cancel.jsonl"));
    CHECK(fh_run(&c) == SL_ERR_CANCELLED);
}

static void parse_deletions(void) {
    /* MEDLINE update files: a DeleteCitation removes the PMID from what came before, not after */
    char a[8192], b[4096], c3[4096];
    snprintf(a, sizeof a, "<?xml version=\"1.0\"?>\n<PubmedArticleSet>%s", pubmed_set(5, "Five", 2000));
    snprintf(a + strlen(a), sizeof a - strlen(a), "%s</PubmedArticleSet>\n", pubmed_set(6, "Six", 2000));
    snprintf(b, sizeof b, "<?xml version=\"1.0\"?>\n<PubmedArticleSet><DeleteCitation><PMID Version=\"1\">5</PMID>"
                          "<PMID Version=\"1\">99</PMID></DeleteCitation></PubmedArticleSet>\n");
    snprintf(c3, sizeof c3, "<?xml version=\"1.0\"?>\n<PubmedArticleSet>%s</PubmedArticleSet>\n", pubmed_set(5, "Five, revised", 2001));
    mkdir(P("updates"), 0755);
    put("updates/1.xml", a);
    put("updates/2.xml", b);
    put("updates/3.xml", c3);
    fh_ctx c;
    fh_init(&c, "parse");
    fh_input(&c, "source", P("updates"));
    fh_output(&c, "documents", P("upd.jsonl"));
    fh_output(&c, "files", P("upd.csv"));
    CHECK_MSG(fh_run(&c) == SL_OK, "%s", c.fail_msg);
    json_t *docs = load_docs(P("upd.jsonl"));
    CHECK_EQ_INT(json_array_size(docs), 2);
    CHECK_STR(jstr(json_array_get(docs, 0), "id"), "pmid:6");
    CHECK_STR(jstr(json_array_get(docs, 1), "title"), "Five, revised");
    CHECK_STR(fh_value(&c, "documents"), "2");
    sl_table *t = NULL;
    CHECK(sl_table_read(P("upd.csv"), &t) == SL_OK);
    if (t) {
        CHECK_STR(cell(t, (size_t)find_row(t, "file", "updates/2.xml"), "deletions"), "2");
        CHECK_STR(cell(t, (size_t)find_row(t, "file", "updates/2.xml"), "status"), "empty");
        sl_table_destroy(t);
    }
    json_decref(docs);
}

static void merge(void) {
    /* set A: BibTeX-like records; set B: the same works from other sources */
    put("a.jsonl",
        "{\"id\":\"doi:10.1000/xyz\",\"ids\":{\"doi\":\"10.1000/XYZ\"},\"title\":\"Fish oil and Raynaud's syndrome\",\"year\":1986,"
        "\"authors\":[{\"family\":\"Swanson\"}],\"sources\":[{\"file\":\"a.bib\",\"format\":\"bibtex\",\"record\":0}]}\n"
        "{\"id\":\"arxiv:1605.08386\",\"ids\":{\"arxiv\":\"1605.08386\"},\"title\":\"Heat-bath random walks\",\"year\":2016,"
        "\"sources\":[{\"file\":\"q.atom\",\"format\":\"atom\",\"record\":0}]}\n"
        "{\"id\":\"x#1\",\"title\":\"A long enough title about platelet aggregation\",\"year\":1984,"
        "\"authors\":[{\"family\":\"Müller\",\"given\":\"K\"}],\"sources\":[{\"file\":\"x.csv\",\"format\":\"delimited\",\"record\":1}]}\n"
        "{\"id\":\"doi:10.1/one\",\"ids\":{\"doi\":\"10.1/one\"},\"title\":\"Editorial\",\"year\":2000,\"authors\":[{\"family\":\"Lee\"}],"
        "\"sources\":[{\"file\":\"e.bib\",\"format\":\"bibtex\",\"record\":0}]}\n");
    put("b.jsonl",
        "{\"id\":\"pmid:3\",\"ids\":{\"doi\":\"10.1000/xyz\",\"pmid\":\"3\"},\"title\":\"Fish oil and Raynaud's syndrome.\",\"year\":1986,"
        "\"authors\":[{\"family\":\"Swanson\",\"given\":\"Don R\"},{\"family\":\"Other\"}],"
        "\"abstract\":[{\"text\":\"An abstract.\",\"sentences\":[[0,12]]}],\"mesh\":[{\"descriptor\":\"Raynaud Disease\"}],"
        "\"keywords\":[\"fish oil\"],\"sources\":[{\"file\":\"m.xml\",\"format\":\"medline\",\"record\":4}]}\n"
        "{\"id\":\"arxiv:1605.08386\",\"ids\":{\"arxiv\":\"1605.08386v2\",\"doi\":\"10.5/journal\"},\"title\":\"Heat-bath random walks with Markov bases\","
        "\"year\":2018,\"sources\":[{\"file\":\"j.xml\",\"format\":\"jats\",\"record\":0}]}\n"
        "{\"id\":\"pmid:9\",\"ids\":{\"pmid\":\"9\"},\"title\":\"A LONG ENOUGH TITLE about platelet-aggregation\",\"year\":1984,"
        "\"authors\":[{\"family\":\"Muller\"}],\"sources\":[{\"file\":\"m.xml\",\"format\":\"medline\",\"record\":7}]}\n"
        "{\"id\":\"doi:10.1/two\",\"ids\":{\"doi\":\"10.1/two\"},\"title\":\"Editorial\",\"year\":2000,\"authors\":[{\"family\":\"Lee\"}],"
        "\"sources\":[{\"file\":\"e2.bib\",\"format\":\"bibtex\",\"record\":0}]}\n"
        "{\"id\":\"pmid:10\",\"ids\":{\"pmid\":\"10\",\"doi\":\"10.9/other\"},\"title\":\"A long enough title about platelet aggregation\","
        "\"year\":1984,\"authors\":[{\"family\":\"Muller\"}],\"sources\":[{\"file\":\"m.xml\",\"format\":\"medline\",\"record\":8}]}\n");
    fh_ctx c;
    fh_init(&c, "merge");
    fh_input(&c, "documents", P("a.jsonl"));
    fh_input(&c, "documents", P("b.jsonl"));
    fh_output(&c, "documents", P("merged.jsonl"));
    fh_output(&c, "duplicates", P("dups.csv"));
    CHECK_MSG(fh_run(&c) == SL_OK, "%s", c.fail_msg);
    json_t *docs = load_docs(P("merged.jsonl"));
    /* 9 in: the DOI pair, the arXiv pair (versions differ), a title+first author+year pair (case,
     * hyphen and accent folded) and a third with that title whose PMID and DOI conflict, two
     * "Editorial"s too short to match by title */
    CHECK_EQ_INT(json_array_size(docs), 6);
    CHECK_STR(fh_value(&c, "documents"), "6");
    CHECK_STR(fh_value(&c, "merged"), "3");
    json_t *d = by_id(docs, "doi:10.1000/xyz");
    CHECK(d != NULL);
    if (d) {
        CHECK_STR(jpath(d, "ids.pmid"), "3");                 /* every id kept */
        CHECK_EQ_INT(jlen(d, "authors"), 2);                   /* the richer author list */
        CHECK_STR(jpath(d, "authors.0.given"), "Don R");
        CHECK_EQ_INT(jlen(d, "mesh"), 1);
        CHECK_EQ_INT(jlen(d, "sources"), 2);
        CHECK_STR(jpath(d, "sources.0.format"), "medline"); /* the richer source leads */
    }
    d = by_id(docs, "doi:10.5/journal");
    CHECK(d != NULL);
    if (d) {
        CHECK_STR(jpath(d, "ids.arxiv"), "1605.08386v2");
        CHECK_STR(jstr(d, "title"), "Heat-bath random walks with Markov bases");
        CHECK_EQ_INT(jlen(d, "sources"), 2);
    }
    /* the CSV row and the MEDLINE record match by title; pmid:10 has another PMID, so it stays apart */
    d = by_id(docs, "pmid:9");
    CHECK(d != NULL);
    if (d) CHECK_EQ_INT(jlen(d, "sources"), 2);
    CHECK(by_id(docs, "pmid:10") != NULL); /* a document without duplicates is copied unchanged */
    CHECK(by_id(docs, "doi:10.1/one") && by_id(docs, "doi:10.1/two"));
    sl_table *t = NULL;
    CHECK(sl_table_read(P("dups.csv"), &t) == SL_OK);
    if (t) {
        CHECK_EQ_INT(sl_table_rows(t), 3);
        long r = find_row(t, "id", "doi:10.1000/xyz");
        CHECK_STR(cell(t, (size_t)r, "matched_by"), "doi+title");
        CHECK_STR(cell(t, (size_t)r, "documents"), "2");
        sl_table_destroy(t);
    }
    json_decref(docs);

    /* only DOIs: the title trio stays apart */
    fh_init(&c, "merge");
    fh_input(&c, "documents", P("a.jsonl"));
    fh_input(&c, "documents", P("b.jsonl"));
    fh_param(&c, "by", "doi");
    fh_output(&c, "documents", P("merged2.jsonl"));
    CHECK_MSG(fh_run(&c) == SL_OK, "%s", c.fail_msg);
    CHECK_EQ_INT(fh_lines(P("merged2.jsonl")), 8);

    fh_init(&c, "merge");
    fh_input(&c, "documents", P("a.jsonl"));
    fh_param(&c, "by", "doi,isbn");
    fh_output(&c, "documents", P("merged3.jsonl"));
    CHECK(fh_run(&c) == SL_ERR_INVALID);
    CHECK_CONTAINS(c.fail_msg, "unknown key 'isbn'");

    /* a broken line is reported by file and line */
    put("broken.jsonl", "{\"id\":\"a\",\"sources\":[]}\n{\"id\": \n");
    fh_init(&c, "merge");
    fh_input(&c, "documents", P("broken.jsonl"));
    fh_output(&c, "documents", P("merged4.jsonl"));
    CHECK(fh_run(&c) == SL_ERR_PARSE);
    CHECK_CONTAINS(c.fail_msg, "broken.jsonl:2:");
}

static void filter(void) {
    fh_ctx c;
    fh_init(&c, "filter");
    fh_input(&c, "documents", P("merged.jsonl"));
    fh_param(&c, "year_min", "1985");
    fh_param(&c, "year_max", "2017");
    fh_output(&c, "documents", P("f1.jsonl"));
    CHECK_MSG(fh_run(&c) == SL_OK, "%s", c.fail_msg);
    json_t *docs = load_docs(P("f1.jsonl"));
    CHECK_EQ_INT(json_array_size(docs), 3); /* 1986, 2000, 2000; not 1984 or 2018 */
    json_decref(docs);

    fh_init(&c, "filter");
    fh_input(&c, "documents", P("merged.jsonl"));
    fh_param(&c, "require", "abstract, mesh");
    fh_param(&c, "text_regex", "raynaud");
    fh_output(&c, "documents", P("f2.jsonl"));
    CHECK_MSG(fh_run(&c) == SL_OK, "%s", c.fail_msg);
    docs = load_docs(P("f2.jsonl"));
    CHECK_EQ_INT(json_array_size(docs), 1);
    CHECK_STR(jstr(json_array_get(docs, 0), "id"), "doi:10.1000/xyz");
    json_decref(docs);

    fh_init(&c, "filter");
    fh_input(&c, "documents", P("merged.jsonl"));
    fh_param(&c, "title_regex", "^(editorial|heat)");
    fh_param(&c, "require", "doi");
    fh_output(&c, "documents", P("f3.jsonl"));
    CHECK_MSG(fh_run(&c) == SL_OK, "%s", c.fail_msg);
    CHECK_EQ_INT(fh_lines(P("f3.jsonl")), 3);

    fh_init(&c, "filter");
    fh_input(&c, "documents", P("merged.jsonl"));
    fh_param(&c, "title_regex", "([unclosed");
    fh_output(&c, "documents", P("f4.jsonl"));
    CHECK(fh_run(&c) == SL_ERR_INVALID);
    CHECK_CONTAINS(c.fail_msg, "title_regex");

    fh_init(&c, "filter");
    fh_input(&c, "documents", P("merged.jsonl"));
    fh_param(&c, "year_min", "2010");
    fh_param(&c, "year_max", "2000");
    fh_output(&c, "documents", P("f5.jsonl"));
    CHECK(fh_run(&c) == SL_ERR_INVALID);

    /* language and venue on real documents: the demo set */
    fh_init(&c, "filter");
    fh_input(&c, "documents", P("demo.jsonl"));
    fh_param(&c, "language", "eng");
    fh_param(&c, "venue", "plos");
    fh_param(&c, "parents_only", "true");
    fh_output(&c, "documents", P("f6.jsonl"));
    CHECK_MSG(fh_run(&c) == SL_OK, "%s", c.fail_msg);
    docs = load_docs(P("f6.jsonl"));
    size_t i;
    json_t *d;
    CHECK(json_array_size(docs) >= 1);
    json_array_foreach(docs, i, d) {
        CHECK_STR(jstr(d, "language"), "en");
        CHECK(json_object_get(d, "parent") == NULL);
    }
    json_decref(docs);
}

static void stats(void) {
    fh_ctx c;
    fh_init(&c, "stats");
    fh_input(&c, "documents", P("demo.jsonl"));
    fh_output(&c, "table", P("stats.csv"));
    CHECK_MSG(fh_run(&c) == SL_OK, "%s", c.fail_msg);
    CHECK_STR(fh_value(&c, "documents"), "185");
    sl_table *t = NULL;
    CHECK(sl_table_read(P("stats.csv"), &t) == SL_OK);
    if (!t) return;
    /* the 'all' rows come first; then one block per format */
    CHECK_STR(cell(t, 0, "source"), "all");
    CHECK_STR(cell(t, 0, "documents"), "185");
    size_t jats_title = 0, delim_abs = 0, med_mesh = 0;
    for (size_t r = 0; r < sl_table_rows(t); r++) {
        const char *s = cell(t, r, "source"), *f = cell(t, r, "field");
        if (!strcmp(s, "jats") && !strcmp(f, "title")) jats_title = r;
        if (!strcmp(s, "delimited") && !strcmp(f, "abstract")) delim_abs = r;
        if (!strcmp(s, "medline") && !strcmp(f, "mesh")) med_mesh = r;
    }
    CHECK_STR(cell(t, jats_title, "documents"), "5");
    CHECK_STR(cell(t, jats_title, "present"), "5");
    CHECK_STR(cell(t, jats_title, "percent"), "100.0");
    CHECK_STR(cell(t, delim_abs, "present"), "110"); /* 153 rows, 43 with NULL abstract */
    CHECK_STR(cell(t, med_mesh, "present"), "2");
    sl_table_destroy(t);
}

int main(void) {
    tmp = fh_tmpdir();
    if (!tmp) return 1;
    parse_demo_folder();
    parse_policies();
    parse_deletions();
    merge();
    filter();
    stats();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (!sl_test_failures) CHECK(system(cmd) == 0);
    else fprintf(stderr, "outputs kept in %s\n", tmp);
    free(tmp);
    return SL_TEST_DONE();
}
