/* xml.h — safe streaming XML reading: one small tree per record, no DTD or network. */
#ifndef LP_XML_H
#define LP_XML_H

#include <stddef.h>
#include <string.h>
#include <sciloop/status.h>
#include "source.h"
#include "util.h"

/* One attribute of an element (local name; the namespace prefix is dropped). */
typedef struct lp_attr {
    const char *name;
    const char *value;
} lp_attr;

/* A node of a record's tree: an element (name != NULL) or a text run (name == NULL).
 * Everything lives in the record's arena and is gone after the record callback returns. */
typedef struct lp_node lp_node;
struct lp_node {
    const char *name;   /* element local name, or NULL for text */
    const char *ns;     /* element namespace URI, or NULL */
    const char *text;   /* text nodes: the characters (entities resolved), NUL-terminated */
    size_t len;         /* text nodes: length of text in bytes */
    lp_attr *attrs;
    unsigned nattrs;
    unsigned line;      /* line of the start tag (or of the text) */
    unsigned flags;     /* elements: what lp_xml_cfg.classify said of the name (0 without one) */
    lp_node *parent, *first, *last, *next;
};

/* What a parse is told and tells back. */
typedef struct lp_xml_cfg {
    /* Root element names whose children are the records (e.g. "PubmedArticleSet", "feed");
     * NULL-terminated. Any other root is itself the one record. */
    const char *const *wrappers;
    /* Called for each record with its tree; the tree and everything allocated in `arena`
     * is released after it returns. Return SL_OK to go on; any other status stops the parse
     * and is returned (set the message first). */
    sl_status (*record)(void *user, lp_node *rec, lp_arena *arena);
    void *user;
    /* Most bytes one record may occupy in memory (tree + what the callback allocates);
     * 0 = 256 MiB. */
    size_t max_record_bytes;
    /* Optional: flags for an element local name, stored in lp_node.flags. Called once per
     * distinct name per parse (the answers are cached), so tree walkers test bits instead of
     * comparing strings. */
    unsigned (*classify)(const char *localname);
} lp_xml_cfg;

/* Results of a parse beyond its status. */
typedef struct lp_xml_info {
    const char *root;          /* local name of the root element (static copy, may be truncated) */
    char root_buf[64];
    size_t records;            /* records delivered */
    size_t unknown_entities;   /* references to entities outside the built-in table (kept as "&name;") */
    char first_unknown[64];    /* the first such name */
    size_t errors;             /* recoverable errors (e.g. an undeclared namespace prefix) */
    char first_error[600];     /* "name:line:col: message" of the first one */
} lp_xml_info;

/* Parse the source. Guarantees: no DTD, external entity or network access ever; documents that
 * declare entities in their DOCTYPE are refused (that is how XXE and "billion laughs" attacks
 * work); named character entities of the HTML5/MathML sets (&ndash; &alpha; ...) resolve from a
 * built-in table, as the JATS DTDs would define them; UTF-8 input is checked and an invalid byte
 * is reported with its byte offset; well-formedness errors stop the parse, recoverable errors
 * (namespace mistakes) are counted in `info`; memory is bounded (depth 256, at most 64 MiB for one
 * tag, comment or CDATA section, 32 MiB of distinct names) plus max_record_bytes. UTF-8 documents
 * are read by litparse's own reader, others by libxml2; both give the same trees. On failure the
 * message is "name:line:col: what was wrong". `info` may be NULL. */
sl_status lp_xml_parse(lp_source *src, const lp_xml_cfg *cfg, lp_xml_info *info);

/* Which XML reader lp_xml_parse_with uses. */
typedef enum lp_xml_reader {
    LP_XML_AUTO = 0,   /* litparse's own for UTF-8 without an internal DTD subset, else libxml2 */
    LP_XML_LIBXML2     /* libxml2 always (the differential tests compare the two) */
} lp_xml_reader;

/* lp_xml_parse with a choice of reader; both give the same trees and refuse the same documents. */
sl_status lp_xml_parse_with(lp_source *src, const lp_xml_cfg *cfg, lp_xml_info *info, lp_xml_reader reader);

/* The UTF-8 text of a named character reference ("ndash" -> "–"), or NULL. */
const char *lp_entity_lookup(const char *name);

/* --- tree helpers --- */

/* The first-byte test settles most mismatches without a call: tree walks test every element. */
static inline int lp_is(const lp_node *n, const char *name) {
    return n && n->name && n->name[0] == name[0] && strcmp(n->name, name) == 0;
}
/* First child element named `name` (NULL: any element), or NULL. */
lp_node *lp_child(const lp_node *n, const char *name);
/* Next sibling element after `c` named `name` (NULL: any), or NULL. */
lp_node *lp_next(const lp_node *c, const char *name);
/* Follow a '/'-separated path of child element names ("journal-meta/issn"). */
lp_node *lp_path(const lp_node *n, const char *path);
/* First descendant element named `name` in document order (not `n` itself), or NULL. */
lp_node *lp_find(const lp_node *n, const char *name);
/* Next element after `cur` in document order inside `root` named `name` (for walking all
 * descendants: for (x = lp_find(r, "p"); x; x = lp_find_next(r, x, "p"))). Does not descend
 * into `cur`'s children when `skip_children` is set. */
lp_node *lp_find_next(const lp_node *root, const lp_node *cur, const char *name, int skip_children);
/* Attribute value by local name, or NULL. */
const char *lp_attr_get(const lp_node *n, const char *name);
/* 1 when attribute `name` equals `value`. */
int lp_attr_is(const lp_node *n, const char *name, const char *value);
/* All descendant text concatenated, white space folded and trimmed; NULL when empty. */
char *lp_text(lp_arena *a, const lp_node *n);
/* Raw descendant text appended to `b` (no folding). 0 or -1 when out of memory. */
int lp_text_append(lp_buf *b, const lp_node *n);

#endif /* LP_XML_H */
