/* cpu_pool.c — the persistent worker pool every CPU kernel runs on: static chunks, brief spin then sleep. */
#define _GNU_SOURCE
#include "cpu.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

struct cpu_pool {
    int threads;                 /* workers + the caller */
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    atomic_uint_fast64_t generation; /* bumped for every job */
    atomic_int pending;          /* workers not yet done with the current job */
    atomic_int sleepers;
    atomic_bool stop;            /* set (before a generation bump) when the pool goes away */
    /* current job */
    cpu_task_fn fn;
    void *arg;
    int64_t n, chunk, nchunks;
};

/* Spin iterations before a worker sleeps: long enough to bridge back-to-back ops, short
 * enough not to steal a shared machine's cores when idle. */
#define SPIN_ITERS 20000

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void run_chunk(cpu_pool *p, int64_t c) {
    int64_t b = c * p->chunk, e = b + p->chunk;
    if (e > p->n) e = p->n;
    if (b < e) p->fn(p->arg, b, e);
}

static void *worker(void *arg) {
    cpu_pool *p = ((void **)arg)[0];
    int id = (int)(intptr_t)((void **)arg)[1];
    free(arg);
    uint64_t seen = 0;
    for (;;) {
        uint64_t g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen && spins < SPIN_ITERS) {
            cpu_relax();
            spins++;
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((g = atomic_load(&p->generation)) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->wake, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        seen = g;
        if (atomic_load(&p->stop)) return NULL;
        if (id < p->nchunks) run_chunk(p, id);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel);
    }
}

sl_status cpu_pool_create(int threads, cpu_pool **out) {
    cpu_pool *p = calloc(1, sizeof *p);
    if (!p) return sl_set_error(SL_ERR_NOMEM, "thread pool: out of memory");
    p->threads = threads < 1 ? 1 : threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->stop, false);
    if (p->threads > 1) {
        p->tid = calloc((size_t)p->threads - 1, sizeof *p->tid);
        if (!p->tid) { free(p); return sl_set_error(SL_ERR_NOMEM, "thread pool: out of memory"); }
        for (int i = 1; i < p->threads; i++) {
            void **a = malloc(2 * sizeof *a);
            if (a) { a[0] = p; a[1] = (void *)(intptr_t)i; }
            if (!a || pthread_create(&p->tid[i - 1], NULL, worker, a) != 0) {
                free(a);
                p->threads = i; /* keep the workers that started */
                cpu_pool_destroy(p);
                return sl_set_error(SL_ERR_NOMEM, "thread pool: could not start thread %d", i);
            }
        }
    }
    *out = p;
    return SL_OK;
}

void cpu_pool_destroy(cpu_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->threads; i++) pthread_join(p->tid[i - 1], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    free(p->tid);
    free(p);
}

int cpu_pool_threads(const cpu_pool *p) { return p->threads; }

void cpu_pool_run(cpu_pool *p, int64_t n, int64_t grain, cpu_task_fn fn, void *arg) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int64_t nchunks = (n + grain - 1) / grain;
    if (nchunks > p->threads) nchunks = p->threads;
    if (nchunks <= 1) { fn(arg, 0, n); return; }
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->chunk = (n + nchunks - 1) / nchunks;
    p->nchunks = nchunks;
    atomic_store_explicit(&p->pending, p->threads - 1, memory_order_relaxed);
    atomic_fetch_add(&p->generation, 1); /* seq_cst: pairs with the sleepers check */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    run_chunk(p, 0);
    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) {
        if (++spins < SPIN_ITERS) cpu_relax();
        else sched_yield();
    }
}
