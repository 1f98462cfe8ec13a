/* test_safetensors.c — safetensors round trips (all dtypes, sharded) and one test per kind of malformed file. */
#define _GNU_SOURCE
#include "tensor_test_util.h"

#include <unistd.h>

static char dir[256];

static void write_raw(const char *name, const void *data, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    fwrite(data, 1, n, f);
    fclose(f);
}

/* File = 8-byte length + header + data bytes. */
static void write_st(const char *name, const char *header, size_t hlen, size_t data_bytes, uint64_t claimed_len) {
    size_t n = 8 + hlen + data_bytes;
    unsigned char *buf = calloc(1, n);
    uint64_t L = claimed_len ? claimed_len : hlen;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(L >> (8 * i));
    memcpy(buf + 8, header, hlen);
    write_raw(name, buf, n);
    free(buf);
}

/* Open name; expect failure `st` whose message contains `needle`. */
static void expect_bad(const char *name, sl_status want, const char *needle) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    sl_safetensors *st = NULL;
    sl_status rc = sl_safetensors_open(path, &st);
    CHECK_MSG(rc == want, "%s: status %s, expected %s (%s)", name, sl_status_name(rc), sl_status_name(want),
              sl_last_error());
    CHECK(st == NULL);
    CHECK_CONTAINS(sl_last_error(), needle);
    CHECK_CONTAINS(sl_last_error(), name); /* the message names the file */
    sl_safetensors_close(st);
}

static void hostile(void) {
    const char *ok1 = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    /* control: the well-formed file opens */
    write_st("good.safetensors", ok1, strlen(ok1), 8, 0);
    char path[512];
    snprintf(path, sizeof path, "%s/good.safetensors", dir);
    sl_safetensors *st;
    OK(sl_safetensors_open(path, &st));
    sl_safetensors_close(st);

    write_raw("short.safetensors", "\x05\0\0", 3);
    expect_bad("short.safetensors", SL_ERR_PARSE, "truncated");
    write_st("pastend.safetensors", ok1, strlen(ok1), 8, 5000);
    expect_bad("pastend.safetensors", SL_ERR_PARSE, "past the end");
    write_st("huge.safetensors", ok1, strlen(ok1), 8, (uint64_t)200 * 1000 * 1000);
    expect_bad("huge.safetensors", SL_ERR_PARSE, "100 MB");
    /* data section shorter than the offsets claim (a truncated download) */
    write_st("truncdata.safetensors", ok1, strlen(ok1), 4, 0);
    expect_bad("truncdata.safetensors", SL_ERR_PARSE, "out of range");
    const char *oob = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
    write_st("oob.safetensors", oob, strlen(oob), 8, 0);
    expect_bad("oob.safetensors", SL_ERR_PARSE, "out of range");
    const char *overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                          "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
    write_st("overlap.safetensors", overlap, strlen(overlap), 12, 0);
    expect_bad("overlap.safetensors", SL_ERR_PARSE, "overlaps");
    const char *hole = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
    write_st("hole.safetensors", hole, strlen(hole), 12, 0);
    expect_bad("hole.safetensors", SL_ERR_PARSE, "hole");
    write_st("tail.safetensors", ok1, strlen(ok1), 16, 0);
    expect_bad("tail.safetensors", SL_ERR_PARSE, "after the last tensor");
    const char *dt = "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    write_st("dtype.safetensors", dt, strlen(dt), 8, 0);
    expect_bad("dtype.safetensors", SL_ERR_PARSE, "unknown dtype 'F33'");
    const char *sz = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
    write_st("size.safetensors", sz, strlen(sz), 8, 0);
    expect_bad("size.safetensors", SL_ERR_PARSE, "shape x dtype");
    const char *ovf = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,8]}}";
    write_st("overflow.safetensors", ovf, strlen(ovf), 8, 0);
    expect_bad("overflow.safetensors", SL_ERR_PARSE, "overflowing");
    const char *utf = "{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    write_st("utf8.safetensors", utf, strlen(utf), 8, 0);
    expect_bad("utf8.safetensors", SL_ERR_PARSE, "UTF-8");
    write_st("array.safetensors", "[1,2,3]", 7, 0, 0);
    expect_bad("array.safetensors", SL_ERR_PARSE, "must be a JSON object");
    write_st("badjson.safetensors", "{\"a\":", 5, 0, 0);
    expect_bad("badjson.safetensors", SL_ERR_PARSE, "not valid JSON");
    const char *dup = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
    write_st("dup.safetensors", dup, strlen(dup), 8, 0);
    expect_bad("dup.safetensors", SL_ERR_PARSE, "defined twice");
    const char *neg = "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}";
    write_st("neg.safetensors", neg, strlen(neg), 8, 0);
    expect_bad("neg.safetensors", SL_ERR_PARSE, "non-negative");
    const char *field = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}";
    write_st("field.safetensors", field, strlen(field), 8, 0);
    expect_bad("field.safetensors", SL_ERR_PARSE, "missing field 'data_offsets'");
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    write_st("deep.safetensors", deep, 200, 0, 0);
    expect_bad("deep.safetensors", SL_ERR_PARSE, "too deep");
    expect_bad("missing.safetensors", SL_ERR_NOT_FOUND, "missing.safetensors");
}

static void roundtrip(sl_ctx *ctx) {
    sl_dtype dts[] = { SL_F32, SL_F16, SL_BF16, SL_I32, SL_I64, SL_U8 };
    sl_tensor *ts[7];
    const char *names[] = { "f32", "f16", "bf16", "i32", "i64", "u8", "scalar" };
    for (int i = 0; i < 6; i++) {
        ts[i] = T(ctx, dts[i], 2, 3, 5);
        unsigned char *p = ts[i]->data;
        for (size_t b = 0; b < sl_tensor_nbytes(ts[i]); b++) p[b] = (unsigned char)(b * 7 + i);
    }
    ts[6] = T(ctx, SL_F32, 0, 0);
    FP(ts[6])[0] = 42.5f;
    char path[512];
    snprintf(path, sizeof path, "%s/rt.safetensors", dir);
    const char *mk[] = { "format" }, *mv[] = { "pt" };
    OK(sl_safetensors_write(ctx, path, 7, names, (const sl_tensor *const *)ts, 1, mk, mv));
    sl_safetensors *st;
    OK(sl_safetensors_open(path, &st));
    CHECK_EQ_INT(sl_safetensors_count(st), 7);
    CHECK_STR(sl_safetensors_metadata(st, "format"), "pt");
    for (int i = 0; i < 7; i++) {
        sl_tensor *t;
        OK(sl_safetensors_get(st, names[i], &t));
        CHECK_EQ_INT(t->dtype, ts[i]->dtype);
        CHECK(sl_tensor_same_shape(t, ts[i]));
        CHECK(memcmp(t->data, ts[i]->data, sl_tensor_nbytes(t)) == 0);
        CHECK(((uintptr_t)t->data % sl_dtype_size(t->dtype)) == 0);
        sl_tensor_destroy(t);
    }
    /* zero copy: the tensor points into the mapping and outlives the handle */
    sl_tensor *keep;
    OK(sl_safetensors_get(st, "scalar", &keep));
    sl_safetensors_close(st);
    CHECK(FP(keep)[0] == 42.5f);
    FP(keep)[0] = 1.0f; /* private mapping: writable, the file is untouched */
    sl_tensor_destroy(keep);
    OK(sl_safetensors_open(path, &st));
    OK(sl_safetensors_get(st, "scalar", &keep));
    CHECK(FP(keep)[0] == 42.5f);
    sl_tensor_destroy(keep);
    CHECK(sl_safetensors_get(st, "nope", &keep) == SL_ERR_NOT_FOUND);
    sl_safetensors_close(st);
    /* a strided view is written as its logical contents */
    sl_tensor *tr;
    OK(sl_tensor_transpose(ts[0], 0, 1, &tr));
    const char *n1[] = { "t" };
    OK(sl_safetensors_write(ctx, path, 1, n1, (const sl_tensor *const *)&tr, 0, NULL, NULL));
    OK(sl_safetensors_open(path, &st));
    sl_tensor *back;
    OK(sl_safetensors_get(st, "t", &back));
    CHECK_EQ_INT(back->shape[0], 5);
    CHECK(FP(back)[1 * 3 + 2] == FP(ts[0])[2 * 5 + 1]);
    sl_tensor_destroy(back);
    sl_safetensors_close(st);
    sl_tensor_destroy(tr);
    /* duplicate names are refused and leave no file behind */
    const char *dn[] = { "x", "x" };
    snprintf(path, sizeof path, "%s/dupw.safetensors", dir);
    CHECK(sl_safetensors_write(ctx, path, 2, dn, (const sl_tensor *const *)ts, 0, NULL, NULL) == SL_ERR_INVALID);
    CHECK(access(path, F_OK) != 0);
    /* sharded: four shards (greedy under 130 bytes) + index, reopened through the directory */
    char sdir[512];
    snprintf(sdir, sizeof sdir, "%s/sharded", dir);
    OK(sl_safetensors_write_sharded(ctx, sdir, 7, names, (const sl_tensor *const *)ts, 130));
    OK(sl_safetensors_open(sdir, &st));
    CHECK_EQ_INT(sl_safetensors_count(st), 7);
    for (int i = 0; i < 7; i++) {
        sl_tensor *t;
        OK(sl_safetensors_get(st, names[i], &t));
        CHECK(memcmp(t->data, ts[i]->data, sl_tensor_nbytes(t)) == 0);
        sl_tensor_destroy(t);
    }
    sl_safetensors_close(st);
    char ipath[600];
    snprintf(ipath, sizeof ipath, "%s/model.safetensors.index.json", sdir);
    CHECK(access(ipath, F_OK) == 0);
    /* an index naming a file outside its directory, or a tensor its shard lacks */
    const char *bad1 = "{\"weight_map\":{\"f32\":\"../rt.safetensors\"}}";
    write_raw("sharded/bad1.index.json", bad1, strlen(bad1));
    snprintf(ipath, sizeof ipath, "%s/sharded/bad1.index.json", dir);
    CHECK(sl_safetensors_open(ipath, &st) == SL_ERR_PARSE);
    CHECK_CONTAINS(sl_last_error(), "same directory");
    const char *bad2 = "{\"weight_map\":{\"ghost\":\"model-00001-of-00004.safetensors\"}}";
    write_raw("sharded/bad2.index.json", bad2, strlen(bad2));
    snprintf(ipath, sizeof ipath, "%s/sharded/bad2.index.json", dir);
    CHECK(sl_safetensors_open(ipath, &st) == SL_ERR_PARSE);
    CHECK_CONTAINS(sl_last_error(), "'ghost' is not in shard");
    for (int i = 0; i < 7; i++) sl_tensor_destroy(ts[i]);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/sl-st-test-XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    sl_ctx_options o = SL_CTX_OPTIONS_INIT;
    o.device = SL_DEVICE_CPU;
    sl_ctx *ctx;
    OK(sl_ctx_create(&o, &ctx));
    hostile();
    roundtrip(ctx);
    sl_ctx_destroy(ctx);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return SL_TEST_DONE();
}
