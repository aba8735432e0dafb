#!/usr/bin/env python3
"""PyTorch peer of BenchmarkServeDecode: greedy generation with a KV cache
in plain PyTorch (float32, CPU, no_grad) over the same Qwen3 shape with
random weights — the prompt in one forward pass (time to first token),
then one token at a time against the cached keys and values.

  generate_torch.py --config '{"hidden_size": 768, ...}' --prompt 128 \
                    --tokens 64 --threads 2 --repeat 2

Prints one JSON line: ttft_s, decode_tokens_per_s (the best of --repeat
runs), threads, torch version.
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
        return 0.02 * torch.randn(o, i, generator=gen)

    ps = {"embed": mat(V, C), "norm": torch.ones(C)}
    ps["lm_head"] = ps["embed"] if cfg.get("tie_word_embeddings") else mat(V, C)
    for l in range(L):
        ps.update({f"{l}.q": mat(H * D, C), f"{l}.k": mat(KV * D, C), f"{l}.v": mat(KV * D, C),
                   f"{l}.o": mat(C, H * D), f"{l}.qn": torch.ones(D), f"{l}.kn": torch.ones(D),
                   f"{l}.gate": mat(I, C), f"{l}.up": mat(I, C), f"{l}.down": mat(C, I),
                   f"{l}.ln1": torch.ones(C), f"{l}.ln2": torch.ones(C)})
    return ps


def forward(cfg, ps, tokens, pos, cache, rope):
    """Runs new tokens at positions pos.. against the cache (a list of
    per-layer [k, v] of shape [H_kv, S, D]) and returns the last logits."""
    T = tokens.shape[0]
    H, KV, D, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["rms_norm_eps"]
    cos, sin = rope[0][pos:pos + T], rope[1][pos:pos + T]
    x = ps["embed"][tokens]
    for l in range(cfg["num_hidden_layers"]):
        n = rms_norm(x, ps[f"{l}.ln1"], eps)
        q = rms_norm((n @ ps[f"{l}.q"].t()).view(T, H, D), ps[f"{l}.qn"], eps).transpose(0, 1)
        k = rms_norm((n @ ps[f"{l}.k"].t()).view(T, KV, D), ps[f"{l}.kn"], eps).transpose(0, 1)
        v = (n @ ps[f"{l}.v"].t()).view(T, KV, D).transpose(0, 1)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if cache[l] is None:
            cache[l] = [k, v]
        else:
            cache[l] = [torch.cat((cache[l][0], k), 1), torch.cat((cache[l][1], v), 1)]
        K, V = cache[l]
        if KV != H:
            K, V = K.repeat_interleave(H // KV, 0), V.repeat_interleave(H // KV, 0)
        S = K.shape[1]
        scores = q @ K.transpose(-1, -2) / math.sqrt(D)
        if T > 1:
            mask = torch.full((T, S), float("-inf")).triu(S - T + 1)
            scores = scores + mask
        att = torch.softmax(scores, -1) @ V
        x = x + att.transpose(0, 1).reshape(T, H * D) @ ps[f"{l}.o"].t()
        n = rms_norm(x, ps[f"{l}.ln2"], eps)
        x = x + (F.silu(n @ ps[f"{l}.gate"].t()) * (n @ ps[f"{l}.up"].t())) @ ps[f"{l}.down"].t()
    x = rms_norm(x[-1:], ps["norm"], eps)
    return (x @ ps["lm_head"].t())[0]


def generate(cfg, ps, prompt, n, rope):
    cache = [None] * cfg["num_hidden_layers"]
    t0 = time.perf_counter()
    tok = int(forward(cfg, ps, prompt, 0, cache, rope).argmax())
    ttft = time.perf_counter() - t0
    pos = prompt.shape[0]
    t1 = time.perf_counter()
    for _ in range(n - 1):
        tok = int(forward(cfg, ps, torch.tensor([tok]), pos, cache, rope).argmax())
        pos += 1
    dt = time.perf_counter() - t1
    return ttft, (n - 1) / dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = json.loads(args.config)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        ps = build(cfg, gen)
        D = cfg["head_dim"]
        inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, D, 2).float() / D))
        ang = torch.arange(args.prompt + args.tokens).float()[:, None] * inv[None]
        rope = (torch.cat((ang.cos(), ang.cos()), -1), torch.cat((ang.sin(), ang.sin()), -1))
        prompt = torch.randint(0, cfg["vocab_size"], (args.prompt,), generator=gen)
        generate(cfg, ps, prompt, 4, rope)  # warm up
        runs = [generate(cfg, ps, prompt, args.tokens, rope) for _ in range(args.repeat)]
    print(json.dumps({"ttft_s": min(r[0] for r in runs), "decode_tokens_per_s": max(r[1] for r in runs),
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
