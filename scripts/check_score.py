#!/usr/bin/python3
"""check_score.py: check `unlearnbench score` against an independent PyTorch implementation.

What
    `unlearnbench score` writes scores.h5 with
        /tokens int32 [N, ctx+1]   one context window per row
        /loss   float32 [N, ctx]   loss[i, t] = -ln p(tokens[i, t+1] | tokens[i, 0..t])
    This script rebuilds the model from the checkpoint alone (root attributes and /params by
    their GPT-2 names, see models/FORMAT.md) with scripts/torch_reference.py, which shares no
    code with the C engine, recomputes /loss and compares.

How to run
    /usr/bin/python3 scripts/check_score.py --model ckpt.h5 --scores scores.h5 [--tol 1e-3]
        [--dtype float64|float32] [--batch-tokens N]

What it prints
    One line: N, ctx, the largest absolute difference (and where), the mean loss recomputed here
    and the mean of the file's /loss, and PASS or FAIL.

Exit status
    0  max |diff| <= tol;  1  larger (or not finite);  2  bad input (missing datasets, shapes,
    token ids out of range, ctx > n_ctx);  77  torch, h5py or numpy cannot be imported (the
    CTest skip code).
"""
import argparse
import os
import sys

SKIP = 77


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="checkpoint (models/FORMAT.md)")
    ap.add_argument("--scores", required=True, help="scores.h5 written by `unlearnbench score`")
    ap.add_argument("--tol", type=float, default=1e-3, help="max abs difference allowed")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                    help="precision of the recomputation (default float64)")
    ap.add_argument("--batch-tokens", type=int, default=1 << 16,
                    help="windows are processed in batches of about this many tokens")
    args = ap.parse_args()

    try:
        import numpy as np
        import h5py
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import torch_reference as R
        import torch
    except ImportError as e:
        print(f"check_score: skipped: {e}", file=sys.stderr)
        return SKIP

    def bad(msg):
        print(f"check_score: {msg}", file=sys.stderr)
        return 2

    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    try:
        model = R.load_checkpoint(args.model, dtype=dtype)
    except (OSError, ValueError, KeyError) as e:
        return bad(f"cannot load {args.model}: {e}")
    model.eval()
    cfg = model.config
    try:
        with h5py.File(args.scores, "r") as f:
            if "tokens" not in f or "loss" not in f:
                return bad(f"{args.scores}: needs /tokens and /loss")
            tokens = np.asarray(f["tokens"][...])
            theirs = np.asarray(f["loss"][...], dtype=np.float64)
    except OSError as e:
        return bad(f"cannot read {args.scores}: {e}")
    if tokens.ndim != 2 or tokens.shape[1] < 2:
        return bad(f"/tokens has shape {tokens.shape}, expected [N, ctx+1]")
    N, ctx = tokens.shape[0], tokens.shape[1] - 1
    if theirs.shape != (N, ctx):
        return bad(f"/loss has shape {theirs.shape}, expected {(N, ctx)}")
    if ctx > cfg["n_ctx"]:
        return bad(f"ctx {ctx} > the model's n_ctx {cfg['n_ctx']}")
    if N and (tokens.min() < 0 or tokens.max() >= cfg["vocab_size"]):
        return bad(f"token ids outside [0, {cfg['vocab_size']})")

    ours = np.empty((N, ctx), dtype=np.float64)
    rows = max(1, args.batch_tokens // ctx)
    tok = torch.from_numpy(tokens.astype(np.int64))
    with torch.no_grad():
        for i in range(0, N, rows):
            chunk = tok[i:i + rows]
            logits = model(chunk[:, :-1])
            ours[i:i + rows] = R.token_losses(logits, chunk[:, 1:]).double().numpy()

    diff = np.abs(ours - theirs)
    if N == 0:
        max_diff, where = 0.0, None
    elif not np.isfinite(diff).all():
        max_diff, where = float("nan"), np.unravel_index(np.argmax(~np.isfinite(diff)),
                                                          diff.shape)
    else:
        where = np.unravel_index(np.argmax(diff), diff.shape)
        max_diff = float(diff[where])
    ok = max_diff <= args.tol  # False for NaN
    at = f" at (row {where[0]}, t {where[1]})" if where is not None else ""
    mean_ours = float(ours.mean()) if N else float("nan")
    mean_theirs = float(theirs.mean()) if N else float("nan")
    print(f"check_score: N={N} ctx={ctx} max_abs_diff={max_diff:.3e}{at} "
          f"mean_loss={mean_ours:.6f} (scores.h5: {mean_theirs:.6f}) tol={args.tol:g} "
          f"dtype={args.dtype} {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
