/* status.c — status names and the per-thread error message behind sciloop/status.h. */
#include <sciloop/status.h>

#include <stdio.h>
#include <stdlib.h>

static _Thread_local char last_message[4096];
static _Thread_local sl_status last_code = SL_OK;

SL_API const char *sl_status_name(sl_status status) {
    switch (status) {
    case SL_OK: return "ok";
    case SL_ERR_NOMEM: return "nomem";
    case SL_ERR_INVALID: return "invalid";
    case SL_ERR_IO: return "io";
    case SL_ERR_PARSE: return "parse";
    case SL_ERR_NOT_FOUND: return "not-found";
    case SL_ERR_UNSUPPORTED: return "unsupported";
    case SL_ERR_ABI: return "abi";
    case SL_ERR_CANCELLED: return "cancelled";
    case SL_ERR_TIMEOUT: return "timeout";
    case SL_ERR_RANGE: return "range";
    case SL_ERR_TYPE: return "type";
    case SL_ERR_CYCLE: return "cycle";
    case SL_ERR_DEVICE: return "device";
    case SL_ERR_INTERNAL: return "internal";
    case SL_ERR_CRASHED: return "crashed";
    case SL_ERR_FAILED: return "failed";
    case SL_ERR_MISMATCH: return "mismatch";
    }
    return "unknown";
}

SL_API const char *sl_last_error(void) { return last_message; }

SL_API sl_status sl_last_status(void) { return last_code; }

SL_API sl_status sl_set_errorv(sl_status status, const char *fmt, va_list ap) {
    /* The message may be built from the previous one (sl_set_error(s, "%s", sl_last_error())),
     * so format into a scratch buffer first. */
    char buf[sizeof last_message];
    vsnprintf(buf, sizeof buf, fmt, ap);
    snprintf(last_message, sizeof last_message, "%s", buf);
    last_code = status;
    return status;
}

SL_API sl_status sl_set_error(sl_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sl_set_errorv(status, fmt, ap);
    va_end(ap);
    return status;
}

SL_API void sl_clear_error(void) {
    last_message[0] = '\0';
    last_code = SL_OK;
}

SL_API void sl_assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "%s:%d: sciloop assertion failed: %s\n", file, line, expr);
    fflush(stderr);
    abort();
}
