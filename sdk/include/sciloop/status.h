/* sciloop/status.h — the one status enum every sciloop API returns, and the per-thread error message. */
#ifndef SCILOOP_STATUS_H
#define SCILOOP_STATUS_H

#include <stdarg.h>
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. Values are part of the ABI and never renumbered; new codes are appended.
 * The code is the truth a program branches on; the message (sl_last_error) helps a human. */
typedef enum sl_status {
    SL_OK = 0,               /* success */
    SL_ERR_NOMEM = 1,        /* an allocation failed */
    SL_ERR_INVALID = 2,      /* an argument or an input's content is not what was expected */
    SL_ERR_IO = 3,           /* a file could not be read, written, renamed or created */
    SL_ERR_PARSE = 4,        /* a document (XML, JSON, CSV, ...) is malformed */
    SL_ERR_NOT_FOUND = 5,    /* a named thing (file, op, port, param, step, tensor) does not exist */
    SL_ERR_UNSUPPORTED = 6,  /* valid request this build or device cannot serve */
    SL_ERR_ABI = 7,          /* a plugin or structure speaks an incompatible ABI */
    SL_ERR_CANCELLED = 8,    /* the run was cancelled (Ctrl-C, SIGTERM, host request) */
    SL_ERR_TIMEOUT = 9,      /* a step exceeded its time limit */
    SL_ERR_RANGE = 10,       /* a value lies outside its allowed range */
    SL_ERR_TYPE = 11,        /* a value or artifact has the wrong type */
    SL_ERR_CYCLE = 12,       /* the workflow's dependencies form a cycle */
    SL_ERR_DEVICE = 13,      /* the GPU runtime reported an error */
    SL_ERR_INTERNAL = 14,    /* a bug in sciloop itself; please report it */
    SL_ERR_CRASHED = 15,     /* a step's worker process died from a signal */
    SL_ERR_FAILED = 16,      /* an op or command ran and reported failure */
    SL_ERR_MISMATCH = 17     /* a replayed or compared output differs from the recorded one */
} sl_status;

/* Stable lower-case name of a status ("ok", "invalid", "io", ...); "unknown" for other values.
 * Static storage; thread-safe. */
SL_API const char *sl_status_name(sl_status status);

/* Message describing the last failure recorded on the calling thread, or "" if none.
 * Valid until the next sciloop call on this thread that records an error. Thread-local. */
SL_API const char *sl_last_error(void);

/* Status recorded with the last message on the calling thread (SL_OK if none). Thread-local. */
SL_API sl_status sl_last_status(void);

/* Record a failure on the calling thread: formats the message (truncated at 4 KiB) and
 * returns `status`, so that a function can `return sl_set_error(SL_ERR_IO, "...", ...);`. */
SL_API sl_status sl_set_error(sl_status status, const char *fmt, ...) SL_PRINTF(2, 3);

/* va_list form of sl_set_error. */
SL_API sl_status sl_set_errorv(sl_status status, const char *fmt, va_list ap);

/* Forget the calling thread's last error. */
SL_API void sl_clear_error(void);

/* Always-on contract check for programmer errors (not for bad input, which gets a status).
 * On failure prints file:line and the expression to stderr and aborts. */
#define SL_ASSERT(cond) \
    ((cond) ? (void)0 : sl_assert_fail(#cond, __FILE__, __LINE__))

/* Called by SL_ASSERT; does not return. */
SL_API void sl_assert_fail(const char *expr, const char *file, int line)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((noreturn))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif /* SCILOOP_STATUS_H */
