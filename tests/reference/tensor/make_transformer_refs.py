#!/usr/bin/env python3
"""make_transformer_refs.py — PyTorch reference values for the GPT-2 / BERT parity test of the tensor runtime.

Builds a 2-layer GPT-2-style decoder and a 2-layer BERT-style encoder (small widths, random
weights) in plain PyTorch, with the parameter names and layouts of kernels/nn/transformer.c,
and writes for each: the initial parameters ("param.*"), the inputs, the logits, the loss,
every parameter gradient ("grad.*"), and the losses of 10 AdamW steps (clip 1.0 first).
Everything is fp32 on the CPU.

    pip install torch safetensors
    python3 tests/reference/tensor/make_transformer_refs.py   # rewrites the .safetensors here
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
V, C, H, FF, L, MAXPOS, B, T = 64, 32, 4, 128, 2, 16, 2, 8
LR, WD, CLIP, STEPS = 1e-2, 0.01, 1.0, 10


def attention(qkv, n_head, causal, key_mask):
    Bn, Tn, C3 = qkv.shape
    Cn = C3 // 3
    q, k, v = qkv.split(Cn, dim=2)
    D = Cn // n_head
    q = q.view(Bn, Tn, n_head, D).transpose(1, 2)
    k = k.view(Bn, Tn, n_head, D).transpose(1, 2)
    v = v.view(Bn, Tn, n_head, D).transpose(1, 2)
    s = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D))
    if causal:
        s = s.masked_fill(torch.triu(torch.ones(Tn, Tn, dtype=torch.bool), 1), float("-inf"))
    if key_mask is not None:
        s = s.masked_fill(~key_mask.bool()[:, None, None, :], float("-inf"))
    p = torch.softmax(s, dim=-1)
    return (p @ v).transpose(1, 2).reshape(Bn, Tn, Cn)


class GPTAttn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)


class GPTMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(C, FF)
        self.c_proj = nn.Linear(FF, C)


class GPTBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C, eps=1e-5)
        self.attn = GPTAttn()
        self.ln_2 = nn.LayerNorm(C, eps=1e-5)
        self.mlp = GPTMlp()

    def forward(self, x):
        x = x + self.attn.c_proj(attention(self.attn.c_attn(self.ln_1(x)), H, True, None))
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Parameter(torch.zeros(V, C))
        self.wpe = nn.Parameter(torch.zeros(MAXPOS, C))
        self.h = nn.ModuleList([GPTBlock() for _ in range(L)])
        self.ln_f = nn.LayerNorm(C, eps=1e-5)

    def forward(self, ids):
        x = self.wte[ids] + self.wpe[: ids.shape[1]]
        for blk in self.h:
            x = blk(x)
        return self.ln_f(x) @ self.wte.t()


class BertSelf(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(C, 3 * C)


class BertOut(nn.Module):
    def __init__(self, inp):
        super().__init__()
        self.dense = nn.Linear(inp, C)
        self.LayerNorm = nn.LayerNorm(C, eps=1e-12)


class BertAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.self = BertSelf()
        self.output = BertOut(C)


class BertInter(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(C, FF)


class BertLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = BertAttention()
        self.intermediate = BertInter()
        self.output = BertOut(FF)

    def forward(self, x, mask):
        a = self.attention.output.dense(attention(self.attention.self.qkv(x), H, False, mask))
        x = self.attention.output.LayerNorm(x + a)
        f = self.output.dense(F.gelu(self.intermediate.dense(x)))
        return self.output.LayerNorm(x + f)


class BertEmb(nn.Module):
    def __init__(self):
        super().__init__()
        self.word_embeddings = nn.Embedding(V, C)
        self.position_embeddings = nn.Embedding(MAXPOS, C)
        self.token_type_embeddings = nn.Embedding(2, C)
        self.LayerNorm = nn.LayerNorm(C, eps=1e-12)


class BertEnc(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer() for _ in range(L)])


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = BertEmb()
        self.encoder = BertEnc()
        self.cls = nn.Linear(C, V)

    def forward(self, ids, type_ids, mask):
        e = self.embeddings
        x = e.word_embeddings(ids) + e.position_embeddings(torch.arange(ids.shape[1]))[None] + \
            e.token_type_embeddings(type_ids)
        x = e.LayerNorm(x)
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return self.cls(x)


def randomise(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "ln_" in name or "LayerNorm" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p) if name.endswith("weight") else 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))


def run(model, forward, targets, out):
    params = {f"param.{n}": p.detach().clone() for n, p in model.named_parameters()}
    logits = forward()
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-100)
    loss.backward()
    grads = {f"grad.{n}": p.grad.detach().clone() for n, p in model.named_parameters()}
    first_logits, first_loss = logits.detach().clone(), loss.detach().clone()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WD, foreach=False)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = F.cross_entropy(forward().reshape(-1, V), targets.reshape(-1), ignore_index=-100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        losses.append(F.cross_entropy(forward().reshape(-1, V), targets.reshape(-1), ignore_index=-100).item())
    out.update(params)
    out.update(grads)
    out["logits"] = first_logits
    out["loss"] = first_loss.reshape(1)
    out["losses"] = torch.tensor(losses, dtype=torch.float32)
    return out


def main():
    torch.manual_seed(0)
    gpt = GPT()
    randomise(gpt)
    ids = torch.randint(0, V, (B, T), dtype=torch.int32)
    targets = torch.randint(0, V, (B, T), dtype=torch.int64)
    out = {"ids": ids, "targets": targets.to(torch.int32)}
    run(gpt, lambda: gpt(ids.long()), targets, out)
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(HERE, "gpt2_ref.safetensors"),
              metadata={"generator": "make_transformer_refs.py", "torch": torch.__version__})

    bert = Bert()
    randomise(bert)
    ids = torch.randint(0, V, (B, T), dtype=torch.int32)
    type_ids = torch.randint(0, 2, (B, T), dtype=torch.int32)
    mask = torch.ones(B, T, dtype=torch.uint8)
    mask[1, T - 3:] = 0  # padding at the end of the second sequence
    targets = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets[0, ::3] = -100  # ignored positions
    targets[1, T - 3:] = -100
    out = {"ids": ids, "type_ids": type_ids, "mask": mask, "targets": targets.to(torch.int32)}
    run(bert, lambda: bert(ids.long(), type_ids.long(), mask), targets, out)
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(HERE, "bert_ref.safetensors"),
              metadata={"generator": "make_transformer_refs.py", "torch": torch.__version__})


if __name__ == "__main__":
    main()
