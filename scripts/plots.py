#!/usr/bin/python3
"""Plots of an `unlearnbench run` directory, from its results.h5 alone (PNG and SVG in DIR/plots/).

  /usr/bin/python3 scripts/plots.py DIR

- mia_roc: ROC curves of the LOSS attack (F's posts vs non-members' posts) on log-log axes
  (Carlini et al. 2022), every model, all seeds pooled (each seed's scores are per post);
- exposure: mean exposure of F's secrets inserted 16 times per model, 95% interval;
- tradeoff: forgetting (MIA AUC on F) against utility (perplexity on retained posts relative to
  original), 95% intervals;
- decay: influence under continued training (AUC and loss on F against extra steps);
- mia_roc_lira (runs with `--shadows`): LiRA online against the LOSS and reference attacks on
  the same posts, log-log, for original and retrain, all seeds pooled;
- eps_hist (runs with `--ulira`): per model, the histogram of F's users' epsilons (NeurIPS 2023
  challenge, delta 1e-5) over all seeds, with the resolution limit log(n), n the larger side's
  models;
- relearn (runs with `--relearn`): the LOSS attack's AUC on F against relearning steps on F's
  users' fresh posts, every base model, 95% intervals; retrain is the floor;
- chain (runs with `--chain K`): after each of K chained deletion requests, the LOSS attack's
  AUC on every user forgotten so far and the perplexity on retained posts, every model,
  Student-t 95% intervals over seeds (these rows have no user bootstrap).
An `unlearnbench sweep` directory (sweep.h5) gets one figure instead:
- sweep: per method, every setting of its grid as forgetting (LOSS AUC on the validation F)
  against utility (perplexity on retained posts / original), means over the validation seeds,
  the frontier (the lowest AUC any setting reaches within each perplexity); the selected setting
  starred, original and retrain as reference lines, the rule's bound dashed.
Intervals as the report makes them (bench/FORMAT.md, "Intervals"): the hierarchical user
bootstrap from seed_<s>/bootstrap when the file has it, else Student t over seeds clipped to the
metric's range (R = 2000 outer replicates here, the report uses 10000: the bars may differ from
the report's in the last digit).
Needs python3-h5py, python3-numpy, python3-matplotlib (scripts/deps.sh --python).
"""
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
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


class Intervals:
    """The report's 95% intervals of a results.h5 (bench/report/report_stats.c)."""

    def __init__(self, f):
        self.m = f["metrics"][...]
        seeds = f["seeds"][...]
        K = self.m.shape[2]
        self.rng = f["metric_range"][...] if "metric_range" in f else \
            np.tile([-np.inf, np.inf], (K, 1))
        self.res = f["metric_resampled"][...] if "metric_resampled" in f else np.zeros(K)
        has = all(f"seed_{s}/bootstrap" in f for s in seeds)
        self.boot = np.stack([f[f"seed_{s}/bootstrap"][...] for s in seeds]) if has else None

    def __call__(self, i, k):
        """(mean, lower error, upper error) of model i's metric k; errors NaN without one."""
        v = self.m[:, i, k]
        ok = np.isfinite(v)
        if not ok.any():
            return np.nan, np.nan, np.nan
        mean = v[ok].mean()
        if self.boot is not None and self.res[k]:
            rep = self.boot[ok][:, :, i, k]  # (S, B)
            S, B = rep.shape
            g = np.random.default_rng(k)
            b = g.integers(B, size=2000)
            t = np.nanmean(rep[g.integers(S, size=(2000, S)), b[:, None]], axis=1)
            lo, hi = np.nanpercentile(t, [2.5, 97.5])
        else:
            half = mean_ci(v)[1]
            if np.isnan(half):
                return mean, np.nan, np.nan
            lo, hi = max(mean - half, self.rng[k][0]), min(mean + half, self.rng[k][1])
        return mean, mean - lo, hi - mean


def bars(cs):
    """matplotlib's (2, n) asymmetric error bars of (mean, lower, upper) triples."""
    return np.array([[0 if np.isnan(c[1]) else c[1] for c in cs],
                     [0 if np.isnan(c[2]) else c[2] for c in cs]])


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


def roc_axes(ax, title):
    """Log-log ROC axes (Carlini et al. 2022: the low-FPR corner is what matters)."""
    ax.plot([1e-4, 1], [1e-4, 1], ":", color="grey", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-3, 1)
    ax.set_ylim(1e-3, 1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.legend(fontsize=7)


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
    roc_axes(ax, f"LOSS attack on F's posts vs non-members ({S} seeds pooled)")
    save(fig, out, "mia_roc")

    fig, ax = plt.subplots(figsize=(8, 4))
    ci = Intervals(f)
    mc = [ci(i, k("exposure_rank_16")) for i in range(len(models))]
    ax.bar(range(len(models)), [c[0] for c in mc], yerr=bars(mc), capsize=3)
    base = mean_ci(m[:, :, k("exposure_rank_0")].ravel())[0]
    if np.isfinite(base):
        ax.axhline(base, color="grey", ls=":", label="secrets never inserted (all models)")
        ax.legend(fontsize=7)
    ax.set_xticks(range(len(models)))
    ax.set_xticklabels(models, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("exposure (bits), secrets inserted 16 times")
    ax.set_title(f"Secret exposure, mean over {S} seeds and 95% interval")
    save(fig, out, "exposure")

    fig, ax = plt.subplots(figsize=(6, 5))
    for i, name in enumerate(models):
        cx, cy = ci(i, k("ppl_retain_rel")), ci(i, k("auc_loss"))
        ax.errorbar(cx[0], cy[0], xerr=bars([cx]), yerr=bars([cy]), fmt="o", capsize=3,
                    label=name)
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
            ys = [ci(0, k(metric))] + [ci(i, k(metric)) for _, i in cont]
            ax.errorbar(xs, [c[0] for c in ys], yerr=bars(ys), fmt="o-", capsize=3,
                        label="original + continued")
            ax.set_xscale("symlog", linthresh=max(1, min(c for c, _ in cont)))
            r = ci(1, k(metric))[0]
            ax.axhline(r, color="grey", ls="--", label="retrain")
            ax.set_xlabel("extra training steps without F")
            ax.set_ylabel(metric)
            ax.legend(fontsize=7)
        fig.suptitle("Influence decay under continued training")
        save(fig, out, "decay")
    made = ["mia_roc", "exposure", "tradeoff"] + (["decay"] if cont else [])
    if f"seed_{seeds[0]}/shadows" in f:
        lira_roc(f, models, seeds, out)
        made.append("mia_roc_lira")
    if eps_hist(f, models, seeds, out):
        made.append("eps_hist")
    if relearn(models, ci, k("auc_loss"), S, out):
        made.append("relearn")
    if chain(f, seeds, out):
        made.append("chain")
    print(f"wrote {out}/{{{','.join(made)}}}.{{png,svg}}")


def attack_scores(f, s, model, key, attack):
    """Per-post scores of one attack (higher = member), as bench/eval/metric_fns.c makes them."""
    g = f[f"seed_{s}/models/{model}/{key}"]
    per_tok = g["loss"][...] / np.maximum(g["ntok"][...], 1)
    if attack == "LOSS":
        return -per_tok
    if attack == "reference":
        r = f[f"seed_{s}/models/retrain_ref/{key}"]
        return r["loss"][...] / np.maximum(r["ntok"][...], 1) - per_tok
    # LiRA online: log N(phi; mu_in, sd_in) - log N(phi; mu_out, sd_out), phi = logit of exp(-loss)
    p = np.exp(-np.maximum(per_tok, 1e-12))
    phi = np.log(p / (1 - p))
    sets, sh = f[f"seed_{s}/sets/{key}"], f[f"seed_{s}/shadows"]
    z_in = (phi - sets["lira_mu_in"][...]) / sh.attrs["sd_in"]
    z_out = (phi - sets["lira_mu_out"][...]) / sh.attrs["sd_out"]
    return -0.5 * z_in ** 2 + 0.5 * z_out ** 2 - np.log(sh.attrs["sd_in"] / sh.attrs["sd_out"])


def lira_roc(f, models, seeds, out):
    K = f[f"seed_{seeds[0]}/shadows/member"].shape[0]
    fig, ax = plt.subplots(figsize=(6, 6))
    for name, color in (("original", "C0"), ("retrain", "C1")):
        if name not in models:
            continue
        for attack, style in (("LiRA", "-"), ("reference", ":"), ("LOSS", "--")):
            pos = np.concatenate([attack_scores(f, s, name, "forget", attack) for s in seeds])
            neg = np.concatenate([attack_scores(f, s, name, "nonmember", attack) for s in seeds])
            fpr, tpr = roc(pos, neg)
            ax.plot(np.maximum(fpr, 1e-4), np.maximum(tpr, 1e-4), style, color=color,
                    label=f"{name}: {attack}", lw=1.2)
    roc_axes(ax, f"LiRA ({K} shadow models) vs LOSS and reference, {len(seeds)} seeds pooled")
    save(fig, out, "mia_roc_lira")


def eps_hist(f, models, seeds, out):
    """Per-user epsilons of every model with U-LiRA scores, one panel each."""
    have = [n for n in models if f"seed_{seeds[0]}/models/{n}/eps_user" in f]
    if not have:
        return False
    sh = f[f"seed_{seeds[0]}/shadows"]
    K, mi = sh["member"].shape[0], int(sh.attrs.get("in_per_user", sh["member"].shape[0] // 2))
    lim = np.log(max(mi, K - mi))
    cols = min(4, len(have))
    rows = (len(have) + cols - 1) // cols
    fig, axs = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False,
                            sharex=True)
    bins = np.arange(0, lim + 0.5, 0.25)
    for ax, name in zip(axs.ravel(), have):
        e = np.concatenate([f[f"seed_{s}/models/{name}/eps_user"][...] for s in seeds])
        e = e[np.isfinite(e)]
        ax.hist(e, bins=bins, color="C0")
        ax.axvline(lim, color="grey", ls=":")
        ax.set_title(f"{name} (mean {e.mean():.2f}, {len(e)} users)", fontsize=8)
    for ax in axs.ravel()[len(have):]:
        ax.axis("off")
    fig.suptitle(f"Per-user epsilon at delta 1e-5, {mi} unlearned vs {K - mi} never-trained "
                 f"shadows per user, {len(seeds)} seeds; dotted: log({max(mi, K - mi)}), the most "
                 f"these resolve", fontsize=9)
    fig.supxlabel("epsilon")
    save(fig, out, "eps_hist")
    return True


def relearn(models, ci, ka, S, out):
    """AUC of the LOSS attack against relearning steps, per base model."""
    pts = sorted({int(n.split("@rl")[1]) for n in models if "@rl" in n and n.split("@rl")[1].isdigit()})
    if not pts:
        return False
    fig, ax = plt.subplots(figsize=(7, 5))
    for i, name in enumerate(models):
        if "@" in name or f"{name}@rl{pts[0]}" not in models:
            continue
        ys = [ci(i, ka)] + [ci(models.index(f"{name}@rl{p}"), ka) for p in pts]
        style = dict(lw=2.5) if name in ("original", "retrain") else dict(lw=1, ls="--")
        ax.errorbar([0] + pts, [c[0] for c in ys], yerr=bars(ys), fmt="o-", capsize=3,
                    label=name, **style)
    ax.set_xscale("symlog", linthresh=max(1, pts[0]))
    ax.set_xlabel("relearning steps on F's users' fresh posts")
    ax.set_ylabel("MIA AUC on F's posts (LOSS)")
    ax.set_title(f"Relearning: does F come back? ({S} seeds, 95% intervals; retrain = floor)")
    ax.legend(fontsize=7)
    save(fig, out, "relearn")
    return True


def chain(f, seeds, out):
    """Per request of a chained run: AUC on the users forgotten so far, perplexity."""
    if f"seed_{seeds[0]}/chain" not in f:
        return False
    g0 = f[f"seed_{seeds[0]}/chain"]
    rows = list(g0["models"].asstr()[...])
    auc = np.stack([f[f"seed_{s}/chain/auc_loss"][...] for s in seeds])
    ppl = np.stack([f[f"seed_{s}/chain/ppl_retain_rel"][...] for s in seeds])
    K = auc.shape[2]
    xs = np.arange(1, K + 1)
    fig, axs = plt.subplots(1, 2, figsize=(12, 5))
    for ax, v, lab, rng in ((axs[0], auc, "MIA AUC on users forgotten so far (LOSS)", (0, 1)),
                            (axs[1], ppl, "perplexity on retained posts / original", (0, np.inf))):
        for i, name in enumerate(rows):
            mc = [mean_ci(v[:, i, q]) for q in range(K)]
            m = np.array([c[0] for c in mc])
            h = np.array([c[1] if np.isfinite(c[1]) else 0 for c in mc])
            lo, hi = np.maximum(m - h, rng[0]), np.minimum(m + h, rng[1])
            style = dict(lw=2.5) if name in ("original", "retrain", "sisa") else dict(lw=1, ls="--")
            ax.errorbar(xs, m, yerr=[m - lo, hi - m], fmt="o-", capsize=3, label=name, **style)
        ax.set_xlabel("deletion requests so far")
        ax.set_ylabel(lab)
        ax.set_xticks(xs)
    axs[0].legend(fontsize=7)
    fig.suptitle(f"Chained deletion requests ({len(seeds)} seeds, Student-t 95% intervals)")
    save(fig, out, "chain")
    return True


def sweep(d):
    """Forgetting against utility of every setting of every method of a sweep."""
    f = h5py.File(os.path.join(d, "sweep.h5"), "r")
    out = os.path.join(d, "plots")
    os.makedirs(out, exist_ok=True)
    V = len(f["val_seeds"])
    ref_auc = f["reference_auc"][...].mean(1)
    ref_ppl = f["reference_ppl"][...].mean(1)
    bound = f.attrs["max_ppl"]
    names = list(f["methods"].keys())
    n = len(names)
    cols = 4
    rows = (n + cols - 1) // cols
    fig, axs = plt.subplots(rows, cols, figsize=(4 * cols, 3.4 * rows), squeeze=False)
    for i, name in enumerate(names):
        g = f["methods"][name]
        ax = axs[i // cols][i % cols]
        auc, ppl = g["auc"][...].mean(1), g["ppl"][...].mean(1)
        ax.scatter(ppl, auc, s=14, color="tab:blue", alpha=0.7, label="settings")
        order = np.argsort(ppl)  # the frontier: the lowest AUC within each perplexity budget
        ax.step(ppl[order], np.minimum.accumulate(auc[order]), where="post", color="tab:blue",
                lw=1)
        sel = int(g.attrs["selected"])
        ax.scatter([ppl[sel]], [auc[sel]], marker="*", s=160, color="tab:red", zorder=5,
                   label="selected" + ("" if g.attrs["meets_rule"] else " (rule unmet)"))
        ax.axhline(ref_auc[0], color="k", lw=1, label=f"original {ref_auc[0]:.2f}")
        ax.axhline(ref_auc[1], color="tab:green", lw=1, label=f"retrain {ref_auc[1]:.2f}")
        ax.axvline(bound, color="gray", ls="--", lw=1)
        ax.scatter([ref_ppl[1]], [ref_auc[1]], marker="s", color="tab:green", s=30)
        ax.set_xscale("log")
        # few plain labels: a narrow log range otherwise labels every minor tick
        wide = np.nanmax(ppl) / max(np.nanmin(ppl), 1e-12) > 100
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(
            subs=(1.0,) if wide else (1.0, 2.0, 5.0), numticks=12 if wide else 6))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("perplexity retained / original", fontsize=8)
        ax.set_ylabel("LOSS AUC, validation F", fontsize=8)
        ax.legend(fontsize=6)
    for j in range(n, rows * cols):
        axs[j // cols][j % cols].axis("off")
    fig.suptitle(f"Budget sweep: forgetting vs utility, every setting (mean over {V} "
                 f"validation seeds); rule: perplexity <= {bound:.2f}x, AUC closest to retrain")
    fig.tight_layout()
    save(fig, out, "sweep")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: plots.py RUN_DIR")
    if not os.path.exists(os.path.join(sys.argv[1], "results.h5")) and \
            os.path.exists(os.path.join(sys.argv[1], "sweep.h5")):
        sweep(sys.argv[1])
    else:
        main(sys.argv[1])
