#!/usr/bin/env python3
"""illcond.py — ill-conditioned data sets and their exact (50-digit) reference results.

Run:  python3 tests/reference/validate/illcond.py   (needs: pip install mpmath)

Writes data/illcond_*.csv. The data sets follow the pattern of the NIST StRD certification
problems but are built here, harder:
  * moments: decimals sharing 13-15 leading digits (mean and sd from exact rational arithmetic);
  * poly10:  a degree-10 polynomial fit on x in [-9, -3] (columns 1, x, ..., x^10 nearly
             collinear); the design matrix is formed in double by repeated multiplication, as
             the C test does, and solved at 50 digits from exactly those doubles;
  * anova:   nine groups whose values differ only in the 14th significant digit (F from
             exact rational sums of squares).
"""
import csv
import os
from decimal import Decimal
from fractions import Fraction

import mpmath as mp

mp.mp.dps = 50
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def lcg(seed):
    """A tiny deterministic generator for the data's last digits (no dependence on numpy)."""
    s = seed
    while True:
        s = (s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield s >> 33


def exact_moments(texts):
    v = [Fraction(Decimal(t)) for t in texts]
    n = len(v)
    m = sum(v) / n
    var = sum((x - m) ** 2 for x in v) / (n - 1)
    return m, var


def moments():
    sets = []
    # A: 10000000000000.1 / .2 / .3 repeating (NumAcc4 pattern, one more leading digit)
    a = ["10000000000000.2"] + ["10000000000000.1", "10000000000000.3"] * 500
    sets.append(("numacc_14digits", a))
    # B: 16 significant digits, 13 shared, random last three
    g = lcg(7)
    b = ["1234567890123.%03d" % (next(g) % 1000) for _ in range(2001)]
    sets.append(("shared13_random", b))
    # C: 15 shared digits, values 100000000000000.1 .. .9 (needs 16 digits)
    g = lcg(11)
    c = ["100000000000000.%d" % (1 + next(g) % 9) for _ in range(999)]
    sets.append(("shared15", c))
    # D: negative values with exponent notation and 14 shared digits
    g = lcg(13)
    dset = ["-4.0000000000000%02de2" % (next(g) % 100) for _ in range(500)]
    sets.append(("negative_exponent", dset))
    with open(os.path.join(D, "illcond_moments.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["name", "values", "mean", "sd"])
        for name, vals in sets:
            m, var = exact_moments(vals)
            sd = mp.sqrt(mp.mpf(var.numerator) / var.denominator)
            mm = mp.mpf(m.numerator) / m.denominator
            w.writerow([name, ";".join(vals), mp.nstr(mm, 30), mp.nstr(sd, 30)])


def poly10():
    n = 82
    g = lcg(17)
    xs = [-3.0 - 6.0 * i / (n - 1) for i in range(n)]
    beta = [-1467.48961422980, -2772.17959193342, -2316.37108160893, -1127.97394098372, -354.478233703349,
            -75.1242017393757, -10.8753180355343, -1.06221498588947, -0.670191154593408e-1,
            -0.246781078275479e-2, -0.402962525080404e-4]  # NIST Filip's certified values as a shape
    ys = []
    for x in xs:
        xm = Fraction(x)
        y = sum(Fraction(b) * xm**k for k, b in enumerate(beta)) + Fraction((next(g) % 2001) - 1000, 10**6)
        ys.append(float(y))
    # design matrix in double by repeated multiplication (bit-identical to the C test)
    X = []
    for x in xs:
        row, p = [1.0], 1.0
        for _ in range(10):
            p = p * x
            row.append(p)
        X.append(row)
    A = mp.matrix([[mp.mpf(v) for v in r] for r in X])
    yv = mp.matrix([mp.mpf(v) for v in ys])
    # 50-digit least squares via QR of the exact double data (normal equations would square cond)
    Q, R = mp.qr(A)
    rhs = Q.T * yv
    coef = mp.lu_solve(R[:11, :11], rhs[:11]) if R.rows > 11 else mp.lu_solve(R, rhs)
    with open(os.path.join(D, "illcond_poly10.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["x", "y"])
        for x, y in zip(xs, ys):
            w.writerow([repr(x), repr(y)])
    with open(os.path.join(D, "illcond_poly10_ref.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["power", "coef"])
        for k in range(11):
            w.writerow([k, mp.nstr(coef[k], 30)])


def anova():
    g = lcg(19)
    rows = []
    for grp in range(9):
        shift = [0, 1, 0, 2, 0, 1, 0, 3, 0][grp]
        for i in range(21):
            d = (4 + shift + (next(g) % 3) - 1)  # last digit 3..8: groups differ in the 14th digit
            rows.append((f"g{grp + 1}", "1000000000000.%d" % d))
    groups = {}
    for gname, v in rows:
        groups.setdefault(gname, []).append(Fraction(Decimal(v)))
    N = len(rows)
    k = len(groups)
    grand = sum(sum(v) for v in groups.values()) / N
    ssb = sum(len(v) * (sum(v) / len(v) - grand) ** 2 for v in groups.values())
    ssw = sum(sum((x - sum(v) / len(v)) ** 2 for x in v) for v in groups.values())
    F = (ssb / (k - 1)) / (ssw / (N - k))
    with open(os.path.join(D, "illcond_anova.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["group", "value"])
        w.writerows(rows)
    with open(os.path.join(D, "illcond_anova_ref.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["F", "df1", "df2"])
        w.writerow([mp.nstr(mp.mpf(F.numerator) / F.denominator, 30), k - 1, N - k])


if __name__ == "__main__":
    moments()
    poly10()
    anova()
