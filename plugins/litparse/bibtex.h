/* bibtex.h — parse BibTeX/BibLaTeX text into entries with Unicode fields and parsed name lists. */
#ifndef LP_BIBTEX_H
#define LP_BIBTEX_H

#include <stddef.h>
#include <sciloop/status.h>

/* One person (or organisation) from a name list such as `author` or `editor`.
 *
 * The parts follow BibTeX's rules: "First von Last", "von Last, First" and
 * "von Last, Jr, First"; "von" words are the lower-case words before the last name; a name
 * in one brace group ("{World Health Organization}") is kept whole as `family` with
 * `literal` set. Strings are UTF-8 with LaTeX resolved and braces removed; a part that is
 * absent is NULL (never ""). */
typedef struct lp_bib_name {
    char *given;    /* "Donald E." ; NULL for a mononym or a literal name */
    char *family;   /* "Knuth"; never NULL */
    char *von;      /* "van der", "de la"; NULL when absent */
    char *suffix;   /* "Jr.", "III"; NULL when absent */
    int literal;    /* 1 when the whole name was one brace group (an organisation) */
} lp_bib_name;

/* The parsed names of one name-list field. */
typedef struct lp_bib_names {
    const char *field;     /* the field's lower-case name ("author", "translator", ...); owned by
                            * the entry's field array */
    lp_bib_name *names;    /* n names in list order */
    size_t n;
    int et_al;             /* 1 when the list ended with "and others" (not kept as a name) */
} lp_bib_names;

/* One field of an entry. `name` is lower-cased. `value` is the Unicode text a reader sees:
 * macros expanded, `#` concatenations joined, LaTeX accents, commands and special characters
 * converted to UTF-8 (NFC), braces removed, runs of white space (line breaks included) folded
 * to one space and trimmed; a blank line inside a value (a TeX paragraph break) is kept as "\n\n".
 * Verbatim fields (url, doi, eprint, file, pdf, verba/verbb/verbc, urlraw, BibDesk's
 * bdsk-url-N) are not converted as TeX: braces and \url{...} wrappers are removed, white space
 * is folded and trimmed, and "\_", "\%", "\&", "\#", "\$" and "\~" are unescaped, so a URL
 * keeps its "~" and "--"; other backslashes stay (a Windows path).
 * `raw` is the same field after macro expansion and concatenation but before any conversion
 * (braces and backslashes kept), for callers that need TeX structure (name lists, protected
 * case in titles). */
typedef struct lp_bib_field {
    char *name;     /* lower-cased field name, e.g. "title", "journaltitle", "doi" */
    char *value;    /* converted value (see above); never NULL, may be "" */
    char *raw;      /* expanded value before conversion; never NULL */
    int line;       /* 1-based line where the field name appears */
    int inherited;  /* 1 when copied from the entry named by `crossref` (or `xdata`) */
} lp_bib_field;

/* One bibliography entry (@article, @book, @online, ...). Entries appear in file order;
 * @string, @preamble and @comment are not entries. */
typedef struct lp_bib_entry {
    char *type;            /* lower-cased entry type without "@", e.g. "article", "inproceedings" */
    char *key;             /* citation key as written (trimmed); "" when the entry has none */
    int line;              /* 1-based line of the '@' that starts the entry */
    lp_bib_field *fields;  /* nfields fields in source order; own fields first, then inherited */
    size_t nfields;
    lp_bib_names *names;   /* every name-list field present, in field order: author, editor,
                            * translator, bookauthor, editora/b/c, commentator, annotator,
                            * introduction, foreword, afterword, holder, director, redactor,
                            * collaborator */
    size_t nnames;
    /* Shortcuts into `names` (not separately owned): */
    lp_bib_name *authors;  /* parsed `author` field (nauthors names), NULL/0 when absent */
    size_t nauthors;
    lp_bib_name *editors;  /* parsed `editor` field, NULL/0 when absent */
    size_t neditors;
    int authors_et_al;     /* 1 when the author list ended with "and others" */
    int editors_et_al;     /* same for editors */
} lp_bib_entry;

/* A problem found while parsing. Errors drop the entry they occur in and parsing resumes at the
 * next line that starts with '@' (after optional blanks); an unclosed value or entry that runs
 * into a line starting a new entry ("@type{" or "@type(") ends there, so the next entry survives.
 * Warnings keep the entry. */
typedef struct lp_bib_diag {
    int line;        /* 1-based line */
    int col;         /* 1-based column in bytes */
    int is_error;    /* 1: the entry was dropped; 0: a warning (duplicate field, undefined macro, ...) */
    char *message;   /* "file:line:col: reason", e.g.
                      * "refs.bib:12:3: entry 'smith2001': expected ',' or '}' after field 'title', found 'y'" */
} lp_bib_diag;

/* The result of parsing one file. Owned by the caller; free with lp_bib_destroy. */
typedef struct lp_bib {
    lp_bib_entry *entries;  /* nentries entries in file order */
    size_t nentries;
    lp_bib_diag *diags;     /* ndiags diagnostics in file order (at most lp_bib_limits.max_diags) */
    size_t ndiags;
    size_t ndiags_dropped;  /* diagnostics beyond max_diags, counted but not kept */
    char *preamble;         /* every @preamble joined by "\n" (raw TeX, unconverted); NULL if none */
} lp_bib;

/* Bounds that make hostile input harmless. Zero in any member means "use the default".
 * Exceeding a bound is reported as a diagnostic and the entry (or the rest of the file, for
 * max_entries) is dropped; it is never a crash or unbounded memory. The parser does not
 * recurse, so max_depth limits work, not stack. */
typedef struct lp_bib_limits {
    size_t max_depth;        /* brace/parenthesis nesting in a value; default 64 */
    size_t max_value_bytes;  /* one field value after macro expansion; default 4 MiB */
    size_t max_expand_bytes; /* all macro-expanded and crossref-inherited text in the file (guards
                              * against "@string{b = a # a}" doubling and against thousands of
                              * children inheriting one huge parent); default 64 MiB + 4 x input
                              * length */
    size_t max_entries;      /* entries per file; default 10,000,000 */
    size_t max_names;        /* names in one name list; default 100,000 */
    size_t max_diags;        /* diagnostics kept; default 10,000 */
} lp_bib_limits;

/* Parse `len` bytes of BibTeX/BibLaTeX (need not be NUL-terminated; a leading UTF-8 BOM is
 * skipped). `file` names the input in diagnostics (may be NULL: "<input>"). `limits` may be NULL
 * for the defaults.
 *
 * Understands: entries delimited by {} or (); keys with any character but ',', white space and
 * the closing delimiter; field values in {...} (nested), "..." (braces inside quotes nest) and
 * bare numbers or macro names, joined with '#'; @string macros (case-insensitive names, usable
 * after their definition) and the predefined month macros jan..dec ("January".."December");
 * @preamble (kept raw in lp_bib.preamble); @comment (skipped, including JabRef/BibDesk
 * metadata blocks); text outside entries (ignored, as BibTeX does), where a '%' also comments
 * out the rest of its line (so "%@article{...}" is not an entry); '%' comment lines between
 * fields; field names with any character BibTeX allows ("author+an:role", "date-added");
 * @xdata entries (their fields are inherited, they are not returned); `crossref` (and `xdata`)
 * inheritance, following BibLaTeX's defaults: an entry receives every field it lacks from the
 * entry it names (and that entry's own crossref, up to 8 levels; keys compared case-blind), in
 * whatever order the entries appear; a parent's `title`/`subtitle`/`titleaddon` become the
 * child's `booktitle`/`booksubtitle`/`booktitleaddon` when a @book, @collection, @proceedings
 * or @reference is crossref'd by a part (@inbook, @incollection, @inproceedings, ...),
 * `maintitle`... for the @mv types and `journaltitle` for @periodical, and are otherwise not
 * inherited; `ids`, `crossref`, `xref`, `xdata`, `entrysubtype`, `label`, `shorthand`,
 * `shorttitle`, `sorttitle`, `sortkey`, `related*` and `options` are never inherited. A
 * missing parent is a warning. A key used twice is a warning (crossref uses the first).
 * Line ends may be LF, CRLF or CR. Bytes that are not valid UTF-8 are read as Windows-1252
 * (with one warning per file giving the first such byte's line).
 *
 * Broken entries (missing key, unterminated value, missing ',', bad nesting, a limit exceeded)
 * become error diagnostics; the parser resumes at the next entry. A duplicate field keeps the
 * first value (as BibTeX does) with a warning. An undefined macro expands to its own name
 * with a warning.
 *
 * Returns SL_OK with `*out` set (even when there are diagnostics or no entries);
 * SL_ERR_INVALID (message set) when `out` is NULL or `text` is NULL with len > 0;
 * SL_ERR_NOMEM when memory ran out (then `*out` is NULL).
 * Time and memory are linear in `len` plus the expanded macro text (bounded by the limits).
 * Thread-safe: no global mutable state. */
sl_status lp_bib_parse(const char *text, size_t len, const char *file,
                       const lp_bib_limits *limits, lp_bib **out);

/* Free a parse result and everything it owns; lp_bib_destroy(NULL) is a no-op. */
void lp_bib_destroy(lp_bib *bib);

/* The converted value of field `name` (lower-case) of `entry`, or NULL if the entry lacks it. */
const char *lp_bib_entry_get(const lp_bib_entry *entry, const char *name);

/* The field record named `name` (lower-case), or NULL. */
const lp_bib_field *lp_bib_entry_field(const lp_bib_entry *entry, const char *name);

/* The parsed names of field `name` (e.g. "translator"), or NULL when the entry has none. */
const lp_bib_names *lp_bib_entry_names(const lp_bib_entry *entry, const char *name);

/* The title a reader sees, composed as BibLaTeX prints it: `title`, then ": " and `subtitle`,
 * then ". " and `titleaddon`. A whole-book entry (@book, @proceedings, @collection, @reference
 * and their @mv forms) without `title` uses its `booktitle`; with neither, the `titleaddon`
 * alone. Returns a malloc'd string (free with free()), or NULL when the entry has
 * no title at all or memory ran out. */
char *lp_bib_entry_title(const lp_bib_entry *entry);

/* The publication year of `entry`: the first 4-digit number in `year`, else the leading year
 * of BibLaTeX `date` ("2019-05-01", "2019/2020"); 0 when neither gives one. (`eventdate` and
 * `origdate` are other dates and are not used.) */
int lp_bib_entry_year(const lp_bib_entry *entry);

/* The Zotero item type for the entry, e.g. "journalArticle" (article; "magazineArticle" and
 * "newspaperArticle" by entrysubtype), "book" (book, mvbook, booklet, collection, proceedings,
 * reference), "bookSection" (inbook, incollection, bookinbook, suppbook, suppcollection; also a
 * @book or @proceedings with a `title` and a different `booktitle`, i.e. a part filed under
 * the whole), "conferencePaper" (inproceedings, conference), "encyclopediaArticle"
 * (inreference), "thesis" (phdthesis, mastersthesis, thesis), "report" (techreport, report,
 * manual), "webpage" (online, www, electronic), "patent", "film" (movie; video with
 * entrysubtype film), "tvBroadcast", "videoRecording" (video), "audioRecording" (audio,
 * music), "artwork" (artwork, image), "presentation" (presentation, talk), "manuscript"
 * (unpublished), "dataset", "computerProgram" (software, hardware), "statute" (legislation,
 * legal, constitution, legadminmaterial), "bill" (legmaterial), "case" (jurisdiction);
 * "document" for anything else (misc, nameonly, periodical included). Static string. */
const char *lp_bib_item_type(const lp_bib_entry *entry);

/* Parse a raw name list (an lp_bib_field.raw such as "Knuth, Donald E. and {The Team}") into
 * names. Splits on the word "and" (any case) at brace depth 0; "and others" ends the list and
 * sets *et_al. Returns SL_OK with *names (malloc'd array of *n names, free with
 * lp_bib_names_free) — an empty list gives *names = NULL, *n = 0; SL_ERR_RANGE when the list
 * has more than `max_names` names (0 = default 100,000); SL_ERR_NOMEM. `et_al` may be NULL. */
sl_status lp_bib_names_parse(const char *raw, size_t len, size_t max_names,
                             lp_bib_name **names, size_t *n, int *et_al);

/* Free an array of `n` names returned by lp_bib_names_parse; NULL is a no-op. */
void lp_bib_names_free(lp_bib_name *names, size_t n);

#endif /* LP_BIBTEX_H */
