/* xmlbuild.h — internal to the XML layer: the record-tree builder that both XML readers drive
 * (litparse's own UTF-8 reader in xmlscan.c and the libxml2 reader in xml.c). */
#ifndef LP_XMLBUILD_H
#define LP_XMLBUILD_H

#include <stdint.h>
#include "xml.h"

#define LPX_MAX_DEPTH 256

typedef struct lpx_state lpx_state;

/* Builder state for one parse. The reader fills `where`/`stop`/`driver` and calls the lpx_*
 * functions below; everything else is the builder's. */
struct lpx_state {
    const lp_xml_cfg *cfg;
    lp_xml_info *info;
    lp_source *src;
    void *driver;                                       /* the reader's own state */
    void (*where)(lpx_state *s, int *line, int *col);   /* position for messages */
    void (*stop)(lpx_state *s);                         /* ask the reader to stop */
    lp_arena arena;
    lp_buf text;          /* pending characters of the current text run */
    const char *borrow;   /* or: the run still in the reader's buffer (lpx_text_borrowed) */
    size_t borrow_n;
    unsigned text_line;
    int depth;            /* current element depth; the root is 1 */
    int rec_depth;        /* depth of record elements (1 or 2), 0 before the root */
    lp_node *cur;         /* innermost open element of the current record, or NULL */
    sl_status status;     /* first failure */
    int at_end;           /* the source is exhausted */
    int check_utf8;       /* validate UTF-8 as it is read */
    unsigned char carry[4]; /* the start of a UTF-8 sequence cut by a read boundary */
    size_t ncarry;
    uint64_t offset, lines; /* bytes and lines read so far */
    const char *open_name[LPX_MAX_DEPTH]; /* open elements (deeper nesting is refused) */
    unsigned open_line[LPX_MAX_DEPTH];
    const void *ckey[512];      /* classify() answers by interned name pointer */
    unsigned cval[512];
    char msg[1024];
    size_t limit;
};

/* Fail the parse (first failure wins) with "name:line:col: <fmt>" at the reader's position. */
void lpx_fail(lpx_state *s, sl_status st, const char *fmt, ...) SL_PRINTF(3, 4);
/* Fail with a complete message. */
void lpx_fail_msg(lpx_state *s, sl_status st, const char *msg);
/* Count a recoverable error (the document is still read); the first is kept as "name:line:col: msg". */
void lpx_recoverable(lpx_state *s, int line, int col, const char *msg);
/* An element starts. `localname` and `uri` must outlive the parse (interned); attribute names
 * too; attribute values are copied. */
void lpx_start(lpx_state *s, const char *localname, const char *uri, const lp_attr *attrs, unsigned nattrs, unsigned line);
/* The innermost element ends (a record's end hands the record to cfg->record). */
void lpx_end(lpx_state *s);
/* Characters of the current element (copied). */
void lpx_text(lpx_state *s, const char *ch, size_t len);
/* The same for characters in the reader's buffer, which are copied only when the run is complete
 * (the next tag) or at lpx_unborrow: the reader calls that before its buffer moves. */
void lpx_text_borrowed(lpx_state *s, const char *ch, size_t len);
/* Copy a borrowed text run out of the reader's buffer (which is about to move). */
void lpx_unborrow(lpx_state *s);
/* A reference to an entity the document does not declare: resolved from the built-in table, else
 * kept as "&name;" and counted. */
void lpx_reference(lpx_state *s, const char *name);
/* Read up to `len` bytes of the source, checking UTF-8 when check_utf8 is set (an invalid byte
 * fails the parse with its exact offset). Returns the count, 0 at the end, -1 on failure. */
long lpx_read(lpx_state *s, char *out, size_t len);

/* litparse's own reader for UTF-8 documents whose prolog holds no internal DTD subset.
 * Returns 0 when it parsed (s->status tells how it went), or -1 when the document needs the
 * libxml2 reader; it decides that from the peeked prolog before consuming anything. */
int lpx_scan(lpx_state *s);

#endif /* LP_XMLBUILD_H */
