/* fuzz_xml.c — libFuzzer target: litparse's own XML reader and libxml2 must agree on every input:
 * both accept it or both refuse it, and without a DOCTYPE both build the same trees. */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "source.h"
#include "xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void dump(lp_buf *o, const lp_node *n) {
    if (!n->name) {
        lp_buf_add(o, "T", 1);
        lp_buf_add(o, n->text, n->len + 1); /* with its NUL: a separator no text holds */
        return;
    }
    lp_buf_adds(o, "<");
    lp_buf_add(o, n->name, strlen(n->name) + 1);
    lp_buf_add(o, n->ns ? n->ns : "", strlen(n->ns ? n->ns : "") + 1);
    for (unsigned i = 0; i < n->nattrs; i++) {
        lp_buf_add(o, n->attrs[i].name, strlen(n->attrs[i].name) + 1);
        lp_buf_add(o, n->attrs[i].value, strlen(n->attrs[i].value) + 1);
    }
    for (const lp_node *c = n->first; c; c = c->next) dump(o, c);
    lp_buf_adds(o, ">");
}

static sl_status on_record(void *user, lp_node *rec, lp_arena *arena) {
    (void)arena;
    dump(user, rec);
    return SL_OK;
}

static const char *const WRAPPERS[] = {"PubmedArticleSet", "feed", NULL};

static sl_status parse(const uint8_t *data, size_t size, lp_xml_reader reader, lp_buf *trees, lp_xml_info *info) {
    lp_source *src = NULL;
    if (lp_source_mem(data, size, "fuzz.xml", &src) != SL_OK) abort();
    lp_xml_cfg cfg = {WRAPPERS, on_record, trees, 1 << 20, NULL};
    sl_status st = lp_xml_parse_with(src, &cfg, info, reader);
    /* a refusal names the input */
    if (st != SL_OK && !strstr(sl_last_error(), "fuzz.xml")) abort();
    lp_source_close(src);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lp_buf own = {0}, ref = {0};
    lp_xml_info oi, ri;
    sl_status so = parse(data, size, LP_XML_AUTO, &own, &oi);
    sl_status sr = parse(data, size, LP_XML_LIBXML2, &ref, &ri);
    /* After a NUL byte libxml2 may stop reading, and whether it still sees a bad UTF-8 sequence
     * further on depends on how its reads fell: such inputs are only parsed, not compared. */
    if (memchr(data, 0, size)) so = sr;
    if ((so == SL_OK) != (sr == SL_OK)) abort();
    /* Trees are compared without a DOCTYPE: with one naming an external DTD, libxml2's SAX2 moves
     * a reference to an undeclared entity out of an attribute value into the element's text,
     * where litparse's reader (rightly) resolves it inside the value. */
    int doctype = memmem(data, size, "<!DOCTYPE", 9) != NULL;
    if (so == SL_OK && sr == SL_OK && !memchr(data, 0, size) && !doctype &&
        (own.n != ref.n || (own.n && memcmp(own.p, ref.p, own.n) != 0) || oi.records != ri.records ||
         oi.unknown_entities != ri.unknown_entities))
        abort();
    lp_buf_free(&own);
    lp_buf_free(&ref);
    return 0;
}
