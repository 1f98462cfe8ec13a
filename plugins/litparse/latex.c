/* latex.c — convert the TeX markup of BibTeX field values to plain UTF-8 text.
 *
 * A single pass over the input with an explicit stack of brace groups (no recursion). A group
 * can carry an action applied to its output when it closes: an accent on its first letter,
 * super/subscript, quotes around it, upper/lower case, or dropping it (the URL of \href).
 * Accents are emitted as combining marks and the result is normalised to NFC, so any letter
 * takes any accent. */
#include "latex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define MAX_GROUPS 256   /* deeper groups still balance but carry no action */
#define MAX_CMD 40       /* longest command name looked up */

/* ---- output buffer ------------------------------------------------------------------------ */

typedef struct buf {
    char *p;
    size_t n, cap;
    int oom;
} buf;

static void buf_reserve(buf *b, size_t extra)
{
    if (b->oom || b->n + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = 1; return; }
    b->p = p;
    b->cap = cap;
}

static void buf_put(buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    if (b->oom) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void buf_putc(buf *b, char c) { buf_put(b, &c, 1); }

static void buf_cp(buf *b, int32_t cp)
{
    unsigned char tmp[4];
    utf8proc_ssize_t k = utf8proc_encode_char(cp, tmp);
    if (k > 0) buf_put(b, (const char *)tmp, (size_t)k);
}

/* ---- tables ----------------------------------------------------------------------------------- */

typedef struct sym { const char *name; const char *utf8; } sym;

/* Control words that stand for text. Sorted by strcmp for bsearch. */
static const sym SYMBOLS[] = {
    {"AA", "\xc3\x85"}, {"AE", "\xc3\x86"}, {"BibTeX", "BibTeX"}, {"DH", "\xc3\x90"},
    {"DJ", "\xc4\x90"}, {"Delta", "\xce\x94"}, {"Gamma", "\xce\x93"}, {"L", "\xc5\x81"},
    {"LaTeX", "LaTeX"}, {"Lambda", "\xce\x9b"}, {"NG", "\xc5\x8a"}, {"O", "\xc3\x98"},
    {"OE", "\xc5\x92"}, {"Omega", "\xce\xa9"}, {"P", "\xc2\xb6"}, {"Phi", "\xce\xa6"},
    {"Pi", "\xce\xa0"}, {"Psi", "\xce\xa8"}, {"Rightarrow", "\xe2\x87\x92"}, {"S", "\xc2\xa7"},
    {"Sigma", "\xce\xa3"}, {"TH", "\xc3\x9e"}, {"TeX", "TeX"}, {"Theta", "\xce\x98"},
    {"Upsilon", "\xce\xa5"}, {"Xi", "\xce\x9e"}, {"aa", "\xc3\xa5"}, {"ae", "\xc3\xa6"},
    {"aleph", "\xe2\x84\xb5"}, {"alpha", "\xce\xb1"}, {"approx", "\xe2\x89\x88"},
    {"ast", "*"}, {"backslash", "\\"}, {"beta", "\xce\xb2"}, {"bullet", "\xe2\x80\xa2"},
    {"cdot", "\xc2\xb7"}, {"cdots", "\xe2\x8b\xaf"}, {"checkmark", "\xe2\x9c\x93"},
    {"chi", "\xcf\x87"}, {"circ", "\xe2\x88\x98"}, {"copyright", "\xc2\xa9"}, {"dag", "\xe2\x80\xa0"},
    {"ddag", "\xe2\x80\xa1"}, {"degree", "\xc2\xb0"}, {"delta", "\xce\xb4"}, {"dh", "\xc3\xb0"},
    {"div", "\xc3\xb7"}, {"dj", "\xc4\x91"}, {"dots", "\xe2\x80\xa6"}, {"downarrow", "\xe2\x86\x93"},
    {"ell", "\xe2\x84\x93"}, {"emdash", "\xe2\x80\x94"}, {"endash", "\xe2\x80\x93"},
    {"epsilon", "\xce\xb5"}, {"equiv", "\xe2\x89\xa1"}, {"eta", "\xce\xb7"}, {"euro", "\xe2\x82\xac"},
    {"exists", "\xe2\x88\x83"}, {"forall", "\xe2\x88\x80"}, {"gamma", "\xce\xb3"}, {"ge", "\xe2\x89\xa5"},
    {"geq", "\xe2\x89\xa5"}, {"gg", "\xe2\x89\xab"}, {"guillemotleft", "\xc2\xab"},
    {"guillemotright", "\xc2\xbb"}, {"hbar", "\xe2\x84\x8f"}, {"i", "\xc4\xb1"}, {"in", "\xe2\x88\x88"},
    {"infty", "\xe2\x88\x9e"}, {"int", "\xe2\x88\xab"}, {"iota", "\xce\xb9"}, {"j", "\xc8\xb7"},
    {"kappa", "\xce\xba"}, {"l", "\xc5\x82"}, {"lambda", "\xce\xbb"}, {"langle", "\xe2\x9f\xa8"},
    {"ldots", "\xe2\x80\xa6"}, {"le", "\xe2\x89\xa4"}, {"leftarrow", "\xe2\x86\x90"},
    {"leftrightarrow", "\xe2\x86\x94"}, {"leq", "\xe2\x89\xa4"}, {"ll", "\xe2\x89\xaa"},
    {"mid", "|"}, {"mp", "\xe2\x88\x93"}, {"mu", "\xce\xbc"}, {"nabla", "\xe2\x88\x87"},
    {"neq", "\xe2\x89\xa0"}, {"ng", "\xc5\x8b"}, {"nobreakspace", "\xc2\xa0"}, {"nu", "\xce\xbd"},
    {"o", "\xc3\xb8"}, {"oe", "\xc5\x93"}, {"omega", "\xcf\x89"}, {"partial", "\xe2\x88\x82"},
    {"perp", "\xe2\x8a\xa5"}, {"phi", "\xcf\x86"}, {"pi", "\xcf\x80"}, {"pm", "\xc2\xb1"},
    {"pounds", "\xc2\xa3"}, {"prime", "\xe2\x80\xb2"}, {"prod", "\xe2\x88\x8f"}, {"propto", "\xe2\x88\x9d"},
    {"psi", "\xcf\x88"}, {"quad", " "}, {"qquad", " "}, {"rangle", "\xe2\x9f\xa9"}, {"rho", "\xcf\x81"},
    {"rightarrow", "\xe2\x86\x92"}, {"sigma", "\xcf\x83"}, {"sim", "\xe2\x88\xbc"},
    {"simeq", "\xe2\x89\x83"}, {"slash", "/"}, {"sqrt", "\xe2\x88\x9a"}, {"ss", "\xc3\x9f"},
    {"star", "\xe2\x8b\x86"}, {"sum", "\xe2\x88\x91"}, {"tau", "\xcf\x84"}, {"textasciicircum", "^"},
    {"textasciitilde", "~"}, {"textasteriskcentered", "*"}, {"textbackslash", "\\"},
    {"textbar", "|"}, {"textbraceleft", "{"}, {"textbraceright", "}"}, {"textbullet", "\xe2\x80\xa2"},
    {"textcelsius", "\xe2\x84\x83"}, {"textcent", "\xc2\xa2"}, {"textcopyright", "\xc2\xa9"},
    {"textdagger", "\xe2\x80\xa0"}, {"textdaggerdbl", "\xe2\x80\xa1"}, {"textdegree", "\xc2\xb0"},
    {"textdiv", "\xc3\xb7"}, {"textdollar", "$"}, {"textellipsis", "\xe2\x80\xa6"},
    {"textemdash", "\xe2\x80\x94"}, {"textendash", "\xe2\x80\x93"}, {"texteuro", "\xe2\x82\xac"},
    {"textexclamdown", "\xc2\xa1"}, {"textgreater", ">"}, {"textless", "<"}, {"textminus", "\xe2\x88\x92"},
    {"textmu", "\xc2\xb5"}, {"textohm", "\xe2\x84\xa6"}, {"textonehalf", "\xc2\xbd"},
    {"textonequarter", "\xc2\xbc"}, {"textordfeminine", "\xc2\xaa"}, {"textordmasculine", "\xc2\xba"},
    {"textparagraph", "\xc2\xb6"}, {"textperiodcentered", "\xc2\xb7"}, {"textperthousand", "\xe2\x80\xb0"},
    {"textpm", "\xc2\xb1"}, {"textquestiondown", "\xc2\xbf"}, {"textquotedbl", "\""},
    {"textquotedblleft", "\xe2\x80\x9c"}, {"textquotedblright", "\xe2\x80\x9d"},
    {"textquoteleft", "\xe2\x80\x98"}, {"textquoteright", "\xe2\x80\x99"},
    {"textquotesingle", "'"}, {"textregistered", "\xc2\xae"}, {"textsection", "\xc2\xa7"},
    {"textsterling", "\xc2\xa3"}, {"textthreequarters", "\xc2\xbe"}, {"texttimes", "\xc3\x97"},
    {"texttrademark", "\xe2\x84\xa2"}, {"textunderscore", "_"}, {"textyen", "\xc2\xa5"},
    {"th", "\xc3\xbe"}, {"theta", "\xce\xb8"}, {"times", "\xc3\x97"}, {"to", "\xe2\x86\x92"},
    {"uparrow", "\xe2\x86\x91"}, {"upsilon", "\xcf\x85"}, {"varepsilon", "\xce\xb5"},
    {"varphi", "\xcf\x86"}, {"vartheta", "\xcf\x91"}, {"xi", "\xce\xbe"}, {"zeta", "\xce\xb6"},
};

/* Group actions. */
enum {
    ACT_NONE = 0,
    ACT_ACCENT,   /* put `mark` on the first character */
    ACT_SUP,      /* superscript the content where Unicode has the characters */
    ACT_SUB,
    ACT_QUOTE,    /* “content” */
    ACT_UPPER,
    ACT_LOWER,
    ACT_DROP      /* discard the content (first argument of \href, \textcolor, ...) */
};

/* Control words that take one argument and act on it. Sorted by strcmp. */
typedef struct cmdact { const char *name; int act; } cmdact;
static const cmdact ARG_COMMANDS[] = {
    {"MakeLowercase", ACT_LOWER}, {"MakeUppercase", ACT_UPPER}, {"color", ACT_DROP},
    {"enquote", ACT_QUOTE}, {"foreignlanguage", ACT_DROP}, {"href", ACT_DROP},
    {"hyphenation", ACT_DROP}, {"label", ACT_DROP}, {"lowercase", ACT_LOWER},
    {"mkbibquote", ACT_QUOTE}, {"mkbibsubscript", ACT_SUB}, {"mkbibsuperscript", ACT_SUP},
    {"selectlanguage", ACT_DROP}, {"textcolor", ACT_DROP}, {"textsubscript", ACT_SUB},
    {"textsuperscript", ACT_SUP}, {"uppercase", ACT_UPPER},
};

/* Accent control words and symbols → combining mark. */
static int32_t accent_mark(const char *name, size_t len)
{
    if (len > 1) {
        static const struct { const char *name; int32_t mark; } LONG[] = {
            {"acute", 0x0301}, {"bar", 0x0305}, {"breve", 0x0306}, {"check", 0x030C},
            {"ddot", 0x0308}, {"dot", 0x0307}, {"grave", 0x0300}, {"hat", 0x0302},
            {"mathring", 0x030A}, {"ocirc", 0x030A}, {"overline", 0x0305}, {"tilde", 0x0303},
            {"vec", 0x20D7}, {"widehat", 0x0302}, {"widetilde", 0x0303},
        };
        for (size_t k = 0; k < sizeof LONG / sizeof *LONG; k++)
            if (strcmp(name, LONG[k].name) == 0) return LONG[k].mark;
        return 0;
    }
    if (len != 1) return 0;
    switch (name[0]) {
    case '\'': return 0x0301;
    case '`': return 0x0300;
    case '^': return 0x0302;
    case '"': return 0x0308;
    case '~': return 0x0303;
    case '=': return 0x0304;
    case '.': return 0x0307;
    case 'u': return 0x0306;
    case 'v': return 0x030C;
    case 'H': return 0x030B;
    case 'c': return 0x0327;
    case 'd': return 0x0323;
    case 'b': return 0x0331;
    case 'k': return 0x0328;
    case 'r': return 0x030A;
    case 't': return 0x0361;
    case 'G': return 0x030F;
    default: return 0;
    }
}

/* The spacing form of an accent written on nothing ("\~{}" is a tilde). */
static const char *spacing_accent(int32_t mark)
{
    switch (mark) {
    case 0x0303: return "~";
    case 0x0302: return "^";
    case 0x0301: return "\xc2\xb4";
    case 0x0300: return "`";
    case 0x0308: return "\xc2\xa8";
    case 0x0304: return "\xc2\xaf";
    default: return "";
    }
}

static int cmp_sym(const void *k, const void *e) { return strcmp((const char *)k, ((const sym *)e)->name); }
static int cmp_cmd(const void *k, const void *e) { return strcmp((const char *)k, ((const cmdact *)e)->name); }

static const char *symbol_lookup(const char *name)
{
    const sym *s = bsearch(name, SYMBOLS, sizeof SYMBOLS / sizeof *SYMBOLS, sizeof *SYMBOLS, cmp_sym);
    return s ? s->utf8 : NULL;
}

static int arg_command(const char *name)
{
    const cmdact *c = bsearch(name, ARG_COMMANDS, sizeof ARG_COMMANDS / sizeof *ARG_COMMANDS,
                              sizeof *ARG_COMMANDS, cmp_cmd);
    return c ? c->act : ACT_NONE;
}

/* Commands that produce nothing and take no argument (font switches, spacing hints). */
static int is_switch(const char *name)
{
    static const char *const SWITCHES[] = {
        "bf", "bfseries", "em", "footnotesize", "huge", "it", "itshape", "large", "mdseries",
        "noindent", "normalfont", "normalsize", "protect", "relax", "rm", "rmfamily", "sc",
        "scshape", "sf", "sffamily", "sl", "slshape", "small", "tt", "ttfamily", "upshape",
        "displaystyle", "textstyle", "scriptstyle", "left", "right", "big", "Big", "bigl", "bigr",
        "xspace", "ignorespaces", "unskip", "par", "newline", "linebreak", "allowbreak",
    };
    for (size_t k = 0; k < sizeof SWITCHES / sizeof *SWITCHES; k++)
        if (strcmp(name, SWITCHES[k]) == 0) return 1;
    return 0;
}

/* Unicode super/subscript forms; 0 when there is none. */
static int32_t sup_of(int32_t c)
{
    switch (c) {
    case '0': return 0x2070; case '1': return 0xB9; case '2': return 0xB2; case '3': return 0xB3;
    case '4': return 0x2074; case '5': return 0x2075; case '6': return 0x2076; case '7': return 0x2077;
    case '8': return 0x2078; case '9': return 0x2079; case '+': return 0x207A; case '-': return 0x207B;
    case 0x2212: return 0x207B; case '=': return 0x207C; case '(': return 0x207D; case ')': return 0x207E;
    case 'n': return 0x207F; case 'i': return 0x2071;
    default: return 0;
    }
}

static int32_t sub_of(int32_t c)
{
    if (c >= '0' && c <= '9') return 0x2080 + (c - '0');
    switch (c) {
    case '+': return 0x208A; case '-': return 0x208B; case 0x2212: return 0x208B; case '=': return 0x208C;
    case '(': return 0x208D; case ')': return 0x208E; case 'a': return 0x2090; case 'e': return 0x2091;
    case 'o': return 0x2092; case 'x': return 0x2093; case 'h': return 0x2095; case 'k': return 0x2096;
    case 'l': return 0x2097; case 'm': return 0x2098; case 'n': return 0x2099; case 'p': return 0x209A;
    case 's': return 0x209B; case 't': return 0x209C;
    default: return 0;
    }
}

/* ---- converter state -------------------------------------------------------------------------- */

typedef struct group {
    int act;
    int32_t mark;     /* ACT_ACCENT */
    size_t out_start; /* output length when the group opened */
    int math;         /* math mode when the group opened (restored on close) */
} group;

typedef struct conv {
    const unsigned char *s;
    size_t n, i;
    int mode;
    buf out;
    int pending;          /* 0 none, 1 a space, 2 a paragraph break, waiting for the next text */
    int math;
    int composed;         /* a combining mark was written: the result needs NFC */
    group small[16];      /* the group stack lives here until it needs more */
    group *stack;
    size_t cap;           /* groups the stack can hold (at most MAX_GROUPS) */
    size_t depth;         /* groups open (may exceed `cap`; deeper ones carry no action) */
    int next_act;         /* action for the next '{' (set by a command that takes an argument) */
    int32_t next_mark;
    int next_script;      /* 1 sup / 2 sub for the next single token in math mode */
} conv;

/* Emit text: pending white space first, then the bytes. */
static void emit(conv *c, const char *s, size_t n)
{
    if (n == 0) return;
    if (c->pending && c->out.n > 0) {
        if (c->pending == 2) buf_put(&c->out, "\n\n", 2);
        else buf_putc(&c->out, ' ');
    }
    c->pending = 0;
    buf_put(&c->out, s, n);
}

static void emit_cp(conv *c, int32_t cp)
{
    unsigned char tmp[4];
    utf8proc_ssize_t k = utf8proc_encode_char(cp, tmp);
    if (k > 0) emit(c, (const char *)tmp, (size_t)k);
}

static void space(conv *c, int newlines)
{
    int want = newlines >= 2 && c->mode == LP_LATEX_TEXT ? 2 : 1;
    if (want > c->pending) c->pending = want;
}

/* Length of the UTF-8 sequence at p (1 for malformed bytes). */
static size_t seq_len(const unsigned char *p, size_t avail, int32_t *cp)
{
    utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)avail, cp);
    if (k <= 0) { *cp = 0xFFFD; return 1; }
    return (size_t)k;
}

/* Insert `mark` after the first character written since `from` (a dotless i/j becomes i/j). */
static void apply_accent(conv *c, size_t from, int32_t mark)
{
    buf *b = &c->out;
    size_t p = from;
    while (p < b->n && b->p[p] == ' ') p++;
    if (p >= b->n) {                          /* accent on nothing: its spacing form */
        const char *sp = spacing_accent(mark);
        emit(c, sp, strlen(sp));
        return;
    }
    int32_t cp;
    size_t l = seq_len((const unsigned char *)b->p + p, b->n - p, &cp);
    if (cp == 0x131 || cp == 0x237) {         /* \'\i: accent the ordinary i/j */
        b->p[p] = cp == 0x131 ? 'i' : 'j';
        memmove(b->p + p + 1, b->p + p + l, b->n - p - l);
        b->n -= l - 1;
        l = 1;
    }
    unsigned char m[4];
    utf8proc_ssize_t ml = utf8proc_encode_char(mark, m);
    buf_reserve(b, (size_t)ml);
    if (b->oom) return;
    memmove(b->p + p + l + ml, b->p + p + l, b->n - p - l);
    memcpy(b->p + p + l, m, (size_t)ml);
    b->n += (size_t)ml;
    c->composed = 1;
}

/* Rewrite the output since `from` as super/subscript if every character has such a form. */
static void apply_script(conv *c, size_t from, int sup)
{
    buf *b = &c->out;
    size_t p = from;
    int32_t cp;
    if (from >= b->n) return;
    while (p < b->n) {
        p += seq_len((const unsigned char *)b->p + p, b->n - p, &cp);
        if (!(sup ? sup_of(cp) : sub_of(cp))) return;
    }
    size_t len = b->n - from;
    char *tmp = malloc(len);
    if (!tmp) { b->oom = 1; return; }
    memcpy(tmp, b->p + from, len);
    b->n = from;
    for (p = 0; p < len;) {
        p += seq_len((const unsigned char *)tmp + p, len - p, &cp);
        buf_cp(b, sup ? sup_of(cp) : sub_of(cp));
    }
    free(tmp);
}

static void apply_case(conv *c, size_t from, int upper)
{
    buf *b = &c->out;
    size_t len = b->n - from, p = 0;
    int32_t cp;
    char *tmp = malloc(len ? len : 1);
    if (!tmp) { b->oom = 1; return; }
    memcpy(tmp, b->p + from, len);
    b->n = from;
    while (p < len) {
        p += seq_len((const unsigned char *)tmp + p, len - p, &cp);
        buf_cp(b, upper ? utf8proc_toupper(cp) : utf8proc_tolower(cp));
    }
    free(tmp);
}

static void open_group(conv *c)
{
    if (c->depth == c->cap && c->cap < MAX_GROUPS) {
        size_t cap = c->cap * 4 < MAX_GROUPS ? c->cap * 4 : MAX_GROUPS;
        group *g = malloc(cap * sizeof *g);
        if (g) {
            memcpy(g, c->stack, c->depth * sizeof *g);
            if (c->stack != c->small) free(c->stack);
            c->stack = g;
            c->cap = cap;
        }                                    /* on failure deeper groups just carry no action */
    }
    if (c->depth < c->cap) {
        group *g = &c->stack[c->depth];
        g->act = c->next_act;
        g->mark = c->next_mark;
        g->math = c->math;
        if (g->act == ACT_QUOTE) emit(c, "\xe2\x80\x9c", 3);
        if (g->act == ACT_ACCENT || g->act == ACT_SUP || g->act == ACT_SUB) {
            /* pending space belongs before the group's text, not inside the rewritten part */
            if (c->pending && c->out.n > 0) {
                buf_put(&c->out, c->pending == 2 ? "\n\n" : " ", c->pending == 2 ? 2 : 1);
            }
            c->pending = 0;
        }
        g->out_start = c->out.n;
    }
    c->depth++;
    c->next_act = ACT_NONE;
    c->next_mark = 0;
}

static void close_group(conv *c)
{
    if (c->depth == 0) return;               /* unbalanced '}': ignored */
    c->depth--;
    if (c->depth >= c->cap) return;
    group *g = &c->stack[c->depth];
    switch (g->act) {
    case ACT_ACCENT: apply_accent(c, g->out_start, g->mark); break;
    case ACT_SUP: apply_script(c, g->out_start, 1); break;
    case ACT_SUB: apply_script(c, g->out_start, 0); break;
    case ACT_QUOTE: c->pending = 0; buf_put(&c->out, "\xe2\x80\x9d", 3); break;
    case ACT_UPPER: apply_case(c, g->out_start, 1); break;
    case ACT_LOWER: apply_case(c, g->out_start, 0); break;
    case ACT_DROP: c->out.n = g->out_start; c->pending = 0; break;
    default: break;
    }
    c->math = g->math;
}

/* Skip spaces and at most one line break after a control word (TeX eats them). */
static void skip_spaces(conv *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' ||
                           c->s[c->i] == '\r'))
        c->i++;
}

/* Emit one character of input (used for an accent's or a script's single-token argument). */
static size_t next_token_text(conv *c, char *out, size_t cap)
{
    if (c->i >= c->n) return 0;
    if (c->s[c->i] == '\\' && c->i + 1 < c->n) {
        size_t j = c->i + 1, k = 0;
        char name[MAX_CMD + 1];
        while (j < c->n && k < MAX_CMD && ((c->s[j] | 0x20) >= 'a' && (c->s[j] | 0x20) <= 'z'))
            name[k++] = (char)c->s[j++];
        name[k] = '\0';
        if (k == 1 && (name[0] == 'i' || name[0] == 'j')) {
            c->i = j;
            out[0] = name[0];
            return 1;
        }
        const char *text = k ? symbol_lookup(name) : NULL;
        if (text && strlen(text) < cap) {
            c->i = j;
            memcpy(out, text, strlen(text));
            return strlen(text);
        }
        return 0;
    }
    int32_t cp;
    size_t l = seq_len(c->s + c->i, c->n - c->i, &cp);
    if (l > cap || c->s[c->i] == '}' || c->s[c->i] == '{') return 0;
    memcpy(out, c->s + c->i, l);
    c->i += l;
    return l;
}

/* A control sequence starting at c->i ('\\'). */
static void command(conv *c)
{
    const unsigned char *s = c->s;
    size_t j = c->i + 1;
    char name[MAX_CMD + 1];
    size_t k = 0;
    if (j >= c->n) { c->i = j; return; }
    if ((s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z') {
        while (j < c->n && ((s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z')) {
            if (k < MAX_CMD) name[k] = (char)s[j];
            k++;
            j++;
        }
        if (k > MAX_CMD) k = MAX_CMD;     /* absurdly long: treated as unknown */
        name[k] = '\0';
        c->i = j;
        if (c->i < c->n && s[c->i] == '*' && c->mode == LP_LATEX_TEXT) c->i++;   /* starred forms */
        if (c->mode == LP_LATEX_TEXT) skip_spaces(c);
    } else {
        name[0] = (char)s[j];
        name[1] = '\0';
        k = 1;
        c->i = j + 1;
        int32_t cp;
        if (s[j] >= 0x80) c->i = j + seq_len(s + j, c->n - j, &cp);
    }

    if (c->mode == LP_LATEX_VERBATIM) {
        /* only escapes of special characters mean anything in a URL; \url{...} and \path{...}
         * wrappers are dropped; anything else is kept as written (a Windows path) */
        if (k == 1 && strchr("_%&#${}~^ ", name[0]) && !((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z'))
            emit(c, name, 1);
        else if (strcmp(name, "url") == 0 || strcmp(name, "path") == 0 || strcmp(name, "nolinkurl") == 0) {
        } else { emit(c, "\\", 1); emit(c, name, k); }
        return;
    }

    int32_t mark = accent_mark(name, k);
    if (mark) {
        /* TeX does not skip spaces after a control-symbol accent, but "\' e" in a .bib file
         * still means é */
        skip_spaces(c);
        if (c->i < c->n && s[c->i] == '{') {
            c->next_act = ACT_ACCENT;
            c->next_mark = mark;
            return;                        /* the '{' is handled by the main loop */
        }
        char tok[8];
        size_t tl = next_token_text(c, tok, sizeof tok);
        if (tl == 0) {
            const char *sp = spacing_accent(mark);
            emit(c, sp, strlen(sp));
            return;
        }
        emit(c, tok, tl);
        emit_cp(c, mark);
        c->composed = 1;
        return;
    }
    if (k == 1) {
        switch (name[0]) {
        case '\\': space(c, 1); return;                 /* line break */
        case ' ': case ',': case ';': case ':': case '>': space(c, 1); return;
        case '!': case '-': case '/': case '@': return;  /* negative space, hyphenation hint */
        case '&': case '%': case '$': case '#': case '_': case '{': case '}':
            emit(c, name, 1);
            return;
        case '(': case '[': c->math = 1; return;
        case ')': case ']': c->math = 0; return;
        default:
            if (((unsigned char)name[0] | 0x20) >= 'a' && ((unsigned char)name[0] | 0x20) <= 'z') break;
            emit(c, name, strlen(name));                 /* unknown control symbol: keep it */
            return;
        }
    }
    const char *text = symbol_lookup(name);
    if (text) { emit(c, text, strlen(text)); return; }
    if (is_switch(name)) return;
    int act = arg_command(name);
    if (act != ACT_NONE && c->i < c->n && s[c->i] == '{') {
        c->next_act = act;
        return;
    }
    /* anything else (\emph, \textbf, \url, \mathrm, unknown macros): drop the name, keep the
     * argument, which the main loop reads as an ordinary group */
}

sl_status lp_latex_to_utf8(const char *tex, size_t len, int mode, char **out, size_t *out_len)
{
    if (!out || (!tex && len)) return sl_set_error(SL_ERR_INVALID, "lp_latex_to_utf8: NULL argument");
    conv cv;
    conv *c = &cv;
    memset(c, 0, sizeof *c);
    c->stack = c->small;
    c->cap = sizeof c->small / sizeof *c->small;
    c->s = (const unsigned char *)tex;
    c->n = len;
    c->mode = mode;
    buf_reserve(&c->out, len + 16);
    while (c->i < c->n && !c->out.oom) {
        unsigned char ch = c->s[c->i];
        int32_t cp;
        switch (ch) {
        case '\\':
            command(c);
            continue;
        case '{':
            c->i++;
            if (c->mode == LP_LATEX_TEXT) {
                int script = c->next_script;
                c->next_script = 0;
                if (script) c->next_act = script == 1 ? ACT_SUP : ACT_SUB;
                open_group(c);
            }
            continue;
        case '}':
            c->i++;
            if (c->mode == LP_LATEX_TEXT) close_group(c);
            continue;
        case ' ': case '\t': case '\r': case '\n': case '\f': case '\v': {
            int nl = 0;
            while (c->i < c->n && strchr(" \t\r\n\f\v", c->s[c->i]) && c->s[c->i] != '\0') {
                if (c->s[c->i] == '\n') nl++;
                c->i++;
            }
            if (!c->math || c->mode == LP_LATEX_VERBATIM) space(c, nl);   /* TeX ignores spaces in math */
            continue;
        }
        default:
            break;
        }
        if (c->mode == LP_LATEX_VERBATIM) {
            size_t l = seq_len(c->s + c->i, c->n - c->i, &cp);
            emit(c, (const char *)c->s + c->i, l);
            c->i += l;
            continue;
        }
        if (ch == '$') {
            c->i++;
            if (c->i < c->n && c->s[c->i] == '$') c->i++;
            c->math = !c->math;
            continue;
        }
        if (c->math && (ch == '^' || ch == '_')) {
            c->i++;
            while (c->i < c->n && c->s[c->i] == ' ') c->i++;
            if (c->i < c->n && c->s[c->i] == '{') { c->next_script = ch == '^' ? 1 : 2; continue; }
            char tok[8];
            size_t tl = next_token_text(c, tok, sizeof tok);
            if (tl) {
                int32_t t;
                size_t l = seq_len((const unsigned char *)tok, tl, &t);
                int32_t sc = l == tl ? (ch == '^' ? sup_of(t) : sub_of(t)) : 0;
                if (sc) emit_cp(c, sc);
                else emit(c, tok, tl);
            }
            continue;
        }
        if (ch == '~') { emit(c, "\xc2\xa0", 2); c->i++; continue; }
        if (ch == '-' && !c->math) {
            size_t run = 0;
            while (c->i + run < c->n && c->s[c->i + run] == '-') run++;
            if (run == 2) emit(c, "\xe2\x80\x93", 3);
            else if (run == 3) emit(c, "\xe2\x80\x94", 3);
            else for (size_t r = 0; r < run; r++) emit(c, "-", 1);
            c->i += run;
            continue;
        }
        if (ch == '`' && c->i + 1 < c->n && c->s[c->i + 1] == '`') { emit(c, "\xe2\x80\x9c", 3); c->i += 2; continue; }
        if (ch == '\'' && c->i + 1 < c->n && c->s[c->i + 1] == '\'') { emit(c, "\xe2\x80\x9d", 3); c->i += 2; continue; }
        size_t l = seq_len(c->s + c->i, c->n - c->i, &cp);
        if (cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x3000) {
            /* Unicode spaces other than no-break space fold like ASCII ones */
            if (cp == 0xA0) emit(c, (const char *)c->s + c->i, l);
            else space(c, 0);
            c->i += l;
            continue;
        }
        emit(c, (const char *)c->s + c->i, l);
        c->i += l;
    }
    while (c->depth > 0 && !c->out.oom) close_group(c);    /* unbalanced '{': close at the end */
    if (c->stack != c->small) free(c->stack);
    if (!c->out.oom) buf_putc(&c->out, '\0');
    if (c->out.oom) {
        free(c->out.p);
        return sl_set_error(SL_ERR_NOMEM, "lp_latex_to_utf8: out of memory");
    }
    c->out.n--;
    char *res = c->out.p;
    size_t res_len = c->out.n;
    /* NFC joins base letters and the combining marks that accents produced; text without
     * such marks is left exactly as it came */
    if (c->composed) {
        utf8proc_uint8_t *nfc = NULL;
        utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)res, (utf8proc_ssize_t)res_len, &nfc,
                                          UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (r >= 0 && nfc) {
            free(res);
            res = (char *)nfc;
            res_len = (size_t)r;
        } else if (r == UTF8PROC_ERROR_NOMEM) {
            free(res);
            return sl_set_error(SL_ERR_NOMEM, "lp_latex_to_utf8: out of memory");
        }
        /* other errors (malformed UTF-8 the caller should have repaired): keep the text as is */
    }
    *out = res;
    if (out_len) *out_len = res_len;
    return SL_OK;
}
