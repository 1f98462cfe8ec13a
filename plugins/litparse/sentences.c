/* sentences.c — rule-based sentence boundary detection for scientific and general English prose.
 *
 * One left-to-right pass. Every candidate boundary (".", "!", "?", "…", runs of them) is decided
 * by looking at a bounded window: the token before it (at most MAX_TOKEN bytes), the closers and
 * citation after it, and the next word. No decision rescans the paragraph, so the whole split is
 * linear in the input. */
#include "sentences.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_TOKEN 64       /* longer tokens are URLs, formulas, ...: never abbreviations */
#define MAX_CITATION 48    /* "[12, 14–17]" after a period */
#define FRAGMENT_WORDS 4   /* a sentence cut after "a.m." must have at least this many words */
#define PAREN_REACH 300    /* a parenthesis not closed within this many bytes is a stray one */

/* ---- UTF-8 ------------------------------------------------------------------------------ */

/* Decode the code point at s[i] (i < n). Returns its length; a malformed byte is one code point
 * of value 0xFFFD. Overlong forms, surrogates and values above U+10FFFF are malformed. */
static size_t decode(const unsigned char *s, size_t n, size_t i, int32_t *cp)
{
    unsigned c = s[i];
    if (c < 0x80) { *cp = (int32_t)c; return 1; }
    size_t len; int32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; v = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; v = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; v = c & 0x07; min = 0x10000; }
    else { *cp = 0xFFFD; return 1; }
    if (n - i < len) { *cp = 0xFFFD; return 1; }
    for (size_t k = 1; k < len; k++) {
        unsigned d = s[i + k];
        if ((d & 0xC0) != 0x80) { *cp = 0xFFFD; return 1; }
        v = (v << 6) | (int32_t)(d & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) { *cp = 0xFFFD; return 1; }
    *cp = v;
    return len;
}

/* Start of the code point that ends just before s[i] (i > 0), consistent with decode():
 * a lead byte whose well-formed sequence ends exactly at i, else the single byte s[i-1]. */
static size_t prev_start(const unsigned char *s, size_t n, size_t i, int32_t *cp)
{
    size_t lo = i >= 4 ? i - 4 : 0, k = i - 1;
    while (k > lo && (s[k] & 0xC0) == 0x80) k--;
    if ((s[k] & 0xC0) != 0x80 && k < i - 1 && decode(s, n, k, cp) == i - k) return k;
    *cp = s[i - 1] < 0x80 ? (int32_t)s[i - 1] : 0xFFFD;
    return i - 1;
}

size_t lp_utf8_cp_count(const char *text, size_t len, size_t byte_off)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, count = 0;
    int32_t cp;
    if (!text) return 0;
    if (byte_off > len) byte_off = len;
    while (i < byte_off) {
        i += decode(s, len, i, &cp);
        count++;
    }
    return count;
}

/* ---- character classes ---------------------------------------------------------------------- */

static int is_space(int32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
           c == 0xA0 || (c >= 0x2000 && c <= 0x200B) || c == 0x202F || c == 0x205F ||
           c == 0x3000 || c == 0x1680;
}

static int is_closer(int32_t c)
{
    return c == ')' || c == ']' || c == '}' || c == '"' || c == '\'' || c == 0x201D ||
           c == 0x2019 || c == 0xBB || c == 0x203A || c == 0x201C /* some texts close with “ */;
}

static int is_opener(int32_t c)
{
    return c == '(' || c == '[' || c == '{' || c == '"' || c == '\'' || c == 0x201C ||
           c == 0x2018 || c == 0xAB || c == 0x2039 || c == 0x201E || c == 0xBF || c == 0xA1;
}

static int is_bullet(int32_t c)
{
    return c == 0x2022 || c == 0x2023 || c == 0x2043 || c == 0x25E6 || c == 0x25AA ||
           c == 0x25CF || c == 0x25A0;
}

static int is_upper(int32_t c)
{
    if (c < 0x80) return c >= 'A' && c <= 'Z';
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LT;
}

static int is_lower(int32_t c)
{
    if (c < 0x80) return c >= 'a' && c <= 'z';
    return utf8proc_category(c) == UTF8PROC_CATEGORY_LL;
}

static int is_digit(int32_t c) { return c >= '0' && c <= '9'; }

static int is_alnum(int32_t c)
{
    if (c < 0x80) return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    utf8proc_category_t k = utf8proc_category(c);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_NO;
}

/* Terminators that end a sentence whatever follows (CJK full stops). */
static int is_hard_terminator(int32_t c) { return c == 0x3002 || c == 0xFF01 || c == 0xFF1F; }

static int is_excl_quest(int32_t c)
{
    return c == '!' || c == '?' || c == 0x203C || c == 0x2047 || c == 0x2048 || c == 0x2049;
}

/* ---- word lists ---------------------------------------------------------------------------- */

enum abbr_class {
    AB_NONE = 0,
    AB_NEVER,    /* never ends a sentence: titles before names, "e.g.", "vs." */
    AB_NUMBER,   /* precedes a number ("Fig. 2", "p. 55"); otherwise like AB_MAY */
    AB_MAY,      /* may end a sentence: only before a typical sentence starter */
    AB_ETAL,     /* "et al.", "etc.": ends a sentence before any capitalised word */
    AB_TIME      /* "a.m.", "p.m.": ends one before a capital if the sentence is long enough */
};

typedef struct abbr { const char *word; unsigned char cls; } abbr;

/* Lower-case, sorted by strcmp (binary search). Dotted forms are stored without the final
 * period ("e.g", "a.m"). */
static const abbr ABBREVIATIONS[] = {
    {"a.m", AB_TIME}, {"adm", AB_NEVER}, {"aff", AB_MAY}, {"al", AB_ETAL}, {"app", AB_NUMBER},
    {"approx", AB_NEVER}, {"apr", AB_MAY}, {"art", AB_NUMBER}, {"assn", AB_MAY},
    {"assoc", AB_MAY}, {"aug", AB_MAY}, {"ave", AB_MAY}, {"blvd", AB_MAY}, {"bros", AB_MAY},
    {"c.f", AB_NEVER}, {"ca", AB_NEVER}, {"capt", AB_NEVER}, {"cf", AB_NEVER},
    {"ch", AB_NUMBER}, {"chap", AB_NUMBER}, {"cmdr", AB_NEVER}, {"co", AB_MAY},
    {"col", AB_NEVER}, {"conc", AB_MAY}, {"cont", AB_MAY}, {"corp", AB_MAY}, {"cv", AB_MAY},
    {"dec", AB_MAY}, {"dept", AB_MAY}, {"dr", AB_NEVER}, {"drs", AB_NEVER}, {"e.g", AB_NEVER},
    {"ed", AB_MAY}, {"eds", AB_MAY}, {"eg", AB_NEVER}, {"eq", AB_NUMBER}, {"eqn", AB_NUMBER},
    {"eqs", AB_NUMBER}, {"esp", AB_NEVER}, {"est", AB_MAY},
    {"etc", AB_ETAL}, {"ex", AB_NUMBER}, {"exp", AB_NUMBER}, {"expt", AB_NUMBER},
    {"feb", AB_MAY}, {"fig", AB_NUMBER}, {"figs", AB_NUMBER}, {"fr", AB_NEVER}, {"ft", AB_MAY},
    {"gen", AB_NEVER}, {"gov", AB_NEVER}, {"govt", AB_MAY}, {"hon", AB_NEVER},
    {"i.e", AB_NEVER}, {"ibid", AB_MAY}, {"ie", AB_NEVER}, {"inc", AB_MAY}, {"incl", AB_NEVER},
    {"intl", AB_MAY}, {"jan", AB_MAY}, {"jr", AB_MAY}, {"jul", AB_MAY}, {"jun", AB_MAY},
    {"lt", AB_NEVER}, {"ltd", AB_MAY}, {"maj", AB_NEVER}, {"mar", AB_MAY}, {"messrs", AB_NEVER},
    {"mlle", AB_NEVER}, {"mme", AB_NEVER}, {"mr", AB_NEVER}, {"mrs", AB_NEVER},
    {"ms", AB_NEVER}, {"mssrs", AB_NEVER}, {"mt", AB_MAY}, {"natl", AB_MAY}, {"no", AB_NUMBER},
    {"nos", AB_NUMBER}, {"nov", AB_MAY}, {"nr", AB_NUMBER}, {"n\xc2\xb0", AB_NUMBER},
    {"n\xc2\xba", AB_NUMBER}, {"oct", AB_MAY}, {"p", AB_NUMBER}, {"p.m", AB_TIME},
    {"para", AB_NUMBER}, {"pg", AB_NUMBER}, {"pp", AB_NUMBER}, {"pres", AB_NEVER},
    {"prof", AB_NEVER}, {"pt", AB_NUMBER}, {"rd", AB_MAY}, {"ref", AB_NUMBER},
    {"refs", AB_NUMBER}, {"rep", AB_NEVER}, {"resp", AB_MAY}, {"rev", AB_NEVER},
    {"sec", AB_NUMBER}, {"sect", AB_NUMBER}, {"sen", AB_NEVER}, {"sep", AB_MAY},
    {"sept", AB_MAY}, {"ser", AB_NUMBER}, {"sgt", AB_NEVER}, {"sp", AB_MAY}, {"spp", AB_MAY},
    {"sr", AB_MAY}, {"ssp", AB_MAY}, {"st", AB_MAY}, {"subsp", AB_MAY}, {"suppl", AB_NUMBER},
    {"supt", AB_NEVER}, {"tab", AB_NUMBER}, {"univ", AB_MAY}, {"var", AB_MAY},
    {"viz", AB_NEVER}, {"vol", AB_NUMBER}, {"vols", AB_NUMBER}, {"vs", AB_NEVER},
    {"wt", AB_MAY},
};

/* Words that typically open an English sentence; after an abbreviation or initial that may end
 * a sentence, a capitalised word from this list means it did. Sorted by strcmp. */
static const char *const STARTERS[] = {
    "A", "Additionally", "After", "All", "Also", "Although", "Among", "An", "And", "Are", "As",
    "At", "Based", "Because", "Being", "Both", "But", "By", "Collectively", "Consequently",
    "Consistent", "Did", "Do", "Does", "During", "Each", "Finally", "First", "For",
    "Furthermore", "He", "Hence", "Her", "Here", "His", "How", "However", "I", "If", "In",
    "Indeed", "Is", "It", "Its", "Many", "Millions", "More", "Moreover", "Most", "My", "No",
    "Notably", "Of", "On", "One", "Our", "Overall", "She", "Similarly", "Since", "So", "Some",
    "Such", "Taken", "That", "The", "Their", "Then", "There", "Therefore", "These", "They",
    "This", "Those", "Thus", "To", "Together", "Two", "Under", "Using", "Was", "We", "Were",
    "What", "When", "Where", "Whether", "Which", "While", "Who", "Why", "With", "Within",
    "Yet", "You",
};

static int cmp_abbr(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const abbr *)elem)->word);
}

static int cmp_str(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

static int abbr_lookup(const char *lower)
{
    const abbr *a = bsearch(lower, ABBREVIATIONS, sizeof ABBREVIATIONS / sizeof *ABBREVIATIONS,
                            sizeof *ABBREVIATIONS, cmp_abbr);
    return a ? a->cls : AB_NONE;
}

static int is_starter(const unsigned char *w, size_t len)
{
    char buf[16];
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, w, len);
    buf[len] = '\0';
    return bsearch(buf, STARTERS, sizeof STARTERS / sizeof *STARTERS, sizeof *STARTERS,
                   cmp_str) != NULL;
}

/* ---- the splitter ---------------------------------------------------------------------------- */

typedef struct splitter {
    const unsigned char *s;
    size_t n;
    lp_spans *out;
    sl_status status;
    size_t sent_start;     /* start of the current sentence (untrimmed) */
    size_t content_start;  /* first byte after sent_start that is neither space nor bullet */
    int content_known;     /* content_start is valid for this sentence */
    size_t cur_b, cur_cp;  /* code-point cursor, only moves forward */
    /* last list marker seen: kind 0 none, 1 number, 2 letter; style '.', ')' or ']' (".)") */
    int marker_kind;
    int marker_style;
    long marker_val;
    size_t depth;          /* parentheses/brackets opened in this sentence and not yet closed */
} splitter;

static size_t cp_at(splitter *sp, size_t b)
{
    int32_t cp;
    while (sp->cur_b < b) {
        uint64_t w;
        if (b - sp->cur_b >= 8 && (memcpy(&w, sp->s + sp->cur_b, 8), !(w & 0x8080808080808080ull))) {
            sp->cur_b += 8;                       /* eight ASCII bytes, eight code points */
            sp->cur_cp += 8;
            continue;
        }
        if (sp->s[sp->cur_b] < 0x80) {          /* ASCII: one byte, one code point */
            sp->cur_b++;
        } else {
            sp->cur_b += decode(sp->s, sp->n, sp->cur_b, &cp);
        }
        sp->cur_cp++;
    }
    return sp->cur_cp;
}

static size_t find_content_start(splitter *sp)
{
    if (!sp->content_known) {
        size_t i = sp->sent_start;
        int32_t cp;
        while (i < sp->n) {
            size_t l = decode(sp->s, sp->n, i, &cp);
            if (!is_space(cp) && !is_bullet(cp)) break;
            i += l;
        }
        sp->content_start = i;
        sp->content_known = 1;
    }
    return sp->content_start;
}

/* Close the current sentence at byte `end` (exclusive) and start the next one there. */
static void emit(splitter *sp, size_t end)
{
    size_t a = sp->sent_start, b = end;
    int32_t cp;
    while (a < b) {
        size_t l = decode(sp->s, sp->n, a, &cp);
        if (!is_space(cp)) break;
        a += l;
    }
    while (b > a) {
        size_t k = prev_start(sp->s, sp->n, b, &cp);
        if (!is_space(cp)) break;
        b = k;
    }
    sp->sent_start = end;
    sp->content_known = 0;
    sp->depth = 0;
    if (a >= b || sp->status != SL_OK) return;
    lp_spans *o = sp->out;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        lp_span *v = realloc(o->v, cap * sizeof *v);
        if (!v) {
            sp->status = sl_set_error(SL_ERR_NOMEM, "sentence splitter: out of memory for %zu spans", cap);
            return;
        }
        o->v = v;
        o->cap = cap;
    }
    lp_span *p = &o->v[o->n++];
    p->start = a;
    p->end = b;
    p->cp_start = cp_at(sp, a);
    p->cp_end = cp_at(sp, b);
}

/* What follows a candidate boundary. */
enum next_kind { NX_END, NX_UPPER, NX_LOWER, NX_LOWER_MIXED, NX_DIGIT, NX_OPEN_UPPER, NX_OTHER };

typedef struct next_info {
    size_t boundary;  /* where the sentence would end: after closers and a citation */
    int spaced;       /* white space (or the end) follows `boundary` */
    int blank_line;   /* that white space holds an empty line */
    int kind;         /* enum next_kind for the next word */
    int starter;      /* the next word is in STARTERS */
    int numeric;      /* the next word is number-like ("2", "S1", "IV", "(3)", "A") */
} next_info;

static int is_roman(const unsigned char *w, size_t len)
{
    if (len == 0 || len > 6) return 0;
    for (size_t k = 0; k < len; k++)
        if (!strchr("IVXLCDM", w[k])) return 0;
    return 1;
}

/* "ii)", "b)": a lower-case list enumerator closed by a parenthesis. */
static int is_enumerator(const unsigned char *w, size_t len)
{
    size_t k = 0;
    while (k < len && k < 5 && w[k] >= 'a' && w[k] <= 'z') k++;
    if (k == 0 || k >= len || w[k] != ')') return 0;
    if (k == 1) return 1;
    for (size_t m = 0; m < k; m++)
        if (!strchr("ivxl", w[m])) return 0;
    return 1;
}

/* Inspect what follows position j (just after a terminator run). */
static void look_ahead(const splitter *sp, size_t j, next_info *nx)
{
    const unsigned char *s = sp->s;
    size_t n = sp->n, k = j;
    int32_t cp;
    memset(nx, 0, sizeof *nx);
    while (k < n) {                                   /* closing quotes and brackets */
        size_t l = decode(s, n, k, &cp);
        if (!is_closer(cp)) break;
        k += l;
    }
    if (k < n && s[k] == '[') {                       /* a citation such as "[12]" or "[3–5, 9]" */
        size_t m = k + 1, lim = k + MAX_CITATION < n ? k + MAX_CITATION : n;
        int digits = 0;
        while (m < lim) {
            size_t l = decode(s, n, m, &cp);
            if (is_digit(cp)) digits = 1;
            else if (!(cp == ',' || cp == ' ' || cp == '-' || cp == 0x2013 || cp == 0x2014 ||
                       cp == ';')) break;
            m += l;
        }
        if (m < lim && s[m] == ']' && digits) {
            k = m + 1;
            while (k < n) {
                size_t l = decode(s, n, k, &cp);
                if (!is_closer(cp)) break;
                k += l;
            }
        }
    }
    nx->boundary = k;
    if (k >= n) { nx->spaced = 1; nx->kind = NX_END; return; }
    size_t l = decode(s, n, k, &cp);
    if (!is_space(cp)) { nx->kind = NX_OTHER; return; }
    nx->spaced = 1;
    int newlines = 0;
    while (k < n) {
        l = decode(s, n, k, &cp);
        if (!is_space(cp)) break;
        if (cp == '\n') newlines++;
        k += l;
    }
    nx->blank_line = newlines >= 2;
    if (k >= n) { nx->kind = NX_END; return; }
    size_t w = k;
    l = decode(s, n, w, &cp);
    if (is_opener(cp)) {
        size_t m = w + l;
        int32_t c2 = 0;
        while (m < n) {
            size_t l2 = decode(s, n, m, &c2);
            if (!is_opener(c2)) break;
            m += l2;
        }
        if (m < n && (is_upper(c2) || is_digit(c2))) nx->kind = NX_OPEN_UPPER;
        else if (cp == '(' && is_enumerator(s + m, n - m)) nx->kind = NX_OPEN_UPPER;   /* "(ii)" */
        else nx->kind = NX_OTHER;
        nx->numeric = cp == '(' && m < n && is_digit(c2);
        return;
    }
    if (is_digit(cp)) { nx->kind = NX_DIGIT; nx->numeric = 1; return; }
    /* the next word's letters (ASCII run for the list checks) */
    size_t e = w;
    while (e < n && e - w < 32 && ((s[e] | 0x20) >= 'a' && (s[e] | 0x20) <= 'z')) e++;
    if (is_upper(cp)) {
        nx->kind = NX_UPPER;
        int letter_after = e < n && s[e] >= 0x80 && (decode(s, n, e, &cp), is_alnum(cp));
        if (!letter_after) nx->starter = is_starter(s + w, e - w);
        if (e < n && is_digit(s[e]) && e - w <= 2) nx->numeric = 1;            /* "S1", "SI2" */
        else if (!letter_after && (e == w + 1 || is_roman(s + w, e - w)) &&
                 !(e < n && s[e] == '\'')) nx->numeric = 1;                      /* "A", "IV" */
        return;
    }
    if (is_lower(cp)) {
        nx->kind = NX_LOWER;
        for (size_t m = w + 1; m < e; m++)
            if (s[m] >= 'A' && s[m] <= 'Z') { nx->kind = NX_LOWER_MIXED; break; }   /* "mRNA" */
        return;
    }
    nx->kind = NX_OTHER;
}

/* Classify the token that ends at the period at `dot` (its leading brackets, quotes and bullets
 * ignored); sets *tok_start to where the token begins and *label when it is a list or panel
 * label ("1", "a", "iv", "A)"). */
static int classify_token(splitter *sp, size_t dot, size_t *tok_start, int *label)
{
    const unsigned char *s = sp->s;
    size_t lim = dot > MAX_TOKEN ? dot - MAX_TOKEN : 0;
    size_t b = dot;
    int32_t cp;
    *label = 0;
    while (b > lim) {
        size_t k = prev_start(s, sp->n, b, &cp);
        if (is_space(cp)) break;
        b = k;
    }
    if (b == lim && lim > 0) { *tok_start = dot; return AB_NONE; }          /* too long */
    *tok_start = b;                                   /* where the token starts, brackets included */
    while (b < dot) {                                                     /* "(e.g", "•9" */
        size_t l = decode(s, sp->n, b, &cp);
        if (!is_opener(cp) && !is_bullet(cp)) break;
        b += l;
    }
    size_t len = dot - b;
    if (len == 0) return AB_NONE;
    char low[MAX_TOKEN + 8];
    int dotted_ok = 1, group = 0, has_dot = 0;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = s[b + k];
        low[k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        if (c == '.') { has_dot = 1; if (group == 0) dotted_ok = 0; group = 0; }
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') { if (++group > 3) dotted_ok = 0; }
        else dotted_ok = 0;
    }
    low[len] = '\0';
    int single_letter = len == 1 && ((s[b] | 0x20) >= 'a' && (s[b] | 0x20) <= 'z');
    /* a label such as "1", "a", "iv", "A)" or "(12)" (the opening parenthesis is stripped) */
    size_t core = len > 1 && low[len - 1] == ')' ? len - 1 : len;
    int roman = core > 0 && core <= 4;
    for (size_t k = 0; k < core && roman; k++) roman = strchr("ivxlc", low[k]) != NULL;
    int num = core > 0 && core <= 3;
    for (size_t k = 0; k < core && num; k++) num = low[k] >= '0' && low[k] <= '9';
    *label = num || roman || (core == 1 && low[0] >= 'a' && low[0] <= 'z');
    int cls = abbr_lookup(low);
    if (cls == AB_NONE && (single_letter || (has_dot && dotted_ok && group > 0)))
        cls = AB_MAY;                                   /* initials "J.", acronyms "U.S" */
    return cls;
}

/* At least FRAGMENT_WORDS words between the sentence start and `end`? */
static int fragment_long_enough(splitter *sp, size_t end)
{
    size_t i = find_content_start(sp), lim = end;
    int words = 0, in_word = 0;
    if (lim - i > 256) return 1;
    for (; i < lim; i++) {
        int sp_ = sp->s[i] == ' ' || sp->s[i] == '\t' || sp->s[i] == '\n' || sp->s[i] == '\r';
        if (!sp_ && !in_word) words++;
        in_word = !sp_;
    }
    return words >= FRAGMENT_WORDS;
}

static int starts_sentence(const next_info *nx)
{
    return nx->spaced && (nx->kind == NX_UPPER || nx->kind == NX_DIGIT ||
                          nx->kind == NX_OPEN_UPPER);
}

/* Decide a single period at `dot`, given what follows it. */
static void on_period(splitter *sp, size_t dot, const next_info *nx)
{
    if (!nx->spaced || nx->kind == NX_END) return;
    if (nx->blank_line) { emit(sp, nx->boundary); return; }
    size_t ts;
    int label;
    int cls = classify_token(sp, dot, &ts, &label);
    if (label && ts <= find_content_start(sp)) return;      /* "1.", "a.", "(A)." list or panel label */
    int cut = 0;
    switch (cls) {
    case AB_NEVER: cut = 0; break;
    case AB_NUMBER: cut = !nx->numeric && nx->kind == NX_UPPER && nx->starter; break;
    case AB_MAY: cut = nx->kind == NX_UPPER && nx->starter; break;
    case AB_ETAL: cut = nx->kind == NX_UPPER; break;
    case AB_TIME: cut = nx->kind == NX_UPPER && fragment_long_enough(sp, dot); break;
    default:
        cut = nx->kind == NX_UPPER || nx->kind == NX_DIGIT || nx->kind == NX_OPEN_UPPER ||
              nx->kind == NX_LOWER_MIXED;
    }
    if (cut) emit(sp, nx->boundary);
}

/* Do `depth` open parentheses close within PAREN_REACH bytes after j? */
static int closes_ahead(const unsigned char *s, size_t n, size_t j, size_t depth)
{
    size_t lim = n - j > PAREN_REACH ? j + PAREN_REACH : n;
    for (size_t k = j; k < lim; k++) {
        if (s[k] == '(' || s[k] == '[') depth++;
        else if ((s[k] == ')' || s[k] == ']') && --depth == 0) return 1;
        else if (s[k] == '\n' && k + 1 < lim && s[k + 1] == '\n') return 0;
    }
    return 0;
}

/* Handle the terminator run starting at i; returns the index after it. */
static size_t on_terminator(splitter *sp, size_t i)
{
    const unsigned char *s = sp->s;
    size_t n = sp->n, j = i;
    int dots = 0, others = 0, spaced = 0, hard = 0;
    int32_t cp;
    while (j < n) {
        size_t l = decode(s, n, j, &cp);
        if (cp == '.') dots++;
        else if (cp == 0x2026) dots += 3;
        else if (is_excl_quest(cp)) others++;
        else if (is_hard_terminator(cp)) hard++;
        else if (cp == ' ' && dots > 0 && others == 0 && j + 1 < n && s[j + 1] == '.') spaced = 1;
        else break;
        j += l;
    }
    next_info nx;
    look_ahead(sp, j, &nx);
    if (nx.kind == NX_END && nx.spaced) return j;          /* the paragraph's end closes it */
    if (hard) { emit(sp, nx.boundary); return j; }
    if (nx.blank_line) { emit(sp, nx.boundary); return j; }
    if (sp->depth > 0) {
        /* inside "( ... )": a period there ends nothing unless the closers right after it
         * close the parenthesis ("(Cells indicated by arrows.) Next"). A parenthesis that
         * does not close nearby is a stray one and is ignored. */
        size_t closed = 0;
        for (size_t k = j; k < nx.boundary; k++)
            if (s[k] == ')' || s[k] == ']') closed++;
        if (closed < sp->depth && closes_ahead(s, n, j, sp->depth - closed)) return j;
    }
    int attached = 0;
    if (i > 0) {
        prev_start(s, n, i, &cp);
        attached = !is_space(cp) && !is_opener(cp);
    }
    if (others) {
        if (starts_sentence(&nx) || (nx.spaced && nx.kind == NX_LOWER_MIXED)) emit(sp, nx.boundary);
        return j;
    }
    if (dots == 1 && s[i] == '.') {
        on_period(sp, i, &nx);
        return j;
    }
    if (spaced) {
        if (attached) {
            /* "compounds. . . . The": the period ends this sentence, ". . ." opens the next */
            if (dots >= 4 && starts_sentence(&nx)) emit(sp, i + 1);
        } else if (dots >= 4 && starts_sentence(&nx)) {
            emit(sp, nx.boundary);                          /* "period . . . . Next" */
        }
        return j;                                           /* " . . . " mid-sentence omission */
    }
    if ((dots >= 4 || attached) && starts_sentence(&nx)) emit(sp, nx.boundary);
    return j;
}

/* At a token start: a bullet, or the next number/letter of a running list, opens a sentence. */
static void on_token_start(splitter *sp, size_t i, int32_t cp)
{
    const unsigned char *s = sp->s;
    size_t n = sp->n;
    int has_content = find_content_start(sp) < i;
    if (is_bullet(cp)) {
        if (has_content) emit(sp, i);
        return;
    }
    int kind;
    long val = 0;
    size_t k = i;
    if (is_digit(cp)) {
        kind = 1;
        while (k < n && k - i < 3 && is_digit(s[k])) val = val * 10 + (s[k++] - '0');
        if (k < n && is_digit(s[k])) return;
    } else if (cp >= 'a' && cp <= 'z') {
        kind = 2;
        val = cp - 'a';
        k++;
    } else {
        return;
    }
    int style;
    if (k + 1 < n && s[k] == '.' && s[k + 1] == ')') { style = ']'; k += 2; }
    else if (k < n && (s[k] == '.' || s[k] == ')')) style = s[k++];
    else return;
    if (k >= n || !(s[k] == ' ' || s[k] == '\t' || s[k] == '\n')) return;
    while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n')) k++;
    int32_t c2;
    if (k >= n) return;
    decode(s, n, k, &c2);
    if (!is_upper(c2)) return;
    if (!has_content) {
        sp->marker_kind = kind; sp->marker_style = style; sp->marker_val = val;
    } else if (sp->marker_kind == kind && sp->marker_style == style && val == sp->marker_val + 1) {
        emit(sp, i);
        sp->marker_val = val;
    }
}

/* ASCII bytes the main loop must look at: white space, brackets, terminators. (Every non-ASCII
 * byte is looked at too: it may start a space, bullet or terminator.) */
static const unsigned char SIGNIFICANT[128] = {
    ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1, ['!'] = 1, ['.'] = 1,
    ['?'] = 1, ['('] = 1, [')'] = 1, ['['] = 1, [']'] = 1,
};

static int is_ascii_letter(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* The scalar skip below, sixteen bytes at a time where SSE2 is there: the index of the first byte
 * that is SIGNIFICANT or non-ASCII, a space followed by two ASCII letters not counting. Stops
 * early (never late) near the end; the scalar loop takes over from there. */
static size_t skip_plain(const unsigned char *s, size_t i, size_t len)
{
#ifdef __SSE2__
    const __m128i c9 = _mm_set1_epi8(9), c4 = _mm_set1_epi8(4), sp = _mm_set1_epi8(' ');
    const __m128i ca = _mm_set1_epi8('a'), c25 = _mm_set1_epi8(25), c20 = _mm_set1_epi8(0x20);
    const __m128i bang = _mm_set1_epi8('!'), dot = _mm_set1_epi8('.'), q = _mm_set1_epi8('?');
    const __m128i lp = _mm_set1_epi8('('), rp = _mm_set1_epi8(')'), lb = _mm_set1_epi8('['), rb = _mm_set1_epi8(']');
    while (i + 18 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 1));
        __m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 2));
        __m128i t = _mm_sub_epi8(v, c9);
        __m128i ws = _mm_cmpeq_epi8(_mm_min_epu8(t, c4), t); /* \t \n \v \f \r */
        __m128i punct = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, bang), _mm_cmpeq_epi8(v, dot)),
                                     _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, lp)));
        punct = _mm_or_si128(punct, _mm_or_si128(_mm_cmpeq_epi8(v, rp), _mm_or_si128(_mm_cmpeq_epi8(v, lb), _mm_cmpeq_epi8(v, rb))));
        __m128i t1 = _mm_sub_epi8(_mm_or_si128(v1, c20), ca), t2 = _mm_sub_epi8(_mm_or_si128(v2, c20), ca);
        __m128i letters = _mm_and_si128(_mm_cmpeq_epi8(_mm_min_epu8(t1, c25), t1), _mm_cmpeq_epi8(_mm_min_epu8(t2, c25), t2));
        __m128i lone_space = _mm_andnot_si128(letters, _mm_cmpeq_epi8(v, sp));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(ws, punct), lone_space)) |
                     (unsigned)_mm_movemask_epi8(v); /* non-ASCII */
        if (m) return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#else
    (void)s, (void)len;
#endif
    return i;
}

sl_status lp_sentences_split(const char *text, size_t len, lp_spans *out)
{
    if (!out) return sl_set_error(SL_ERR_INVALID, "lp_sentences_split: out is NULL");
    if (!text && len > 0) return sl_set_error(SL_ERR_INVALID, "lp_sentences_split: text is NULL");
    splitter sp;
    memset(&sp, 0, sizeof sp);
    sp.s = (const unsigned char *)text;
    sp.n = len;
    sp.out = out;
    sp.status = SL_OK;
    int at_token_start = 1;
    size_t i = 0;
    while (i < len && sp.status == SL_OK) {
        if (!at_token_start) {
            /* Inside a token, an ASCII byte that is no space, bracket or terminator changes
             * nothing, and neither does a space before a word of two ASCII letters or more
             * (on_token_start acts only on bullets, numbers and one-letter list markers):
             * skip such runs at once (most of any text). */
            for (;;) {
                i = skip_plain(sp.s, i, len);
                while (i < len && sp.s[i] < 0x80 && !SIGNIFICANT[sp.s[i]]) i++;
                if (i + 2 < len && sp.s[i] == ' ' && is_ascii_letter(sp.s[i + 1]) && is_ascii_letter(sp.s[i + 2])) {
                    i += 3;
                    continue;
                }
                break;
            }
            if (i >= len) break;
        }
        int32_t cp;
        size_t l = decode(sp.s, len, i, &cp);
        if (is_space(cp)) {
            if (cp == '\n') {                                /* a blank line ends a sentence */
                size_t k = i + 1;
                while (k < len && (sp.s[k] == ' ' || sp.s[k] == '\t' || sp.s[k] == '\r')) k++;
                if (k < len && sp.s[k] == '\n' && find_content_start(&sp) < i) emit(&sp, i);
            }
            at_token_start = 1;
            i += l;
            continue;
        }
        if (at_token_start) on_token_start(&sp, i, cp);
        at_token_start = is_bullet(cp);
        if (cp == '(' || cp == '[') sp.depth++;
        else if ((cp == ')' || cp == ']') && sp.depth > 0) sp.depth--;
        if (cp == '.' || cp == 0x2026 || is_excl_quest(cp) || is_hard_terminator(cp)) {
            size_t j = on_terminator(&sp, i);
            at_token_start = 0;
            i = j;
            continue;
        }
        i += l;
    }
    if (sp.status == SL_OK) emit(&sp, len);
    return sp.status;
}

void lp_spans_free(lp_spans *spans)
{
    if (!spans) return;
    free(spans->v);
    spans->v = NULL;
    spans->n = spans->cap = 0;
}
