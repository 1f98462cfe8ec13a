/* bench_welch.c — the benchmark kernel: many two-sample Welch t tests over rows of two matrices (loaded by bench_welch.py). */
#include <math.h>
#include <pthread.h>
#include <stddef.h>

#include "vs_stats.h"

#if defined(__GNUC__)
#define BENCH_EXPORT __attribute__((visibility("default")))
#else
#define BENCH_EXPORT
#endif

typedef struct {
    const double *a, *b;
    size_t r0, r1, na, nb;
    double *t, *p;
} job;

/* two-pass mean and variance of one row */
static void row_moments(const double *x, size_t n, double *m, double *v) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += x[i];
    double mean = s / (double)n, q = 0.0, c = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - mean;
        q += d * d;
        c += d;
    }
    *m = mean;
    *v = (q - c * c / (double)n) / (double)(n - 1); /* corrected two-pass */
}

static void *run(void *arg) {
    job *j = arg;
    for (size_t r = j->r0; r < j->r1; r++) {
        double m1, v1, m2, v2, df;
        row_moments(j->a + r * j->na, j->na, &m1, &v1);
        row_moments(j->b + r * j->nb, j->nb, &m2, &v2);
        vs_welch_from_moments(m1, v1, (double)j->na, m2, v2, (double)j->nb, &j->t[r], &df, &j->p[r]);
    }
    return NULL;
}

/* a: rows x na, b: rows x nb, row-major. Writes t and two-sided p for each row. */
BENCH_EXPORT void vs_bench_welch(const double *a, const double *b, size_t rows, size_t na, size_t nb, double *t, double *p, int threads);
BENCH_EXPORT void vs_bench_welch(const double *a, const double *b, size_t rows, size_t na, size_t nb, double *t, double *p, int threads) {
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    pthread_t th[64];
    job jobs[64];
    for (int k = 0; k < threads; k++) {
        jobs[k] = (job){a, b, rows * (size_t)k / (size_t)threads, rows * (size_t)(k + 1) / (size_t)threads, na, nb, t, p};
        if (k > 0) pthread_create(&th[k], NULL, run, &jobs[k]);
    }
    run(&jobs[0]);
    for (int k = 1; k < threads; k++) pthread_join(th[k], NULL);
}
