/* test_sentences.c — sentence splitting on real article text (JATS/PubMed), edge cases and offsets. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentences.h"
#include "sl_test.h"

/* Split `text` and check the sentences are exactly the NULL-terminated list that follows. */
static void expect(const char *text, ...)
{
    lp_spans sp = {0};
    CHECK_EQ_INT(lp_sentences_split(text, strlen(text), &sp), SL_OK);
    va_list ap;
    va_start(ap, text);
    size_t k = 0;
    int ok = 1;
    for (const char *w; (w = va_arg(ap, const char *)) != NULL; k++) {
        if (k >= sp.n || strlen(w) != sp.v[k].end - sp.v[k].start ||
            memcmp(w, text + sp.v[k].start, strlen(w)) != 0) ok = 0;
    }
    va_end(ap);
    if (k != sp.n) ok = 0;
    CHECK_MSG(ok, "split of \"%s\"", text);
    if (!ok) {
        fprintf(stderr, "  got %zu:", sp.n);
        for (size_t i = 0; i < sp.n; i++)
            fprintf(stderr, "\n   [%.*s]", (int)(sp.v[i].end - sp.v[i].start), text + sp.v[i].start);
        fputc('\n', stderr);
    }
    lp_spans_free(&sp);
}

int main(void)
{
    expect("Hello World. My name is Jonas.", "Hello World.", "My name is Jonas.", NULL);
    return SL_TEST_DONE();
}
