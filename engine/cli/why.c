/* why.c — `sciloop why FILE STEP`: the parts of a step's cache key, and what differs from its cached entry. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../run/runner.h"
#include "../store/store.h"
#include "cli.h"

/* Label of a key line: everything before its value ("param epochs", "input train[0]", "op"). */
static size_t label_len(const char *line, size_t n) {
    if (!strncmp(line, "param ", 6)) {
        const char *eq = memchr(line, '=', n);
        return eq ? (size_t)(eq - line) : n;
    }
    const char *sp = memchr(line, ' ', n);
    if (!strncmp(line, "input ", 6) && sp) {
        const char *sp2 = memchr(sp + 1, ' ', n - (size_t)(sp + 1 - line));
        return sp2 ? (size_t)(sp2 - line) : n;
    }
    return sp ? (size_t)(sp - line) : n;
}

static const char *find_line(const char *text, const char *label, size_t llen, size_t *n) {
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (label_len(p, len) == llen && !strncmp(p, label, llen)) {
            *n = len;
            return p;
        }
        p += len + (e ? 1 : 0);
    }
    return NULL;
}

/* Print what differs between two key texts, line by line. */
static int print_diff(const char *old, const char *cur) {
    int changes = 0;
    for (const char *p = cur; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        size_t ll = label_len(p, len), on;
        const char *o = find_line(old, p, ll, &on);
        if (!o) {
            printf("  + %.*s   (new)\n", (int)len, p);
            changes++;
        } else if (on != len || strncmp(o, p, len)) {
            printf("  ~ %.*s: %.*s  ->  %.*s\n", (int)ll, p, (int)(on - ll), o + ll, (int)(len - ll), p + ll);
            changes++;
        }
        p += len + (e ? 1 : 0);
    }
    for (const char *p = old; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        size_t n;
        if (!find_line(cur, p, label_len(p, len), &n)) {
            printf("  - %.*s   (gone)\n", (int)len, p);
            changes++;
        }
        p += len + (e ? 1 : 0);
    }
    return changes;
}

int cmd_why(int argc, char **argv) {
    cli_common c = {0};
    const char *target = NULL;
    for (int i = 1; i < argc; i++) {
        int k = cli_common_option(&c, argc, argv, &i);
        if (k < 0) return CLI_USAGE;
        if (k > 0) continue;
        if (argv[i][0] == '-') {
            cli_error("unknown option %s (usage: sciloop why FILE STEP [-p NAME=VALUE]... [--workdir DIR])", argv[i]);
            return CLI_USAGE;
        }
        if (!c.file) c.file = argv[i];
        else if (!target) target = argv[i];
    }
    if (!target) {
        cli_error("usage: sciloop why FILE STEP [-p NAME=VALUE]... [--workdir DIR]");
        return CLI_USAGE;
    }
    wf_workflow *wf;
    pl_registry *reg;
    pn_plan *plan;
    int rc = cli_load(&c, &wf, &reg, &plan);
    st_store *store = NULL;
    if (rc == CLI_OK && st_open_readonly(c.workdir ? c.workdir : ".sciloop", &store) != SL_OK) {
        fprintf(stderr, "error: %s\n", sl_last_error());
        rc = CLI_USAGE;
    }
    long t = rc == CLI_OK ? pn_find_step(plan, target) : -1;
    if (rc == CLI_OK && t < 0) {
        cli_error("no step '%s' in the plan of %s (loop rounds after the first exist only while running; try e.g. study[1].check)", target, c.file);
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK) {
        /* Walk the plan in order, answering each step from the cache as a run would, until
         * the target; the first step on the way that would run is why everything after it would. */
        uint32_t *order = pn_topo_order(plan);
        sli_map hashes = {0};
        sli_buf parts = {0};
        const char *first_miss = NULL;
        for (uint32_t k = 0; k < plan->n_steps; k++) {
            uint32_t i = order[k];
            pn_step *s = &plan->steps[i];
            int ready = s->state != PS_DISABLED && !s->deferred;
            for (size_t p = 0; ready && p < s->op->n_inputs; p++)
                for (uint32_t j = 0; j < s->inputs[p].n; j++)
                    if (!s->inputs[p].srcs[j].path && !plan->steps[s->inputs[p].srcs[j].step].out_hashes) ready = 0;
            if (!ready) {
                if ((long)i == t) {
                    printf("%s (%s): will run, because an input comes from a step that will run first: %s\n", s->id, s->op->name,
                           first_miss ? first_miss : "(a loop that has not finished)");
                    if (first_miss) printf("run `sciloop why %s %s` to see why that one changed\n", c.file, first_miss);
                }
                continue;
            }
            if (rn_step_key(plan, i, store, &hashes, &parts, s->key) != SL_OK) {
                fprintf(stderr, "error: %s\n", sl_last_error());
                rc = CLI_USAGE;
                break;
            }
            const st_record *hit = st_lookup(store, s->key);
            if (hit) {
                char **paths = sli_xcalloc(s->op->n_outputs + 1, sizeof *paths);
                char(*hx)[SL_HASH_HEX_SIZE] = sli_xcalloc(s->op->n_outputs + 1, sizeof *hx);
                for (size_t o = 0; o < s->op->n_outputs && o < hit->n_outputs; o++) {
                    paths[o] = st_object_path(st_objects_dir(store), hit->outputs[o].hash, hit->outputs[o].type);
                    memcpy(hx[o], hit->outputs[o].hash, SL_HASH_HEX_SIZE);
                }
                pn_set_results(plan, i, (const char *const *)paths, (const char(*)[SL_HASH_HEX_SIZE])hx, hit->value_names, hit->value_texts, hit->n_values);
                for (size_t o = 0; o < s->op->n_outputs; o++) free(paths[o]);
                free(paths);
                free(hx);
            } else if (!first_miss) {
                first_miss = s->id;
            }
            if ((long)i != t) continue;
            printf("%s (%s)\nkey %s\n%s", s->id, s->op->name, s->key, parts.data);
            if (hit) {
                printf("=> cached: a run reuses the result recorded for this key\n");
                break;
            }
            const st_record *last = st_latest_for_step(store, s->id);
            if (!last) {
                printf("=> will run: no earlier result of step '%s' is recorded in %s\n", s->id, st_root(store));
                break;
            }
            printf("=> will run: its key differs from the last recorded result (key %.12s…):\n", last->key);
            if (!print_diff(last->parts, parts.data)) printf("  (same parts, but the recorded outputs are missing from the store)\n");
            break;
        }
        for (size_t i = 0; i < hashes.cap; i++)
            if (hashes.slots && hashes.slots[i].hash) {
                free((char *)hashes.slots[i].key);
                free(hashes.slots[i].val);
            }
        sli_map_free(&hashes);
        sli_buf_free(&parts);
        free(order);
    }
    st_close(store);
    pn_destroy(plan);
    pl_registry_destroy(reg);
    wf_destroy(wf);
    sli_ptrvec_free(&c.params);
    return rc;
}
