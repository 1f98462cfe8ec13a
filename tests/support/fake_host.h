/* fake_host.h — a minimal sl_host for calling a plugin's ops directly in tests, without the engine. */
#ifndef SL_FAKE_HOST_H
#define SL_FAKE_HOST_H

#include <sciloop/plugin.h>

#define FH_MAX 64

/* One op invocation: params (defaults from the op descriptor, as the engine applies them),
 * inputs and outputs by port, and what the op reported back. */
typedef struct fh_ctx {
    const sl_op_desc *op;
    const char *pnames[FH_MAX], *pvalues[FH_MAX];
    int nparams;
    const char *inports[FH_MAX], *inpaths[FH_MAX];
    int nin;
    const char *outports[8], *outpaths[8];
    int nout;
    char fail_msg[8192];
    sl_status fail_status;
    char vnames[8][64], vvalues[8][256];
    int nvalues;
    char log[65536];
    size_t loglen;
    char list_items[FH_MAX][16][512]; /* split LIST params */
    int cancel_after;                 /* cancelled() turns true after this many calls (0: never) */
    int cancel_calls;
    int threads;                      /* threads() answer (0: 1) */
} fh_ctx;

extern const sl_host fh_host;

/* The op named `name` ("parse") of the plugin linked into the test (its sciloop_plugin_v1), or NULL. */
const sl_op_desc *fh_op(const char *name);
void fh_init(fh_ctx *c, const char *op);
void fh_param(fh_ctx *c, const char *name, const char *value);
void fh_input(fh_ctx *c, const char *port, const char *path);
void fh_output(fh_ctx *c, const char *port, const char *path);
/* Run the op; returns its status (message in c->fail_msg, log lines in c->log). */
sl_status fh_run(fh_ctx *c);
/* A value published with set_value, or NULL. */
const char *fh_value(const fh_ctx *c, const char *name);

/* Test helpers: a fresh temporary folder (mkdtemp under TMPDIR or /tmp), a file's whole text
 * (malloc'd, NULL if unreadable), a file written with `text`, and the number of lines of a file. */
char *fh_tmpdir(void);
char *fh_read(const char *path, size_t *len);
int fh_write(const char *path, const char *text, size_t len);
long fh_lines(const char *path);
/* The corpus folder ($SCILOOP_SHARED_DIR/corpus), or NULL when absent (tests then skip with 77). */
const char *fh_corpus(void);

#endif /* SL_FAKE_HOST_H */
