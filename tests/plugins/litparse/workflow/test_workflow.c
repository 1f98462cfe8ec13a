/* test_workflow.c — the shipped workflows/literature-survey.xml runs through the sciloop CLI on the demo corpus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sciloop/artifact.h>

#include "fake_host.h"
#include "sl_test.h"

static const char *cell(const sl_table *t, size_t row, const char *col) {
    long c = sl_table_find_col(t, col);
    return c < 0 || row >= sl_table_rows(t) ? NULL : sl_table_cell(t, row, (size_t)c);
}

int main(void) {
    const char *build = getenv("SCILOOP_BUILD_DIR");
    char cli[4096];
    snprintf(cli, sizeof cli, "%s/bin/sciloop", build ? build : "build");
    struct stat sb;
    if (stat(cli, &sb) != 0) {
        fprintf(stderr, "%s not built: skipped\n", cli);
        return SL_TEST_SKIP;
    }
    char *dir = fh_tmpdir();
    if (!dir) return 1;
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' run workflows/literature-survey.xml --workdir '%s/w' --outdir '%s/out' -q > '%s/log' 2>&1", cli,
             dir, dir, dir);
    int rc = system(cmd);
    CHECK_EQ_INT(rc, 0);
    char path[4200];
    if (rc != 0) {
        snprintf(path, sizeof path, "%s/log", dir);
        char *log = fh_read(path, NULL);
        fprintf(stderr, "%s\n", log ? log : "(no log)");
        free(log);
    }
    /* the merged set: 185 parsed, the 5 entries the two arXiv pages share merged */
    snprintf(path, sizeof path, "%s/out/documents.jsonl", dir);
    CHECK_EQ_INT(fh_lines(path), 180);
    snprintf(path, sizeof path, "%s/out/duplicates.csv", dir);
    sl_table *t = NULL;
    CHECK(sl_table_read(path, &t) == SL_OK);
    if (t) {
        CHECK_EQ_INT(sl_table_rows(t), 5);
        for (size_t r = 0; r < sl_table_rows(t); r++) CHECK_STR(cell(t, r, "documents"), "2");
        sl_table_destroy(t);
    }
    snprintf(path, sizeof path, "%s/out/stats.csv", dir);
    t = NULL;
    CHECK(sl_table_read(path, &t) == SL_OK);
    if (t) {
        CHECK_STR(cell(t, 0, "source"), "all");
        CHECK_STR(cell(t, 0, "documents"), "180");
        size_t merged_row = 0;
        for (size_t r = 0; r < sl_table_rows(t); r++)
            if (!strcmp(cell(t, r, "source"), "all") && !strcmp(cell(t, r, "field"), "merged")) merged_row = r;
        CHECK_STR(cell(t, merged_row, "present"), "5");
        sl_table_destroy(t);
    }
    snprintf(path, sizeof path, "%s/out/files.csv", dir);
    t = NULL;
    CHECK(sl_table_read(path, &t) == SL_OK);
    if (t) {
        CHECK_EQ_INT(sl_table_rows(t), 13); /* README.md excluded */
        for (size_t r = 0; r < sl_table_rows(t); r++) CHECK_STR(cell(t, r, "status"), "ok");
        sl_table_destroy(t);
    }
    /* a second run reuses every step from the cache */
    snprintf(cmd, sizeof cmd, "'%s' run workflows/literature-survey.xml --workdir '%s/w' --outdir '%s/out' > '%s/log2' 2>&1", cli,
             dir, dir, dir);
    CHECK_EQ_INT(system(cmd), 0);
    snprintf(path, sizeof path, "%s/log2", dir);
    char *log2 = fh_read(path, NULL);
    CHECK_CONTAINS(log2, "3 reused from cache");
    free(log2);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!sl_test_failures) CHECK(system(cmd) == 0);
    free(dir);
    return SL_TEST_DONE();
}
