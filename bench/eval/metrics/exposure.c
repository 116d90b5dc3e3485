/* bench/eval/metrics/exposure.c: secret exposure (Carlini et al. 2019, "The Secret Sharer") by rank
 * interpolation and by a skew-normal fit, with the skew-normal CDF and Owen's T it needs.
 *
 * The skew-normal CDF is Phi(z) - 2 T(z, alpha). Evaluated literally it cancels in the tail that
 * exposure lives in (low loss, z << 0, alpha > 0: both terms are ~Phi(z), the CDF far smaller).
 * Instead, T(z, inf) = Phi(z)/2 for z <= 0 gives, with x = tan t in Owen's integral,
 *   CDF(z) = (1/pi) int_{atan alpha}^{pi/2} exp(-z^2 / (2 cos^2 t)) dt          (z <= 0),
 * a positive integrand. Factoring out its largest value exp(-z^2 (1 + m) / 2), m = max(alpha,0)^2,
 * leaves an integral of a function in (0, 1], so log CDF = -z^2 (1+m)/2 - log pi + log(integral)
 * stays exact where the CDF itself underflows. z > 0 uses the survival function
 * S(z; alpha) = CDF(-z; -alpha).
 *
 * The integrals are done by adaptive Gauss-Kronrod (7/15 points) on an initial grid graded
 * geometrically toward both ends, down to the width of the narrowest feature there (a peak of
 * width ~1/(z^2 alpha (1+alpha^2)) at the lower end in the far tail, a drop of width ~|z| at the
 * upper end when |z| is small), so no feature can fall between the nodes.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "metrics.h"

#define MT_PI  3.14159265358979323846
#define MT_LN2 0.69314718055994530942

/* ------------------------------------------------------------------------------------------
 * Exposure by rank
 * ------------------------------------------------------------------------------------------ */
double mt_exposure_rank(double secret, const double *cand, size_t n, double log2_space,
                        int *censored) {
    if (censored) *censored = 0;
    if (n == 0) return NAN;
    double k = 0.0;
    for (size_t i = 0; i < n; i++)
        k += cand[i] < secret ? 1.0 : cand[i] == secret ? 0.5 : 0.0;
    /* log2(1 + k 2^L / n) = L + log2(k/n) + log2(1 + n 2^-L / k); so exposure is
     * -log2(k/n) - log2(1 + n 2^-L / k), with no 2^L that could overflow. */
    double kn = k / (double)n;
    double x = k == 0.0 ? log2_space : -log2(kn) - log1p(exp2(-log2_space) / kn) / MT_LN2;
    /* n candidates resolve ranks down to 1 in n + 1: beyond that the sample says "at least" */
    double bound = log2((double)n + 1.0);
    if (x > bound) {
        if (censored) *censored = 1;
        x = bound;
    }
    return x;
}

/* ------------------------------------------------------------------------------------------
 * Adaptive Gauss-Kronrod quadrature
 * ------------------------------------------------------------------------------------------ */
typedef double (*quad_fn)(double x, const void *ctx);

/* QUADPACK's 15-point Kronrod nodes on [-1,1] (x >= 0 half; xgk[7] = 0) and weights; the 7-point
 * Gauss rule uses the odd-indexed nodes. */
static const double xgk[8] = {
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.000000000000000000000000000000000};
static const double wgk[8] = {
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
static const double wg[4] = {
    0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
    0.381830050505118944950369775488975, 0.417959183673469387755102040816327};

typedef struct quad_piece {
    double a, b, val, err;
} quad_piece;

/* The 15-point Kronrod value of f on [a,b]; *err = |Kronrod - Gauss|. */
static double gk15(quad_fn f, const void *ctx, double a, double b, double *err) {
    double c = 0.5 * (a + b), h = 0.5 * (b - a);
    double fc = f(c, ctx);
    double rk = fc * wgk[7], rg = fc * wg[3];
    for (int j = 0; j < 7; j++) {
        double dx = h * xgk[j];
        double s = f(c - dx, ctx) + f(c + dx, ctx);
        rk += wgk[j] * s;
        if (j & 1) rg += wg[j / 2] * s;
    }
    *err = fabs((rk - rg) * h);
    return rk * h;
}

#define QUAD_MAX_PIECES 4000
#define QUAD_REL_TOL    1e-14

/* Number of geometric steps that grade [a,b] toward one end down to a feature of width w
 * (w >= len: no feature; w = 0, an underflowed width: the finest grading). */
static int grade_steps(double len, double w) {
    if (!(w < len)) return 0;
    if (!(w > 0.0)) return 1000;
    double k = ceil(log2(len / w)) + 4.0;
    return k > 1000.0 ? 1000 : (int)k;
}

/* int_a^b f, f >= 0, to relative accuracy ~QUAD_REL_TOL. w_lo, w_hi: the narrowest feature's
 * width near a and near b (0 or >= b-a: none). Returns NaN if out of memory. */
static double integrate(quad_fn f, const void *ctx, double a, double b, double w_lo, double w_hi) {
    if (!(b > a)) return 0.0;
    quad_piece *q = malloc(QUAD_MAX_PIECES * sizeof *q);
    if (!q) return NAN;
    /* Initial grid: [a, a+L/2^k_lo], ..., [a+L/4, a+L/2] then mirrored toward b. */
    double len = b - a, mid = a + 0.5 * len;
    int klo = grade_steps(0.5 * len, w_lo), khi = grade_steps(0.5 * len, w_hi);
    int n = 0;
    double left = a;
    for (int k = klo; k >= 1; k--) {
        double right = a + ldexp(0.5 * len, -k);
        if (right > left) q[n++] = (quad_piece){left, right, 0, 0};
        left = right;
    }
    q[n++] = (quad_piece){left, mid, 0, 0};
    left = mid;
    for (int k = 1; k <= khi; k++) {
        double right = b - ldexp(0.5 * len, -k);
        if (right > left) q[n++] = (quad_piece){left, right, 0, 0};
        left = right;
    }
    q[n++] = (quad_piece){left, b, 0, 0};
    for (int i = 0; i < n; i++)
        q[i].val = gk15(f, ctx, q[i].a, q[i].b, &q[i].err);

    /* Bisect the piece with the largest error until the total error is small enough. */
    for (;;) {
        double sum = 0.0, err = 0.0;
        int worst = 0;
        for (int i = 0; i < n; i++) {
            sum += q[i].val;
            err += q[i].err;
            if (q[i].err > q[worst].err) worst = i;
        }
        if (err <= QUAD_REL_TOL * fabs(sum) || err <= DBL_MIN || n + 1 >= QUAD_MAX_PIECES) {
            free(q);
            return sum;
        }
        double pa = q[worst].a, pb = q[worst].b, pm = 0.5 * (pa + pb);
        if (!(pm > pa && pm < pb)) { /* cannot split further: accept this piece as it is */
            q[worst].err = 0.0;
            continue;
        }
        q[worst] = (quad_piece){pa, pm, 0, 0};
        q[worst].val = gk15(f, ctx, pa, pm, &q[worst].err);
        q[n] = (quad_piece){pm, pb, 0, 0};
        q[n].val = gk15(f, ctx, pm, pb, &q[n].err);
        n++;
    }
}

/* ------------------------------------------------------------------------------------------
 * Owen's T and the skew-normal CDF
 * ------------------------------------------------------------------------------------------ */
/* exp(-c tan^2 t) on t in (-pi/2, pi/2). */
static double f_tan(double t, const void *ctx) {
    double c = *(const double *)ctx, x = tan(t);
    return exp(-c * x * x);
}

/* For alpha > 0, in u = t - atan(alpha) in [0, atan2(1, alpha)): exp(-c (tan^2 t - alpha^2)) with
 * tan t - alpha = sin u (1 + alpha^2) / (cos u - alpha sin u), exact near u = 0 where the far
 * tail's peak sits (tan(atan(alpha) + u) - alpha would lose it to rounding). */
typedef struct shifted_ctx {
    double c, alpha;
} shifted_ctx;
static double f_shifted(double u, const void *ctx) {
    const shifted_ctx *s = ctx;
    double den = cos(u) - s->alpha * sin(u);
    if (!(den > 0.0)) return 0.0; /* at or past t = pi/2 */
    double d = sin(u) * (1.0 + s->alpha * s->alpha) / den;
    return exp(-s->c * d * (d + 2.0 * s->alpha));
}

/* 1 - exp(-c / cos^2 t) = -expm1(-c (1 + tan^2 t)). */
static double f_one_minus(double t, const void *ctx) {
    double c = *(const double *)ctx, x = tan(t);
    return -expm1(-c * (1.0 + x * x));
}

double mt_owens_t(double h, double a) {
    if (isnan(h) || isnan(a)) return NAN;
    double ta = atan(fabs(a)), s = a < 0 ? -1.0 : 1.0;
    if (h == 0.0) return s * ta / (2.0 * MT_PI);
    if (isinf(h)) return 0.0;
    /* T = e^{-h^2/2} / (2 pi) int_0^{atan|a|} exp(-h^2/2 tan^2 t) dt: a peak of width 1/|h| at 0,
     * a drop of width ~|h| before pi/2 when |a| is large. */
    double c = 0.5 * h * h;
    if (exp(-c) == 0.0) return s * 0.0; /* underflow (|h| > 38.6), also when h^2 overflows */
    double I = integrate(f_tan, &c, 0.0, ta, 1.0 / fabs(h), fabs(h));
    return s * exp(-c) * I / (2.0 * MT_PI);
}

/* log P(SN(alpha) <= z) for z <= 0 (see the top of the file). */
static double sn_log_lower(double z, double alpha) {
    if (z == 0.0) return log(atan2(1.0, alpha) / MT_PI);
    double c = 0.5 * z * z, az = fabs(z), I;
    if (isinf(c)) return -INFINITY; /* |z| > 1e154 */
    if (alpha > 0.0) {
        shifted_ctx s = {c, alpha};
        double w_peak = 1.0 / (z * z * alpha * (1.0 + alpha * alpha));
        I = integrate(f_shifted, &s, 0.0, atan2(1.0, alpha), w_peak, az);
        return -c * (1.0 + alpha * alpha) - log(MT_PI) + log(I);
    }
    /* alpha <= 0: peak at t = 0 (width 1/|z|), drops of width ~|z| near +-pi/2. */
    double t0 = atan(alpha);
    I = integrate(f_tan, &c, t0, 0.0, az, 1.0 / az) +
        integrate(f_tan, &c, 0.0, 0.5 * MT_PI, 1.0 / az, az);
    return -c - log(MT_PI) + log(I);
}

/* log CDF and CDF of the standard SN(alpha) at z. */
static void sn_cdf(double z, double alpha, double *logcdf, double *cdf) {
    if (isnan(z) || isnan(alpha)) {
        *logcdf = *cdf = NAN;
        return;
    }
    if (z <= 0.0) {
        *logcdf = sn_log_lower(z, alpha);
        *cdf = exp(*logcdf);
        return;
    }
    double S = exp(sn_log_lower(-z, -alpha));
    if (S < 0.5) {
        *cdf = 1.0 - S;
        *logcdf = log1p(-S);
        return;
    }
    /* Large S (alpha >> 0, small z > 0): CDF = (1/pi) (atan2(1, alpha) + J) with
     * J = int_{-atan alpha}^{pi/2} (1 - exp(-z^2 / (2 cos^2 t))) dt, both terms >= 0. The
     * integrand rises to 1 within ~|z| of each end. */
    double c = 0.5 * z * z;
    double J = integrate(f_one_minus, &c, -atan(alpha), 0.5 * MT_PI, z, z);
    *cdf = (atan2(1.0, alpha) + J) / MT_PI;
    *logcdf = log(*cdf);
}

double mt_skewnorm_logcdf(double x, double xi, double omega, double alpha) {
    if (!(omega > 0.0)) return NAN;
    double l, c;
    sn_cdf((x - xi) / omega, alpha, &l, &c);
    return l;
}

double mt_skewnorm_cdf(double x, double xi, double omega, double alpha) {
    if (!(omega > 0.0)) return NAN;
    double l, c;
    sn_cdf((x - xi) / omega, alpha, &l, &c);
    return c;
}

/* ------------------------------------------------------------------------------------------
 * Fit and exposure
 * ------------------------------------------------------------------------------------------ */
ub_status mt_skewnorm_fit(const double *x, size_t n, double *xi, double *omega, double *alpha,
                          ub_err *e) {
    *xi = *omega = *alpha = NAN;
    if (n < 3) return ub_fail(e, UB_EARG, "skew-normal fit needs at least 3 values (got %zu)", n);
    double mean = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    /* Central moments about the mean (two passes, as numpy / scipy.stats.skew). */
    double m2 = 0.0, m3 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - mean;
        m2 += d * d;
        m3 += d * d * d;
    }
    m2 /= (double)n;
    m3 /= (double)n;
    if (!(m2 > 0.0) || !isfinite(m2))
        return ub_fail(e, UB_EARG, "skew-normal fit: the %zu values have no spread", n);
    double g1 = m3 / pow(m2, 1.5);
    g1 = fmax(-MT_SKEWNORM_MAX_SKEW, fmin(MT_SKEWNORM_MAX_SKEW, g1));
    /* Skewness of SN: g1 = (4 - pi)/2 b^3 / (1 - b^2)^1.5 with b = delta sqrt(2/pi); solved for
     * b^2 = r / (r + c0), r = |g1|^(2/3), c0 = ((4 - pi)/2)^(2/3). */
    double r = cbrt(g1 * g1), c0 = cbrt(0.25 * (4.0 - MT_PI) * (4.0 - MT_PI));
    double delta = copysign(sqrt(0.5 * MT_PI * r / (r + c0)), g1);
    *alpha = delta / sqrt(1.0 - delta * delta);
    *omega = sqrt(m2 / (1.0 - 2.0 * delta * delta / MT_PI));
    *xi = mean - *omega * delta * sqrt(2.0 / MT_PI);
    return UB_OK;
}

double mt_exposure_skewnorm(double secret, const double *cand, size_t n) {
    double xi, omega, alpha;
    if (mt_skewnorm_fit(cand, n, &xi, &omega, &alpha, NULL) != UB_OK) return NAN;
    return -mt_skewnorm_logcdf(secret, xi, omega, alpha) / MT_LN2;
}

/* ------------------------------------------------------------------------------------------
 * Goodness of fit of the skew-normal
 * ------------------------------------------------------------------------------------------ */
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double mt_skewnorm_ad_lower(const double *x, size_t n, double xi, double omega, double alpha) {
    if (n == 0 || !(omega > 0.0)) return NAN;
    double *s = malloc(n * sizeof *s);
    if (!s) return NAN;
    for (size_t i = 0; i < n; i++) s[i] = x[i];
    qsort(s, n, sizeof *s, cmp_double);
    /* n int (F_n - F)^2 / F dF summed piece by piece between the order statistics */
    double su = 0.0, sl = 0.0;
    for (size_t i = 0; i < n; i++) {
        double l, c;
        sn_cdf((s[i] - xi) / omega, alpha, &l, &c);
        su += c;
        sl += (2.0 * (double)i + 1.0) * l;
    }
    free(s);
    return -1.5 * (double)n + 2.0 * su - sl / (double)n;
}

double mt_exposure_skewnorm_checked(double secret, const double *cand, size_t n, double *stat,
                                    int *pass) {
    double xi, omega, alpha;
    *stat = NAN, *pass = 0;
    if (mt_skewnorm_fit(cand, n, &xi, &omega, &alpha, NULL) != UB_OK) return NAN;
    *stat = mt_skewnorm_ad_lower(cand, n, xi, omega, alpha);
    double x = -mt_skewnorm_logcdf(secret, xi, omega, alpha) / MT_LN2;
    /* the fit is trusted down to tail probabilities 1/(n+1)^2: twice the bits the sample
     * resolves on its own */
    *pass = *stat <= MT_SN_GOF_THRESHOLD && x <= 2.0 * log2((double)n + 1.0);
    return x;
}
