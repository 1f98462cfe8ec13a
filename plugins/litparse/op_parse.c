/* op_parse.c — litparse.parse: walk the inputs, parse each file, write documents and the per-file table. */
#include "litparse.h"
#include "ops.h"
#include "batch.h"
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One file to parse: where it is and the name documents record. */
typedef struct job {
    char *path;
    char *display;
    int explicit_file; /* named directly (not found by walking a folder) */
} job;

typedef struct jobs {
    job *v;
    size_t n, cap;
} jobs;

/* A PMID deleted by a MEDLINE DeleteCitation, and how many documents had been written then. */
typedef struct deletion {
    char *pmid;
    size_t before;
} deletion;

typedef struct run {
    const sl_host *h;
    sl_op_ctx *ctx;
    size_t ndocs;          /* documents written */
    deletion *dels;
    size_t ndels, cap_dels;
    jobs *js;              /* every file, parsed or not, in order */
    int *batch_of;         /* js index -> index in the batch, -1 for files left out */
    size_t *entry_of;      /* batch index -> js index */
    const lp_format *ignored_fmt;
    size_t next_row;       /* next js entry to put in the table */
    sl_csv_writer *tw;
    int skip;
    int fail_set;          /* host->fail was called */
    size_t failed, ok;
} run;

static int push_job(jobs *js, const char *path, const char *display, int explicit_file) {
    if (js->n == js->cap) {
        size_t ncap = js->cap ? js->cap * 2 : 64;
        job *v = realloc(js->v, ncap * sizeof *v);
        if (!v) return -1;
        js->v = v;
        js->cap = ncap;
    }
    job j = {strdup(path), strdup(display), explicit_file};
    if (!j.path || !j.display) {
        free(j.path);
        free(j.display);
        return -1;
    }
    js->v[js->n++] = j;
    return 0;
}

static void free_jobs(jobs *js) {
    for (size_t i = 0; i < js->n; i++) {
        free(js->v[i].path);
        free(js->v[i].display);
    }
    free(js->v);
}

static const char *base_name(const char *p) {
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') n--;
    const char *s = p + n;
    while (s > p && s[-1] != '/') s--;
    return s;
}

static int matches_any(const sl_host *h, sl_op_ctx *c, const char *param, const char *name) {
    size_t n = h->param_list_count(c, param);
    for (size_t i = 0; i < n; i++) {
        const char *g = h->param_list_item(c, param, i);
        if (g && *g && fnmatch(g, name, 0) == 0) return 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Walk a folder in sorted order (so the output does not depend on the file system's order). */
static sl_status walk(const sl_host *h, sl_op_ctx *c, jobs *js, const char *dir, const char *display, int depth) {
    if (depth > 64) return h->fail(c, SL_ERR_RANGE, "%s: folders nested more than 64 deep", dir);
    DIR *d = opendir(dir);
    if (!d) return h->fail(c, SL_ERR_IO, "%s: cannot read folder: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue; /* hidden files, "." and ".." */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn) break;
            names = nn;
        }
        names[n] = strdup(e->d_name);
        if (names[n]) n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    sl_status st = SL_OK;
    size_t nincl = h->param_list_count(c, "include");
    for (size_t i = 0; i < n && st == SL_OK; i++) {
        char *path = NULL, *disp = NULL;
        if (asprintf(&path, "%s/%s", dir, names[i]) < 0 || asprintf(&disp, "%s/%s", display, names[i]) < 0) {
            free(path);
            st = h->fail(c, SL_ERR_NOMEM, "out of memory listing %s", dir);
            break;
        }
        struct stat sb, lsb;
        if (lstat(path, &lsb) == 0 && stat(path, &sb) == 0) {
            if (S_ISDIR(sb.st_mode)) {
                /* do not follow links to folders: they can loop */
                if (!S_ISLNK(lsb.st_mode)) st = walk(h, c, js, path, disp, depth + 1);
            } else if (S_ISREG(sb.st_mode)) {
                int keep = !matches_any(h, c, "exclude", names[i]) && (nincl == 0 || matches_any(h, c, "include", names[i]));
                if (keep && push_job(js, path, disp, 0) != 0) st = h->fail(c, SL_ERR_NOMEM, "out of memory listing %s", dir);
            }
        }
        free(path);
        free(disp);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return st;
}

static sl_status add_path(const sl_host *h, sl_op_ctx *c, jobs *js, const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) return h->fail(c, SL_ERR_NOT_FOUND, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return walk(h, c, js, path, base_name(path), 0);
    if (push_job(js, path, base_name(path), 1) != 0) return h->fail(c, SL_ERR_NOMEM, "out of memory");
    return SL_OK;
}

/* --- recording what each file gave --- */

static sl_status add_deletion(run *r, const char *pmid, size_t before) {
    for (size_t i = 0; i < r->ndels; i++)
        if (!strcmp(r->dels[i].pmid, pmid)) {
            r->dels[i].before = before;
            return SL_OK;
        }
    if (r->ndels == r->cap_dels) {
        size_t ncap = r->cap_dels ? r->cap_dels * 2 : 64;
        deletion *v = realloc(r->dels, ncap * sizeof *v);
        if (!v) return sl_set_error(SL_ERR_NOMEM, "out of memory");
        r->dels = v;
        r->cap_dels = ncap;
    }
    r->dels[r->ndels].pmid = strdup(pmid);
    if (!r->dels[r->ndels].pmid) return sl_set_error(SL_ERR_NOMEM, "out of memory");
    r->dels[r->ndels++].before = before;
    return SL_OK;
}

/* Table rows of the files left out (not literature) that come before entry `upto`. */
static void ignored_rows(run *r, size_t upto) {
    for (; r->next_row < upto; r->next_row++) {
        const job *jb = &r->js->v[r->next_row];
        r->h->log(r->ctx, SL_LOG_INFO, "ignored %s: not a recognised literature format", jb->display);
        if (r->tw) {
            const char *row[] = {jb->display, "", "ignored", "0", "0", "0", "not a recognised literature format"};
            sl_csv_write_row(r->tw, row, 7);
        }
    }
}

static int batch_cancelled(void *user) {
    run *r = user;
    return r->h->cancelled(r->ctx);
}

static sl_status file_done(void *user, size_t bi, const lp_batch_report *rep) {
    run *r = user;
    const sl_host *h = r->h;
    size_t ei = r->entry_of[bi];
    const job *jb = &r->js->v[ei];
    h->progress(r->ctx, (double)ei + 1, (double)r->js->n, jb->display);
    ignored_rows(r, ei);
    r->next_row = ei + 1;
    for (size_t k = 0; k < rep->nnotes; k++) h->log(r->ctx, SL_LOG_WARN, "%s", rep->notes[k]);
    if (rep->notes_dropped) h->log(r->ctx, SL_LOG_WARN, "%s: %zu further remarks not logged", jb->display, rep->notes_dropped);
    const char *status = "ok";
    const char *msg = "";
    if (rep->status != SL_OK) {
        msg = rep->message ? rep->message : sl_status_name(rep->status);
        /* an output, memory or cancellation failure is the step's, not the file's */
        r->fail_set = 1;
        if (rep->write_failed || rep->status == SL_ERR_NOMEM || rep->status == SL_ERR_CANCELLED)
            return h->fail(r->ctx, rep->status, "%s", msg);
        if (!r->skip) return h->fail(r->ctx, rep->status, "%s (set on_error=skip to leave such files out)", msg);
        r->fail_set = 0;
        /* the complete records the file gave before its error stay */
        status = "skipped";
        r->failed++;
        h->log(r->ctx, SL_LOG_WARN, "skipped %s: %s", jb->display, msg);
    } else {
        r->ok++;
        if (rep->res.api_error) status = "api-error";
        else if (rep->docs == 0) status = "empty";
    }
    for (size_t k = 0; k < rep->ndels; k++) {
        sl_status ds = add_deletion(r, rep->dels[k].pmid, r->ndocs + rep->dels[k].before);
        if (ds != SL_OK) {
            r->fail_set = 1;
            return h->fail(r->ctx, ds, "%s", sl_last_error());
        }
    }
    r->ndocs += rep->docs;
    if (r->tw) {
        char nd[32], ndel[32], nw[32];
        snprintf(nd, sizeof nd, "%zu", rep->docs);
        snprintf(ndel, sizeof ndel, "%zu", rep->res.deletions);
        snprintf(nw, sizeof nw, "%zu", rep->res.warnings);
        lp_format f = rep->res.format ? rep->res.format : r->ignored_fmt[ei];
        const char *row[] = {jb->display, f ? lp_format_name(f) : "", status, nd, ndel, nw, msg};
        sl_csv_write_row(r->tw, row, 7);
    }
    return SL_OK;
}

static int cmp_del(const void *a, const void *b) {
    return strcmp(((const deletion *)a)->pmid, ((const deletion *)b)->pmid);
}

/* Drop the documents a later DeleteCitation removed: copy `tmp` to `out` without them. */
static sl_status apply_deletions(run *r, const char *tmp, FILE *out, size_t *removed) {
    qsort(r->dels, r->ndels, sizeof *r->dels, cmp_del);
    lp_jsonl in;
    sl_status st = lp_jsonl_open(&in, tmp, 0);
    if (st != SL_OK) return r->h->fail(r->ctx, st, "%s", sl_last_error());
    size_t idx = 0;
    int k;
    while ((k = lp_jsonl_next(&in)) == 1) {
        json_t *doc = lp_jsonl_parse(&in);
        if (!doc) {
            lp_jsonl_close(&in);
            return r->h->fail(r->ctx, SL_ERR_INTERNAL, "%s", sl_last_error());
        }
        const char *pmid = lp_jid(doc, "pmid");
        int drop = 0;
        if (pmid) {
            deletion key = {(char *)pmid, 0};
            deletion *hit = bsearch(&key, r->dels, r->ndels, sizeof *r->dels, cmp_del);
            drop = hit && idx < hit->before;
        }
        json_decref(doc);
        if (drop) (*removed)++;
        else if (fwrite(in.line.p, 1, in.line.n, out) != in.line.n || fputc('\n', out) == EOF) {
            lp_jsonl_close(&in);
            return r->h->fail(r->ctx, SL_ERR_IO, "cannot write documents: %s", strerror(errno));
        }
        idx++;
    }
    lp_jsonl_close(&in);
    if (k < 0) return r->h->fail(r->ctx, sl_last_status(), "%s", sl_last_error());
    return SL_OK;
}

/* --- the op --- */

static char delim_of(const char *v) {
    if (!v) return 0;
    if (!strcmp(v, "comma")) return ',';
    if (!strcmp(v, "tab")) return '\t';
    if (!strcmp(v, "pipe")) return '|';
    if (!strcmp(v, "semicolon")) return ';';
    return 0;
}

/* Formats folder walks pick up even when detection falls back to text: by extension only. */
static int texty_name(const char *name) {
    static const char *ext[] = {".txt", ".md", ".markdown", ".text", ".txt.gz", ".md.gz", NULL};
    size_t n = strlen(name);
    for (int i = 0; ext[i]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && lp_strieq(name + n - e, ext[i])) return 1;
    }
    return 0;
}

sl_status lp_op_parse(const sl_host *h, sl_op_ctx *c) {
    lp_options opts;
    memset(&opts, 0, sizeof opts);
    opts.columns = lp_param(h, c, "columns");
    opts.delimiter = delim_of(lp_param(h, c, "delimiter"));
    const char *hdr = lp_param(h, c, "header");
    opts.header = hdr && !strcmp(hdr, "yes") ? 1 : hdr && !strcmp(hdr, "no") ? 0 : -1;
    int64_t mb = 256;
    if (h->param_int(c, "max_record_mb", &mb) != SL_OK || mb < 1) mb = 256;
    opts.max_record_bytes = (size_t)mb << 20;
    lp_format forced = lp_format_parse(lp_param(h, c, "format"));
    const char *policy = lp_param(h, c, "on_error");
    int skip = policy && !strcmp(policy, "skip");

    jobs js = {0};
    sl_status st = SL_OK;
    size_t nin = h->input_count(c, "source");
    for (size_t i = 0; i < nin && st == SL_OK; i++) st = add_path(h, c, &js, h->input_path(c, "source", i));
    size_t np = h->param_list_count(c, "paths");
    for (size_t i = 0; i < np && st == SL_OK; i++) {
        const char *p = h->param_list_item(c, "paths", i);
        if (!p || !*p) continue;
        if (strpbrk(p, "*?[")) {
            glob_t g;
            int rc = glob(p, 0, NULL, &g);
            if (rc == GLOB_NOMATCH) st = h->fail(c, SL_ERR_NOT_FOUND, "paths: no file matches '%s'", p);
            else if (rc != 0) st = h->fail(c, SL_ERR_IO, "paths: cannot expand '%s'", p);
            for (size_t k = 0; rc == 0 && k < g.gl_pathc && st == SL_OK; k++) st = add_path(h, c, &js, g.gl_pathv[k]);
            if (rc == 0 || rc == GLOB_NOMATCH) globfree(&g);
        } else {
            st = add_path(h, c, &js, p);
        }
    }
    if (st != SL_OK) {
        free_jobs(&js);
        return st;
    }
    if (js.n == 0) {
        free_jobs(&js);
        return h->fail(c, SL_ERR_INVALID, "nothing to parse: connect files or folders to the 'source' port or list them in 'paths'");
    }

    const char *out_path = h->output_path(c, "documents");
    const char *table_path = h->output_path(c, "files");
    char tmp[4096];
    FILE *out = lp_out_open(h, c, out_path, tmp, sizeof tmp);
    if (!out) {
        free_jobs(&js);
        return SL_ERR_IO;
    }
    sl_csv_writer *tw = NULL;
    if (table_path && (st = sl_csv_open(table_path, &tw)) != SL_OK) {
        fclose(out);
        unlink(tmp);
        free_jobs(&js);
        return h->fail(c, st, "%s", sl_last_error());
    }
    static const char *const head[] = {"file", "format", "status", "documents", "deletions", "warnings", "message"};
    if (tw) sl_csv_write_row(tw, head, 7);

    /* decide each file's format; in folders, leave out what is not literature: unknown XML,
     * binary files, and text that is neither BibTeX nor delimited unless its name says text */
    int *batch_of = malloc(js.n * sizeof *batch_of);
    size_t *entry_of = malloc(js.n * sizeof *entry_of);
    lp_format *fmts = calloc(js.n, sizeof *fmts);
    lp_batch_job *bjobs = calloc(js.n, sizeof *bjobs);
    size_t nb = 0;
    if (!batch_of || !entry_of || !fmts || !bjobs) st = h->fail(c, SL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < js.n && st == SL_OK; i++) {
        job *jb = &js.v[i];
        lp_format fmt = forced;
        if (fmt == LP_FMT_UNKNOWN && !jb->explicit_file) {
            lp_source *src;
            sl_status ps = lp_source_open(jb->path, jb->display, &src);
            if (ps == SL_OK) {
                const unsigned char *p;
                size_t n;
                ps = lp_source_peek(src, 65536, &p, &n);
                if (ps == SL_OK) {
                    fmt = n ? lp_detect(p, n, jb->display) : LP_FMT_UNKNOWN;
                }
                lp_source_close(src);
                if (ps == SL_OK && (fmt == LP_FMT_UNKNOWN || (fmt == LP_FMT_TEXT && !texty_name(jb->display)))) {
                    batch_of[i] = -1;
                    continue;
                }
            }
            /* an unreadable file is parsed anyway, so that its error is reported */
        }
        fmts[i] = fmt;
        batch_of[i] = (int)nb;
        entry_of[nb] = i;
        bjobs[nb++] = (lp_batch_job){jb->path, jb->display, fmt};
    }

    run r = {.h = h, .ctx = c, .js = &js, .batch_of = batch_of, .entry_of = entry_of, .ignored_fmt = fmts, .tw = tw, .skip = skip};
    if (st == SL_OK) {
        lp_batch_cb cb = {&r, file_done, batch_cancelled};
        int threads = h->threads(c);
        st = lp_batch_run(bjobs, nb, threads, &opts, out, h->scratch_dir(c), &cb);
        if (st != SL_OK && !r.fail_set) st = h->fail(c, st, "%s", sl_last_error());
        if (st == SL_OK) ignored_rows(&r, js.n);
    }
    free(bjobs);
    size_t removed = 0;
    if (st == SL_OK && r.ndels) {
        /* a second pass honours the deletions against everything parsed before each of them */
        char tmp2[4200];
        FILE *out2 = lp_out_open(h, c, tmp, tmp2, sizeof tmp2);
        if (!out2) st = SL_ERR_IO;
        else if (fflush(out) != 0) st = h->fail(c, SL_ERR_IO, "cannot write documents: %s", strerror(errno));
        else st = apply_deletions(&r, tmp, out2, &removed);
        if (out2) {
            if (st == SL_OK) st = lp_out_commit(h, c, out2, tmp2, tmp);
            else {
                fclose(out2);
                unlink(tmp2);
            }
        }
        if (removed) h->log(c, SL_LOG_INFO, "%zu documents removed by DeleteCitation", removed);
    }
    for (size_t i = 0; i < r.ndels; i++) free(r.dels[i].pmid);
    free(r.dels);
    if (st == SL_OK) st = lp_out_commit(h, c, out, tmp, out_path);
    else {
        fclose(out);
        unlink(tmp);
    }
    if (tw) {
        if (st == SL_OK) {
            sl_status ts = sl_csv_commit(tw);
            if (ts != SL_OK) st = h->fail(c, ts, "%s", sl_last_error());
        }
        sl_csv_destroy(tw);
    }
    size_t njobs = js.n;
    free(batch_of);
    free(entry_of);
    free(fmts);
    free_jobs(&js);
    if (st != SL_OK) return st;
    char v[32];
    snprintf(v, sizeof v, "%zu", r.ndocs - removed);
    h->set_value(c, "documents", v);
    snprintf(v, sizeof v, "%zu", r.failed);
    h->set_value(c, "failed", v);
    h->log(c, SL_LOG_INFO, "%zu files parsed, %zu skipped, %zu documents", r.ok, r.failed, r.ndocs - removed);
    h->progress(c, (double)njobs, (double)njobs, NULL);
    return SL_OK;
}
