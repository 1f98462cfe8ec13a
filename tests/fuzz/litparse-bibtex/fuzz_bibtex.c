/* fuzz_bibtex.c — libFuzzer target: the BibTeX parser, name-list parser and LaTeX converter on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bibtex.h"
#include "latex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    /* small limits so that the fuzzer reaches them quickly; the defaults are exercised too */
    lp_bib_limits small = {0};
    small.max_depth = 6;
    small.max_value_bytes = 512;
    small.max_expand_bytes = 4096;
    small.max_entries = 16;
    small.max_names = 8;
    small.max_diags = 8;
    for (int pass = 0; pass < 2; pass++) {
        lp_bib *b = NULL;
        if (lp_bib_parse(text, size, "fuzz.bib", pass ? &small : NULL, &b) != SL_OK) abort();
        for (size_t k = 0; k < b->nentries; k++) {
            const lp_bib_entry *e = &b->entries[k];
            if (!e->type || !e->key) abort();
            for (size_t f = 0; f < e->nfields; f++)
                if (!e->fields[f].value || !e->fields[f].raw || !e->fields[f].name) abort();
            free(lp_bib_entry_title(e));
            (void)lp_bib_item_type(e);
            (void)lp_bib_entry_year(e);
        }
        for (size_t k = 0; k < b->ndiags; k++)
            if (!b->diags[k].message || strncmp(b->diags[k].message, "fuzz.bib:", 9) != 0) abort();
        lp_bib_destroy(b);
    }
    /* the converter and the name parser are also called on raw values directly */
    char *out = NULL;
    if (lp_latex_to_utf8(text, size, LP_LATEX_TEXT, &out, NULL) == SL_OK) free(out);
    if (lp_latex_to_utf8(text, size, LP_LATEX_VERBATIM, &out, NULL) == SL_OK) free(out);
    lp_bib_name *names = NULL;
    size_t n = 0;
    if (lp_bib_names_parse(text, size, 64, &names, &n, NULL) == SL_OK)
        for (size_t k = 0; k < n; k++)
            if (!names[k].family) abort();
    lp_bib_names_free(names, n);
    return 0;
}
