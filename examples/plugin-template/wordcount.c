/* wordcount.c — a complete sciloop plugin: one op that counts words in text files and writes a CSV table. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sciloop/sciloop.h>

/* A tiny open-addressing table of words; the op owns it for one run only, so two steps can
 * run this op at the same time on different threads (no global state). */
typedef struct {
    char **words;
    long *counts;
    size_t cap, n;
} counter;

static unsigned long hash_word(const char *s) {
    unsigned long h = 5381;
    while (*s) h = h * 33 + (unsigned char)*s++;
    return h;
}

static int counter_add(counter *c, const char *w) {
    if ((c->n + 1) * 2 > c->cap) { /* grow to keep the table at most half full */
        size_t ncap = c->cap ? c->cap * 2 : 1024;
        char **nw = calloc(ncap, sizeof *nw);
        long *nc = calloc(ncap, sizeof *nc);
        if (!nw || !nc) {
            free(nw);
            free(nc);
            return -1;
        }
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->words[i]) continue;
            size_t j = hash_word(c->words[i]) & (ncap - 1);
            while (nw[j]) j = (j + 1) & (ncap - 1);
            nw[j] = c->words[i];
            nc[j] = c->counts[i];
        }
        free(c->words);
        free(c->counts);
        c->words = nw;
        c->counts = nc;
        c->cap = ncap;
    }
    size_t j = hash_word(w) & (c->cap - 1);
    while (c->words[j] && strcmp(c->words[j], w) != 0) j = (j + 1) & (c->cap - 1);
    if (!c->words[j]) {
        if (!(c->words[j] = strdup(w))) return -1;
        c->n++;
    }
    c->counts[j]++;
    return 0;
}

static void counter_free(counter *c) {
    for (size_t i = 0; i < c->cap; i++) free(c->words[i]);
    free(c->words);
    free(c->counts);
}

typedef struct {
    const char *word;
    long count;
} entry;

static int by_count(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->word, y->word); /* ties in a fixed order, so the output is deterministic */
}

static sl_status wordcount_run(const sl_host *host, sl_op_ctx *ctx) {
    int64_t min_length = 1, top = 0;
    host->param_int(ctx, "min_length", &min_length);
    host->param_int(ctx, "top", &top);
    int lowercase = 1;
    host->param_bool(ctx, "lowercase", &lowercase);

    counter c = {0};
    size_t n_inputs = host->input_count(ctx, "text");
    for (size_t i = 0; i < n_inputs; i++) {
        const char *path = host->input_path(ctx, "text", i);
        FILE *f = fopen(path, "rb");
        if (!f) {
            counter_free(&c);
            return host->fail(ctx, SL_ERR_IO, "%s: cannot open for reading", path);
        }
        char word[256];
        size_t len = 0;
        int ch;
        long line = 1;
        do {
            ch = fgetc(f);
            if (ch != EOF && (isalnum(ch) || ch >= 0x80)) { /* bytes of UTF-8 letters count as letters */
                if (len + 1 < sizeof word) word[len++] = (char)(lowercase ? tolower(ch) : ch);
                continue;
            }
            if (ch == '\n') line++;
            if (len >= (size_t)min_length) {
                word[len] = '\0';
                if (counter_add(&c, word) != 0) {
                    fclose(f);
                    counter_free(&c);
                    return host->fail(ctx, SL_ERR_NOMEM, "%s:%ld: out of memory counting words", path, line);
                }
            }
            len = 0;
        } while (ch != EOF);
        fclose(f);
        host->progress(ctx, (double)(i + 1), (double)n_inputs, "files counted");
        if (host->cancelled(ctx)) {
            counter_free(&c);
            return host->fail(ctx, SL_ERR_CANCELLED, "cancelled");
        }
    }

    entry *all = malloc((c.n + 1) * sizeof *all);
    if (!all) {
        counter_free(&c);
        return host->fail(ctx, SL_ERR_NOMEM, "out of memory sorting %zu words", c.n);
    }
    size_t k = 0;
    for (size_t i = 0; i < c.cap; i++)
        if (c.words[i]) all[k++] = (entry){c.words[i], c.counts[i]};
    qsort(all, k, sizeof *all, by_count);
    if (top > 0 && (size_t)top < k) k = (size_t)top;

    /* the output is a `table`: a CSV file with a header row, written atomically */
    sl_csv_writer *w;
    sl_status st = sl_csv_open(host->output_path(ctx, "counts"), &w);
    if (st == SL_OK) {
        const char *header[] = {"word", "count"};
        st = sl_csv_write_row(w, header, 2);
        for (size_t i = 0; i < k && st == SL_OK; i++) {
            char num[32];
            snprintf(num, sizeof num, "%ld", all[i].count);
            const char *row[] = {all[i].word, num};
            st = sl_csv_write_row(w, row, 2);
        }
        if (st == SL_OK) st = sl_csv_commit(w);
        sl_csv_destroy(w);
    }
    host->log(ctx, SL_LOG_INFO, "%zu distinct words, %zu written", c.n, k);
    free(all);
    counter_free(&c);
    if (st != SL_OK) return host->fail(ctx, st, "%s", sl_last_error());
    return SL_OK;
}

/* The descriptors are static and const: describing the plugin runs no code. */
static const sl_port_desc wordcount_inputs[] = {
    {.struct_size = sizeof(sl_port_desc), .name = "text", .type = "file", .flags = SL_PORT_MULTI,
     .doc = "Text files to count words in."},
};
static const sl_port_desc wordcount_outputs[] = {
    {.struct_size = sizeof(sl_port_desc), .name = "counts", .type = "table",
     .doc = "CSV with columns word,count, most frequent first."},
};
static const sl_param_desc wordcount_params[] = {
    {.struct_size = sizeof(sl_param_desc), .name = "min_length", .type = SL_PARAM_INT, .default_value = "1", .min = "1", .max = "100",
     .doc = "Ignore words shorter than this many bytes."},
    {.struct_size = sizeof(sl_param_desc), .name = "top", .type = SL_PARAM_INT, .default_value = "0", .min = "0",
     .doc = "Keep only the most frequent N words (0 keeps all)."},
    {.struct_size = sizeof(sl_param_desc), .name = "lowercase", .type = SL_PARAM_BOOL, .default_value = "true",
     .doc = "Fold ASCII letters to lower case before counting."},
};
static const sl_op_desc ops[] = {
    {.struct_size = sizeof(sl_op_desc), .name = "count", .summary = "Count words in text files",
     .inputs = wordcount_inputs, .n_inputs = 1, .outputs = wordcount_outputs, .n_outputs = 1,
     .params = wordcount_params, .n_params = 3, .flags = SL_OP_DETERMINISTIC, .run = wordcount_run},
};
static const sl_plugin plugin = {
    .struct_size = sizeof(sl_plugin), .abi_major = SL_ABI_MAJOR, .abi_minor = SL_ABI_MINOR,
    .name = "wordcount", .version = "1.0.0", .license = "MIT",
    .summary = "Word frequencies of text files (the sciloop plugin template)",
    .ops = ops, .n_ops = sizeof ops / sizeof ops[0],
};

/* The one exported symbol. */
SL_PLUGIN_DEFINE(plugin)
