/* dag.c — `sciloop dag FILE --format dot|mermaid`: the planned DAG for Graphviz or Mermaid. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void quoted(FILE *out, const char *s, int mermaid) {
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputs(mermaid ? "#quot;" : "\\\"", out);
        else fputc(*s, out);
    }
    fputc('"', out);
}

int cmd_dag(int argc, char **argv) {
    cli_common c = {0};
    const char *format = "dot";
    for (int i = 1; i < argc; i++) {
        int k = cli_common_option(&c, argc, argv, &i);
        if (k < 0) return CLI_USAGE;
        if (k > 0) continue;
        if (cli_is_option(argv[i], "--format")) {
            if (!(format = cli_value(argc, argv, &i, "--format"))) return CLI_USAGE;
        } else if (argv[i][0] == '-') {
            cli_error("unknown option %s (usage: sciloop dag FILE [--format dot|mermaid] [-p NAME=VALUE]...)", argv[i]);
            return CLI_USAGE;
        } else if (!c.file) {
            c.file = argv[i];
        }
    }
    int mermaid = !strcmp(format, "mermaid");
    if (!mermaid && strcmp(format, "dot") != 0) {
        cli_error("--format %s: expected dot or mermaid", format);
        return CLI_USAGE;
    }
    wf_workflow *wf;
    pl_registry *reg;
    pn_plan *plan;
    int rc = cli_load(&c, &wf, &reg, &plan);
    if (rc == CLI_OK) {
        FILE *out = stdout;
        if (mermaid) fputs("flowchart TD\n", out);
        else fprintf(out, "digraph \"%s\" {\n  rankdir=TB;\n  node [shape=box, style=rounded];\n", wf->name);
        for (uint32_t i = 0; i < plan->n_steps; i++) {
            const pn_step *s = &plan->steps[i];
            if (mermaid) {
                fprintf(out, "  s%u[", i);
                char label[512];
                snprintf(label, sizeof label, "%s<br/>%s", s->id, s->op->name);
                quoted(out, label, 1);
                fputs("]\n", out);
            } else {
                fprintf(out, "  s%u [label=", i);
                char label[512];
                snprintf(label, sizeof label, "%s\\n%s", s->id, s->op->name);
                quoted(out, label, 0);
                fprintf(out, "%s];\n", s->state == PS_DISABLED ? ", style=\"rounded,dashed\"" : "");
            }
        }
        for (uint32_t i = 0; i < plan->n_steps; i++) {
            const pn_step *s = &plan->steps[i];
            for (size_t k = 0; k < s->op->n_inputs; k++)
                for (uint32_t j = 0; j < s->inputs[k].n; j++) {
                    const pn_src *src = &s->inputs[k].srcs[j];
                    if (src->path) continue;
                    const char *port = plan->steps[src->step].op->outputs[src->port].name;
                    if (mermaid) fprintf(out, "  s%u -- %s --> s%u\n", src->step, port, i);
                    else fprintf(out, "  s%u -> s%u [label=\"%s\"];\n", src->step, i, port);
                }
        }
        if (!mermaid) fputs("}\n", out);
    }
    pn_destroy(plan);
    pl_registry_destroy(reg);
    wf_destroy(wf);
    sli_ptrvec_free(&c.params);
    return rc;
}
