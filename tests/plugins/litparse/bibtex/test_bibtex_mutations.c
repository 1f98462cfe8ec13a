/* test_bibtex_mutations.c — random mutations of the corpus BibTeX files must parse without a crash,
 * a leak or a broken result (run it in an ASan/UBSan build to catch memory errors).
 *
 * Deterministic: a fixed-seed generator picks, per mutant, 1–8 edits among flipping a byte,
 * deleting or duplicating a span, inserting BibTeX-significant characters ("{", "}", "@", "\"",
 * "#", ",", "=", "\\", "%", "$", "~"), truncating, or splicing in another file's bytes. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bibtex.h"
#include "sl_test.h"

#define MUTANTS_PER_FILE 60
#define MAX_SIZE (1 << 18)   /* mutate at most the first 256 KiB of a file, to keep the run short */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = malloc(MAX_SIZE);
    *len = b ? fread(b, 1, MAX_SIZE, f) : 0;
    fclose(f);
    return b;
}

/* Apply one random edit to buf (capacity cap); returns the new length. */
static size_t mutate(char *buf, size_t len, size_t cap, const char *other, size_t olen)
{
    static const char SPECIAL[] = "{}@\"#,=\\%$~\n ";
    size_t pos = below(len + 1);
    switch (below(7)) {
    case 0:                                     /* flip bits */
        if (len) buf[below(len)] ^= (char)(1u << below(8));
        return len;
    case 1: {                                   /* delete a span */
        size_t n = below(len - pos < 64 ? len - pos + 1 : 64);
        memmove(buf + pos, buf + pos + n, len - pos - n);
        return len - n;
    }
    case 2: {                                   /* duplicate a span */
        size_t n = below(len - pos < 256 ? len - pos + 1 : 256);
        if (len + n > cap) return len;
        memmove(buf + pos + n, buf + pos, len - pos);
        return len + n;
    }
    case 3:                                     /* insert a special character */
        if (len + 1 > cap) return len;
        memmove(buf + pos + 1, buf + pos, len - pos);
        buf[pos] = SPECIAL[below(sizeof SPECIAL - 1)];
        return len + 1;
    case 4:                                     /* truncate */
        return pos;
    case 5: {                                   /* splice from another file */
        size_t from = below(olen), n = below(olen - from < 512 ? olen - from + 1 : 512);
        if (len + n > cap) return len;
        memmove(buf + pos + n, buf + pos, len - pos);
        memcpy(buf + pos, other + from, n);
        return len + n;
    }
    default:                                    /* random bytes, including invalid UTF-8 and NUL */
        if (len) for (int k = 0; k < 4; k++) buf[below(len)] = (char)rnd();
        return len;
    }
}

/* Invariants every result must satisfy. */
static int check_result(const lp_bib *b, const char *name)
{
    int ok = 1;
    for (size_t k = 0; k < b->nentries; k++) {
        const lp_bib_entry *e = &b->entries[k];
        ok &= e->type && e->key && e->line >= 1 && (e->nfields == 0 || e->fields);
        for (size_t f = 0; f < e->nfields; f++)
            ok &= e->fields[f].name && e->fields[f].value && e->fields[f].raw && e->fields[f].line >= 1;
        for (size_t l = 0; l < e->nnames; l++)
            for (size_t i = 0; i < e->names[l].n; i++) ok &= e->names[l].names[i].family != NULL;
        (void)lp_bib_item_type(e);
        (void)lp_bib_entry_year(e);
        free(lp_bib_entry_title(e));
    }
    for (size_t k = 0; k < b->ndiags; k++)
        ok &= b->diags[k].message && strncmp(b->diags[k].message, name, strlen(name)) == 0 &&
              b->diags[k].line >= 1;
    return ok;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void)
{
    const char *shared = getenv("SCILOOP_SHARED_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/corpus/bibtex", shared ? shared : "../shared");
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "skipped: %s not found (set SCILOOP_SHARED_DIR)\n", dir);
        return SL_TEST_SKIP;
    }
    char *names[512];
    size_t nfiles = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL && nfiles < 512;) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".bib") == 0) names[nfiles++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, nfiles, sizeof *names, cmp_str);
    CHECK(nfiles > 0);
    size_t cap = 2 * MAX_SIZE, mutants = 0, entries = 0, diags = 0;
    char *buf = malloc(cap);
    char *texts[512];
    size_t lens[512];
    for (size_t f = 0; f < nfiles; f++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[f]);
        texts[f] = read_all(path, &lens[f]);
        CHECK_MSG(texts[f] != NULL, "cannot read %s", path);
    }
    for (size_t f = 0; f < nfiles; f++) {
        if (!texts[f]) continue;
        for (int m = 0; m < MUTANTS_PER_FILE; m++) {
            size_t len = lens[f];
            memcpy(buf, texts[f], len);
            int edits = 1 + (int)below(8);
            size_t o = below(nfiles);
            for (int k = 0; k < edits; k++)
                len = mutate(buf, len, cap, texts[o] ? texts[o] : "", texts[o] ? lens[o] : 0);
            lp_bib *b = NULL;
            sl_status st = lp_bib_parse(buf, len, names[f], NULL, &b);
            CHECK_MSG(st == SL_OK && b, "%s mutant %d: status %d", names[f], m, (int)st);
            if (b) {
                CHECK_MSG(check_result(b, names[f]), "%s mutant %d: broken result", names[f], m);
                entries += b->nentries;
                diags += b->ndiags;
            }
            lp_bib_destroy(b);
            mutants++;
        }
    }
    printf("%zu mutants of %zu files parsed: %zu entries, %zu diagnostics\n", mutants, nfiles, entries, diags);
    for (size_t f = 0; f < nfiles; f++) { free(texts[f]); free(names[f]); }
    free(buf);
    return SL_TEST_DONE();
}
