/* lp_dump.c — command-line driver: parse literature files with litparse and print the documents as JSON Lines.
 *
 *   litparse_dump [--format NAME] [--columns MAP] [--threads N] [--quiet] FILE...
 *
 * Used by the agreement script (tests/reference/litparse) and the benchmark. Files are parsed the
 * way litparse.parse does it (lp_batch_run: N threads, output in file order). --quiet writes the
 * documents to /dev/null and prints "N documents, peak RSS K KiB" to stderr. Exit status 1 when
 * a file fails (its message, "file:line:col: reason", goes to stderr), 2 on a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "litparse.h"

/* The process's own peak resident set (VmHWM), which starts at exec; getrusage's ru_maxrss would
 * also count the memory of the process that forked us. -1 when unknown. */
static long peak_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kib = strtol(line + 6, NULL, 10);
    if (f) fclose(f);
    return kib;
}

typedef struct tally {
    size_t docs;
    int failed;
    int quiet;
} tally;

static sl_status file_done(void *user, size_t index, const lp_batch_report *rep) {
    (void)index;
    tally *t = user;
    if (!t->quiet)
        for (size_t k = 0; k < rep->nnotes; k++) fprintf(stderr, "note: %s\n", rep->notes[k]);
    if (rep->status != SL_OK) {
        fprintf(stderr, "%s\n", rep->message ? rep->message : sl_status_name(rep->status));
        t->failed = 1;
        if (rep->write_failed) return rep->status;
    }
    t->docs += rep->docs;
    return SL_OK;
}

int main(int argc, char **argv) {
    lp_options opts;
    memset(&opts, 0, sizeof opts);
    opts.header = -1;
    lp_format fmt = LP_FMT_UNKNOWN;
    int threads = 1;
    tally t = {0, 0, 0};
    lp_batch_job *jobs = calloc((size_t)argc, sizeof *jobs);
    size_t n = 0;
    if (!jobs) return 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            fmt = lp_format_parse(argv[++i]);
        } else if (!strcmp(argv[i], "--columns") && i + 1 < argc) {
            opts.columns = argv[++i];
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--quiet")) {
            t.quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "usage: %s [--format NAME] [--columns MAP] [--threads N] [--quiet] FILE...\n", argv[0]);
            free(jobs);
            return 2;
        } else {
            jobs[n++] = (lp_batch_job){argv[i], argv[i], LP_FMT_UNKNOWN};
        }
    }
    for (size_t i = 0; i < n; i++) jobs[i].format = fmt;
    FILE *out = t.quiet ? fopen("/dev/null", "wb") : stdout;
    if (!out) {
        free(jobs);
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    lp_batch_cb cb = {&t, file_done, NULL};
    sl_status st = lp_batch_run(jobs, n, threads, &opts, out, tmp ? tmp : "/tmp", &cb);
    if (st != SL_OK) t.failed = 1;
    if (fflush(out) != 0) t.failed = 1;
    if (t.quiet) {
        fclose(out);
        fprintf(stderr, "%zu documents, peak RSS %ld KiB\n", t.docs, peak_rss_kib());
    }
    free(jobs);
    return t.failed ? 1 : 0;
}
