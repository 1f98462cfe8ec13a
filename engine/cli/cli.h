/* cli.h — what the subcommands share: option parsing helpers and loading a workflow into a checked plan. */
#ifndef SCILOOP_ENGINE_CLI_H
#define SCILOOP_ENGINE_CLI_H

#include <stdio.h>

#include "../plan/plan.h"
#include "../plugin/registry.h"
#include "../workflow/workflow.h"

/* Exit codes. */
#define CLI_OK 0
#define CLI_FAILED 1     /* a step failed */
#define CLI_USAGE 2      /* bad command line, workflow or plugin */
#define CLI_INTERRUPTED 130

/* Options every workflow-reading subcommand accepts. */
typedef struct cli_common {
    const char *file;
    sli_ptrvec params;     /* "name=value" from --param */
    const char *workdir;   /* --workdir (default .sciloop) */
} cli_common;

/* Try to consume a common option at argv[*i]; returns 1 if consumed, -1 on error, 0 if not
 * a common option. */
int cli_common_option(cli_common *c, int argc, char **argv, int *i);

/* Value of an option "--name VALUE" or "--name=VALUE" at argv[*i], or NULL (and an error
 * message printed) if missing. */
const char *cli_value(int argc, char **argv, int *i, const char *name);
int cli_is_option(const char *arg, const char *name);

/* Load the workflow, the plugins and build the plan; on failure prints "error: ..." and
 * returns CLI_USAGE. */
int cli_load(const cli_common *c, wf_workflow **wf, pl_registry **reg, pn_plan **plan);

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_dag(int argc, char **argv);
int cmd_plugins(int argc, char **argv);
int cmd_ops(int argc, char **argv);
int cmd_why(int argc, char **argv);
int cmd_step(int argc, char **argv);

/* Print the plan as --dry-run shows it. */
void cli_print_plan(const pn_plan *p, FILE *out);

#endif
