#!/usr/bin/python3
"""Coverage of the report's 95% intervals on simulated clustered data with a known truth.

The procedure simulated is the one unlearnbench runs (bench/eval/bootstrap.c, then
mt_boot_hier in bench/eval/metrics/resample.c): per seed, B user resamples (users drawn with
replacement within F and within the matched non-members; a user brings all its posts), the
metric recomputed on each; then R outer replicates, each the mean over seeds of replicate b (one
index b for every seed) plus a Student-t draw (S - 1 df) scaled by the seeds' spread beyond the
users' part (with one split for all seeds: all of the seeds' spread), clipped to the range; the
interval is the 2.5 / 97.5 percentiles. User draws are keyed by the split, so with one split for
every seed (--split-seed) replicate b is the same users in every seed.

Compared with it: Student t over the seeds' values (the report before the bootstrap), ours
resampling posts as if they were independent (ignores users), and the plain two-stage bootstrap
(seeds resampled with replacement, then one user replicate), which under-covers with 3 seeds
when the training noise dominates (differences between models, where the users cancel).

Data: F has 13 users, the matched non-members 31, posts per user 1 + geometric (mean ~5, capped
at 30). A post's score is user effect u ~ N(0, su^2) + post noise e ~ N(0, 1) + for F's posts
the model's memorisation shift d + training noise tau z_s (z_s ~ N(0, 1) per seed). Metrics:
mean score of F's posts (like loss_forget), the MIA AUC of F's posts against the non-members'
(like auc_loss), and the paired difference of AUCs of two models that share the users and posts
(original with shift d, retrain with shift 0, each with its own training noise: like the
"distinguishable from retrain" table). Truths: mean d; AUC E_z Phi((d + tau z) / sqrt(2 (su^2 +
1))); difference: that minus the retrain's.

Designs: "fresh users" (every seed draws new F and non-members, the default of `run`) and "one
split" (the same users in every seed, `--split-seed`). Each cell: N simulated experiments.

Usage: /usr/bin/python3 scripts/bootstrap_coverage.py [--experiments N] [--quick] [--check]
  --check exits 1 unless our procedure's coverage is within [0.85, 1] in every cell.
"""
import argparse
import sys

import numpy as np
from scipy.stats import norm, t as student_t

NF, NN = 13, 31


def posts_per_user(rng, n):
    return np.minimum(1 + rng.geometric(1 / 5, size=n), 30)


def make_users(rng, su):
    """One split: F's and the non-members' users, their posts' owners and base scores."""
    pf, pn = posts_per_user(rng, NF), posts_per_user(rng, NN)
    of, on = np.repeat(np.arange(NF), pf), np.repeat(np.arange(NN), pn)
    xf = su * rng.standard_normal(NF)[of] + rng.standard_normal(of.size)
    xn = su * rng.standard_normal(NN)[on] + rng.standard_normal(on.size)
    return of, on, xf, xn


def user_weights(rng, owner, n_users, B):
    """(B, posts): how often each post is in each replicate when users are resampled."""
    c = rng.multinomial(n_users, np.full(n_users, 1 / n_users), size=B)
    return c[:, owner].astype(float)


def post_weights(rng, n_posts, B):
    return rng.multinomial(n_posts, np.full(n_posts, 1 / n_posts), size=B).astype(float)


def auc_w(xf, xn, wf, wn):
    """Weighted AUC: each replicate's posts counted by weight (equal to materialising them)."""
    c = (xf[:, None] > xn[None, :]) + 0.5 * (xf[:, None] == xn[None, :])
    return ((wf @ c) * wn).sum(1) / (wf.sum(1) * wn.sum(1))


def hier_ci(rep, full, shared, lo, hi, R, rng):
    """rep (S, B), full (S) -> 2.5 / 97.5 percentiles, as mt_boot_hier: the mean over seeds of
    replicate b (one b for every seed) + a Student-t draw (S-1 df) scaled by the seeds' spread
    beyond the users' part (all of it when the users are shared), clipped to [lo, hi]."""
    S, B = rep.shape
    b = rng.integers(B, size=R)
    s2 = full.var(ddof=1) if S > 1 else 0.0
    v = s2 if shared else max(s2 - rep.var(axis=1, ddof=1).mean(), 0.0)
    g = rng.standard_t(S - 1, size=R) if S > 1 else np.zeros(R)
    tm = np.clip(rep[:, b].mean(axis=0) + g * np.sqrt(v / S), lo, hi)
    return np.percentile(tm, [2.5, 97.5])


def seed_boot_ci(rep, R, rng):
    """The plain two-stage bootstrap (seeds resampled, then one replicate): for comparison."""
    S, B = rep.shape
    b = rng.integers(B, size=R)
    tm = rep[rng.integers(S, size=(R, S)), b[:, None]].mean(axis=1)
    return np.percentile(tm, [2.5, 97.5])


def t_ci(v):
    m, sd = v.mean(), v.std(ddof=1)
    h = student_t.ppf(0.975, v.size - 1) * sd / np.sqrt(v.size)
    return m - h, m + h


def truth(metric, d, tau, su):
    z = np.random.default_rng(0).standard_normal(400000)
    sc = np.sqrt(2 * (su * su + 1))
    if metric == "mean":
        return d
    a = norm.cdf((d + tau * z) / sc).mean()
    return a if metric == "auc" else a - norm.cdf(tau * z / sc).mean()


def experiment(rng, metric, design, S, B, R, d, tau, su):
    """One simulated run of S seeds; returns the three intervals."""
    split = make_users(rng, su) if design == "one split" else None
    urng_seed = rng.integers(1 << 62)  # the split's bootstrap stream (one split: shared)
    vals, rep_u, rep_p = [], [], []
    for s in range(S):
        of, on, xf, xn = split if split else make_users(rng, su)
        # replicate b's user draw: the split's stream when the split is shared, else the seed's
        urng = np.random.default_rng(urng_seed if split else rng.integers(1 << 62))
        wf, wn = user_weights(urng, of, NF, B), user_weights(urng, on, NN, B)
        pf, pn = post_weights(rng, of.size, B), post_weights(rng, on.size, B)
        sf = xf + d + tau * rng.standard_normal()  # this seed's trained model
        if metric == "mean":
            v = sf.mean()
            ru, rp = wf @ sf / wf.sum(1), pf @ sf / pf.sum(1)
        else:
            v = auc_w(sf, xn, np.ones((1, sf.size)), np.ones((1, xn.size)))[0]
            ru, rp = auc_w(sf, xn, wf, wn), auc_w(sf, xn, pf, pn)
            if metric == "diff":  # retrain: no shift, its own training noise, same posts
                sr = xf + tau * rng.standard_normal()
                v -= auc_w(sr, xn, np.ones((1, sr.size)), np.ones((1, xn.size)))[0]
                ru, rp = ru - auc_w(sr, xn, wf, wn), rp - auc_w(sr, xn, pf, pn)
        vals.append(v), rep_u.append(ru), rep_p.append(rp)
    vals, rep_u, rep_p = np.array(vals), np.array(rep_u), np.array(rep_p)
    lo, hi = (-1, 1) if metric == "diff" else (0, 1) if metric == "auc" else (-np.inf, np.inf)
    shared = design == "one split"
    return (hier_ci(rep_u, vals, shared, lo, hi, R, rng), t_ci(vals),
            hier_ci(rep_p, vals, shared, lo, hi, R, rng), seed_boot_ci(rep_u, R, rng))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--experiments", type=int, default=400)
    ap.add_argument("--quick", action="store_true", help="fewer cells and experiments (CI)")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    n = 100 if a.quick else a.experiments
    B, R = 200, 2000
    su, d = 0.7, 0.6
    cells = []
    for metric in ("mean", "auc", "diff"):
        for design in ("fresh users", "one split"):
            for S in (3, 5):
                for tau in (0.05, 0.3):
                    if a.quick and (S != 3 or tau != 0.05 or metric == "mean"):
                        continue
                    cells.append((metric, design, S, tau))
    print(f"95% intervals, {n} simulated experiments per row; F {NF} users, non-members {NN}, "
          f"user sd {su}, post sd 1, shift {d}; B = {B} user resamples per seed, R = {R}")
    print(f"{'metric':6} {'design':12} {'S':>2} {'tau':>5} | {'ours':>6} {'width':>6} | "
          f"{'t/seeds':>7} {'width':>6} | {'posts':>6} {'width':>6} | {'2-stage':>7} {'width':>6}")
    rng = np.random.default_rng(20261202)
    worst = 1.0
    for metric, design, S, tau in cells:
        th = truth(metric, d, tau, su)
        cov, wid = np.zeros(4), np.zeros(4)
        for _ in range(n):
            for i, (lo, hi) in enumerate(experiment(rng, metric, design, S, B, R, d, tau, su)):
                cov[i] += lo <= th <= hi
                wid[i] += hi - lo
        cov, wid = cov / n, wid / n
        worst = min(worst, cov[0])
        print(f"{metric:6} {design:12} {S:>2} {tau:>5} | {cov[0]:6.3f} {wid[0]:6.3f} | "
              f"{cov[1]:7.3f} {wid[1]:6.3f} | {cov[2]:6.3f} {wid[2]:6.3f} | "
              f"{cov[3]:7.3f} {wid[3]:6.3f}")
    print("ours: user bootstrap + t-scaled seed spread (mt_boot_hier); t/seeds: Student t over "
          "the seeds' values; posts: ours resampling posts as if independent; 2-stage: seeds "
          "resampled, then one user replicate (plain hierarchical bootstrap)")
    if a.check and worst < 0.85:
        print(f"FAIL: our coverage {worst:.3f} < 0.85 in some cell", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
