#!/usr/bin/python3
"""Plots of an `unlearnbench run` directory, from its results.h5 alone (PNG and SVG in DIR/plots/).

  /usr/bin/python3 scripts/plots.py DIR

- mia_roc: ROC curves of the LOSS attack (F's posts vs non-members' posts) on log-log axes
  (Carlini et al. 2022), every model, all seeds pooled (each seed's scores are per post);
- exposure: mean exposure of F's secrets inserted 16 times per model, 95% CI over seeds;
- tradeoff: forgetting (MIA AUC on F) against utility (perplexity on retained posts relative to
  original), 95% CIs over seeds;
- decay: influence under continued training (AUC and loss on F against extra steps).
Needs python3-h5py, python3-numpy, python3-matplotlib (scripts/deps.sh --python).
"""
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

T975 = {1: 12.706204736, 2: 4.302652730, 3: 3.182446305, 4: 2.776445105, 5: 2.570581836,
        6: 2.446911851, 7: 2.364624252, 8: 2.306004135, 9: 2.262157163}


def mean_ci(x):
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return np.nan, np.nan
    if len(x) == 1:
        return x[0], np.nan
    t = T975.get(len(x) - 1, 1.96)
    return x.mean(), t * x.std(ddof=1) / np.sqrt(len(x))


def yerr_in(mc, lo=-np.inf, hi=np.inf):
    """Asymmetric error bars of (mean, half) pairs, clipped to the metric's range [lo, hi]
    (an exposure has no bar below 0 bits, an AUC none above 1)."""
    down = [0 if np.isnan(b) else a - max(a - b, lo) for a, b in mc]
    up = [0 if np.isnan(b) else min(a + b, hi) - a for a, b in mc]
    return [down, up]


def roc(pos, neg):
    """ROC points of scores (higher = member), every threshold."""
    s = np.concatenate([pos, neg])
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    distinct = np.where(np.diff(s))[0]
    idx = np.r_[distinct, len(s) - 1]
    tp = np.cumsum(y)[idx]
    fp = np.cumsum(1 - y)[idx]
    return np.r_[0, fp / max(len(neg), 1)], np.r_[0, tp / max(len(pos), 1)]


def save(fig, out, name):
    for ext in ("png", "svg"):
        fig.savefig(os.path.join(out, f"{name}.{ext}"), dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(d):
    f = h5py.File(os.path.join(d, "results.h5"), "r")
    models = list(f["model_names"].asstr()[...])
    names = list(f["metric_names"].asstr()[...])
    m = f["metrics"][...]
    seeds = f["seeds"][...]
    out = os.path.join(d, "plots")
    os.makedirs(out, exist_ok=True)
    k = names.index
    S = len(seeds)

    fig, ax = plt.subplots(figsize=(6, 6))
    for mi, name in enumerate(models):
        pos, neg = [], []
        for s in seeds:
            g = f[f"seed_{s}/models/{name}"]
            for key, acc in (("forget", pos), ("nonmember", neg)):
                loss, ntok = g[key]["loss"][...], g[key]["ntok"][...]
                acc.append(-loss / np.maximum(ntok, 1))
        fpr, tpr = roc(np.concatenate(pos), np.concatenate(neg))
        style = "-" if name in ("original", "retrain") else "--"
        ax.plot(np.maximum(fpr, 1e-4), np.maximum(tpr, 1e-4), style, label=name, lw=1.2)
    ax.plot([1e-4, 1], [1e-4, 1], ":", color="grey", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-3, 1)
    ax.set_ylim(1e-3, 1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"LOSS attack on F's posts vs non-members ({S} seeds pooled)")
    ax.legend(fontsize=7)
    save(fig, out, "mia_roc")

    fig, ax = plt.subplots(figsize=(8, 4))
    mc = [mean_ci(m[:, i, k("exposure_rank_16")]) for i in range(len(models))]
    ax.bar(range(len(models)), [a for a, _ in mc], yerr=yerr_in(mc, 0.0), capsize=3)
    base = mean_ci(m[:, :, k("exposure_rank_0")].ravel())[0]
    if np.isfinite(base):
        ax.axhline(base, color="grey", ls=":", label="secrets never inserted (all models)")
        ax.legend(fontsize=7)
    ax.set_xticks(range(len(models)))
    ax.set_xticklabels(models, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("exposure (bits), secrets inserted 16 times")
    ax.set_title(f"Secret exposure, mean and 95% CI over {S} seeds")
    save(fig, out, "exposure")

    fig, ax = plt.subplots(figsize=(6, 5))
    for i, name in enumerate(models):
        x, xe = mean_ci(m[:, i, k("ppl_retain_rel")])
        y, ye = mean_ci(m[:, i, k("auc_loss")])
        ax.errorbar(x, y, xerr=None if np.isnan(xe) else xe,
                    yerr=None if np.isnan(ye) else np.array(yerr_in([(y, ye)], 0.0, 1.0)),
                    fmt="o", capsize=3, label=name)
    ax.set_xlabel("perplexity on retained posts / original (utility cost)")
    ax.set_ylabel("MIA AUC on F (LOSS)")
    ax.set_title("Forgetting vs utility")
    ax.legend(fontsize=7)
    save(fig, out, "tradeoff")

    cont = [(int(n.split("_")[1]), i) for i, n in enumerate(models) if n.startswith("continued_")]
    if cont:
        fig, axs = plt.subplots(1, 2, figsize=(10, 4))
        for ax, metric in zip(axs, ("auc_loss", "loss_forget")):
            xs = [0] + [c for c, _ in cont]
            ys = [mean_ci(m[:, 0, k(metric)])] + [mean_ci(m[:, i, k(metric)]) for _, i in cont]
            rng = (0.0, 1.0) if metric.startswith("auc") else (0.0, np.inf)
            ax.errorbar(xs, [a for a, _ in ys], yerr=yerr_in(ys, *rng),
                        fmt="o-", capsize=3, label="original + continued")
            ax.set_xscale("symlog", linthresh=max(1, min(c for c, _ in cont)))
            r, re = mean_ci(m[:, 1, k(metric)])
            ax.axhline(r, color="grey", ls="--", label="retrain")
            ax.set_xlabel("extra training steps without F")
            ax.set_ylabel(metric)
            ax.legend(fontsize=7)
        fig.suptitle("Influence decay under continued training")
        save(fig, out, "decay")
    print(f"wrote {out}/{{mia_roc,exposure,tradeoff,decay}}.{{png,svg}}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: plots.py RUN_DIR")
    main(sys.argv[1])
