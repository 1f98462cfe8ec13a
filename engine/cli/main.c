/* main.c — the `sciloop` command: dispatch to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <sciloop/version.h>

#include "cli.h"

static const char usage[] =
    "sciloop " SL_VERSION_STRING " — scientific workflow engine\n"
    "\n"
    "usage: sciloop COMMAND [ARGS]\n"
    "  run FILE [options]          run a workflow (see `sciloop run --help`)\n"
    "  validate FILE               check a workflow without running it\n"
    "  dag FILE [--format dot|mermaid]   print the planned DAG\n"
    "  why FILE STEP               why a step would run again (or be reused)\n"
    "  plugins                     list installed plugins\n"
    "  ops list | ops describe OP  list ops, or describe one (ports, params, defaults)\n"
    "  version                     print the version\n"
    "\n"
    "Plugins are found on $SCILOOP_PLUGIN_PATH, then in the install's lib/sciloop/plugins.\n";

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    xmlInitParser();
    const char *cmd = argv[1];
    int rc;
    if (!strcmp(cmd, "run")) rc = cmd_run(argc - 1, argv + 1);
    else if (!strcmp(cmd, "validate")) rc = cmd_validate(argc - 1, argv + 1);
    else if (!strcmp(cmd, "dag")) rc = cmd_dag(argc - 1, argv + 1);
    else if (!strcmp(cmd, "why")) rc = cmd_why(argc - 1, argv + 1);
    else if (!strcmp(cmd, "plugins")) rc = cmd_plugins(argc - 1, argv + 1);
    else if (!strcmp(cmd, "ops")) rc = cmd_ops(argc - 1, argv + 1);
    else if (!strcmp(cmd, "step")) rc = cmd_step(argc - 1, argv + 1);
    else if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("sciloop %s (plugin ABI %d.%d)\n", SL_VERSION_STRING, SL_ABI_MAJOR, SL_ABI_MINOR);
        rc = CLI_OK;
    } else {
        fprintf(stderr, "error: unknown command '%s'\n\n%s", cmd, usage);
        rc = CLI_USAGE;
    }
    xmlCleanupParser();
    return rc;
}
