/* json.h — a small strict JSON reader (RFC 8259) with hard bounds, for safetensors headers and checkpoint indexes. */
#ifndef SCILOOP_KERNELS_JSON_H
#define SCILOOP_KERNELS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sli_jtype { SLI_JNULL, SLI_JBOOL, SLI_JNUM, SLI_JSTR, SLI_JARR, SLI_JOBJ } sli_jtype;

typedef struct sli_jnode sli_jnode;
struct sli_jnode {
    sli_jtype type;
    bool b;                 /* JBOOL */
    bool is_int;            /* JNUM written without fraction/exponent and fits int64 */
    int64_t i;              /* JNUM, when is_int */
    double num;             /* JNUM */
    const char *str;        /* JSTR: decoded UTF-8, NUL-terminated (may contain \0 from \u0000) */
    size_t len;             /* JSTR length; JARR/JOBJ member count */
    sli_jnode **items;      /* JARR elements / JOBJ values */
    const char **keys;      /* JOBJ keys (decoded, NUL-terminated) */
    size_t *key_lens;
    size_t offset;          /* byte offset of the value in the text (for messages) */
};

typedef struct sli_json sli_json;

/* Parse `len` bytes (not NUL-terminated) as one JSON value. Rejects invalid UTF-8, control
 * characters in strings, lone surrogates, leading zeros, trailing garbage, nesting deeper than
 * max_depth. On failure returns NULL and writes "byte N: what was wrong" into err. The tree
 * lives until sli_json_free. */
sli_json *sli_json_parse(const char *text, size_t len, int max_depth, char *err, size_t err_size);

/* Root of a parsed document. */
const sli_jnode *sli_json_root(const sli_json *doc);

/* Free a document; NULL is a no-op. */
void sli_json_free(sli_json *doc);

/* Member of an object by key (first match) or NULL. */
const sli_jnode *sli_json_get(const sli_jnode *obj, const char *key);

#endif /* SCILOOP_KERNELS_JSON_H */
