/* plugins.c — `sciloop plugins` and `sciloop ops list|describe OP`: what is installed, without running anything. */
#include <stdio.h>
#include <string.h>

#include "../plugin/registry.h"
#include "../workflow/workflow.h"
#include "cli.h"

int cmd_plugins(int argc, char **argv) {
    (void)argc;
    (void)argv;
    pl_registry *r = pl_registry_load();
    for (size_t i = 0; i < r->n_plugins; i++) {
        const pl_plugin *p = r->plugins[i];
        printf("%-12s %-8s %-10s ABI %u.%u  %zu op%s  %s\n", p->name, p->version, p->license ? p->license : "?", p->abi_major, p->abi_minor,
               p->n_ops, p->n_ops == 1 ? " " : "s", p->path);
        if (p->summary) printf("             %s\n", p->summary);
    }
    for (size_t i = 0; i < r->n_problems; i++) printf("not loaded: %s\n", r->problems[i].message);
    pl_registry_destroy(r);
    return CLI_OK;
}

static const char *flag_text(uint32_t f) {
    static char buf[128];
    buf[0] = '\0';
    if (f & SL_OP_DETERMINISTIC) strcat(buf, " deterministic");
    if (f & SL_OP_USES_GPU) strcat(buf, " uses-gpu");
    if (f & SL_OP_NO_CACHE) strcat(buf, " not-cached");
    return buf[0] ? buf + 1 : "none";
}

static void describe(const pl_op *op) {
    printf("%s — %s\n", op->name, op->summary ? op->summary : "");
    printf("plugin: %s %s (%s)\n", op->plugin->name, op->plugin->version, op->plugin->path);
    printf("flags: %s\n", flag_text(op->flags));
    if (op->doc) printf("\n%s\n", op->doc);
    printf("\ninputs:\n");
    if (!op->n_inputs) printf("  (none)\n");
    for (size_t i = 0; i < op->n_inputs; i++) {
        const sl_port_desc *d = &op->inputs[i];
        printf("  %-14s %-10s%s%s  %s\n", d->name, d->type, d->flags & SL_PORT_OPTIONAL ? " optional" : "", d->flags & SL_PORT_MULTI ? " several" : "",
               d->doc ? d->doc : "");
    }
    printf("outputs:\n");
    if (!op->n_outputs) printf("  (none)\n");
    for (size_t i = 0; i < op->n_outputs; i++) {
        const sl_port_desc *d = &op->outputs[i];
        printf("  %-14s %-10s  %s", d->name, d->type, d->doc ? d->doc : "");
        if (d->compare) printf("  [replay compares: %s]", d->compare);
        putchar('\n');
    }
    printf("params:\n");
    if (!op->n_params) printf("  (none)\n");
    for (size_t i = 0; i < op->n_params; i++) {
        const sl_param_desc *d = &op->params[i];
        printf("  %-14s %-7s", d->name, wf_param_type_name(d->type));
        if (d->default_value) printf(" default=%s", *d->default_value ? d->default_value : "\"\"");
        else printf(" required");
        if (d->min || d->max) printf(" range=[%s, %s]", d->min ? d->min : "-inf", d->max ? d->max : "inf");
        if (d->choices) printf(" choices=%s", d->choices);
        printf("\n      %s\n", d->doc ? d->doc : "");
    }
    if (op->values && *op->values) printf("values: %s\n", op->values);
}

int cmd_ops(int argc, char **argv) {
    if (argc < 2 || (!strcmp(argv[1], "describe") && argc < 3)) {
        cli_error("usage: sciloop ops list | sciloop ops describe OP");
        return CLI_USAGE;
    }
    pl_registry *r = pl_registry_load();
    int rc = CLI_OK;
    if (!strcmp(argv[1], "list")) {
        for (size_t i = 0; i < r->n_plugins; i++)
            for (size_t k = 0; k < r->plugins[i]->n_ops; k++)
                printf("%-28s %s\n", r->plugins[i]->ops[k].name, r->plugins[i]->ops[k].summary ? r->plugins[i]->ops[k].summary : "");
    } else if (!strcmp(argv[1], "describe")) {
        for (int a = 2; a < argc; a++) {
            const pl_op *op = pl_registry_find(r, argv[a]);
            if (!op) {
                sli_buf b = {0};
                pl_registry_explain_unknown(r, argv[a], &b);
                cli_error("unknown op '%s'%s", argv[a], b.data ? b.data : "");
                sli_buf_free(&b);
                rc = CLI_USAGE;
                continue;
            }
            if (a > 2) putchar('\n');
            describe(op);
        }
    } else {
        cli_error("unknown 'ops' command '%s'; expected list or describe", argv[1]);
        rc = CLI_USAGE;
    }
    pl_registry_destroy(r);
    return rc;
}
