/* batch.h — parse a list of files on several threads, writing their documents in file order. */
#ifndef LP_BATCH_H
#define LP_BATCH_H

#include <stdio.h>
#include "litparse.h"

/* One file to parse. */
typedef struct lp_batch_job {
    const char *path;
    const char *display;   /* name recorded in documents and messages */
    lp_format format;      /* LP_FMT_UNKNOWN: detect */
} lp_batch_job;

/* A MEDLINE DeleteCitation met in a file: the PMID, and how many of the file's documents had
 * been written before it. */
typedef struct lp_batch_deletion {
    char *pmid;
    size_t before;
} lp_batch_deletion;

/* What parsing one file gave. Owned by lp_batch_run; valid during file_done. */
typedef struct lp_batch_report {
    sl_status status;          /* SL_OK or why the file failed */
    char *message;             /* "file:line:col: reason" when it failed */
    int write_failed;          /* the failure was writing the output, not the file's content */
    lp_file_result res;
    size_t docs;               /* documents the file added to the output */
    lp_batch_deletion *dels;   /* in the order met */
    size_t ndels;
    char **notes;              /* remarks about the file (at most 100) */
    size_t nnotes, notes_dropped;
} lp_batch_report;

typedef struct lp_batch_cb {
    void *user;
    /* Called on the calling thread for each file in list order, after its documents are in the
     * output. Return SL_OK to go on; anything else stops the batch and is returned. */
    sl_status (*file_done)(void *user, size_t index, const lp_batch_report *report);
    /* Polled before each file starts; may be NULL. */
    int (*cancelled)(void *user);
} lp_batch_cb;

/* Parse `n` files with up to `threads` threads (1: in order on the calling thread, writing
 * straight to `out`). With several threads each file goes to a temporary file in `tmpdir`
 * first and is appended to `out` in list order, so the output is byte-identical whatever the
 * thread count. A failing file does not stop the others: file_done decides. Returns SL_OK, or the
 * status file_done or cancellation stopped the batch with. */
sl_status lp_batch_run(const lp_batch_job *jobs, size_t n, int threads, const lp_options *opts, FILE *out, const char *tmpdir,
                       const lp_batch_cb *cb);

#endif /* LP_BATCH_H */
