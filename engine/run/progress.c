/* progress.c — the live progress block (ANSI cursor movement on a TTY) and plain event lines. */
#define _GNU_SOURCE
#include "progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../base/base.h"

struct pg_display {
    FILE *out;
    int live, quiet;
    size_t drawn;        /* lines of the live block currently on screen */
    double last_draw;
};

pg_display *pg_create(FILE *out, int live, int quiet) {
    pg_display *d = sli_xcalloc(1, sizeof *d);
    d->out = out;
    d->live = live;
    d->quiet = quiet;
    return d;
}

void pg_destroy(pg_display *d) {
    if (!d) return;
    pg_clear(d);
    free(d);
}

void pg_clear(pg_display *d) {
    if (!d->live || !d->drawn) return;
    fprintf(d->out, "\033[%zuA\r\033[J", d->drawn);
    d->drawn = 0;
    fflush(d->out);
}

static void vline(pg_display *d, const char *fmt, va_list ap) {
    pg_clear(d);
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
    if (!d->live) fflush(d->out);
}

void pg_note(pg_display *d, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vline(d, fmt, ap);
    va_end(ap);
}

void pg_event(pg_display *d, const char *fmt, ...) {
    if (d->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vline(d, fmt, ap);
    va_end(ap);
}

void pg_refresh(pg_display *d, pg_line *const *lines, size_t n, size_t done, size_t total, int force) {
    if (!d->live || d->quiet) return;
    double now = sli_now_mono();
    if (!force && now - d->last_draw < 0.1) return;
    d->last_draw = now;
    if (d->drawn) fprintf(d->out, "\033[%zuA\r", d->drawn);
    size_t shown = n > 20 ? 20 : n;
    fprintf(d->out, "\033[K[%zu/%zu done] %zu running\n", done, total, n);
    for (size_t i = 0; i < shown; i++) {
        const pg_line *l = lines[i];
        char prog[64] = "";
        if (l->total > 0) snprintf(prog, sizeof prog, " %5.1f%%", 100.0 * l->done / l->total);
        else if (l->done > 0) snprintf(prog, sizeof prog, " %.0f", l->done);
        fprintf(d->out, "\033[K  %-32s %-24s %7.1fs%s %s\n", l->step, l->op, now - l->start, prog, l->what);
    }
    if (n > shown) fprintf(d->out, "\033[K  … and %zu more\n", n - shown);
    size_t lines_now = 1 + shown + (n > shown);
    if (lines_now < d->drawn) fprintf(d->out, "\033[J");
    d->drawn = lines_now;
    fflush(d->out);
}
