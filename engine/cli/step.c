/* step.c — the worker: runs one step attempt described by a JSON spec (what the local executor starts per step). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../run/exec.h"
#include "cli.h"

static volatile int cancelled = 0;
static int engine_fd = -1; /* fd 3 when started by the engine: progress, notices, the result */

static void on_term(int sig) {
    (void)sig;
    cancelled = 1;
}

static void to_engine(const char *line) {
    if (engine_fd < 0) return;
    size_t n = strlen(line), off = 0;
    while (off < n) {
        ssize_t w = write(engine_fd, line + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        off += (size_t)w;
    }
}

static void on_progress(void *user, double done, double total, const char *what) {
    (void)user;
    char line[512];
    snprintf(line, sizeof line, "P %.17g %.17g %.200s", done, total, what ? what : "");
    for (char *p = line; *p; p++)
        if (*p == '\n') *p = ' ';
    strcat(line, "\n");
    to_engine(line);
}

static void on_notice(void *user, sl_log_level level, const char *text) {
    (void)user;
    char line[1100];
    snprintf(line, sizeof line, "N %d %.1000s", (int)level, text);
    for (char *p = line; *p; p++)
        if (*p == '\n') *p = ' ';
    strcat(line, "\n");
    to_engine(line);
}

int cmd_step(int argc, char **argv) {
    const char *spec_path = "-";
    for (int i = 1; i < argc; i++) {
        if (cli_is_option(argv[i], "--spec")) {
            if (!(spec_path = cli_value(argc, argv, &i, "--spec"))) return CLI_USAGE;
        } else {
            cli_error("usage: sciloop step [--spec FILE|-]  (runs one step attempt; the local executor starts it)");
            return CLI_USAGE;
        }
    }
    if (fcntl(3, F_GETFD) != -1) engine_fd = 3;
    if (engine_fd >= 0) {
        /* die with the engine: a killed engine must not leave steps running behind it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1) return CLI_INTERRUPTED;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    char *text = NULL;
    size_t len = 0;
    sl_status st;
    if (strcmp(spec_path, "-") == 0) {
        sli_buf b = {0};
        char chunk[65536];
        ssize_t n;
        while ((n = read(0, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
            if (n > 0) sli_buf_put(&b, chunk, (size_t)n);
        len = b.len;
        text = sli_buf_take(&b);
        st = SL_OK;
    } else {
        st = sl_read_file(spec_path, 64u << 20, &text, &len);
    }
    /* only the plugin this step needs is loaded (the spec names its file) */
    sli_arena *arena = sli_arena_create();
    pl_registry *reg = pl_registry_load_builtin();
    sx_spec spec;
    if (st == SL_OK) st = sx_spec_from_json(strcmp(spec_path, "-") ? spec_path : "spec on stdin", text, len, reg, arena, &spec);
    free(text);
    if (st != SL_OK) {
        fprintf(stderr, "sciloop step: %s\n", sl_last_error());
        sli_arena_destroy(arena);
        pl_registry_destroy(reg);
        return CLI_USAGE;
    }
    spec.cancel_flag = &cancelled;
    spec.on_progress = on_progress;
    spec.on_notice = on_notice;
    sx_result res;
    sx_execute(&spec, &res);
    char *json = sx_result_to_json(&res);
    if (engine_fd >= 0) {
        char *line = sli_xasprintf("R %s\n", json);
        to_engine(line);
        free(line);
    } else {
        puts(json);
    }
    free(json);
    int rc = res.status == SL_OK ? CLI_OK : CLI_FAILED;
    sx_result_free(&res);
    sli_arena_destroy(arena);
    pl_registry_destroy(reg);
    return rc;
}
