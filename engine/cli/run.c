/* run.c — `sciloop run FILE`: plan the workflow, then execute it (or print the plan with --dry-run). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../run/runner.h"
#include "cli.h"

static int count_gpus(void) {
    const char *env = getenv("SCILOOP_GPUS");
    if (env) return atoi(env);
    DIR *d = opendir("/dev");
    int n = 0;
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *s = e->d_name;
        if (strncmp(s, "nvidia", 6) != 0 || !s[6]) continue;
        int digits = 1;
        for (const char *p = s + 6; *p; p++)
            if (*p < '0' || *p > '9') digits = 0;
        n += digits;
    }
    closedir(d);
    return n;
}

static const char usage[] =
    "usage: sciloop run FILE [options]\n"
    "  -p, --param NAME=VALUE   set a workflow param (repeatable)\n"
    "  --dry-run                check everything and print the plan; run nothing\n"
    "  --workdir DIR            work directory with the store and journal (default .sciloop)\n"
    "  --outdir DIR             where workflow outputs are published (default sciloop-out)\n"
    "  --executor local|inline  local: each step in a worker process (default); inline: threads\n"
    "  -j, --jobs N             steps running at once (default: number of CPUs)\n"
    "  --cpus N, --gpus N, --mem SIZE   resource budgets (default: this machine's)\n"
    "  --keep-going             after a failure, go on with steps that do not depend on it\n"
    "  -q, --quiet              print only failures and the summary\n";

int cmd_run(int argc, char **argv) {
    cli_common c = {0};
    rn_options o = {0};
    int dry = 0;
    const char *outdir = "sciloop-out";
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o.cpus = ncpu > 0 ? (int)ncpu : 1;
    o.jobs = 0;
    o.gpus = count_gpus();
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGE_SIZE);
    o.mem = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
    o.live = isatty(2) && getenv("TERM") && strcmp(getenv("TERM"), "dumb") != 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int k = cli_common_option(&c, argc, argv, &i);
        if (k < 0) return CLI_USAGE;
        if (k > 0) continue;
        if (!strcmp(a, "--dry-run") || !strcmp(a, "-n")) dry = 1;
        else if (!strcmp(a, "--keep-going") || !strcmp(a, "-k")) o.keep_going = 1;
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) o.quiet = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return CLI_OK;
        } else if (cli_is_option(a, "--outdir")) {
            if (!(outdir = cli_value(argc, argv, &i, "--outdir"))) return CLI_USAGE;
        } else if (cli_is_option(a, "--executor")) {
            const char *v = cli_value(argc, argv, &i, "--executor");
            if (!v) return CLI_USAGE;
            if (!strcmp(v, "local")) o.executor = RN_LOCAL;
            else if (!strcmp(v, "inline")) o.executor = RN_INLINE;
            else {
                cli_error("--executor %s: expected local or inline", v);
                return CLI_USAGE;
            }
        } else if (cli_is_option(a, "--jobs") || cli_is_option(a, "-j") || cli_is_option(a, "--cpus") || cli_is_option(a, "--gpus")) {
            const char *name = a[1] == 'j' ? "-j" : !strncmp(a, "--jobs", 6) ? "--jobs" : !strncmp(a, "--cpus", 6) ? "--cpus" : "--gpus";
            const char *v = cli_value(argc, argv, &i, name);
            if (!v) return CLI_USAGE;
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 0 || n > 100000 || (n == 0 && strcmp(name, "--gpus") != 0)) {
                cli_error("%s %s: expected a positive whole number", name, v);
                return CLI_USAGE;
            }
            if (name[1] == 'j' || !strcmp(name, "--jobs")) o.jobs = (int)n;
            else if (!strcmp(name, "--cpus")) o.cpus = (int)n;
            else o.gpus = (int)n;
        } else if (cli_is_option(a, "--mem")) {
            const char *v = cli_value(argc, argv, &i, "--mem");
            if (!v) return CLI_USAGE;
            char *end;
            double x = strtod(v, &end);
            double mult = *end == 'G' || *end == 'g' ? 1073741824.0 : *end == 'M' || *end == 'm' ? 1048576.0 : *end == 'K' || *end == 'k' ? 1024.0 : 1.0;
            if (x <= 0 || (*end && mult == 1.0)) {
                cli_error("--mem %s: expected a size like 16G or 512M", v);
                return CLI_USAGE;
            }
            o.mem = (uint64_t)(x * mult);
        } else if (a[0] == '-' && a[1]) {
            cli_error("unknown option %s\n%s", a, usage);
            return CLI_USAGE;
        } else if (!c.file) {
            c.file = a;
        } else {
            cli_error("unexpected argument '%s' (one workflow file per run)", a);
            return CLI_USAGE;
        }
    }
    if (!o.jobs) o.jobs = o.cpus;
    wf_workflow *wf;
    pl_registry *reg;
    pn_plan *plan;
    int rc = cli_load(&c, &wf, &reg, &plan);
    if (rc == CLI_OK && dry) cli_print_plan(plan, stdout);
    if (rc == CLI_OK && !dry) {
        st_store *store;
        if (st_open(c.workdir ? c.workdir : ".sciloop", &store) != SL_OK) {
            fprintf(stderr, "error: %s\n", sl_last_error());
            rc = CLI_USAGE;
        } else {
            char run_id[64];
            time_t now = time(NULL);
            struct tm tm;
            gmtime_r(&now, &tm);
            size_t n = strftime(run_id, sizeof run_id, "%Y%m%d-%H%M%S", &tm);
            snprintf(run_id + n, sizeof run_id - n, "-%ld", (long)getpid());
            o.run_id = run_id;
            o.outdir = outdir;
            rc = rn_run(plan, reg, store, &o);
            st_close(store);
        }
    }
    pn_destroy(plan);
    pl_registry_destroy(reg);
    wf_destroy(wf);
    sli_ptrvec_free(&c.params);
    return rc;
}
