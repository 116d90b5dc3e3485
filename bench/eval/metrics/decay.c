/* bench/eval/metrics/decay.c: how fast an influence washes out: an exponential decay
 * r(s) = exp(-lambda s) fitted to residual influences r_i after s_i steps of continued
 * training (r = 1 in the deployed model by construction, 0 = like retraining), reported as a
 * half-life ln 2 / lambda. */
#include <math.h>

#include "metrics.h"

static const double LN2 = 0.69314718055994530942;

static double sse(const double *s, const double *r, size_t n, double lambda) {
    double e = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(s[i]) && isfinite(r[i])) {
            double d = r[i] - exp(-lambda * s[i]);
            e += d * d;
        }
    return e;
}

double mt_decay_half_life(const double *s, const double *r, size_t n, double bound) {
    double smin = INFINITY;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(s[i]) && isfinite(r[i]) && s[i] > 0) {
            m++;
            if (s[i] < smin) smin = s[i];
        }
    if (m == 0 || !(bound > 0)) return NAN;
    /* half-lives searched from smin/64 up to bound, log-spaced: a grid first (the squared
     * error need not be unimodal with noisy points), then golden-section around its best */
    double lo = log(smin / 64.0), hi = log(bound);
    if (!(hi > lo)) return NAN;
    enum { GRID = 256 };
    double best = lo, be = INFINITY;
    for (int g = 0; g <= GRID; g++) {
        double u = lo + (hi - lo) * g / GRID;
        double e = sse(s, r, n, LN2 / exp(u));
        if (e < be) be = e, best = u;
    }
    double step = (hi - lo) / GRID, a = fmax(lo, best - step), b = fmin(hi, best + step);
    const double gr = 0.5 * (sqrt(5.0) - 1.0);
    double c = b - gr * (b - a), d = a + gr * (b - a);
    for (int it = 0; it < 80; it++) {
        if (sse(s, r, n, LN2 / exp(c)) < sse(s, r, n, LN2 / exp(d))) b = d;
        else a = c;
        c = b - gr * (b - a), d = a + gr * (b - a);
    }
    double u = 0.5 * (a + b);
    /* at the search's upper end the data show no decay the horizon can resolve */
    if (u >= hi - step) return INFINITY;
    return exp(u);
}
