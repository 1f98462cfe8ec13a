/* plan.c — param binding, static checks (ops, ports, params, types, cycles), foreach/loop expansion and input binding. */
#define _GNU_SOURCE
#include "plan.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* What the planner knows about one template node (a <step>, <foreach> or <loop>). */
typedef struct tmpl {
    const wf_node *node;
    const pl_op *op;           /* steps */
    int *set_param;            /* per <set>: op param index */
    int *input_port;           /* per <input>: op input port index */
    struct tmpl **from_tmpl;   /* per <input>: producer template (from=) or NULL */
    int *from_port;            /* per <input>: producer output port index */
    int mark;                  /* cycle search: 0 new, 1 on stack, 2 done */
    uint32_t root_step;        /* index + 1 of the single instance of a top-level step */
} tmpl;

struct pn_priv {
    sli_map tmpls;             /* id -> tmpl* (steps and containers) */
};

#define LOCFMT "%s:%d:%d: "
#define LOC(l) (l).file, (l).line, (l).col

/* ------------------------------------------------------------------------------------------ */
/* Durations, resources, small parsers                                                        */

double pn_parse_duration(const char *s) {
    if (!s) return -1;
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return -1;
    double total = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || v < 0 || !isfinite(v)) return -1;
        p = end;
        double unit = 1;
        if (strncmp(p, "ms", 2) == 0) {
            unit = 0.001;
            p += 2;
        } else if (*p == 's') {
            p++;
        } else if (*p == 'm') {
            unit = 60;
            p++;
        } else if (*p == 'h') {
            unit = 3600;
            p++;
        } else if (*p == 'd') {
            unit = 86400;
            p++;
        } else if (*p && !isspace((unsigned char)*p)) {
            return -1;
        }
        total += v * unit;
        while (isspace((unsigned char)*p)) p++;
    }
    return total;
}

static int parse_bool(const char *s, int *out) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n == 0) return -1;
    if ((n == 4 && !strncasecmp(s, "true", 4)) || (n == 3 && !strncasecmp(s, "yes", 3)) || (n == 1 && *s == '1')) {
        *out = 1;
        return 0;
    }
    if ((n == 5 && !strncasecmp(s, "false", 5)) || (n == 2 && !strncasecmp(s, "no", 2)) || (n == 1 && *s == '0')) {
        *out = 0;
        return 0;
    }
    return -1;
}

static int parse_u64_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0) return -1;
    double mult = 1;
    switch (toupper((unsigned char)*end)) {
    case 'K': mult = 1024.0; end++; break;
    case 'M': mult = 1024.0 * 1024; end++; break;
    case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (toupper((unsigned char)*end) == 'B') end++;
    if (*end) return -1;
    *out = (uint64_t)(v * mult);
    return 0;
}

static sl_status parse_resources(const char *text, wf_loc loc, pn_step *s) {
    char *copy = sli_xstrdup(text), *save = NULL;
    sl_status st = SL_OK;
    for (char *tok = strtok_r(copy, " ,\t\n", &save); tok && st == SL_OK; tok = strtok_r(NULL, " ,\t\n", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            st = sl_set_error(SL_ERR_INVALID, LOCFMT "resources: expected name=value (cpus=4 gpus=1 mem=8G), got '%s'", LOC(loc), tok);
            break;
        }
        *eq = '\0';
        const char *v = eq + 1;
        char *end;
        if (!strcmp(tok, "cpus") || !strcmp(tok, "gpus")) {
            long n = strtol(v, &end, 10);
            if (*end || end == v || n < 0 || n > 65535) {
                st = sl_set_error(SL_ERR_INVALID, LOCFMT "resources: %s must be a whole number in [0, 65535], got '%s'", LOC(loc), tok, v);
                break;
            }
            if (!strcmp(tok, "cpus")) s->cpus = (uint16_t)(n ? n : 1);
            else s->gpus = (uint16_t)n;
        } else if (!strcmp(tok, "mem")) {
            if (parse_u64_size(v, &s->mem) != 0)
                st = sl_set_error(SL_ERR_INVALID, LOCFMT "resources: mem must be a size like 512M or 8G, got '%s'", LOC(loc), v);
        } else {
            st = sl_set_error(SL_ERR_INVALID, LOCFMT "resources: unknown resource '%s'; expected cpus, gpus or mem", LOC(loc), tok);
        }
    }
    free(copy);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Interpolation                                                                              */

static const char *lookup_var(const pn_plan *p, const pn_scope *sc, const char *name, char *numbuf) {
    for (const pn_scope *s = sc; s; s = s->parent) {
        if (!s->node) continue;
        if (s->node->kind == WF_FOREACH && strcmp(s->node->var, name) == 0) return s->value;
        if (s->node->kind == WF_LOOP) {
            size_t l = strlen(s->node->id);
            if (strncmp(name, s->node->id, l) == 0 && strcmp(name + l, ".round") == 0) {
                snprintf(numbuf, 32, "%d", s->index);
                return numbuf;
            }
        }
    }
    for (size_t i = 0; i < p->wf->n_params; i++)
        if (strcmp(p->wf->params[i].name, name) == 0) return p->param_values[i];
    if (strcmp(name, "workflow.dir") == 0) return p->wf->dir;
    if (strcmp(name, "workflow.name") == 0) return p->wf->name;
    return NULL;
}

static void list_names(const pn_plan *p, const pn_scope *sc, sli_buf *b) {
    int first = 1;
    for (const pn_scope *s = sc; s; s = s->parent) {
        if (!s->node) continue;
        if (s->node->kind == WF_FOREACH) {
            sli_buf_printf(b, "%s%s", first ? "" : ", ", s->node->var);
            first = 0;
        } else if (s->node->kind == WF_LOOP) {
            sli_buf_printf(b, "%s%s.round", first ? "" : ", ", s->node->id);
            first = 0;
        }
    }
    for (size_t i = 0; i < p->wf->n_params; i++) {
        sli_buf_printf(b, "%s%s", first ? "" : ", ", p->wf->params[i].name);
        first = 0;
    }
    sli_buf_printf(b, "%sworkflow.dir, workflow.name", first ? "" : ", ");
}

/* Replace ${name} references; "$${" stands for a literal "${". Returns an arena string, or
 * NULL with the error set. */
static const char *interp(pn_plan *p, const pn_scope *sc, const char *text, wf_loc loc, const char *what) {
    if (!text) return NULL;
    if (!strchr(text, '$')) return text; /* the common case: nothing to replace */
    sli_buf b = {0};
    for (const char *q = text; *q;) {
        if (q[0] == '$' && q[1] == '$' && q[2] == '{') {
            sli_buf_puts(&b, "${");
            q += 3;
            continue;
        }
        if (q[0] == '$' && q[1] == '{') {
            const char *e = strchr(q + 2, '}');
            if (!e) {
                sl_set_error(SL_ERR_PARSE, LOCFMT "%s: '${' without a closing '}'", LOC(loc), what);
                sli_buf_free(&b);
                return NULL;
            }
            char name[256];
            size_t n = (size_t)(e - (q + 2));
            snprintf(name, sizeof name, "%.*s", (int)(n < 255 ? n : 255), q + 2);
            char num[32];
            const char *v = lookup_var(p, sc, name, num);
            if (!v) {
                sli_buf names = {0};
                list_names(p, sc, &names);
                sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "%s: unknown name '${%s}'; defined here: %s", LOC(loc), what, name, names.data);
                sli_buf_free(&names);
                sli_buf_free(&b);
                return NULL;
            }
            sli_buf_puts(&b, v);
            q = e + 1;
            continue;
        }
        sli_buf_putc(&b, *q++);
    }
    const char *r = sli_arena_strdup(p->arena, b.data ? b.data : "");
    sli_buf_free(&b);
    return r;
}

static const char *abs_path(pn_plan *p, const char *path) {
    if (path[0] == '/') return path;
    char *j = sli_path_join(p->wf->dir, path);
    char *a = sli_path_absolute(j);
    const char *r = sli_arena_strdup(p->arena, a);
    free(j);
    free(a);
    return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Params                                                                                     */

static sl_status bind_params(pn_plan *p, const pn_overrides *ov) {
    const wf_workflow *wf = p->wf;
    p->param_values = sli_arena_alloc(p->arena, (wf->n_params + 1) * sizeof *p->param_values);
    int *from_cli = sli_xcalloc(wf->n_params + 1, sizeof *from_cli);
    sl_status st = SL_OK;
    for (size_t k = 0; ov && k < ov->n && st == SL_OK; k++) {
        const char *eq = strchr(ov->items[k], '=');
        if (!eq || eq == ov->items[k]) {
            st = sl_set_error(SL_ERR_INVALID, "--param %s: expected name=value", ov->items[k]);
            break;
        }
        size_t nl = (size_t)(eq - ov->items[k]);
        size_t i;
        for (i = 0; i < wf->n_params; i++)
            if (strlen(wf->params[i].name) == nl && strncmp(wf->params[i].name, ov->items[k], nl) == 0) break;
        if (i == wf->n_params) {
            sli_buf b = {0};
            for (size_t j = 0; j < wf->n_params; j++) sli_buf_printf(&b, "%s%s", j ? ", " : "", wf->params[j].name);
            st = sl_set_error(SL_ERR_NOT_FOUND, "--param %s: %s has no param '%.*s'; it has: %s", ov->items[k],
                              wf->path, (int)nl, ov->items[k], wf->n_params ? b.data : "(none)");
            sli_buf_free(&b);
            break;
        }
        p->param_values[i] = sli_arena_strdup(p->arena, eq + 1);
        from_cli[i] = 1;
    }
    for (size_t i = 0; i < wf->n_params && st == SL_OK; i++) {
        const wf_param *wp = &wf->params[i];
        if (!p->param_values[i]) p->param_values[i] = wp->default_value;
        if (!p->param_values[i]) {
            st = sl_set_error(SL_ERR_INVALID, LOCFMT "param '%s' has no default; give it with --param %s=VALUE", LOC(wp->loc), wp->name, wp->name);
            break;
        }
        sl_param_desc d = {.struct_size = sizeof d, .name = wp->name, .type = wp->type, .min = wp->min, .max = wp->max, .choices = wp->choices};
        sli_buf why = {0};
        if (pl_param_check(&d, p->param_values[i], &why)) {
            if (from_cli[i])
                st = sl_set_error(SL_ERR_RANGE, "--param %s=%s: %s (declared at %s:%d:%d as %s)", wp->name, p->param_values[i], why.data,
                                  LOC(wp->loc), wf_param_type_name(wp->type));
            else
                st = sl_set_error(SL_ERR_RANGE, LOCFMT "default of param '%s': %s", LOC(wp->loc), wp->name, why.data);
        }
        sli_buf_free(&why);
        /* paths given on the command line are relative to the current directory; defaults
         * written in the workflow are relative to the workflow's folder */
        if (st == SL_OK && wp->type == SL_PARAM_PATH && p->param_values[i][0]) {
            if (from_cli[i]) {
                char *a = sli_path_absolute(p->param_values[i]);
                p->param_values[i] = sli_arena_strdup(p->arena, a);
                free(a);
            } else {
                p->param_values[i] = abs_path(p, p->param_values[i]);
            }
        }
    }
    free(from_cli);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Templates: ids, ops, ports, params, types, cycles                                          */

static sl_status collect_tmpls(pn_plan *p, wf_node **nodes, size_t n) {
    for (size_t i = 0; i < n; i++) {
        wf_node *nd = nodes[i];
        tmpl *prev = sli_map_get(&p->priv->tmpls, nd->id);
        if (prev)
            return sl_set_error(SL_ERR_INVALID, LOCFMT "duplicate id '%s': already used at line %d:%d; ids must be unique in a workflow",
                                LOC(nd->loc), nd->id, prev->node->loc.line, prev->node->loc.col);
        tmpl *t = sli_arena_alloc(p->arena, sizeof *t);
        t->node = nd;
        nd->aux = t;
        sli_map_put(&p->priv->tmpls, nd->id, t);
        if (nd->kind != WF_STEP) {
            sl_status st = collect_tmpls(p, nd->children, nd->n_children);
            if (st != SL_OK) return st;
        }
    }
    return SL_OK;
}

static void suggest(sli_buf *b, const char *word, const char *const *cands, size_t n) {
    const char *best = NULL;
    size_t bd = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = sli_edit_distance(word, cands[i]);
        if (d < bd) {
            bd = d;
            best = cands[i];
        }
    }
    if (best && bd <= 2 + strlen(word) / 4) sli_buf_printf(b, "did you mean '%s'? ", best);
}

static void port_names(const sl_port_desc *ports, size_t n, sli_buf *b) {
    for (size_t i = 0; i < n; i++) sli_buf_printf(b, "%s%s (%s)", i ? ", " : "", ports[i].name, ports[i].type);
    if (!n) sli_buf_puts(b, "(none)");
}

static int is_ancestor(const wf_node *anc, const wf_node *n) {
    for (const wf_node *x = n->parent; x; x = x->parent)
        if (x == anc) return 1;
    return 0;
}

static const wf_node *enclosing_loop(const wf_node *n) {
    for (const wf_node *x = n->parent; x; x = x->parent)
        if (x->kind == WF_LOOP) return x;
    return NULL;
}

/* Split "step.port" into its two parts (arena copies). */
static int split_ref(pn_plan *p, const char *ref, const char **step, const char **port) {
    const char *dot = strchr(ref, '.');
    if (!dot || dot == ref || !dot[1]) return -1;
    *step = sli_arena_strndup(p->arena, ref, (size_t)(dot - ref));
    *port = sli_arena_strdup(p->arena, dot + 1);
    return 0;
}

static sl_status check_step_tmpl(pn_plan *p, tmpl *t) {
    const wf_node *nd = t->node;
    t->op = pl_registry_find(p->reg, nd->op);
    if (!t->op) {
        sli_buf b = {0};
        pl_registry_explain_unknown(p->reg, nd->op, &b);
        sl_status st = sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "step '%s': unknown op '%s'%s", LOC(nd->op_loc), nd->id, nd->op, b.data ? b.data : "");
        sli_buf_free(&b);
        return st;
    }
    const pl_op *op = t->op;
    t->set_param = sli_arena_alloc(p->arena, (nd->n_sets + 1) * sizeof(int));
    for (size_t i = 0; i < nd->n_sets; i++) {
        const wf_set *s = &nd->sets[i];
        int k = pl_op_param(op, s->name);
        if (k < 0) {
            sli_buf b = {0};
            const char **names = sli_xcalloc(op->n_params + 1, sizeof *names);
            for (size_t j = 0; j < op->n_params; j++) names[j] = op->params[j].name;
            suggest(&b, s->name, names, op->n_params);
            sli_buf_puts(&b, "it has: ");
            for (size_t j = 0; j < op->n_params; j++) sli_buf_printf(&b, "%s%s", j ? ", " : "", names[j]);
            if (!op->n_params) sli_buf_puts(&b, "(none)");
            free(names);
            sl_status st = sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "step '%s': op %s has no param '%s'; %s", LOC(s->loc), nd->id, op->name, s->name, b.data);
            sli_buf_free(&b);
            return st;
        }
        for (size_t j = 0; j < i; j++)
            if (t->set_param[j] == k)
                return sl_set_error(SL_ERR_INVALID, LOCFMT "step '%s': param '%s' is set twice (also at line %d)", LOC(s->loc), nd->id, s->name, nd->sets[j].loc.line);
        t->set_param[i] = k;
    }
    t->input_port = sli_arena_alloc(p->arena, (nd->n_inputs + 1) * sizeof(int));
    t->from_tmpl = sli_arena_alloc(p->arena, (nd->n_inputs + 1) * sizeof(tmpl *));
    t->from_port = sli_arena_alloc(p->arena, (nd->n_inputs + 1) * sizeof(int));
    for (size_t i = 0; i < nd->n_inputs; i++) {
        const wf_input *in = &nd->inputs[i];
        int k = pl_op_input(op, in->port);
        if (k < 0) {
            sli_buf b = {0};
            const char **names = sli_xcalloc(op->n_inputs + 1, sizeof *names);
            for (size_t j = 0; j < op->n_inputs; j++) names[j] = op->inputs[j].name;
            suggest(&b, in->port, names, op->n_inputs);
            free(names);
            sli_buf_puts(&b, "its input ports are: ");
            port_names(op->inputs, op->n_inputs, &b);
            sl_status st = sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "step '%s': op %s has no input port '%s'; %s", LOC(in->loc), nd->id, op->name, in->port, b.data);
            sli_buf_free(&b);
            return st;
        }
        t->input_port[i] = k;
        if (!(op->inputs[k].flags & SL_PORT_MULTI))
            for (size_t j = 0; j < i; j++)
                if (t->input_port[j] == k)
                    return sl_set_error(SL_ERR_INVALID, LOCFMT "step '%s': input port '%s' of %s takes one artifact but is bound twice (also at line %d)",
                                        LOC(in->loc), nd->id, in->port, op->name, nd->inputs[j].loc.line);
        t->from_port[i] = -1;
        if (!in->from) continue;
        const char *sid, *pname;
        if (strstr(in->from, "${"))
            return sl_set_error(SL_ERR_INVALID, LOCFMT "step '%s': from=\"%s\" may not contain ${...}; name the step and port literally", LOC(in->from_loc), nd->id, in->from);
        if (split_ref(p, in->from, &sid, &pname) != 0)
            return sl_set_error(SL_ERR_PARSE, LOCFMT "step '%s': from=\"%s\": expected step.port", LOC(in->from_loc), nd->id, in->from);
        tmpl *src = sli_map_get(&p->priv->tmpls, sid);
        if (!src || src->node->kind != WF_STEP) {
            sli_buf b = {0};
            if (src) sli_buf_printf(&b, "'%s' is a <%s>, not a step", sid, src->node->kind == WF_LOOP ? "loop" : "foreach");
            else sli_buf_printf(&b, "no step has id '%s'", sid);
            sl_status st = sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "step '%s': from=\"%s\": %s", LOC(in->from_loc), nd->id, in->from, b.data);
            sli_buf_free(&b);
            return st;
        }
        t->from_tmpl[i] = src;
        if (in->previous) {
            const wf_node *l = enclosing_loop(nd);
            if (!l || !is_ancestor(l, src->node))
                return sl_set_error(SL_ERR_INVALID, LOCFMT "step '%s': round=\"previous\" needs both '%s' and '%s' inside the same <loop>",
                                    LOC(in->loc), nd->id, nd->id, sid);
            if (!in->optional)
                return sl_set_error(SL_ERR_INVALID, LOCFMT "step '%s': round=\"previous\" must also say optional=\"true\" (the first round has no previous one)",
                                    LOC(in->loc), nd->id);
        }
    }
    return SL_OK;
}

/* Ops of producers are needed to check edge types, so this runs after every template's op
 * is known. */
static sl_status check_edges(tmpl *t) {
    const wf_node *nd = t->node;
    for (size_t i = 0; i < nd->n_inputs; i++) {
        tmpl *src = t->from_tmpl[i];
        if (!src) continue;
        const wf_input *in = &nd->inputs[i];
        const char *pname = strchr(in->from, '.') + 1;
        int k = pl_op_output(src->op, pname);
        if (k < 0) {
            sli_buf b = {0};
            port_names(src->op->outputs, src->op->n_outputs, &b);
            sl_status st = sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "step '%s': from=\"%s\": step '%s' (op %s) has no output port '%s'; its outputs are: %s",
                                        LOC(in->from_loc), nd->id, in->from, src->node->id, src->op->name, pname, b.data);
            sli_buf_free(&b);
            return st;
        }
        t->from_port[i] = k;
        const char *from_type = src->op->outputs[k].type;
        const char *to_type = t->op->inputs[t->input_port[i]].type;
        if (in->select) from_type = "any"; /* a path inside a directory: checked when it exists */
        if (!sl_artifact_types_compatible(from_type, to_type))
            return sl_set_error(SL_ERR_TYPE, LOCFMT "step '%s': type mismatch: %s is a '%s' artifact but input port '%s' of %s expects '%s'",
                                LOC(in->from_loc), nd->id, in->from, from_type, in->port, t->op->name, to_type);
    }
    return SL_OK;
}

static sl_status check_tmpls(pn_plan *p, wf_node **nodes, size_t n, int pass) {
    for (size_t i = 0; i < n; i++) {
        tmpl *t = nodes[i]->aux;
        sl_status st = SL_OK;
        if (nodes[i]->kind == WF_STEP) st = pass == 0 ? check_step_tmpl(p, t) : check_edges(t);
        else st = check_tmpls(p, nodes[i]->children, nodes[i]->n_children, pass);
        if (st != SL_OK) return st;
    }
    return SL_OK;
}

/* Depth-first search over template edges (excluding round="previous", which points back in
 * time); on finding a back edge, name the whole cycle. Iterative: a workflow may be a chain
 * of a million steps. */
typedef struct dfs_frame {
    tmpl *t;
    size_t next; /* next input to follow */
} dfs_frame;

static sl_status find_cycles(pn_plan *p) {
    sli_map *m = &p->priv->tmpls;
    dfs_frame *stack = sli_xcalloc(m->n + 1, sizeof *stack);
    sl_status st = SL_OK;
    for (size_t i = 0; i < m->cap && st == SL_OK; i++) {
        if (!m->slots[i].hash) continue;
        tmpl *root = m->slots[i].val;
        if (root->node->kind != WF_STEP || root->mark) continue;
        size_t depth = 0;
        stack[0] = (dfs_frame){root, 0};
        root->mark = 1;
        while (st == SL_OK) {
            dfs_frame *f = &stack[depth];
            const wf_node *nd = f->t->node;
            if (f->next == nd->n_inputs) {
                f->t->mark = 2;
                if (depth == 0) break;
                depth--;
                continue;
            }
            size_t k = f->next++;
            tmpl *src = f->t->from_tmpl[k];
            if (!src || nd->inputs[k].previous || src->mark == 2) continue;
            if (src->mark == 1) {
                sli_buf b = {0};
                size_t start = 0;
                while (stack[start].t != src) start++;
                /* edges point from consumer to producer; print in data-flow order */
                for (size_t j = depth + 1; j-- > start;) sli_buf_printf(&b, "%s -> ", stack[j].t->node->id);
                sli_buf_puts(&b, f->t->node->id);
                st = sl_set_error(SL_ERR_CYCLE, LOCFMT "the steps form a cycle: %s; a step cannot depend on its own output",
                                  LOC(nd->inputs[k].from_loc), b.data);
                sli_buf_free(&b);
                break;
            }
            src->mark = 1;
            stack[++depth] = (dfs_frame){src, 0};
        }
    }
    free(stack);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Instances                                                                                  */

static uint32_t new_step(pn_plan *p) {
    if (p->n_steps == p->cap_steps) {
        p->cap_steps = p->cap_steps ? p->cap_steps * 2 : 1024;
        p->steps = sli_xrealloc(p->steps, (size_t)p->cap_steps * sizeof *p->steps);
    }
    memset(&p->steps[p->n_steps], 0, sizeof p->steps[p->n_steps]);
    return p->n_steps++;
}

static pn_scope *new_scope(pn_plan *p, const wf_node *node, pn_scope *parent, pn_group *g, int index, const char *value) {
    pn_scope *s = sli_arena_alloc(p->arena, sizeof *s);
    s->node = node;
    s->parent = parent;
    s->group = g;
    s->index = index;
    s->value = value;
    s->prefix = node ? sli_arena_printf(p->arena, "%s%s[%d].", parent->prefix, node->id, index) : "";
    return s;
}

static pn_scope *round_of(pn_scope *s) {
    for (; s; s = s->parent)
        if (s->node && s->node->kind == WF_LOOP) return s;
    return NULL;
}

static sl_status instantiate_nodes(pn_plan *p, pn_scope *sc, wf_node **nodes, size_t n);

static sl_status instantiate_step(pn_plan *p, pn_scope *sc, const wf_node *nd) {
    tmpl *t = nd->aux;
    const pl_op *op = t->op;
    uint32_t idx = new_step(p);
    pn_step *s = &p->steps[idx];
    s->id = sc->prefix[0] ? sli_arena_printf(p->arena, "%s%s", sc->prefix, nd->id) : nd->id;
    s->op = op;
    s->node = nd;
    s->scope = sc;
    s->round = round_of(sc);
    s->cpus = 1;
    /* top-level steps have one instance, found through their template; only steps inside
     * containers need a per-scope map */
    if (sc->node) sli_map_put(&sc->steps, nd->id, (void *)(uintptr_t)(idx + 1));
    else t->root_step = idx + 1;
    if (s->round) s->round->remaining++;

    if (nd->when) {
        const char *w = interp(p, sc, nd->when, nd->when_loc, "when");
        int on;
        if (!w) return SL_ERR_NOT_FOUND;
        if (*w == '\0') on = 1;
        else if (parse_bool(w, &on) != 0)
            return sl_set_error(SL_ERR_TYPE, LOCFMT "step '%s': when=\"%s\" gives '%s'; expected true or false", LOC(nd->when_loc), s->id, nd->when, w);
        if (!on) s->state = PS_DISABLED;
    }
    s->params = sli_arena_alloc(p->arena, (op->n_params + 1) * sizeof *s->params);
    for (size_t i = 0; i < op->n_params; i++) s->params[i] = op->params[i].default_value;
    for (size_t i = 0; i < nd->n_sets; i++) {
        const wf_set *ws = &nd->sets[i];
        const sl_param_desc *pd = &op->params[t->set_param[i]];
        const char *v = interp(p, sc, ws->value, ws->loc, ws->name);
        if (!v) return SL_ERR_NOT_FOUND;
        /* trim surrounding whitespace of element text: <set name="x">\n  3\n</set> */
        while (isspace((unsigned char)*v)) v++;
        size_t l = strlen(v);
        while (l && isspace((unsigned char)v[l - 1])) l--;
        v = sli_arena_strndup(p->arena, v, l);
        sli_buf why = {0};
        if (pl_param_check(pd, v, &why)) {
            sl_status st = sl_set_error(SL_ERR_RANGE, LOCFMT "step '%s': param '%s' of %s: %s", LOC(ws->loc), s->id, ws->name, op->name, why.data);
            sli_buf_free(&why);
            return st;
        }
        if (pd->type == SL_PARAM_PATH && *v) v = abs_path(p, v);
        s->params[t->set_param[i]] = v;
    }
    for (size_t i = 0; i < op->n_params; i++)
        if (!s->params[i])
            return sl_set_error(SL_ERR_INVALID, LOCFMT "step '%s': op %s needs param '%s' (%s%s%s); add <set name=\"%s\">...</set>",
                                LOC(nd->loc), s->id, op->name, op->params[i].name, wf_param_type_name(op->params[i].type),
                                op->params[i].doc ? ": " : "", op->params[i].doc ? op->params[i].doc : "", op->params[i].name);
    if (nd->resources) {
        const char *r = interp(p, sc, nd->resources, nd->resources_loc, "resources");
        if (!r) return SL_ERR_NOT_FOUND;
        sl_status st = parse_resources(r, nd->resources_loc, s);
        if (st != SL_OK) return st;
    }
    if (nd->retry) {
        const char *r = interp(p, sc, nd->retry, nd->retry_loc, "retry");
        if (!r) return SL_ERR_NOT_FOUND;
        char *end;
        long v = strtol(r, &end, 10);
        if (*end || end == r || v < 0 || v > 100)
            return sl_set_error(SL_ERR_RANGE, LOCFMT "step '%s': retry=\"%s\": expected a whole number in [0, 100]", LOC(nd->retry_loc), s->id, r);
        s->retry = (uint16_t)v;
    }
    if (nd->timeout) {
        const char *r = interp(p, sc, nd->timeout, nd->timeout_loc, "timeout");
        if (!r) return SL_ERR_NOT_FOUND;
        double d = pn_parse_duration(r);
        if (d <= 0)
            return sl_set_error(SL_ERR_RANGE, LOCFMT "step '%s': timeout=\"%s\": expected a positive duration like 90s, 5m, 2h or 1h30m",
                                LOC(nd->timeout_loc), s->id, r);
        s->timeout = d;
    }
    s->inputs = sli_arena_alloc(p->arena, (op->n_inputs + 1) * sizeof *s->inputs);
    return SL_OK;
}

/* Items of a foreach: "a, b, c" or a range "1..100". */
static sl_status foreach_items(pn_plan *p, const wf_node *nd, const char *text, const char ***items, size_t *n) {
    long lo, hi;
    char tail;
    *items = NULL;
    *n = 0;
    if (sscanf(text, " %ld .. %ld %c", &lo, &hi, &tail) == 2) {
        if (hi < lo || hi - lo >= 100000000L)
            return sl_set_error(SL_ERR_RANGE, LOCFMT "foreach '%s': in=\"%s\": a range must run upwards and hold at most 1e8 items",
                                LOC(nd->items_loc), nd->id, text);
        *n = (size_t)(hi - lo + 1);
        *items = sli_arena_alloc(p->arena, *n * sizeof **items);
        for (size_t i = 0; i < *n; i++) (*items)[i] = sli_arena_printf(p->arena, "%ld", lo + (long)i);
        return SL_OK;
    }
    size_t cap = 8;
    *items = sli_xcalloc(cap, sizeof **items);
    for (const char *q = text;;) {
        const char *e = strchr(q, ',');
        const char *end = e ? e : q + strlen(q);
        while (q < end && isspace((unsigned char)*q)) q++;
        const char *r = end;
        while (r > q && isspace((unsigned char)r[-1])) r--;
        if (r > q) {
            if (*n == cap) {
                cap *= 2;
                *items = sli_xrealloc((void *)*items, cap * sizeof **items);
            }
            (*items)[(*n)++] = sli_arena_strndup(p->arena, q, (size_t)(r - q));
        }
        if (!e) break;
        q = e + 1;
    }
    const char **copy = sli_arena_alloc(p->arena, (*n + 1) * sizeof *copy);
    memcpy(copy, *items, *n * sizeof *copy);
    free((void *)*items);
    *items = copy;
    return SL_OK;
}

static pn_group *new_group(pn_plan *p, pn_scope *sc, const wf_node *nd) {
    pn_group *g = sli_arena_alloc(p->arena, sizeof *g);
    g->node = nd;
    g->parent = sc;
    sli_map_put(&sc->groups, nd->id, g);
    return g;
}

static sl_status add_round(pn_plan *p, pn_group *g) {
    int r = (int)g->n_inst + 1;
    g->inst = sli_xrealloc(g->inst, (size_t)r * sizeof *g->inst);
    pn_scope *round = new_scope(p, g->node, g->parent, g, r, NULL);
    g->inst[g->n_inst++] = round;
    return instantiate_nodes(p, round, g->node->children, g->node->n_children);
}

static sl_status instantiate_nodes(pn_plan *p, pn_scope *sc, wf_node **nodes, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const wf_node *nd = nodes[i];
        sl_status st = SL_OK;
        if (nd->kind == WF_STEP) {
            st = instantiate_step(p, sc, nd);
        } else if (nd->kind == WF_FOREACH) {
            const char *text = interp(p, sc, nd->items, nd->items_loc, "in");
            if (!text) return SL_ERR_NOT_FOUND;
            const char **items;
            size_t ni;
            st = foreach_items(p, nd, text, &items, &ni);
            if (st != SL_OK) return st;
            pn_group *g = new_group(p, sc, nd);
            g->inst = sli_xcalloc(ni + 1, sizeof *g->inst);
            g->finished = 1;
            for (size_t k = 0; k < ni && st == SL_OK; k++) {
                pn_scope *item = new_scope(p, nd, sc, g, (int)k + 1, items[k]);
                g->inst[g->n_inst++] = item;
                st = instantiate_nodes(p, item, nd->children, nd->n_children);
            }
        } else {
            const char *m = interp(p, sc, nd->max, nd->max_loc, "max");
            if (!m) return SL_ERR_NOT_FOUND;
            char *end;
            long mx = strtol(m, &end, 10);
            if (*end || end == m || mx < 1 || mx > 100000)
                return sl_set_error(SL_ERR_RANGE, LOCFMT "loop '%s': max=\"%s\" gives '%s'; expected a whole number in [1, 100000]",
                                    LOC(nd->max_loc), nd->id, nd->max, m);
            pn_group *g = new_group(p, sc, nd);
            g->max_rounds = (int)mx;
            p->loops = sli_xrealloc(p->loops, (p->n_loops + 1) * sizeof *p->loops);
            p->loops[p->n_loops++] = g;
            st = add_round(p, g);
        }
        if (st != SL_OK) return st;
    }
    return SL_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Binding inputs                                                                             */

typedef struct src_list {
    pn_src *v;
    uint32_t n, cap;
    int deferred;         /* a loop on the way has not finished */
    pn_group **wait;      /* loops to wait for */
    size_t n_wait;
} src_list;

static void push_src(src_list *l, pn_src s) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = sli_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = s;
}

/* Descend from scope `sc` along the container chain `chain[depth..]` to instances of `target_node`. */
static void collect(pn_plan *p, pn_scope *sc, const wf_node **chain, size_t depth, size_t len, const wf_node *target_node,
                    int port, const char *select, src_list *out) {
    if (depth == len) {
        uintptr_t v = sc->node ? (uintptr_t)sli_map_get(&sc->steps, target_node->id) : ((tmpl *)target_node->aux)->root_step;
        if (!v) return;
        uint32_t idx = (uint32_t)(v - 1);
        if (p->steps[idx].state == PS_DISABLED) return;
        push_src(out, (pn_src){.step = idx, .port = (uint16_t)port, .select = select});
        return;
    }
    pn_group *g = sli_map_get(&sc->groups, chain[depth]->id);
    if (!g) return;
    if (g->node->kind == WF_FOREACH) {
        for (size_t i = 0; i < g->n_inst; i++) collect(p, g->inst[i], chain, depth + 1, len, target_node, port, select, out);
        return;
    }
    if (!g->finished) {
        out->deferred = 1;
        out->wait = sli_xrealloc(out->wait, (out->n_wait + 1) * sizeof *out->wait);
        out->wait[out->n_wait++] = g;
        return;
    }
    if (g->n_inst) collect(p, g->inst[g->n_inst - 1], chain, depth + 1, len, target_node, port, select, out);
}

/* Sources of `from` as seen by a step in scope `sc`. */
static void resolve_from(pn_plan *p, pn_scope *sc, const wf_node *target, int port, const char *select, int previous, src_list *out) {
    /* the deepest scope of the referrer that also encloses the target */
    pn_scope *c = sc;
    while (c->node && !is_ancestor(c->node, target)) c = c->parent;
    if (previous) {
        /* c is the referrer's round; step back one round */
        pn_group *g = c->group;
        if (!g || c->index <= 1) return;
        c = g->inst[c->index - 2];
    }
    const wf_node *chain[64];
    size_t len = 0;
    for (const wf_node *x = target->parent; x && x != c->node && len < 64; x = x->parent) chain[len++] = x;
    for (size_t i = 0; i < len / 2; i++) {
        const wf_node *t = chain[i];
        chain[i] = chain[len - 1 - i];
        chain[len - 1 - i] = t;
    }
    collect(p, c, chain, 0, len, target, port, select, out);
}

static sl_status expand_path(pn_plan *p, const pn_step *s, const wf_input *in, const char *path, src_list *out) {
    if (strpbrk(path, "*?[")) {
        glob_t g;
        int rc = glob(path, 0, NULL, &g);
        if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
            globfree(&g);
            if (in->optional) return SL_OK;
            return sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "step '%s': input '%s': no file matches '%s'", LOC(in->path_loc), s->id, in->port, path);
        }
        if (rc != 0) {
            globfree(&g);
            return sl_set_error(SL_ERR_IO, LOCFMT "step '%s': input '%s': cannot expand '%s'", LOC(in->path_loc), s->id, in->port, path);
        }
        for (size_t i = 0; i < g.gl_pathc; i++) push_src(out, (pn_src){.path = sli_arena_strdup(p->arena, g.gl_pathv[i])});
        globfree(&g);
        return SL_OK;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (in->optional) return SL_OK;
        return sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "step '%s': input '%s': %s does not exist", LOC(in->path_loc), s->id, in->port, path);
    }
    push_src(out, (pn_src){.path = path});
    return SL_OK;
}

static void add_user(pn_plan *p, uint32_t producer, uint32_t consumer) {
    pn_step *ps = &p->steps[producer];
    if (ps->n_users && ps->users[ps->n_users - 1] == consumer) return;
    if (ps->n_users == ps->cap_users) {
        ps->cap_users = ps->cap_users ? ps->cap_users * 2 : 2;
        ps->users = sli_xrealloc(ps->users, ps->cap_users * sizeof *ps->users);
    }
    ps->users[ps->n_users++] = consumer;
}

static int finished_state(uint8_t st) { return st >= PS_DONE; }

static void add_waiter(pn_group *g, uint32_t step) {
    for (size_t i = 0; i < g->n_waiters; i++)
        if (g->waiters[i] == step) return;
    if (g->n_waiters == g->cap_waiters) {
        g->cap_waiters = g->cap_waiters ? g->cap_waiters * 2 : 4;
        g->waiters = sli_xrealloc(g->waiters, g->cap_waiters * sizeof *g->waiters);
    }
    g->waiters[g->n_waiters++] = step;
}

/* Bind every input of one step. `count_pending` adds unfinished producers to its pending
 * count (and registers it as their user). */
static sl_status bind_step(pn_plan *p, uint32_t idx, int final) {
    pn_step *s = &p->steps[idx];
    if (s->state == PS_DISABLED) return SL_OK;
    const wf_node *nd = s->node;
    tmpl *t = nd->aux;
    const pl_op *op = s->op;
    src_list *per_port = sli_xcalloc(op->n_inputs + 1, sizeof *per_port);
    sl_status st = SL_OK;
    int deferred = 0;
    for (size_t i = 0; i < nd->n_inputs && st == SL_OK; i++) {
        const wf_input *in = &nd->inputs[i];
        src_list *l = &per_port[t->input_port[i]];
        const char *select = in->select ? interp(p, s->scope, in->select, in->loc, "select") : NULL;
        if (in->select && !select) {
            st = SL_ERR_NOT_FOUND;
            break;
        }
        if (select && (select[0] == '/' || !strcmp(select, "..") || !strncmp(select, "../", 3) || strstr(select, "/../") ||
                       (strlen(select) >= 3 && !strcmp(select + strlen(select) - 3, "/.."))) ) {
            st = sl_set_error(SL_ERR_INVALID, LOCFMT "step '%s': select=\"%s\" must be a relative path inside the artifact (no '/' at the start, no '..')",
                              LOC(in->loc), s->id, select);
            break;
        }
        if (in->path) {
            const char *path = interp(p, s->scope, in->path, in->path_loc, "path");
            if (!path) {
                st = SL_ERR_NOT_FOUND;
                break;
            }
            st = expand_path(p, s, in, abs_path(p, path), l);
            if (st == SL_OK && select) l->v[l->n - 1].select = select;
            continue;
        }
        uint32_t before = l->n;
        resolve_from(p, s->scope, t->from_tmpl[i]->node, t->from_port[i], select, in->previous, l);
        if (l->deferred) {
            deferred = 1;
            continue;
        }
        if (l->n == before && !in->optional && !in->previous) {
            uintptr_t v = (uintptr_t)0;
            const char *why = "it runs in a <foreach> with no items";
            for (pn_scope *x = s->scope; x && !v; x = x->parent)
                v = x->node ? (uintptr_t)sli_map_get(&x->steps, t->from_tmpl[i]->node->id) : t->from_tmpl[i]->root_step;
            if (v && p->steps[v - 1].state == PS_DISABLED) why = "it is disabled by its when= condition";
            st = sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "step '%s': input '%s' from=\"%s\" has nothing to read: %s; mark the input optional=\"true\" if that is expected",
                              LOC(in->from_loc), s->id, in->port, in->from, why);
        }
    }
    for (size_t k = 0; k < op->n_inputs && st == SL_OK && !deferred; k++) {
        const sl_port_desc *pd = &op->inputs[k];
        src_list *l = &per_port[k];
        if (l->n == 0 && !(pd->flags & SL_PORT_OPTIONAL)) {
            /* an input declared optional in the workflow may be empty even if the op wants one;
             * otherwise the op's own requirement decides */
            int declared_optional = 0;
            for (size_t i = 0; i < nd->n_inputs; i++)
                if (t->input_port[i] == (int)k && nd->inputs[i].optional) declared_optional = 1;
            if (!declared_optional)
                st = sl_set_error(SL_ERR_INVALID, LOCFMT "step '%s': op %s needs input port '%s' (%s%s%s); add <input port=\"%s\" from=\"step.port\"/> or path=\"...\"",
                                  LOC(nd->loc), s->id, op->name, pd->name, pd->type, pd->doc ? ": " : "", pd->doc ? pd->doc : "", pd->name);
        } else if (l->n > 1 && !(pd->flags & SL_PORT_MULTI)) {
            st = sl_set_error(SL_ERR_INVALID, LOCFMT "step '%s': input port '%s' of %s takes one artifact, but its binding gives %u (a step inside a <foreach> feeds it; gather into a port that takes several)",
                              LOC(nd->loc), s->id, pd->name, op->name, l->n);
        }
        /* path inputs: a directory-shaped port needs a directory, a file-shaped one a file */
        for (uint32_t j = 0; j < l->n && st == SL_OK; j++) {
            if (!l->v[j].path || l->v[j].select) continue;
            struct stat sb;
            if (stat(l->v[j].path, &sb) != 0) continue;
            int is_dir = S_ISDIR(sb.st_mode);
            if (strcmp(pd->type, "any") != 0 && sl_artifact_type_is_dir(pd->type) != is_dir)
                st = sl_set_error(SL_ERR_TYPE, LOCFMT "step '%s': input port '%s' of %s expects a %s ('%s'), but %s is a %s",
                                  LOC(nd->loc), s->id, pd->name, op->name, sl_artifact_type_is_dir(pd->type) ? "directory" : "file",
                                  pd->type, l->v[j].path, is_dir ? "directory" : "file");
        }
    }
    if (st == SL_OK && deferred) {
        s->deferred = 1;
        if (!final) {
            for (size_t k = 0; k < op->n_inputs; k++)
                for (size_t w = 0; w < per_port[k].n_wait; w++) {
                    size_t before = per_port[k].wait[w]->n_waiters;
                    add_waiter(per_port[k].wait[w], idx);
                    if (per_port[k].wait[w]->n_waiters != before) s->pending++;
                }
        }
    }
    if (st == SL_OK && !deferred) {
        s->deferred = 0;
        for (size_t k = 0; k < op->n_inputs; k++) {
            src_list *l = &per_port[k];
            s->inputs[k].n = l->n;
            s->inputs[k].srcs = l->n ? sli_arena_alloc(p->arena, l->n * sizeof(pn_src)) : NULL;
            if (l->n) memcpy(s->inputs[k].srcs, l->v, l->n * sizeof(pn_src));
            for (uint32_t j = 0; j < l->n; j++) {
                if (l->v[j].path) continue;
                uint32_t prod = l->v[j].step;
                if (finished_state(p->steps[prod].state)) continue;
                size_t before = p->steps[prod].n_users;
                add_user(p, prod, idx);
                if (p->steps[prod].n_users != before) s->pending++;
            }
        }
    }
    for (size_t k = 0; k < op->n_inputs; k++) {
        free(per_port[k].v);
        free(per_port[k].wait);
    }
    free(per_port);
    return st;
}

sl_status pn_resolve_inputs(pn_plan *p, uint32_t step) {
    return bind_step(p, step, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Until conditions                                                                           */

typedef struct until_expr {
    const char *step, *value, *op, *rhs;
} until_expr;

static sl_status parse_until(pn_plan *p, const wf_node *loop, const char *text, until_expr *e) {
    static const char *ops[] = {"!=", "==", "<=", ">=", "=", "<", ">"};
    const char *at = NULL, *opname = NULL;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0] && !at; i++) {
        at = strstr(text, ops[i]);
        if (at) opname = ops[i];
    }
    if (!at)
        return sl_set_error(SL_ERR_PARSE, LOCFMT "loop '%s': until=\"%s\": expected 'step.value = text' (or !=, <, <=, >, >=)", LOC(loop->until_loc), loop->id, text);
    const char *l = text, *le = at;
    while (isspace((unsigned char)*l)) l++;
    while (le > l && isspace((unsigned char)le[-1])) le--;
    const char *r = at + strlen(opname), *re = r + strlen(r);
    while (isspace((unsigned char)*r)) r++;
    while (re > r && isspace((unsigned char)re[-1])) re--;
    if (re - r >= 2 && ((*r == '\'' && re[-1] == '\'') || (*r == '"' && re[-1] == '"'))) {
        r++;
        re--;
    }
    char *lhs = sli_arena_strndup(p->arena, l, (size_t)(le - l));
    if (split_ref(p, lhs, &e->step, &e->value) != 0)
        return sl_set_error(SL_ERR_PARSE, LOCFMT "loop '%s': until=\"%s\": the left side must be step.value", LOC(loop->until_loc), loop->id, text);
    e->op = opname;
    e->rhs = sli_arena_strndup(p->arena, r, (size_t)(re - r));
    return SL_OK;
}

static sl_status check_until(pn_plan *p, const wf_node *loop) {
    if (!loop->until) return SL_OK;
    until_expr e;
    sl_status st = parse_until(p, loop, loop->until, &e);
    if (st != SL_OK) return st;
    tmpl *t = sli_map_get(&p->priv->tmpls, e.step);
    if (!t || t->node->kind != WF_STEP || !is_ancestor(loop, t->node))
        return sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "loop '%s': until reads '%s.%s' but no step '%s' is inside this loop",
                            LOC(loop->until_loc), loop->id, e.step, e.value, e.step);
    const char *vals = t->op->values;
    int found = 0;
    if (vals) {
        size_t vl = strlen(e.value);
        for (const char *q = vals; *q;) {
            while (*q == ' ' || *q == ',') q++;
            const char *end = q;
            while (*end && *end != ',' && *end != ' ') end++;
            if ((size_t)(end - q) == vl && strncmp(q, e.value, vl) == 0) found = 1;
            q = end;
        }
    }
    if (!found)
        return sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "loop '%s': until reads '%s.%s' but op %s publishes no value '%s' (it publishes: %s)",
                            LOC(loop->until_loc), loop->id, e.step, e.value, t->op->name, e.value, vals && *vals ? vals : "nothing");
    return SL_OK;
}

static sl_status check_untils(pn_plan *p, wf_node **nodes, size_t n) {
    for (size_t i = 0; i < n; i++) {
        sl_status st = SL_OK;
        if (nodes[i]->kind == WF_LOOP) st = check_until(p, nodes[i]);
        if (st == SL_OK && nodes[i]->kind != WF_STEP) st = check_untils(p, nodes[i]->children, nodes[i]->n_children);
        if (st != SL_OK) return st;
    }
    return SL_OK;
}

/* 1 = stop, 0 = go on, -1 = error */
static int eval_until(pn_plan *p, pn_scope *round) {
    const wf_node *loop = round->node;
    until_expr e;
    if (parse_until(p, loop, loop->until, &e) != SL_OK) return -1;
    tmpl *t = sli_map_get(&p->priv->tmpls, e.step);
    src_list l = {0};
    resolve_from(p, round, t->node, 0, NULL, 0, &l);
    const char *val = NULL;
    for (uint32_t i = 0; i < l.n && !val; i++) {
        pn_step *s = &p->steps[l.v[i].step];
        for (uint32_t k = 0; k < s->n_values; k++)
            if (strcmp(s->value_names[k], e.value) == 0) val = s->value_texts[k];
    }
    free(l.v);
    free(l.wait);
    if (!val) {
        sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "loop '%s', round %d: step '%s' finished without publishing value '%s'",
                     LOC(loop->until_loc), loop->id, round->index, e.step, e.value);
        return -1;
    }
    int cmp;
    char *end1, *end2;
    double a = strtod(val, &end1), b = strtod(e.rhs, &end2);
    int numeric = *val && *e.rhs && !*end1 && !*end2;
    if (numeric) cmp = a < b ? -1 : a > b ? 1 : 0;
    else cmp = strcmp(val, e.rhs);
    if (!numeric && strchr("<>", e.op[0])) {
        sl_set_error(SL_ERR_TYPE, LOCFMT "loop '%s': until compares '%s' %s '%s', which needs two numbers",
                     LOC(loop->until_loc), loop->id, val, e.op, e.rhs);
        return -1;
    }
    if (!strcmp(e.op, "=") || !strcmp(e.op, "==")) return cmp == 0;
    if (!strcmp(e.op, "!=")) return cmp != 0;
    if (!strcmp(e.op, "<")) return cmp < 0;
    if (!strcmp(e.op, "<=")) return cmp <= 0;
    if (!strcmp(e.op, ">")) return cmp > 0;
    return cmp >= 0;
}

sl_status pn_round_finished(pn_plan *p, pn_scope *round, uint32_t *new_first, uint32_t *new_count) {
    pn_group *g = round->group;
    *new_first = p->n_steps;
    *new_count = 0;
    int stop = 0;
    if (round->failed) {
        g->failed = 1;
        g->stop_reason = sli_arena_printf(p->arena, "a step of round %d failed", round->index);
        stop = 1;
    } else if (g->node->until) {
        int r = eval_until(p, round);
        if (r < 0) {
            g->failed = 1;
            g->stop_reason = sli_arena_strdup(p->arena, sl_last_error());
            stop = 1;
        } else if (r == 1) {
            g->stop_reason = sli_arena_printf(p->arena, "until (%s) held after round %d", g->node->until, round->index);
            stop = 1;
        }
    }
    if (!stop && (int)g->n_inst >= g->max_rounds) {
        g->stop_reason = sli_arena_printf(p->arena, "reached max=%d rounds%s", g->max_rounds, g->node->until ? " without meeting until" : "");
        stop = 1;
    }
    if (!stop) {
        uint32_t first = p->n_steps;
        sl_status st = add_round(p, g);
        for (uint32_t i = first; st == SL_OK && i < p->n_steps; i++) st = bind_step(p, i, 0);
        if (st != SL_OK) {
            g->failed = 1;
            g->finished = 1;
            g->stop_reason = sli_arena_strdup(p->arena, sl_last_error());
            return st;
        }
        *new_first = first;
        *new_count = p->n_steps - first;
        return SL_OK;
    }
    g->finished = 1;
    for (size_t i = 0; i < g->n_waiters; i++) p->steps[g->waiters[i]].pending--;
    return g->failed ? SL_ERR_FAILED : SL_OK;
}

/* ------------------------------------------------------------------------------------------ */

uint32_t *pn_topo_order(const pn_plan *p) {
    uint32_t n = p->n_steps;
    uint32_t *indeg = sli_xcalloc(n + 1, sizeof *indeg), *order = sli_xmalloc((n + 1) * sizeof *order);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < p->steps[i].n_users; k++) indeg[p->steps[i].users[k]]++;
    uint32_t head = 0, tail = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!indeg[i]) order[tail++] = i;
    while (head < tail) {
        uint32_t s = order[head++];
        for (uint32_t k = 0; k < p->steps[s].n_users; k++)
            if (--indeg[p->steps[s].users[k]] == 0) order[tail++] = p->steps[s].users[k];
    }
    /* tail < n cannot happen for a checked plan; steps left out would be unreachable */
    for (uint32_t i = 0; i < n && tail < n; i++)
        if (indeg[i]) order[tail++] = i;
    free(indeg);
    return order;
}

void pn_compute_priorities(pn_plan *p) {
    uint32_t *order = pn_topo_order(p);
    for (uint32_t k = p->n_steps; k-- > 0;) {
        pn_step *s = &p->steps[order[k]];
        double best = 0;
        for (uint32_t u = 0; u < s->n_users; u++)
            if (p->steps[s->users[u]].priority > best) best = p->steps[s->users[u]].priority;
        s->priority = best + 1;
    }
    free(order);
}

static uint64_t derive_seed(const char *text) {
    char hex[SL_HASH_HEX_SIZE];
    sl_sha256_hex(text, strlen(text), hex);
    return strtoull((char[17]){hex[0], hex[1], hex[2], hex[3], hex[4], hex[5], hex[6], hex[7], hex[8], hex[9], hex[10],
                               hex[11], hex[12], hex[13], hex[14], hex[15], 0},
                    NULL, 16);
}

sl_status pn_build(const wf_workflow *wf, const pl_registry *reg, const pn_overrides *ov, pn_plan **out) {
    *out = NULL;
    pn_plan *p = sli_xcalloc(1, sizeof *p);
    p->arena = sli_arena_create();
    p->wf = wf;
    p->reg = reg;
    p->priv = sli_xcalloc(1, sizeof *p->priv);
    p->root = new_scope(p, NULL, NULL, NULL, 0, NULL);
    sl_status st = bind_params(p, ov);
    if (st == SL_OK && wf->seed) {
        const char *sv = interp(p, p->root, wf->seed, (wf_loc){wf->path, 1, 1}, "seed");
        if (!sv) st = SL_ERR_NOT_FOUND;
        else p->seed = derive_seed(sv);
    }
    if (st == SL_OK) st = collect_tmpls(p, wf->nodes, wf->n_nodes);
    if (st == SL_OK) st = check_tmpls(p, wf->nodes, wf->n_nodes, 0);
    if (st == SL_OK) st = check_tmpls(p, wf->nodes, wf->n_nodes, 1);
    if (st == SL_OK) st = find_cycles(p);
    if (st == SL_OK) st = check_untils(p, wf->nodes, wf->n_nodes);
    for (size_t i = 0; st == SL_OK && i < wf->n_outputs; i++) {
        const wf_output *o = &wf->outputs[i];
        const char *sid, *pname;
        if (split_ref(p, o->from, &sid, &pname) != 0) {
            st = sl_set_error(SL_ERR_PARSE, LOCFMT "output '%s': from=\"%s\": expected step.port", LOC(o->loc), o->name, o->from);
            break;
        }
        tmpl *t = sli_map_get(&p->priv->tmpls, sid);
        if (!t || t->node->kind != WF_STEP) {
            st = sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "output '%s': from=\"%s\": no step has id '%s'", LOC(o->loc), o->name, o->from, sid);
        } else if (pl_op_output(t->op, pname) < 0) {
            sli_buf b = {0};
            port_names(t->op->outputs, t->op->n_outputs, &b);
            st = sl_set_error(SL_ERR_NOT_FOUND, LOCFMT "output '%s': step '%s' (op %s) has no output port '%s'; its outputs are: %s",
                              LOC(o->loc), o->name, sid, t->op->name, pname, b.data);
            sli_buf_free(&b);
        }
        for (size_t k = 0; k < i && st == SL_OK; k++)
            if (strcmp(wf->outputs[k].name, o->name) == 0)
                st = sl_set_error(SL_ERR_INVALID, LOCFMT "output name '%s' is used twice", LOC(o->loc), o->name);
    }
    if (st == SL_OK) st = instantiate_nodes(p, p->root, wf->nodes, wf->n_nodes);
    for (uint32_t i = 0; st == SL_OK && i < p->n_steps; i++) st = bind_step(p, i, 0);
    if (st == SL_OK) pn_compute_priorities(p);
    if (st != SL_OK) {
        pn_destroy(p);
        return st;
    }
    *out = p;
    return SL_OK;
}

static void free_scope(pn_scope *s) {
    if (!s) return;
    for (size_t i = 0; i < s->groups.cap; i++) {
        if (!s->groups.slots || !s->groups.slots[i].hash) continue;
        pn_group *g = s->groups.slots[i].val;
        for (size_t k = 0; k < g->n_inst; k++) free_scope(g->inst[k]);
        free(g->inst);
        free(g->waiters);
    }
    sli_map_free(&s->steps);
    sli_map_free(&s->groups);
}

void pn_destroy(pn_plan *p) {
    if (!p) return;
    for (uint32_t i = 0; i < p->n_steps; i++) {
        free(p->steps[i].users);
        free(p->steps[i].out_paths);
        free(p->steps[i].out_hashes);
        for (uint32_t k = 0; k < p->steps[i].n_values; k++) {
            free((char *)p->steps[i].value_names[k]);
            free((char *)p->steps[i].value_texts[k]);
        }
        free(p->steps[i].value_names);
        free(p->steps[i].value_texts);
    }
    free_scope(p->root);
    free(p->steps);
    free(p->loops);
    if (p->priv) sli_map_free(&p->priv->tmpls);
    free(p->priv);
    sli_arena_destroy(p->arena);
    free(p);
}

void pn_set_results(pn_plan *p, uint32_t step, const char *const *paths, const char (*hashes)[SL_HASH_HEX_SIZE],
                    const char *const *value_names, const char *const *value_texts, size_t n_values) {
    pn_step *s = &p->steps[step];
    size_t n = s->op->n_outputs;
    s->out_paths = sli_xcalloc(n + 1, sizeof *s->out_paths);
    s->out_hashes = sli_xcalloc(n + 1, sizeof *s->out_hashes);
    for (size_t i = 0; i < n; i++) {
        s->out_paths[i] = paths && paths[i] ? sli_arena_strdup(p->arena, paths[i]) : NULL;
        if (hashes) memcpy(s->out_hashes[i], hashes[i], SL_HASH_HEX_SIZE);
    }
    s->n_values = (uint32_t)n_values;
    s->value_names = sli_xcalloc(n_values + 1, sizeof *s->value_names);
    s->value_texts = sli_xcalloc(n_values + 1, sizeof *s->value_texts);
    for (size_t i = 0; i < n_values; i++) {
        s->value_names[i] = sli_xstrdup(value_names[i]);
        s->value_texts[i] = sli_xstrdup(value_texts[i]);
    }
}

char *pn_src_path(const pn_plan *p, const pn_src *s) {
    const char *base = s->path ? s->path : p->steps[s->step].out_paths ? p->steps[s->step].out_paths[s->port] : NULL;
    if (!base) return NULL;
    if (s->select) return sli_xasprintf("%s/%s", base, s->select);
    return sli_xstrdup(base);
}

const char *pn_src_type(const pn_plan *p, const pn_src *s) {
    if (s->path || s->select) return "file";
    return p->steps[s->step].op->outputs[s->port].type;
}

long pn_find_step(const pn_plan *p, const char *instance_id) {
    for (uint32_t i = 0; i < p->n_steps; i++)
        if (strcmp(p->steps[i].id, instance_id) == 0) return (long)i;
    return -1;
}
