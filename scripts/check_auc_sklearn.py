#!/usr/bin/python3
"""scripts/check_auc_sklearn.py: recompute a run's membership AUCs with scikit-learn from the
per-post scores in results.h5, and compare them with the AUCs unlearnbench computed.

Usage: check_auc_sklearn.py DIR [--markdown]
For every seed and model: the LOSS attack (score = -loss per token), Min-K% and Min-K%++
(stored per post) and the reference attack (loss per token under retrain_ref minus under the
model), and with `--shadows` online and offline LiRA (recomputed from the per-post losses, the
stored per-post shadow means and the pooled sds, scipy's normal log-density), F's posts against
the non-members'; sklearn.metrics.roc_auc_score against the metric of the same name. Prints a summary (a Markdown table with --markdown) and exits 1 when any
value differs by more than 1e-9, 77 when sklearn or h5py is missing.
"""
import os
import sys

try:
    import h5py
    import numpy as np
    from sklearn.metrics import roc_auc_score
except ImportError as ex:
    print(f"check_auc_sklearn: {ex}: skipped")
    sys.exit(77)

TOL = 1e-9


def lira(g, seed, key, online):
    """LiRA's per-post score, written out independently of bench/eval/metrics/lira.c."""
    from scipy.stats import norm
    loss, ntok = g[key]["loss"][...], g[key]["ntok"][...]
    sets, sh = seed["sets/" + key], seed["shadows"]
    l = np.maximum(loss / np.maximum(ntok, 1), 1e-12)
    p = np.exp(-l)
    phi = np.log(p) - np.log1p(-p)
    mi, mo = sets["lira_mu_in"][...], sets["lira_mu_out"][...]
    si, so = sh.attrs["sd_in"], sh.attrs["sd_out"]
    x = norm.logpdf(phi, mi, si) - norm.logpdf(phi, mo, so) if online else (phi - mo) / so
    return np.where(ntok > 0, x, 0.0)


def attack(g, ref, key, name, seed=None):
    if name in ("auc_lira", "auc_lira_offline"):
        return lira(g, seed, key, name == "auc_lira")
    loss, ntok = g[key]["loss"][...], np.maximum(g[key]["ntok"][...], 1)
    if name == "auc_loss":
        return -loss / ntok
    if name == "auc_mink":
        return g[key]["mink"][...]
    if name == "auc_minkpp":
        return g[key]["minkpp"][...]
    if name == "auc_ref":
        return (ref[key]["loss"][...] - loss) / ntok
    raise KeyError(name)


def main(d, markdown):
    f = h5py.File(os.path.join(d, "results.h5"), "r")
    models = list(f["model_names"].asstr()[...])
    names = list(f["metric_names"].asstr()[...])
    metrics = f["metrics"][...]
    seeds = f["seeds"][...]
    rows, worst, n = [], 0.0, 0
    shadows = f"seed_{seeds[0]}/shadows" in f
    for name in ("auc_loss", "auc_mink", "auc_minkpp", "auc_ref") + \
            (("auc_lira", "auc_lira_offline") if shadows else ()):
        k = names.index(name)
        diffs, ours_all, sk_all = [], [], []
        for si, s in enumerate(seeds):
            ref = f[f"seed_{s}/models/retrain_ref"]
            for mi, model in enumerate(models):
                if name == "auc_ref" and model == "retrain_ref":
                    continue  # the reference attack against its own reference: undefined
                g = f[f"seed_{s}/models/{model}"]
                pos = attack(g, ref, "forget", name, f[f"seed_{s}"])
                neg = attack(g, ref, "nonmember", name, f[f"seed_{s}"])
                y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
                sk = roc_auc_score(y, np.r_[pos, neg])
                ours = metrics[si, mi, k]
                diffs.append(abs(sk - ours))
                ours_all.append(ours)
                sk_all.append(sk)
        worst = max(worst, max(diffs))
        n += len(diffs)
        rows.append((name, len(diffs), max(diffs)))
    if markdown:
        print("| AUC | values compared (seeds x models) | largest difference to sklearn |")
        print("|---|---|---|")
        for name, cnt, dmax in rows:
            print(f"| `{name}` | {cnt} | {dmax:.1e} |")
    else:
        for name, cnt, dmax in rows:
            print(f"{name}: {cnt} values, largest |ours - sklearn| = {dmax:.3e}")
    ok = worst <= TOL
    print(f"\n{'agree' if ok else 'DISAGREE'}: {n} AUCs, largest difference {worst:.1e} "
          f"(tolerance {TOL:g}; sklearn.metrics.roc_auc_score on the per-post scores in "
          f"results.h5)")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], "--markdown" in sys.argv[2:]))
