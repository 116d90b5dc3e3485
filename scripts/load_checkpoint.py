#!/usr/bin/python3
"""load_checkpoint.py: load an unlearnbench checkpoint into PyTorch (and Hugging Face).

What
    An example of using a checkpoint outside the benchmark. It loads CKPT (models/FORMAT.md)
    into scripts/torch_reference.py's GPT and, when the `transformers` package is importable,
    also into transformers.GPT2LMHeadModel by FORMAT.md's name mapping (prefix `transformer.`,
    `wte`/`wpe` get `.weight`, `lm_head.weight` is `wte`; the Conv1D [in, out] layout is
    already Hugging Face's) and checks that both give the same logits. `transformers` is
    optional (Debian bookworm does not package it).

How to run
    /usr/bin/python3 scripts/load_checkpoint.py CKPT [--text STR] [--generate N]

What it prints
    The config, the parameter count, then
    * with --text: the mean per-token loss (nats and bits per token) of the text's UTF-8 bytes
      (vocab 256 means raw bytes), read in windows of n_ctx+1 tokens, then a greedy
      continuation of the text;
    * without: a few greedy-decoded bytes starting from a newline.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as R  # noqa: E402  (sets OPENBLAS_NUM_THREADS before importing torch)
import torch  # noqa: E402


def to_transformers(model):
    """GPT2LMHeadModel with the checkpoint's weights, or None if transformers is missing."""
    try:
        from transformers import GPT2Config, GPT2LMHeadModel
    except ImportError:
        return None
    c = model.config
    hf = GPT2LMHeadModel(GPT2Config(
        vocab_size=c["vocab_size"], n_positions=c["n_ctx"], n_embd=c["n_embd"],
        n_layer=c["n_layer"], n_head=c["n_head"], layer_norm_epsilon=R.LN_EPS,
        activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        tie_word_embeddings=True))
    sd = {}
    for name, p in model.named_parameters():
        key = "transformer." + name + (".weight" if name in ("wte", "wpe") else "")
        sd[key] = p.detach().float()
    sd["lm_head.weight"] = sd["transformer.wte.weight"]
    missing, unexpected = hf.load_state_dict(sd, strict=False)
    # Only the attention mask buffers (attn.bias, attn.masked_bias) are not parameters.
    missing = [k for k in missing if not k.endswith((".attn.bias", ".attn.masked_bias"))]
    if missing or unexpected:
        raise RuntimeError(f"name mapping failed: missing {missing}, unexpected {unexpected}")
    hf.tie_weights()
    return hf.eval()


def text_loss(model, ids):
    """Mean per-token loss of ids, scored in windows of n_ctx+1 tokens (each token predicted
    once; the context restarts at each window)."""
    T = model.config["n_ctx"]
    total, count = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(ids) - 1, T):
            w = torch.tensor(ids[s:s + T + 1]).unsqueeze(0)
            losses = R.token_losses(model(w[:, :-1]), w[:, 1:])
            total += losses.sum().item()
            count += losses.numel()
    return total / max(count, 1), count


def greedy(model, ids, n):
    ids = list(ids)
    with torch.no_grad():
        for _ in range(n):
            ctx = torch.tensor(ids[-model.config["n_ctx"]:]).unsqueeze(0)
            ids.append(int(model(ctx)[0, -1].argmax()))
    return ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ckpt")
    ap.add_argument("--text", help="score the UTF-8 bytes of this text")
    ap.add_argument("--generate", type=int, default=32, help="greedy bytes to decode")
    args = ap.parse_args()
    torch.set_num_threads(1)

    model = R.load_checkpoint(args.ckpt).eval()
    c = model.config
    print("config: " + " ".join(f"{k}={v}" for k, v in c.items()))
    print(f"parameters: {model.num_params():,}")

    hf = to_transformers(model)
    if hf is None:
        print("transformers: not installed (skipped GPT2LMHeadModel)")
    else:
        x = torch.randint(0, c["vocab_size"], (2, c["n_ctx"]))
        with torch.no_grad():
            d = (hf(x).logits - model(x)).abs().max().item()
        print(f"transformers: GPT2LMHeadModel loaded, max |logits diff| vs reference {d:.2e}")

    V = c["vocab_size"]
    if args.text is not None:
        ids = list(args.text.encode("utf-8"))
        if ids and max(ids) >= V:
            print(f"text has byte values >= vocab_size {V}", file=sys.stderr)
            return 2
        if len(ids) < 2:
            print("text needs at least 2 bytes", file=sys.stderr)
            return 2
        loss, n = text_loss(model, ids)
        print(f"text: {len(ids)} bytes, mean loss {loss:.4f} nats/token "
              f"({loss / 0.6931471805599453:.4f} bits) over {n} predictions")
        prompt = ids
    else:
        prompt = [10 if V > 10 else 0]
    out = greedy(model, prompt, args.generate)[len(prompt):]
    shown = bytes(out) if V <= 256 else out
    print(f"greedy {args.generate}: {shown!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
