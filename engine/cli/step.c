/* step.c — `sciloop step --spec FILE`: the worker process the local executor starts for one step attempt. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../run/exec.h"
#include "cli.h"

static volatile int cancelled = 0;

static void on_term(int sig) {
    (void)sig;
    cancelled = 1;
}

/* fd 3, when open, carries progress and notices to the engine, one line each. */
static void to_engine(const char *line) {
    size_t n = strlen(line);
    ssize_t w = write(3, line, n);
    (void)w;
}

static void on_progress(void *user, double done, double total, const char *what) {
    (void)user;
    char line[512];
    snprintf(line, sizeof line, "P %.17g %.17g %.200s\n", done, total, what ? what : "");
    for (char *p = line + 2; *p && p[1]; p++)
        if (*p == '\n') *p = ' ';
    to_engine(line);
}

static void on_notice(void *user, sl_log_level level, const char *text) {
    (void)user;
    char line[1024];
    snprintf(line, sizeof line, "N %d %.1000s", (int)level, text);
    for (char *p = line; *p; p++)
        if (*p == '\n') *p = ' ';
    strcat(line, "\n");
    to_engine(line);
}

int cmd_step(int argc, char **argv) {
    const char *spec_path = NULL;
    for (int i = 1; i < argc; i++)
        if (cli_is_option(argv[i], "--spec")) spec_path = cli_value(argc, argv, &i, "--spec");
    if (!spec_path) {
        cli_error("usage: sciloop step --spec FILE (started by the engine's local executor)");
        return CLI_USAGE;
    }
    /* die with the engine: a killed engine must not leave steps running behind it */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) return CLI_INTERRUPTED;
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    /* only the plugin this step needs is loaded (the spec names its file) */
    sli_arena *arena = sli_arena_create();
    sx_spec spec;
    pl_registry *full = pl_registry_load_builtin();
    sl_status st = sx_spec_from_json(spec_path, full, arena, &spec);
    if (st != SL_OK) {
        fprintf(stderr, "sciloop step: %s\n", sl_last_error());
        sli_arena_destroy(arena);
        pl_registry_destroy(full);
        return CLI_USAGE;
    }
    spec.cancel_flag = &cancelled;
    spec.on_progress = on_progress;
    spec.on_notice = on_notice;
    sx_result res;
    sx_execute(&spec, &res);
    char *result_path = sli_xasprintf("%s.result.json", spec.stage);
    int rc = CLI_OK;
    if (sx_result_write(result_path, &res) != SL_OK) {
        fprintf(stderr, "sciloop step: %s\n", sl_last_error());
        rc = CLI_USAGE;
    } else if (res.status != SL_OK) {
        rc = CLI_FAILED;
    }
    free(result_path);
    sx_result_free(&res);
    sli_arena_destroy(arena);
    pl_registry_destroy(full);
    return rc;
}
