/* core_ops.c — the built-in "core" plugin: core.shell runs a command with declared inputs and outputs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sciloop/version.h>

#include "../base/base.h"
#include "registry.h"

extern char **environ;

/* Last `max` bytes of a file, starting at a line boundary when possible. */
static char *file_tail(const char *path, size_t max) {
    FILE *f = fopen(path, "rb");
    if (!f) return sli_xstrdup("");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long start = size > (long)max ? size - (long)max : 0;
    fseek(f, start, SEEK_SET);
    char *buf = sli_xcalloc(max + 1, 1);
    size_t n = fread(buf, 1, max, f);
    buf[n] = '\0';
    fclose(f);
    char *p = buf;
    if (start > 0) {
        char *nl = strchr(buf, '\n');
        if (nl) p = nl + 1;
    }
    char *out = sli_xstrdup(p);
    free(buf);
    return out;
}

static sl_status shell_run(const sl_host *h, sl_op_ctx *ctx) {
    const char *command = h->param(ctx, "command");
    const char *shell = h->param(ctx, "shell");
    const char *out = h->output_path(ctx, "out");
    const char *scratch = h->scratch_dir(ctx);
    char log_path[4096];
    snprintf(log_path, sizeof log_path, "%s/.command.log", scratch);

    /* Environment: the caller's, plus in/in_N/n_in/out/scratch/threads. Built before fork,
     * because after fork only async-signal-safe calls are allowed. */
    sli_ptrvec env = {0};
    for (char **e = environ; *e; e++) sli_ptrvec_push(&env, sli_xstrdup(*e));
    size_t n_in = h->input_count(ctx, "in");
    sli_buf all = {0};
    for (size_t i = 0; i < n_in; i++) {
        const char *p = h->input_path(ctx, "in", i);
        sli_ptrvec_push(&env, sli_xasprintf("in_%zu=%s", i + 1, p));
        if (i == 0) sli_ptrvec_push(&env, sli_xasprintf("in=%s", p));
        sli_buf_printf(&all, "%s%s", i ? "\n" : "", p);
    }
    sli_ptrvec_push(&env, sli_xasprintf("n_in=%zu", n_in));
    sli_ptrvec_push(&env, sli_xasprintf("inputs=%s", all.data ? all.data : ""));
    sli_ptrvec_push(&env, sli_xasprintf("out=%s", out));
    sli_ptrvec_push(&env, sli_xasprintf("scratch=%s", scratch));
    sli_ptrvec_push(&env, sli_xasprintf("threads=%d", h->threads(ctx)));
    sli_ptrvec_push(&env, sli_xasprintf("SCILOOP_STEP=%s", h->step_id(ctx)));
    sli_ptrvec_push(&env, sli_xasprintf("SCILOOP_ATTEMPT=%d", h->attempt(ctx)));
    sli_ptrvec_push(&env, NULL);
    sli_buf_free(&all);

    int logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        for (size_t i = 0; i < env.n; i++) free(env.items[i]);
        sli_ptrvec_free(&env);
        return h->fail(ctx, SL_ERR_IO, "%s: cannot create the command log: %s", log_path, strerror(errno));
    }
    h->log(ctx, SL_LOG_INFO, "running: %s", command);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        if (chdir(out) != 0) _exit(126);
        char *argv[] = {(char *)shell, "-c", (char *)command, NULL};
        execve(shell, argv, (char **)env.items);
        _exit(127);
    }
    close(logfd);
    for (size_t i = 0; i < env.n; i++) free(env.items[i]);
    sli_ptrvec_free(&env);
    if (pid < 0) return h->fail(ctx, SL_ERR_IO, "cannot start '%s': %s", shell, strerror(errno));
    setpgid(pid, pid);

    int status = 0, cancelled = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) break;
        if (!cancelled && h->cancelled(ctx)) {
            cancelled = 1;
            kill(-pid, SIGTERM);
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    char *tail = file_tail(log_path, 2000);
    /* keep the command's output in the step log */
    if (*tail) h->log(ctx, SL_LOG_INFO, "command output (last part):\n%s", tail);
    sl_status st = SL_OK;
    if (cancelled) {
        st = h->fail(ctx, SL_ERR_CANCELLED, "command cancelled");
    } else if (WIFSIGNALED(status)) {
        st = h->fail(ctx, SL_ERR_FAILED, "command killed by signal %d (%s); output ends with:\n%s", WTERMSIG(status),
                     strsignal(WTERMSIG(status)), tail);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        int code = WEXITSTATUS(status);
        st = h->fail(ctx, SL_ERR_FAILED, "command exited with status %d%s; output ends with:\n%s", code,
                     code == 127 ? " (command not found?)" : "", tail);
    }
    free(tail);
    if (st != SL_OK) return st;
    /* declared outputs must exist */
    size_t n_decl = h->param_list_count(ctx, "outputs");
    for (size_t i = 0; i < n_decl; i++) {
        const char *name = h->param_list_item(ctx, "outputs", i);
        if (!*name) continue;
        char *p = sli_xasprintf("%s/%s", out, name);
        struct stat sb;
        int ok = stat(p, &sb) == 0;
        free(p);
        if (!ok) return h->fail(ctx, SL_ERR_FAILED, "declared output '%s' was not created by the command (it runs in $out)", name);
    }
    return SL_OK;
}

static const sl_port_desc shell_inputs[] = {
    {.struct_size = sizeof(sl_port_desc), .name = "in", .type = "any", .flags = SL_PORT_OPTIONAL | SL_PORT_MULTI,
     .doc = "Files or folders the command reads: $in (the first), $in_1 … $in_N, $inputs (all, one per line), $n_in."},
};
static const sl_port_desc shell_outputs[] = {
    {.struct_size = sizeof(sl_port_desc), .name = "out", .type = "dir",
     .doc = "Folder the command writes into; it is also the command's working directory ($out)."},
};
static const sl_param_desc shell_params[] = {
    {.struct_size = sizeof(sl_param_desc), .name = "command", .type = SL_PARAM_STRING,
     .doc = "Shell command to run; its stdout and stderr go to the step log."},
    {.struct_size = sizeof(sl_param_desc), .name = "outputs", .type = SL_PARAM_LIST, .default_value = "",
     .doc = "Files (relative to $out) the command must create; the step fails if one is missing."},
    {.struct_size = sizeof(sl_param_desc), .name = "shell", .type = SL_PARAM_PATH, .default_value = "/bin/sh",
     .doc = "Shell that runs the command with -c."},
};

static const sl_op_desc core_ops[] = {
    {.struct_size = sizeof(sl_op_desc), .name = "shell",
     .summary = "Run a shell command with declared inputs and outputs",
     .doc = "Runs `shell -c command` in the output folder with the inputs in environment variables. A "
            "non-zero exit fails the step with the tail of the command's output in the error.",
     .inputs = shell_inputs, .n_inputs = 1, .outputs = shell_outputs, .n_outputs = 1,
     .params = shell_params, .n_params = 3, .flags = 0, .run = shell_run},
};

static const sl_plugin core_plugin = {
    .struct_size = sizeof(sl_plugin), .abi_major = SL_ABI_MAJOR, .abi_minor = SL_ABI_MINOR,
    .name = "core", .version = SL_VERSION_STRING, .license = "MIT",
    .summary = "Built-in ops of the engine", .ops = core_ops, .n_ops = 1,
};

const sl_plugin *sli_core_plugin(void) { return &core_plugin; }
