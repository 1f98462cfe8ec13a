/* test_ops.c — the validate ops called through a fake host: params, CSV in, report and tables out, errors naming column and row. */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sciloop/artifact.h>

#include "fake_host.h"
#include "sl_test.h"
#include "vs_stats.h"

const sl_plugin *sciloop_plugin_v1(void);

static char tmpdir[256];
static int counter;

static const char *write_tmp(const char *name, const char *text) {
    static char paths[64][512];
    char *p = paths[counter++ % 64];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
    return p;
}

static const char *out_dir(const char *name) {
    static char paths[64][512];
    char *p = paths[counter++ % 64];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    mkdir(p, 0755);
    return p;
}

static const char *out_file(const char *name) {
    static char paths[64][512];
    char *p = paths[counter++ % 64];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static json_t *load_report(const char *dir) {
    char p[600];
    snprintf(p, sizeof p, "%s/report.json", dir);
    return json_load_file(p, 0, NULL);
}

static double jnum(json_t *o, const char *path) {
    /* dotted path with array indices: "tests.0.p" */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = o;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
    return json_is_number(cur) ? json_number_value(cur) : NAN;
}

static const char *jstr(json_t *o, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = o;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
    return json_string_value(cur);
}

static const char *LONG =
    "id,group,value,x,y\n"
    "1,a,5.1,1,2.0\n2,a,4.9,2,3.9\n3,a,6.2,3,6.1\n4,a,5.8,4,8.2\n5,a,6.0,5,9.8\n"
    "6,b,7.1,6,12.1\n7,b,7.9,7,13.8\n8,b,6.8,8,16.3\n9,b,8.2,9,18.0\n10,b,7.5,10,19.9\n";

static void test_compare_welch(void) {
    fh_ctx c;
    fh_init(&c, "compare");
    fh_input(&c, "data", write_tmp("long.csv", LONG));
    fh_param(&c, "value", "value");
    fh_param(&c, "group", "group");
    const char *rep = out_dir("cmp_report"), *res = out_file("cmp_results.csv");
    fh_output(&c, "report", rep);
    fh_output(&c, "results", res);
    CHECK_EQ_INT(fh_run(&c), SL_OK);
    double a[] = {5.1, 4.9, 6.2, 5.8, 6.0}, b[] = {7.1, 7.9, 6.8, 8.2, 7.5};
    vs_result r;
    vs_ttest_ind(a, 5, b, 5, 0, VS_TWO_SIDED, &r);
    json_t *j = load_report(rep);
    CHECK(j != NULL);
    CHECK_NEAR(jnum(j, "tests.0.statistic"), r.statistic, 1e-14);
    CHECK_NEAR(jnum(j, "tests.0.p"), r.p, 1e-14);
    CHECK_STR(jstr(j, "tests.0.effect.name"), "hedges_g");
    CHECK_NEAR(jnum(j, "tests.0.groups.0.mean"), 5.6, 1e-15);
    CHECK(jnum(j, "tests.0.effect.ci_low") < jnum(j, "tests.0.effect.value"));
    json_decref(j);
    sl_table *t;
    CHECK_EQ_INT(sl_table_read(res, &t), SL_OK);
    CHECK_STR(sl_table_cell(t, 0, 0), "welch");
    CHECK_NEAR(strtod(sl_table_cell(t, 0, 2), NULL), r.p, 1e-15);
    sl_table_destroy(t);
    char md[600];
    snprintf(md, sizeof md, "%s/report.md", rep);
    char *text;
    CHECK_EQ_INT(sl_read_file(md, 0, &text, NULL), SL_OK);
    CHECK_CONTAINS(text, "welch");
    free(text);
}

static void test_compare_variants(void) {
    const char *tests[] = {"student", "paired", "mannwhitney", "wilcoxon"};
    for (int i = 0; i < 4; i++) {
        fh_ctx c;
        fh_init(&c, "compare");
        fh_input(&c, "data", write_tmp("long.csv", LONG));
        fh_param(&c, "test", tests[i]);
        fh_param(&c, "x", "x");
        fh_param(&c, "y", "y");
        fh_param(&c, "alternative", "less");
        const char *rep = out_dir("var_report");
        fh_output(&c, "report", rep);
        CHECK_EQ_INT(fh_run(&c), SL_OK);
        json_t *j = load_report(rep);
        CHECK(j && jnum(j, "tests.0.p") > 0 && jnum(j, "tests.0.p") < 0.05);
        CHECK_STR(jstr(j, "tests.0.alternative"), "less");
        json_decref(j);
    }
}

static void expect_fail(const char *op, const char *data, const char **params, const char *needle) {
    fh_ctx c;
    fh_init(&c, op);
    fh_input(&c, "data", write_tmp("bad.csv", data));
    for (int i = 0; params[i]; i += 2) fh_param(&c, params[i], params[i + 1]);
    fh_output(&c, "report", out_dir("bad_report"));
    sl_status st = fh_run(&c);
    CHECK_MSG(st != SL_OK, "%s should fail (%s)", op, needle);
    CHECK_CONTAINS(c.fail_msg, needle);
}

static void test_bad_cells(void) {
    const char *p[] = {"value", "value", "group", "group", NULL};
    expect_fail("compare", "group,value\na,1\na,2\nb,abc\nb,4\n", p, "column 'value', row 3 (line 4): 'abc' is not a finite number");
    expect_fail("compare", "group,value\na,1\na,nan\nb,3\nb,4\n", p, "column 'value', row 2 (line 3): 'nan' is not a finite number");
    expect_fail("compare", "group,value\na,1\na,2\nb,inf\nb,4\n", p, "row 3 (line 4): 'inf'");
    expect_fail("compare", "group,value\na,1\na,\nb,3\nb,4\n", p, "column 'value', row 2 (line 3): '' is empty");
    expect_fail("compare", "group,value\na,1\na,2\na,3\n", p, "column 'group' has 1 distinct value(s); two groups are needed");
    const char *q[] = {"value", "nosuch", "group", "group", NULL};
    expect_fail("compare", "group,value\na,1\nb,2\n", q, "no column named 'nosuch'; the table has 'group', 'value'");
    const char *pe[] = {"value", "value", "group", "group", "groups", "a, zz", NULL};
    expect_fail("compare", "group,value\na,1\na,2\nb,3\nb,4\n", pe, "column 'group' has no group 'zz'");
    const char *pr[] = {"test", "paired", "value", "value", "group", "group", NULL};
    expect_fail("compare", "group,value\na,1\na,2\na,3\nb,4\nb,5\n", pr, "paired test needs groups of equal size");
}

static json_t *run_ok(const char *op, const char *data, const char **params) {
    fh_ctx c;
    fh_init(&c, op);
    fh_input(&c, "data", write_tmp("ok.csv", data));
    for (int i = 0; params[i]; i += 2) fh_param(&c, params[i], params[i + 1]);
    const char *rep = out_dir("ok_report");
    fh_output(&c, "report", rep);
    sl_status st = fh_run(&c);
    CHECK_MSG(st == SL_OK, "%s: %s", op, c.fail_msg);
    return st == SL_OK ? load_report(rep) : NULL;
}

static void test_defined_results(void) {
    const char *p[] = {"value", "value", "group", "group", NULL};
    /* a single-value group: p = NaN with the reason */
    json_t *j = run_ok("compare", "group,value\na,1\nb,2\nb,3\n", p);
    CHECK(j && isnan(jnum(j, "tests.0.p")));
    CHECK_CONTAINS(jstr(j, "tests.0.note"), "at least 2 observations");
    json_decref(j);
    /* zero variance, equal means: 0/0 */
    j = run_ok("compare", "group,value\na,2\na,2\nb,2\nb,2\n", p);
    CHECK(j && isnan(jnum(j, "tests.0.p")));
    CHECK_CONTAINS(jstr(j, "tests.0.note"), "zero variance");
    json_decref(j);
    /* zero variance, different means: t infinite, p = 0 */
    const char *ps[] = {"test", "student", "value", "value", "group", "group", NULL};
    j = run_ok("compare", "group,value\na,2\na,2\nb,3\nb,3\n", ps);
    CHECK(j && jnum(j, "tests.0.p") == 0.0);
    CHECK_CONTAINS(jstr(j, "tests.0.note"), "infinite");
    json_decref(j);
    /* all ranks tied: Mann-Whitney p = 1 with the reason */
    const char *pm[] = {"test", "mannwhitney", "value", "value", "group", "group", NULL};
    j = run_ok("compare", "group,value\na,5\na,5\na,5\nb,5\nb,5\nb,5\nb,5\nb,5\nb,5\nb,5\nb,5\nb,5\n", pm);
    CHECK(j && jnum(j, "tests.0.p") == 1.0);
    json_decref(j);
    const char *pk[] = {"test", "kruskal", "value", "value", "group", "group", NULL};
    j = run_ok("anova", "group,value\na,5\na,5\nb,5\nb,5\nc,5\n", pk);
    CHECK(j && isnan(jnum(j, "tests.0.p")));
    CHECK_CONTAINS(jstr(j, "tests.0.note"), "all values tied");
    json_decref(j);
    /* Wilcoxon with every difference zero */
    const char *pw[] = {"test", "wilcoxon", "x", "x", "y", "y", NULL};
    j = run_ok("compare", "x,y\n1,1\n2,2\n3,3\n", pw);
    CHECK(j && isnan(jnum(j, "tests.0.p")));
    CHECK_CONTAINS(jstr(j, "tests.0.note"), "all differences are zero");
    json_decref(j);
    /* a constant column for correlation */
    const char *pc[] = {"x", "x", "y", "y", NULL};
    j = run_ok("correlation", "x,y\n1,3\n2,3\n3,3\n4,3\n", pc);
    CHECK(j && isnan(jnum(j, "tests.0.p")));
    CHECK_CONTAINS(jstr(j, "tests.0.note"), "constant");
    json_decref(j);
}

static void test_anova_regression_contingency(void) {
    const char *pa[] = {"value", "value", "group", "group", NULL};
    json_t *j = run_ok("anova", LONG, pa);
    CHECK(j && jnum(j, "tests.0.df") == 1.0 && jnum(j, "tests.0.df2") == 8.0);
    CHECK_STR(jstr(j, "tests.0.effect.name"), "eta_squared");
    json_decref(j);
    const char *tw[] = {"test", "twoway", "value", "y", "factor_a", "a", "factor_b", "b", NULL};
    j = run_ok("anova", "a,b,y\n1,1,3.1\n1,1,2.9\n1,2,4.0\n1,2,4.4\n2,1,5.2\n2,1,5.0\n2,2,7.9\n2,2,8.3\n", tw);
    CHECK(j && jnum(j, "table.2.df") == 1.0 && jnum(j, "table.3.df") == 4.0);
    json_decref(j);
    const char *ub[] = {"test", "twoway", "value", "y", "factor_a", "a", "factor_b", "b", NULL};
    expect_fail("anova", "a,b,y\n1,1,3.1\n1,1,2.9\n1,2,4.0\n2,1,5.2\n2,1,5.0\n2,2,7.9\n2,2,8.3\n", ub, "unbalanced design");
    const char *g1[] = {"value", "value", "group", "group", NULL};
    expect_fail("anova", "group,value\na,1\na,2\n", g1, "at least two groups are needed");
    const char *pr[] = {"y", "y", "x", "x", NULL};
    j = run_ok("regression", LONG, pr);
    CHECK(j && fabs(jnum(j, "coefficients.1.coef") - 1.9993939393939393) < 1e-13);
    CHECK(j && jnum(j, "r2") > 0.99);
    json_decref(j);
    const char *sg[] = {"y", "y", "x", "x,x2", NULL};
    expect_fail("regression", "x,x2,y\n1,2,1\n2,4,3\n3,6,2\n4,8,5\n", sg, "singular design matrix: term 'x2' is a linear combination");
    const char *few[] = {"y", "y", "x", "x", "degree", "3", NULL};
    expect_fail("regression", "x,y\n1,1\n2,3\n3,2\n", few, "least squares needs more rows than coefficients");
    const char *pf[] = {"test", "fisher", "x", "treat", "y", "outcome", NULL};
    j = run_ok("contingency", "treat,outcome\nA,yes\nA,yes\nA,yes\nA,no\nB,no\nB,no\nB,no\nB,yes\nB,no\n", pf);
    CHECK(j && jnum(j, "tests.0.p") > 0 && jnum(j, "tests.0.p") <= 1);
    CHECK_STR(jstr(j, "tests.0.effect.name"), "odds_ratio");
    json_decref(j);
    const char *pf3[] = {"test", "fisher", "x", "treat", "y", "outcome", NULL};
    expect_fail("contingency", "treat,outcome\nA,yes\nB,no\nC,yes\n", pf3, "Fisher's exact test needs a 2x2 table");
}

static void test_precision_through_op(void) {
    /* decimals sharing 14 leading digits keep their mean and sd through the op */
    const char *p[] = {"test", "welch", "value", "v", "group", "g", NULL};
    json_t *j = run_ok("compare",
                       "g,v\na,10000000000000.1\na,10000000000000.2\na,10000000000000.3\nb,10000000000000.4\nb,10000000000000.5\nb,10000000000000.6\n",
                       p);
    CHECK(j != NULL);
    CHECK_NEAR(jnum(j, "tests.0.groups.0.mean"), 10000000000000.2, 1e-16);
    CHECK_NEAR(jnum(j, "tests.0.groups.0.sd"), 0.1, 1e-14);
    CHECK_NEAR(jnum(j, "tests.0.statistic"), -3.6742346141747673, 1e-13); /* t = -0.3 / sqrt(0.02/3) */
    json_decref(j);
}

static const char *HYP_DATA =
    "dose,response,before,after,exposed,disease,x,y\n"
    "low,10.1,5.0,5.9,yes,yes,1,2.1\nlow,9.8,6.1,6.8,yes,yes,2,3.9\nlow,10.4,5.5,6.1,yes,no,3,6.2\nlow,10.0,4.9,5.8,yes,yes,4,8.1\n"
    "low,9.9,5.2,6.3,no,no,5,9.7\nhigh,12.2,6.0,7.1,no,no,6,12.2\nhigh,12.8,5.8,6.9,no,no,7,14.1\nhigh,12.1,5.1,6.0,no,yes,8,15.8\n"
    "high,12.5,5.6,6.6,yes,yes,9,18.3\nhigh,12.9,5.3,6.2,no,no,10,19.9\n";

static void test_hypotheses(void) {
    const char *hyp =
        "id,test,columns,direction,threshold,alpha,primary\n"
        "H1,welch,response ~ dose: high vs low,greater,0.5,0.05,yes\n"
        "H2,paired,after; before,greater,,,yes\n"
        "H3,pearson,x; y,greater,0.5,,no\n"
        "H4,welch,response ~ dose: high vs low,less,,,no\n";
    fh_ctx c;
    fh_init(&c, "hypotheses");
    fh_input(&c, "data", write_tmp("hdata.csv", HYP_DATA));
    fh_input(&c, "hypotheses", write_tmp("hyp.csv", hyp));
    const char *rep = out_dir("hyp_report"), *ver = out_file("verdicts.csv");
    fh_output(&c, "report", rep);
    fh_output(&c, "verdicts", ver);
    CHECK_EQ_INT(fh_run(&c), SL_OK);
    if (c.fail_msg[0]) fprintf(stderr, "%s\n", c.fail_msg);
    CHECK_STR(fh_value(&c, "verdict"), "supported");
    json_t *j = load_report(rep);
    CHECK_STR(jstr(j, "verdict"), "supported");
    CHECK_STR(jstr(j, "hypotheses.0.verdict"), "supported");
    CHECK_STR(jstr(j, "hypotheses.3.verdict"), "refuted");
    CHECK(jnum(j, "hypotheses.0.p_adjusted") >= jnum(j, "hypotheses.0.p"));
    json_decref(j);
    sl_table *t;
    CHECK_EQ_INT(sl_table_read(ver, &t), SL_OK);
    long vc = sl_table_find_col(t, "verdict");
    CHECK(vc >= 0);
    CHECK_EQ_INT(sl_table_rows(t), 4);
    CHECK_STR(sl_table_cell(t, 2, (size_t)vc), "supported");
    sl_table_destroy(t);

    /* a refuted primary hypothesis makes the overall verdict refuted */
    fh_init(&c, "hypotheses");
    fh_input(&c, "data", write_tmp("hdata.csv", HYP_DATA));
    fh_input(&c, "hypotheses", write_tmp("hyp2.csv", "id,test,columns,direction\nH4,welch,response ~ dose: high vs low,less\n"));
    fh_output(&c, "report", out_dir("hyp2_report"));
    CHECK_EQ_INT(fh_run(&c), SL_OK);
    CHECK_STR(fh_value(&c, "verdict"), "refuted");
    /* an undefined p makes a hypothesis inconclusive, with the reason */
    fh_init(&c, "hypotheses");
    fh_input(&c, "data", write_tmp("hdata3.csv", "g,v\na,1\na,1\nb,1\nb,1\n"));
    fh_input(&c, "hypotheses", write_tmp("hyp3.csv", "id,test,columns\nH,welch,v ~ g\n"));
    const char *r3 = out_dir("hyp3_report");
    fh_output(&c, "report", r3);
    CHECK_EQ_INT(fh_run(&c), SL_OK);
    CHECK_STR(fh_value(&c, "verdict"), "inconclusive");
    j = load_report(r3);
    CHECK_CONTAINS(jstr(j, "hypotheses.0.rule"), "p is undefined");
    json_decref(j);
    /* errors in the hypotheses table name the column and row */
    fh_init(&c, "hypotheses");
    fh_input(&c, "data", write_tmp("hdata.csv", HYP_DATA));
    fh_input(&c, "hypotheses", write_tmp("hyp4.csv", "id,test,columns\nH1,welch,response ~ dose\nH2,wlech,response ~ dose\n"));
    fh_output(&c, "report", out_dir("hyp4_report"));
    CHECK(fh_run(&c) != SL_OK);
    CHECK_CONTAINS(c.fail_msg, "column 'test', row 2 (line 3): 'wlech' is not a test");
    fh_init(&c, "hypotheses");
    fh_input(&c, "data", write_tmp("hdata.csv", HYP_DATA));
    fh_input(&c, "hypotheses", write_tmp("hyp5.csv", "id,test,columns,direction\nH1,welch,response ~ dose,upward\n"));
    fh_output(&c, "report", out_dir("hyp5_report"));
    CHECK(fh_run(&c) != SL_OK);
    CHECK_CONTAINS(c.fail_msg, "column 'direction', row 1 (line 2): 'upward'");
    fh_init(&c, "hypotheses");
    fh_input(&c, "data", write_tmp("hdata.csv", HYP_DATA));
    fh_input(&c, "hypotheses", write_tmp("hyp6.csv", "id,test,columns\nH1,welch,nosuch ~ dose\n"));
    fh_output(&c, "report", out_dir("hyp6_report"));
    CHECK(fh_run(&c) != SL_OK);
    CHECK_CONTAINS(c.fail_msg, "hypothesis 'H1'");
    CHECK_CONTAINS(c.fail_msg, "no column named 'nosuch'");
}

static void test_replicate(void) {
    const char *a = write_tmp("exp.csv", "step,loss,name\n1,0.5,a\n2,0.25,b\n3,0.125,c\n");
    const char *b = write_tmp("act.csv", "step,loss,name\n1,0.5000000001,a\n2,0.25,b\n3,0.13,c\n");
    fh_ctx c;
    fh_init(&c, "replicate");
    fh_input(&c, "expected", a);
    fh_input(&c, "actual", b);
    fh_param(&c, "columns", "loss=rel:1e-6");
    const char *rep = out_dir("rep_report"), *dif = out_file("diffs.csv");
    fh_output(&c, "report", rep);
    fh_output(&c, "differences", dif);
    CHECK_EQ_INT(fh_run(&c), SL_OK);
    CHECK_STR(fh_value(&c, "verdict"), "different");
    sl_table *t;
    CHECK_EQ_INT(sl_table_read(dif, &t), SL_OK);
    CHECK_EQ_INT(sl_table_rows(t), 1);
    CHECK_STR(sl_table_cell(t, 0, 1), "row 3 (line 4)");
    CHECK_STR(sl_table_cell(t, 0, 2), "loss");
    sl_table_destroy(t);
    fh_init(&c, "replicate");
    fh_input(&c, "expected", a);
    fh_input(&c, "actual", write_tmp("act2.csv", "step,loss,name\n1,0.5000000001,a\n2,0.25,b\n3,0.125,c\n"));
    fh_param(&c, "tolerance", "rel:1e-6");
    fh_output(&c, "report", out_dir("rep2"));
    CHECK_EQ_INT(fh_run(&c), SL_OK);
    CHECK_STR(fh_value(&c, "verdict"), "within_tolerance");
    fh_init(&c, "replicate");
    fh_input(&c, "expected", a);
    fh_input(&c, "actual", a);
    fh_output(&c, "report", out_dir("rep3"));
    CHECK_EQ_INT(fh_run(&c), SL_OK);
    CHECK_STR(fh_value(&c, "verdict"), "identical");
    /* ulps: 0.1 + 0.2 is 1 ulp from 0.30000000000000004's neighbour */
    fh_init(&c, "replicate");
    fh_input(&c, "expected", write_tmp("u1.csv", "v\n0.3\n"));
    fh_input(&c, "actual", write_tmp("u2.csv", "v\n0.30000000000000004\n"));
    fh_param(&c, "tolerance", "ulps:1");
    fh_output(&c, "report", out_dir("rep4"));
    CHECK_EQ_INT(fh_run(&c), SL_OK);
    CHECK_STR(fh_value(&c, "verdict"), "within_tolerance");
    /* text and safetensors */
    fh_init(&c, "replicate");
    fh_input(&c, "expected", write_tmp("t1.txt", "alpha\nbeta\ngamma\n"));
    fh_input(&c, "actual", write_tmp("t2.txt", "alpha\nBETA\ngamma\n"));
    const char *r5 = out_dir("rep5");
    fh_output(&c, "report", r5);
    CHECK_EQ_INT(fh_run(&c), SL_OK);
    json_t *j = load_report(r5);
    CHECK_STR(jstr(j, "listed.0.where"), "line 2");
    json_decref(j);
    const char *hdr = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    char st1[128], st2[128];
    size_t hl = strlen(hdr);
    for (int k = 0; k < 2; k++) {
        char *buf = k ? st2 : st1;
        uint64_t n = hl;
        memcpy(buf, &n, 8);
        memcpy(buf + 8, hdr, hl);
        float v[2] = {1.0f, k ? 2.0000002f : 2.0f};
        memcpy(buf + 8 + hl, v, 8);
    }
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s/a.safetensors", tmpdir);
    snprintf(p2, sizeof p2, "%s/b.safetensors", tmpdir);
    FILE *f = fopen(p1, "wb");
    fwrite(st1, 1, 16 + hl, f);
    fclose(f);
    f = fopen(p2, "wb");
    fwrite(st2, 1, 16 + hl, f);
    fclose(f);
    fh_init(&c, "replicate");
    fh_input(&c, "expected", p1);
    fh_input(&c, "actual", p2);
    fh_param(&c, "tolerance", "rel:1e-6");
    fh_output(&c, "report", out_dir("rep6"));
    CHECK_EQ_INT(fh_run(&c), SL_OK);
    CHECK_STR(fh_value(&c, "verdict"), "within_tolerance");
    fh_init(&c, "replicate");
    fh_input(&c, "expected", p1);
    fh_input(&c, "actual", p2);
    const char *r7 = out_dir("rep7");
    fh_output(&c, "report", r7);
    CHECK_EQ_INT(fh_run(&c), SL_OK);
    j = load_report(r7);
    CHECK_STR(jstr(j, "listed.0.where"), "w[1]");
    json_decref(j);
    fh_init(&c, "replicate");
    fh_input(&c, "expected", a);
    fh_input(&c, "actual", a);
    fh_param(&c, "tolerance", "relative:3");
    fh_output(&c, "report", out_dir("rep8"));
    CHECK(fh_run(&c) != SL_OK);
    CHECK_CONTAINS(c.fail_msg, "param 'tolerance'");
}

static void test_bootstrap(void) {
    double lo[2], hi[2];
    for (int k = 0; k < 2; k++) {
        fh_ctx c;
        fh_init(&c, "bootstrap");
        fh_input(&c, "data", write_tmp("long.csv", LONG));
        fh_param(&c, "value", "value");
        fh_param(&c, "resamples", "2000");
        fh_param(&c, "seed", "42");
        const char *rep = out_dir(k ? "boot2" : "boot1");
        fh_output(&c, "report", rep);
        CHECK_EQ_INT(fh_run(&c), SL_OK);
        json_t *j = load_report(rep);
        lo[k] = jnum(j, "ci_low");
        hi[k] = jnum(j, "ci_high");
        CHECK(lo[k] < jnum(j, "estimate") && jnum(j, "estimate") < hi[k]);
        CHECK_NEAR(jnum(j, "estimate"), 6.55, 1e-15); /* mean of the 10 values */
        json_decref(j);
    }
    CHECK(lo[0] == lo[1] && hi[0] == hi[1]); /* same seed, same interval */
    const char *p[] = {"statistic", "mean_diff", "value", "value", "group", "group", "method", "percentile", NULL};
    json_t *j = run_ok("bootstrap", LONG, p);
    CHECK(j && jnum(j, "ci_high") < 0);
    json_decref(j);
}

static void test_descriptor(void) {
    const sl_plugin *p = sciloop_plugin_v1();
    CHECK_EQ_INT(p->struct_size, sizeof(sl_plugin));
    CHECK_EQ_INT(p->abi_major, SL_ABI_MAJOR);
    CHECK_STR(p->name, "validate");
    CHECK_EQ_INT(p->n_ops, 8);
    const char *want[] = {"compare", "anova", "regression", "correlation", "contingency", "hypotheses", "replicate", "bootstrap"};
    for (int i = 0; i < 8; i++) {
        const sl_op_desc *op = fh_op(want[i]);
        CHECK_MSG(op && op->run, "op %s", want[i]);
        if (!op) continue;
        for (size_t k = 0; k < op->n_params; k++) {
            const sl_param_desc *d = &op->params[k];
            CHECK(d->doc && *d->doc);
            if (d->type == SL_PARAM_ENUM && d->default_value) CHECK_MSG(strstr(d->choices, d->default_value), "%s.%s", op->name, d->name);
            if (d->type == SL_PARAM_FLOAT && d->default_value && d->min)
                CHECK(strtod(d->default_value, NULL) >= strtod(d->min, NULL) && strtod(d->default_value, NULL) <= strtod(d->max, NULL));
        }
        for (size_t k = 0; k < op->n_outputs; k++) CHECK(sl_artifact_type_known(op->outputs[k].type));
    }
    CHECK_STR(fh_op("hypotheses")->values, "verdict");
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/validate_ops_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    test_descriptor();
    test_compare_welch();
    test_compare_variants();
    test_bad_cells();
    test_defined_results();
    test_anova_regression_contingency();
    test_precision_through_op();
    test_hypotheses();
    test_replicate();
    test_bootstrap();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return SL_TEST_DONE();
}
