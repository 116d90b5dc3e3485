#!/usr/bin/python3
"""make_fixture.py: write tests/fixtures/gpt_ref.h5, the reference the C model is tested against.

What
    A tiny GPT-2 (n_layer=2 n_embd=32 n_head=4 n_ctx=16 vocab_size=64) in the checkpoint format
    of models/FORMAT.md (root attributes + /params), plus /ref: one batch (B=3, T=12 < n_ctx on
    purpose, two targets set to -1 = ignored) with its logits, per-token losses, mean loss,
    gradients, gradient norm, and the parameters after 3 AdamW steps with clipping.

    Initialisation is GPT-2's (scripts/torch_reference.py gpt2_init_), then perturbed so that
    every path carries signal: LayerNorm weights 1 + 0.1 N(0,1), LayerNorm biases and all other
    biases 0.05 N(0,1); then every parameter is rounded to float32, so the stored /params are
    exactly the values the reference was computed from. Everything is computed in float64 (model.double()) so the reference does
    not depend on float32 rounding; tensors are stored as float32, the scalars loss, grad_norm
    and step_losses as float64.

    /ref attributes: B, T, adam_steps, seed (int32); lr, beta1, beta2, eps, weight_decay,
    grad_clip (float64). Datasets:
      inputs  int32 [B,T]      targets int32 [B,T] (next tokens; -1 = ignored)
      logits  f32 [B,T,V]      losses  f32 [B,T] (natural log, 0 where ignored)
      loss    f64 scalar (mean over non-ignored positions)
      grads/<name> f32 (gradient of the mean loss)   grad_norm f64 (before clipping)
      step_losses f64 [adam_steps] (mean loss of each step, computed before its update)
      step_grad_norms f64 [adam_steps] (norm before clipping at each step)
      after/<name> f32 (parameters after adam_steps steps)
    Each Adam step: zero grads, forward on the same batch, backward of the mean loss, clip the
    global norm to grad_clip (scale max_norm/(norm+1e-6) when norm > max_norm), AdamW with
    constant lr, decoupled weight decay on 2-D tensors only (wte, wpe, c_attn/c_proj/c_fc
    weights; wpe rows >= T get no gradient but still decay). grad_clip is about half the
    initial gradient norm, so every step clips.

Self-checks (the script fails loudly if any does not hold)
    * logits equal an independent numpy forward pass (explicit loops over heads, explicit GELU
      tanh formula, LayerNorm with biased variance and eps 1e-5);
    * causality: changing later tokens leaves earlier logits unchanged;
    * per-token/mean loss agree with F.cross_entropy(ignore_index=-1);
    * autograd gradients agree with central finite differences on a dozen parameter entries;
    * the AdamW + clipping steps agree with a numpy transcription of kernels.h
      (kn_clip_grad_norm, kn_adamw_update).
    It also reports how far a float32 run of the same steps lands from the float64 reference,
    as a guide for the C test's tolerances.

How to run
    /usr/bin/python3 scripts/make_fixture.py [-o tests/fixtures/gpt_ref.h5]
    The output is deterministic (no HDF5 timestamps): running twice gives identical bytes.
"""
import argparse
import copy
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as R  # noqa: E402  (sets OPENBLAS_NUM_THREADS before importing torch)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

CFG = dict(n_layer=2, n_embd=32, n_head=4, n_ctx=16, vocab_size=64)
B, T = 3, 12
SEED = 20240607
LR = 1e-2
ADAM_STEPS = 3
IGNORED = [(0, 4), (2, T - 1)]  # (b, t) positions whose target is set to -1


def build_model():
    model = R.gpt2_init_(R.GPT(**CFG), seed=SEED).double()
    rng = np.random.default_rng(SEED + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() != 1:
                continue
            noise = torch.from_numpy(rng.standard_normal(tuple(p.shape)))
            if name.endswith("weight"):  # LayerNorm weights
                p.copy_(1.0 + 0.1 * noise)
            else:  # LayerNorm biases and all other biases
                p.copy_(0.05 * noise)
        for p in model.parameters():  # the reference is exact for the stored float32 values
            p.copy_(p.float().double())
    return model


def make_batch():
    rng = np.random.default_rng(SEED + 2)
    tok = rng.integers(0, CFG["vocab_size"], size=(B, T + 1))
    inputs = tok[:, :T].astype(np.int32)
    targets = tok[:, 1:].astype(np.int32)
    for b, t in IGNORED:
        targets[b, t] = -1
    return inputs, targets


# ---------------------------------------------------------------- independent numpy forward
def np_forward(P, idx):
    C, nh = CFG["n_embd"], CFG["n_head"]
    hs = C // nh

    def ln(x, w, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-5) * w + b

    def gelu(x):
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))

    Bn, Tn = idx.shape
    x = P["wte"][idx] + P["wpe"][:Tn]
    for i in range(CFG["n_layer"]):
        p = lambda s: P[f"h.{i}.{s}"]  # noqa: E731
        a = ln(x, p("ln_1.weight"), p("ln_1.bias"))
        qkv = a @ p("attn.c_attn.weight") + p("attn.c_attn.bias")
        y = np.zeros_like(x)
        for b in range(Bn):
            for h in range(nh):
                q = qkv[b, :, h * hs:(h + 1) * hs]
                k = qkv[b, :, C + h * hs:C + (h + 1) * hs]
                v = qkv[b, :, 2 * C + h * hs:2 * C + (h + 1) * hs]
                s = q @ k.T / math.sqrt(hs)
                for t in range(Tn):
                    row = s[t, :t + 1]
                    e = np.exp(row - row.max())
                    y[b, t, h * hs:(h + 1) * hs] = (e / e.sum()) @ v[:t + 1]
        x = x + y @ p("attn.c_proj.weight") + p("attn.c_proj.bias")
        m = ln(x, p("ln_2.weight"), p("ln_2.bias"))
        m = gelu(m @ p("mlp.c_fc.weight") + p("mlp.c_fc.bias"))
        x = x + m @ p("mlp.c_proj.weight") + p("mlp.c_proj.bias")
    x = ln(x, P["ln_f.weight"], P["ln_f.bias"])
    return x @ P["wte"].T


def loss_of(model, inputs, targets):
    logits = model(inputs)
    losses = R.token_losses(logits, targets)
    return logits, losses, R.mean_loss(losses, targets)


def check(cond, what):
    if not cond:
        raise SystemExit(f"make_fixture: self-check failed: {what}")
    print(f"  ok  {what}")


def adam_numpy(params0, model_fn, steps, lr, b1, b2, eps, wd, clip):
    """kernels.h transcription: kn_clip_grad_norm then kn_adamw_update per tensor."""
    p = {n: v.copy() for n, v in params0.items()}
    m = {n: np.zeros_like(v) for n, v in p.items()}
    v2 = {n: np.zeros_like(v) for n, v in p.items()}
    for t in range(1, steps + 1):
        g = model_fn(p)
        norm = math.sqrt(sum(float((x ** 2).sum()) for x in g.values()))
        if norm > clip:
            g = {n: x * (clip / (norm + 1e-6)) for n, x in g.items()}
        for n in p:
            w = wd if p[n].ndim == 2 else 0.0
            p[n] *= 1.0 - lr * w
            m[n] = b1 * m[n] + (1 - b1) * g[n]
            v2[n] = b2 * v2[n] + (1 - b2) * g[n] ** 2
            p[n] -= (lr / (1 - b1 ** t)) * m[n] / (np.sqrt(v2[n]) / math.sqrt(1 - b2 ** t) + eps)
    return p


def run_adam(model, inputs, targets, lr, clip):
    """Torch AdamW steps as described at the top. Returns (step_losses, step_norms)."""
    opt = R.make_adamw(model, lr)
    params = list(model.parameters())
    step_losses, norms = [], []
    for _ in range(ADAM_STEPS):
        opt.zero_grad(set_to_none=True)
        _, _, loss = loss_of(model, inputs, targets)
        loss.backward()
        norms.append(R.clip_grad_norm(params, clip))
        opt.step()
        step_losses.append(loss.item())
    return step_losses, norms


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default=os.path.join(root, "tests/fixtures/gpt_ref.h5"))
    args = ap.parse_args()
    torch.set_num_threads(1)

    model = build_model()
    model0 = copy.deepcopy(model)
    names = [n for n, _ in model.named_parameters()]
    inputs_np, targets_np = make_batch()
    inputs = torch.from_numpy(inputs_np).long()
    targets = torch.from_numpy(targets_np).long()
    V = CFG["vocab_size"]

    print("self-checks (float64):")
    logits, losses, loss = loss_of(model, inputs, targets)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    grad_norm = math.sqrt(sum(float((g ** 2).sum()) for g in grads.values()))

    P = {n: p.detach().numpy() for n, p in model.named_parameters()}
    ref_logits = np_forward(P, inputs_np)
    d = np.abs(ref_logits - logits.detach().numpy()).max()
    check(d < 1e-12, f"logits match the numpy forward (max diff {d:.1e})")

    alt = inputs.clone()
    alt[:, 7:] = (alt[:, 7:] + 1) % V
    with torch.no_grad():
        d = (model(alt)[:, :7] - logits[:, :7]).abs().max().item()
    check(d == 0.0, "causal: logits at t < 7 ignore tokens at t >= 7")

    ce = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-1,
                         reduction="none").view(B, T)
    check((ce - losses).abs().max().item() < 1e-14 and
          all(losses[b, t].item() == 0.0 for b, t in IGNORED), "per-token losses, 0 if ignored")
    check(abs(loss.item() - F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1),
                                            ignore_index=-1).item()) < 1e-14,
          f"mean over {int((targets >= 0).sum())} non-ignored positions (loss {loss.item():.6f})")
    check(all(grads["wpe"][t].abs().max().item() == 0.0 for t in range(T, CFG["n_ctx"])),
          "wpe rows >= T get no gradient")

    fd_points = [("wte", (int(targets_np[0, 0]), 3)), ("wte", (63, 0)), ("wpe", (2, 5)),
                 ("h.0.ln_1.weight", (7,)), ("h.0.ln_1.bias", (11,)),
                 ("h.0.attn.c_attn.weight", (1, 3)), ("h.1.attn.c_attn.weight", (5, 32 + 9)),
                 ("h.1.attn.c_attn.bias", (64 + 2,)), ("h.0.attn.c_proj.weight", (4, 30)),
                 ("h.1.mlp.c_fc.bias", (10,)), ("h.0.mlp.c_proj.weight", (20, 4)),
                 ("h.1.ln_2.bias", (3,)), ("ln_f.weight", (0,)), ("ln_f.bias", (31,))]
    probe = copy.deepcopy(model0)
    pd = dict(probe.named_parameters())
    worst = 0.0
    with torch.no_grad():
        for name, ix in fd_points:
            h = 1e-5
            x0 = pd[name][ix].item()
            pd[name][ix] = x0 + h
            lp = loss_of(probe, inputs, targets)[2].item()
            pd[name][ix] = x0 - h
            lm = loss_of(probe, inputs, targets)[2].item()
            pd[name][ix] = x0
            fd, g = (lp - lm) / (2 * h), grads[name][ix].item()
            err = abs(fd - g) / (1e-4 + abs(g))  # relative, absolute below |g| ~ 1e-4
            worst = max(worst, err)
            if err > 1e-5:
                raise SystemExit(f"finite difference mismatch at {name}{ix}: fd {fd} grad {g}")
    check(True, f"autograd = finite differences at {len(fd_points)} entries "
                f"(worst rel err {worst:.1e})")

    grad_clip = float(f"{0.5 * grad_norm:.2g}")
    adam_model = copy.deepcopy(model0)
    step_losses, step_norms = run_adam(adam_model, inputs, targets, LR, grad_clip)
    after = {n: p.detach().clone() for n, p in adam_model.named_parameters()}
    check(abs(step_norms[0] - grad_norm) < 1e-12 and all(n > grad_clip for n in step_norms),
          f"every step clips (norms {', '.join(f'{n:.4f}' for n in step_norms)} > "
          f"grad_clip {grad_clip})")
    check(step_losses[-1] < step_losses[0],
          f"step losses decrease ({', '.join(f'{v:.6f}' for v in step_losses)})")

    def np_grads(p):
        m = copy.deepcopy(model0)
        with torch.no_grad():
            for n, q in m.named_parameters():
                q.copy_(torch.from_numpy(p[n]))
        loss_of(m, inputs, targets)[2].backward()
        return {n: q.grad.numpy().copy() for n, q in m.named_parameters()}

    P0 = {n: p.detach().numpy().copy() for n, p in model0.named_parameters()}
    ref_after = adam_numpy(P0, np_grads, ADAM_STEPS, LR, *R.ADAM_BETAS, R.ADAM_EPS,
                           R.WEIGHT_DECAY, grad_clip)
    d = max(float(np.abs(ref_after[n] - after[n].numpy()).max()) for n in names)
    check(d < 1e-12, f"torch AdamW + clipping = kernels.h formulas (max diff {d:.1e})")
    moved = max(float(np.abs(ref_after[n] - P0[n]).max()) for n in names)

    # Guidance for the C test: the same steps in float32 (torch) vs this float64 reference.
    m32 = copy.deepcopy(model0).float()
    l32, _, loss32 = loss_of(m32, inputs, targets)
    loss32.backward()
    d_grads = max((p.grad.double() - grads[n]).abs().max().item() /
                  (grads[n].abs().max().item() + 1e-30) for n, p in m32.named_parameters())
    sl32, _ = run_adam(m32, inputs, targets, LR, grad_clip)
    d_logits = (l32.double() - logits).abs().max().item()
    d_after = max((p.double() - after[n]).abs().max().item() for n, p in m32.named_parameters())
    print(f"float32 torch vs this reference: logits {d_logits:.1e}, grads {d_grads:.1e} (max abs "
          f"diff / max |grad| per tensor), after {ADAM_STEPS} steps "
          f"{d_after:.1e} (params moved up to {moved:.1e}); step losses "
          f"{max(abs(a - b) for a, b in zip(sl32, step_losses)):.1e}")

    tmp = args.output + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with R.h5_create_file(tmp) as f:
        R.write_config_attrs(f, CFG)
        R.write_tensors(R.h5_group(f, "params"), model0.named_parameters())
        ref = R.h5_group(f, "ref")
        for k, v in (("B", B), ("T", T), ("adam_steps", ADAM_STEPS), ("seed", SEED)):
            ref.attrs.create(k, v, dtype=np.int32)
        for k, v in (("lr", LR), ("beta1", R.ADAM_BETAS[0]), ("beta2", R.ADAM_BETAS[1]),
                     ("eps", R.ADAM_EPS), ("weight_decay", R.WEIGHT_DECAY),
                     ("grad_clip", grad_clip)):
            ref.attrs.create(k, v, dtype=np.float64)

        def put(name, arr, dtype):
            ref.create_dataset(name, data=np.asarray(arr, dtype=dtype), track_times=False)

        put("inputs", inputs_np, np.int32)
        put("targets", targets_np, np.int32)
        put("logits", logits.detach().numpy(), np.float32)
        put("losses", losses.detach().numpy(), np.float32)
        put("loss", loss.item(), np.float64)
        put("grad_norm", grad_norm, np.float64)
        put("step_losses", step_losses, np.float64)
        put("step_grad_norms", step_norms, np.float64)
        R.write_tensors(R.h5_group(ref, "grads"), ((n, grads[n]) for n in names))
        R.write_tensors(R.h5_group(ref, "after"), ((n, after[n]) for n in names))
    os.replace(tmp, args.output)

    # Read back through the public loader: the stored /params give the stored logits.
    back = R.load_checkpoint(args.output, dtype=torch.float64)
    with torch.no_grad():
        d = (back(inputs) - logits).abs().max().item()
    check(d < 1e-12, f"load_checkpoint(output) reproduces the logits (diff {d:.1e})")
    print(f"wrote {args.output} ({os.path.getsize(args.output)} bytes): loss {loss.item():.6f}, "
          f"grad_norm {grad_norm:.6f}, grad_clip {grad_clip}, lr {LR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
