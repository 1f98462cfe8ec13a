/* fake_host.h — a minimal sl_host for calling the validate ops directly in tests, without the engine. */
#ifndef VALIDATE_FAKE_HOST_H
#define VALIDATE_FAKE_HOST_H

#include <sciloop/plugin.h>

/* One op invocation: params (name=value, defaults taken from the op descriptor like the engine
 * does), inputs and outputs by port, and what the op reported. */
typedef struct fh_ctx {
    const sl_op_desc *op;
    const char *pnames[32], *pvalues[32];
    int nparams;
    const char *inports[8], *inpaths[8];
    int nin;
    const char *outports[8], *outpaths[8];
    int nout;
    char fail_msg[8192];
    sl_status fail_status;
    char values[4][2][256];
    int nvalues;
    char log[16384];
    char scratch[4096];
    char list_tmp[32][512];
} fh_ctx;

extern const sl_host fh_host;

/* Find an op of the validate plugin by its short name ("compare"). */
const sl_op_desc *fh_op(const char *name);

void fh_init(fh_ctx *c, const char *op);
void fh_param(fh_ctx *c, const char *name, const char *value);
void fh_input(fh_ctx *c, const char *port, const char *path);
void fh_output(fh_ctx *c, const char *port, const char *path);
/* Run the op; returns its status (message in c->fail_msg). */
sl_status fh_run(fh_ctx *c);
/* Value published with set_value, or NULL. */
const char *fh_value(const fh_ctx *c, const char *name);

#endif /* VALIDATE_FAKE_HOST_H */
