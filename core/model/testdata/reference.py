#!/usr/bin/env python3
"""Plain-PyTorch Qwen3 reference for swelego's core/model (no transformers).

Modes:
  reference.py                       write the golden states (golden_*.safetensors)
  reference.py --check-checkpoint D  load the checkpoint folder D (config.json,
                                     model.safetensors or shards), run it on
                                     D/check_input.json, write D/check_logits.safetensors
  reference.py --write-checkpoint D [--dtype F32|BF16] [--shards N]
                                     write a random Qwen3 checkpoint to D with
                                     check_input.json and the logits it gives

The safetensors format is read and written here with struct and json alone, so
no safetensors package is needed. Needs python3-torch and python3-numpy.
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------- safetensors

def st_write(path, tensors, dtype="F32", metadata=None):
    """tensors: list of (name, torch tensor); written in order."""
    header, blobs, at = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors:
        t = t.detach().to(torch.float32).contiguous().cpu()
        if dtype == "F32":
            raw = t.numpy().astype("<f4").tobytes()
        elif dtype == "BF16":
            raw = t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raise ValueError(dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        blobs.append(raw)
        at += len(raw)
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def st_read(path):
    """Returns ({name: float32 torch tensor}, metadata)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        raw = data[b:e]
        dt = info["dtype"]
        if dt == "F32":
            a = np.frombuffer(raw, dtype="<f4").copy()
        elif dt == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif dt == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        else:
            raise ValueError(f"{path}: {name}: dtype {dt}")
        out[name] = torch.from_numpy(a.reshape(info["shape"]).copy())
    return out, meta


def load_folder(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
        out = {}
        for fn in files:
            out.update(st_read(os.path.join(d, fn))[0])
        return out
    return st_read(os.path.join(d, "model.safetensors"))[0]

# ---------------------------------------------------------------- the model

def rope_frequencies(cfg):
    """inv_freq and attention factor, as transformers' rope utilities compute them."""
    dim, base = cfg["head_dim"], cfg["rope_theta"]
    pos_freqs = base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim)
    rs = cfg.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    if kind == "default":
        return 1.0 / pos_freqs, 1.0
    if kind == "linear":
        return 1.0 / pos_freqs / rs["factor"], 1.0
    assert kind == "yarn", kind
    orig = rs.get("original_max_position_embeddings") or cfg["max_position_embeddings"]
    factor = rs.get("factor") or cfg["max_position_embeddings"] / orig

    def get_mscale(scale, m=1.0):
        return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

    attn = rs.get("attention_factor")
    if attn is None:
        if rs.get("mscale") and rs.get("mscale_all_dim"):
            attn = get_mscale(factor, rs["mscale"]) / get_mscale(factor, rs["mscale_all_dim"])
        else:
            attn = get_mscale(factor)
    beta_fast, beta_slow = rs.get("beta_fast") or 32, rs.get("beta_slow") or 1

    def corr(n):
        return dim * math.log(orig / (n * 2 * math.pi)) / (2 * math.log(base))

    low, high = corr(beta_fast), corr(beta_slow)
    if rs.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low), 0, 1)
    extra = 1 - ramp
    inv = (1.0 / (factor * pos_freqs)) * (1 - extra) + (1.0 / pos_freqs) * extra
    return inv, attn


def param_names(cfg):
    names = ["model.embed_tokens.weight"]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        for proj in "qkvo":
            names.append(p + f"self_attn.{proj}_proj.weight")
            if cfg.get("attention_bias"):
                names.append(p + f"self_attn.{proj}_proj.bias")
        names += [p + "self_attn.q_norm.weight", p + "self_attn.k_norm.weight",
                  p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight", p + "mlp.down_proj.weight",
                  p + "input_layernorm.weight", p + "post_attention_layernorm.weight"]
    names.append("model.norm.weight")
    if not cfg.get("tie_word_embeddings"):
        names.append("lm_head.weight")
    return names


def param_shape(cfg, name):
    C, H, KV, D = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    I, V = cfg["intermediate_size"], cfg["vocab_size"]
    last = name.split(".")[-2]
    if name.endswith("norm.weight"):
        return [D] if last in ("q_norm", "k_norm") else [C]
    out_dim = {"q_proj": H * D, "k_proj": KV * D, "v_proj": KV * D, "o_proj": C,
               "gate_proj": I, "up_proj": I, "down_proj": C, "embed_tokens": V, "lm_head": V}[last]
    in_dim = {"o_proj": H * D, "down_proj": I}.get(last, C)
    return [out_dim] if name.endswith(".bias") else [out_dim, in_dim]


def init_params(cfg, gen, dtype):
    ps = {}
    for n in param_names(cfg):
        shape = param_shape(cfg, n)
        if n.endswith("norm.weight"):
            t = 1 + 0.1 * torch.randn(shape, generator=gen, dtype=torch.float64)
        elif n.endswith(".bias"):
            t = 0.1 * torch.randn(shape, generator=gen, dtype=torch.float64)
        else:
            t = 0.08 * torch.randn(shape, generator=gen, dtype=torch.float64)
        # Round through float32 so Go starts from exactly these values.
        ps[n] = t.to(torch.float32).to(dtype).requires_grad_(True)
    return ps


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    rot = torch.cat((-x2, x1), dim=-1)
    return x * torch.cat((cos, cos), -1) + rot * torch.cat((sin, sin), -1)


def segment_layout(B, T, segments):
    """Per position: start of its segment (within the sequence) and its position."""
    start = torch.zeros(B, T, dtype=torch.int64)
    for b in range(B):
        for t in range(T):
            if segments is None:
                start[b, t] = 0
            elif t == 0 or segments[b, t] != segments[b, t - 1]:
                start[b, t] = t
            else:
                start[b, t] = start[b, t - 1]
    pos = torch.arange(T).expand(B, T) - start
    return start, pos


def forward(cfg, ps, tokens, segments=None):
    """Logits [B, T, V] of tokens [B, T]; segments [B, T] or None (causal)."""
    B, T = tokens.shape
    C, H, KV, D = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    dtype = ps["model.embed_tokens.weight"].dtype
    start, pos = segment_layout(B, T, segments)
    inv, attn_factor = rope_frequencies(cfg)
    ang = (pos.float()[..., None] * inv.float()[None, None, :])  # float32 angles, as transformers
    cos = (ang.cos() * attn_factor).to(dtype)[:, None]  # [B, 1, T, D/2]
    sin = (ang.sin() * attn_factor).to(dtype)[:, None]
    t_idx = torch.arange(T)
    allowed = (t_idx[None, None, :] <= t_idx[None, :, None]) & (t_idx[None, None, :] >= start[:, :, None])  # [B, T(q), T(k)]
    mask = torch.zeros(B, 1, T, T, dtype=dtype).masked_fill(~allowed[:, None], float("-inf"))

    def lin(x, name):
        y = x @ ps[name + ".weight"].t()
        b = ps.get(name + ".bias")
        return y if b is None else y + b

    x = ps["model.embed_tokens.weight"][tokens]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        n = rms_norm(x, ps[p + "input_layernorm.weight"], eps)
        q = lin(n, p + "self_attn.q_proj").view(B, T, H, D)
        k = lin(n, p + "self_attn.k_proj").view(B, T, KV, D)
        v = lin(n, p + "self_attn.v_proj").view(B, T, KV, D).transpose(1, 2)
        q = rms_norm(q, ps[p + "self_attn.q_norm.weight"], eps).transpose(1, 2)
        k = rms_norm(k, ps[p + "self_attn.k_norm.weight"], eps).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D) + mask, dim=-1) @ v
        x = x + lin(att.transpose(1, 2).reshape(B, T, H * D), p + "self_attn.o_proj")
        n = rms_norm(x, ps[p + "post_attention_layernorm.weight"], eps)
        x = x + lin(F.silu(lin(n, p + "mlp.gate_proj")) * lin(n, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms_norm(x, ps["model.norm.weight"], eps)
    head = ps["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else ps["lm_head.weight"]
    return x @ head.t()


def weighted_loss(logits, targets, weights, norm):
    V = logits.shape[-1]
    ce = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), reduction="none", ignore_index=-100)
    return (ce * weights.reshape(-1).to(ce.dtype)).sum() / norm


def no_decay(name):
    return name.endswith(".bias") or name.endswith("norm.weight")


def lr_at(step, peak, warmup, total, min_ratio):
    """transformers' cosine-with-min-lr schedule with linear warmup, step 0-based."""
    if step < warmup:
        return peak * step / max(1, warmup)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    f = 0.5 * (1 + math.cos(math.pi * progress))
    return peak * (f * (1 - min_ratio) + min_ratio)

# ---------------------------------------------------------------- golden states

TRAIN = {"steps": 10, "peak_lr": 3e-3, "warmup": 3, "min_lr_ratio": 0.1, "weight_decay": 0.1,
         "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "max_grad_norm": 1.0}

CASES = {
    # YaRN rope scaling, GQA, untied head; sequence 1 packs three segments.
    "yarn_packed": {
        "config": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
                   "head_dim": 16, "intermediate_size": 128, "vocab_size": 256, "rms_norm_eps": 1e-6,
                   "rope_theta": 10000.0, "max_position_embeddings": 32, "tie_word_embeddings": False,
                   "attention_bias": False,
                   "rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 8}},
        "segments": [[0] * 16, [0] * 6 + [1] * 5 + [2] * 5],
        "train": True,
    },
    # Plain rope, tied embeddings, attention biases, multi-head (KV = H), causal only.
    "tied_bias": {
        "config": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
                   "head_dim": 16, "intermediate_size": 96, "vocab_size": 192, "rms_norm_eps": 1e-6,
                   "rope_theta": 1000000.0, "max_position_embeddings": 64, "tie_word_embeddings": True,
                   "attention_bias": True},
        "segments": None,
        "train": False,
    },
}


def make_golden(name, case, seed):
    cfg = dict(case["config"], model_type="qwen3", architectures=["Qwen3ForCausalLM"], hidden_act="silu")
    gen = torch.Generator().manual_seed(seed)
    B, T, V = 2, 16, cfg["vocab_size"]
    ps = init_params(cfg, gen, torch.float64)
    tokens = torch.randint(0, V, (B, T), generator=gen)
    targets = torch.cat((tokens[:, 1:], torch.randint(0, V, (B, 1), generator=gen)), 1)
    weights = torch.ones(B, T)
    weights[0, :4] = 0  # a prompt: no loss
    weights[1, 7:9] = 0
    weights[1, 3] = 0.5  # a fractional weight
    targets[0, 0] = -100  # an ignored target may be anything
    segments = None if case["segments"] is None else torch.tensor(case["segments"])
    norm = float((weights != 0).sum())

    logits = forward(cfg, ps, tokens, segments)
    loss = weighted_loss(logits, targets, weights, norm)
    loss.backward()
    out = [(f"param.{n}", ps[n]) for n in param_names(cfg)]
    out += [(f"grad.{n}", ps[n].grad) for n in param_names(cfg)]
    out += [("tokens", tokens), ("targets", targets), ("weights", weights), ("logits", logits.reshape(B * T, V)),
            ("loss", loss.reshape(1))]
    if segments is not None:
        out.append(("segments", segments))
    meta = {"config": json.dumps(cfg), "norm": str(norm)}

    if case["train"]:
        # Ten AdamW steps on the same batch, fed as two micro-batches whose
        # gradients accumulate (the loss normalised by the whole batch's tokens).
        tr = TRAIN
        ps = {n: t.detach().clone().requires_grad_(True) for n, t in ps.items()}
        groups = [{"params": [ps[n] for n in param_names(cfg) if not no_decay(n)], "weight_decay": tr["weight_decay"]},
                  {"params": [ps[n] for n in param_names(cfg) if no_decay(n)], "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, lr=tr["peak_lr"], betas=(tr["beta1"], tr["beta2"]), eps=tr["eps"])
        losses, norms = [], []
        for step in range(tr["steps"]):
            for g in opt.param_groups:
                g["lr"] = lr_at(step, tr["peak_lr"], tr["warmup"], tr["steps"], tr["min_lr_ratio"])
            opt.zero_grad()
            total = 0.0
            for b in range(B):
                seg = None if segments is None else segments[b:b + 1]
                l = weighted_loss(forward(cfg, ps, tokens[b:b + 1], seg), targets[b:b + 1], weights[b:b + 1], norm)
                l.backward()
                total += l.item()
            losses.append(total)
            norms.append(float(torch.nn.utils.clip_grad_norm_([ps[n] for n in param_names(cfg)], tr["max_grad_norm"])))
            opt.step()
        out += [("train.losses", torch.tensor(losses)), ("train.grad_norms", torch.tensor(norms))]
        meta["train"] = json.dumps(tr)
        print(f"{name}: losses {['%.5f' % x for x in losses]} grad norms {['%.3f' % x for x in norms]}")
    path = os.path.join(HERE, f"golden_{name}.safetensors")
    st_write(path, out, "F32", meta)
    print(f"{name}: wrote {path} ({os.path.getsize(path)} bytes), loss {loss.item():.6f}")

# ---------------------------------------------------------------- checkpoints

def check_checkpoint(d):
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    cfg.setdefault("num_key_value_heads", cfg["num_attention_heads"])
    cfg.setdefault("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    cfg.setdefault("rms_norm_eps", 1e-6)
    cfg.setdefault("rope_theta", 10000.0)
    tensors = load_folder(d)
    ps = {n: tensors[n] for n in param_names(cfg)}
    with open(os.path.join(d, "check_input.json")) as f:
        inp = json.load(f)
    B, T = inp["batch"], inp["seq"]
    tokens = torch.tensor(inp["tokens"]).reshape(B, T)
    seg = inp.get("segments")
    seg = None if seg is None else torch.tensor(seg).reshape(B, T)
    with torch.no_grad():
        logits = forward(cfg, ps, tokens, seg)
    st_write(os.path.join(d, "check_logits.safetensors"), [("logits", logits.reshape(B * T, -1))])


def write_checkpoint(d, dtype, shards):
    os.makedirs(d, exist_ok=True)
    cfg = dict(CASES["yarn_packed"]["config"], model_type="qwen3", architectures=["Qwen3ForCausalLM"],
               hidden_act="silu", torch_dtype="bfloat16" if dtype == "BF16" else "float32",
               bos_token_id=0, eos_token_id=1, use_cache=True)
    gen = torch.Generator().manual_seed(7)
    ps = init_params(cfg, gen, torch.float32)
    if dtype == "BF16":  # the values the file will hold
        ps = {n: t.detach().to(torch.bfloat16).to(torch.float32) for n, t in ps.items()}
    names = param_names(cfg)
    meta = {"format": "pt"}
    if shards <= 1:
        st_write(os.path.join(d, "model.safetensors"), [(n, ps[n]) for n in names], dtype, meta)
    else:
        per = (len(names) + shards - 1) // shards
        weight_map = {}
        for i in range(shards):
            fn = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
            part = names[i * per:(i + 1) * per]
            st_write(os.path.join(d, fn), [(n, ps[n]) for n in part], dtype, meta)
            weight_map.update({n: fn for n in part})
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    B, T = 2, 16
    tokens = torch.randint(0, cfg["vocab_size"], (B, T), generator=gen)
    segments = torch.tensor(CASES["yarn_packed"]["segments"])
    with open(os.path.join(d, "check_input.json"), "w") as f:
        json.dump({"batch": B, "seq": T, "tokens": tokens.reshape(-1).tolist(),
                   "segments": segments.reshape(-1).tolist()}, f)
    with torch.no_grad():
        logits = forward(cfg, ps, tokens, segments)
    st_write(os.path.join(d, "check_logits.safetensors"), [("logits", logits.reshape(B * T, -1))])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check-checkpoint", metavar="DIR")
    ap.add_argument("--write-checkpoint", metavar="DIR")
    ap.add_argument("--dtype", default="F32", choices=["F32", "BF16"])
    ap.add_argument("--shards", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.check_checkpoint:
        check_checkpoint(args.check_checkpoint)
    elif args.write_checkpoint:
        write_checkpoint(args.write_checkpoint, args.dtype, args.shards)
    else:
        for i, (name, case) in enumerate(CASES.items()):
            make_golden(name, case, seed=1234 + i)


if __name__ == "__main__":
    sys.exit(main())
