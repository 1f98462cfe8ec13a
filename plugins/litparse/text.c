/* text.c — plain text and Markdown as one document: title from the first heading or line, headings as sections. */
#include "parsers.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_FILE ((size_t)512 << 20)

/* Length of a Markdown ATX heading marker ("## ") at s, 0 if none; *level gets its depth. */
static size_t atx(const char *s, size_t n, int *level) {
    size_t i = 0;
    while (i < n && i < 6 && s[i] == '#') i++;
    if (i == 0 || i >= n || (s[i] != ' ' && s[i] != '\t')) return 0;
    *level = (int)i;
    return i + 1;
}

/* 1 when the line is a setext underline ("====" or "----"), with *level 1 or 2. */
static int setext(const char *s, size_t n, int *level) {
    size_t i = 0;
    while (i < n && (s[i] == ' ')) i++;
    if (i >= n || (s[i] != '=' && s[i] != '-')) return 0;
    char ch = s[i];
    size_t k = i;
    while (k < n && s[k] == ch) k++;
    while (k < n && lp_is_space((unsigned char)s[k])) k++;
    if (k != n || k - i < 3) return 0;
    *level = ch == '=' ? 1 : 2;
    return 1;
}

static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!lp_is_space((unsigned char)s[i])) return 0;
    return 1;
}

/* Strip trailing '#'s of a closed ATX heading ("## Title ##"). */
static size_t trim_closing(const char *s, size_t n) {
    while (n && lp_is_space((unsigned char)s[n - 1])) n--;
    size_t k = n;
    while (k && s[k - 1] == '#') k--;
    if (k < n && (k == 0 || s[k - 1] == ' ')) n = k;
    return n;
}

sl_status lp_parse_text(lp_ctx *c, lp_source *src) {
    size_t max = c->opts && c->opts->max_file_bytes ? c->opts->max_file_bytes : DEFAULT_MAX_FILE;
    char *text;
    size_t len;
    sl_status st = lp_source_slurp(src, max, &text, &len);
    if (st != SL_OK) return st;
    size_t tail, bad = lp_utf8_check((const unsigned char *)text, len, 0, &tail);
    if (bad < len) {
        long line = 1;
        for (size_t i = 0; i < bad; i++) line += text[i] == '\n';
        st = sl_set_error(SL_ERR_PARSE, "%s:%ld: invalid UTF-8 at byte offset %zu (byte 0x%02X)", c->file, line, bad,
                          (unsigned char)text[bad]);
        free(text);
        return st;
    }
    size_t off = len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;
    lp_arena a;
    lp_arena_init(&a, c->opts && c->opts->max_record_bytes ? c->opts->max_record_bytes : (size_t)256 << 20);
    lp_doc *d = lp_doc_new(&a, c->file, c->format, 0);
    lp_section *sec = NULL;
    int title_done = 0;
    lp_buf para = {0};
    int failed = !d;
    /* walk lines; a paragraph is a run of non-blank lines; headings open sections */
    const char *p = text + off, *end = text + len;
    while (p < end && !failed) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r') n--;
        const char *next = nl ? nl + 1 : end;
        int level = 0;
        size_t hm = atx(p, n, &level);
        const char *heading = NULL;
        size_t hlen = 0;
        if (hm) {
            heading = p + hm;
            hlen = trim_closing(heading, n - hm);
        }
        /* setext heading: a one-line block underlined by "===" or "---" */
        if (!hm && !blank(p, n) && next < end) {
            const char *nl2 = memchr(next, '\n', (size_t)(end - next));
            size_t n2 = (size_t)((nl2 ? nl2 : end) - next);
            if (n2 && next[n2 - 1] == '\r') n2--;
            if (para.n == 0 && setext(next, n2, &level)) {
                heading = p;
                hlen = n;
                next = nl2 ? nl2 + 1 : end;
            }
        }
        if (heading || blank(p, n)) {
            if (para.n) {
                if (!title_done) {
                    /* plain text: the first line of the first block is the title */
                    char *nl3 = memchr(para.p, '\n', para.n);
                    size_t tl = nl3 ? (size_t)(nl3 - para.p) : para.n;
                    d->title = lp_arena_norm(&a, para.p, tl);
                    title_done = 1;
                    memmove(para.p, para.p + tl, para.n - tl);
                    para.n -= tl;
                }
                char *t = lp_arena_norm(&a, para.p, para.n);
                if (t) {
                    if (!sec) sec = lp_doc_add_section(&a, &d->sections, &d->nsections, &d->sections_cap);
                    if (!sec || !lp_section_add_para(&a, sec, t, strlen(t), &c->spans)) failed = 1;
                }
                para.n = 0;
            }
            if (heading) {
                char *h = lp_arena_norm(&a, heading, hlen);
                if (!title_done) {
                    d->title = h;
                    title_done = 1;
                } else {
                    sec = lp_doc_add_section(&a, &d->sections, &d->nsections, &d->sections_cap);
                    if (!sec) failed = 1;
                    else {
                        sec->title = h;
                        sec->level = level;
                    }
                }
            }
        } else {
            if (para.n) lp_buf_addc(&para, '\n');
            if (lp_buf_add(&para, p, n) != 0) failed = 1;
        }
        p = next;
    }
    if (!failed && para.n) {
        if (!title_done) {
            char *nl3 = memchr(para.p, '\n', para.n);
            size_t tl = nl3 ? (size_t)(nl3 - para.p) : para.n;
            d->title = lp_arena_norm(&a, para.p, tl);
            memmove(para.p, para.p + tl, para.n - tl);
            para.n -= tl;
        }
        char *t = lp_arena_norm(&a, para.p, para.n);
        if (t) {
            if (!sec) sec = lp_doc_add_section(&a, &d->sections, &d->nsections, &d->sections_cap);
            if (!sec || !lp_section_add_para(&a, sec, t, strlen(t), &c->spans)) failed = 1;
        }
    }
    lp_buf_free(&para);
    free(text);
    if (failed || a.failed) st = lp_ctx_arena_fail(c, &a, 0);
    else if (!d->title && d->nsections == 0) lp_ctx_note(c, "%s: the file holds no text", c->file);
    else st = lp_ctx_emit(c, &a, d);
    lp_arena_free(&a);
    return st;
}
