"""casegen.py — the deterministic data generator shared (bit for bit) with tests/unit/validate-stats/casegen.h.

Every reference case is a handful of integers (seed, sizes, spread, shifts, decimals); the data
are regenerated from them on both sides, so the committed reference files stay small while
covering samples of up to several thousand values. Values are integers k divided by 10^d, which
is correctly rounded in both C and Python, so both sides see the same doubles.
"""

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


class Rng:
    """splitmix64, as vs_rng_next in the C library."""

    def __init__(self, seed):
        self.s = seed & MASK

    def next(self):
        self.s = (self.s + GAMMA) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform integer in [0, n): vs_rng_below."""
        threshold = ((1 << 64) - n) % n
        while True:
            x = self.next()
            if x >= threshold:
                return x % n


def ints(rng, n, bits, shift):
    """n integers: shift + (sum of four `bits`-bit uniforms) - 2 * 2^bits (bell-shaped, centred)."""
    out = []
    for _ in range(n):
        s = 0
        for _ in range(4):
            s += rng.next() >> (64 - bits)
        out.append(shift + s - 2 * (1 << bits))
    return out


def scaled(k, d):
    """k / 10^d, correctly rounded (as (double)k / 1e<d> in C for d <= 22)."""
    return [v / 10**d for v in k]
