/* flat.h — flatten mixed-content markup into one paragraph string with folded white space and
 * marked spans (citations), then hand it to a section with sentences and code-point offsets. */
#ifndef LP_FLAT_H
#define LP_FLAT_H

#include "doc.h"
#include "util.h"

typedef struct lp_mark {
    const char *ref, *type;
    size_t start, end;   /* byte offsets into the flattened text */
} lp_mark;

/* Scratch for building one paragraph at a time; zero-initialise, reuse, free with lp_flat_free. */
typedef struct lp_flat {
    lp_buf buf;
    int pending;         /* one space is owed before the next visible character */
    lp_mark *marks;
    size_t nmarks, cap;
    int err;             /* out of memory */
} lp_flat;

void lp_flat_reset(lp_flat *f);
/* Append text, folding runs of white space (and leading space) into one pending space. */
void lp_flat_text(lp_flat *f, const char *s, size_t n);
/* A word boundary (e.g. between block elements): a space unless one is already owed. */
void lp_flat_space(lp_flat *f);
/* Byte offset where the next visible character will go, and where the last one ended. */
size_t lp_flat_start(const lp_flat *f);
size_t lp_flat_end(const lp_flat *f);
/* Record a span [start, end) pointing at `ref` (ref/type must outlive the paragraph). */
void lp_flat_mark(lp_flat *f, const char *ref, const char *type, size_t start, size_t end);
/* Move the text into the arena as a new paragraph of `sec` (with sentences and the marks as
 * cites in code points) and reset. Returns 0, or -1 when memory ran out. Empty text adds nothing. */
int lp_flat_emit(lp_flat *f, lp_arena *a, lp_section *sec, lp_spans *spans);
/* The folded text as an arena string (NULL when empty) and reset. */
char *lp_flat_take(lp_flat *f, lp_arena *a);
void lp_flat_free(lp_flat *f);

#endif /* LP_FLAT_H */
