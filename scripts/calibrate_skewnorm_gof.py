#!/usr/bin/python3
"""Calibrates the pass threshold of the skew-normal goodness-of-fit test (MT_SN_GOF_THRESHOLD in
bench/eval/metrics/metrics.h): the lower-tail Anderson-Darling statistic
AL^2 = -3n/2 + 2 sum F(x_i) - (1/n) sum (2i-1) log F(x_(i)) (Ahmad, Sinclair and Spurr 1988)
of samples drawn from a skew-normal and refitted by the method of moments as the C code does.
Parameters are estimated from the same sample, so the statistic's null distribution is narrower
than the known-parameter one; this prints its 95th and 99th percentiles per (n, alpha).
Run once: /usr/bin/python3 scripts/calibrate_skewnorm_gof.py"""
import math

import numpy as np
import scipy.stats


def mm_fit(x):
    m = x.mean()
    m2 = np.mean((x - m) ** 2)
    g1 = np.mean((x - m) ** 3) / m2**1.5
    g1 = min(max(g1, -0.99), 0.99)
    r = abs(g1) ** (2.0 / 3.0)
    c0 = ((4.0 - math.pi) / 2.0) ** (2.0 / 3.0)
    delta = math.copysign(math.sqrt(math.pi / 2.0 * r / (r + c0)), g1)
    alpha = delta / math.sqrt(1.0 - delta**2)
    omega = math.sqrt(m2 / (1.0 - 2.0 * delta**2 / math.pi))
    return m - omega * delta * math.sqrt(2.0 / math.pi), omega, alpha


def ad_lower(x, xi, omega, alpha):
    x = np.sort(x)
    n = len(x)
    u = scipy.stats.skewnorm.cdf(x, alpha, loc=xi, scale=omega)
    lu = scipy.stats.skewnorm.logcdf(x, alpha, loc=xi, scale=omega)
    i = np.arange(1, n + 1)
    return -1.5 * n + 2.0 * u.sum() - np.sum((2 * i - 1) * lu) / n


def main():
    rng = np.random.default_rng(1)
    for n in (200, 1000):
        for a in (0.0, 1.0, 3.0, 10.0, -3.0):
            st = []
            for _ in range(1000 if n == 200 else 300):
                x = scipy.stats.skewnorm.rvs(a, size=n, random_state=rng)
                st.append(ad_lower(x, *mm_fit(x)))
            q = np.percentile(st, [50, 95, 99])
            print(f"n={n:5d} alpha={a:5.1f}: median {q[0]:.3f}  95% {q[1]:.3f}  99% {q[2]:.3f}")


if __name__ == "__main__":
    main()
