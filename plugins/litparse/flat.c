/* flat.c — paragraph flattening with white-space folding and span bookkeeping. */
#include "flat.h"

#include <stdlib.h>
#include <string.h>

void lp_flat_reset(lp_flat *f) {
    f->buf.n = 0;
    if (f->buf.p) f->buf.p[0] = '\0';
    f->pending = 0;
    f->nmarks = 0;
}

void lp_flat_text(lp_flat *f, const char *s, size_t n) {
    if (f->err || n == 0) return;
    if (lp_buf_reserve(&f->buf, n + 1) != 0) {
        f->err = 1;
        return;
    }
    char *o = f->buf.p + f->buf.n;
    size_t i = 0;
    while (i < n) {
        /* a run of white space becomes one owed space (none at the very start) */
        if (lp_is_space((unsigned char)s[i])) {
            do i++;
            while (i < n && lp_is_space((unsigned char)s[i]));
            if (o != f->buf.p) f->pending = 1;
            continue;
        }
        if (f->pending) {
            /* the reserve covered n+1: one owed space plus at most n characters */
            *o++ = ' ';
            f->pending = 0;
        }
        /* copy at once everything up to the next white space that folding changes */
        size_t j = lp_fold_span(s, i, n);
        memcpy(o, s + i, j - i);
        o += j - i;
        i = j;
    }
    f->buf.n = (size_t)(o - f->buf.p);
    f->buf.p[f->buf.n] = '\0';
}

void lp_flat_space(lp_flat *f) {
    if (f->buf.n) f->pending = 1;
}

size_t lp_flat_start(const lp_flat *f) { return f->buf.n + (f->pending && f->buf.n ? 1 : 0); }
size_t lp_flat_end(const lp_flat *f) { return f->buf.n; }

void lp_flat_mark(lp_flat *f, const char *ref, const char *type, size_t start, size_t end) {
    if (f->err || end <= start) return;
    if (f->nmarks == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 16;
        lp_mark *m = realloc(f->marks, ncap * sizeof *m);
        if (!m) {
            f->err = 1;
            return;
        }
        f->marks = m;
        f->cap = ncap;
    }
    f->marks[f->nmarks++] = (lp_mark){ref, type, start, end};
}

/* Code points in text[from, to), counting as the sentence splitter does: bytes that are not
 * UTF-8 continuation bytes (10xxxxxx), eight at a time. */
static size_t cps(const char *t, size_t from, size_t to) {
    size_t n = 0, i = from;
    for (; i + 8 <= to; i += 8) {
        uint64_t w;
        memcpy(&w, t + i, 8);
        /* bit 7 of each byte that has bit 7 set and bit 6 clear */
        uint64_t cont = w & ~(w << 1) & 0x8080808080808080ull;
        n += 8 - (size_t)lp_popcount64(cont);
    }
    for (; i < to; i++) n += ((unsigned char)t[i] & 0xC0) != 0x80;
    return n;
}

int lp_flat_emit(lp_flat *f, lp_arena *a, lp_section *sec, lp_spans *spans) {
    if (f->err) return -1;
    size_t n = f->buf.n;
    if (n == 0) {
        lp_flat_reset(f);
        return 0;
    }
    char *text = lp_arena_strndup(a, f->buf.p, n);
    if (!text) return -1;
    lp_para *p = lp_section_add_para(a, sec, text, n, spans);
    if (!p) return -1;
    /* marks come in document order; convert with a forward cursor, restarting when one goes back */
    size_t cur_b = 0, cur_cp = 0;
    for (size_t i = 0; i < f->nmarks; i++) {
        lp_mark *m = &f->marks[i];
        size_t s = m->start > n ? n : m->start, e = m->end > n ? n : m->end;
        if (e <= s) continue;
        if (s < cur_b) cur_b = 0, cur_cp = 0;
        size_t scp = cur_cp + cps(text, cur_b, s);
        size_t ecp = scp + cps(text, s, e);
        cur_b = s, cur_cp = scp;
        if (lp_para_add_cite(a, p, m->ref, m->type, (uint32_t)scp, (uint32_t)ecp) != 0) return -1;
    }
    lp_flat_reset(f);
    return 0;
}

char *lp_flat_take(lp_flat *f, lp_arena *a) {
    char *s = NULL;
    if (!f->err && f->buf.n) s = lp_arena_strndup(a, f->buf.p, f->buf.n);
    lp_flat_reset(f);
    return s;
}

void lp_flat_free(lp_flat *f) {
    if (!f) return;
    lp_buf_free(&f->buf);
    free(f->marks);
    memset(f, 0, sizeof *f);
}
