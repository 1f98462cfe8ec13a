/* runner.c — the scheduling loop: ready heap by critical path, resource budgets, executors, retries, timeouts, journal, trace, outputs. */
#define _GNU_SOURCE
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "progress.h"

extern char **environ;

volatile int sli_interrupted = 0;
static int wake_pipe[2] = {-1, -1};

/* A worker exited: wake the scheduling loop so it reaps it at once. */
static void on_child(int sig) {
    (void)sig;
    int saved = errno;
    if (wake_pipe[1] >= 0) {
        char c = 'c';
        ssize_t r = write(wake_pipe[1], &c, 1);
        (void)r;
    }
    errno = saved;
}

static void on_signal(int sig) {
    sli_interrupted = sli_interrupted ? 2 : 1;
    (void)sig;
    if (wake_pipe[1] >= 0) {
        char c = 's';
        ssize_t r = write(wake_pipe[1], &c, 1);
        (void)r;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Keys                                                                                       */

uint64_t rn_step_seed(const pn_plan *plan, const pn_step *s) {
    /* "<seed>/<id>", at most 511 bytes (as it always was: seeds must not change) */
    char buf[512];
    size_t n = 0;
    char digits[24];
    int nd = 0;
    uint64_t v = plan->seed;
    do digits[nd++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (nd) buf[n++] = digits[--nd];
    buf[n++] = '/';
    size_t idl = strlen(s->id);
    if (idl > sizeof buf - 1 - n) idl = sizeof buf - 1 - n;
    memcpy(buf + n, s->id, idl);
    n += idl;
    char hex[SL_HASH_HEX_SIZE];
    sl_sha256_hex(buf, n, hex);
    hex[16] = '\0';
    return strtoull(hex, NULL, 16);
}

static sl_status path_hash(st_store *store, sli_map *cache, const char *path, const char **out) {
    const char *h = sli_map_get(cache, path);
    if (h) {
        *out = h;
        return SL_OK;
    }
    char hex[SL_HASH_HEX_SIZE];
    sl_status st = st_input_hash(store, path, hex);
    if (st != SL_OK) return st;
    char *key = sli_xstrdup(path);
    char *val = sli_xstrdup(hex);
    sli_map_put(cache, key, val);
    *out = val;
    return SL_OK;
}

sl_status rn_step_key(pn_plan *plan, uint32_t idx, st_store *store, sli_map *path_hashes, sli_buf *parts, char key[SL_HASH_HEX_SIZE]) {
    pn_step *s = &plan->steps[idx];
    const pl_op *op = s->op;
    sli_buf_clear(parts);
    /* built with puts rather than printf: this runs once per step, a million times in a big plan */
    const char *head[] = {"op ", op->name, "\nplugin ", op->plugin->name, " ", op->plugin->version, " ", pl_plugin_hash(op->plugin), "\n"};
    for (size_t i = 0; i < sizeof head / sizeof *head; i++) sli_buf_puts(parts, head[i]);
    for (size_t i = 0; i < op->n_params; i++) {
        if (!s->params[i]) continue;
        sli_buf_puts(parts, "param ");
        sli_buf_puts(parts, op->params[i].name);
        sli_buf_putc(parts, '=');
        sli_buf_puts(parts, s->params[i]);
        sli_buf_putc(parts, '\n');
    }
    sli_buf_puts(parts, "seed ");
    sli_buf_put_u64(parts, rn_step_seed(plan, s));
    sli_buf_putc(parts, '\n');
    for (size_t k = 0; k < op->n_inputs; k++) {
        const pn_binding *b = &s->inputs[k];
        for (uint32_t j = 0; j < b->n; j++) {
            const pn_src *src = &b->srcs[j];
            const char *h;
            if (src->path && !src->select) {
                sl_status st = path_hash(store, path_hashes, src->path, &h);
                if (st != SL_OK) return sl_set_error(st, "step '%s': input '%s': %s", s->id, op->inputs[k].name, sl_last_error());
            } else if (!src->path && !src->select) {
                const pn_step *ps = &plan->steps[src->step];
                if (!ps->out_hashes) return sl_set_error(SL_ERR_INTERNAL, "step '%s': producer '%s' has no result", s->id, ps->id);
                h = ps->out_hashes[src->port];
            } else {
                char *p = pn_src_path(plan, src);
                if (!p) return sl_set_error(SL_ERR_INTERNAL, "step '%s': producer has no result", s->id);
                sl_status st = path_hash(store, path_hashes, p, &h);
                free(p);
                if (st != SL_OK) return sl_set_error(st, "step '%s': input '%s' select=\"%s\": %s", s->id, op->inputs[k].name, src->select, sl_last_error());
            }
            sli_buf_puts(parts, "input ");
            sli_buf_puts(parts, op->inputs[k].name);
            sli_buf_putc(parts, '[');
            sli_buf_put_u64(parts, j);
            sli_buf_puts(parts, "] ");
            sli_buf_puts(parts, h);
            sli_buf_putc(parts, '\n');
        }
    }
    sl_sha256_hex(parts->data, parts->len, key);
    return SL_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Ready heap: max-priority first, ties by step index (file order) for reproducible order.     */

typedef struct heap {
    uint32_t *v;
    size_t n, cap;
    const pn_plan *plan;
} heap;

static int heap_less(const heap *h, uint32_t a, uint32_t b) {
    double pa = h->plan->steps[a].priority, pb = h->plan->steps[b].priority;
    if (pa != pb) return pa > pb;
    return a < b;
}

static void heap_push(heap *h, uint32_t x) {
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 256;
        h->v = sli_xrealloc(h->v, h->cap * sizeof *h->v);
    }
    size_t i = h->n++;
    h->v[i] = x;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(h, h->v[i], h->v[p])) break;
        uint32_t t = h->v[i];
        h->v[i] = h->v[p];
        h->v[p] = t;
        i = p;
    }
}

static uint32_t heap_pop(heap *h) {
    uint32_t top = h->v[0];
    h->v[0] = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && heap_less(h, h->v[l], h->v[m])) m = l;
        if (r < h->n && heap_less(h, h->v[r], h->v[m])) m = r;
        if (m == i) break;
        uint32_t t = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = t;
        i = m;
    }
    return top;
}

/* ------------------------------------------------------------------------------------------ */
/* Running attempts                                                                           */

typedef struct job {
    uint32_t step;
    int attempt;
    pg_line line;
    double start_wall, start_mono, deadline;
    int timed_out, term_sent;
    double kill_at;
    volatile int cancel;
    /* spec storage */
    sx_spec spec;
    const char **params;
    size_t *counts;
    const char ***paths;
    char *stage, *log_path;
    sx_result res;
    /* local */
    pid_t pid;
    int fd;               /* read end of the worker's progress pipe */
    sli_buf rbuf;         /* partial lines from the worker */
    char *result_json;    /* the worker's "R" line */
    /* inline */
    pthread_mutex_t mu;   /* guards line.done/total/what written by the op's thread */
    struct job *next;     /* inline queues */
    uint16_t cpus, gpus;
    uint64_t mem;
    char key[SL_HASH_HEX_SIZE]; /* the step's cache key, and its parts: copies, as a loop's next */
    char *parts;                /* round may move the plan's steps while the op runs */
    /* inline: the journal line of a successful attempt, made on the op's thread so that the
     * engine's thread, which every step waits on, only appends it */
    sli_buf record_line;
    double record_time, record_wall;
} job;

typedef struct runner {
    pn_plan *plan;
    pl_registry *reg;
    st_store *store;
    const rn_options *opt;
    heap ready;
    sli_map path_hashes;
    pg_display *pg;
    char *run_dir, *log_dir;
    FILE *trace;
    sli_buf trace_row;
    job **running;
    size_t n_running;
    int cpus_free, gpus_free;
    uint64_t mem_free;
    size_t n_done, n_ran, n_cached, n_failed, n_skipped;
    int stop_launching;
    sli_ptrvec failures;  /* messages */
    sli_ptrvec reused;    /* ids of cached steps */
    /* inline pool */
    pthread_t *threads;
    int n_threads;
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    job *queue_head, *queue_tail, *done_head;
    size_t queued_since_wake;
    int pool_stop;
} runner;

static void trace_row(runner *r, const pn_step *s, int attempt, const char *status, double start, double end, double cpu, long rss, int cached) {
    if (!r->trace) return;
    /* step op attempt status start end wall cpu rss cached; formatted by hand, once per step */
    sli_buf *b = &r->trace_row;
    sli_buf_clear(b);
    const char *text[] = {s->id, "\t", s->op->name, "\t"};
    for (size_t i = 0; i < 4; i++) sli_buf_puts(b, text[i]);
    sli_buf_put_u64(b, (uint64_t)attempt);
    sli_buf_putc(b, '\t');
    sli_buf_puts(b, status);
    double num[] = {start, end, end - start, cpu};
    for (size_t i = 0; i < 4; i++) {
        sli_buf_putc(b, '\t');
        sli_buf_put_fixed6(b, num[i]);
    }
    sli_buf_putc(b, '\t');
    sli_buf_put_u64(b, rss > 0 ? (uint64_t)rss : 0);
    sli_buf_puts(b, cached ? "\tyes\n" : "\tno\n");
    fwrite(b->data, 1, b->len, r->trace);
}

/* Called when a step reaches a final state; counts it and closes its loop round if it was
 * the last. New steps a next round adds are made ready here. */
static void step_final(runner *r, uint32_t idx);

static void make_ready_if_free(runner *r, uint32_t u) {
    pn_step *s = &r->plan->steps[u];
    if (s->state != PS_WAITING || s->pending) return;
    if (s->deferred) {
        if (pn_resolve_inputs(r->plan, u) != SL_OK) {
            s->state = PS_FAILED;
            sli_ptrvec_push(&r->failures, sli_xasprintf("%s: %s", s->id, sl_last_error()));
            pg_note(r->pg, "FAILED %s: %s", s->id, sl_last_error());
            r->n_failed++;
            step_final(r, u);
            return;
        }
        if (s->pending) return;
    }
    s->state = PS_READY;
    heap_push(&r->ready, u);
}

static void skip_dependents(runner *r, uint32_t idx) {
    sli_ptrvec stack = {0};
    sli_ptrvec_push(&stack, (void *)(uintptr_t)idx);
    while (stack.n) {
        uint32_t x = (uint32_t)(uintptr_t)stack.items[--stack.n];
        pn_step *s = &r->plan->steps[x];
        for (uint32_t k = 0; k < s->n_users; k++) {
            uint32_t u = s->users[k];
            pn_step *us = &r->plan->steps[u];
            if (us->state >= PS_DONE || us->state == PS_RUNNING) continue;
            us->state = PS_SKIPPED;
            r->n_skipped++;
            step_final(r, u);
            sli_ptrvec_push(&stack, (void *)(uintptr_t)u);
        }
    }
    sli_ptrvec_free(&stack);
}

static void finish_loop(runner *r, pn_group *g) {
    for (size_t i = 0; i < g->n_waiters; i++) {
        uint32_t w = g->waiters[i];
        pn_step *ws = &r->plan->steps[w];
        if (g->failed) {
            if (ws->state < PS_DONE) {
                ws->state = PS_SKIPPED;
                r->n_skipped++;
                step_final(r, w);
                skip_dependents(r, w);
            }
        } else {
            make_ready_if_free(r, w);
        }
    }
}

static void step_final(runner *r, uint32_t idx) {
    pn_plan *p = r->plan;
    pn_scope *round = p->steps[idx].round;
    uint8_t state = p->steps[idx].state;
    r->n_done++;
    if (!round) return;
    if (state == PS_FAILED || state == PS_SKIPPED) round->failed = 1;
    if (--round->remaining > 0) return;
    pn_group *g = round->group;
    uint32_t first, count;
    sl_status st = pn_round_finished(p, round, &first, &count);
    if (count) {
        pg_event(r->pg, "loop %s: round %d of at most %d", g->node->id, (int)g->n_inst, g->max_rounds);
        /* disabled steps of the new round are final from the start */
        for (uint32_t i = first; i < first + count; i++)
            if (p->steps[i].state == PS_DISABLED) step_final(r, i);
        for (uint32_t i = first; i < first + count; i++) make_ready_if_free(r, i);
        return;
    }
    if (st != SL_OK && !g->failed) g->failed = 1;
    if (g->finished) {
        pg_event(r->pg, "loop %s finished after %zu round%s: %s", g->node->id, g->n_inst, g->n_inst == 1 ? "" : "s",
                 g->stop_reason ? g->stop_reason : "");
        if (g->failed) {
            sli_ptrvec_push(&r->failures, sli_xasprintf("loop %s: %s", g->node->id, g->stop_reason ? g->stop_reason : "failed"));
            if (!r->opt->keep_going) r->stop_launching = 1;
        }
        finish_loop(r, g);
    }
}

static void release_users(runner *r, uint32_t idx) {
    pn_step *s = &r->plan->steps[idx];
    for (uint32_t k = 0; k < s->n_users; k++) {
        pn_step *u = &r->plan->steps[s->users[k]];
        if (u->pending) u->pending--;
        make_ready_if_free(r, s->users[k]);
    }
}

/* The journal record of a job's successful attempt; `outs` must hold the op's outputs. Reads
 * only the job (never the plan), so an op's thread may call it. */
static st_record make_record(const job *j, double time, double wall, st_output *outs) {
    const pl_op *op = j->spec.op;
    const sx_result *res = &j->res;
    for (size_t i = 0; i < op->n_outputs; i++) {
        outs[i].port = op->outputs[i].name;
        outs[i].type = op->outputs[i].type;
        memcpy(outs[i].hash, res->out_hashes[i], SL_HASH_HEX_SIZE);
        outs[i].size = res->out_sizes[i];
        outs[i].pack = res->out_packs[i];
        outs[i].offset = res->out_offsets[i];
    }
    return (st_record){.key = j->key, .step = j->spec.step_id, .op = op->name, .parts = j->parts, .time = time, .wall = wall, .outputs = outs,
                       .n_outputs = op->n_outputs, .value_names = (const char **)res->value_names,
                       .value_texts = (const char **)res->value_texts, .n_values = res->n_values};
}

static void record_success(runner *r, job *j, double wall) {
    pn_step *s = &r->plan->steps[j->step];
    const pl_op *op = s->op;
    const sx_result *res = &j->res;
    if (!(op->flags & SL_OP_NO_CACHE)) {
        st_output *outs = sli_xcalloc(op->n_outputs + 1, sizeof *outs);
        /* inline, the op's thread already made the journal line (see pool_main) */
        st_record rec = j->record_line.len ? make_record(j, j->record_time, j->record_wall, outs) : make_record(j, sli_now_wall(), wall, outs);
        sl_status st = j->record_line.len ? st_append_line(r->store, &rec, j->record_line.data, j->record_line.len) : st_append(r->store, &rec);
        if (st != SL_OK) pg_note(r->pg, "warning: %s", sl_last_error());
        free(outs);
    }
    pn_set_results(r->plan, j->step, (const char *const *)res->out_paths, (const char(*)[SL_HASH_HEX_SIZE])res->out_hashes,
                   (const char *const *)res->value_names, (const char *const *)res->value_texts, res->n_values);
}

/* Try the cache; returns 1 if the step was satisfied from it. */
static int try_cache(runner *r, uint32_t idx) {
    pn_step *s = &r->plan->steps[idx];
    if (s->op->flags & SL_OP_NO_CACHE) return 0;
    const st_record *rec = st_lookup(r->store, s->key);
    if (!rec || rec->n_outputs != s->op->n_outputs) return 0;
    const pl_op *op = s->op;
    char **paths = sli_xcalloc(op->n_outputs + 1, sizeof *paths);
    char(*hashes)[SL_HASH_HEX_SIZE] = sli_xcalloc(op->n_outputs + 1, sizeof *hashes);
    for (size_t i = 0; i < op->n_outputs; i++) {
        paths[i] = st_object_path(st_objects_dir(r->store), rec->outputs[i].hash, rec->outputs[i].type);
        memcpy(hashes[i], rec->outputs[i].hash, SL_HASH_HEX_SIZE);
    }
    pn_set_results(r->plan, idx, (const char *const *)paths, (const char(*)[SL_HASH_HEX_SIZE])hashes, rec->value_names, rec->value_texts,
                   rec->n_values);
    for (size_t i = 0; i < op->n_outputs; i++) free(paths[i]);
    free(paths);
    free(hashes);
    s->state = PS_CACHED;
    r->n_cached++;
    double now = sli_now_wall();
    trace_row(r, s, 0, "cached", now, now, 0, 0, 1);
    sli_ptrvec_push(&r->reused, (void *)s->id);
    pg_event(r->pg, "[%zu/%u] reused  %s (%s)", r->n_done + 1, r->plan->n_steps, s->id, op->name);
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Job setup and teardown                                                                     */

static void job_progress(void *user, double done, double total, const char *what) {
    job *j = user;
    pthread_mutex_lock(&j->mu);
    j->line.done = done;
    j->line.total = total;
    snprintf(j->line.what, sizeof j->line.what, "%s", what ? what : "");
    pthread_mutex_unlock(&j->mu);
}

/* A step id as a file name: '/' and ' ' become '_'. */
static void put_safe_name(sli_buf *b, const char *id) {
    size_t at = b->len;
    sli_buf_puts(b, id);
    for (char *p = b->data + at; *p; p++)
        if (*p == '/' || *p == ' ') *p = '_';
}

static char *safe_name(const char *id) {
    sli_buf b = {0};
    put_safe_name(&b, id);
    return sli_buf_take(&b);
}

static job *job_create(runner *r, uint32_t idx, int attempt) {
    pn_step *s = &r->plan->steps[idx];
    const pl_op *op = s->op;
    job *j = sli_xcalloc(1, sizeof *j);
    pthread_mutex_init(&j->mu, NULL);
    j->step = idx;
    j->attempt = attempt;
    j->fd = -1;
    j->line.step = s->id;
    j->line.op = op->name;
    j->params = s->params;
    j->counts = sli_xcalloc(op->n_inputs + 1, sizeof *j->counts);
    j->paths = sli_xcalloc(op->n_inputs + 1, sizeof *j->paths);
    for (size_t k = 0; k < op->n_inputs; k++) {
        j->counts[k] = s->inputs[k].n;
        j->paths[k] = sli_xcalloc(s->inputs[k].n + 1, sizeof **j->paths);
        for (uint32_t i = 0; i < s->inputs[k].n; i++) j->paths[k][i] = pn_src_path(r->plan, &s->inputs[k].srcs[i]);
    }
    /* <tmp>/<idx % 16 in hex>/<idx>-<attempt> and <logs>/<safe id>.log, built without printf:
     * this runs once per step */
    static const char hex[] = "0123456789abcdef";
    sli_buf b = {0};
    sli_buf_puts(&b, st_tmp_dir(r->store));
    char sub[3] = {'/', hex[idx % ST_STAGING_FOLDERS], '/'};
    sli_buf_put(&b, sub, 3);
    sli_buf_put_u64(&b, idx);
    sli_buf_putc(&b, '-');
    sli_buf_put_u64(&b, (uint64_t)attempt);
    j->stage = sli_buf_take(&b);
    sli_buf_puts(&b, r->log_dir);
    sli_buf_putc(&b, '/');
    put_safe_name(&b, s->id);
    sli_buf_puts(&b, ".log");
    j->log_path = sli_buf_take(&b);
    int gpus = s->gpus < r->opt->gpus ? s->gpus : r->opt->gpus;
    int cpus = s->cpus < r->opt->cpus ? s->cpus : r->opt->cpus;
    if (cpus < 1) cpus = 1;
    j->cpus = (uint16_t)cpus;
    j->gpus = (uint16_t)gpus;
    j->mem = r->opt->mem && s->mem > r->opt->mem ? r->opt->mem : s->mem;
    j->spec = (sx_spec){.op = op, .step_id = s->id, .attempt = attempt, .threads = cpus, .gpus = gpus, .seed = rn_step_seed(r->plan, s),
                        .params = j->params, .input_counts = j->counts, .input_paths = (const char *const *const *)j->paths,
                        .stage = j->stage, .objects_dir = st_objects_dir(r->store), .log_path = j->log_path,
                        .store = r->opt->executor == RN_INLINE ? r->store : NULL,
                        .cancel_flag = &j->cancel, .on_progress = job_progress, .user = j};
    return j;
}

static void job_destroy(job *j, const pl_op *op) {
    if (!j) return;
    for (size_t k = 0; k < op->n_inputs; k++) {
        for (size_t i = 0; i < j->counts[k]; i++) free((char *)j->paths[k][i]);
        free(j->paths[k]);
    }
    free(j->paths);
    free(j->counts);
    free(j->stage);
    free(j->log_path);
    free(j->parts);
    sli_buf_free(&j->record_line);
    sli_buf_free(&j->rbuf);
    free(j->result_json);
    sx_result_free(&j->res);
    if (j->fd >= 0) close(j->fd);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

/* ------------------------------------------------------------------------------------------ */
/* Inline executor: a pool of threads running ops in this process                              */

static void *pool_main(void *arg) {
    runner *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->qmu);
        while (!r->queue_head && !r->pool_stop) pthread_cond_wait(&r->qcv, &r->qmu);
        if (!r->queue_head) {
            pthread_mutex_unlock(&r->qmu);
            return NULL;
        }
        job *j = r->queue_head;
        r->queue_head = j->next;
        if (!r->queue_head) r->queue_tail = NULL;
        pthread_mutex_unlock(&r->qmu);
        if (j->cancel) {
            /* cancelled while still queued: never start it */
            j->res.status = SL_ERR_CANCELLED;
            j->res.message = sli_xstrdup("cancelled before it started");
        } else {
            sx_execute(&j->spec, &j->res);
            if (j->res.status == SL_OK && !(j->spec.op->flags & SL_OP_NO_CACHE)) {
                j->record_time = sli_now_wall();
                j->record_wall = sli_now_mono() - j->start_mono;
                st_output *outs = sli_xcalloc(j->spec.op->n_outputs + 1, sizeof *outs);
                st_record rec = make_record(j, j->record_time, j->record_wall, outs);
                st_format_record(&rec, &j->record_line);
                free(outs);
            }
        }
        pthread_mutex_lock(&r->qmu);
        int first = r->done_head == NULL;
        j->next = r->done_head;
        r->done_head = j;
        pthread_mutex_unlock(&r->qmu);
        /* one wake-up per batch: the engine drains the whole done list when it wakes */
        if (first) {
            char c = 'd';
            ssize_t w = write(wake_pipe[1], &c, 1);
            (void)w;
        }
    }
}

static void pool_start(runner *r) {
    r->n_threads = r->opt->jobs;
    r->threads = sli_xcalloc((size_t)r->n_threads, sizeof *r->threads);
    for (int i = 0; i < r->n_threads; i++) pthread_create(&r->threads[i], NULL, pool_main, r);
}

static void pool_stop(runner *r) {
    if (!r->threads) return;
    pthread_mutex_lock(&r->qmu);
    r->pool_stop = 1;
    pthread_cond_broadcast(&r->qcv);
    pthread_mutex_unlock(&r->qmu);
    for (int i = 0; i < r->n_threads; i++) pthread_join(r->threads[i], NULL);
    free(r->threads);
    r->threads = NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Local executor: one `sciloop step` worker process per attempt                               */

/* The worker executable: sciloop-worker next to sciloop when installed or built, else
 * `sciloop step`. */
static const char *worker_exe(int *use_step) {
    static char path[4096];
    static int checked, step_cmd;
    if (!checked) {
        char *dir = sli_dirname(sli_self_exe());
        snprintf(path, sizeof path, "%s/sciloop-worker", dir);
        free(dir);
        if (access(path, X_OK) != 0) {
            snprintf(path, sizeof path, "%s", sli_self_exe());
            step_cmd = 1;
        }
        checked = 1;
    }
    *use_step = step_cmd;
    return path;
}

/* Start a worker: the spec goes in on its stdin; progress, notices and the result come back
 * on its fd 3; its stdout and stderr go to the step log. */
static sl_status spawn_worker(runner *r, job *j) {
    pn_step *s = &r->plan->steps[j->step];
    /* a worker sees only paths: packed inputs become files first */
    for (size_t k = 0; k < s->op->n_inputs; k++)
        for (size_t i = 0; i < j->counts[k]; i++)
            if (st_materialise(r->store, j->paths[k][i]) != SL_OK)
                return sl_set_error(sl_last_status(), "input '%s': %s", s->op->inputs[k].name, sl_last_error());
    char *spec_json = sx_spec_to_json(&j->spec, s->op->plugin->handle ? s->op->plugin->path : "(built-in)");
    int pfd[2], sfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        free(spec_json);
        return sl_set_error(SL_ERR_IO, "cannot create a pipe: %s", strerror(errno));
    }
    if (pipe2(sfd, O_CLOEXEC) != 0) {
        close(pfd[0]);
        close(pfd[1]);
        free(spec_json);
        return sl_set_error(SL_ERR_IO, "cannot create a pipe: %s", strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sfd[0], 0);
    posix_spawn_file_actions_addopen(&fa, 1, j->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 3);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGINT);
    sigaddset(&dfl, SIGTERM);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dfl);
    /* the worker gets its own process group so a Ctrl-C at the terminal reaches the engine,
     * which then cancels each worker itself (and can tell cancellation from a crash) */
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    int use_step;
    const char *exe = worker_exe(&use_step);
    char *argv_step[] = {(char *)exe, "step", NULL};
    char *argv_worker[] = {(char *)exe, NULL};
    int rc = posix_spawn(&j->pid, exe, &fa, &at, use_step ? argv_step : argv_worker, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(pfd[1]);
    close(sfd[0]);
    if (rc != 0) {
        close(pfd[0]);
        close(sfd[1]);
        free(spec_json);
        return sl_set_error(SL_ERR_IO, "cannot start a worker (%s): %s", exe, strerror(rc));
    }
    /* the worker reads its whole spec before anything else, so this write cannot deadlock */
    size_t n = strlen(spec_json), off = 0;
    while (off < n) {
        ssize_t w = write(sfd[1], spec_json + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break; /* the worker died; reaping it reports why */
        off += (size_t)w;
    }
    close(sfd[1]);
    free(spec_json);
    j->fd = pfd[0];
    fcntl(j->fd, F_SETFL, O_NONBLOCK);
    return SL_OK;
}

/* Lines from a worker: "P <done> <total> <what>", "N <level> <text>", "R <result json>". */
static void read_worker(runner *r, job *j) {
    char chunk[8192];
    for (;;) {
        ssize_t n = read(j->fd, chunk, sizeof chunk);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(j->fd);
                j->fd = -1;
            }
            return;
        }
        sli_buf_put(&j->rbuf, chunk, (size_t)n);
        size_t start = 0;
        char *nl;
        while ((nl = memchr(j->rbuf.data + start, '\n', j->rbuf.len - start)) != NULL) {
            char *line = j->rbuf.data + start;
            *nl = '\0';
            if (line[0] == 'P') {
                double d = 0, t = 0;
                int off = 0;
                if (sscanf(line + 1, "%lf %lf %n", &d, &t, &off) >= 2) job_progress(j, d, t, off ? line + 1 + off : "");
            } else if (line[0] == 'N' && line[1] == ' ' && line[2]) {
                pg_note(r->pg, "%s: %s", r->plan->steps[j->step].id, line + 4);
            } else if (line[0] == 'R' && line[1] == ' ') {
                free(j->result_json);
                j->result_json = sli_xstrdup(line + 2);
            }
            start = (size_t)(nl - j->rbuf.data) + 1;
        }
        memmove(j->rbuf.data, j->rbuf.data + start, j->rbuf.len - start);
        j->rbuf.len -= start;
        j->rbuf.data[j->rbuf.len] = '\0';
    }
}

static char *log_tail(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return sli_xstrdup("");
    fseek(f, 0, SEEK_END);
    long size = ftell(f), start = size > 1500 ? size - 1500 : 0;
    fseek(f, start, SEEK_SET);
    char buf[1501];
    size_t n = fread(buf, 1, 1500, f);
    buf[n] = '\0';
    fclose(f);
    const char *p = buf;
    if (start > 0 && strchr(buf, '\n')) p = strchr(buf, '\n') + 1;
    return sli_xstrdup(p);
}

/* The worker process has exited: turn its exit status and result line into j->res. */
static void reap_worker(runner *r, job *j, int wstatus, const struct rusage *ru) {
    pn_step *s = &r->plan->steps[j->step];
    j->res.cpu = (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec * 1e-6 + (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec * 1e-6;
    long rss = ru->ru_maxrss;
    if (j->timed_out) {
        sx_result_free(&j->res);
        j->res.status = SL_ERR_TIMEOUT;
        j->res.message = sli_xasprintf("exceeded its time limit of %gs (timeout=\"%s\") and was stopped", s->timeout, s->node->timeout);
    } else if (WIFSIGNALED(wstatus) && !(sli_interrupted && (WTERMSIG(wstatus) == SIGTERM || WTERMSIG(wstatus) == SIGKILL))) {
        char *tail = log_tail(j->log_path);
        sx_result_free(&j->res);
        j->res.status = SL_ERR_CRASHED;
        j->res.message = sli_xasprintf("op %s crashed in its worker process: signal %d (%s)%s%s%s", s->op->name, WTERMSIG(wstatus),
                                       strsignal(WTERMSIG(wstatus)), WCOREDUMP(wstatus) ? ", core dumped" : "", *tail ? "; log ends with:\n" : "", tail);
        free(tail);
    } else if (!j->result_json || sx_result_from_json(j->result_json, strlen(j->result_json), s->op->n_outputs, &j->res) != SL_OK) {
        char *tail = log_tail(j->log_path);
        sx_result_free(&j->res);
        j->res.status = sli_interrupted ? SL_ERR_CANCELLED : SL_ERR_CRASHED;
        j->res.message = sli_interrupted ? sli_xstrdup("cancelled")
                                         : sli_xasprintf("worker exited with status %d without a result%s%s", WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1,
                                                         *tail ? "; log ends with:\n" : "", tail);
        free(tail);
    }
    j->res.peak_rss_kb = rss;
}

/* ------------------------------------------------------------------------------------------ */

static void job_finished(runner *r, job *j) {
    pn_step *s = &r->plan->steps[j->step];
    double end = sli_now_wall();
    double wall = sli_now_mono() - j->start_mono;
    r->cpus_free += j->cpus;
    r->gpus_free += j->gpus;
    r->mem_free += j->mem;
    if (j->timed_out && j->res.status != SL_ERR_TIMEOUT) {
        /* an inline op stopped because it was asked to; report the reason, not the symptom */
        sx_result_free(&j->res);
        j->res.status = SL_ERR_TIMEOUT;
        j->res.message = sli_xasprintf("exceeded its time limit of %gs (timeout=\"%s\") and was stopped", s->timeout, s->node->timeout);
    }
    const char *status = j->res.status == SL_OK ? "ok" : sl_status_name(j->res.status);
    trace_row(r, s, j->attempt, status, j->start_wall, end, j->res.cpu, j->res.peak_rss_kb, 0);
    if (j->res.status == SL_OK) {
        record_success(r, j, wall);
        s->state = PS_DONE;
        r->n_ran++;
        pg_event(r->pg, "[%zu/%u] done    %s (%s) %.2fs", r->n_done + 1, r->plan->n_steps, s->id, s->op->name, wall);
        step_final(r, j->step);
        release_users(r, j->step);
        return;
    }
    int cancelled = (j->res.status == SL_ERR_CANCELLED && !j->timed_out) || sli_interrupted;
    if (!cancelled && j->attempt <= s->retry && !r->stop_launching) {
        pg_note(r->pg, "retry   %s: attempt %d failed (%s); trying again (%d of %d)", s->id, j->attempt,
                j->res.message ? j->res.message : sl_status_name(j->res.status), j->attempt + 1, s->retry + 1);
        s->attempt = (uint16_t)(j->attempt + 1);
        s->state = PS_READY;
        heap_push(&r->ready, j->step);
        return;
    }
    if (cancelled) {
        /* interrupted, not failed: the step counts as not run, and runs next time */
        s->state = PS_SKIPPED;
        r->n_skipped++;
        step_final(r, j->step);
        skip_dependents(r, j->step);
        return;
    }
    s->state = PS_FAILED;
    r->n_failed++;
    {
        char attempts[48] = "";
        if (j->attempt > 1) snprintf(attempts, sizeof attempts, " after %d attempts", j->attempt);
        char *msg = sli_xasprintf("step '%s' (%s) failed%s: %s\n  log: %s", s->id, s->op->name, attempts,
                                  j->res.message ? j->res.message : sl_status_name(j->res.status), j->log_path);
        sli_ptrvec_push(&r->failures, msg);
        pg_note(r->pg, "FAILED  %s", msg);
        if (!r->opt->keep_going) r->stop_launching = 1;
    }
    step_final(r, j->step);
    skip_dependents(r, j->step);
}

static void remove_running(runner *r, job *j) {
    for (size_t i = 0; i < r->n_running; i++)
        if (r->running[i] == j) {
            r->running[i] = r->running[--r->n_running];
            return;
        }
}

/* Launch one ready step (after the cache missed). */
static void launch(runner *r, uint32_t idx, char *parts) {
    pn_step *s = &r->plan->steps[idx];
    int attempt = s->attempt ? s->attempt : 1;
    job *j = job_create(r, idx, attempt);
    j->parts = parts;
    memcpy(j->key, s->key, SL_HASH_HEX_SIZE);
    j->start_wall = sli_now_wall();
    j->start_mono = j->line.start = sli_now_mono();
    j->deadline = s->timeout > 0 ? j->start_mono + s->timeout : 0;
    r->cpus_free -= j->cpus;
    r->gpus_free -= j->gpus;
    r->mem_free -= j->mem;
    s->state = PS_RUNNING;
    r->running = sli_xrealloc(r->running, (r->n_running + 1) * sizeof *r->running);
    r->running[r->n_running++] = j;
    if (r->opt->executor == RN_INLINE) {
        pthread_mutex_lock(&r->qmu);
        if (r->queue_tail) r->queue_tail->next = j;
        else r->queue_head = j;
        r->queue_tail = j;
        pthread_mutex_unlock(&r->qmu);
        r->queued_since_wake++; /* schedule() wakes the pool once per batch */
        return;
    }
    if (spawn_worker(r, j) != SL_OK) {
        j->res.status = SL_ERR_IO;
        j->res.message = sli_xstrdup(sl_last_error());
        remove_running(r, j);
        job_finished(r, j);
        job_destroy(j, s->op);
    }
}

/* Steps in flight at once. Inline steps queue for the pool's threads (which bound the
 * concurrency), so a few per thread are kept ready to avoid a hand-off per step. */
static size_t max_in_flight(const runner *r) {
    return r->opt->executor == RN_INLINE ? (size_t)r->opt->jobs * 8 : (size_t)r->opt->jobs;
}

static int fits(const runner *r, const pn_step *s) {
    if (r->opt->executor == RN_INLINE) return 1; /* the pool's size is the CPU budget */
    int cpus = s->cpus < r->opt->cpus ? s->cpus : r->opt->cpus;
    int gpus = s->gpus < r->opt->gpus ? s->gpus : r->opt->gpus;
    uint64_t mem = r->opt->mem && s->mem > r->opt->mem ? r->opt->mem : s->mem;
    return cpus <= r->cpus_free && gpus <= r->gpus_free && (!r->opt->mem || mem <= r->mem_free);
}

/* Pop ready steps, answer from the cache where possible, launch the rest within budgets.
 * A step that does not fit the free resources waits aside and goes back into the heap. */
static void schedule(runner *r) {
    sli_ptrvec misfit = {0};
    sli_buf parts = {0};
    while (r->ready.n && !r->stop_launching && !sli_interrupted && r->n_running < max_in_flight(r)) {
        uint32_t idx = heap_pop(&r->ready);
        pn_step *s = &r->plan->steps[idx];
        if (s->state != PS_READY) continue;
        /* the key is recomputed for retries and waiting steps: it is cheap (input hashes are
         * cached) and keeps no per-step text alive while waiting */
        if (rn_step_key(r->plan, idx, r->store, &r->path_hashes, &parts, s->key) != SL_OK) {
            s->state = PS_FAILED;
            r->n_failed++;
            sli_ptrvec_push(&r->failures, sli_xasprintf("%s", sl_last_error()));
            pg_note(r->pg, "FAILED  %s", sl_last_error());
            if (!r->opt->keep_going) r->stop_launching = 1;
            step_final(r, idx);
            skip_dependents(r, idx);
            continue;
        }
        if (!s->attempt && try_cache(r, idx)) {
            step_final(r, idx);
            release_users(r, idx);
            continue;
        }
        if (!s->attempt) s->attempt = 1;
        if (!fits(r, s)) {
            sli_ptrvec_push(&misfit, (void *)(uintptr_t)idx);
            continue;
        }
        launch(r, idx, sli_buf_take(&parts));
    }
    if (r->queued_since_wake) {
        /* one wake-up for the batch rather than one per step: a thread that finds the
         * queue non-empty keeps taking from it without sleeping */
        pthread_mutex_lock(&r->qmu);
        if (r->queued_since_wake > 1) pthread_cond_broadcast(&r->qcv);
        else pthread_cond_signal(&r->qcv);
        pthread_mutex_unlock(&r->qmu);
        r->queued_since_wake = 0;
    }
    for (size_t i = 0; i < misfit.n; i++) heap_push(&r->ready, (uint32_t)(uintptr_t)misfit.items[i]);
    sli_ptrvec_free(&misfit);
    sli_buf_free(&parts);
}

/* Wait for something to happen: a finished job, worker output, a signal or a deadline. */
static void wait_events(runner *r) {
    size_t n = r->n_running;
    struct pollfd *fds = sli_xcalloc(n + 1, sizeof *fds);
    fds[0].fd = wake_pipe[0];
    fds[0].events = POLLIN;
    size_t nf = 1;
    for (size_t i = 0; i < n; i++)
        if (r->running[i]->fd >= 0) {
            fds[nf].fd = r->running[i]->fd;
            fds[nf].events = POLLIN;
            nf++;
        }
    int timeout_ms = r->opt->live ? 100 : 500;
    double now = sli_now_mono();
    for (size_t i = 0; i < n; i++) {
        job *j = r->running[i];
        double t = j->kill_at > 0 ? j->kill_at : j->deadline;
        if (t > 0) {
            int ms = (int)((t - now) * 1000) + 1;
            if (ms < timeout_ms) timeout_ms = ms < 0 ? 0 : ms;
        }
        /* a worker whose pipe closed but is not yet reaped: SIGCHLD wakes the poll; this
         * bound only guards against a lost wake-up */
        if (r->opt->executor == RN_LOCAL && j->fd < 0 && timeout_ms > 50) timeout_ms = 50;
    }
    poll(fds, (nfds_t)nf, timeout_ms);
    if (fds[0].revents & POLLIN) {
        char buf[256];
        while (read(wake_pipe[0], buf, sizeof buf) > 0) {
        }
    }
    free(fds);
}

static void handle_events(runner *r) {
    double now = sli_now_mono();
    if (r->opt->executor == RN_INLINE) {
        pthread_mutex_lock(&r->qmu);
        job *done = r->done_head;
        r->done_head = NULL;
        pthread_mutex_unlock(&r->qmu);
        /* inline steps share the engine's memory: report its peak, read once per batch */
        struct rusage ru;
        long rss = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
        while (done) {
            job *next = done->next;
            done->res.peak_rss_kb = rss;
            const pl_op *op = r->plan->steps[done->step].op;
            remove_running(r, done);
            job_finished(r, done);
            job_destroy(done, op);
            done = next;
        }
        for (size_t i = 0; i < r->n_running; i++) {
            job *j = r->running[i];
            if (j->deadline > 0 && now >= j->deadline && !j->cancel) {
                /* threads cannot be killed: ask the op to stop (ops poll host->cancelled) */
                j->timed_out = 1;
                j->cancel = 1;
                pg_note(r->pg, "timeout %s: asking the op to stop (inline steps stop when the op checks for cancellation)",
                        r->plan->steps[j->step].id);
            }
        }
        return;
    }
    for (size_t i = 0; i < r->n_running;) {
        job *j = r->running[i];
        if (j->fd >= 0) read_worker(r, j);
        if (j->deadline > 0 && now >= j->deadline && !j->timed_out) {
            j->timed_out = 1;
            kill(j->pid, SIGTERM);
            j->kill_at = now + 2.0;
        }
        if (j->kill_at > 0 && now >= j->kill_at) {
            kill(j->pid, SIGKILL);
            j->kill_at = 0;
        }
        int ws;
        struct rusage ru;
        pid_t w = j->fd < 0 ? wait4(j->pid, &ws, WNOHANG, &ru) : 0;
        if (w == j->pid) {
            const pl_op *op = r->plan->steps[j->step].op;
            remove_running(r, j);
            reap_worker(r, j, ws, &ru);
            job_finished(r, j);
            job_destroy(j, op);
            continue; /* the slot now holds another job */
        }
        i++;
    }
}

static void cancel_all(runner *r, int hard) {
    for (size_t i = 0; i < r->n_running; i++) {
        job *j = r->running[i];
        j->cancel = 1;
        if (r->opt->executor == RN_LOCAL && j->pid > 0) kill(j->pid, hard ? SIGKILL : SIGTERM);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Publishing workflow outputs                                                                */

static sl_status copy_tree(const char *src, const char *dst) {
    struct stat sb;
    if (lstat(src, &sb) != 0) return sl_set_error(SL_ERR_IO, "%s: %s", src, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        if (mkdir(dst, 0755) != 0 && errno != EEXIST) return sl_set_error(SL_ERR_IO, "%s: %s", dst, strerror(errno));
        sl_status st = SL_OK;
        DIR *d = opendir(src);
        if (!d) return sl_set_error(SL_ERR_IO, "%s: %s", src, strerror(errno));
        struct dirent *e;
        while (st == SL_OK && (e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *a = sli_xasprintf("%s/%s", src, e->d_name), *b = sli_xasprintf("%s/%s", dst, e->d_name);
            st = copy_tree(a, b);
            free(a);
            free(b);
        }
        closedir(d);
        return st;
    }
    if (S_ISLNK(sb.st_mode)) {
        char t[4096];
        ssize_t n = readlink(src, t, sizeof t - 1);
        if (n < 0) return sl_set_error(SL_ERR_IO, "%s: %s", src, strerror(errno));
        t[n] = '\0';
        return symlink(t, dst) == 0 ? SL_OK : sl_set_error(SL_ERR_IO, "%s: %s", dst, strerror(errno));
    }
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return sl_set_error(SL_ERR_IO, "%s: %s", src, strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, sb.st_mode & 0777);
    if (out < 0) {
        close(in);
        return sl_set_error(SL_ERR_IO, "%s: %s", dst, strerror(errno));
    }
    char buf[1 << 16];
    ssize_t n;
    sl_status st = SL_OK;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) {
            st = sl_set_error(SL_ERR_IO, "%s: write failed", dst);
            break;
        }
    close(in);
    if (close(out) != 0 && st == SL_OK) st = sl_set_error(SL_ERR_IO, "%s: %s", dst, strerror(errno));
    return st;
}

/* Copy (never link: users may edit published files, and the store must stay intact) into a
 * temporary name, then rename over the destination. */
static sl_status publish_one(const char *src, const char *dst) {
    char *tmp = sli_xasprintf("%s.tmp.%ld", dst, (long)getpid());
    sli_remove_tree(tmp);
    sl_status st = copy_tree(src, tmp);
    if (st == SL_OK) {
        struct stat sb;
        if (lstat(dst, &sb) == 0 && S_ISDIR(sb.st_mode)) sli_remove_tree(dst);
        if (rename(tmp, dst) != 0) st = sl_set_error(SL_ERR_IO, "cannot publish %s: %s", dst, strerror(errno));
    }
    if (st != SL_OK) sli_remove_tree(tmp);
    free(tmp);
    return st;
}

static sl_status publish_outputs(runner *r) {
    const wf_workflow *wf = r->plan->wf;
    if (!r->opt->outdir || !wf->n_outputs) return SL_OK;
    sl_status st = sli_mkdirs(r->opt->outdir, 0755);
    for (size_t i = 0; i < wf->n_outputs && st == SL_OK; i++) {
        const wf_output *o = &wf->outputs[i];
        const char *dot = strchr(o->from, '.');
        char *sid = sli_xstrndup(o->from, (size_t)(dot - o->from));
        /* find the instances of that step visible from the top: the step itself, the last
         * round of a loop, or every item of a foreach */
        sli_ptrvec found = {0};
        for (uint32_t k = 0; k < r->plan->n_steps; k++) {
            const pn_step *s = &r->plan->steps[k];
            if (strcmp(s->node->id, sid) != 0 || !s->out_paths) continue;
            int last_round = 1;
            for (pn_scope *sc = s->scope; sc && sc->group; sc = sc->parent)
                if (sc->node->kind == WF_LOOP && sc->index != (int)sc->group->n_inst) last_round = 0;
            if (last_round) sli_ptrvec_push(&found, (void *)s);
        }
        for (size_t k = 0; k < found.n && st == SL_OK; k++) {
            const pn_step *s = found.items[k];
            int port = pl_op_output(s->op, dot + 1);
            const char *type = s->op->outputs[port].type;
            char *src = o->select ? sli_xasprintf("%s/%s", s->out_paths[port], o->select) : sli_xstrdup(s->out_paths[port]);
            const char *ext = o->select ? "" : sl_artifact_type_ext(type);
            char *dst;
            if (found.n == 1) {
                dst = sli_xasprintf("%s/%s%s", r->opt->outdir, o->name, ext);
            } else {
                char *sub = sli_xasprintf("%s/%s", r->opt->outdir, o->name);
                sli_mkdirs(sub, 0755);
                char *nm = safe_name(s->id);
                dst = sli_xasprintf("%s/%s%s", sub, nm, ext);
                free(nm);
                free(sub);
            }
            st = st_materialise(r->store, src);
            if (st == SL_OK) st = publish_one(src, dst);
            if (st == SL_OK) pg_event(r->pg, "output  %s -> %s", o->name, dst);
            free(src);
            free(dst);
        }
        sli_ptrvec_free(&found);
        free(sid);
    }
    return st;
}

/* ------------------------------------------------------------------------------------------ */

int rn_run(pn_plan *plan, pl_registry *reg, st_store *store, const rn_options *opt) {
    runner R = {0}, *r = &R;
    r->plan = plan;
    r->reg = reg;
    r->store = store;
    r->opt = opt;
    r->ready.plan = plan;
    r->cpus_free = opt->cpus;
    r->gpus_free = opt->gpus;
    r->mem_free = opt->mem;
    pthread_mutex_init(&r->qmu, NULL);
    pthread_cond_init(&r->qcv, NULL);
    r->pg = pg_create(stderr, opt->live, opt->quiet);
    r->run_dir = sli_xasprintf("%s/runs/%s", st_root(store), opt->run_id);
    r->log_dir = sli_xasprintf("%s/logs", r->run_dir);
    int code = 0;
    if (sli_mkdirs(r->log_dir, 0755) != SL_OK) {
        pg_note(r->pg, "error: %s", sl_last_error());
        code = 2;
        goto out;
    }
    char *latest = sli_xasprintf("%s/runs/latest", st_root(store));
    unlink(latest);
    if (symlink(opt->run_id, latest) != 0) {
        /* only a convenience */
    }
    free(latest);
    char *trace_path = sli_xasprintf("%s/trace.tsv", r->run_dir);
    r->trace = fopen(trace_path, "w");
    free(trace_path);
    if (r->trace) fputs("step\top\tattempt\tstatus\tstart\tend\twall\tcpu\tpeak_rss_kb\tcache_hit\n", r->trace);

    if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        pg_note(r->pg, "error: cannot create a pipe: %s", strerror(errno));
        code = 2;
        goto out;
    }
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct sigaction sc = {0}, old_chld;
    sc.sa_handler = on_child;
    sc.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sc.sa_mask);
    sigaction(SIGCHLD, &sc, &old_chld);
    signal(SIGPIPE, SIG_IGN);
    if (opt->executor == RN_INLINE) pool_start(r);

    double t0 = sli_now_mono();
    for (uint32_t i = 0; i < plan->n_steps; i++)
        if (plan->steps[i].state == PS_DISABLED) step_final(r, i);
    for (uint32_t i = 0; i < plan->n_steps; i++) make_ready_if_free(r, i);
    int cancelled_sent = 0;
    for (;;) {
        if (sli_interrupted && cancelled_sent < sli_interrupted) {
            pg_note(r->pg, sli_interrupted > 1 ? "interrupted again: killing running steps" : "interrupted: cancelling %zu running step%s (Ctrl-C again to kill)",
                    r->n_running, r->n_running == 1 ? "" : "s");
            cancel_all(r, sli_interrupted > 1);
            cancelled_sent = sli_interrupted;
        }
        schedule(r);
        if (r->n_running == 0) break;
        pg_line **lines = sli_xcalloc(r->n_running + 1, sizeof *lines);
        for (size_t i = 0; i < r->n_running; i++) lines[i] = &r->running[i]->line;
        pg_refresh(r->pg, lines, r->n_running, r->n_done, plan->n_steps, 0);
        free(lines);
        wait_events(r);
        handle_events(r);
        /* the batch's records (and the pack entries they name) go to the journal together */
        if (st_flush(store) != SL_OK) pg_note(r->pg, "warning: %s", sl_last_error());
    }
    if (opt->executor == RN_INLINE) pool_stop(r);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGCHLD, &old_chld, NULL);
    st_sync(store);
    if (r->trace) fclose(r->trace);
    r->trace = NULL;
    pg_clear(r->pg);

    double wall = sli_now_mono() - t0;
    size_t not_run = plan->n_steps - r->n_done;
    if (sli_interrupted) code = 130;
    else if (r->n_failed || r->failures.n || not_run) code = 1;
    if (code == 0 && publish_outputs(r) != SL_OK) {
        pg_note(r->pg, "error: %s", sl_last_error());
        code = 1;
    }
    size_t disabled = 0;
    for (uint32_t i = 0; i < plan->n_steps; i++) disabled += plan->steps[i].state == PS_DISABLED;
    /* plain output already named each reused step on its own line */
    if (r->reused.n && (opt->quiet || opt->live)) {
        sli_buf b = {0};
        for (size_t i = 0; i < r->reused.n && i < 20; i++) sli_buf_printf(&b, "%s%s", i ? ", " : "", (const char *)r->reused.items[i]);
        if (r->reused.n > 20) sli_buf_printf(&b, ", … (%zu more)", r->reused.n - 20);
        pg_note(r->pg, "reused from cache: %s", b.data);
        sli_buf_free(&b);
    }
    char dis[64] = "";
    if (disabled) snprintf(dis, sizeof dis, ", %zu disabled by when=", disabled);
    pg_note(r->pg, "%s: %u steps: %zu ran, %zu reused from cache, %zu failed, %zu not run%s in %.2fs (run %s)",
            code == 0 ? "done" : code == 130 ? "interrupted" : "FAILED", plan->n_steps, r->n_ran, r->n_cached, r->n_failed,
            r->n_skipped + not_run, dis, wall, opt->run_id);
    for (size_t i = 0; i < r->failures.n; i++) pg_note(r->pg, "error: %s", (const char *)r->failures.items[i]);
out:
    for (size_t i = 0; i < r->failures.n; i++) free(r->failures.items[i]);
    sli_ptrvec_free(&r->failures);
    sli_ptrvec_free(&r->reused);
    if (wake_pipe[0] >= 0) {
        close(wake_pipe[0]);
        close(wake_pipe[1]);
        wake_pipe[0] = wake_pipe[1] = -1;
    }
    for (size_t i = 0; i < r->path_hashes.cap; i++)
        if (r->path_hashes.slots && r->path_hashes.slots[i].hash) {
            free((char *)r->path_hashes.slots[i].key);
            free(r->path_hashes.slots[i].val);
        }
    sli_map_free(&r->path_hashes);
    free(r->ready.v);
    free(r->running);
    sli_buf_free(&r->trace_row);
    free(r->run_dir);
    free(r->log_dir);
    pg_destroy(r->pg);
    pthread_mutex_destroy(&r->qmu);
    pthread_cond_destroy(&r->qcv);
    return code;
}
