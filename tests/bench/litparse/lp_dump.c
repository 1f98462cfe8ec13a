/* lp_dump.c — command-line driver: parse literature files with litparse and print the documents as JSON Lines.
 *
 *   litparse_dump [--format NAME] [--columns MAP] [--quiet] FILE...
 *
 * Used by the agreement script (tests/reference/litparse) and the benchmark. Exit status 1 when a
 * file fails (the message, "file:line:col: reason", goes to stderr), 2 on a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "litparse.h"

typedef struct out {
    lp_buf line;
    FILE *f;
    size_t docs;
} out;

static sl_status emit(void *user, lp_doc *d) {
    out *o = user;
    o->line.n = 0;
    if (lp_doc_to_json(d, &o->line) != 0) return sl_set_error(SL_ERR_NOMEM, "out of memory");
    if (o->f && fwrite(o->line.p, 1, o->line.n, o->f) != o->line.n) return sl_set_error(SL_ERR_IO, "write error");
    o->docs++;
    return SL_OK;
}

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

static void note(void *user, const char *msg) {
    (void)user;
    fprintf(stderr, "note: %s\n", msg);
}

int main(int argc, char **argv) {
    lp_options opts;
    memset(&opts, 0, sizeof opts);
    opts.header = -1;
    lp_format fmt = LP_FMT_UNKNOWN;
    int quiet = 0, rc = 0;
    out o = {{0}, stdout, 0};
    lp_sink sink = {emit, NULL, note, &o};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            fmt = lp_format_parse(argv[++i]);
        } else if (!strcmp(argv[i], "--columns") && i + 1 < argc) {
            opts.columns = argv[++i];
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
            o.f = NULL;
            sink.note = NULL;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "usage: %s [--format NAME] [--columns MAP] [--quiet] FILE...\n", argv[0]);
            return 2;
        } else {
            lp_file_result res;
            sl_status st = lp_parse_file(argv[i], argv[i], fmt, &opts, &sink, &res);
            if (st != SL_OK) {
                fprintf(stderr, "%s\n", sl_last_error());
                rc = 1;
            }
        }
    }
    if (quiet) fprintf(stderr, "%zu documents, peak RSS %ld KiB\n", o.docs, peak_rss_kib());
    lp_buf_free(&o.line);
    return rc;
}
