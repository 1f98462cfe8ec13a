/* common.c — options every workflow-reading subcommand takes, loading a workflow into a plan, printing a plan. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_common_option(cli_common *c, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    if (cli_is_option(a, "--param") || cli_is_option(a, "-p")) {
        const char *v = cli_value(argc, argv, i, a[1] == 'p' ? "-p" : "--param");
        if (!v) return -1;
        if (!strchr(v, '=')) {
            cli_error("--param %s: expected name=value", v);
            return -1;
        }
        sli_ptrvec_push(&c->params, (void *)v);
        return 1;
    }
    if (cli_is_option(a, "--workdir")) {
        c->workdir = cli_value(argc, argv, i, "--workdir");
        return c->workdir ? 1 : -1;
    }
    return 0;
}

int cli_load(const cli_common *c, wf_workflow **wf, pl_registry **reg, pn_plan **plan) {
    *wf = NULL;
    *reg = NULL;
    *plan = NULL;
    if (!c->file) {
        cli_error("no workflow file given");
        return CLI_USAGE;
    }
    if (wf_load(c->file, wf) != SL_OK) {
        fprintf(stderr, "error: %s\n", sl_last_error());
        return CLI_USAGE;
    }
    *reg = pl_registry_load();
    pn_overrides ov = {(const char **)c->params.items, c->params.n};
    if (pn_build(*wf, *reg, &ov, plan) != SL_OK) {
        fprintf(stderr, "error: %s\n", sl_last_error());
        return CLI_USAGE;
    }
    return CLI_OK;
}

void cli_print_plan(const pn_plan *p, FILE *out) {
    uint32_t *order = pn_topo_order(p);
    fprintf(out, "plan of %s (%s): %u step%s\n", p->wf->name, p->wf->path, p->n_steps, p->n_steps == 1 ? "" : "s");
    for (uint32_t k = 0; k < p->n_steps; k++) {
        const pn_step *s = &p->steps[order[k]];
        if (s->state == PS_DISABLED) {
            fprintf(out, "  %-28s %s  (disabled by when=\"%s\")\n", s->id, s->op->name, s->node->when);
            continue;
        }
        fprintf(out, "  %-28s %s", s->id, s->op->name);
        if (s->cpus > 1 || s->gpus || s->mem) fprintf(out, "  [cpus=%u gpus=%u%s]", s->cpus, s->gpus, s->mem ? " mem" : "");
        if (s->retry) fprintf(out, "  retry=%u", s->retry);
        if (s->timeout > 0) fprintf(out, "  timeout=%gs", s->timeout);
        fputc('\n', out);
        for (size_t i = 0; i < s->op->n_inputs; i++) {
            const pn_binding *b = &s->inputs[i];
            for (uint32_t j = 0; j < b->n; j++) {
                const pn_src *src = &b->srcs[j];
                if (src->path) fprintf(out, "      %s <- %s%s%s\n", s->op->inputs[i].name, src->path, src->select ? "/" : "", src->select ? src->select : "");
                else fprintf(out, "      %s <- %s.%s%s%s\n", s->op->inputs[i].name, p->steps[src->step].id, p->steps[src->step].op->outputs[src->port].name,
                             src->select ? "/" : "", src->select ? src->select : "");
            }
            if (s->deferred && b->n == 0) fprintf(out, "      %s <- (the last round of a loop, known when it ends)\n", s->op->inputs[i].name);
        }
        for (size_t i = 0; i < s->op->n_params; i++) {
            int set = 0;
            for (size_t k2 = 0; k2 < s->node->n_sets; k2++)
                if (strcmp(s->node->sets[k2].name, s->op->params[i].name) == 0) set = 1;
            if (set) fprintf(out, "      %s = %s\n", s->op->params[i].name, s->params[i]);
        }
    }
    for (size_t i = 0; i < p->n_loops; i++)
        fprintf(out, "loop %s: round 1 of at most %d planned; each next round is planned when the previous one ends%s%s\n",
                p->loops[i]->node->id, p->loops[i]->max_rounds, p->loops[i]->node->until ? " and until fails: " : "",
                p->loops[i]->node->until ? p->loops[i]->node->until : "");
    for (size_t i = 0; i < p->wf->n_outputs; i++) fprintf(out, "output %s <- %s\n", p->wf->outputs[i].name, p->wf->outputs[i].from);
    free(order);
}
