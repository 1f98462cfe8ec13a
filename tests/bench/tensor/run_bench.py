#!/usr/bin/env python3
"""run_bench.py — runs the runtime's CPU benchmarks and the PyTorch peer in one go and prints the ratios side by side.

    python3 tests/bench/tensor/run_bench.py BUILD_DIR [THREADS]

BUILD_DIR holds bench/bench_tensor (cmake target bench_tensor). PyTorch runs the same MiniLM-sized
encoder (6 layers, hidden 384, 12 heads, FFN 1536, seq 128, batch 8, 8-label token head, SDPA
attention) forward+backward with torch.set_num_threads(THREADS). Ratios > 1 mean the runtime is faster.
"""
import os
import re
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def torch_minilm(threads, iters=10):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    B, T, C, H, FF, L, V = 8, 128, 384, 12, 1536, 6, 8

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.o = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.ln1, self.ln2 = nn.LayerNorm(C, eps=1e-12), nn.LayerNorm(C, eps=1e-12)
            self.fc, self.fc2 = nn.Linear(C, FF), nn.Linear(FF, C)

        def forward(self, x, mask):
            q, k, v = self.qkv(x).view(B, T, 3, H, C // H).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2).reshape(B, T, C)
            x = self.ln1(x + self.o(a))
            return self.ln2(x + self.fc2(F.gelu(self.fc(x))))

    class Enc(nn.Module):
        def __init__(self):
            super().__init__()
            self.word, self.pos, self.typ = nn.Embedding(V, C), nn.Embedding(512, C), nn.Embedding(2, C)
            self.ln = nn.LayerNorm(C, eps=1e-12)
            self.layers = nn.ModuleList([Layer() for _ in range(L)])
            self.cls = nn.Linear(C, V)

        def forward(self, ids, mask):
            x = self.ln(self.word(ids) + self.pos(torch.arange(T))[None] + self.typ(torch.zeros_like(ids)))
            for layer in self.layers:
                x = layer(x, mask)
            return self.cls(x)

    model = Enc()
    ids = (torch.arange(B * T) * 7 % V).view(B, T)
    tg = (torch.arange(B * T) * 3 % V).view(B, T)
    mask = torch.ones(B, 1, 1, T, dtype=torch.bool)
    times = []
    for r in range(iters + 2):
        t0 = time.perf_counter()
        model.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(ids, mask).view(-1, V), tg.view(-1))
        loss.backward()
        t1 = time.perf_counter()
        if r >= 2:
            times.append(t1 - t0)
    return statistics.median(times) * 1e3


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else (os.cpu_count() or 1)
    exe = os.path.join(build, "bench", "bench_tensor")
    out = subprocess.run([exe, str(threads), "10"], check=True, capture_output=True, text=True).stdout
    print(out, end="")
    ours = float(re.search(r"minilm .* runtime ([0-9.]+) ms", out).group(1))
    theirs = torch_minilm(threads)
    print(f"minilm fwd+bwd  PyTorch {torch.__version__} ({threads} threads) {theirs:.1f} ms  runtime {ours:.1f} ms"
          f"  ratio {theirs / ours:.3f}")
    print("\nsummary (ratio = peer time / runtime time; bar: gemm >= 0.95, minilm >= 1.0)")
    for m in re.finditer(r"^(gemm \S+(?: \(B\^T\))?).*ratio ([0-9.]+)$", out, re.M):
        print(f"  {m.group(1):<28} vs OpenBLAS  {float(m.group(2)):.3f}")
    print(f"  {'minilm fwd+bwd':<28} vs PyTorch   {theirs / ours:.3f}")


if __name__ == "__main__":
    main()
