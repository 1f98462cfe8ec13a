/* test_xml_readers.c — litparse's own XML reader against libxml2: the same trees from every corpus
 * file, and the same verdict (and trees) on thousands of mutated documents, broken on purpose. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fake_host.h"
#include "sl_test.h"
#include "source.h"
#include "xml.h"

/* ---- a record tree as text, so two parses compare with strcmp ---- */

static void dump_node(lp_buf *o, const lp_node *n) {
    if (!n->name) {
        lp_buf_adds(o, "T[");
        lp_buf_add(o, n->text, n->len);
        lp_buf_adds(o, "]");
        return;
    }
    lp_buf_printf(o, "<%s{%s}", n->name, n->ns ? n->ns : "");
    for (unsigned i = 0; i < n->nattrs; i++) lp_buf_printf(o, " %s=[%s]", n->attrs[i].name, n->attrs[i].value);
    lp_buf_adds(o, ">");
    for (const lp_node *c = n->first; c; c = c->next) dump_node(o, c);
    lp_buf_adds(o, "</>");
}

static sl_status on_record(void *user, lp_node *rec, lp_arena *arena) {
    (void)arena;
    dump_node(user, rec);
    lp_buf_adds(user, "\n");
    return SL_OK;
}

typedef struct outcome {
    sl_status status;
    char error[600];
    lp_buf trees;
    lp_xml_info info;
} outcome;

static const char *const WRAPPERS[] = {"PubmedArticleSet", "MedlineCitationSet", "feed", NULL};

static void parse_mem(const char *data, size_t n, lp_xml_reader reader, outcome *o) {
    memset(o, 0, sizeof *o);
    lp_source *src = NULL;
    if (lp_source_mem(data, n, "doc.xml", &src) != SL_OK) {
        o->status = SL_ERR_INTERNAL;
        return;
    }
    lp_xml_cfg cfg = {WRAPPERS, on_record, &o->trees, 0, NULL};
    o->status = lp_xml_parse_with(src, &cfg, &o->info, reader);
    if (o->status != SL_OK) snprintf(o->error, sizeof o->error, "%s", sl_last_error());
    lp_source_close(src);
}

static int same(const outcome *a, const outcome *b) {
    if ((a->status == SL_OK) != (b->status == SL_OK)) return 0;
    /* both failed: where they stopped may differ (one may read further before noticing) */
    if (a->status != SL_OK) return 1;
    /* recoverable errors are not compared: libxml2 also checks the syntax of namespace URIs */
    return a->trees.n == b->trees.n && memcmp(a->trees.p, b->trees.p, a->trees.n) == 0 &&
           a->info.records == b->info.records && a->info.unknown_entities == b->info.unknown_entities;
}

static int differences;

static void compare(const char *what, const char *data, size_t n) {
    outcome own, ref;
    parse_mem(data, n, LP_XML_AUTO, &own);
    parse_mem(data, n, LP_XML_LIBXML2, &ref);
    if (!same(&own, &ref)) {
        const char *keep = getenv("LP_XML_DIFF_DIR"); /* write the inputs that differ there, to replay them */
        if (keep) {
            char path[4096];
            snprintf(path, sizeof path, "%s/diff-%d.xml", keep, differences);
            FILE *f = fopen(path, "wb");
            if (f) {
                fwrite(data, 1, n, f);
                fclose(f);
            }
        }
        if (differences++ < 40) {
            fprintf(stderr, "DIFFERENT on %s (%zu bytes)\n  own:     %s (%zu records, %zu recoverable)\n  libxml2: %s (%zu records, %zu recoverable)\n",
                    what, n, own.status == SL_OK ? "ok" : own.error, own.info.records, own.info.errors,
                    ref.status == SL_OK ? "ok" : ref.error, ref.info.records, ref.info.errors);
            size_t k = 0;
            while (k < own.trees.n && k < ref.trees.n && own.trees.p[k] == ref.trees.p[k]) k++;
            if (own.status == SL_OK && ref.status == SL_OK)
                fprintf(stderr, "  trees differ at byte %zu: own '%.80s' libxml2 '%.80s'\n", k, own.trees.p ? own.trees.p + k : "",
                        ref.trees.p ? ref.trees.p + k : "");
        }
    }
    lp_buf_free(&own.trees);
    lp_buf_free(&ref.trees);
}

/* ---- inputs ---- */

static char *read_all(const char *path, size_t *n) {
    lp_source *src = NULL;
    char *data = NULL;
    if (lp_source_open(path, NULL, &src) != SL_OK) return NULL;
    if (lp_source_slurp(src, (size_t)64 << 20, &data, n) != SL_OK) data = NULL;
    lp_source_close(src);
    return data;
}

typedef struct files {
    char **v;
    size_t n;
} files;

static void collect(files *f, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            collect(f, path);
            continue;
        }
        size_t l = strlen(e->d_name);
        int xml = (l > 4 && !strcmp(e->d_name + l - 4, ".xml")) || (l > 5 && !strcmp(e->d_name + l - 5, ".nxml")) ||
                  (l > 7 && !strcmp(e->d_name + l - 7, ".xml.gz"));
        if (!xml) continue;
        f->v = realloc(f->v, (f->n + 1) * sizeof *f->v);
        f->v[f->n++] = strdup(path);
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* ---- mutations ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char BYTES[] = "<>&\"'/= \r]:;#x!?-\x01\xEF[";
static const char *const SNIPPETS[] = {
    "&amp;", "&#0;", "&#x1F600;", "&#xD800;", "&#65;", "&ndash;", "&bogus;", "&#38;", "& ", "&;", "]]>", "<![CDATA[a<b&c]]>",
    "<![CDATA[", "<!-- a -- b -->", "<!-- ok -->", "<?pi x?>", "<?xml version='1.0'?>", "\r\n", "\r", "<a:b/>", "<p:x xmlns:p='u'/>",
    "<x xmlns:p='u' p:a='1' a='2'/>", "<x a='1' a='2'/>", "<x xmlns:p='u' xmlns:q='u' p:a='1' q:a='2'/>", "</wrong>",
    "<x xmlns=''/>", "<x xmlns:p=''/>", " xmlns:mml=\"http://www.w3.org/1998/Math/MathML\"", "<mml:math><mml:mi>x</mml:mi></mml:math>",
    "<x y='a\tb\nc'/>", "<x y='&lt;&#10;&#x9;'/>", "<x y='<'/>", "<x y=\"'\"/>", "<x\ty = 'v'\n/>", "<x/ >", "<1x/>", "<x 1a='v'/>",
    "<é/>", "<x é='v'/>", "<a:b:c/>", "<:x/>", "<x:/>", "<x xml:lang='en'/>", "\xEF\xBF\xBE", "\xEF\xBF\xBD", "<!DOCTYPE x>",
    "<x>", "</x>", "<x/>", "<?xml-stylesheet href='a'?>", "<!", "<!x>", "<?", "<?xml?>", "<x y='1'z='2'/>", "<x y/>", "<x y=1/>",
};

static void mutate_and_compare(const char *name, const char *data, size_t n, int count) {
    char *buf = malloc(n + 256);
    for (int m = 0; m < count; m++) {
        size_t len = n;
        memcpy(buf, data, n);
        int kind = (int)(next() % 4);
        size_t at = n ? (size_t)(next() % n) : 0;
        if (kind == 0) {
            len = at; /* truncated */
        } else if (kind == 1 && n) {
            buf[at] = BYTES[next() % (sizeof BYTES - 1)];
            /* inside a tag, not where it makes or changes an entity reference (see the comment
             * on references below) */
            size_t k = at;
            while (k > 0 && data[k - 1] != '<' && data[k - 1] != '>') k--;
            int in_tag = k > 0 && data[k - 1] == '<', near_ref = buf[at] == '&' || buf[at] == ';';
            for (size_t m = at; m > k && m + 12 > at && !near_ref; m--) near_ref = data[m - 1] == '&';
            if (in_tag && near_ref) buf[at] = data[at];
        } else if (kind == 2) {
            const char *s = SNIPPETS[next() % (sizeof SNIPPETS / sizeof *SNIPPETS)];
            size_t sl = strlen(s);
            if (s[0] == '&') {
                /* references go into text, not into tags: libxml2's SAX2 moves a reference to an
                 * undeclared entity out of an attribute value into the element's text, where
                 * litparse's reader (rightly) resolves it inside the value */
                size_t k = at;
                while (k > 0 && data[k - 1] != '<' && data[k - 1] != '>') k--;
                if (k > 0 && data[k - 1] == '<') {
                    while (at < n && data[at] != '>') at++;
                    if (at < n) at++;
                }
            }
            memmove(buf + at + sl, buf + at, n - at);
            memcpy(buf + at, s, sl);
            len = n + sl;
        } else if (n) {
            size_t k = (size_t)(next() % 64);
            if (at + k > n) k = n - at;
            memmove(buf + at, buf + at + k, n - at - k);
            len = n - k;
        }
        char what[512];
        snprintf(what, sizeof what, "%s, mutation %d (kind %d at byte %zu)", name, m, kind, at);
        compare(what, buf, len);
    }
    free(buf);
}

int main(void) {
    const char *src_dir = getenv("SCILOOP_SOURCE_DIR");
    /* LP_XML_SEED and LP_XML_ROUNDS explore further than the fixed run ctest makes */
    if (getenv("LP_XML_SEED")) rng = strtoull(getenv("LP_XML_SEED"), NULL, 10) | 1;
    int rounds = getenv("LP_XML_ROUNDS") ? atoi(getenv("LP_XML_ROUNDS")) : 1;
    const char *corpus = fh_corpus();
    files f = {0};
    char dir[4096];
    if (src_dir) {
        const char *seeds[] = {"jats", "medline", "atom", "tei"};
        for (size_t k = 0; k < 4; k++) {
            snprintf(dir, sizeof dir, "%s/tests/fuzz/litparse-%s/seeds", src_dir, seeds[k]);
            collect(&f, dir);
        }
    }
    size_t nseeds = f.n;
    if (corpus) {
        const char *sets[] = {"jats", "pubmed", "tei", "arxiv"};
        for (size_t k = 0; k < 4; k++) {
            snprintf(dir, sizeof dir, "%s/%s", corpus, sets[k]);
            collect(&f, dir);
        }
    } else {
        fprintf(stderr, "SCILOOP_SHARED_DIR/corpus not found: only the committed seeds are compared\n");
    }
    CHECK_MSG(f.n > 0, "no XML files found (SCILOOP_SOURCE_DIR unset?)");
    qsort(f.v + nseeds, f.n - nseeds, sizeof *f.v, cmp_str);

    size_t whole = 0, mutated = 0;
    for (size_t i = 0; i < f.n; i++) {
        size_t n = 0;
        char *data = read_all(f.v[i], &n);
        CHECK_MSG(data != NULL, "cannot read %s", f.v[i]);
        if (!data) continue;
        compare(f.v[i], data, n);
        whole++;
        /* small files are mutated many times; large ones a few (each parse reads the whole file) */
        int count = (n < 64 * 1024 ? 150 : n < 512 * 1024 ? 10 : 0) * (rounds > 0 ? rounds : 1);
        mutate_and_compare(f.v[i], data, n, count);
        mutated += (size_t)count;
        free(data);
    }
    fprintf(stderr, "%zu files and %zu mutants compared, %d differences\n", whole, mutated, differences);
    CHECK_EQ_INT(differences, 0);
    for (size_t i = 0; i < f.n; i++) free(f.v[i]);
    free(f.v);
    return SL_TEST_DONE();
}
