/* bench/eval/metrics/stats.c: statistics over seeds: Student-t distribution (sf, quantile), mean with
 * a 95% confidence interval, paired and Welch t-tests, and the residual-knowledge ratio.
 *
 * The t tail is P(T > t) = I_x(df/2, 1/2) / 2 with x = df / (df + t^2), I the regularized
 * incomplete beta function, evaluated by its continued fraction (modified Lentz), and
 * log B(a, b) with Stirling's series where an argument is large so that lgamma differences do
 * not cancel.
 */
#include <float.h>
#include <math.h>

#include "metrics.h"

#define MT_PI          3.14159265358979323846
#define MT_LN_SQRT_2PI 0.918938533204672741780329736406

/* lgamma(x) - Stirling's approximation, for x >= 10: sum_k B_2k / (2k (2k-1) x^(2k-1)), seven
 * terms (the next is 3e-17 at x = 10). */
static double stirling_corr(double x) {
    static const double c[7] = {1.0 / 12,   -1.0 / 360,        1.0 / 1260, -1.0 / 1680,
                                1.0 / 1188, -691.0 / 360360.0, 1.0 / 156};
    double r = 1.0 / x, r2 = r * r, s = 0.0;
    for (int k = 6; k >= 0; k--)
        s = s * r2 + c[k];
    return s * r;
}

/* log B(a, b) for a, b > 0. */
static double lbeta(double a, double b) {
    double p = fmin(a, b), q = fmax(a, b);
    if (q < 10.0) return lgamma(p) + lgamma(q) - lgamma(p + q);
    if (p < 10.0) /* lgamma(q) - lgamma(p + q) by Stirling, without cancellation */
        return lgamma(p) - (q - 0.5) * log1p(p / q) - p * log(p + q) + p + stirling_corr(q) -
               stirling_corr(p + q);
    double corr = stirling_corr(p) + stirling_corr(q) - stirling_corr(p + q);
    return MT_LN_SQRT_2PI - 0.5 * log(q) + corr + (p - 0.5) * log(p / (p + q)) +
           q * log1p(-p / (p + q));
}

/* Continued fraction of I_x(a, b) (converges fast for x < (a+1)/(a+b+2)). */
static double betacf(double a, double b, double x) {
    const double tiny = 1e-300;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 100000; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 4e-16) break;
    }
    return h;
}

/* I_x(a, b) given log x and log y, y = 1 - x, each computed by the caller without cancellation
 * (x or y may underflow; the logs stay exact). */
static double betai(double a, double b, double logx, double logy) {
    if (logx == -INFINITY) return 0.0;
    if (logy == -INFINITY) return 1.0;
    double x = exp(logx), y = exp(logy);
    double front = exp(a * logx + b * logy - lbeta(a, b));
    if (x < (a + 1.0) / (a + b + 2.0)) return front * betacf(a, b, x) / a;
    return 1.0 - front * betacf(b, a, y) / b;
}

/* P(T > |t|), the upper tail at |t|. */
static double t_tail(double t, double df) {
    t = fabs(t);
    if (t == 0.0) return 0.5;
    if (isinf(t)) return 0.0;
    /* x = df / (df + t^2), y = t^2 / (df + t^2), from whichever ratio r = t^2/df or 1/r is <= 1
     * so that log1p sees a small argument (for df = 1e6, t = 1, log x = -log1p(1e-6) exactly,
     * where log(df) - log(df + t^2) would lose 8 digits) and t^2 is never formed. */
    double s = t / sqrt(df), logx, logy;
    if (s <= 1.0) {
        double r = s * s;
        logx = -log1p(r);
        logy = 2.0 * log(s) - log1p(r);
    } else {
        double u = 1.0 / s, r = u * u; /* u may be tiny: its log is still exact */
        logx = 2.0 * log(u) - log1p(r);
        logy = -log1p(r);
    }
    return 0.5 * betai(0.5 * df, 0.5, logx, logy);
}

static int df_ok(double df) {
    return df > 0.0 && isfinite(df);
}

double mt_t_sf(double t, double df) {
    if (!df_ok(df) || isnan(t)) return NAN;
    double tail = t_tail(t, df);
    return t >= 0.0 ? tail : 1.0 - tail;
}

/* Density of Student t at t. */
static double t_pdf(double t, double df) {
    return exp(lgamma(0.5 * (df + 1.0)) - lgamma(0.5 * df) - 0.5 * log(df * MT_PI) -
               0.5 * (df + 1.0) * log1p(t * t / df));
}

double mt_t_quantile(double p, double df) {
    if (!df_ok(df) || !(p >= 0.0 && p <= 1.0)) return NAN;
    if (p == 0.0) return -INFINITY;
    if (p == 1.0) return INFINITY;
    if (p == 0.5) return 0.0;
    /* Solve tail(t) = target for t > 0 (1 - p is exact for p > 0.5), then set the sign. */
    double target = p < 0.5 ? p : 1.0 - p, ltarget = log(target);
    double lo = 0.0, hi = 1.0;
    while (log(t_tail(hi, df)) > ltarget) {
        if (hi > 0.25 * DBL_MAX) return p < 0.5 ? -INFINITY : INFINITY; /* beyond a double */
        lo = hi;
        hi *= 2.0;
    }
    /* Safeguarded Newton on g(t) = log tail(t) - log target (decreasing; g' = -pdf / tail),
     * bisecting whenever a step leaves the bracket [lo, hi]. */
    double t = 0.5 * (lo + hi);
    for (int it = 0; it < 400; it++) {
        double tail = t_tail(t, df), g = log(tail) - ltarget;
        if (g > 0.0)
            lo = t;
        else if (g < 0.0)
            hi = t;
        else
            break;
        double step = g * tail / t_pdf(t, df), tn = t + step;
        if (!(tn > lo && tn < hi)) tn = 0.5 * (lo + hi);
        if (fabs(tn - t) <= 1e-15 * t || !(hi - lo > 2e-16 * hi)) {
            t = tn;
            break;
        }
        t = tn;
    }
    return p < 0.5 ? -t : t;
}

/* Mean and sample variance (ddof 1) by two passes. */
static void mean_var(const double *x, size_t n, double *mean, double *var) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m += x[i];
    m /= (double)n;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - m) * (x[i] - m);
    *mean = m;
    *var = n > 1 ? ss / (double)(n - 1) : NAN;
}

void mt_mean_ci95(const double *x, size_t n, double *mean, double *half_width) {
    *mean = *half_width = NAN;
    if (n == 0) return;
    double v;
    mean_var(x, n, mean, &v);
    if (n < 2) return;
    *half_width = mt_t_quantile(0.975, (double)(n - 1)) * sqrt(v / (double)n);
}

/* Two-sided p-value of t with df degrees of freedom; t = +-inf gives 0, NaN gives NaN. */
static double two_sided(double t, double df) {
    if (isnan(t)) return NAN;
    return fmin(1.0, 2.0 * t_tail(t, df));
}

double mt_ttest_paired_p(const double *a, const double *b, size_t n) {
    if (n < 2) return NAN;
    /* mean and variance of d = a - b, two passes, without storing d */
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m += a[i] - b[i];
    m /= (double)n;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (a[i] - b[i]) - m;
        ss += d * d;
    }
    double v = ss / (double)(n - 1);
    double t = m / sqrt(v / (double)n); /* 0/0 = NaN, x/0 = inf, as scipy */
    return two_sided(t, (double)(n - 1));
}

double mt_welch_p(const double *a, size_t na, const double *b, size_t nb) {
    if (na < 2 || nb < 2) return NAN;
    double ma, va, mb, vb;
    mean_var(a, na, &ma, &va);
    mean_var(b, nb, &mb, &vb);
    double vna = va / (double)na, vnb = vb / (double)nb;
    double df =
        (vna + vnb) * (vna + vnb) / (vna * vna / (double)(na - 1) + vnb * vnb / (double)(nb - 1));
    if (isnan(df)) df = 1.0; /* both variances 0: any df will do (scipy uses 1) */
    double t = (ma - mb) / sqrt(vna + vnb);
    return two_sided(t, df);
}

double mt_residual(double v_method, double v_retrain, double v_original) {
    double span = v_original - v_retrain;
    if (!(fabs(span) >= 1e-12)) return NAN;
    return (v_method - v_retrain) / span;
}
