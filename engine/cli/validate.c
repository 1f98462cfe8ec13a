/* validate.c — `sciloop validate FILE`: every check a run does before starting, and nothing else. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_validate(int argc, char **argv) {
    cli_common c = {0};
    for (int i = 1; i < argc; i++) {
        int k = cli_common_option(&c, argc, argv, &i);
        if (k < 0) return CLI_USAGE;
        if (k > 0) continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            puts("usage: sciloop validate FILE [-p NAME=VALUE]...\n"
                 "Checks the XML against the schema, params, ops, ports, param values, edge types, cycles\n"
                 "and input paths, exactly as `sciloop run` does before starting.");
            return CLI_OK;
        }
        if (argv[i][0] == '-') {
            cli_error("unknown option %s", argv[i]);
            return CLI_USAGE;
        }
        if (c.file) {
            cli_error("unexpected argument '%s'", argv[i]);
            return CLI_USAGE;
        }
        c.file = argv[i];
    }
    wf_workflow *wf;
    pl_registry *reg;
    pn_plan *plan;
    int rc = cli_load(&c, &wf, &reg, &plan);
    if (rc == CLI_OK) printf("%s: valid (%u steps planned)\n", c.file, plan->n_steps);
    pn_destroy(plan);
    pl_registry_destroy(reg);
    wf_destroy(wf);
    sli_ptrvec_free(&c.params);
    return rc;
}
