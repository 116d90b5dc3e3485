#!/usr/bin/python3
"""torch_reference.py: the PyTorch reference of unlearnbench's GPT-2-style model.

What
    An importable module and a small CLI. The benchmark itself never needs Python; this file is
    the independent reference used by scripts/make_fixture.py, scripts/check_score.py and
    scripts/load_checkpoint.py, and the PyTorch speed baseline (`--bench`).

    * GPT (nn.Module): the architecture of models/FORMAT.md. Parameter names are exactly the
      checkpoint's `/params` names (`wte`, `wpe`, `h.{i}.ln_1.weight`, ..., `ln_f.bias`) and
      matrices are stored [in, out] like GPT-2's Conv1D, so `y = x @ W + b` and a checkpoint is
      a plain copy of `model.named_parameters()`.
    * PRESETS, gpt2_init_(), load_checkpoint(), save_checkpoint(), token_losses(), mean_loss(),
      clip_grad_norm(), make_adamw().

Conventions (the C side, kernels/kernels.h, follows the same ones)
    x = wte[tok] + wpe[pos]; per block x += attn(ln_1(x)); x += mlp(ln_2(x)); ln_f; logits =
    x @ wte^T. LayerNorm eps 1e-5 (biased variance), GELU tanh approximation, causal attention
    scaled by 1/sqrt(head_size), per-token loss -log softmax(logits)[target] in natural log with
    target < 0 meaning "ignored" (loss 0, no gradient), mean loss = sum / number of non-ignored
    positions. AdamW is torch.optim.AdamW (decoupled decay, applied to 2-D tensors only),
    clipping is clip_grad_norm_ (scale by max_norm / (norm + 1e-6) when norm > max_norm).

How to run
    /usr/bin/python3 scripts/torch_reference.py --bench                 # tiny,small,medium
    /usr/bin/python3 scripts/torch_reference.py --bench --presets tiny,small --steps 20
    /usr/bin/python3 scripts/torch_reference.py --info                  # preset sizes only

    Use Debian's /usr/bin/python3 (python3-torch 1.13, python3-h5py, python3-numpy).

Threads
    On the 2-core development machine the fastest PyTorch setting was torch.set_num_threads(1)
    (intra-op OpenMP pool) with OPENBLAS_NUM_THREADS=2 (OpenBLAS's own pthreads do the GEMMs);
    torch threads 2 plus OpenBLAS threads 2 oversubscribes the cores and is 30-40% slower
    (../shared/README.md). OpenBLAS reads OPENBLAS_NUM_THREADS when it is loaded, i.e. when
    torch is imported, so this module sets it *before* `import torch` (only if it is not already
    in the environment: an explicit setting always wins). When the module is imported after
    torch, the environment variable comes too late; set_blas_threads() then switches OpenBLAS at
    run time through its C API (openblas_set_num_threads), which is what --blas-threads uses.
    Override: `OPENBLAS_NUM_THREADS=1 ... --bench --threads 2`, or `--blas-threads N`.

What --bench prints
    One JSON line per preset:
      {"preset", "params", "batch", "ctx", "tokens_per_s", "gflops", "steps", "torch_threads",
       "blas_threads", "final_loss"}
    A step is zero_grad + forward + mean loss + backward + clip(1.0) + AdamW, on random tokens,
    fp32 eager. `params` counts every parameter once (wte is tied). GFLOP/s counts
    6*params*tokens + 12*n_layer*ctx*n_embd*tokens per second. Without --steps each preset is
    timed for about --seconds (20) seconds after --warmup (1) warm-up step and one probe step
    that sets the step count, so the default run of the three presets takes about 1.5 minutes
    on an idle 2-core machine. Other work on the machine lowers the figures: compare settings
    within one run, and check the load (uptime) before quoting numbers.
"""
import os
import sys

# Must happen before torch (and thus OpenBLAS) is loaded; see "Threads" above.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import argparse  # noqa: E402
import ctypes  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

LN_EPS = 1e-5
FORMAT_NAME = "unlearnbench-gpt"
FORMAT_VERSION = 1

# name: (n_layer, n_embd, n_head, n_ctx, vocab_size, batch)
PRESETS = {
    "tiny": dict(n_layer=2, n_embd=128, n_head=4, n_ctx=64, vocab_size=256, batch=64),
    "small": dict(n_layer=4, n_embd=256, n_head=4, n_ctx=128, vocab_size=512, batch=32),
    "medium": dict(n_layer=6, n_embd=384, n_head=6, n_ctx=256, vocab_size=2048, batch=16),
}
CONFIG_KEYS = ("n_layer", "n_embd", "n_head", "n_ctx", "vocab_size")

# Optimizer defaults of the benchmark (AdamW, decay on 2-D tensors only, clip 1.0).
ADAM_BETAS = (0.9, 0.95)
ADAM_EPS = 1e-8
WEIGHT_DECAY = 0.1
GRAD_CLIP = 1.0


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------
class Conv1D(nn.Module):
    """GPT-2's Conv1D: weight stored [in, out], y = x @ weight + bias."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(
            *x.shape[:-1], self.weight.shape[1])


class LayerNorm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n))

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, LN_EPS)


class Attention(nn.Module):
    """Causal multi-head self-attention. c_attn columns are [q | k | v], each n_embd wide;
    head h uses columns h*hs:(h+1)*hs of each. Scores scaled by 1/sqrt(hs)."""

    def __init__(self, n_embd, n_head):
        super().__init__()
        assert n_embd % n_head == 0
        self.n_head = n_head
        self.c_attn = Conv1D(n_embd, 3 * n_embd)
        self.c_proj = Conv1D(n_embd, n_embd)

    def forward(self, x):
        B, T, C = x.shape
        nh, hs = self.n_head, C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, nh, hs).transpose(1, 2)
        v = v.view(B, T, nh, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        att = att.masked_fill(future, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.c_fc = Conv1D(n_embd, 4 * n_embd)
        self.c_proj = Conv1D(4 * n_embd, n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.ln_1 = LayerNorm(n_embd)
        self.attn = Attention(n_embd, n_head)
        self.ln_2 = LayerNorm(n_embd)
        self.mlp = MLP(n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """GPT-2 decoder with tied embeddings. named_parameters() yields the FORMAT.md names."""

    def __init__(self, n_layer, n_embd, n_head, n_ctx, vocab_size):
        super().__init__()
        self.config = dict(n_layer=n_layer, n_embd=n_embd, n_head=n_head, n_ctx=n_ctx,
                           vocab_size=vocab_size)
        self.wte = nn.Parameter(torch.empty(vocab_size, n_embd))
        self.wpe = nn.Parameter(torch.empty(n_ctx, n_embd))
        self.h = nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)])
        self.ln_f = LayerNorm(n_embd)

    def forward(self, idx):
        """idx (B, T) int64 token ids, T <= n_ctx -> logits (B, T, V)."""
        B, T = idx.shape
        if T > self.config["n_ctx"]:
            raise ValueError(f"sequence length {T} > n_ctx {self.config['n_ctx']}")
        x = self.wte[idx] + self.wpe[:T]
        for block in self.h:
            x = block(x)
        x = self.ln_f(x)
        return x @ self.wte.t()

    def num_params(self):
        return sum(p.numel() for p in self.parameters())


def preset_config(name):
    return {k: PRESETS[name][k] for k in CONFIG_KEYS}


def num_params(n_layer, n_embd, n_ctx, vocab_size, **_):
    """Parameter count (wte counted once), without building the model."""
    C = n_embd
    return vocab_size * C + n_ctx * C + n_layer * (12 * C * C + 13 * C) + 2 * C


def gpt2_init_(model, seed=0):
    """GPT-2 initialisation, deterministic from `seed` (numpy PCG64, so the draws do not depend
    on the torch version): N(0, 0.02) for every matrix and embedding, N(0, 0.02/sqrt(2*n_layer))
    for the residual output projections (attn.c_proj.weight, mlp.c_proj.weight), zeros for
    biases, ones for LayerNorm weights. Parameters are drawn in named_parameters() order."""
    rng = np.random.default_rng(seed)
    n_layer = model.config["n_layer"]
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                std = 0.02
                if name.endswith("attn.c_proj.weight") or name.endswith("mlp.c_proj.weight"):
                    std = 0.02 / math.sqrt(2 * n_layer)
                p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * std))
            elif ".ln_" in name or name.startswith("ln_f"):
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                p.zero_()
    return model


def decay_mask(name, p):
    """Weight decay applies to 2-D tensors only (wte, wpe, c_attn/c_proj/c_fc weights)."""
    return p.dim() == 2


def make_adamw(model, lr, betas=ADAM_BETAS, eps=ADAM_EPS, weight_decay=WEIGHT_DECAY):
    decay = [p for n, p in model.named_parameters() if decay_mask(n, p)]
    other = [p for n, p in model.named_parameters() if not decay_mask(n, p)]
    groups = [dict(params=decay, weight_decay=weight_decay),
              dict(params=other, weight_decay=0.0)]
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, foreach=False)


def clip_grad_norm(params, max_norm):
    """Global-norm clipping as kernels.h kn_clip_grad_norm (= torch's clip_grad_norm_ away from
    norm == max_norm): norm = sqrt(sum g^2) over all parameters; if norm > max_norm every
    gradient is scaled by max_norm / (norm + 1e-6). Returns the norm before clipping (float)."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).item()
    if norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for g in grads:
            g.mul_(scale)
    return norm


# --------------------------------------------------------------------------------------------
# Loss
# --------------------------------------------------------------------------------------------
def token_losses(logits, targets):
    """Per-token loss, natural log: -log softmax(logits)[target]; 0 where target < 0.
    logits (..., V), targets (...) integer -> losses (...) in logits' dtype."""
    logp = F.log_softmax(logits, dim=-1)
    keep = targets >= 0
    picked = logp.gather(-1, targets.clamp(min=0).long().unsqueeze(-1)).squeeze(-1)
    return torch.where(keep, -picked, torch.zeros_like(picked))


def mean_loss(losses, targets):
    """Mean over non-ignored positions (target >= 0); 0 if every position is ignored."""
    n = int((targets >= 0).sum())
    return losses.sum() / max(n, 1)


# --------------------------------------------------------------------------------------------
# Checkpoints (models/FORMAT.md)
# --------------------------------------------------------------------------------------------
def _attr_str(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray):  # a 1-element array of bytes/str
        return _attr_str(v.reshape(-1)[0])
    return str(v)


def read_config(h5file):
    """Model config from a checkpoint's root attributes (an open h5py.File)."""
    a = h5file.attrs
    if "format" in a and _attr_str(a["format"]) != FORMAT_NAME:
        raise ValueError(f"not an {FORMAT_NAME} checkpoint: format={_attr_str(a['format'])!r}")
    if "format_version" in a and int(a["format_version"]) != FORMAT_VERSION:
        raise ValueError(f"unsupported format_version {int(a['format_version'])}")
    missing = [k for k in CONFIG_KEYS if k not in a]
    if missing:
        raise ValueError(f"checkpoint lacks root attributes {missing}")
    cfg = {k: int(a[k]) for k in CONFIG_KEYS}
    if "layer_norm_epsilon" in a and abs(float(a["layer_norm_epsilon"]) - LN_EPS) > 1e-12:
        raise ValueError(f"layer_norm_epsilon {float(a['layer_norm_epsilon'])} != {LN_EPS}")
    if "activation_function" in a and _attr_str(a["activation_function"]) != "gelu_new":
        raise ValueError(f"activation_function {_attr_str(a['activation_function'])!r}")
    if "tie_word_embeddings" in a and int(a["tie_word_embeddings"]) != 1:
        raise ValueError("only tied word embeddings are supported")
    return cfg


def load_checkpoint(path, dtype=torch.float32):
    """Build a GPT from a checkpoint file: config from the root attributes, tensors from
    /params/<name>. Every parameter must be present with its exact shape."""
    import h5py
    with h5py.File(path, "r") as f:
        cfg = read_config(f)
        model = GPT(**cfg)
        if "params" not in f:
            raise ValueError(f"{path}: no /params group")
        g = f["params"]
        names = set()
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name not in g:
                    raise ValueError(f"{path}: missing /params/{name}")
                arr = g[name][...]
                if tuple(arr.shape) != tuple(p.shape):
                    raise ValueError(f"{path}: /params/{name} has shape {arr.shape}, "
                                     f"expected {tuple(p.shape)}")
                p.copy_(torch.from_numpy(np.asarray(arr, dtype=np.float32)))
                names.add(name)
        extra = sorted(set(g.keys()) - names)
        if extra:
            raise ValueError(f"{path}: unknown tensors in /params: {extra[:5]}")
    return model.to(dtype)


def h5_group(parent, name):
    """Create a group without object timestamps (identical content gives identical bytes)."""
    import h5py
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    return h5py.Group(h5py.h5g.create(parent.id, name.encode("utf-8"), gcpl=gcpl))


def h5_create_file(path):
    """Open a new HDF5 file whose root group carries no timestamps."""
    import h5py
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fid = h5py.h5f.create(os.fsencode(path), h5py.h5f.ACC_TRUNC, fcpl=fcpl)
    return h5py.File(fid)


def write_config_attrs(h5file, cfg):
    """Root attributes of FORMAT.md. Strings are written as h5py's default (variable-length
    UTF-8); integers as int32, layer_norm_epsilon as float64."""
    a = h5file.attrs
    a["format"] = FORMAT_NAME
    a.create("format_version", FORMAT_VERSION, dtype=np.int32)
    a["model_type"] = "gpt2"
    for k in CONFIG_KEYS:
        a.create(k, cfg[k], dtype=np.int32)
    a.create("layer_norm_epsilon", LN_EPS, dtype=np.float64)
    a["activation_function"] = "gelu_new"
    a.create("tie_word_embeddings", 1, dtype=np.int32)


def write_tensors(group, named_tensors):
    """One contiguous float32 dataset per tensor, no timestamps."""
    for name, t in named_tensors:
        arr = t.detach().cpu().double().numpy().astype(np.float32) if torch.is_tensor(t) \
            else np.asarray(t, dtype=np.float32)
        group.create_dataset(name, data=arr, track_times=False)


def save_checkpoint(model, path):
    """Write config attributes + /params (no /optim, /train): enough for load_checkpoint and
    for the C side's model loader."""
    with h5_create_file(path) as f:
        write_config_attrs(f, model.config)
        write_tensors(h5_group(f, "params"), model.named_parameters())


# --------------------------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------------------------
def _openblas_lib():
    """The OpenBLAS library torch loaded (found in /proc/self/maps), or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_num_threads  # noqa: B018 (attribute check)
            return lib
        except (OSError, AttributeError):
            continue
    return None


def blas_threads():
    """OpenBLAS thread count in effect, or None if OpenBLAS is not the BLAS."""
    lib = _openblas_lib()
    return int(lib.openblas_get_num_threads()) if lib else None


def set_blas_threads(n):
    lib = _openblas_lib()
    if lib is None:
        print("warning: OpenBLAS not found in this process; --blas-threads ignored",
              file=sys.stderr)
        return
    lib.openblas_set_num_threads(int(n))


# --------------------------------------------------------------------------------------------
# Benchmark
# --------------------------------------------------------------------------------------------
def bench_preset(name, steps=None, warmup=1, seconds=20.0, lr=3e-4, seed=0, batch=None):
    cfg = preset_config(name)
    B, T, V = batch or PRESETS[name]["batch"], cfg["n_ctx"], cfg["vocab_size"]
    torch.manual_seed(seed)
    model = gpt2_init_(GPT(**cfg), seed=seed)
    opt = make_adamw(model, lr)
    params = list(model.parameters())
    batches = [torch.randint(0, V, (B, T + 1)) for _ in range(4)]

    def step(i):
        data = batches[i % len(batches)]
        opt.zero_grad(set_to_none=True)
        logits = model(data[:, :-1])
        loss = F.cross_entropy(logits.view(-1, V), data[:, 1:].reshape(-1))
        loss.backward()
        clip_grad_norm(params, GRAD_CLIP)
        opt.step()
        return loss.item()

    for i in range(warmup):
        step(i)
    if steps is None:  # adaptive: one probe step, then fill about `seconds`
        t0 = time.perf_counter()
        step(warmup)
        per_step = time.perf_counter() - t0
        steps = max(3, min(1000, int(seconds / max(per_step, 1e-6))))
    t0 = time.perf_counter()
    for i in range(steps):
        loss = step(i)
    dt = time.perf_counter() - t0
    n_params = model.num_params()
    assert n_params == num_params(**cfg)
    tokens = B * T * steps
    flops = 6.0 * n_params * tokens + 12.0 * cfg["n_layer"] * T * cfg["n_embd"] * tokens
    return {
        "preset": name, "params": n_params, "batch": B, "ctx": T,
        "tokens_per_s": round(tokens / dt, 1), "gflops": round(flops / dt / 1e9, 2),
        "steps": steps, "torch_threads": torch.get_num_threads(),
        "blas_threads": blas_threads(), "final_loss": round(loss, 4),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", action="store_true", help="time training steps per preset")
    ap.add_argument("--info", action="store_true", help="print preset sizes and exit")
    ap.add_argument("--presets", default="tiny,small,medium")
    ap.add_argument("--steps", type=int, default=None,
                    help="timed steps per preset (default: adaptive, about --seconds)")
    ap.add_argument("--warmup", type=int, default=1,
                    help="untimed warm-up steps (plus one probe step when adaptive)")
    ap.add_argument("--seconds", type=float, default=20.0,
                    help="target timed seconds per preset when --steps is not given")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="OpenBLAS threads (default: OPENBLAS_NUM_THREADS, set to 2 here "
                         "unless already in the environment)")
    ap.add_argument("--batch", type=int, default=None,
                    help="batch size (default: the preset's 64/32/16)")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    names = [s.strip() for s in args.presets.split(",") if s.strip()]
    for n in names:
        if n not in PRESETS:
            ap.error(f"unknown preset {n!r} (have {', '.join(PRESETS)})")
    if args.info:
        for n in names:
            cfg = preset_config(n)
            print(json.dumps({"preset": n, **cfg, "batch": PRESETS[n]["batch"],
                              "params": num_params(**cfg)}))
        return 0
    if not args.bench:
        ap.print_help()
        return 0
    torch.set_num_threads(args.threads)
    if args.blas_threads is not None:
        set_blas_threads(args.blas_threads)
    for n in names:
        print(json.dumps(bench_preset(n, steps=args.steps, warmup=args.warmup,
                                      seconds=args.seconds, lr=args.lr, seed=args.seed,
                                      batch=args.batch)),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
