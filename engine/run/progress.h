/* progress.h — what the user sees while a workflow runs: a live block of running steps on a TTY, plain lines otherwise. */
#ifndef SCILOOP_ENGINE_PROGRESS_H
#define SCILOOP_ENGINE_PROGRESS_H

#include <stdio.h>

typedef struct pg_display pg_display;

/* One running step as the display shows it. The runner owns these and updates them. */
typedef struct pg_line {
    const char *step, *op;
    double start;             /* monotonic seconds */
    double done, total;       /* last progress report (total <= 0: unknown) */
    char what[96];
} pg_line;

/* live: redraw a block of lines in place (a TTY); otherwise print one line per event.
 * quiet: print only failures and the summary. */
pg_display *pg_create(FILE *out, int live, int quiet);
void pg_destroy(pg_display *d);

/* A plain line above the live block (always shown). */
void pg_note(pg_display *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A per-step event line (not shown when quiet). */
void pg_event(pg_display *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Redraw the live block with these running lines and the done/total counts; rate-limited
 * to 10 per second unless `force`. No-op when not live. */
void pg_refresh(pg_display *d, pg_line *const *lines, size_t n, size_t done, size_t total, int force);

/* Remove the live block (before the summary). */
void pg_clear(pg_display *d);

#endif
