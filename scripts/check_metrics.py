#!/usr/bin/python3
"""scripts/check_metrics.py: recompute every result in a tests/metrics_dump file with sklearn,
scipy, numpy, zlib (and mpmath where available, for skew-normal tails beyond scipy's reach).

Usage: check_metrics.py DUMP.jsonl [--every N]
With --every N only every Nth case of each kind is checked (the Sanitize build's suite: it runs
metrics_dump under the sanitizers, and the Release build's suite checks every case).
Exit 0 when every value agrees, 1 on any disagreement (each one printed), 77 (skipped) when
numpy, scipy or sklearn is missing.

Tolerances: AUC, ROC points and TPR@FPR 1e-12 absolute (counts over the same sort); KS p-values,
t quantiles, skew-normal CDFs and exposures 1e-6 relative or tighter, as listed in TOL.
"""
import json
import math
import sys
import warnings
import zlib

try:
    import numpy as np
    import scipy
    import scipy.special
    import scipy.stats
    import sklearn.metrics
except ImportError as ex:
    print(f"check_metrics: {ex}: skipped")
    sys.exit(77)
try:
    import mpmath
except ImportError:
    mpmath = None

# name: (relative, absolute) tolerance
TOL = {
    "auc": (0.0, 1e-12),
    "roc": (0.0, 1e-15),
    "tpr_at_fpr": (0.0, 1e-15),
    "eps": (1e-12, 1e-12),
    "ks_D": (0.0, 1e-15),
    "ks_p": (1e-6, 1e-12),
    "welch_p": (1e-6, 1e-12),
    "paired_p": (1e-6, 1e-12),
    "exp_rank": (1e-12, 1e-12),
    "fit_closed_form": (1e-10, 1e-12),
    "fit_scipy_mm": (1e-6, 1e-9),
    "exp_skewnorm": (1e-6, 1e-9),
    "ad_lower": (1e-7, 1e-9),
    "fit_pass": (0.0, 0.0),
    "sn_cdf_scipy": (1e-6, 1e-300),
    "sn_logcdf_mp": (1e-9, 1e-12),
    "owens_t": (1e-10, 1e-300),
    "mink": (1e-12, 1e-12),
    "minkpp": (1e-12, 1e-12),
    "zlib_score": (1e-15, 0.0),
    # scipy's t.ppf (cephes stdtri) is itself off by up to ~3e-9 relative (e.g. t.ppf(0.9, 3) =
    # 1.637744357215907, exact 1.6377443536962103): 1e-8 against scipy, 1e-10 against
    # mpmath (ours: ~1e-13 up to df 1e4, ~1e-12 at 1e5, ~5e-11 at 1e6).
    "t_ppf_scipy": (1e-8, 1e-9),
    "t_ppf_mp": (1e-10, 1e-300),
    "t_sf": (1e-9, 1e-300),
    "t_sf_mp": (1e-10, 1e-300),
    "ci95": (1e-9, 1e-12),
}


class Checker:
    def __init__(self):
        self.n = 0
        self.failures = 0
        self.worst = {}  # name -> largest |got - want| / (atol + rtol |want|)

    def close(self, name, got, want, where=""):
        rtol, atol = TOL[name]
        self.n += 1
        got, want = float(got), float(want)
        if math.isnan(want) or math.isnan(got):
            ok = math.isnan(want) and math.isnan(got)
            ratio = 0.0 if ok else math.inf
        elif math.isinf(want) or math.isinf(got):
            ok = got == want
            ratio = 0.0 if ok else math.inf
        else:
            bound = atol + rtol * abs(want)
            err = abs(got - want)
            ok = err <= bound
            ratio = err / bound if bound > 0 else (0.0 if err == 0 else math.inf)
        self.worst[name] = max(self.worst.get(name, 0.0), ratio)
        if not ok:
            self.failures += 1
            if self.failures <= 40:
                print(f"MISMATCH {name} {where}: got {got!r}, expected {want!r}")

    def equal(self, name, got, want, where=""):
        self.n += 1
        self.worst.setdefault(name, 0.0)
        if got != want:
            self.failures += 1
            print(f"MISMATCH {name} {where}: got {got!r}, expected {want!r}")


def eps_reference(unl, ret, delta):
    """Brute force over thresholds t (every score and +inf), both rules."""
    unl, ret = np.asarray(unl), np.asarray(ret)
    best = -math.inf
    for t in np.concatenate([np.unique(np.concatenate([unl, ret])), [np.inf]]):
        fpr = np.mean(ret >= t)
        fnr = np.mean(unl < t)
        for a, b in ((fpr, fnr), (1.0 - fpr, 1.0 - fnr)):
            if b > 0 and 1 - delta - a > 0:
                best = max(best, math.log((1 - delta - a) / b))
            if a > 0 and 1 - delta - b > 0:
                best = max(best, math.log((1 - delta - b) / a))
    return math.nan if best == -math.inf else best


def check_two_sample(c, r):
    pos, neg = np.array(r["pos"]), np.array(r["neg"])
    where = f"(np={len(pos)}, nn={len(neg)})"
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    s = np.r_[pos, neg]
    c.close("auc", r["auc"], sklearn.metrics.roc_auc_score(y, s), where)
    fpr, tpr, _ = sklearn.metrics.roc_curve(y, s, drop_intermediate=False)
    c.equal("roc", len(r["roc_fpr"]), len(fpr), where + " ROC length")
    if len(r["roc_fpr"]) == len(fpr):
        for g, w in zip(r["roc_fpr"] + r["roc_tpr"], list(fpr) + list(tpr)):
            c.close("roc", g, w, where)
    for m, got in zip(r["max_fpr"], r["tpr_at_fpr"]):
        c.close("tpr_at_fpr", got, tpr[fpr <= m].max(), f"{where} max_fpr={m}")
    c.close("eps", r["eps"], eps_reference(pos, neg, r["eps_delta"]), where)
    ks = scipy.stats.ks_2samp(pos, neg)
    c.close("ks_D", r["ks_D"], ks.statistic, where)
    c.close("ks_p", r["ks_p"], ks.pvalue, where)
    want = math.nan
    if len(pos) >= 2 and len(neg) >= 2:
        want = scipy.stats.ttest_ind(pos, neg, equal_var=False).pvalue
    c.close("welch_p", r["welch_p"], want, where)
    if "paired_p" in r:
        c.close("paired_p", r["paired_p"], scipy.stats.ttest_rel(pos, neg).pvalue, where)


def skewnorm_mm(x):
    """Method-of-moments skew-normal fit in closed form (the formulas in metrics.h)."""
    m = x.mean()
    m2 = np.mean((x - m) ** 2)
    g1 = np.mean((x - m) ** 3) / m2**1.5
    g1 = min(max(g1, -0.99), 0.99)
    r = abs(g1) ** (2.0 / 3.0)
    c0 = ((4.0 - math.pi) / 2.0) ** (2.0 / 3.0)
    delta = math.copysign(math.sqrt(math.pi / 2.0 * r / (r + c0)), g1)
    alpha = delta / math.sqrt(1.0 - delta**2)
    omega = math.sqrt(m2 / (1.0 - 2.0 * delta**2 / math.pi))
    return m - omega * delta * math.sqrt(2.0 / math.pi), omega, alpha, g1


def mp_log_lower(z, a):
    """log P(SN(a) <= z) for z < 0 with mpmath, by a different route than the C code (which
    integrates over the angle atan x): F = (1/pi) int_a^inf exp(-z^2 (1 + x^2) / 2) / (1 + x^2) dx
    with u = z^2 (x^2 - m) / 2, m = max(a, 0)^2, so the integrand is exp(-u) times a slowly
    varying factor and its scale exp(-z^2 (1 + m) / 2) comes out exactly; tanh-sinh handles the
    1/sqrt(u) endpoint when m = 0."""
    z2 = z * z
    # breakpoints: the factor 1/(1 + x^2) turns over at x ~ 1, i.e. at u ~ z^2/2 (tiny for small
    # |z|); exp(-u) at u ~ 1
    grid = sorted({z2 / 2 * mpmath.mpf(16) ** k for k in range(-3, 4)} | {1, 8, 64})
    if a > 0:
        def g(u):
            x = mpmath.sqrt(a * a + 2 * u / z2)
            return mpmath.exp(-u) / (z2 * x * (1 + x * x))
        I = mpmath.quad(g, [0] + grid + [mpmath.inf])
        return -z2 * (1 + a * a) / 2 - mpmath.log(mpmath.pi) + mpmath.log(I)

    def h(u):
        x = mpmath.sqrt(2 * u / z2)
        return mpmath.exp(-u) / ((1 + x * x) * mpmath.sqrt(2 * u * z2))

    I = mpmath.quad(h, [0] + grid + [mpmath.inf])
    if a < 0:  # the part over x in [a, 0] (the integrand is even in x)
        top = z2 * a * a / 2
        I += mpmath.quad(h, [0] + [v for v in grid if v < top] + [top])
    return -z2 / 2 - mpmath.log(mpmath.pi) + mpmath.log(I)


def sn_logcdf_mp(z, alpha):
    """log CDF of SN(alpha) at z with mpmath at 20 digits (z > 0 through 1 - S(z))."""
    mpmath.mp.dps = 20
    z, a = mpmath.mpf(z), mpmath.mpf(alpha)
    if z == 0:
        return float(mpmath.log(mpmath.atan2(1, a) / mpmath.pi))
    if z < 0:
        return float(mp_log_lower(z, a))
    return float(mpmath.log(1 - mpmath.exp(mp_log_lower(-z, -a))))


def sn_cdf_direct_mp(z, alpha):
    """log(Phi(z) - 2 T(z, alpha)) at 40 digits with T from its defining integral: the textbook
    formula, independent of both tail integrals. None for |z| > 10 or where cancellation leaves
    < ~20 digits."""
    if abs(z) > 10 or z == 0:  # a check of the identity at moderate z, where quad is reliable
        return None
    mpmath.mp.dps = 40
    z, a = mpmath.mpf(z), mpmath.mpf(alpha)
    # breakpoints at the scale 1/|z| of the integrand's peak at x = 0
    pts = [0] + [k / abs(z) for k in (1, 4, 16) if k / abs(z) < abs(a)] + [abs(a)]
    T = mpmath.quad(lambda x: mpmath.exp(-z * z * (1 + x * x) / 2) / (1 + x * x), pts)
    T = T if a >= 0 else -T
    F = mpmath.ncdf(z) - T / mpmath.pi
    return float(mpmath.log(F)) if F > mpmath.ncdf(z) * mpmath.mpf(10) ** -20 else None


def check_exposure(c, r):
    cand = np.array(r["cand"])
    n, secret, L = len(cand), r["secret"], r["log2_space"]
    where = f"(n={n}, secret={secret:.6g})"
    k = np.sum(cand < secret) + 0.5 * np.sum(cand == secret)
    # the rank estimate, censored at what n candidates resolve (log2(n + 1) bits)
    c.close("exp_rank", r["exp_rank"], min(L - math.log2(1 + k * 2.0**L / n), math.log2(n + 1)),
            where)
    xi, omega, alpha, g1 = skewnorm_mm(cand)
    for name, want in (("xi", xi), ("omega", omega), ("alpha", alpha)):
        c.close("fit_closed_form", r[name], want, where + " " + name)
    if abs(g1) < 0.99:  # scipy clamps at 0.9952717 instead of our 0.99
        a_s, loc_s, scale_s = scipy.stats.skewnorm.fit(cand, method="mm")
        for name, want in (("xi", loc_s), ("omega", scale_s), ("alpha", a_s)):
            c.close("fit_scipy_mm", r[name], want, where + " scipy " + name)
    cdf = scipy.stats.skewnorm.cdf(secret, r["alpha"], loc=r["xi"], scale=r["omega"])
    if cdf > 1e-300 and not (cdf < 1e-6 and r["alpha"] > 0):  # see check_skewnorm
        c.close("exp_skewnorm", r["exp_skewnorm"], -math.log2(cdf), where)
    if mpmath is not None:
        z = (secret - r["xi"]) / r["omega"]
        want = -sn_logcdf_mp(z, r["alpha"]) / math.log(2)
        c.close("exp_skewnorm", r["exp_skewnorm"], want, where + " mpmath")
    # the fit's lower-tail Anderson-Darling statistic from scipy's CDF, and the pass rule
    if "ad_lower" in r and math.isfinite(r["ad_lower"]):
        x = np.sort(cand)
        u = scipy.stats.skewnorm.cdf(x, r["alpha"], loc=r["xi"], scale=r["omega"])
        lu = scipy.stats.skewnorm.logcdf(x, r["alpha"], loc=r["xi"], scale=r["omega"])
        if np.all(u > 1e-6) or r["alpha"] <= 0:  # scipy's quad branch is loose below 1e-6
            i = np.arange(1, n + 1)
            ad = -1.5 * n + 2.0 * u.sum() - np.sum((2 * i - 1) * lu) / n
            c.close("ad_lower", r["ad_lower"], ad, where)
        ok = r["ad_lower"] <= 1.0 and r["exp_skewnorm"] <= 2.0 * math.log2(n + 1)
        c.close("fit_pass", r["fit_pass"], float(ok), where)


def check_skewnorm(c, r):
    x, xi, omega, a = r["x"], r["xi"], r["omega"], r["alpha"]
    z = (x - xi) / omega
    where = f"(z={z:.6g}, alpha={a})"
    want = scipy.stats.skewnorm.cdf(x, a, loc=xi, scale=omega)
    # scipy is exact to ~1e-15 except in its quad branch (CDF < 1e-6 with alpha > 0), whose
    # absolute tolerance 1.5e-8 leaves small values loose: compare there only through mpmath.
    if want > 1e-300 and not (want < 1e-6 and a > 0):
        c.close("sn_cdf_scipy", r["cdf"], want, where)
    if mpmath is not None:
        c.close("sn_logcdf_mp", r["logcdf"], sn_logcdf_mp(z, a), where)
        direct = sn_cdf_direct_mp(z, a)
        if direct is not None:
            c.close("sn_logcdf_mp", r["logcdf"], direct, where + " direct")


def check_owens_t(c, r):
    c.close("owens_t", r["t"], scipy.special.owens_t(r["h"], r["a"]), f"(h={r['h']}, a={r['a']})")


def check_mia(c, r):
    lp, mu, sg = (np.array(r[k], dtype=np.float64) for k in ("logp", "mu", "sigma"))
    n = len(lp)
    sg = np.where(sg > 0, sg, r["sigma_eps"])
    z = (lp - mu) / sg
    for k, mk, mpp in zip(r["k"], r["mink"], r["minkpp"]):
        m = max(1, min(n, math.ceil(k * n - 1e-9)))
        c.close("mink", mk, np.sort(lp)[:m].mean(), f"(n={n}, k={k})")
        c.close("minkpp", mpp, np.sort(z)[:m].mean(), f"(n={n}, k={k})")


def check_zlib(c, r):
    b = bytes.fromhex(r["hex"])
    want = len(zlib.compress(b))
    c.equal("zlib_len", int(r["len"]), want, f"(n={len(b)})")
    c.close("zlib_score", r["score"], -(r["loss"] / want), f"(n={len(b)})")


def mp_t_sf(t, df):
    t, df = mpmath.mpf(t), mpmath.mpf(df)
    if t < 0:
        return 1 - mp_t_sf(-t, df)
    try:
        return mpmath.betainc(df / 2, mpmath.mpf(1) / 2, 0, df / (df + t * t), regularized=True) / 2
    except mpmath.libmp.NoConvergence:  # hypergeometric series too slow (huge df): integrate
        lpdf0 = mpmath.loggamma((df + 1) / 2) - mpmath.loggamma(df / 2) - mpmath.log(df * mpmath.pi) / 2
        pdf = lambda u: mpmath.exp(lpdf0 - (df + 1) / 2 * mpmath.log1p(u * u / df))
        return mpmath.quad(pdf, [t, t + 1, t + 4, t + 16, mpmath.inf])


def mp_t_ppf(p, df, guess):
    """The t with P(T <= t) = p, by bracketed root finding in log |t| around guess."""
    target = mpmath.log(mpmath.mpf(p) if p < 0.5 else 1 - mpmath.mpf(p))
    g = lambda u: mpmath.log(mp_t_sf(mpmath.exp(u), df)) - target
    if math.isinf(guess):  # agree on +-inf when the quantile is indeed beyond a double
        if g(mpmath.log(sys.float_info.max)) > 0:
            return guess
        guess = 1e300
    u0 = mpmath.log(abs(guess))
    lo, hi = u0 - mpmath.mpf("0.01"), u0 + mpmath.mpf("0.01")
    while g(lo) < 0:
        lo -= 1
    while g(hi) > 0:
        hi += 1
    t = mpmath.exp(mpmath.findroot(g, (lo, hi), solver="anderson"))
    return float(t if p > 0.5 else -t)


def check_t_dist(c, r):
    df = r["df"]
    for p, q in zip(r["p"], r["ppf"]):
        where = f"(p={p}, df={df})"
        want = scipy.stats.t.ppf(p, df)
        # scipy's stdtri gives up at +-1e100 and is off by 1e-4 relative at p = 1e-300
        if 1e-100 < p < 1 - 1e-100 and abs(want) < 1e100:
            c.close("t_ppf_scipy", q, want, where)
        if mpmath is not None and p != 0.5:
            mpmath.mp.dps = 40
            c.close("t_ppf_mp", q, mp_t_ppf(p, df, q), where)
    for t, sf in zip(r["t"], r["sf"]):
        where = f"(t={t}, df={df})"
        c.close("t_sf", sf, scipy.stats.t.sf(t, df), where)
        if mpmath is not None:
            mpmath.mp.dps = 40
            c.close("t_sf_mp", sf, float(mp_t_sf(t, df)), where)


def check_seeds(c, r):
    a, b = np.array(r["a"]), np.array(r["b"])
    n = len(a)
    where = f"(n={n})"
    c.close("ci95", r["mean"], a.mean(), where + " mean")
    hw = scipy.stats.t.ppf(0.975, n - 1) * a.std(ddof=1) / math.sqrt(n)
    c.close("ci95", r["half_width"], hw, where + " half width")
    c.close("paired_p", r["paired_p"], scipy.stats.ttest_rel(a, b).pvalue, where)
    nb = int(r["welch_nb"])
    want = scipy.stats.ttest_ind(a, b[:nb], equal_var=False).pvalue
    c.close("welch_p", r["welch_p"], want, where)


CHECKS = {
    "two_sample": check_two_sample,
    "exposure": check_exposure,
    "skewnorm": check_skewnorm,
    "owens_t": check_owens_t,
    "mia": check_mia,
    "zlib": check_zlib,
    "t_dist": check_t_dist,
    "seeds": check_seeds,
}


def main():
    every = 1
    if len(sys.argv) == 4 and sys.argv[2] == "--every" and sys.argv[3].isdigit() and int(sys.argv[3]) > 0:
        every = int(sys.argv[3])
    elif len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")  # scipy warns on degenerate inputs we test on purpose
    c = Checker()
    cases, seen = {}, {}
    with open(sys.argv[1]) as f:
        for line in f:
            r = json.loads(line)
            seen[r["kind"]] = seen.get(r["kind"], 0) + 1
            if (seen[r["kind"]] - 1) % every:
                continue
            CHECKS[r["kind"]](c, r)
            cases[r["kind"]] = cases.get(r["kind"], 0) + 1
    worst = ", ".join(f"{k} {v:.2g}" for k, v in sorted(c.worst.items()))
    kinds = ", ".join(f"{v} {k}" for k, v in cases.items())
    print(f"check_metrics: scipy {scipy.__version__}, sklearn {sklearn.__version__}, "
          f"mpmath {'yes' if mpmath else 'no'}; cases{f' (every {every}th)' if every > 1 else ''}: {kinds}")
    print(f"worst error / tolerance: {worst}")
    if c.failures:
        print(f"check_metrics: FAILED {c.failures} of {c.n} checks")
        return 1
    print(f"check_metrics: all {c.n} checks within tolerance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
