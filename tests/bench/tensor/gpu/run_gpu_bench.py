#!/usr/bin/env python3
"""run_gpu_bench.py — GPU benchmarks of the tensor runtime against PyTorch, side by side in one run.

Runs bench_gpu (the runtime) and the PyTorch peers on the same GPU, one after the other:
  * bf16 GEMM vs torch.matmul;
  * causal attention forward and forward+backward vs torch.nn.functional.scaled_dot_product_attention;
  * a GPT-2 124M training step (seq 1024, bf16, AdamW, clipping) vs the same model in PyTorch
    with torch.compile and SDPA, both starting from the same weights and batch (the runtime
    writes them to a safetensors file the peer loads), so their losses can be compared too.
Prints a table of ratios (ours / PyTorch; > 1 means faster) and MFU, and writes JSON with --json.

Usage: run_gpu_bench.py --bin build/bench/bench_gpu [--batch 32] [--steps 10] [--json out.json]
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

H100_BF16_PEAK = 989e12  # dense bf16 tensor-core peak of an H100 SXM (datasheet)


def run_ours(binary, args, log):
    t0 = time.time()
    p = subprocess.run([binary] + [str(a) for a in args], capture_output=True, text=True)
    log.write("$ %s %s (rc %d, %.1f s)\n%s%s\n" % (binary, " ".join(map(str, args)), p.returncode,
                                                     time.time() - t0, p.stdout, p.stderr))
    log.flush()
    results = []
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            kv = dict(x.split("=", 1) for x in line.split()[2:])
            results.append(kv)
    return p, results


def cuda_time(fn, reps, rounds=5):
    import torch
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(rounds):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(reps):
            fn()
        b.record()
        torch.cuda.synchronize()
        ts.append(a.elapsed_time(b) / reps / 1e3)
    ts.sort()
    return ts[len(ts) // 2]


def torch_gemm(M, N, K):
    import torch
    a = torch.randn(M, K, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(K, N, device="cuda", dtype=torch.bfloat16)
    flop = 2.0 * M * N * K
    reps = min(500, int(2e13 / flop) + 1)
    s = cuda_time(lambda: torch.matmul(a, b), reps, 7)
    return flop / s * 1e-12


def torch_attn(B, H, T, D, causal):
    import torch
    import torch.nn.functional as F
    C = H * D
    qkv = torch.randn(B, T, 3 * C, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    dout = torch.randn(B, H, T, D, device="cuda", dtype=torch.bfloat16)

    def heads(x):
        return x.view(B, T, H, D).transpose(1, 2)

    def fwd():
        q, k, v = qkv.split(C, dim=2)
        return F.scaled_dot_product_attention(heads(q), heads(k), heads(v), is_causal=causal)

    def fwdbwd():
        out = fwd()
        torch.autograd.grad(out, qkv, dout)

    with torch.no_grad():
        f = cuda_time(fwd, 50)
    fb = cuda_time(fwdbwd, 50)
    flop = 4.0 * B * H * T * T * D * (0.5 if causal else 1.0)
    return flop / f * 1e-12, 3.5 * flop / fb * 1e-12


def load_safetensors(path):
    import torch
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": torch.float32, "I32": torch.int32, "I64": torch.int64, "BF16": torch.bfloat16}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        s, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[s:e]), dtype=dtypes[info["dtype"]])
        out[name] = t.reshape(info["shape"])
    return out


def torch_gpt2(B, T, steps, init_path, log):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    L, H, C, V = 12, 12, 768, 50304

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
            self.c_attn, self.attn_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
            q, k, v = (z.view(b, t, H, C // H).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.attn_proj(y.transpose(1, 2).contiguous().view(b, t, C))
            return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(1024, C)
            self.h = nn.ModuleList(Block() for _ in range(L))
            self.ln_f = nn.LayerNorm(C)

        def forward(self, idx, targets):
            pos = torch.arange(idx.shape[1], device=idx.device)
            x = self.wte(idx) + self.wpe(pos)
            for blk in self.h:
                x = blk(x)
            logits = F.linear(self.ln_f(x), self.wte.weight)  # tied LM head
            return F.cross_entropy(logits.view(-1, V).float(), targets.view(-1))

    st = load_safetensors(init_path)
    model = GPT()
    sd = {"wte.weight": st["wte"], "wpe.weight": st["wpe"], "ln_f.weight": st["ln_f.weight"],
          "ln_f.bias": st["ln_f.bias"]}
    names = {"ln_1": "ln_1", "ln_2": "ln_2", "attn.c_attn": "c_attn", "attn.c_proj": "attn_proj",
             "mlp.c_fc": "c_fc", "mlp.c_proj": "mlp_proj"}
    for l in range(L):
        for ours, theirs in names.items():
            for p in ("weight", "bias"):
                sd["h.%d.%s.%s" % (l, theirs, p)] = st["h.%d.%s.%s" % (l, ours, p)]
    model.load_state_dict(sd)
    model.cuda()
    ids = st["ids"].view(B, T).long().cuda()
    tg = st["targets"].view(B, T).long().cuda()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=6e-4, betas=(0.9, 0.95), eps=1e-8, fused=True)
    cmodel = torch.compile(model)
    losses, times = [], []
    warm = 3
    for s in range(warm + steps):
        torch.cuda.synchronize()
        t0 = time.time()
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            loss = cmodel(ids, tg)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        lv = loss.item()
        dt = time.time() - t0
        losses.append(lv)
        if s >= warm:
            times.append(dt)
        log.write("torch STEP %d loss=%.5f ms=%.2f\n" % (s + 1, lv, dt * 1e3))
        log.flush()
    times.sort()
    med = times[len(times) // 2]
    del cmodel, model, opt
    torch.cuda.empty_cache()
    return B * T / med, med, losses


def gpt2_flops_per_token(params, T, L=12, C=768):
    # nanoGPT's estimate: 6 N (N without the position table) + 12 L C T for attention
    return 6.0 * (params - 1024 * C) + 12.0 * L * C * T


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="path of bench_gpu")
    ap.add_argument("--batch", type=int, default=32, help="GPT-2 batch (sequences of 1024)")
    ap.add_argument("--steps", type=int, default=10, help="timed GPT-2 steps (after 3 warm-up steps)")
    ap.add_argument("--json", help="write all numbers here")
    ap.add_argument("--log", default="-", help="full log of both sides (default: stderr)")
    ap.add_argument("--skip", default="", help="comma list of sections to skip: check,ops,gemm,attn,gpt2")
    a = ap.parse_args()
    log = sys.stderr if a.log == "-" else open(a.log, "w")
    skip = set(x for x in a.skip.split(",") if x)
    import torch
    report = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "rows": []}
    rows = report["rows"]
    print("device: %s, torch %s" % (report["device"], report["torch"]), flush=True)

    if "check" not in skip:
        p, res = run_ours(a.bin, ["check"], log)
        for line in p.stdout.splitlines():
            if line.startswith("CHECK"):
                print(line, flush=True)
        report["check_failures"] = int(res[0]["failures"]) if res else -1

    if "ops" not in skip:
        _, res = run_ours(a.bin, ["ops"], log)
        report["ops"] = res
        for r in res:
            print("op %-26s %8s ms %6s GB/s" % (r["name"], r["ms"], r["gbps"]), flush=True)

    if "gemm" not in skip:
        for (M, N, K) in [(4096, 4096, 4096), (8192, 8192, 8192), (32768, 3072, 768), (32768, 768, 3072)]:
            _, res = run_ours(a.bin, ["gemm", M, N, K], log)
            ours = float(res[0]["tflops"]) if res else float("nan")
            theirs = torch_gemm(M, N, K)
            rows.append({"bench": "gemm bf16 %dx%dx%d" % (M, N, K), "unit": "TFLOP/s", "ours": ours,
                         "torch": theirs, "ratio": ours / theirs})
            print("gemm %5dx%5dx%5d  ours %7.1f TFLOP/s  torch.matmul %7.1f  ratio %.3f" %
                  (M, N, K, ours, theirs, ours / theirs), flush=True)

    if "attn" not in skip:
        for (B, H, T, D, causal) in [(16, 12, 1024, 64, 1), (4, 12, 4096, 64, 1), (16, 12, 1024, 64, 0),
                                     (8, 16, 2048, 128, 1)]:
            _, res = run_ours(a.bin, ["attn", B, H, T, D, causal], log)
            of = float(res[0]["fwd_tflops"]) if res else float("nan")
            ofb = float(res[0]["fwdbwd_tflops"]) if res else float("nan")
            tf, tfb = torch_attn(B, H, T, D, bool(causal))
            name = "attention B=%d H=%d T=%d D=%d%s" % (B, H, T, D, " causal" if causal else "")
            rows.append({"bench": name + " fwd", "unit": "TFLOP/s", "ours": of, "torch": tf, "ratio": of / tf})
            rows.append({"bench": name + " fwd+bwd", "unit": "TFLOP/s", "ours": ofb, "torch": tfb,
                         "ratio": ofb / tfb})
            print("%s  fwd ours %6.1f sdpa %6.1f (%.3f)  fwd+bwd ours %6.1f sdpa %6.1f (%.3f)" %
                  (name, of, tf, of / tf, ofb, tfb, ofb / tfb), flush=True)

    if "gpt2" not in skip:
        B, T = a.batch, 1024
        init = os.path.join(tempfile.mkdtemp(), "gpt2_init.safetensors")
        p, res = run_ours(a.bin, ["gpt2", B, T, a.steps, init], log)
        if any("tokens_per_s" in r for r in res):
            phases = [r for r in res if "forward_ms" in r]
            res = [r for r in res if "tokens_per_s" in r]
            ours_tps = float(res[0]["tokens_per_s"])
            params = int(res[0]["params"])
            if phases:
                report["gpt2_phases"] = phases[0]
                print("gpt2 ours, one synchronised step: forward %s ms, backward %s ms, optimizer %s ms" %
                      (phases[0]["forward_ms"], phases[0]["backward_ms"], phases[0]["optimizer_ms"]), flush=True)
            ours_losses = [float(m.group(1)) for m in re.finditer(r"STEP \d+ loss=([0-9.eE+-]+)", p.stdout)]
            theirs_tps, _, theirs_losses = torch_gpt2(B, T, a.steps, init, log)
            fpt = gpt2_flops_per_token(params, T)
            n = min(len(ours_losses), len(theirs_losses))
            dloss = max(abs(x - y) for x, y in zip(ours_losses[:n], theirs_losses[:n]))
            rows.append({"bench": "gpt2-124M train step B=%d T=%d" % (B, T), "unit": "tokens/s", "ours": ours_tps,
                         "torch": theirs_tps, "ratio": ours_tps / theirs_tps,
                         "mfu_ours": ours_tps * fpt / H100_BF16_PEAK, "mfu_torch": theirs_tps * fpt / H100_BF16_PEAK,
                         "losses_ours": ours_losses, "losses_torch": theirs_losses, "max_loss_diff": dloss})
            print("gpt2 B=%d T=%d  ours %.0f tok/s (MFU %.1f%%)  torch.compile %.0f tok/s (MFU %.1f%%)  ratio %.3f" %
                  (B, T, ours_tps, 100 * ours_tps * fpt / H100_BF16_PEAK, theirs_tps,
                   100 * theirs_tps * fpt / H100_BF16_PEAK, ours_tps / theirs_tps), flush=True)
            print("gpt2 losses ours  %s" % " ".join("%.4f" % x for x in ours_losses), flush=True)
            print("gpt2 losses torch %s" % " ".join("%.4f" % x for x in theirs_losses), flush=True)
            print("gpt2 max |loss difference| over %d steps: %.4f" % (n, dloss), flush=True)
        else:
            print("gpt2 B=%d: runtime failed (%s)" % (B, res[0] if res else p.stderr[-500:]), flush=True)

    print("\n%-50s %-9s %10s %10s %7s" % ("benchmark", "unit", "ours", "pytorch", "ratio"))
    for r in rows:
        print("%-50s %-9s %10.1f %10.1f %7.3f" % (r["bench"], r["unit"], r["ours"], r["torch"], r["ratio"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0 if report.get("check_failures", 0) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
