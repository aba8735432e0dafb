#!/usr/bin/env python3
"""PyTorch peer of BenchmarkTrain124M: the same Qwen3 training step in plain
PyTorch (float32, CPU) — forward, weighted cross-entropy, backward, gradient
clipping and AdamW — timed over a few steps.

  bench_torch.py --config '{"hidden_size": 768, ...}' --batch 4 --seq 256 \
                 --steps 2 --warmup 1 --threads 2

Prints one JSON line: tokens_per_s, step_s, threads and the BLAS library torch
is linked against (Debian's torch uses whatever libblas.so.3 points to).
"""

import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


def build(cfg, gen):
    C, H, KV, D = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    I, V, L = cfg["intermediate_size"], cfg["vocab_size"], cfg["num_hidden_layers"]

    def mat(o, i):
        return (0.02 * torch.randn(o, i, generator=gen)).requires_grad_(True)

    def ones(n):
        return torch.ones(n).requires_grad_(True)

    ps = {"embed": mat(V, C), "norm": ones(C)}
    if not cfg.get("tie_word_embeddings"):
        ps["lm_head"] = mat(V, C)
    for l in range(L):
        ps.update({f"{l}.q": mat(H * D, C), f"{l}.k": mat(KV * D, C), f"{l}.v": mat(KV * D, C),
                   f"{l}.o": mat(C, H * D), f"{l}.qn": ones(D), f"{l}.kn": ones(D),
                   f"{l}.gate": mat(I, C), f"{l}.up": mat(I, C), f"{l}.down": mat(C, I),
                   f"{l}.ln1": ones(C), f"{l}.ln2": ones(C)})
    return ps


def step_loss(cfg, ps, tokens, targets, weights, cos, sin):
    B, T = tokens.shape
    H, KV, D, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["rms_norm_eps"]
    mask = torch.full((T, T), float("-inf")).triu(1)
    x = ps["embed"][tokens]
    for l in range(cfg["num_hidden_layers"]):
        n = rms_norm(x, ps[f"{l}.ln1"], eps)
        q = rms_norm((n @ ps[f"{l}.q"].t()).view(B, T, H, D), ps[f"{l}.qn"], eps).transpose(1, 2)
        k = rms_norm((n @ ps[f"{l}.k"].t()).view(B, T, KV, D), ps[f"{l}.kn"], eps).transpose(1, 2)
        v = (n @ ps[f"{l}.v"].t()).view(B, T, KV, D).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if KV != H:
            k, v = k.repeat_interleave(H // KV, 1), v.repeat_interleave(H // KV, 1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D) + mask, -1) @ v
        x = x + att.transpose(1, 2).reshape(B, T, H * D) @ ps[f"{l}.o"].t()
        n = rms_norm(x, ps[f"{l}.ln2"], eps)
        x = x + (F.silu(n @ ps[f"{l}.gate"].t()) * (n @ ps[f"{l}.up"].t())) @ ps[f"{l}.down"].t()
    x = rms_norm(x, ps["norm"], eps)
    head = ps["embed"] if cfg.get("tie_word_embeddings") else ps["lm_head"]
    logits = x @ head.t()
    ce = F.cross_entropy(logits.view(B * T, -1), targets.view(-1), reduction="none")
    return (ce * weights.view(-1)).sum() / weights.count_nonzero()


def blas_library():
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        return ", ".join(sorted(os.path.realpath(l) for l in libs)) or "none found"
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = json.loads(args.config)
    gen = torch.Generator().manual_seed(0)
    ps = build(cfg, gen)
    B, T, V, D = args.batch, args.seq, cfg["vocab_size"], cfg["head_dim"]
    tokens = torch.randint(0, V, (B, T), generator=gen)
    targets = torch.randint(0, V, (B, T), generator=gen)
    weights = (torch.rand(B, T, generator=gen) > 0.2).float()
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, D, 2).float() / D))
    ang = torch.arange(T).float()[:, None] * inv[None]
    cos, sin = torch.cat((ang.cos(), ang.cos()), -1), torch.cat((ang.sin(), ang.sin()), -1)
    params = list(ps.values())
    decay = [p for p in params if p.dim() == 2]
    no_decay = [p for p in params if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.95), eps=1e-8)
    times = []
    for i in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss = step_loss(cfg, ps, tokens, targets, weights, cos, sin)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        dt = time.perf_counter() - t0
        if i >= args.warmup:
            times.append(dt)
    step_s = sum(times) / len(times)
    print(json.dumps({"tokens_per_s": B * T / step_s, "step_s": step_s, "threads": torch.get_num_threads(),
                      "loss": loss.item(), "torch": torch.__version__, "blas": blas_library()}))


if __name__ == "__main__":
    main()
