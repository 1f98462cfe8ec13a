/* op_replicate.c — validate.replicate: compare two runs' outputs (tables, safetensors, text, directories) under a tolerance policy. */
#define _GNU_SOURCE
#include "vp.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * Policy: a default tolerance (param `tolerance`) and per-column overrides (param `columns`,
 * items "name=kind:value"), where kind is exact, abs (|a-b| <= v), rel (|a-b| <= v max(|a|,|b|))
 * or ulps (at most v representable doubles apart). NaN equals NaN; +-inf equal themselves only.
 * Cells that are not both numbers are compared as text, exactly. Tensors use the default
 * tolerance element-wise after conversion to double; text files are compared line by line.
 */

typedef enum { TOL_EXACT, TOL_ABS, TOL_REL, TOL_ULPS } tol_kind;
typedef struct {
    tol_kind kind;
    double v;
} tol;

typedef struct {
    const sl_host *host;
    sl_op_ctx *ctx;
    tol deflt;
    size_t ncol_rules;
    char **col_names;
    tol *col_tols;
    size_t max_list;
    size_t n_diff, n_tolerated, n_compared;
    json_t *diffs;   /* listed differences (at most max_list) */
    char ***rows;    /* the same as table rows */
    size_t nrows, caprows;
    int oom;
} cmp_state;

static int parse_tol(const char *s, tol *t) {
    char *end;
    if (!strcmp(s, "exact")) {
        t->kind = TOL_EXACT;
        t->v = 0;
        return 0;
    }
    const char *colon = strchr(s, ':');
    if (!colon) return -1;
    size_t k = (size_t)(colon - s);
    if (k == 3 && !strncmp(s, "abs", 3)) t->kind = TOL_ABS;
    else if (k == 3 && !strncmp(s, "rel", 3)) t->kind = TOL_REL;
    else if (k == 4 && !strncmp(s, "ulps", 4)) t->kind = TOL_ULPS;
    else return -1;
    t->v = strtod(colon + 1, &end);
    return (*end || !(t->v >= 0) || !isfinite(t->v)) ? -1 : 0;
}

static const char *tol_text(const tol *t, char buf[48]) {
    static const char *const names[] = {"exact", "abs", "rel", "ulps"};
    if (t->kind == TOL_EXACT) return "exact";
    snprintf(buf, 48, "%s:%g", names[t->kind], t->v);
    return buf;
}

static int64_t ordered_bits(double x) {
    int64_t i;
    memcpy(&i, &x, sizeof i);
    return i < 0 ? INT64_MIN - i : i;
}

static double ulps_between(double a, double b) {
    int64_t ia = ordered_bits(a), ib = ordered_bits(b);
    double d = (double)ia - (double)ib;
    return fabs(d);
}

/* 1: equal, 2: within tolerance, 0: different */
static int num_match(double a, double b, const tol *t) {
    if (isnan(a) && isnan(b)) return 1;
    if (a == b) return 1;
    if (isnan(a) || isnan(b) || isinf(a) || isinf(b)) return 0;
    double d = fabs(a - b);
    switch (t->kind) {
    case TOL_EXACT: return 0;
    case TOL_ABS: return d <= t->v ? 2 : 0;
    case TOL_REL: return d <= t->v * fmax(fabs(a), fabs(b)) ? 2 : 0;
    case TOL_ULPS: return ulps_between(a, b) <= t->v ? 2 : 0;
    }
    return 0;
}

static int parse_num(const char *s, double *v) {
    char *end;
    while (*s == ' ') s++;
    if (!*s) return -1;
    if (!strcmp(s, "nan") || !strcmp(s, "NaN")) {
        *v = NAN;
        return 0;
    }
    *v = strtod(s, &end);
    while (*end == ' ') end++;
    return *end ? -1 : 0;
}

static void note_diff(cmp_state *cs, const char *file, const char *where, const char *col, const char *exp, const char *act,
                      double a, double b, const tol *t) {
    cs->n_diff++;
    if (cs->n_diff > cs->max_list) return;
    char tb[48], b1[32], b2[32], b3[32];
    double ad = fabs(a - b), rd = ad / fmax(fabs(a), fabs(b));
    double ul = (isnan(a) || isnan(b)) ? NAN : ulps_between(a, b);
    json_t *j = json_object();
    json_object_set_new(j, "file", json_string(file));
    json_object_set_new(j, "where", json_string(where));
    json_object_set_new(j, "column", json_string(col ? col : ""));
    json_object_set_new(j, "expected", json_string(exp));
    json_object_set_new(j, "actual", json_string(act));
    json_object_set_new(j, "abs_diff", vp_json_num(ad));
    json_object_set_new(j, "rel_diff", vp_json_num(rd));
    json_object_set_new(j, "ulps", vp_json_num(ul));
    json_object_set_new(j, "tolerance", json_string(tol_text(t, tb)));
    json_array_append_new(cs->diffs, j);
    if (cs->nrows == cs->caprows) {
        size_t cap = cs->caprows ? cs->caprows * 2 : 64;
        char ***p = realloc(cs->rows, cap * sizeof *p);
        if (!p) {
            cs->oom = 1;
            return;
        }
        cs->rows = p;
        cs->caprows = cap;
    }
    char **r = malloc(9 * sizeof *r);
    if (!r) {
        cs->oom = 1;
        return;
    }
    const char *v[9] = {file, where, col ? col : "", exp, act, vp_fmt(ad, b1), vp_fmt(rd, b2), vp_fmt(ul, b3), tol_text(t, tb)};
    for (int i = 0; i < 9; i++) {
        r[i] = strdup(v[i]);
        if (!r[i]) cs->oom = 1;
    }
    cs->rows[cs->nrows++] = r;
}

static const tol *tol_for(cmp_state *cs, const char *col) {
    for (size_t i = 0; col && i < cs->ncol_rules; i++)
        if (!strcmp(cs->col_names[i], col)) return &cs->col_tols[i];
    return &cs->deflt;
}

static sl_status cmp_tables(cmp_state *cs, const char *name, const char *pe, const char *pa) {
    sl_table *te, *ta;
    if (sl_table_read(pe, &te) != SL_OK) return cs->host->fail(cs->ctx, sl_last_status(), "%s", sl_last_error());
    if (sl_table_read(pa, &ta) != SL_OK) {
        sl_table_destroy(te);
        return cs->host->fail(cs->ctx, sl_last_status(), "%s", sl_last_error());
    }
    size_t ce = sl_table_cols(te), re = sl_table_rows(te), ra = sl_table_rows(ta);
    for (size_t c = 0; c < ce; c++)
        if (sl_table_find_col(ta, sl_table_col_name(te, c)) < 0)
            note_diff(cs, name, "header", sl_table_col_name(te, c), "column present", "column missing", NAN, NAN, &cs->deflt);
    for (size_t c = 0; c < sl_table_cols(ta); c++)
        if (sl_table_find_col(te, sl_table_col_name(ta, c)) < 0)
            note_diff(cs, name, "header", sl_table_col_name(ta, c), "column absent", "extra column", NAN, NAN, &cs->deflt);
    if (re != ra) {
        char e[32], a[32];
        snprintf(e, sizeof e, "%zu rows", re);
        snprintf(a, sizeof a, "%zu rows", ra);
        note_diff(cs, name, "rows", NULL, e, a, (double)re, (double)ra, &cs->deflt);
    }
    size_t nr = re < ra ? re : ra;
    for (size_t c = 0; c < ce; c++) {
        const char *col = sl_table_col_name(te, c);
        long ca = sl_table_find_col(ta, col);
        if (ca < 0) continue;
        const tol *t = tol_for(cs, col);
        for (size_t r = 0; r < nr; r++) {
            const char *se = sl_table_cell(te, r, c), *sa = sl_table_cell(ta, r, (size_t)ca);
            double a, b;
            int m;
            cs->n_compared++;
            if (parse_num(se, &a) == 0 && parse_num(sa, &b) == 0) m = num_match(a, b, t);
            else {
                m = strcmp(se, sa) == 0;
                a = b = NAN;
            }
            if (m == 2) cs->n_tolerated++;
            if (m == 0) {
                char where[64];
                snprintf(where, sizeof where, "row %zu (line %zu)", r + 1, sl_table_row_line(te, r));
                note_diff(cs, name, where, col, se, sa, a, b, t);
            }
        }
    }
    sl_table_destroy(te);
    sl_table_destroy(ta);
    return SL_OK;
}

/* safetensors: 8-byte little-endian header length, JSON header, raw little-endian data */
static int st_elem(const char *dt, size_t *sz) {
    static const struct { const char *n; size_t s; } k[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
                                                             {"I16", 2}, {"I8", 1}, {"U8", 1}, {"BOOL", 1}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(dt, k[i].n)) {
            *sz = k[i].s;
            return (int)i;
        }
    return -1;
}

static double half_to_double(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

static double elem_value(int kind, const unsigned char *p) {
    switch (kind) {
    case 0: { double d; memcpy(&d, p, 8); return d; }
    case 1: { float f; memcpy(&f, p, 4); return f; }
    case 2: { uint16_t h; memcpy(&h, p, 2); return half_to_double(h); }
    case 3: { uint16_t h; memcpy(&h, p, 2); uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }
    case 4: { int64_t i; memcpy(&i, p, 8); return (double)i; }
    case 5: { int32_t i; memcpy(&i, p, 4); return i; }
    case 6: { int16_t i; memcpy(&i, p, 2); return i; }
    case 7: return (int8_t)p[0];
    default: return p[0];
    }
}

static json_t *st_header(const char *data, size_t len, size_t *base) {
    if (len < 8) return NULL;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | (unsigned char)data[i];
    if (n > len - 8) return NULL;
    *base = 8 + (size_t)n;
    return json_loadb(data + 8, (size_t)n, 0, NULL);
}

static sl_status cmp_tensors(cmp_state *cs, const char *name, const char *pe, const char *pa) {
    char *de = NULL, *da = NULL;
    size_t le, la, be = 0, ba = 0;
    if (sl_read_file(pe, 0, &de, &le) != SL_OK || sl_read_file(pa, 0, &da, &la) != SL_OK) {
        free(de);
        return cs->host->fail(cs->ctx, sl_last_status(), "%s", sl_last_error());
    }
    json_t *he = st_header(de, le, &be), *ha = st_header(da, la, &ba);
    sl_status st = SL_OK;
    if (!he || !ha) {
        st = cs->host->fail(cs->ctx, SL_ERR_PARSE, "%s: not a safetensors file (bad header)", he ? pa : pe);
        goto done;
    }
    const char *key;
    json_t *ve;
    json_object_foreach(he, key, ve) {
        if (!strcmp(key, "__metadata__")) continue;
        json_t *va = json_object_get(ha, key);
        if (!va) {
            note_diff(cs, name, key, NULL, "tensor present", "tensor missing", NAN, NAN, &cs->deflt);
            continue;
        }
        const char *dte = json_string_value(json_object_get(ve, "dtype")), *dta = json_string_value(json_object_get(va, "dtype"));
        json_t *se = json_object_get(ve, "shape"), *sa = json_object_get(va, "shape");
        json_t *oe = json_object_get(ve, "data_offsets"), *oa = json_object_get(va, "data_offsets");
        size_t sze = 0, sza = 0;
        int ke = dte ? st_elem(dte, &sze) : -1, ka = dta ? st_elem(dta, &sza) : -1;
        if (ke < 0 || ka < 0 || !json_is_array(oe) || !json_is_array(oa)) {
            st = cs->host->fail(cs->ctx, SL_ERR_PARSE, "%s: tensor '%s': unsupported dtype or missing data_offsets", ke < 0 ? pe : pa, key);
            goto done;
        }
        if (!json_equal(se, sa) || strcmp(dte, dta) != 0) {
            char e[256], a[256];
            char *s1 = json_dumps(se, JSON_COMPACT), *s2 = json_dumps(sa, JSON_COMPACT);
            snprintf(e, sizeof e, "%s %s", dte, s1 ? s1 : "?");
            snprintf(a, sizeof a, "%s %s", dta, s2 ? s2 : "?");
            free(s1);
            free(s2);
            note_diff(cs, name, key, "dtype/shape", e, a, NAN, NAN, &cs->deflt);
            continue;
        }
        size_t e0 = (size_t)json_integer_value(json_array_get(oe, 0)), e1 = (size_t)json_integer_value(json_array_get(oe, 1));
        size_t a0 = (size_t)json_integer_value(json_array_get(oa, 0)), a1 = (size_t)json_integer_value(json_array_get(oa, 1));
        if (e1 < e0 || a1 < a0 || be + e1 > le || ba + a1 > la || e1 - e0 != a1 - a0 || (e1 - e0) % sze) {
            st = cs->host->fail(cs->ctx, SL_ERR_PARSE, "%s: tensor '%s': data_offsets out of range", pe, key);
            goto done;
        }
        size_t count = (e1 - e0) / sze;
        for (size_t i = 0; i < count; i++) {
            double x = elem_value(ke, (const unsigned char *)de + be + e0 + i * sze);
            double y = elem_value(ka, (const unsigned char *)da + ba + a0 + i * sze);
            cs->n_compared++;
            int m = num_match(x, y, &cs->deflt);
            if (m == 2) cs->n_tolerated++;
            if (m == 0) {
                char where[300], b1[32], b2[32];
                snprintf(where, sizeof where, "%s[%zu]", key, i);
                note_diff(cs, name, where, NULL, vp_fmt(x, b1), vp_fmt(y, b2), x, y, &cs->deflt);
            }
        }
    }
    json_object_foreach(ha, key, ve) {
        if (strcmp(key, "__metadata__") && !json_object_get(he, key))
            note_diff(cs, name, key, NULL, "tensor absent", "extra tensor", NAN, NAN, &cs->deflt);
    }
done:
    json_decref(he);
    json_decref(ha);
    free(de);
    free(da);
    return st;
}

static sl_status cmp_text(cmp_state *cs, const char *name, const char *pe, const char *pa) {
    char *de = NULL, *da = NULL;
    size_t le, la;
    if (sl_read_file(pe, 0, &de, &le) != SL_OK || sl_read_file(pa, 0, &da, &la) != SL_OK) {
        free(de);
        return cs->host->fail(cs->ctx, sl_last_status(), "%s", sl_last_error());
    }
    const char *p = de, *q = da;
    size_t line = 1;
    while (*p || *q) {
        const char *pe2 = strchr(p, '\n'), *qe2 = strchr(q, '\n');
        size_t lp = pe2 ? (size_t)(pe2 - p) : strlen(p), lq = qe2 ? (size_t)(qe2 - q) : strlen(q);
        cs->n_compared++;
        if (lp != lq || memcmp(p, q, lp) != 0) {
            char where[48], e[200], a[200];
            snprintf(where, sizeof where, "line %zu", line);
            snprintf(e, sizeof e, "%.*s", (int)(lp < 190 ? lp : 190), p);
            snprintf(a, sizeof a, "%.*s", (int)(lq < 190 ? lq : 190), q);
            note_diff(cs, name, where, NULL, e, a, NAN, NAN, &cs->deflt);
        }
        p += lp + (pe2 ? 1 : 0);
        q += lq + (qe2 ? 1 : 0);
        line++;
    }
    free(de);
    free(da);
    return SL_OK;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static sl_status cmp_path(cmp_state *cs, const char *name, const char *pe, const char *pa);

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static sl_status cmp_dir(cmp_state *cs, const char *name, const char *pe, const char *pa) {
    struct dirent **le = NULL;
    DIR *d = opendir(pe);
    if (!d) return cs->host->fail(cs->ctx, SL_ERR_IO, "%s: cannot open directory", pe);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    sl_status st = SL_OK;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) break;
            names = p;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    (void)le;
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n && st == SL_OK; i++) {
        char *a, *b, *nm;
        if (!names[i] || asprintf(&a, "%s/%s", pe, names[i]) < 0) continue;
        if (asprintf(&b, "%s/%s", pa, names[i]) < 0) {
            free(a);
            continue;
        }
        if (asprintf(&nm, "%s/%s", name, names[i]) >= 0) {
            struct stat sb;
            if (stat(b, &sb) != 0) note_diff(cs, nm, "file", NULL, "present", "missing", NAN, NAN, &cs->deflt);
            else st = cmp_path(cs, nm, a, b);
            free(nm);
        }
        free(a);
        free(b);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    /* files only in the actual output */
    d = opendir(pa);
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *a;
        if (asprintf(&a, "%s/%s", pe, e->d_name) < 0) continue;
        struct stat sb;
        if (stat(a, &sb) != 0) {
            char *nm;
            if (asprintf(&nm, "%s/%s", name, e->d_name) >= 0) {
                note_diff(cs, nm, "file", NULL, "absent", "extra file", NAN, NAN, &cs->deflt);
                free(nm);
            }
        }
        free(a);
    }
    if (d) closedir(d);
    return st;
}

static sl_status cmp_path(cmp_state *cs, const char *name, const char *pe, const char *pa) {
    struct stat se, sa;
    if (stat(pe, &se) != 0) return cs->host->fail(cs->ctx, SL_ERR_IO, "%s: cannot read", pe);
    if (stat(pa, &sa) != 0) return cs->host->fail(cs->ctx, SL_ERR_IO, "%s: cannot read", pa);
    if (S_ISDIR(se.st_mode) != S_ISDIR(sa.st_mode)) {
        note_diff(cs, name, "kind", NULL, S_ISDIR(se.st_mode) ? "directory" : "file", S_ISDIR(sa.st_mode) ? "directory" : "file", NAN, NAN,
                  &cs->deflt);
        return SL_OK;
    }
    if (S_ISDIR(se.st_mode)) return cmp_dir(cs, name, pe, pa);
    if (ends_with(pe, ".csv")) return cmp_tables(cs, name, pe, pa);
    if (ends_with(pe, ".safetensors")) return cmp_tensors(cs, name, pe, pa);
    return cmp_text(cs, name, pe, pa);
}

sl_status vp_op_replicate(const sl_host *host, sl_op_ctx *ctx) {
    const char *pe = host->input_path(ctx, "expected", 0), *pa = host->input_path(ctx, "actual", 0);
    if (!pe || !pa) return host->fail(ctx, SL_ERR_NOT_FOUND, "inputs 'expected' and 'actual' must both be connected");
    cmp_state cs;
    memset(&cs, 0, sizeof cs);
    cs.host = host;
    cs.ctx = ctx;
    const char *dt = host->param(ctx, "tolerance");
    if (parse_tol(dt ? dt : "exact", &cs.deflt) != 0)
        return host->fail(ctx, SL_ERR_INVALID, "param 'tolerance': '%s'; expected exact, abs:V, rel:V or ulps:V", dt);
    int64_t ml = 1000;
    host->param_int(ctx, "max_listed", &ml);
    cs.max_list = (size_t)ml;
    size_t nc = host->param_list_count(ctx, "columns");
    cs.col_names = calloc(nc + 1, sizeof *cs.col_names);
    cs.col_tols = calloc(nc + 1, sizeof *cs.col_tols);
    sl_status st = (cs.col_names && cs.col_tols) ? SL_OK : host->fail(ctx, SL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == SL_OK && i < nc; i++) {
        const char *item = host->param_list_item(ctx, "columns", i);
        const char *eq = strchr(item, '=');
        if (!eq || eq == item || parse_tol(eq + 1, &cs.col_tols[i]) != 0) {
            st = host->fail(ctx, SL_ERR_INVALID, "param 'columns', item %zu: '%s'; expected name=exact, name=abs:V, name=rel:V or name=ulps:V",
                            i + 1, item);
            break;
        }
        cs.col_names[i] = strndup(item, (size_t)(eq - item));
        cs.ncol_rules++;
    }
    cs.diffs = json_array();
    if (st == SL_OK) {
        const char *base = strrchr(pe, '/');
        st = cmp_path(&cs, base ? base + 1 : pe, pe, pa);
    }
    if (st == SL_OK && cs.oom) st = host->fail(ctx, SL_ERR_NOMEM, "out of memory");
    if (st == SL_OK) {
        const char *verdict = cs.n_diff ? "different" : cs.n_tolerated ? "within_tolerance" : "identical";
        char tb[48];
        json_t *root = json_object();
        json_object_set_new(root, "op", json_string("validate.replicate"));
        json_object_set_new(root, "verdict", json_string(verdict));
        json_object_set_new(root, "compared", json_integer((json_int_t)cs.n_compared));
        json_object_set_new(root, "within_tolerance", json_integer((json_int_t)cs.n_tolerated));
        json_object_set_new(root, "differences", json_integer((json_int_t)cs.n_diff));
        json_object_set_new(root, "tolerance", json_string(tol_text(&cs.deflt, tb)));
        json_object_set_new(root, "listed", json_incref(cs.diffs));
        vp_buf md = {0};
        vp_buf_printf(&md, "# validate.replicate\n\nVerdict: **%s** — %zu values compared, %zu equal within tolerance, %zu different "
                           "(default tolerance %s).\n\n", verdict, cs.n_compared, cs.n_tolerated, cs.n_diff, tol_text(&cs.deflt, tb));
        if (cs.nrows) {
            vp_buf_printf(&md, "| file | where | column | expected | actual | abs diff | rel diff | ulps | tolerance |\n|---|---|---|---|---|---|---|---|---|\n");
            for (size_t i = 0; i < cs.nrows; i++)
                vp_buf_printf(&md, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", cs.rows[i][0], cs.rows[i][1], cs.rows[i][2], cs.rows[i][3],
                              cs.rows[i][4], cs.rows[i][5], cs.rows[i][6], cs.rows[i][7], cs.rows[i][8]);
            if (cs.n_diff > cs.nrows) vp_buf_printf(&md, "\n(%zu more differences not listed)\n", cs.n_diff - cs.nrows);
        }
        const char *dir = host->output_path(ctx, "report");
        if (dir) st = vp_write_report(host, ctx, dir, root, md.oom ? NULL : md.s);
        const char *dp = host->output_path(ctx, "differences");
        static const char *const hdr[] = {"file", "where", "column", "expected", "actual", "abs_diff", "rel_diff", "ulps", "tolerance"};
        if (st == SL_OK && dp) st = vp_write_csv(host, ctx, dp, hdr, 9, cs.rows, cs.nrows);
        if (st == SL_OK) st = host->set_value(ctx, "verdict", verdict);
        json_decref(root);
        vp_buf_free(&md);
    }
    json_decref(cs.diffs);
    for (size_t i = 0; i < cs.nrows; i++) {
        for (int k = 0; k < 9; k++) free(cs.rows[i][k]);
        free(cs.rows[i]);
    }
    free(cs.rows);
    for (size_t i = 0; i < cs.ncol_rules; i++) free(cs.col_names[i]);
    free(cs.col_names);
    free(cs.col_tols);
    return st;
}
