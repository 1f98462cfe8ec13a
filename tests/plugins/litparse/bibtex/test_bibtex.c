/* test_bibtex.c — the BibTeX parser: syntax, macros, LaTeX to Unicode, names, crossref, diagnostics, limits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bibtex.h"
#include "latex.h"
#include "sl_test.h"

static lp_bib *parse(const char *text)
{
    lp_bib *b = NULL;
    sl_status st = lp_bib_parse(text, strlen(text), "t.bib", NULL, &b);
    CHECK_EQ_INT(st, SL_OK);
    return b;
}

/* The diagnostic messages joined by "\n" (static buffer) for CHECK_CONTAINS. */
static const char *diags(const lp_bib *b)
{
    static char buf[8192];
    size_t o = 0;
    buf[0] = '\0';
    for (size_t k = 0; b && k < b->ndiags && o < sizeof buf; k++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", b->diags[k].message, "\n");
    return buf;
}

static const char *tex(const char *in)
{
    static char *last;
    free(last);
    last = NULL;
    CHECK_EQ_INT(lp_latex_to_utf8(in, strlen(in), LP_LATEX_TEXT, &last, NULL), SL_OK);
    return last;
}

static void test_entries(void)
{
    lp_bib *b = parse("% a comment line\n"
                      "@Article{Knuth84,\n"
                      "  Author = {Knuth, Donald E.},\n"
                      "  TITLE  = \"Literate {P}rogramming\",\n"
                      "  year   = 1984,\n"
                      "  journal= {The Computer Journal},\n"
                      "}\n"
                      "text between entries is ignored, even an e-mail like a@b.org\n"
                      "@techreport(MIT72, title = {Report}, institution = {MIT})\n"
                      "@misc{nofields}\n");
    CHECK_EQ_INT(b->nentries, 3);
    if (b->nentries == 3) {
        lp_bib_entry *e = &b->entries[0];
        CHECK_STR(e->type, "article");
        CHECK_STR(e->key, "Knuth84");
        CHECK_EQ_INT(e->line, 2);
        CHECK_EQ_INT(e->nfields, 4);
        CHECK_STR(e->fields[0].name, "author");
        CHECK_EQ_INT(e->fields[1].line, 4);
        CHECK_STR(lp_bib_entry_get(e, "title"), "Literate Programming");
        CHECK_STR(lp_bib_entry_field(e, "title")->raw, "Literate {P}rogramming");
        CHECK_STR(lp_bib_entry_get(e, "year"), "1984");
        CHECK_EQ_INT(lp_bib_entry_year(e), 1984);
        CHECK(lp_bib_entry_get(e, "volume") == NULL);
        CHECK_STR(lp_bib_item_type(e), "journalArticle");
        CHECK_STR(b->entries[1].type, "techreport");
        CHECK_STR(lp_bib_entry_get(&b->entries[1], "institution"), "MIT");
        CHECK_STR(lp_bib_item_type(&b->entries[1]), "report");
        CHECK_EQ_INT(b->entries[2].nfields, 0);
    }
    CHECK_CONTAINS(diags(b), "t.bib:10:1: entry 'nofields' has no fields");
    CHECK(b->preamble == NULL);
    lp_bib_destroy(b);
}

static void test_macros(void)
{
    lp_bib *b = parse("@String{ACM = \"Association for Computing Machinery\"}\n"
                      "@STRING(j = {J. } # ACM)\n"
                      "@string{acm = {ACM (redefined)}}\n"
                      "@preamble{\"\\newcommand{\\noop}[1]{}\" # \" more\"}\n"
                      "@comment{ @article{hidden, title = {not an entry}} }\n"
                      "%@article{commented, title = {also not an entry}}\n"
                      "@book{b1, publisher = ACM, journal = j, month = dec, note = jan # {~1} # \"st\",\n"
                      "  series = undefinedmacro, year = {19} # 99}\n");
    CHECK_EQ_INT(b->nentries, 1);
    if (b->nentries == 1) {
        lp_bib_entry *e = &b->entries[0];
        CHECK_STR(lp_bib_entry_get(e, "publisher"), "ACM (redefined)");
        CHECK_STR(lp_bib_entry_get(e, "journal"), "J. Association for Computing Machinery");
        CHECK_STR(lp_bib_entry_get(e, "month"), "December");
        CHECK_STR(lp_bib_entry_get(e, "note"), "January\xc2\xa0" "1st");
        CHECK_STR(lp_bib_entry_get(e, "series"), "undefinedmacro");
        CHECK_STR(lp_bib_entry_get(e, "year"), "1999");
    }
    CHECK_STR(b->preamble, "\\newcommand{\\noop}[1]{} more");
    CHECK_CONTAINS(diags(b), "t.bib:8:12: undefined macro 'undefinedmacro' in field 'series'");
    lp_bib_destroy(b);
}

static void test_latex(void)
{
    CHECK_STR(tex("Schr\\\"odinger and {\\\"U}ber, G\\\"{o}del, Erd\\H{o}s"),
              "Schrödinger and Über, Gödel, Erdős");
    CHECK_STR(tex("{\\c C}a{\\c c}\\~ao, \\v{S}koda, \\k{a}, Ant\\'{o}nio, na\\\"{\\i}ve, \\'\\i"),
              "Çação, Škoda, ą, António, naïve, í");
    CHECK_STR(tex("Stra\\ss e, \\O{}re, \\aa, \\AE, \\oe, \\L\\'od\\'z, \\i"),
              "Straße, Øre, å, Æ, œ, Łódź, ı");
    CHECK_STR(tex("pages 1--10 --- ``quoted'' \\& 5\\% \\$3 \\#1 a\\_b"),
              "pages 1–10 — “quoted” & 5% $3 #1 a_b");
    CHECK_STR(tex("$\\alpha$-helix, H$_2$O, $^{63}$Cu, $\\pm 2\\sigma$, $x^2$, $\\langle 001 \\rangle$"),
              "α-helix, H₂O, ⁶³Cu, ±2σ, x², ⟨001⟩");
    CHECK_STR(tex("\\emph{Drosophila} \\textbf{bold} {\\it old} {\\sc Conniver} \\textsuperscript{th}"),
              "Drosophila bold old Conniver th");
    CHECK_STR(tex("\\href{https://x.org}{the site} and \\url{https://y.org}"), "the site and https://y.org");
    CHECK_STR(tex("\\mkbibquote{Quoted} \\enquote{this}"), "“Quoted” “this”");
    CHECK_STR(tex("  two\n  lines\t joined  \n\n  new paragraph  "), "two lines joined\n\nnew paragraph");
    CHECK_STR(tex("\\~{} \\^{} \\unknowncommand{kept} \\relax end\\\\next"), "~ ^ kept end next");
    CHECK_STR(tex("{{nested {braces}}} and unbalanced } here {"), "nested braces and unbalanced here");
    CHECK_STR(tex("Cu$_{2-\\delta}$O and Fe$_{0.5}$"), "Cu2-δO and Fe0.5");
    CHECK_STR(tex("$\\bar{1}$ and \\MakeUppercase{up} $x_{12}^{+}$"), "1\xcc\x85 and UP x₁₂⁺");
    char *v = NULL;
    const char *url = "{https://example.org/~user/a\\_b--c\\%20}";
    CHECK_EQ_INT(lp_latex_to_utf8(url, strlen(url), LP_LATEX_VERBATIM, &v, NULL), SL_OK);
    CHECK_STR(v, "https://example.org/~user/a_b--c%20");
    free(v);
    const char *path = "\\url{https://x.org/a\\#b} C:\\Users\\me now";
    CHECK_EQ_INT(lp_latex_to_utf8(path, strlen(path), LP_LATEX_VERBATIM, &v, NULL), SL_OK);
    CHECK_STR(v, "https://x.org/a#b C:\\Users\\me now");
    free(v);
    size_t n = 99;
    CHECK_EQ_INT(lp_latex_to_utf8("", 0, LP_LATEX_TEXT, &v, &n), SL_OK);
    CHECK_STR(v, "");
    CHECK_EQ_INT(n, 0);
    free(v);
    CHECK_EQ_INT(lp_latex_to_utf8(NULL, 3, LP_LATEX_TEXT, &v, NULL), SL_ERR_INVALID);
}

/* Check the i-th name of a list. */
static void name_is(const lp_bib_name *nm, const char *given, const char *von, const char *family,
                    const char *suffix)
{
    CHECK_STR(nm->family, family);
    if (given) CHECK_STR(nm->given, given); else CHECK(nm->given == NULL);
    if (von) CHECK_STR(nm->von, von); else CHECK(nm->von == NULL);
    if (suffix) CHECK_STR(nm->suffix, suffix); else CHECK(nm->suffix == NULL);
}

static void test_names(void)
{
    const char *list = "Knuth, Donald E. and Ludwig van Beethoven AND van Beethoven, Ludwig and "
                       "de la Fontaine, Jean and Costa, Jr., P. T. and {World Health Organization} and "
                       "{\\'E}mile Zola and Aristotle and Jean-Paul Sartre and Brise\\~no-Garc\\'ia, M. and "
                       "Charles Louis Xavier Joseph de la Vall{\\'e}e Poussin and {Barnes and Noble} and "
                       "family=Smith, given=John, prefix=von and J.~R.~R. Tolkien and others";
    lp_bib_name *nm = NULL;
    size_t n = 0;
    int et_al = 0;
    CHECK_EQ_INT(lp_bib_names_parse(list, strlen(list), 0, &nm, &n, &et_al), SL_OK);
    CHECK_EQ_INT(n, 14);
    CHECK_EQ_INT(et_al, 1);
    if (n == 14) {
        name_is(&nm[0], "Donald E.", NULL, "Knuth", NULL);
        name_is(&nm[1], "Ludwig", "van", "Beethoven", NULL);
        name_is(&nm[2], "Ludwig", "van", "Beethoven", NULL);
        name_is(&nm[3], "Jean", "de la", "Fontaine", NULL);
        name_is(&nm[4], "P. T.", NULL, "Costa", "Jr.");
        name_is(&nm[5], NULL, NULL, "World Health Organization", NULL);
        CHECK_EQ_INT(nm[5].literal, 1);
        CHECK_EQ_INT(nm[0].literal, 0);
        name_is(&nm[6], "Émile", NULL, "Zola", NULL);
        name_is(&nm[7], NULL, NULL, "Aristotle", NULL);
        name_is(&nm[8], "Jean-Paul", NULL, "Sartre", NULL);
        name_is(&nm[9], "M.", NULL, "Briseño-García", NULL);
        name_is(&nm[10], "Charles Louis Xavier Joseph", "de la", "Vallée Poussin", NULL);
        name_is(&nm[11], NULL, NULL, "Barnes and Noble", NULL);
        name_is(&nm[12], "John", "von", "Smith", NULL);
        name_is(&nm[13], "J. R. R.", NULL, "Tolkien", NULL);
    }
    lp_bib_names_free(nm, n);
    /* fragments that are not names: empty parts, a lone suffix */
    CHECK_EQ_INT(lp_bib_names_parse("{}, Jr, {} and , and Doe", 24, 0, &nm, &n, NULL), SL_OK);
    CHECK_EQ_INT(n, 1);
    if (n == 1) CHECK_STR(nm[0].family, "Doe");
    lp_bib_names_free(nm, n);
    CHECK_EQ_INT(lp_bib_names_parse("", 0, 0, &nm, &n, NULL), SL_OK);
    CHECK(nm == NULL && n == 0);
    CHECK_EQ_INT(lp_bib_names_parse("A and B and C", 13, 2, &nm, &n, NULL), SL_ERR_RANGE);
    CHECK(nm == NULL && n == 0);
    lp_bib_names_free(NULL, 0);

    lp_bib *b = parse("@book{k, author = {Doe, J.}, editor = {Roe, R. and others},\n"
                      " translator = {Poe, E. A.}, holder = {{ACME Corp.}}}\n");
    if (b->nentries == 1) {
        const lp_bib_entry *e = &b->entries[0];
        CHECK_EQ_INT(e->nnames, 4);
        CHECK_EQ_INT(e->nauthors, 1);
        CHECK_EQ_INT(e->neditors, 1);
        CHECK_EQ_INT(e->editors_et_al, 1);
        CHECK_EQ_INT(e->authors_et_al, 0);
        CHECK_STR(e->authors[0].family, "Doe");
        const lp_bib_names *tr = lp_bib_entry_names(e, "translator");
        CHECK(tr && tr->n == 1 && strcmp(tr->names[0].given, "E. A.") == 0);
        const lp_bib_names *h = lp_bib_entry_names(e, "holder");
        CHECK(h && h->n == 1 && h->names[0].literal);
        CHECK(lp_bib_entry_names(e, "director") == NULL);
    }
    lp_bib_destroy(b);
}

static void test_crossref(void)
{
    lp_bib *b = parse("@inproceedings{child, author = {A. Author}, title = {Paper}, crossref = {Proc21}, pages = {1--2}}\n"
                      "@proceedings{proc21, title = {Proceedings of X}, subtitle = {Sub}, year = 2021,\n"
                      "  editor = {E. Ditor}, publisher = {P}, pages = {1--999}, shorttitle = {PX}}\n"
                      "@incollection{orphan, title = {T}, crossref = {missing}}\n"
                      "@inbook{grandchild, title = {Ch}, crossref = {mid}}\n"
                      "@book{mid, title = {Mid}, crossref = {proc21}}\n"
                      "@article{loop1, title = {L1}, crossref = {loop2}}\n"
                      "@article{loop2, title = {L2}, crossref = {loop1}, volume = 3}\n");
    CHECK_EQ_INT(b->nentries, 7);
    if (b->nentries == 7) {
        const lp_bib_entry *c = &b->entries[0];
        CHECK_STR(lp_bib_entry_get(c, "title"), "Paper");
        CHECK_STR(lp_bib_entry_get(c, "booktitle"), "Proceedings of X");
        CHECK_STR(lp_bib_entry_get(c, "booksubtitle"), "Sub");
        CHECK_STR(lp_bib_entry_get(c, "pages"), "1–2");
        CHECK_STR(lp_bib_entry_get(c, "publisher"), "P");
        CHECK(lp_bib_entry_get(c, "shorttitle") == NULL);
        CHECK_EQ_INT(lp_bib_entry_year(c), 2021);
        CHECK_EQ_INT(lp_bib_entry_field(c, "publisher")->inherited, 1);
        CHECK_EQ_INT(lp_bib_entry_field(c, "title")->inherited, 0);
        CHECK_EQ_INT(c->neditors, 1);
        const lp_bib_entry *g = &b->entries[3];
        CHECK_STR(lp_bib_entry_get(g, "booktitle"), "Mid");
        CHECK_STR(lp_bib_entry_get(g, "publisher"), "P");     /* from the grandparent */
        CHECK_STR(lp_bib_entry_get(&b->entries[5], "volume"), "3");
        CHECK_STR(lp_bib_entry_get(&b->entries[5], "title"), "L1");
        CHECK_STR(lp_bib_item_type(c), "conferencePaper");
        CHECK_STR(lp_bib_item_type(&b->entries[1]), "book");
    }
    CHECK_CONTAINS(diags(b), "t.bib:4:1: entry 'orphan': crossref 'missing' not found");
    lp_bib_destroy(b);
}

static void test_diagnostics(void)
{
    /* each broken entry is reported and the next one still parses */
    lp_bib *b = parse("@article{ok1, title = {One}}\n"
                      "@article{nocomma title = {x}}\n"
                      "@article{unterminated, title = {never closed,\n"
                      "  year = 2000,\n"
                      "@article{ok2, title = {Two}}\n"
                      "@article{noequals, title {x}}\n"
                      "@article{badvalue, title = ,}\n"
                      "@article{missingcomma, title = {A} year = 2001}\n"
                      "@article{dup, title = {First}, Title = {Second}}\n"
                      "@article{, title = {No key}}\n"
                      "@article{quoted, title = \"oops } brace\"}\n"
                      "@article{ok3, title = {Three}}\n"
                      "@article{open, title = {x}\n");
    const char *d = diags(b);
    CHECK_CONTAINS(d, "t.bib:2:18: entry 'nocomma': expected ',' after the citation key, found 't'");
    CHECK_CONTAINS(d, "t.bib:3:32: unterminated value of field 'title': a new entry starts at line 5");
    CHECK_CONTAINS(d, "t.bib:6:26: entry 'noequals': expected '=' after field name 'title', found '{'");
    CHECK_CONTAINS(d, "t.bib:7:28: expected a value for field 'title', found ','");
    CHECK_CONTAINS(d, "entry 'missingcomma': missing ',' after field 'title'");
    CHECK_CONTAINS(d, "t.bib:9:1: entry 'dup': duplicate field 'title' ignored (the first, at line 9, is kept)");
    CHECK_CONTAINS(d, "t.bib:10:1: @article entry has no citation key");
    CHECK_CONTAINS(d, "unbalanced '}' in quoted value of field 'title'");
    CHECK_CONTAINS(d, "t.bib:13:1: entry 'open' is never closed");
    const char *want[] = {"ok1", "ok2", "missingcomma", "dup", "", "ok3"};
    CHECK_EQ_INT(b->nentries, 6);
    for (size_t k = 0; k < b->nentries && k < 6; k++) CHECK_STR(b->entries[k].key, want[k]);
    if (b->nentries == 6) {
        CHECK_STR(lp_bib_entry_get(&b->entries[2], "year"), "2001");
        CHECK_STR(lp_bib_entry_get(&b->entries[3], "title"), "First");
    }
    size_t errors = 0;
    for (size_t k = 0; k < b->ndiags; k++) errors += b->diags[k].is_error;
    CHECK_EQ_INT(errors, 6);
    lp_bib_destroy(b);

    /* CRLF and CR line ends count lines; a BOM is skipped; diagnostics name the file */
    b = parse("\xef\xbb\xbf@article{a,\r\n title = {x}}\r\n\r\n@article{b c}\r@article{d, x = y}\n");
    d = diags(b);
    CHECK_CONTAINS(d, "t.bib:4:12: entry 'b': expected ',' after the citation key, found 'c'");
    CHECK_CONTAINS(d, "t.bib:5:17: undefined macro 'y'");
    CHECK_EQ_INT(b->nentries, 2);
    if (b->nentries == 2) CHECK_EQ_INT(b->entries[1].line, 5);
    lp_bib_destroy(b);

    /* Latin-1 input is read as Windows-1252 and reported once */
    b = parse("@book{l1, title = {Caf\xe9 \x93quoted\x94}, author = {M\xfcller, J\xf6rg}}\n");
    CHECK_CONTAINS(diags(b), "t.bib:1:23: not valid UTF-8 (first bad byte 0xE9 at offset 22)");
    if (b->nentries == 1) {
        CHECK_STR(lp_bib_entry_get(&b->entries[0], "title"), "Café “quoted”");
        CHECK_STR(b->entries[0].authors[0].family, "Müller");
    }
    lp_bib_destroy(b);

    /* no input, and bad arguments */
    lp_bib *e = NULL;
    CHECK_EQ_INT(lp_bib_parse("", 0, NULL, NULL, &e), SL_OK);
    CHECK(e && e->nentries == 0 && e->ndiags == 0);
    lp_bib_destroy(e);
    CHECK_EQ_INT(lp_bib_parse(NULL, 0, NULL, NULL, &e), SL_OK);
    lp_bib_destroy(e);
    CHECK_EQ_INT(lp_bib_parse("x", 1, NULL, NULL, NULL), SL_ERR_INVALID);
    CHECK_EQ_INT(lp_bib_parse(NULL, 5, NULL, NULL, &e), SL_ERR_INVALID);
    CHECK(e == NULL);
    CHECK_EQ_INT(lp_bib_parse("@book{x, title={y}}", 19, NULL, NULL, &e), SL_OK);
    CHECK(e->nentries == 1);
    lp_bib_destroy(e);
    lp_bib_destroy(NULL);
}

static void test_limits(void)
{
    lp_bib_limits lim = {0};
    lim.max_depth = 8;
    lim.max_value_bytes = 1000;
    lim.max_expand_bytes = 5000;
    lim.max_entries = 3;
    lim.max_diags = 4;
    lim.max_names = 2;
    char text[20000];
    size_t o = 0;
    o += (size_t)snprintf(text + o, sizeof text - o, "@article{deep, title = {{{{{{{{{{x}}}}}}}}}}}\n");
    o += (size_t)snprintf(text + o, sizeof text - o, "@article{long, title = {");
    for (int k = 0; k < 1200; k++) text[o++] = 'a';
    o += (size_t)snprintf(text + o, sizeof text - o, "}}\n@string{s0 = {0123456789}}\n");
    for (int k = 1; k < 12; k++)     /* each macro doubles the last: 10 * 2^11 bytes */
        o += (size_t)snprintf(text + o, sizeof text - o, "@string{s%d = s%d # s%d}\n", k, k - 1, k - 1);
    o += (size_t)snprintf(text + o, sizeof text - o, "@article{bomb, title = s11}\n"
                          "@article{names, author = {A and B and C}}\n"
                          "@article{e1, title = {1}}\n@article{e2, title = {2}}\n@article{e3, title = {3}}\n");
    lp_bib *b = NULL;
    CHECK_EQ_INT(lp_bib_parse(text, o, "lim.bib", &lim, &b), SL_OK);
    const char *d = diags(b);
    CHECK_CONTAINS(d, "lim.bib:1:32: braces in field 'title' nested deeper than 8");
    CHECK_CONTAINS(d, "value of field 'title' is longer than 1000 bytes");
    CHECK_CONTAINS(d, "exceeds the size limit");
    CHECK_EQ_INT(b->ndiags, 4);
    CHECK(b->ndiags_dropped >= 2);
    CHECK_EQ_INT(b->nentries, 3);                         /* max_entries */
    if (b->nentries == 3) {
        CHECK_STR(b->entries[0].key, "bomb");
        CHECK(strlen(lp_bib_entry_get(&b->entries[0], "title")) <= 1000);
        CHECK_STR(b->entries[1].key, "names");
        CHECK_EQ_INT(b->entries[1].nauthors, 0);          /* over max_names: not parsed */
        CHECK_STR(b->entries[2].key, "e1");
    }
    lp_bib_destroy(b);

    /* deep nesting with the default limit is an error, never a stack overflow */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 64);
    o = (size_t)sprintf(deep, "@article{d, title = ");
    memset(deep + o, '{', depth);
    memset(deep + o + depth, '}', depth);
    o += 2 * depth;
    o += (size_t)sprintf(deep + o, "}\n@article{after, title = {ok}}\n");
    CHECK_EQ_INT(lp_bib_parse(deep, o, "deep.bib", NULL, &b), SL_OK);
    CHECK_CONTAINS(diags(b), "nested deeper than 64");
    CHECK_EQ_INT(b->nentries, 1);
    lp_bib_destroy(b);
    /* and the LaTeX converter alone copes with it too */
    char *out = NULL;
    CHECK_EQ_INT(lp_latex_to_utf8(deep, o, LP_LATEX_TEXT, &out, NULL), SL_OK);
    free(out);
    free(deep);
}

/* Input shapes that would be quadratic or explode memory in a naive parser; they must finish
 * quickly (the ctest timeout catches a regression) with bounded output. */
static void test_hostile(void)
{
    size_t cap = 16u << 20, o = 0;
    char *t = malloc(cap);
    lp_bib *b = NULL;
    /* one parent with a 1 MB field, 3,000 children: inheritance must stop at the budget */
    o = (size_t)sprintf(t, "@book{parent, title = {P}, note = {");
    memset(t + o, 'x', 1u << 20);
    o += 1u << 20;
    o += (size_t)sprintf(t + o, "}}\n");
    for (int k = 0; k < 3000; k++) o += (size_t)sprintf(t + o, "@inbook{c%d, crossref = {parent}}\n", k);
    CHECK_EQ_INT(lp_bib_parse(t, o, "amp.bib", NULL, &b), SL_OK);
    CHECK_CONTAINS(diags(b), "inheritance stopped");
    size_t copied = 0;
    for (size_t k = 0; k < b->nentries; k++)
        for (size_t f = 0; f < b->entries[k].nfields; f++)
            if (b->entries[k].fields[f].inherited) copied += strlen(b->entries[k].fields[f].raw);
    CHECK(copied <= ((size_t)64 << 20) + 4 * o);
    lp_bib_destroy(b);
    /* a value holding millions of line breaks, a line of '@', a field-name bomb */
    o = (size_t)sprintf(t, "@article{nl, abstract = {");
    memset(t + o, '\n', 4u << 20);
    o += 4u << 20;
    o += (size_t)sprintf(t + o, "}}\n");
    memset(t + o, '@', 2u << 20);
    o += 2u << 20;
    o += (size_t)sprintf(t + o, "\n@article{many,");
    for (int k = 0; k < 200000 && o < cap - 64; k++) o += (size_t)sprintf(t + o, "f%d={},", k % 50000);
    o += (size_t)sprintf(t + o, "}\n@article{last, title = {ok}}\n");
    CHECK_EQ_INT(lp_bib_parse(t, o, "big.bib", NULL, &b), SL_OK);
    CHECK_EQ_INT(b->nentries, 3);
    if (b->nentries == 3) {
        CHECK_EQ_INT(b->entries[1].nfields, 50000);      /* duplicates dropped, with warnings */
        CHECK_STR(b->entries[2].key, "last");
    }
    CHECK_EQ_INT(b->ndiags, 10000);
    CHECK_EQ_INT(b->ndiags_dropped, 150000 - 10000);
    lp_bib_destroy(b);
    free(t);
}

static void test_helpers(void)
{
    lp_bib *b = parse("@book{t1, title = {Main}, subtitle = {Sub}, titleaddon = {Addon}, date = {2019-05-01/2020}}\n"
                      "@proceedings{t2, booktitle = {Only Booktitle}, date = {circa 1990}}\n"
                      "@book{t3, title = {Chapter}, booktitle = {The Book}, year = {c. 1887 (reprint 1990)}}\n"
                      "@misc{t4, note = {no title}}\n"
                      "@video{t5, entrysubtype = {film}, title = {F}}\n"
                      "@article{t6, entrysubtype = {magazine}}\n"
                      "@online{t7, title = {W}}\n"
                      "@whatever{t8, title = {X}}\n");
    CHECK_EQ_INT(b->nentries, 8);
    if (b->nentries == 8) {
        char *t = lp_bib_entry_title(&b->entries[0]);
        CHECK_STR(t, "Main: Sub. Addon");
        free(t);
        t = lp_bib_entry_title(&b->entries[1]);
        CHECK_STR(t, "Only Booktitle");
        free(t);
        CHECK(lp_bib_entry_title(&b->entries[3]) == NULL);
        CHECK_EQ_INT(lp_bib_entry_year(&b->entries[0]), 2019);
        CHECK_EQ_INT(lp_bib_entry_year(&b->entries[1]), 0);      /* a date must start with the year */
        CHECK_EQ_INT(lp_bib_entry_year(&b->entries[2]), 1887);
        CHECK_STR(lp_bib_item_type(&b->entries[1]), "book");
        CHECK_STR(lp_bib_item_type(&b->entries[2]), "bookSection");
        CHECK_STR(lp_bib_item_type(&b->entries[3]), "document");
        CHECK_STR(lp_bib_item_type(&b->entries[4]), "film");
        CHECK_STR(lp_bib_item_type(&b->entries[5]), "magazineArticle");
        CHECK_STR(lp_bib_item_type(&b->entries[6]), "webpage");
        CHECK_STR(lp_bib_item_type(&b->entries[7]), "document");
    }
    lp_bib_destroy(b);
    CHECK(lp_bib_entry_get(NULL, "x") == NULL);
    CHECK(lp_bib_entry_names(NULL, "author") == NULL);
    CHECK(lp_bib_entry_title(NULL) == NULL);
    CHECK_EQ_INT(lp_bib_entry_year(NULL), 0);
}

int main(void)
{
    test_entries();
    test_macros();
    test_latex();
    test_names();
    test_crossref();
    test_diagnostics();
    test_limits();
    test_hostile();
    test_helpers();
    tex("");
    return SL_TEST_DONE();
}
