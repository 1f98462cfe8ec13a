/* sentences.h — split a UTF-8 paragraph into sentences: rule-based, linear time, no global state. */
#ifndef LP_SENTENCES_H
#define LP_SENTENCES_H

#include <stddef.h>
#include <sciloop/status.h>

/* One sentence of a paragraph, as half-open ranges [start, end) into the paragraph text.
 *
 * Spans are trimmed: they never begin or end with white space (ASCII space, tab, CR, LF, FF,
 * VT, U+00A0 NO-BREAK SPACE and the other Unicode space separators U+2000..U+200B, U+202F,
 * U+205F, U+3000). Spans are in text order and never overlap; text between spans is white space
 * only. A sentence's text is exactly `text + start` for `end - start` bytes, so a span can be
 * cut out without copying.
 *
 * `cp_start`/`cp_end` are the same boundaries counted in Unicode code points from the start of
 * the paragraph (what JSON consumers in Python or JavaScript-with-code-points index by). A byte
 * that is not part of a well-formed UTF-8 sequence counts as one code point, as a decoder that
 * replaces it with U+FFFD would count it. */
typedef struct lp_span {
    size_t start;     /* byte offset of the first byte of the sentence */
    size_t end;       /* byte offset one past the last byte */
    size_t cp_start;  /* code-point offset of the first character */
    size_t cp_end;    /* code-point offset one past the last character */
} lp_span;

/* A growable array of spans. Zero-initialise it (`lp_spans s = {0};`) before the first use;
 * lp_sentences_split appends to it, so one array can be reused across paragraphs after setting
 * `n = 0` (the memory is kept). Free it with lp_spans_free. Not shared between threads. */
typedef struct lp_spans {
    lp_span *v;   /* n spans, owned by the array (realloc'd as it grows) */
    size_t n;     /* spans in use */
    size_t cap;   /* spans allocated */
} lp_spans;

/* Split `text` (`len` bytes of UTF-8; need not be NUL-terminated; may contain NUL bytes, which
 * are treated as ordinary characters) into sentences and APPEND one span per sentence to `out`.
 * A paragraph that is empty or only white space yields no span; a paragraph with no sentence
 * boundary yields one span covering the whole trimmed text.
 *
 * What it keeps together (a period there is not a boundary): abbreviations (titles such as
 * "Dr.", "Prof.", "Mr.", "St."; "et al.", "e.g.", "i.e.", "cf.", "vs.", "approx.", "Fig." /
 * "Figs." / "Eq." / "Ref." / "Tab." / "Suppl." / "no." / "p." / "pp." / "vol." and others;
 * month abbreviations; unit abbreviations like "wt." in the middle of a sentence),
 * single initials ("J. Smith", "E. coli"), dotted acronyms ("U.S.A.", "a.m.") when the next
 * word is lower case or a number, decimals and version numbers ("0.05", "v1.2.3"), numbered
 * list markers ("1.)", "2.", "a.") kept with their item, URLs and e-mail addresses, ellipses
 * ("...", ". . .") inside a sentence, and any punctuation inside parentheses, brackets or
 * quotes that the sentence continues after ("(n = 12.)", "“Great.” she said").
 *
 * What ends a sentence: ".", "!", "?", "…" (and runs like "?!", "!!", "...."), optionally
 * followed by closing quotes or brackets and by a citation like "[12]" or "[3–5]", when the
 * next word starts a new sentence (upper case, a digit-led list item, an opening quote or
 * bracket followed by one of these, or the end of the paragraph). Line breaks alone do not end
 * a sentence; a blank line (two newlines) does.
 *
 * Runs in time linear in `len` and uses no memory but `out`. Thread-safe: no global or static
 * mutable state, so any number of threads may split different paragraphs at once.
 *
 * Returns SL_OK, or SL_ERR_NOMEM if `out` could not grow (then `out` keeps the spans appended
 * before the failure and `sl_last_error()` says so), or SL_ERR_INVALID if `out` is NULL or
 * `text` is NULL with `len > 0`. */
sl_status lp_sentences_split(const char *text, size_t len, lp_spans *out);

/* Free the spans array and zero it; safe on a zeroed or already freed array and on NULL. */
void lp_spans_free(lp_spans *spans);

/* Number of code points in the first `byte_off` bytes of `text`, a paragraph of `len` bytes
 * (`byte_off` is clamped to `len`; same counting rule as
 * lp_span.cp_start: each malformed byte is one code point; a code point is counted when its first
 * byte lies before `byte_off`, so an offset inside a multi-byte sequence counts it). Linear in
 * `byte_off`; use the spans' own cp fields rather than calling this per sentence. */
size_t lp_utf8_cp_count(const char *text, size_t len, size_t byte_off);

#endif /* LP_SENTENCES_H */
