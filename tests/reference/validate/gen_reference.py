#!/usr/bin/env python3
"""gen_reference.py — reference values for the validate plugin's statistics, from scipy / statsmodels / mpmath.

Run:  python3 tests/reference/validate/gen_reference.py   (needs: pip install scipy statsmodels mpmath numpy)

Writes tests/reference/validate/data/<test>.csv: one line per case with the integers that
regenerate its data (see casegen.py) and the values scipy or statsmodels print for it, with
17 significant digits. Where scipy's float64 formula for a statistic loses digits to
cancellation (a t or F statistic from nearly equal means, r close to +-1), an mpmath value of
the same statistic at 50 digits is stored too (`mp_stat`) together with scipy's p-value at that
statistic (`p_at_mp`), so the tests can tell a disagreement caused by scipy's rounding from one
caused by ours.
"""
import csv
import math
import os
import sys
import warnings

import mpmath as mp
import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.multitest import multipletests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from casegen import Rng, ints, scaled  # noqa: E402

mp.mp.dps = 50
warnings.simplefilter("ignore")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
NCASES = 1000
ALTS = ["two-sided", "less", "greater"]


def r17(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def write(name, header, rows):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([r17(v) if isinstance(v, (float, np.floating)) else v for v in r])
    print(f"{name}: {len(rows)} cases", file=sys.stderr)


def size_for(i, rng):
    """Sample sizes: 40% tiny (2-8), 40% small (9-60), 15% large (61-500), 5% huge (1000-5000)."""
    u = i % 20
    if u < 8:
        return 2 + rng.below(7)
    if u < 16:
        return 9 + rng.below(52)
    if u < 19:
        return 61 + rng.below(440)
    return 1000 + rng.below(4001)


def spread_for(i, rng):
    """bits of the generator: 1-3 gives heavy ties, 20-30 essentially continuous data."""
    c = (i // 3) % 5
    return [2, 4, 10, 20, 30][c] if c != 0 else 1 + rng.below(3)


def shift_for(i, bits, rng):
    """Effect between groups: none, small, large, extreme (far beyond the spread)."""
    c = (i // 7) % 4
    unit = 1 << bits
    if c == 0:
        return 0
    if c == 1:
        return int(rng.below(unit) // 2 + 1)
    if c == 2:
        return int(unit * (1 + rng.below(3)))
    return int(unit * 1000 * (1 + rng.below(50)))


def base_for(i):
    """Common offset: every 11th case shares 12-13 leading digits across all values."""
    return 10**13 if i % 11 == 5 else 0


def mp_mean_ss(xs):
    m = mp.fsum(mp.mpf(x) for x in xs) / len(xs)
    return m, mp.fsum((mp.mpf(x) - m) ** 2 for x in xs)


# ------------------------------------------------------------------------------------------
def two_sample_cases(seed0):
    cases = []
    meta = Rng(seed0)
    for i in range(NCASES):
        n1 = size_for(i, meta)
        n2 = size_for(i + 3, meta)
        bits = spread_for(i, meta)
        d = int(meta.below(4))
        base = base_for(i)
        sh = shift_for(i, bits, meta)
        seed = meta.next()
        rng = Rng(seed)
        kx = ints(rng, n1, bits, base)
        ky = ints(rng, n2, bits, base + sh)
        cases.append(dict(seed=seed, n1=n1, n2=n2, bits=bits, base1=base, base2=base + sh, d=d,
                          alt=i % 3, chk=sum(kx) + sum(ky), x=scaled(kx, d), y=scaled(ky, d)))
    return cases


HDR2 = ["seed", "n1", "n2", "bits", "base1", "base2", "d", "alt", "chk"]


def row2(c):
    return [c["seed"], c["n1"], c["n2"], c["bits"], c["base1"], c["base2"], c["d"], c["alt"], c["chk"]]


def gen_ttests():
    for name, equal in (("ttest_student", True), ("ttest_welch", False)):
        rows = []
        for c in two_sample_cases(101 if equal else 202):
            x, y = np.array(c["x"]), np.array(c["y"])
            if len(x) < 2 or len(y) < 2:
                continue
            r = stats.ttest_ind(x, y, equal_var=equal, alternative=ALTS[c["alt"]])
            mx, sx = mp_mean_ss(c["x"])
            my, sy = mp_mean_ss(c["y"])
            n1, n2 = len(x), len(y)
            if equal:
                df = n1 + n2 - 2
                se = mp.sqrt((sx + sy) / df * (mp.mpf(1) / n1 + mp.mpf(1) / n2))
                dfm = df
            else:
                a, b = sx / (n1 - 1) / n1, sy / (n2 - 1) / n2
                se = mp.sqrt(a + b)
                dfm = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1)) if (a + b) != 0 else mp.nan
            tm = (mx - my) / se if se != 0 else (mp.inf if mx > my else (-mp.inf if mx < my else mp.nan))
            pm = _t_p(float(tm), float(dfm), ALTS[c["alt"]])
            rows.append(row2(c) + [float(r.statistic), float(r.pvalue), float(r.df), float(tm), pm, float(dfm)])
        write(name, HDR2 + ["stat", "p", "df", "mp_stat", "p_at_mp", "mp_df"], rows)


def _t_p(t, df, alt):
    if math.isnan(t) or math.isnan(df):
        return float("nan")
    d = stats.t(df)
    if alt == "less":
        return float(d.cdf(t))
    if alt == "greater":
        return float(d.sf(t))
    return float(min(1.0, 2 * d.sf(abs(t))))


def gen_paired():
    rows = []
    meta = Rng(303)
    for i in range(NCASES):
        n = size_for(i, meta)
        if n < 2:
            n = 2
        bits = spread_for(i, meta)
        d = int(meta.below(4))
        base = base_for(i)
        sh = shift_for(i, bits, meta) // 4
        seed = meta.next()
        rng = Rng(seed)
        kx = ints(rng, n, bits, base)
        ky = ints(rng, n, bits, base + sh)
        x, y = scaled(kx, d), scaled(ky, d)
        alt = ALTS[i % 3]
        r = stats.ttest_rel(x, y, alternative=alt)
        dm = [mp.mpf(a) - mp.mpf(b) for a, b in zip(x, y)]
        # scipy forms x - y in float64 first; the statistic of those rounded differences:
        dd = [float(a) - float(b) for a, b in zip(x, y)]
        m, ss = mp_mean_ss(dd)
        se = mp.sqrt(ss / (n - 1) / n)
        tm = m / se if se != 0 else (mp.inf if m > 0 else (-mp.inf if m < 0 else mp.nan))
        del dm
        rows.append([seed, n, n, bits, base, base + sh, d, i % 3, sum(kx) + sum(ky), float(r.statistic), float(r.pvalue),
                     float(r.df), float(tm), _t_p(float(tm), n - 1, alt)])
    write("ttest_paired", HDR2 + ["stat", "p", "df", "mp_stat", "p_at_mp"], rows)


def gen_mwu():
    rows = []
    for k, c in enumerate(two_sample_cases(404)):
        method = ["auto", "auto", "asymptotic", "exact"][k % 4]
        if method == "exact" and (c["n1"] * c["n2"] > 4000 or len(set(c["x"] + c["y"])) < c["n1"] + c["n2"]):
            method = "auto"
        cc = k % 5 != 4
        r = stats.mannwhitneyu(c["x"], c["y"], use_continuity=cc, alternative=ALTS[c["alt"]], method=method)
        rows.append(row2(c) + [["auto", "exact", "asymptotic"].index(method), int(cc), float(r.statistic), float(r.pvalue)])
    write("mannwhitneyu", HDR2 + ["method", "continuity", "stat", "p"], rows)


def gen_wilcoxon():
    rows = []
    meta = Rng(505)
    zms = ["wilcox", "pratt", "zsplit"]
    for i in range(2 * NCASES):
        if len(rows) >= NCASES:
            break
        n = size_for(i, meta)
        bits = spread_for(i, meta)
        d = int(meta.below(3))
        sh = shift_for(i, bits, meta) // 8
        seed = meta.next()
        rng = Rng(seed)
        kx = ints(rng, n, bits, 0)
        ky = ints(rng, n, bits, sh)
        x, y = scaled(kx, d), scaled(ky, d)
        diff = [a - b for a, b in zip(x, y)]
        zm = zms[i % 3]
        corr = (i // 3) % 2 == 1
        method = ["auto", "auto", "asymptotic"][(i // 6) % 3]
        if zm == "wilcox" and all(v == 0 for v in diff):
            continue
        try:
            r = stats.wilcoxon(x, y, zero_method=zm, correction=corr, alternative=ALTS[(i // 18) % 3], method=method)
        except ValueError:
            continue
        rows.append([seed, n, n, bits, 0, sh, d, (i // 18) % 3, sum(kx) + sum(ky), i % 3, int(corr),
                     ["auto", "exact", "asymptotic"].index(method), float(r.statistic), float(r.pvalue)])
    write("wilcoxon", HDR2 + ["zero_method", "correction", "method", "stat", "p"], rows)


def k_groups(meta, i):
    k = 2 + meta.below(5)
    bits = spread_for(i, meta)
    d = int(meta.below(4))
    base = base_for(i)
    seed = meta.next()
    rng = Rng(seed)
    sizes, shifts, groups, chk = [], [], [], 0
    for g in range(k):
        n = size_for(i + g, meta) if i % 20 != 19 else 200 + meta.below(800)
        sh = shift_for(i + g, bits, meta) if g else 0
        kk = ints(rng, n, bits, base + sh)
        chk += sum(kk)
        sizes.append(n)
        shifts.append(base + sh)
        groups.append(scaled(kk, d))
    return seed, k, bits, d, sizes, shifts, groups, chk


def gen_anova():
    for name, seed0 in (("anova_oneway", 606), ("anova_welch", 707), ("kruskal", 808)):
        rows = []
        meta = Rng(seed0)
        for i in range(2 * NCASES):
            if len(rows) >= NCASES:
                break
            seed, k, bits, d, sizes, shifts, groups, chk = k_groups(meta, i)
            if name == "anova_welch":
                sizes = [max(s, 2) for s in sizes]
            if name != "kruskal" and min(sizes) < 2:
                continue
            if name == "anova_oneway":
                r = stats.f_oneway(*groups)
                # mp F
                N = sum(len(g) for g in groups)
                ms = [mp_mean_ss(g) for g in groups]
                grand = mp.fsum(m * len(g) for (m, _), g in zip(ms, groups)) / N
                ssb = mp.fsum(len(g) * (m - grand) ** 2 for (m, _), g in zip(ms, groups))
                ssw = mp.fsum(s for _, s in ms)
                fm = (ssb / (k - 1)) / (ssw / (N - k)) if ssw != 0 else mp.nan
                pm = float(stats.f.sf(float(fm), k - 1, N - k)) if fm == fm else float("nan")
                extra = [float(fm), pm]
            elif name == "anova_welch":
                if any(len(set(g)) < 2 for g in groups):
                    continue
                r = stats.f_oneway(*groups, equal_var=False)
                ms = [mp_mean_ss(g) for g in groups]
                w = [len(g) / (s_ / (len(g) - 1)) for g, (_, s_) in zip(groups, ms)]
                sw = mp.fsum(w)
                yh = mp.fsum(wi * m for wi, (m, _) in zip(w, ms)) / sw
                A = mp.fsum(wi * (m - yh) ** 2 for wi, (m, _) in zip(w, ms)) / (k - 1)
                tmp = mp.fsum((1 - wi / sw) ** 2 / (len(g) - 1) for wi, g in zip(w, groups))
                fm = A / (1 + 2 * (k - 2) * tmp / (k * k - 1))
                df2 = (k * k - 1) / (3 * tmp)
                extra = [float(fm), float(stats.f.sf(float(fm), k - 1, float(df2)))]
            else:
                if len(set(v for g in groups for v in g)) < 2:
                    continue
                r = stats.kruskal(*groups)
                extra = [float("nan"), float("nan")]
            rows.append([seed, k, bits, d, ";".join(map(str, sizes)), ";".join(map(str, shifts)), chk,
                         float(r.statistic), float(r.pvalue)] + extra)
        write(name, ["seed", "k", "bits", "d", "sizes", "shifts", "chk", "stat", "p", "mp_stat", "p_at_mp"], rows)


def gen_anova2():
    import pandas as pd
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm
    rows = []
    meta = Rng(909)
    for i in range(NCASES):
        la, lb = 2 + meta.below(3), 2 + meta.below(3)
        r = 2 + meta.below(6) if i % 20 != 19 else 40 + meta.below(60)
        bits = spread_for(i, meta)
        d = int(meta.below(3))
        effa = shift_for(i, bits, meta)
        effb = shift_for(i + 1, bits, meta)
        seed = meta.next()
        rng = Rng(seed)
        ys, aa, bb, chk = [], [], [], 0
        for a in range(la):
            for b in range(lb):
                kk = ints(rng, r, bits, a * effa + b * effb + (a * b * effa) // 3)
                chk += sum(kk)
                ys += scaled(kk, d)
                aa += [a] * r
                bb += [b] * r
        df = pd.DataFrame({"y": ys, "a": aa, "b": bb})
        fit = smf.ols("y ~ C(a) * C(b)", data=df).fit()
        t = anova_lm(fit, typ=2)
        vals = []
        for key in ("C(a)", "C(b)", "C(a):C(b)"):
            vals += [float(t.loc[key, "sum_sq"]), float(t.loc[key, "F"]), float(t.loc[key, "PR(>F)"])]
        vals.append(float(t.loc["Residual", "sum_sq"]))
        # the same sums of squares at 50 digits (balanced design: closed forms)
        cell = {}
        for yv, a, b in zip(ys, aa, bb):
            cell.setdefault((a, b), []).append(mp.mpf(yv))
        cm = {key: mp.fsum(v) / r for key, v in cell.items()}
        g = mp.fsum(cm.values()) / (la * lb)
        am = [mp.fsum(cm[(a, b)] for b in range(lb)) / lb for a in range(la)]
        bm = [mp.fsum(cm[(a, b)] for a in range(la)) / la for b in range(lb)]
        ssa = r * lb * mp.fsum((v - g) ** 2 for v in am)
        ssb = r * la * mp.fsum((v - g) ** 2 for v in bm)
        ssab = r * mp.fsum((cm[(a, b)] - am[a] - bm[b] + g) ** 2 for a in range(la) for b in range(lb))
        sse = mp.fsum((mp.mpf(yv) - cm[(a, b)]) ** 2 for yv, a, b in zip(ys, aa, bb))
        dfe = la * lb * (r - 1)
        mpv = []
        for ss_, df_ in ((ssa, la - 1), (ssb, lb - 1), (ssab, (la - 1) * (lb - 1))):
            F = (ss_ / df_) / (sse / dfe) if sse != 0 else mp.nan
            mpv += [float(F), float(stats.f.sf(float(F), df_, dfe)) if F == F else float("nan")]
        rows.append([seed, la, lb, r, bits, d, effa, effb, chk] + vals + mpv)
    write("anova_twoway", ["seed", "la", "lb", "r", "bits", "d", "effa", "effb", "chk",
                           "ss_a", "F_a", "p_a", "ss_b", "F_b", "p_b", "ss_ab", "F_ab", "p_ab", "ss_resid",
                           "mp_F_a", "mp_p_a", "mp_F_b", "mp_p_b", "mp_F_ab", "mp_p_ab"], rows)


def gen_ols():
    import statsmodels.api as sm
    rows = []
    meta = Rng(1010)
    for i in range(2 * NCASES):
        if len(rows) >= NCASES:
            break
        n = [5, 12, 40, 200, 2000][i % 5] + meta.below(10)
        kind = i % 4  # 0: linear p regressors + intercept, 1: polynomial deg q, 2: no intercept, 3: poly no intercept
        q = 1 + meta.below(4)
        bits = [10, 20, 30][i % 3]
        d = int(meta.below(3))
        seed = meta.next()
        rng = Rng(seed)
        cols, chk = [], 0
        nx = q if kind in (0, 2) else 1
        for j in range(nx):
            kk = ints(rng, n, bits, (j + 1) << bits)
            chk += sum(kk)
            cols.append(scaled(kk, d))
        noise = ints(rng, n, bits, 0)
        chk += sum(noise)
        betas = [int(meta.below(7)) - 3 for _ in range(5)]
        X = []
        if kind in (0, 2):
            X = [np.array(c) for c in cols]
        else:
            x = np.array(cols[0]) / (1 << bits)  # keep powers moderate
            X = [x ** (j + 1) for j in range(q)]
        yv = np.array(scaled(noise, d))
        for j, c in enumerate(X):
            yv = yv + betas[j % 5] * c
        intercept = kind in (0, 1)
        M = np.column_stack(([np.ones(n)] if intercept else []) + X)
        if n <= M.shape[1]:
            continue
        fit = sm.OLS(yv, M).fit()
        vals = [fit.rsquared, fit.rsquared_adj, fit.fvalue if M.shape[1] > (1 if intercept else 0) else float("nan"),
                fit.f_pvalue if M.shape[1] > (1 if intercept else 0) else float("nan"), fit.ssr]
        coef = ";".join(r17(v) for v in fit.params)
        se = ";".join(r17(v) for v in fit.bse)
        pv = ";".join(r17(v) for v in fit.pvalues)
        ci = fit.conf_int(0.05)
        lo = ";".join(r17(v) for v in ci[:, 0])
        # 50-digit solution of the normal equations of the same double data
        Mm = mp.matrix(M.tolist())
        XtX = Mm.T * Mm
        Xty = Mm.T * mp.matrix(yv.tolist())
        bm = mp.lu_solve(XtX, Xty)
        res = mp.matrix(yv.tolist()) - Mm * bm
        ssr_m = mp.fsum(v * v for v in res)
        inv = XtX ** -1
        s2 = ssr_m / (n - M.shape[1])
        ym = mp.fsum(mp.mpf(v) for v in yv) / n
        tss_m = mp.fsum((mp.mpf(v) - ym) ** 2 for v in yv) if intercept else mp.fsum(mp.mpf(v) ** 2 for v in yv)
        r2_m = 1 - ssr_m / tss_m
        kc = 1 if intercept else 0
        dfm = M.shape[1] - kc
        F_m = ((tss_m - ssr_m) / dfm) / (ssr_m / (n - M.shape[1])) if dfm > 0 else mp.nan
        vals += [float(r2_m), float(1 - (n - kc) / mp.mpf(n - M.shape[1]) * (1 - r2_m)), float(F_m)]
        mcoef = ";".join(r17(float(bm[j])) for j in range(M.shape[1]))
        mse_ = ";".join(r17(float(mp.sqrt(s2 * inv[j, j]))) for j in range(M.shape[1]))
        rows.append([seed, n, kind, q, bits, d, ";".join(map(str, betas)), chk] + [float(v) for v in vals] +
                    [coef, se, pv, lo, mcoef, mse_])
    write("ols", ["seed", "n", "kind", "q", "bits", "d", "betas", "chk", "r2", "adj_r2", "F", "F_p", "ssr",
                  "mp_r2", "mp_adj_r2", "mp_F", "coef", "se", "p", "ci_lo", "mp_coef", "mp_se"], rows)


def gen_corr():
    for name, seed0 in (("pearson", 1111), ("spearman", 1212), ("kendall", 1313)):
        rows = []
        meta = Rng(seed0)
        for i in range(2 * NCASES):
            if len(rows) >= NCASES:
                break
            n = max(3, size_for(i, meta))
            if name == "kendall" and i % 20 == 19:
                n = 1000 + meta.below(1000)
            bits = spread_for(i, meta)
            d = int(meta.below(3))
            slope = int(meta.below(7)) - 3
            nbits = [bits, max(1, bits - 4), 1][i % 3]
            seed = meta.next()
            rng = Rng(seed)
            kx = ints(rng, n, bits, base_for(i))
            ke = ints(rng, n, nbits, 0)
            ky = [slope * a + e for a, e in zip(kx, ke)]
            x, y = scaled(kx, d), scaled(ky, d)
            alt = ALTS[i % 3]
            if len(set(x)) < 2 or len(set(y)) < 2:
                continue
            if name == "pearson":
                r = stats.pearsonr(x, y, alternative=alt)
                mx, sx = mp_mean_ss(x)
                my, sy = mp_mean_ss(y)
                sxy = mp.fsum((mp.mpf(a) - mx) * (mp.mpf(b) - my) for a, b in zip(x, y))
                rm = sxy / mp.sqrt(sx * sy)
                dist = stats.beta(n / 2 - 1, n / 2 - 1, loc=-1, scale=2)
                rf = float(rm)
                pm = {"less": dist.cdf(rf), "greater": dist.sf(rf)}.get(alt, min(1.0, 2 * min(dist.cdf(rf), dist.sf(rf))))
                ab = mp.mpf(n) / 2 - 1
                tail = mp.re(mp.betainc(ab, ab, 0, (1 - abs(rm)) / 2, regularized=True))  # P(R >= |r|)
                big = 1 - tail
                cdf, sf = (big, tail) if rm >= 0 else (tail, big)
                pmp = {"less": cdf, "greater": sf}.get(alt, min(mp.mpf(1), 2 * min(cdf, sf)))
                extra = [float(rm), float(pm), float(pmp)]
                method = 0
            elif name == "spearman":
                r = stats.spearmanr(x, y, alternative=alt)
                extra = [float("nan"), float("nan"), float("nan")]
                method = 0
            else:
                method = [0, 0, 2][i % 3] if len(set(x)) == n and len(set(y)) == n else 0
                r = stats.kendalltau(x, y, alternative=alt, method=["auto", "exact", "asymptotic"][method])
                extra = [float("nan"), float("nan"), float("nan")]
            rows.append([seed, n, bits, nbits, d, slope, base_for(i), i % 3, method, sum(kx) + sum(ke),
                         float(r.statistic), float(r.pvalue)] + extra)
        write(name, ["seed", "n", "bits", "nbits", "d", "slope", "base", "alt", "method", "chk", "stat", "p",
                     "mp_stat", "p_at_mp", "p_mp"], rows)


def gen_contingency():
    rows_c, rows_f = [], []
    meta = Rng(1414)
    for i in range(2 * NCASES):
        if len(rows_c) >= NCASES:
            break
        r, c = (2, 2) if i % 3 == 0 else (2 + meta.below(4), 2 + meta.below(4))
        scale = [3, 10, 100, 10000][i % 4]
        tab = [[int(meta.below(scale)) + (int(meta.below(5 * scale)) if (i % 7 == 3 and a == b) else 0)
                for b in range(c)] for a in range(r)]
        if i % 13 == 0:
            tab[0][c - 1] = 0
        if any(sum(row) == 0 for row in tab) or any(sum(tab[a][b] for a in range(r)) == 0 for b in range(c)):
            continue
        corr = i % 2 == 0
        lam = (i // 2) % 2
        res = stats.chi2_contingency(tab, correction=corr, lambda_=("log-likelihood" if lam else None))
        rows_c.append([r, c, ";".join(str(v) for row in tab for v in row), int(corr), lam, float(res.statistic),
                       float(res.pvalue), int(res.dof)])
    meta = Rng(1515)
    for i in range(2 * NCASES):
        if len(rows_f) >= NCASES:
            break
        scale = [4, 12, 50, 300, 3000][i % 5]
        t = [int(meta.below(scale)) for _ in range(4)]
        if i % 9 == 1:
            t[1] = 0
        if i % 9 == 2:
            t[0] += 5 * scale
            t[3] += 5 * scale
        a, b, c, d = t
        if a + b == 0 or c + d == 0 or a + c == 0 or b + d == 0:
            continue
        alt = ALTS[i % 3]
        res = stats.fisher_exact([[a, b], [c, d]], alternative=alt)
        rows_f.append([a, b, c, d, i % 3, float(res.statistic), float(res.pvalue)])
    write("chi2_contingency", ["r", "c", "table", "correction", "lambda_g", "stat", "p", "dof"], rows_c)
    write("fisher_exact", ["a", "b", "c", "d", "alt", "stat", "p"], rows_f)


def gen_multitest():
    rows = []
    meta = Rng(1616)
    methods = ["bonferroni", "holm", "holm-sidak", "fdr_bh", "fdr_by"]
    for i in range(NCASES):
        m = 1 + meta.below([5, 20, 200][i % 3])
        ps = []
        for _ in range(m):
            u = (meta.next() >> 11) / 2.0**53
            kind = meta.below(4)
            p = u if kind < 2 else (u ** 8 if kind == 2 else 10.0 ** (-(meta.below(300))) * u)
            ps.append(float(p))
        if i % 10 == 3:
            ps = [ps[0]] * m  # all tied
        meth = methods[i % 5]
        _, adj, _, _ = multipletests(ps, alpha=0.05, method=meth)
        rows.append([i % 5, ";".join(r17(p) for p in ps), ";".join(r17(p) for p in adj)])
    write("multitest", ["method", "p", "adjusted"], rows)


def _splitmix_stream(seed, count):
    """count consecutive splitmix64 outputs, vectorised (state k = seed + (k+1) * GAMMA)."""
    k = np.arange(1, count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + k * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z


def gen_bootstrap():
    rows = []
    meta = Rng(1717)
    kinds = ["mean", "median", "sd", "mean_diff"]
    for i in range(NCASES):
        kind = i % 4
        nx = 3 + meta.below([10, 40, 200][i % 3])
        ny = 3 + meta.below(30) if kind == 3 else 0
        B = [200, 999, 2000][(i // 4) % 3]
        bits = spread_for(i, meta)
        d = int(meta.below(3))
        level = [0.9, 0.95, 0.99][(i // 12) % 3]
        bca = (i // 36) % 2
        if bca:
            # BCa counts replicates equal to the estimate; with decimal data two sums equal in
            # decimal can differ by an ulp in binary, so "equal" depends on summation details.
            # Integer data keep every such comparison exact on both sides.
            d = 0
        seed = meta.next()
        dseed = meta.next()
        rng = Rng(dseed)
        kx = ints(rng, nx, bits, 0)
        ky = ints(rng, ny, bits, 1 << bits)
        x, y = np.array(scaled(kx, d)), np.array(scaled(ky, d))
        per = nx + ny
        z = _splitmix_stream(seed, B * per)
        # vs_rng_below rejects x < (2^64 - n) % n; with n < 2^20 that has probability < 2^-44
        for n in (nx, ny):
            if n and np.any(z < np.uint64(((1 << 64) - n) % n)):
                raise SystemExit("rejection sampling triggered; pick another seed")
        z = z.reshape(B, per)
        ix = (z[:, :nx] % np.uint64(nx)).astype(np.int64)
        # Order-independent statistics (exactly rounded sums): a resample that is a permutation of
        # the data must give exactly the statistic of the data, or BCa's count of replicates
        # below the estimate becomes floating-point noise. The C library has the same property.
        def fmean(v):
            return math.fsum(v) / len(v)

        def fsd(v):
            m = fmean(v)
            return math.sqrt(math.fsum((t - m) ** 2 for t in v) / (len(v) - 1))

        if bca:
            # integer data: exact rational statistics rounded once, as the C library's
            # double-double ones, so that ties with the estimate are decided identically
            from fractions import Fraction

            def fmean(v):
                return float(Fraction(int(math.fsum(v)), len(v)))

            def fsd(v):
                n_, s1 = len(v), int(math.fsum(v))
                s2 = sum(int(t) * int(t) for t in v)
                return math.sqrt(float(Fraction(n_ * s2 - s1 * s1, n_ * (n_ - 1))))

        def along(f):
            return lambda a, axis=-1: np.apply_along_axis(f, axis, a)

        fun = {"mean": along(fmean), "median": lambda a, axis=-1: np.median(a, axis=axis), "sd": along(fsd)}
        if kind == 3:
            iy = (z[:, nx:] % np.uint64(ny)).astype(np.int64)
            if bca:
                from fractions import Fraction

                def mdiff(a, b):
                    return float(Fraction(int(math.fsum(a)), len(a)) - Fraction(int(math.fsum(b)), len(b)))

                reps = np.array([mdiff(x[i], y[j]) for i, j in zip(ix, iy)])

                def stat(a, b, axis=-1):
                    a, b = np.asarray(a), np.asarray(b)
                    lead = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
                    A = np.broadcast_to(a, lead + a.shape[-1:]).reshape(-1, a.shape[-1])
                    Bm = np.broadcast_to(b, lead + b.shape[-1:]).reshape(-1, b.shape[-1])
                    return np.array([mdiff(p, q) for p, q in zip(A, Bm)]).reshape(lead)
            else:
                reps = fun["mean"](x[ix], axis=1) - fun["mean"](y[iy], axis=1)
                stat = lambda a, b, axis=-1: fun["mean"](a, axis=axis) - fun["mean"](b, axis=axis)  # noqa: E731
            data = (x, y)
            jack = [fmean(np.delete(x, i)) - fmean(y) for i in range(nx)] + [fmean(x) - fmean(np.delete(y, i)) for i in range(ny)]
        else:
            reps = fun[kinds[kind]](x[ix], axis=1)
            data = (x,)
            stat = fun[kinds[kind]]
            jack = [float(stat(np.delete(x, i))) for i in range(nx)]
        # all jackknife values equal: the acceleration is 0/0 and BCa is undefined; scipy then
        # returns an interval driven by the rounding error of its mean of equal numbers
        degenerate = int(bca and max(jack) == min(jack))
        prior = type("R", (), {"bootstrap_distribution": reps})()
        res = stats.bootstrap(data, stat, n_resamples=0, confidence_level=level, method="BCa" if bca else "percentile",
                              bootstrap_result=prior, vectorized=True)
        rows.append([seed, dseed, kind, nx, ny, B, bits, d, level, bca, sum(kx) + sum(ky),
                     float(res.confidence_interval.low), float(res.confidence_interval.high), degenerate])
    write("bootstrap", ["seed", "dseed", "kind", "nx", "ny", "B", "bits", "d", "level", "bca", "chk", "lo", "hi",
                        "degenerate"], rows)


def main():
    print(f"scipy {scipy.__version__}, statsmodels {statsmodels.__version__}, numpy {np.__version__}, mpmath {mp.__version__}",
          file=sys.stderr)
    only = set(sys.argv[1:])
    for name, fn in [("ttests", gen_ttests), ("paired", gen_paired), ("mwu", gen_mwu), ("wilcoxon", gen_wilcoxon),
                     ("anova", gen_anova), ("anova2", gen_anova2), ("ols", gen_ols), ("corr", gen_corr),
                     ("contingency", gen_contingency), ("multitest", gen_multitest), ("bootstrap", gen_bootstrap)]:
        if not only or name in only:
            fn()
    with open(os.path.join(OUT, "VERSIONS"), "w") as f:
        f.write(f"scipy {scipy.__version__}\nstatsmodels {statsmodels.__version__}\nnumpy {np.__version__}\nmpmath {mp.__version__}\n")


if __name__ == "__main__":
    main()
