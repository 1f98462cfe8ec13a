/* vp_tests.c — one statistical test run on table columns: data selection, the test, its effect size, its JSON. */
#define _GNU_SOURCE
#include "vp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const test_names[VP_N_TESTS] = {
    "student", "welch", "paired", "mannwhitney", "wilcoxon", "anova", "welch_anova", "kruskal",
    "pearson", "spearman", "kendall", "chi2", "gtest", "fisher"};

const char *vp_test_name(vp_test t) { return (unsigned)t < VP_N_TESTS ? test_names[t] : "?"; }

int vp_test_from_name(const char *s) {
    for (int i = 0; s && i < VP_N_TESTS; i++)
        if (!strcmp(s, test_names[i])) return i;
    return -1;
}

void vp_spec_init(vp_spec *s) {
    memset(s, 0, sizeof *s);
    s->alt = VS_TWO_SIDED;
    s->method = VS_AUTO;
    s->zero_method = VS_ZERO_WILCOX;
    s->correction = 1;
    s->continuity = 1;
    s->level = 0.95;
}

static void outcome_init(vp_outcome *o) {
    memset(o, 0, sizeof *o);
    vs_result_init(&o->res);
    o->effect.name = NULL;
    o->effect.value = o->effect.lo = o->effect.hi = NAN;
    o->estimate = NAN;
    o->mean[0] = o->mean[1] = o->sd[0] = o->sd[1] = NAN;
}

static void describe(vp_outcome *o, int i, const vp_ref *ref, const vp_numbers *v, const char *label) {
    vs_moments m;
    vs_moments_compute(v->off, v->n, &m);
    o->mean[i] = vp_unshift(ref, m.mean);
    o->sd[i] = m.sd;
    o->n[i] = v->n;
    snprintf(o->groups[i], sizeof o->groups[i], "%s", label);
}

/* The two samples of a two-sample or paired test: long format (value ~ group) or two columns. */
static sl_status two_samples(const sl_host *host, sl_op_ctx *ctx, const sl_table *t, const char *tname, const vp_spec *sp,
                             vp_ref *ref, vp_numbers *a, vp_numbers *b, vp_outcome *o, int paired) {
    if (sp->x && sp->y) {
        sl_status st = vp_read_numbers(host, ctx, t, tname, sp->x, NULL, 0, ref, a);
        if (st == SL_OK) st = vp_read_numbers(host, ctx, t, tname, sp->y, NULL, 0, ref, b);
        if (st != SL_OK) return st;
        snprintf(o->groups[0], sizeof o->groups[0], "%s", sp->x);
        snprintf(o->groups[1], sizeof o->groups[1], "%s", sp->y);
        return SL_OK;
    }
    if (!sp->value || !sp->group)
        return host->fail(ctx, SL_ERR_INVALID, "%s: name either two columns (x and y) or a value column and a group column", tname);
    size_t gc;
    sl_status st = vp_find_col(host, ctx, t, tname, sp->group, &gc);
    if (st != SL_OK) return st;
    vp_levels lv;
    if ((st = vp_levels_of(host, ctx, t, gc, &lv)) != SL_OK) return st;
    long ia = -1, ib = -1;
    for (size_t k = 0; k < lv.n; k++) {
        if (sp->level_a && !strcmp(lv.name[k], sp->level_a)) ia = (long)k;
        if (sp->level_b && !strcmp(lv.name[k], sp->level_b)) ib = (long)k;
    }
    if (!sp->level_a) ia = lv.n > 0 ? 0 : -1;
    if (!sp->level_b) ib = lv.n > 1 ? (ia == 1 ? 0 : (ia == 0 ? 1 : 0)) : -1;
    if (ia < 0 || ib < 0 || ia == ib) {
        const char *missing = ia < 0 ? sp->level_a : sp->level_b;
        size_t nlev = lv.n;
        vp_levels_free(&lv);
        if (nlev < 2 && !missing)
            return host->fail(ctx, SL_ERR_INVALID, "%s: column '%s' has %zu distinct value(s); two groups are needed", tname,
                              sp->group, nlev);
        return host->fail(ctx, SL_ERR_INVALID, "%s: column '%s' has no group '%s'", tname, sp->group, missing ? missing : "?");
    }
    size_t na, nb, nrows = sl_table_rows(t);
    size_t *ra = vp_rows_where(&lv, nrows, (size_t)ia, &na), *rb = vp_rows_where(&lv, nrows, (size_t)ib, &nb);
    snprintf(o->groups[0], sizeof o->groups[0], "%s", lv.name[ia]);
    snprintf(o->groups[1], sizeof o->groups[1], "%s", lv.name[ib]);
    vp_levels_free(&lv);
    if (!ra || !rb) {
        free(ra);
        free(rb);
        return host->fail(ctx, SL_ERR_NOMEM, "out of memory");
    }
    if (paired && na != nb) {
        free(ra);
        free(rb);
        return host->fail(ctx, SL_ERR_INVALID,
                          "%s: paired test needs groups of equal size, but group '%s' of column '%s' has %zu rows and group '%s' has %zu",
                          tname, o->groups[0], sp->group, na, o->groups[1], nb);
    }
    st = vp_read_numbers(host, ctx, t, tname, sp->value, ra, na, ref, a);
    if (st == SL_OK) st = vp_read_numbers(host, ctx, t, tname, sp->value, rb, nb, ref, b);
    free(ra);
    free(rb);
    return st;
}

static sl_status k_samples(const sl_host *host, sl_op_ctx *ctx, const sl_table *t, const char *tname, const vp_spec *sp,
                           vp_ref *ref, vp_numbers **groups, size_t *k) {
    *groups = NULL;
    *k = 0;
    if (!sp->value || !sp->group) return host->fail(ctx, SL_ERR_INVALID, "%s: name a value column and a group column", tname);
    size_t gc;
    sl_status st = vp_find_col(host, ctx, t, tname, sp->group, &gc);
    if (st != SL_OK) return st;
    vp_levels lv;
    if ((st = vp_levels_of(host, ctx, t, gc, &lv)) != SL_OK) return st;
    if (lv.n < 2) {
        size_t n = lv.n;
        vp_levels_free(&lv);
        return host->fail(ctx, SL_ERR_INVALID, "%s: column '%s' has %zu distinct value(s); at least two groups are needed", tname,
                          sp->group, n);
    }
    vp_numbers *g = calloc(lv.n, sizeof *g);
    if (!g) {
        vp_levels_free(&lv);
        return host->fail(ctx, SL_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < lv.n && st == SL_OK; i++) {
        size_t nr;
        size_t *rows = vp_rows_where(&lv, sl_table_rows(t), i, &nr);
        if (!rows) st = host->fail(ctx, SL_ERR_NOMEM, "out of memory");
        else st = vp_read_numbers(host, ctx, t, tname, sp->value, rows, nr, ref, &g[i]);
        free(rows);
    }
    *k = lv.n;
    vp_levels_free(&lv);
    *groups = g;
    if (st != SL_OK) {
        for (size_t i = 0; i < *k; i++) vp_numbers_free(&g[i]);
        free(g);
        *groups = NULL;
        *k = 0;
    }
    return st;
}

/* Cross-tabulation of two categorical columns. */
static sl_status crosstab(const sl_host *host, sl_op_ctx *ctx, const sl_table *t, const char *tname, const vp_spec *sp,
                          double **tab, size_t *r, size_t *c, vp_outcome *o) {
    size_t xc, yc;
    sl_status st;
    if (!sp->x || !sp->y) return host->fail(ctx, SL_ERR_INVALID, "%s: name the two categorical columns (x and y)", tname);
    if ((st = vp_find_col(host, ctx, t, tname, sp->x, &xc)) != SL_OK) return st;
    if ((st = vp_find_col(host, ctx, t, tname, sp->y, &yc)) != SL_OK) return st;
    vp_levels lx, ly;
    if ((st = vp_levels_of(host, ctx, t, xc, &lx)) != SL_OK) return st;
    if ((st = vp_levels_of(host, ctx, t, yc, &ly)) != SL_OK) {
        vp_levels_free(&lx);
        return st;
    }
    *r = lx.n;
    *c = ly.n;
    *tab = calloc(lx.n * ly.n + 1, sizeof **tab);
    if (!*tab) st = host->fail(ctx, SL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == SL_OK && i < sl_table_rows(t); i++) (*tab)[lx.of_row[i] * ly.n + ly.of_row[i]] += 1.0;
    snprintf(o->groups[0], sizeof o->groups[0], "%s", sp->x);
    snprintf(o->groups[1], sizeof o->groups[1], "%s", sp->y);
    vp_levels_free(&lx);
    vp_levels_free(&ly);
    return st;
}

sl_status vp_run_test(const sl_host *host, sl_op_ctx *ctx, const sl_table *t, const char *tname, const vp_spec *sp, vp_outcome *o) {
    outcome_init(o);
    vp_ref ref = {0};
    vp_numbers a = {0}, b = {0};
    sl_status st = SL_OK;
    const vs_alternative alt = sp->alt;
    switch (sp->test) {
    case VP_STUDENT:
    case VP_WELCH:
    case VP_MANNWHITNEY: {
        if ((st = two_samples(host, ctx, t, tname, sp, &ref, &a, &b, o, 0)) != SL_OK) break;
        char la[128], lb[128];
        snprintf(la, sizeof la, "%s", o->groups[0]);
        snprintf(lb, sizeof lb, "%s", o->groups[1]);
        describe(o, 0, &ref, &a, la);
        describe(o, 1, &ref, &b, lb);
        if (a.n == 0 || b.n == 0) {
            st = host->fail(ctx, SL_ERR_INVALID, "%s: group '%s' is empty", tname, a.n == 0 ? la : lb);
            break;
        }
        vs_moments ma, mb;
        vs_moments_compute(a.off, a.n, &ma);
        vs_moments_compute(b.off, b.n, &mb);
        o->estimate = ma.mean - mb.mean;
        o->estimate_name = "mean_difference";
        if (sp->test == VP_MANNWHITNEY) {
            vs_mannwhitneyu(a.off, a.n, b.off, b.n, alt, sp->method, sp->continuity, &o->res);
            if (!isnan(o->res.statistic)) vs_effect_rank_biserial(o->res.statistic, a.n, b.n, sp->level, &o->effect);
        } else {
            vs_ttest_ind(a.off, a.n, b.off, b.n, sp->test == VP_STUDENT, alt, &o->res);
            vs_effect d;
            vs_effect_cohen_d(a.off, a.n, b.off, b.n, sp->level, &d, &o->effect);
        }
        o->n_total = a.n + b.n;
        break;
    }
    case VP_PAIRED:
    case VP_WILCOXON: {
        if ((st = two_samples(host, ctx, t, tname, sp, &ref, &a, &b, o, 1)) != SL_OK) break;
        char la[128], lb[128];
        snprintf(la, sizeof la, "%s", o->groups[0]);
        snprintf(lb, sizeof lb, "%s", o->groups[1]);
        describe(o, 0, &ref, &a, la);
        describe(o, 1, &ref, &b, lb);
        size_t n = a.n;
        double *d = malloc((n ? n : 1) * sizeof *d);
        if (!d) {
            st = host->fail(ctx, SL_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t i = 0; i < n; i++) d[i] = a.off[i] - b.off[i];
        vs_moments md;
        vs_moments_compute(d, n, &md);
        o->estimate = md.mean;
        o->estimate_name = "mean_of_differences";
        if (sp->test == VP_PAIRED) {
            vs_ttest_1samp(d, n, 0.0, alt, &o->res);
            vs_effect_paired_d(d, n, sp->level, &o->effect);
        } else {
            vs_wilcoxon(d, n, sp->zero_method, 0, alt, sp->method, &o->res);
            /* matched-pairs rank-biserial r = (R+ - R-) / (R+ + R-) from the signed ranks */
            double *ad = malloc((n ? n : 1) * sizeof *ad), *rk = malloc((n ? n : 1) * sizeof *rk);
            size_t m = 0;
            if (ad && rk) {
                for (size_t i = 0; i < n; i++)
                    if (d[i] != 0) ad[m++] = fabs(d[i]);
                vs_rankdata(ad, m, rk);
                double rp = 0, tot = 0;
                m = 0;
                for (size_t i = 0; i < n; i++)
                    if (d[i] != 0) {
                        if (d[i] > 0) rp += rk[m];
                        tot += rk[m++];
                    }
                double md2 = (double)m;
                double r = tot > 0 ? (2.0 * rp - tot) / tot : NAN;
                double se = md2 > 0 ? 4.0 * sqrt(md2 * (md2 + 1) * (2 * md2 + 1) / 24.0) / (md2 * (md2 + 1)) : NAN;
                double z = vs_norm_ppf(0.5 + 0.5 * sp->level);
                o->effect.name = "rank_biserial";
                o->effect.value = r;
                o->effect.lo = fmax(-1.0, r - z * se);
                o->effect.hi = fmin(1.0, r + z * se);
            }
            free(ad);
            free(rk);
        }
        free(d);
        o->n_total = n;
        break;
    }
    case VP_ANOVA:
    case VP_WELCH_ANOVA:
    case VP_KRUSKAL: {
        vp_numbers *g;
        size_t k;
        if ((st = k_samples(host, ctx, t, tname, sp, &ref, &g, &k)) != SL_OK) break;
        const double **ptr = malloc(k * sizeof *ptr);
        size_t *ns = malloc(k * sizeof *ns);
        if (!ptr || !ns) {
            free(ptr);
            free(ns);
            for (size_t i = 0; i < k; i++) vp_numbers_free(&g[i]);
            free(g);
            st = host->fail(ctx, SL_ERR_NOMEM, "out of memory");
            break;
        }
        size_t N = 0;
        for (size_t i = 0; i < k; i++) {
            ptr[i] = g[i].off;
            ns[i] = g[i].n;
            N += g[i].n;
        }
        if (sp->test == VP_KRUSKAL) {
            vs_kruskal(ptr, ns, k, &o->res);
            /* epsilon^2 = H / (N - 1) (Tomczak & Tomczak 2014); no interval */
            o->effect.name = "epsilon_squared";
            o->effect.value = o->res.statistic / ((double)N - 1.0);
        } else {
            vs_anova_oneway(ptr, ns, k, sp->test == VP_WELCH_ANOVA, &o->res);
            vs_effect om;
            vs_effect_eta_omega(o->res.statistic, o->res.df, sp->test == VP_WELCH_ANOVA ? (double)(N - k) : o->res.df2, sp->level,
                                &o->effect, &om);
        }
        o->n_total = N;
        snprintf(o->groups[0], sizeof o->groups[0], "%s", sp->value);
        snprintf(o->groups[1], sizeof o->groups[1], "%s", sp->group);
        free(ptr);
        free(ns);
        for (size_t i = 0; i < k; i++) vp_numbers_free(&g[i]);
        free(g);
        break;
    }
    case VP_PEARSON:
    case VP_SPEARMAN:
    case VP_KENDALL: {
        if (!sp->x || !sp->y) {
            st = host->fail(ctx, SL_ERR_INVALID, "%s: name the two columns to correlate (x and y)", tname);
            break;
        }
        vp_ref rx = {0}, ry = {0};
        if ((st = vp_read_numbers(host, ctx, t, tname, sp->x, NULL, 0, &rx, &a)) != SL_OK) break;
        if ((st = vp_read_numbers(host, ctx, t, tname, sp->y, NULL, 0, &ry, &b)) != SL_OK) break;
        describe(o, 0, &rx, &a, sp->x);
        describe(o, 1, &ry, &b, sp->y);
        size_t n = a.n;
        if (sp->test == VP_PEARSON) vs_pearson(a.off, b.off, n, alt, &o->res);
        else if (sp->test == VP_SPEARMAN) vs_spearman(a.off, b.off, n, alt, &o->res);
        else vs_kendall(a.off, b.off, n, alt, sp->method, &o->res);
        double r = o->res.statistic;
        vs_effect_r(r, n, sp->level, &o->effect);
        if (sp->test != VP_PEARSON && n > 4 && !isnan(r)) {
            /* Fieller, Hartley & Pearson (1957) standard errors of atanh for rank correlations */
            double se = sp->test == VP_SPEARMAN ? sqrt(1.06 / ((double)n - 3.0)) : sqrt(0.437 / ((double)n - 4.0));
            double z = vs_norm_ppf(0.5 + 0.5 * sp->level), rr = fmax(-0.9999999999999, fmin(0.9999999999999, r));
            o->effect.lo = tanh(atanh(rr) - z * se);
            o->effect.hi = tanh(atanh(rr) + z * se);
        }
        o->effect.name = sp->test == VP_PEARSON ? "r" : sp->test == VP_SPEARMAN ? "rho" : "tau_b";
        o->estimate = r;
        o->estimate_name = o->effect.name;
        o->n_total = n;
        break;
    }
    case VP_CHI2:
    case VP_GTEST:
    case VP_FISHER: {
        double *tab = NULL;
        size_t r = 0, c = 0;
        if ((st = crosstab(host, ctx, t, tname, sp, &tab, &r, &c, o)) != SL_OK) {
            free(tab);
            break;
        }
        double N = 0;
        for (size_t i = 0; i < r * c; i++) N += tab[i];
        o->n_total = (size_t)N;
        if (sp->test == VP_FISHER) {
            if (r != 2 || c != 2) {
                free(tab);
                st = host->fail(ctx, SL_ERR_INVALID, "%s: Fisher's exact test needs a 2x2 table, but columns '%s' and '%s' have %zu and %zu levels",
                                tname, sp->x, sp->y, r, c);
                break;
            }
            vs_fisher_exact(tab[0], tab[1], tab[2], tab[3], alt, &o->res);
            vs_effect_odds_ratio(tab[0], tab[1], tab[2], tab[3], sp->level, &o->effect);
            o->estimate = o->res.statistic;
            o->estimate_name = "odds_ratio";
        } else {
            vs_chi2_contingency(tab, r, c, sp->correction, sp->test == VP_GTEST, &o->res);
            vs_effect_cramers_v(o->res.statistic, N, r, c, sp->level, &o->effect);
        }
        free(tab);
        break;
    }
    default:
        st = host->fail(ctx, SL_ERR_INVALID, "unknown test");
    }
    vp_numbers_free(&a);
    vp_numbers_free(&b);
    return st;
}

static const char *alt_name(vs_alternative a) { return a == VS_LESS ? "less" : a == VS_GREATER ? "greater" : "two-sided"; }

json_t *vp_outcome_json(const vp_spec *sp, const vp_outcome *o) {
    json_t *j = json_object();
    json_object_set_new(j, "test", json_string(vp_test_name(sp->test)));
    json_object_set_new(j, "alternative", json_string(alt_name(sp->alt)));
    json_object_set_new(j, "statistic", vp_json_num(o->res.statistic));
    json_object_set_new(j, "p", vp_json_num(o->res.p));
    json_object_set_new(j, "df", vp_json_num(o->res.df));
    if (!isnan(o->res.df2)) json_object_set_new(j, "df2", vp_json_num(o->res.df2));
    if (!isnan(o->res.z)) json_object_set_new(j, "z", vp_json_num(o->res.z));
    json_object_set_new(j, "method", o->res.method ? json_string(o->res.method) : json_null());
    json_object_set_new(j, "note", o->res.note ? json_string(o->res.note) : json_null());
    json_object_set_new(j, "n", json_integer((json_int_t)o->n_total));
    if (o->estimate_name) {
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(o->estimate_name));
        json_object_set_new(e, "value", vp_json_num(o->estimate));
        json_object_set_new(j, "estimate", e);
    }
    if (o->effect.name) {
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(o->effect.name));
        json_object_set_new(e, "value", vp_json_num(o->effect.value));
        json_object_set_new(e, "ci_low", vp_json_num(o->effect.lo));
        json_object_set_new(e, "ci_high", vp_json_num(o->effect.hi));
        json_object_set_new(e, "level", json_real(sp->level));
        json_object_set_new(j, "effect", e);
    }
    json_t *g = json_array();
    for (int i = 0; i < 2; i++) {
        if (!o->groups[i][0]) continue;
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(o->groups[i]));
        if (o->n[i]) {
            json_object_set_new(e, "n", json_integer((json_int_t)o->n[i]));
            json_object_set_new(e, "mean", vp_json_num(o->mean[i]));
            json_object_set_new(e, "sd", vp_json_num(o->sd[i]));
        }
        json_array_append_new(g, e);
    }
    json_object_set_new(j, "groups", g);
    return j;
}
