#!/usr/bin/env python3
"""bench_welch.py — one million two-sample Welch t tests (n = 30 per group): sciloop's validate library vs scipy.

Usage:  python3 tests/bench/validate/bench_welch.py [BUILD_DIR]   (default build/; needs numpy, scipy)

Both run in this process on the same arrays: scipy.stats.ttest_ind(a, b, axis=1, equal_var=False)
and the C kernel (libvalidate_bench.so, built with the project) through ctypes. Prints the time
of each, the speed ratio, and the largest relative difference between the two p-value columns.
"""
import ctypes
import os
import sys
import time

import numpy as np
import scipy
from scipy import stats

ROWS, N = 1_000_000, 30


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    lib = ctypes.CDLL(os.path.join(build, "lib", "libvalidate_bench.so"))
    dp = ctypes.POINTER(ctypes.c_double)
    lib.vs_bench_welch.argtypes = [dp, dp, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_size_t, dp, dp, ctypes.c_int]
    rng = np.random.default_rng(2024)
    a = rng.normal(0.0, 1.0, size=(ROWS, N))
    b = rng.normal(0.3, 1.5, size=(ROWS, N))
    t = np.empty(ROWS)
    p = np.empty(ROWS)

    def ours(threads):
        lib.vs_bench_welch(a.ctypes.data_as(dp), b.ctypes.data_as(dp), ROWS, N, N, t.ctypes.data_as(dp), p.ctypes.data_as(dp), threads)

    def best(f, reps=3):
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            f()
            times.append(time.perf_counter() - t0)
        return min(times)

    ref = stats.ttest_ind(a, b, axis=1, equal_var=False)  # warm-up (and the values to compare)
    t_scipy = best(lambda: stats.ttest_ind(a, b, axis=1, equal_var=False))
    ours(1)
    t_one = best(lambda: ours(1))
    threads = os.cpu_count() or 1
    t_all = best(lambda: ours(threads))
    rel = np.max(np.abs(p - ref.pvalue) / ref.pvalue)
    print(f"{ROWS} Welch t tests, n = {N} per group (scipy {scipy.__version__}, numpy {np.__version__})")
    print(f"  scipy.stats.ttest_ind (vectorised) : {t_scipy:.3f} s")
    print(f"  sciloop validate, 1 thread         : {t_one:.3f} s   ratio {t_scipy / t_one:.1f}x")
    print(f"  sciloop validate, {threads} threads        : {t_all:.3f} s   ratio {t_scipy / t_all:.1f}x")
    print(f"  max relative difference of p-values: {rel:.2e}")


if __name__ == "__main__":
    main()
