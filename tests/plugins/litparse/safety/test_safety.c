/* test_safety.c — hostile and broken input: malformed XML with file:line:col, XXE and entity bombs refused,
 * invalid UTF-8 with its byte offset, gzip streaming and truncation, per-record memory limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "collect.h"
#include "fake_host.h"
#include "sl_test.h"

static lp_collected parse_str(const char *text, const char *name, lp_format fmt) {
    lp_collected c;
    lp_collect_mem(&c, text, strlen(text), name, fmt, NULL);
    return c;
}

static const char *jats_head =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE article PUBLIC \"-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.1 20151215//EN\" "
    "\"JATS-archivearticle1.dtd\">\n";

static void malformed_xml(void) {
    /* a tag closed by the wrong name on line 4 */
    lp_collected c = parse_str("<?xml version=\"1.0\"?>\n<article>\n<front><article-meta>\n"
                               "<title-group><article-title>x</title></title-group>\n</article-meta></front></article>\n",
                               "bad.xml", LP_FMT_UNKNOWN);
    CHECK(c.status == SL_ERR_PARSE);
    CHECK_CONTAINS(c.error, "bad.xml:4:");
    CHECK_CONTAINS(c.error, "malformed XML");
    CHECK_EQ_INT(json_array_size(c.docs), 0);
    lp_collect_free(&c);

    /* truncated in the middle of an element */
    c = parse_str("<?xml version=\"1.0\"?>\n<PubmedArticleSet>\n<PubmedArticle><MedlineCitation><PMID>1</PMID>",
                  "cut.xml", LP_FMT_UNKNOWN);
    CHECK(c.status == SL_ERR_PARSE);
    CHECK_CONTAINS(c.error, "cut.xml:3:");
    lp_collect_free(&c);

    /* an undeclared entity in a document without a DTD is not well-formed */
    c = parse_str("<article><front><article-meta><title-group><article-title>a &ndash; b</article-title>"
                  "</title-group></article-meta></front></article>",
                  "noent.xml", LP_FMT_JATS);
    CHECK(c.status == SL_ERR_PARSE);
    CHECK_CONTAINS(c.error, "noent.xml:1:");
    CHECK_CONTAINS(c.error, "ndash");
    lp_collect_free(&c);

    /* with a DTD (never read) the JATS character entities resolve from the built-in table */
    char doc[2048];
    snprintf(doc, sizeof doc,
             "%s<article><front><article-meta><title-group><article-title>a &ndash; b &alpha;&lsqb;1&rsqb; &notanentity;"
             "</article-title></title-group></article-meta></front></article>",
             jats_head);
    c = parse_str(doc, "ent.xml", LP_FMT_UNKNOWN);
    CHECK_MSG(c.status == SL_OK, "%s", c.error);
    CHECK_STR(jstr(json_array_get(c.docs, 0), "title"), "a \xE2\x80\x93 b \xCE\xB1[1] &notanentity;");
    CHECK_CONTAINS(json_string_value(json_array_get(c.notes, 0)), "&notanentity;");
    lp_collect_free(&c);

    /* references inside attribute values are resolved ("MATERIALS &amp; METHODS" is a MEDLINE label) */
    c = parse_str("<?xml version=\"1.0\"?>\n<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>3</PMID><Article>"
                  "<ArticleTitle>T</ArticleTitle><Abstract><AbstractText Label=\"MATERIALS &amp; METHODS &#8211; &#x3B1; &lt;x&gt;\">"
                  "Text.</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>",
                  "attr.xml", LP_FMT_UNKNOWN);
    CHECK_MSG(c.status == SL_OK, "%s", c.error);
    CHECK_STR(jpath(json_array_get(c.docs, 0), "abstract.0.label"), "MATERIALS & METHODS \xE2\x80\x93 \xCE\xB1 <x>");
    lp_collect_free(&c);

    /* XML of another vocabulary is refused by name */
    c = parse_str("<?xml version=\"1.0\"?><html><body/></html>", "page.xml", LP_FMT_UNKNOWN);
    CHECK(c.status == SL_ERR_UNSUPPORTED);
    CHECK_CONTAINS(c.error, "page.xml: XML with root element <html>");
    lp_collect_free(&c);

    /* forcing a format onto the wrong root */
    c = parse_str("<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"/>", "f.xml", LP_FMT_JATS);
    CHECK(c.status == SL_ERR_PARSE);
    CHECK_CONTAINS(c.error, "root element <feed> is not a JATS <article>");
    lp_collect_free(&c);

    c = parse_str("", "empty.xml", LP_FMT_UNKNOWN);
    CHECK(c.status == SL_ERR_PARSE);
    CHECK_CONTAINS(c.error, "empty.xml: empty file");
    lp_collect_free(&c);
}

static void entity_attacks(void) {
    /* external entity pointing at a local file (XXE) */
    lp_collected c = parse_str("<?xml version=\"1.0\"?>\n<!DOCTYPE article [\n<!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n"
                               "<article><front><article-meta><title-group><article-title>&xxe;</article-title>"
                               "</title-group></article-meta></front></article>\n",
                               "xxe.xml", LP_FMT_UNKNOWN);
    CHECK(c.status == SL_ERR_INVALID);
    CHECK_CONTAINS(c.error, "xxe.xml:3:");
    CHECK_CONTAINS(c.error, "declares entity 'xxe'");
    CHECK_CONTAINS(c.error, "file:///etc/passwd");
    CHECK_EQ_INT(json_array_size(c.docs), 0);
    lp_collect_free(&c);

    /* external parameter entity fetched from the network */
    c = parse_str("<?xml version=\"1.0\"?>\n<!DOCTYPE PubmedArticleSet [\n<!ENTITY % remote SYSTEM \"http://127.0.0.1:9/evil.dtd\">\n"
                  "%remote;\n]>\n<PubmedArticleSet/>\n",
                  "pe.xml", LP_FMT_UNKNOWN);
    CHECK(c.status == SL_ERR_INVALID);
    CHECK_CONTAINS(c.error, "declares entity 'remote'");
    lp_collect_free(&c);

    /* billion laughs: refused at the first declaration, in microseconds, with no memory growth */
    const char *bomb =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n<article><front><article-meta><title-group><article-title>&lol9;</article-title></title-group>"
        "</article-meta></front></article>\n";
    c = parse_str(bomb, "lol.xml", LP_FMT_UNKNOWN);
    CHECK(c.status == SL_ERR_INVALID);
    CHECK_CONTAINS(c.error, "lol.xml:3:");
    CHECK_CONTAINS(c.error, "declares entity 'lol'");
    lp_collect_free(&c);

    /* an external DTD is named but never fetched: the parse succeeds offline */
    char doc[1024];
    snprintf(doc, sizeof doc,
             "<?xml version=\"1.0\"?>\n<!DOCTYPE article SYSTEM \"http://127.0.0.1:9/never-fetched.dtd\">\n"
             "<article><front><article-meta><title-group><article-title>Offline</article-title></title-group>"
             "</article-meta></front></article>\n");
    c = parse_str(doc, "dtd.xml", LP_FMT_UNKNOWN);
    CHECK_MSG(c.status == SL_OK, "%s", c.error);
    CHECK_STR(jstr(json_array_get(c.docs, 0), "title"), "Offline");
    lp_collect_free(&c);

    /* XInclude is not processed */
    c = parse_str("<?xml version=\"1.0\"?><article xmlns:xi=\"http://www.w3.org/2001/XInclude\"><front><article-meta>"
                  "<title-group><article-title>T<xi:include href=\"/etc/passwd\" parse=\"text\"/></article-title></title-group>"
                  "</article-meta></front></article>",
                  "xi.xml", LP_FMT_UNKNOWN);
    CHECK_MSG(c.status == SL_OK, "%s", c.error);
    CHECK_STR(jstr(json_array_get(c.docs, 0), "title"), "T");
    lp_collect_free(&c);
}

static void bad_utf8(void) {
    /* a Latin-1 é in a file that claims UTF-8: reported with its byte offset */
    const char *t = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PubmedArticleSet>\n<PubmedArticle><MedlineCitation>"
                    "<PMID>1</PMID><Article><ArticleTitle>caf\xE9</ArticleTitle></Article></MedlineCitation></PubmedArticle>\n"
                    "</PubmedArticleSet>\n";
    size_t off = (size_t)(strchr(t, '\xE9') - t);
    lp_collected c = parse_str(t, "latin1.xml", LP_FMT_UNKNOWN);
    CHECK(c.status == SL_ERR_PARSE);
    char want[128];
    snprintf(want, sizeof want, "latin1.xml:3: invalid UTF-8 at byte offset %zu (byte 0xE9)", off);
    CHECK_CONTAINS(c.error, want);
    lp_collect_free(&c);

    /* the same bytes declared as ISO-8859-1 are converted, not refused */
    const char *t2 = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<PubmedArticleSet>\n<PubmedArticle><MedlineCitation>"
                     "<PMID>1</PMID><Article><ArticleTitle>caf\xE9</ArticleTitle></Article></MedlineCitation></PubmedArticle>\n"
                     "</PubmedArticleSet>\n";
    c = parse_str(t2, "latin1-declared.xml", LP_FMT_UNKNOWN);
    CHECK_MSG(c.status == SL_OK, "%s", c.error);
    CHECK_STR(jstr(json_array_get(c.docs, 0), "title"), "caf\xC3\xA9");
    lp_collect_free(&c);

    /* overlong encoding and a surrogate are invalid too; delimited and text files report offsets as well */
    c = parse_str("pmid|title\n1|ok\n2|bad \xC0\xAF here\n", "x.psv", LP_FMT_UNKNOWN);
    CHECK(c.status == SL_ERR_PARSE);
    CHECK_CONTAINS(c.error, "x.psv:3: invalid UTF-8 at byte offset 22");
    lp_collect_free(&c);
    c = parse_str("# Title\n\ntext \xED\xA0\x80 more\n", "x.md", LP_FMT_UNKNOWN);
    CHECK(c.status == SL_ERR_PARSE);
    CHECK_CONTAINS(c.error, "x.md:3: invalid UTF-8 at byte offset 14");
    lp_collect_free(&c);

    /* a multi-byte character split across the 64 KiB read boundary is fine */
    size_t n = 200000;
    char *big = malloc(n + 256);
    size_t k = (size_t)sprintf(big, "<?xml version=\"1.0\"?>\n<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>7</PMID>"
                                    "<Article><ArticleTitle>");
    while (k < n) {
        memcpy(big + k, "\xE2\x80\x93 ", 4); /* "– " shifts the alignment of every chunk boundary */
        k += 4;
    }
    k += (size_t)sprintf(big + k, "</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>\n");
    lp_collect_mem(&c, big, k, "split.xml", LP_FMT_UNKNOWN, NULL);
    CHECK_MSG(c.status == SL_OK, "%s", c.error);
    CHECK_EQ_INT(json_array_size(c.docs), 1);
    lp_collect_free(&c);
    free(big);
}

/* gzip `text` into `path` with zlib, as several members when `members` > 1. */
static void write_gz(const char *path, const char *text, size_t len, int members) {
    FILE *f = fopen(path, "wb");
    size_t per = (len + (size_t)members - 1) / (size_t)members;
    for (int m = 0; m < members; m++) {
        size_t s = (size_t)m * per, e = s + per > len ? len : s + per;
        z_stream z;
        memset(&z, 0, sizeof z);
        deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
        size_t cap = deflateBound(&z, e - s);
        unsigned char *out = malloc(cap);
        z.next_in = (unsigned char *)text + s;
        z.avail_in = (uInt)(e - s);
        z.next_out = out;
        z.avail_out = (uInt)cap;
        deflate(&z, Z_FINISH);
        fwrite(out, 1, cap - z.avail_out, f);
        deflateEnd(&z);
        free(out);
    }
    fclose(f);
}

static void gzip_streams(const char *dir) {
    /* many citations in a multi-member gzip file, named without .gz: content decides */
    size_t cap = 4 << 20, n = 0;
    char *x = malloc(cap);
    n += (size_t)sprintf(x + n, "<?xml version=\"1.0\"?>\n<MedlineCitationSet>\n");
    for (int i = 1; i <= 3000; i++)
        n += (size_t)sprintf(x + n,
                             "<MedlineCitation Owner=\"NLM\" Status=\"MEDLINE\"><PMID Version=\"1\">%d</PMID><Article>"
                             "<ArticleTitle>Title %d.</ArticleTitle><Abstract><AbstractText>First sentence of %d. Second one.</AbstractText>"
                             "</Abstract></Article></MedlineCitation>\n",
                             1000 + i, i, i);
    n += (size_t)sprintf(x + n, "<DeleteCitation><PMID Version=\"1\">1002</PMID></DeleteCitation>\n</MedlineCitationSet>\n");
    char path[4096];
    snprintf(path, sizeof path, "%s/citations.dat", dir);
    write_gz(path, x, n, 3);
    lp_collected c;
    lp_collect_file(&c, path, "citations.dat", LP_FMT_UNKNOWN, NULL);
    CHECK_MSG(c.status == SL_OK, "%s", c.error);
    CHECK_EQ_INT(c.res.format, LP_FMT_MEDLINE);
    CHECK_EQ_INT(json_array_size(c.docs), 3000);
    CHECK_STR(jstr(json_array_get(c.docs, 2999), "id"), "pmid:4000");
    CHECK_EQ_INT(jlen(json_array_get(c.docs, 0), "abstract.0.sentences"), 2);
    CHECK_STR(json_string_value(json_array_get(c.deleted, 0)), "1002");
    lp_collect_free(&c);

    /* a truncated gzip file fails with the name and how far it got */
    struct stat sb;
    stat(path, &sb);
    CHECK(truncate(path, sb.st_size / 2) == 0);
    lp_collect_file(&c, path, "citations.dat", LP_FMT_UNKNOWN, NULL);
    CHECK(c.status == SL_ERR_PARSE);
    CHECK_CONTAINS(c.error, "citations.dat");
    CHECK(strstr(c.error, "gzip") || strstr(c.error, "malformed XML"));
    CHECK(json_array_size(c.docs) > 0 && json_array_size(c.docs) < 3000); /* complete records before the cut */
    lp_collect_free(&c);

    /* corrupt gzip data */
    snprintf(path, sizeof path, "%s/corrupt.xml.gz", dir);
    write_gz(path, x, n, 1);
    FILE *f = fopen(path, "r+b");
    fseek(f, 200, SEEK_SET);
    fwrite("garbagegarbagegarbage", 1, 21, f);
    fclose(f);
    lp_collect_file(&c, path, "corrupt.xml.gz", LP_FMT_UNKNOWN, NULL);
    CHECK(c.status == SL_ERR_PARSE);
    CHECK_CONTAINS(c.error, "corrupt.xml.gz");
    lp_collect_free(&c);
    free(x);
}

static void limits(void) {
    /* one record larger than the per-record limit fails cleanly */
    size_t n = 3 << 20;
    char *big = malloc(n + 512);
    size_t k = (size_t)sprintf(big, "<?xml version=\"1.0\"?>\n<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>7</PMID>"
                                    "<Article><ArticleTitle>");
    memset(big + k, 'a', n - k);
    k = n;
    k += (size_t)sprintf(big + k, "</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>\n");
    lp_options o = {0};
    o.header = -1;
    o.max_record_bytes = 1 << 20;
    lp_collected c;
    lp_collect_mem(&c, big, k, "huge.xml", LP_FMT_UNKNOWN, &o);
    CHECK(c.status == SL_ERR_RANGE);
    CHECK_CONTAINS(c.error, "huge.xml:");
    CHECK_CONTAINS(c.error, "per-record memory limit");
    lp_collect_free(&c);
    free(big);

    /* nesting deeper than libxml2's limit (256) is refused, not recursed into */
    size_t depth = 5000;
    char *deep = malloc(depth * 8 + 256);
    k = (size_t)sprintf(deep, "<?xml version=\"1.0\"?><article><body><sec>");
    for (size_t i = 0; i < depth; i++) k += (size_t)sprintf(deep + k, "<p>");
    lp_collect_mem(&c, deep, k, "deep.xml", LP_FMT_UNKNOWN, NULL);
    CHECK(c.status == SL_ERR_PARSE);
    CHECK_CONTAINS(c.error, "deep.xml:1:");
    lp_collect_free(&c);
    free(deep);

    /* binary data */
    unsigned char bin[4096];
    for (size_t i = 0; i < sizeof bin; i++) bin[i] = (unsigned char)(i * 131 + 7);
    lp_collect_mem(&c, (const char *)bin, sizeof bin, "blob.bin", LP_FMT_UNKNOWN, NULL);
    CHECK(c.status == SL_ERR_UNSUPPORTED);
    CHECK_CONTAINS(c.error, "blob.bin: unrecognised content");
    lp_collect_free(&c);
}

static void delimited_and_text(void) {
    /* a CSV with a header, quotes, a quoted newline, NULL and empty cells */
    const char *csv = "PMID,Year,Title,Abstract,Authors\n"
                      "11,2001,\"Fish oil, and you\",\"Line one.\nLine two, \"\"quoted\"\".\",Smith J; Doe A\n"
                      "12,NULL,Second,,\n";
    lp_collected c = parse_str(csv, "export.csv", LP_FMT_UNKNOWN);
    CHECK_MSG(c.status == SL_OK, "%s", c.error);
    CHECK_EQ_INT(json_array_size(c.docs), 2);
    json_t *d = json_array_get(c.docs, 0);
    CHECK_STR(jstr(d, "title"), "Fish oil, and you");
    CHECK_STR(jpath(d, "abstract.0.text"), "Line one. Line two, \"quoted\".");
    CHECK_EQ_INT(jlen(d, "abstract.0.sentences"), 2);
    CHECK_STR(jpath(d, "authors.1.family"), "Doe");
    CHECK_STR(jpath(d, "authors.1.given"), "A");
    d = json_array_get(c.docs, 1);
    CHECK(json_object_get(d, "year") == NULL);
    CHECK(json_object_get(d, "abstract") == NULL);
    CHECK(json_object_get(d, "authors") == NULL);
    lp_collect_free(&c);

    /* an unknown field in the mapping is refused by name */
    lp_options o = {0};
    o.header = -1;
    o.columns = "pmid=0,titel=2";
    lp_collect_mem(&c, "1|2|3\n", 6, "m.psv", LP_FMT_UNKNOWN, &o);
    CHECK(c.status == SL_ERR_INVALID);
    CHECK_CONTAINS(c.error, "unknown field 'titel'");
    lp_collect_free(&c);

    /* TSV with the mapping by header name */
    o.columns = "title=Heading,pmid=Id";
    lp_collect_mem(&c, "Id\tHeading\n5\tA heading\n", 23, "h.tsv", LP_FMT_UNKNOWN, &o);
    CHECK_MSG(c.status == SL_OK, "%s", c.error);
    CHECK_STR(jstr(json_array_get(c.docs, 0), "title"), "A heading");
    CHECK_STR(jstr(json_array_get(c.docs, 0), "id"), "pmid:5");
    lp_collect_free(&c);

    /* Markdown: the first heading is the title, later headings open sections */
    const char *md = "# A study of things\n\nIntro paragraph. It has two sentences.\n\n## Methods\n\nWe did it.\nOn two lines.\n";
    c = parse_str(md, "paper.md", LP_FMT_UNKNOWN);
    CHECK_MSG(c.status == SL_OK, "%s", c.error);
    d = json_array_get(c.docs, 0);
    CHECK_STR(jstr(d, "title"), "A study of things");
    CHECK_STR(jpath(d, "sections.1.title"), "Methods");
    CHECK_STR(jpath(d, "sections.1.paragraphs.0.text"), "We did it. On two lines.");
    CHECK_EQ_INT(jlen(d, "sections.0.paragraphs.0.sentences"), 2);
    lp_collect_free(&c);

    /* plain text: the first line is the title */
    c = parse_str("Plain title line\nBody text follows here.\n", "note.txt", LP_FMT_UNKNOWN);
    CHECK_STR(jstr(json_array_get(c.docs, 0), "title"), "Plain title line");
    CHECK_STR(jpath(json_array_get(c.docs, 0), "sections.0.paragraphs.0.text"), "Body text follows here.");
    lp_collect_free(&c);

    /* BibTeX: a broken entry is reported with file:line and the next one still parses */
    const char *bib = "@article{good1, title={First}, year=2001}\n@article{broken, title={Unclosed, year=2002\n\n"
                      "@article{good2, title={Second}, author={Knuth, Donald E. and van der Berg, Jan}, year=2003}\n";
    c = parse_str(bib, "lib.bib", LP_FMT_UNKNOWN);
    CHECK_MSG(c.status == SL_OK, "%s", c.error);
    CHECK(json_array_size(c.docs) >= 2);
    json_t *last = json_array_get(c.docs, json_array_size(c.docs) - 1);
    CHECK_STR(jstr(last, "title"), "Second");
    CHECK_STR(jpath(last, "authors.1.family"), "van der Berg");
    CHECK_CONTAINS(json_string_value(json_array_get(c.notes, 0)), "lib.bib:2:");
    lp_collect_free(&c);
}

int main(void) {
    malformed_xml();
    entity_attacks();
    bad_utf8();
    char *dir = fh_tmpdir();
    CHECK(dir != NULL);
    if (dir) {
        gzip_streams(dir);
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0);
        free(dir);
    }
    limits();
    delimited_and_text();
    return SL_TEST_DONE();
}
