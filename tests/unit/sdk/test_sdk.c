/* test_sdk.c — libsciloop's helpers: SHA-256 (both code paths), artifact hashes, the CSV reader and writer, errors. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sciloop/sciloop.h>

#include "sha256.h"
#include "sl_test.h"

static void hex_of(const void *data, size_t len, char hex[65]) {
    sli_sha256 c;
    uint8_t md[32];
    sli_sha256_init(&c);
    /* feed in uneven pieces to exercise the buffering */
    const uint8_t *p = data;
    size_t step = 1;
    while (len) {
        size_t n = step < len ? step : len;
        sli_sha256_update(&c, p, n);
        p += n;
        len -= n;
        step = step * 3 + 1;
    }
    sli_sha256_final(&c, md);
    for (int i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02x", md[i]);
}

static void test_sha256_vectors(int portable) {
    sli_sha256_force_portable(portable);
    char hex[65];
    /* FIPS 180-4 / NIST CSRC examples */
    hex_of("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(m448, strlen(m448), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    hex_of(m896, strlen(m896), hex);
    CHECK_STR(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    hex_of(million, 1000000, hex);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
    sli_sha256_force_portable(0);
}

/* Both implementations agree on every length around the block boundaries and on big inputs. */
static void test_sha256_paths_agree(void) {
    size_t n = 1 << 20;
    uint8_t *buf = malloc(n);
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    size_t lens[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4095, 65537, 1 << 20};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        char a[65], b[65];
        sli_sha256_force_portable(1);
        hex_of(buf, lens[k], a);
        sli_sha256_force_portable(0);
        hex_of(buf, lens[k], b);
        CHECK_MSG(strcmp(a, b) == 0, "length %zu: portable %s vs accelerated %s", lens[k], a, b);
    }
    char h1[65];
    sl_sha256_hex("abc", 3, h1);
    CHECK_STR(h1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    free(buf);
}

static char tmpdir[256];

static void write_file(const char *rel, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_artifact_hash(void) {
    char a[512], h1[65], h2[65], h3[65];
    snprintf(a, sizeof a, "%s/d", tmpdir);
    mkdir(a, 0755);
    write_file("d/x.txt", "hello");
    snprintf(a, sizeof a, "%s/d/sub", tmpdir);
    mkdir(a, 0755);
    write_file("d/sub/y.txt", "world");
    snprintf(a, sizeof a, "%s/d", tmpdir);
    CHECK(sl_artifact_hash(a, h1) == SL_OK);
    /* the documented canonical form: "sciloop-dir-1\n", then per entry sorted by path:
     * path NUL kind NUL hash LF (kind d: directory, f: file, x: executable, l: link) */
    {
        char hy[65], hx[65], expect[65];
        sl_sha256_hex("world", 5, hy);
        sl_sha256_hex("hello", 5, hx);
        char canon[512];
        size_t n = 0;
        n += (size_t)sprintf(canon + n, "sciloop-dir-1\n");
        memcpy(canon + n, "sub\0d\0\n", 7);
        n += 7;
        n += (size_t)sprintf(canon + n, "sub/y.txt");
        canon[n++] = 0;
        canon[n++] = 'f';
        canon[n++] = 0;
        n += (size_t)sprintf(canon + n, "%s\n", hy);
        n += (size_t)sprintf(canon + n, "x.txt");
        canon[n++] = 0;
        canon[n++] = 'f';
        canon[n++] = 0;
        n += (size_t)sprintf(canon + n, "%s\n", hx);
        sl_sha256_hex(canon, n, expect);
        CHECK_STR(h1, expect);
    }
    /* same names and contents, different mtimes: same hash */
    sleep(1);
    write_file("d/x.txt", "hello");
    CHECK(sl_artifact_hash(a, h2) == SL_OK);
    CHECK_STR(h1, h2);
    write_file("d/x.txt", "hellO");
    CHECK(sl_artifact_hash(a, h3) == SL_OK);
    CHECK(strcmp(h1, h3) != 0);
    /* a file's hash is the SHA-256 of its bytes */
    char f[512];
    snprintf(f, sizeof f, "%s/d/sub/y.txt", tmpdir);
    CHECK(sl_artifact_hash(f, h1) == SL_OK);
    sl_sha256_hex("world", 5, h2);
    CHECK_STR(h1, h2);
    snprintf(f, sizeof f, "%s/missing", tmpdir);
    CHECK(sl_artifact_hash(f, h1) == SL_ERR_IO);
    CHECK_CONTAINS(sl_last_error(), "missing: cannot stat");
}

static void test_table(void) {
    sl_table *t;
    const char *csv = "\xEF\xBB\xBFname,value,note\r\nalpha,1.5,\"with, comma\"\r\n\"be\"\"ta\",2,\"two\nlines\"\n";
    CHECK(sl_table_parse("t.csv", csv, strlen(csv), &t) == SL_OK);
    CHECK_EQ_INT(sl_table_rows(t), 2);
    CHECK_EQ_INT(sl_table_cols(t), 3);
    CHECK_STR(sl_table_col_name(t, 0), "name");
    CHECK_STR(sl_table_cell(t, 0, 2), "with, comma");
    CHECK_STR(sl_table_cell(t, 1, 0), "be\"ta");
    CHECK_STR(sl_table_cell(t, 1, 2), "two\nlines");
    CHECK_EQ_INT(sl_table_row_line(t, 1), 3);
    CHECK_EQ_INT(sl_table_find_col(t, "value"), 1);
    CHECK_EQ_INT(sl_table_find_col(t, "nope"), -1);
    double v;
    CHECK(sl_table_cell_double(t, 0, 1, &v) == SL_OK && v == 1.5);
    CHECK(sl_table_cell_double(t, 0, 0, &v) == SL_ERR_INVALID);
    CHECK_CONTAINS(sl_last_error(), "t.csv:2: column 'name', row 1: 'alpha' is not a number");
    sl_table_destroy(t);

    const char *ragged = "a,b\n1,2\n3\n";
    CHECK(sl_table_parse("r.csv", ragged, strlen(ragged), &t) == SL_ERR_PARSE);
    CHECK_CONTAINS(sl_last_error(), "r.csv:3: 1 fields; expected 2 as in the header");
    const char *open_quote = "a,b\n1,\"2\n";
    CHECK(sl_table_parse("q.csv", open_quote, strlen(open_quote), &t) == SL_ERR_PARSE);
    CHECK_CONTAINS(sl_last_error(), "q.csv:2:3: quoted field never closed");
    const char *stray = "a,b\n1,x\"y\n";
    CHECK(sl_table_parse("s.csv", stray, strlen(stray), &t) == SL_ERR_PARSE);
    CHECK_CONTAINS(sl_last_error(), "s.csv:2:4: '\"' inside an unquoted field");
    const char *dup = "a,a\n1,2\n";
    CHECK(sl_table_parse("d.csv", dup, strlen(dup), &t) == SL_ERR_PARSE);
    CHECK_CONTAINS(sl_last_error(), "column name 'a' appears twice");
    CHECK(sl_table_parse("e.csv", "", 0, &t) == SL_ERR_PARSE);
    const char *nan = "x\nnan\n";
    CHECK(sl_table_parse("n.csv", nan, strlen(nan), &t) == SL_OK);
    CHECK(sl_table_cell_double(t, 0, 0, &v) == SL_ERR_INVALID);
    CHECK_CONTAINS(sl_last_error(), "is not finite");
    sl_table_destroy(t);
}

static void test_csv_roundtrip(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/out.csv", tmpdir);
    sl_csv_writer *w;
    CHECK(sl_csv_open(path, &w) == SL_OK);
    const char *h[] = {"k", "v"};
    const char *r1[] = {"plain", "a,b"};
    const char *r2[] = {" padded ", "quote\"d\nnew line"};
    const char *r3[] = {NULL, ""};
    CHECK(sl_csv_write_row(w, h, 2) == SL_OK);
    CHECK(sl_csv_write_row(w, r1, 2) == SL_OK);
    CHECK(sl_csv_write_row(w, r2, 2) == SL_OK);
    CHECK(sl_csv_write_row(w, r3, 2) == SL_OK);
    CHECK(access(path, F_OK) != 0); /* nothing visible before the commit */
    CHECK(sl_csv_commit(w) == SL_OK);
    sl_csv_destroy(w);
    sl_table *t;
    CHECK(sl_table_read(path, &t) == SL_OK);
    CHECK_EQ_INT(sl_table_rows(t), 3);
    CHECK_STR(sl_table_cell(t, 0, 1), "a,b");
    CHECK_STR(sl_table_cell(t, 1, 0), " padded ");
    CHECK_STR(sl_table_cell(t, 1, 1), "quote\"d\nnew line");
    CHECK_STR(sl_table_cell(t, 2, 0), "");
    sl_table_destroy(t);
    /* an uncommitted writer leaves nothing behind */
    snprintf(path, sizeof path, "%s/abandoned.csv", tmpdir);
    CHECK(sl_csv_open(path, &w) == SL_OK);
    sl_csv_write_row(w, h, 2);
    sl_csv_destroy(w);
    CHECK(access(path, F_OK) != 0);
}

static void test_misc(void) {
    CHECK_STR(sl_status_name(SL_OK), "ok");
    CHECK_STR(sl_status_name(SL_ERR_CYCLE), "cycle");
    CHECK_STR(sl_status_name((sl_status)999), "unknown");
    CHECK(sl_set_error(SL_ERR_IO, "x %d", 7) == SL_ERR_IO);
    CHECK_STR(sl_last_error(), "x 7");
    CHECK(sl_last_status() == SL_ERR_IO);
    sl_set_error(SL_ERR_IO, "wrapped: %s", sl_last_error()); /* formatting from the old message is safe */
    CHECK_STR(sl_last_error(), "wrapped: x 7");
    sl_clear_error();
    CHECK_STR(sl_last_error(), "");
    CHECK_EQ_INT(sl_version_number(), SL_VERSION_NUMBER);
    double vals[] = {0.1, 1.0 / 3.0, 1e-300, 123456789.125, -2.5e17};
    for (size_t i = 0; i < 5; i++) {
        char buf[32];
        sl_format_double(vals[i], buf);
        CHECK_MSG(strtod(buf, NULL) == vals[i], "%s does not read back as %.17g", buf, vals[i]);
    }
    CHECK(sl_artifact_types_compatible("table", "any"));
    CHECK(sl_artifact_types_compatible("table", "file"));
    CHECK(!sl_artifact_types_compatible("model", "file"));
    CHECK(sl_artifact_types_compatible("model", "dir"));
    CHECK(!sl_artifact_types_compatible("table", "graph"));
    CHECK_STR(sl_artifact_type_ext("documents"), ".jsonl");
    char path[512], *data;
    size_t len;
    snprintf(path, sizeof path, "%s/atomic.txt", tmpdir);
    CHECK(sl_write_file_atomic(path, "content", 7) == SL_OK);
    CHECK(sl_read_file(path, 0, &data, &len) == SL_OK && len == 7 && strcmp(data, "content") == 0);
    free(data);
    CHECK(sl_read_file(path, 3, &data, &len) == SL_ERR_RANGE);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sl-sdk-test-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    test_sha256_vectors(1);
    test_sha256_vectors(0);
    test_sha256_paths_agree();
    test_artifact_hash();
    test_table();
    test_csv_roundtrip();
    test_misc();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) return 1;
    return SL_TEST_DONE();
}
