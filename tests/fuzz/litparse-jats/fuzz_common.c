/* fuzz_common.c — shared body of the litparse XML fuzz targets: parse, serialise, check, never crash. */
#include "fuzz_common.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct sink_state {
    lp_buf line;
    size_t docs;
} sink_state;

static sl_status emit(void *user, lp_doc *d) {
    sink_state *s = user;
    s->line.n = 0;
    if (lp_doc_to_json(d, &s->line) != 0) return sl_set_error(SL_ERR_NOMEM, "out of memory");
    /* every line the writer makes is one valid JSON object */
    json_error_t err;
    json_t *o = json_loadb(s->line.p, s->line.n, 0, &err);
    if (!o || !json_is_object(o) || s->line.p[s->line.n - 1] != '\n') abort();
    json_decref(o);
    s->docs++;
    return SL_OK;
}

static sl_status del(void *user, const char *pmid) {
    (void)user;
    if (!pmid || !*pmid) abort();
    return SL_OK;
}

static void note(void *user, const char *msg) {
    (void)user;
    if (!msg) abort();
}

void lp_fuzz_one(const uint8_t *data, size_t size, lp_format fmt) {
    lp_options o;
    memset(&o, 0, sizeof o);
    o.header = -1;
    o.max_record_bytes = 8u << 20; /* small enough that the fuzzer meets the limit */
    o.max_file_bytes = 8u << 20;
    for (int pass = 0; pass < 2; pass++) {
        sink_state s;
        memset(&s, 0, sizeof s);
        lp_sink sink = {emit, del, note, &s};
        lp_file_result r;
        sl_status st = lp_parse_mem(data, size, "fuzz.xml", pass ? LP_FMT_UNKNOWN : fmt, &o, &sink, &r);
        if (st != SL_OK) {
            /* a refusal names the input */
            const char *m = sl_last_error();
            if (!m || !strstr(m, "fuzz.xml")) abort();
        } else if (r.documents != s.docs) {
            abort();
        }
        lp_buf_free(&s.line);
    }
    (void)lp_detect(data, size, "fuzz.xml");
}
