/* batch.c — parse many files on several threads and write their documents in file order. */
#include "batch.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_NOTES 100
/* Documents of files parsed ahead of the one being written wait in memory up to this many bytes
 * in all, then in temporary files. */
#define HELD_IN_MEMORY ((size_t)64 << 20)

typedef struct job_state {
    lp_batch_report rep;
    lp_buf line;                 /* serialisation scratch */
    lp_buf held;                 /* its documents while they fit in the memory budget */
    FILE *out;                   /* where its documents go: the output, or a temporary file */
    char tmp[4096];              /* that temporary file's name */
    int done;
} job_state;

typedef struct batch {
    const lp_batch_job *jobs;
    size_t n;
    const lp_options *opts;
    const lp_batch_cb *cb;
    job_state *st;
    size_t next;                 /* next job to start */
    int stop;                    /* stop starting jobs (failure or cancellation) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int direct;                  /* one thread: write straight to the output */
    FILE *out;
    const char *tmpdir;
    size_t held;                 /* bytes held in memory by all jobs (atomic) */
} batch;

/* Move job j's documents from memory to a temporary file, which takes the rest. */
static sl_status spill(batch *b, job_state *j) {
    /* a unique name: the scratch folder may be shared (the system's temporary folder) */
    snprintf(j->tmp, sizeof j->tmp, "%s/litparse-part-%zu-XXXXXX", b->tmpdir, (size_t)(j - b->st));
    int fd = mkstemp(j->tmp);
    j->out = fd >= 0 ? fdopen(fd, "w+b") : NULL;
    if (!j->out && fd >= 0) {
        close(fd);
        unlink(j->tmp);
    }
    if (!j->out) {
        j->rep.write_failed = 1;
        return sl_set_error(SL_ERR_IO, "%s: cannot create: %s", j->tmp, strerror(errno));
    }
    if (j->held.n && fwrite(j->held.p, 1, j->held.n, j->out) != j->held.n) {
        j->rep.write_failed = 1;
        return sl_set_error(SL_ERR_IO, "%s: cannot write: %s", j->tmp, strerror(errno));
    }
    __atomic_fetch_sub(&b->held, j->held.n, __ATOMIC_RELAXED);
    lp_buf_free(&j->held);
    return SL_OK;
}

typedef struct job_ctx {
    batch *b;
    job_state *j;
} job_ctx;

static sl_status emit(void *user, lp_doc *d) {
    job_ctx *c = user;
    job_state *j = c->j;
    j->line.n = 0;
    if (lp_doc_to_json(d, &j->line) != 0) return sl_set_error(SL_ERR_NOMEM, "out of memory writing a document");
    if (!j->out) {
        size_t n = j->line.n;
        if (__atomic_add_fetch(&c->b->held, n, __ATOMIC_RELAXED) <= HELD_IN_MEMORY && lp_buf_add(&j->held, j->line.p, n) == 0) {
            j->rep.docs++;
            return SL_OK;
        }
        __atomic_fetch_sub(&c->b->held, n, __ATOMIC_RELAXED);
        sl_status st = spill(c->b, j);
        if (st != SL_OK) return st;
    }
    if (fwrite(j->line.p, 1, j->line.n, j->out) != j->line.n) {
        j->rep.write_failed = 1;
        return sl_set_error(SL_ERR_IO, "cannot write documents: %s", strerror(errno));
    }
    j->rep.docs++;
    return SL_OK;
}

static sl_status del(void *user, const char *pmid) {
    job_state *j = ((job_ctx *)user)->j;
    lp_batch_deletion *v = realloc(j->rep.dels, (j->rep.ndels + 1) * sizeof *v);
    char *p = strdup(pmid);
    if (!v || !p) {
        free(p);
        if (v) j->rep.dels = v;
        return sl_set_error(SL_ERR_NOMEM, "out of memory");
    }
    j->rep.dels = v;
    v[j->rep.ndels].pmid = p;
    v[j->rep.ndels++].before = j->rep.docs;
    return SL_OK;
}

static void note(void *user, const char *msg) {
    job_state *j = ((job_ctx *)user)->j;
    if (j->rep.nnotes >= MAX_NOTES) {
        j->rep.notes_dropped++;
        return;
    }
    char **v = realloc(j->rep.notes, (j->rep.nnotes + 1) * sizeof *v);
    if (!v) return;
    j->rep.notes = v;
    v[j->rep.nnotes] = strdup(msg);
    if (v[j->rep.nnotes]) j->rep.nnotes++;
}

/* Parse job i into its output. */
static void run_job(batch *b, size_t i) {
    job_state *j = &b->st[i];
    const lp_batch_job *jb = &b->jobs[i];
    if (b->direct) j->out = b->out; /* otherwise memory, then a temporary file (emit) */
    job_ctx ctx = {b, j};
    lp_sink sink = {emit, del, note, &ctx};
    j->rep.status = lp_parse_file(jb->path, jb->display, jb->format, b->opts, &sink, &j->rep.res);
    if (j->rep.status != SL_OK) j->rep.message = strdup(sl_last_error());
    lp_buf_free(&j->line);
}

static void *worker(void *arg) {
    batch *b = arg;
    for (;;) {
        pthread_mutex_lock(&b->mu);
        if (b->stop || b->next >= b->n) {
            pthread_mutex_unlock(&b->mu);
            return NULL;
        }
        size_t i = b->next++;
        pthread_mutex_unlock(&b->mu);
        if (b->cb->cancelled && b->cb->cancelled(b->cb->user)) {
            pthread_mutex_lock(&b->mu);
            b->st[i].rep.status = sl_set_error(SL_ERR_CANCELLED, "cancelled");
            b->st[i].rep.message = strdup("cancelled");
            b->st[i].done = 1;
            b->stop = 1;
            pthread_cond_broadcast(&b->cv);
            pthread_mutex_unlock(&b->mu);
            return NULL;
        }
        run_job(b, i);
        pthread_mutex_lock(&b->mu);
        b->st[i].done = 1;
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
    }
}

/* Write a finished job's documents (held in memory or in its temporary file) to the output. */
static sl_status append(batch *b, job_state *j) {
    if (b->direct) return SL_OK;
    sl_status st = SL_OK;
    if (!j->out) {
        if (j->held.n && fwrite(j->held.p, 1, j->held.n, b->out) != j->held.n)
            st = sl_set_error(SL_ERR_IO, "cannot write documents: %s", strerror(errno));
        __atomic_fetch_sub(&b->held, j->held.n, __ATOMIC_RELAXED);
        lp_buf_free(&j->held);
        return st;
    }
    char buf[1 << 16];
    if (fflush(j->out) != 0 || fseek(j->out, 0, SEEK_SET) != 0) st = sl_set_error(SL_ERR_IO, "%s: %s", j->tmp, strerror(errno));
    size_t k;
    while (st == SL_OK && (k = fread(buf, 1, sizeof buf, j->out)) > 0)
        if (fwrite(buf, 1, k, b->out) != k) st = sl_set_error(SL_ERR_IO, "cannot write documents: %s", strerror(errno));
    if (st == SL_OK && ferror(j->out)) st = sl_set_error(SL_ERR_IO, "%s: read error", j->tmp);
    fclose(j->out);
    j->out = NULL;
    unlink(j->tmp);
    return st;
}

static void free_report(lp_batch_report *r) {
    free(r->message);
    for (size_t k = 0; k < r->ndels; k++) free(r->dels[k].pmid);
    free(r->dels);
    for (size_t k = 0; k < r->nnotes; k++) free(r->notes[k]);
    free(r->notes);
    memset(r, 0, sizeof *r);
}

sl_status lp_batch_run(const lp_batch_job *jobs, size_t n, int threads, const lp_options *opts, FILE *out, const char *tmpdir,
                       const lp_batch_cb *cb) {
    if (n == 0) return SL_OK;
    batch b;
    memset(&b, 0, sizeof b);
    b.jobs = jobs;
    b.n = n;
    b.opts = opts;
    b.cb = cb;
    b.out = out;
    b.tmpdir = tmpdir && *tmpdir ? tmpdir : "/tmp";
    if (threads < 1) threads = 1;
    if ((size_t)threads > n) threads = (int)n;
    b.direct = threads == 1;
    b.st = calloc(n, sizeof *b.st);
    if (!b.st) return sl_set_error(SL_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    pthread_t *tids = NULL;
    int started = 0;
    if (!b.direct) {
        tids = calloc((size_t)threads, sizeof *tids);
        for (int t = 0; tids && t < threads; t++)
            if (pthread_create(&tids[t], NULL, worker, &b) == 0) started++;
        if (started == 0) b.direct = 1; /* could not start threads: do the work here */
    }
    sl_status st = SL_OK;
    for (size_t i = 0; i < n; i++) {
        if (b.direct) {
            if (st != SL_OK) break;
            if (cb->cancelled && cb->cancelled(cb->user)) {
                st = sl_set_error(SL_ERR_CANCELLED, "cancelled");
                break;
            }
            run_job(&b, i);
            b.st[i].done = 1;
        } else {
            pthread_mutex_lock(&b.mu);
            while (!b.st[i].done && !(b.stop && b.next <= i)) pthread_cond_wait(&b.cv, &b.mu);
            int done = b.st[i].done;
            pthread_mutex_unlock(&b.mu);
            if (!done) break; /* stopped before this job started */
        }
        job_state *j = &b.st[i];
        sl_status as = append(&b, j);
        if (as != SL_OK && j->rep.status == SL_OK) {
            j->rep.status = as;
            j->rep.message = strdup(sl_last_error());
            j->rep.write_failed = 1;
        }
        sl_status cs = cb->file_done(cb->user, i, &j->rep);
        free_report(&j->rep);
        if (cs != SL_OK) {
            st = cs;
            pthread_mutex_lock(&b.mu);
            b.stop = 1;
            pthread_mutex_unlock(&b.mu);
            if (b.direct) break;
            break;
        }
    }
    if (!b.direct) {
        pthread_mutex_lock(&b.mu);
        b.stop = 1;
        pthread_mutex_unlock(&b.mu);
        for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
    }
    free(tids);
    for (size_t i = 0; i < n; i++) {
        /* jobs finished after a stop: drop their output */
        if (b.st[i].out && !b.direct) {
            fclose(b.st[i].out);
            unlink(b.st[i].tmp);
        }
        lp_buf_free(&b.st[i].held);
        free_report(&b.st[i].rep);
    }
    free(b.st);
    pthread_mutex_destroy(&b.mu);
    pthread_cond_destroy(&b.cv);
    return st;
}
