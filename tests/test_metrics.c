/* tests/test_metrics.c: ub_metrics on small hand-made inputs with known answers (worked out by
 * hand, from closed forms, or computed once with Python and hard-coded where noted).
 * The random-input comparison against scipy/sklearn is metrics_vs_scipy (metrics_dump.c +
 * scripts/check_metrics.py). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "ubtest.h"

#define N_OF(a) (sizeof(a) / sizeof *(a))
#define PI      3.14159265358979323846

static void test_auc(void) {
    const double lo[] = {0, 1, 2}, hi[] = {3, 4, 5};
    UB_CHECK(mt_auc(hi, 3, lo, 3) == 1.0);
    UB_CHECK(mt_auc(lo, 3, hi, 3) == 0.0);
    UB_CHECK(mt_auc(lo, 3, lo, 3) == 0.5);
    /* Ties: pos {1,2,2} vs neg {2,0}: pairs (1,2) 0, (1,0) 1, (2,2) 1/2 twice, (2,0) 1 twice:
     * 4 of 6. */
    const double p[] = {1, 2, 2}, n[] = {2, 0};
    UB_CHECK_CLOSE(mt_auc(p, 3, n, 2), 4.0 / 6.0, 1e-15, 0);
    UB_CHECK(isnan(mt_auc(p, 0, n, 2)) && isnan(mt_auc(p, 3, n, 0)));

    /* Its ROC: thresholds 2 -> (1/2, 2/3), 1 -> (1/2, 1), 0 -> (1, 1), after (0, 0). */
    double *fpr, *tpr;
    size_t k;
    ub_err e = {0};
    UB_CHECK(mt_roc(p, 3, n, 2, &fpr, &tpr, &k, &e) == UB_OK);
    const double wf[] = {0, 0.5, 0.5, 1}, wt[] = {0, 2.0 / 3.0, 1, 1};
    UB_CHECK(k == 4);
    for (size_t i = 0; i < k && i < 4; i++) {
        UB_CHECK_CLOSE(fpr[i], wf[i], 1e-15, 0);
        UB_CHECK_CLOSE(tpr[i], wt[i], 1e-15, 0);
    }
    free(fpr);
    free(tpr);
    UB_CHECK(mt_roc(p, 3, n, 0, &fpr, &tpr, &k, &e) == UB_EARG && fpr == NULL && k == 0);
    UB_CHECK(strstr(e.msg, "non-members") != NULL);

    /* TPR at FPR: pos {5,4,3,2}, neg {4.5,1,0,-1}: 5 -> (0, 1/4), 4.5 -> (1/4, 1/4), then 4, 3, 2
     * -> (1/4, 1), 1 -> (1/2, 1). */
    const double pp[] = {5, 4, 3, 2}, nn[] = {4.5, 1, 0, -1};
    UB_CHECK(mt_tpr_at_fpr(pp, 4, nn, 4, 0.0) == 0.25);
    UB_CHECK(mt_tpr_at_fpr(pp, 4, nn, 4, 0.2) == 0.25);
    UB_CHECK(mt_tpr_at_fpr(pp, 4, nn, 4, 0.25) == 1.0);
    UB_CHECK(mt_tpr_at_fpr(pp, 4, nn, 4, 1.0) == 1.0);
    UB_CHECK(isnan(mt_tpr_at_fpr(pp, 4, nn, 4, -0.1)));
    /* All members below all non-members: only (0,0) has FPR < 1. */
    UB_CHECK(mt_tpr_at_fpr(lo, 3, hi, 3, 0.5) == 0.0);

    UB_CHECK_CLOSE(mt_privleak(0.6, 0.5), 20.0, 1e-12, 0);
    UB_CHECK_CLOSE(mt_privleak(0.4, 0.5), -20.0, 1e-12, 0);

    /* eps: unl {3,2,1,0} vs ret {1,0,-1,-2}; at t = 1, FPR = FNR = 1/4: log((1 - 1/4)/(1/4)) =
     * log 3, the best rule (t = 2 and t = 0 give log 2). */
    const double u[] = {3, 2, 1, 0}, r[] = {1, 0, -1, -2};
    UB_CHECK_CLOSE(mt_eps_threshold(u, 4, r, 4, 0.0), log(3.0), 1e-14, 0);
    UB_CHECK_CLOSE(mt_eps_threshold(u, 4, r, 4, 0.01), log((0.75 - 0.01) / 0.25), 1e-14, 0);
    /* The flipped rule catches over-unlearning: swapping the sets gives the same eps. */
    UB_CHECK_CLOSE(mt_eps_threshold(r, 4, u, 4, 0.0), log(3.0), 1e-14, 0);
    /* Identical sets: no rule beats chance, eps = log(1 - delta) ~ 0. */
    UB_CHECK_CLOSE(mt_eps_threshold(u, 4, u, 4, 0.0), 0.0, 1e-14, 0);
}

static void test_ks(void) {
    double D, p;
    const double a[] = {0.3, 1.2, -0.7, 2.2, 0.0};
    mt_ks_2samp(a, 5, a, 5, &D, &p);
    UB_CHECK(D == 0.0 && p == 1.0);
    /* Disjoint samples: D = 1, p = P(all of one sample below the other) = 2 / C(n+m, n). */
    const double x[] = {1, 2, 3}, y[] = {4, 5, 6, 7}, z[] = {4, 5, 6};
    mt_ks_2samp(x, 3, y, 4, &D, &p);
    UB_CHECK(D == 1.0);
    UB_CHECK_CLOSE(p, 2.0 / 35.0, 1e-15, 1e-12);
    mt_ks_2samp(x, 3, z, 3, &D, &p);
    UB_CHECK(D == 1.0);
    UB_CHECK_CLOSE(p, 0.1, 1e-15, 1e-12);
    /* Interleaved: scipy.stats.ks_2samp(a, b).pvalue = 0.7373737373737375 (scipy 1.10). */
    const double s[] = {0.1, 0.5, 0.9, 1.3, 2.0}, t[] = {0.4, 0.45, 1.1, 1.7, 1.8, 2.5, 3.0};
    mt_ks_2samp(s, 5, t, 7, &D, &p);
    UB_CHECK_CLOSE(D, 13.0 / 35.0, 1e-15, 0); /* at 1.3: F_s = 4/5, F_t = 3/7 */
    UB_CHECK_CLOSE(p, 0.7373737373737375, 0, 1e-12);
    mt_ks_2samp(s, 0, t, 7, &D, &p);
    UB_CHECK(isnan(D) && isnan(p));
}

static void test_exposure(void) {
    const double cand[] = {10, 11, 12, 13, 14, 15, 16, 17};
    int cens = -1;
    /* Ranked first: censored at what 8 candidates resolve, log2(9) bits, not the space's 40. */
    UB_CHECK(mt_exposure_rank(5.0, cand, 8, 40.0, &cens) == log2(9.0) && cens == 1);
    /* Tied with the best candidate: k = 1/2 would claim log2(16) bits, beyond the bound. */
    UB_CHECK(mt_exposure_rank(10.0, cand, 8, 40.0, &cens) == log2(9.0) && cens == 1);
    /* A space smaller than the sample: first place is worth the space's bits, not censored. */
    UB_CHECK(mt_exposure_rank(5.0, cand, 8, 2.0, &cens) == 2.0 && cens == 0);
    /* k = 2 (10, 11 lower) + 0.5 (a tie with 12): rank 1 + 2.5 * 2^20 / 8. */
    UB_CHECK_CLOSE(mt_exposure_rank(12.0, cand, 8, 20.0, &cens),
                   20.0 - log2(1.0 + 2.5 * 1048576.0 / 8.0), 1e-12, 0);
    UB_CHECK(cens == 0);
    /* Worse than every candidate: rank ~ the whole space, exposure ~ 0. */
    UB_CHECK_CLOSE(mt_exposure_rank(99.0, cand, 8, 20.0, NULL), 20.0 - log2(1.0 + 1048576.0),
                   1e-12, 0);
    /* A huge space does not overflow: k/n = 1/2 gives 1 bit. */
    UB_CHECK_CLOSE(mt_exposure_rank(13.5, cand, 8, 5000.0, NULL), 1.0, 1e-12, 0);
    UB_CHECK(isnan(mt_exposure_rank(1.0, cand, 0, 20.0, NULL)));

    /* Skew-normal with alpha = 0 is the normal: CDF = erfc(-z/sqrt 2)/2. */
    for (double z = -8; z <= 8; z += 0.5)
        UB_CHECK_CLOSE(mt_skewnorm_cdf(1.0 + 2.0 * z, 1.0, 2.0, 0.0), 0.5 * erfc(-z / sqrt(2.0)),
                       1e-300, 1e-12);
    /* log Phi(-40) = scipy.special.log_ndtr(-40) = -804.6084420137539, where Phi underflows. */
    UB_CHECK_CLOSE(mt_skewnorm_logcdf(-40.0, 0.0, 1.0, 0.0), -804.6084420137539, 0, 1e-12);
    /* CDF at z = 0 is 1/2 - atan(alpha)/pi. */
    UB_CHECK_CLOSE(mt_skewnorm_cdf(3.0, 3.0, 1.0, 2.0), 0.5 - atan(2.0) / PI, 0, 1e-13);
    UB_CHECK(isnan(mt_skewnorm_cdf(0.0, 0.0, 0.0, 1.0)));

    /* Owen's T identities: T(h, 0) = 0, T(0, a) = atan(a)/(2 pi), T(h, 1) = Phi(h)(1-Phi(h))/2,
     * odd in a, even in h. */
    UB_CHECK(mt_owens_t(1.3, 0.0) == 0.0);
    UB_CHECK_CLOSE(mt_owens_t(0.0, 3.0), atan(3.0) / (2 * PI), 0, 1e-14);
    for (double h = -6; h <= 6; h += 0.75) {
        double ph = 0.5 * erfc(-h / sqrt(2.0)), qh = 0.5 * erfc(h / sqrt(2.0)); /* Phi(h), 1-Phi */
        UB_CHECK_CLOSE(mt_owens_t(h, 1.0), 0.5 * ph * qh, 1e-300, 1e-12);
        UB_CHECK(mt_owens_t(h, -0.7) == -mt_owens_t(h, 0.7));
        UB_CHECK(mt_owens_t(h, 0.7) == mt_owens_t(-h, 0.7));
    }

    /* Fit: symmetric candidates have skewness 0, so alpha = 0, omega = sd (ddof 0), xi = mean. */
    double xi, omega, alpha;
    ub_err e = {0};
    UB_CHECK(mt_skewnorm_fit(cand, 8, &xi, &omega, &alpha, &e) == UB_OK);
    UB_CHECK_CLOSE(alpha, 0.0, 1e-12, 0);
    UB_CHECK_CLOSE(xi, 13.5, 1e-12, 0);
    UB_CHECK_CLOSE(omega, sqrt(5.25), 1e-12, 0);
    /* Exposure = -log2 CDF: at the mean 1 bit; far below, large and finite. */
    UB_CHECK_CLOSE(mt_exposure_skewnorm(13.5, cand, 8), 1.0, 1e-12, 0);
    double far = mt_exposure_skewnorm(-1000.0, cand, 8);
    UB_CHECK(isfinite(far) && far > 1e5);
    /* A strongly skewed sample is clamped to a finite alpha. */
    const double sk[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 100};
    UB_CHECK(mt_skewnorm_fit(sk, 10, &xi, &omega, &alpha, &e) == UB_OK);
    UB_CHECK(isfinite(alpha) && alpha > 1.0);
    UB_CHECK(mt_skewnorm_fit(sk, 2, &xi, &omega, &alpha, &e) == UB_EARG);
    ub_err_clear(&e);
    const double flat[] = {3, 3, 3, 3};
    UB_CHECK(mt_skewnorm_fit(flat, 4, &xi, &omega, &alpha, &e) == UB_EARG);
    UB_CHECK(isnan(mt_exposure_skewnorm(1.0, flat, 4)));

    /* Lower-tail Anderson-Darling against SN(0, 1, 0) = N(0, 1) on {-1, 0, 1}: the closed form
     * equals n int (F_n - F)^2 / F dF by quadrature (scipy.integrate.quad: 0.0947440272687830). */
    const double three[] = {1, -1, 0};
    UB_CHECK_CLOSE(mt_skewnorm_ad_lower(three, 3, 0.0, 1.0, 0.0), 0.09474402726878295, 0, 1e-12);
    UB_CHECK(isnan(mt_skewnorm_ad_lower(three, 0, 0.0, 1.0, 0.0)));
    /* The checked exposure: normal candidates pass near the middle, fail far beyond the sample
     * (more than 2 log2(n + 1) bits), and a two-humped sample fails the test itself. */
    double nc[200], hump[200], stat;
    int pass;
    ub_rng r;
    ub_rng_init(&r, 11, 0);
    for (int i = 0; i < 200; i++) {
        nc[i] = 30.0 + 3.0 * ub_rng_normal(&r);
        hump[i] = (i % 2 ? 20.0 : 40.0) + ub_rng_normal(&r);
    }
    double x = mt_exposure_skewnorm_checked(27.0, nc, 200, &stat, &pass);
    UB_CHECK(x == mt_exposure_skewnorm(27.0, nc, 200));
    UB_CHECK(pass == 1 && stat >= 0 && stat < MT_SN_GOF_THRESHOLD);
    x = mt_exposure_skewnorm_checked(0.0, nc, 200, &stat, &pass);
    UB_CHECK(pass == 0 && x > 2.0 * log2(201.0) && stat < MT_SN_GOF_THRESHOLD);
    mt_exposure_skewnorm_checked(27.0, hump, 200, &stat, &pass);
    UB_CHECK_MSG(pass == 0 && stat > MT_SN_GOF_THRESHOLD, "two humps: AL^2 = %g", stat);
    x = mt_exposure_skewnorm_checked(1.0, flat, 4, &stat, &pass);
    UB_CHECK(isnan(x) && isnan(stat) && pass == 0);
}

static void test_mia(void) {
    const float lp[] = {-1, -5, -3, -2};
    UB_CHECK_CLOSE(mt_mink(lp, 4, 0.5), -4.0, 1e-15, 0);  /* lowest 2: -5, -3 */
    UB_CHECK_CLOSE(mt_mink(lp, 4, 0.1), -5.0, 1e-15, 0);  /* ceil(0.4) = 1 */
    UB_CHECK_CLOSE(mt_mink(lp, 4, 1.0), -2.75, 1e-15, 0); /* all */
    UB_CHECK(isnan(mt_mink(lp, 4, 0.0)) && isnan(mt_mink(lp, 0, 0.5)));
    /* k n = 0.1 * 30 rounds to 3.0000000000000004: still 3 tokens. */
    float many[30];
    for (int i = 0; i < 30; i++)
        many[i] = (float)-i;
    UB_CHECK_CLOSE(mt_mink(many, 30, 0.1), -28.0, 1e-15, 0); /* -29, -28, -27 */

    /* Min-K%++: z = (logp - mu)/sigma = {(-1+2)/1, (-5+2)/0.5, (-3+1)/2, (-2+2)/eps} =
     * {1, -6, -1, 0}; lowest 2: -6, -1. */
    const float mu[] = {-2, -2, -1, -2}, sg[] = {1, 0.5f, 2, 0};
    UB_CHECK_CLOSE(mt_minkpp(lp, mu, sg, 4, 0.5), -3.5, 1e-15, 0);
    /* sigma = 0 with logp != mu: z = diff / MT_MINKPP_SIGMA_EPS dominates. */
    const float mu2[] = {-2, -2, -1, -1};
    UB_CHECK_CLOSE(mt_minkpp(lp, mu2, sg, 4, 0.25), -1.0 / MT_MINKPP_SIGMA_EPS, 0, 1e-12);

    /* len(zlib.compress(b"hello hello hello hello")) = 16 and len(zlib.compress(b"")) = 8 with
     * Python 3.11's zlib (Debian bookworm, zlib 1.2.13). */
    const char *hello = "hello hello hello hello";
    UB_CHECK(mt_zlib_len(hello, strlen(hello)) == 16);
    UB_CHECK(mt_zlib_len("", 0) == 8);
    UB_CHECK_CLOSE(mt_zlib_score(2.0, 10), -0.2, 1e-15, 0);
    UB_CHECK(isnan(mt_zlib_score(2.0, 0)));
}

static void test_stats(void) {
    /* t_{0.975, 2}: t tables and scipy.stats.t.ppf(0.975, 2) give 4.302652729911275; the exact
     * value, from the df = 2 closed form t = (2p - 1) / sqrt(2 p (1 - p)), is 4.30265272974946
     * (scipy's cephes stdtri is off by 1.6e-10 here). */
    const double t975 = 0.95 / sqrt(2.0 * 0.975 * 0.025);
    UB_CHECK_CLOSE(mt_t_quantile(0.975, 2.0), 4.302652729911275, 1e-9, 0);
    UB_CHECK_CLOSE(mt_t_quantile(0.975, 2.0), t975, 1e-14, 0);
    const double x[] = {1, 2, 3};
    double mean, hw;
    mt_mean_ci95(x, 3, &mean, &hw);
    UB_CHECK_CLOSE(mean, 2.0, 1e-15, 0);
    UB_CHECK_CLOSE(hw, t975 / sqrt(3.0), 1e-14, 0); /* sd = 1 */
    mt_mean_ci95(x, 1, &mean, &hw);
    UB_CHECK(mean == 1.0 && isnan(hw));
    mt_mean_ci95(x, 0, &mean, &hw);
    UB_CHECK(isnan(mean) && isnan(hw));

    /* Closed forms: df = 1 (Cauchy) sf = 1/2 - atan(t)/pi, quantile tan(pi (p - 1/2));
     * df = 2: sf = 1/2 - t / (2 sqrt(2 + t^2)). */
    for (double t = -30; t <= 30; t += 1.25) {
        UB_CHECK_CLOSE(mt_t_sf(t, 1.0), 0.5 - atan(t) / PI, 1e-300, 1e-12);
        UB_CHECK_CLOSE(mt_t_sf(t, 2.0), 0.5 - t / (2.0 * sqrt(2.0 + t * t)), 1e-300, 1e-12);
    }
    for (double p = 0.01; p < 1.0; p += 0.07)
        UB_CHECK_CLOSE(mt_t_quantile(p, 1.0), tan(PI * (p - 0.5)), 1e-12, 1e-12);
    UB_CHECK(mt_t_sf(0.0, 7.0) == 0.5 && mt_t_quantile(0.5, 7.0) == 0.0);
    UB_CHECK(isinf(mt_t_quantile(1.0, 3.0)) && isnan(mt_t_quantile(1.5, 3.0)));
    UB_CHECK(isnan(mt_t_sf(1.0, 0.0)) && isnan(mt_t_sf(1.0, INFINITY)));

    /* Paired: constant nonzero difference -> p = 0; no difference at all -> 0/0 = NaN. */
    const double a[] = {1, 2, 3, 4}, b[] = {0, 1, 2, 3};
    UB_CHECK(mt_ttest_paired_p(a, b, 4) == 0.0);
    UB_CHECK(isnan(mt_ttest_paired_p(a, a, 4)));
    UB_CHECK(isnan(mt_ttest_paired_p(a, b, 1)));
    /* d = a - c = {0, 1, 0, 1}: mean 1/2, sd 1/sqrt 3, t = sqrt 3, df 3: p = 2 sf(sqrt 3, 3). */
    const double c[] = {1, 1, 3, 3};
    UB_CHECK_CLOSE(mt_ttest_paired_p(a, c, 4), 2.0 * mt_t_sf(sqrt(3.0), 3.0), 1e-15, 1e-12);
    /* Welch: scipy.stats.ttest_ind([1,2,3], [4,5,6,7], equal_var=False).pvalue (scipy 1.10). */
    const double w1[] = {1, 2, 3}, w2[] = {4, 5, 6, 7};
    UB_CHECK_CLOSE(mt_welch_p(w1, 3, w2, 4), 0.010076943347988853, 0, 1e-10);
    UB_CHECK(isnan(mt_welch_p(w1, 1, w2, 4)));

    UB_CHECK(mt_residual(0.5, 0.5, 1.0) == 0.0);
    UB_CHECK(mt_residual(1.0, 0.5, 1.0) == 1.0);
    UB_CHECK_CLOSE(mt_residual(0.75, 0.5, 1.0), 0.5, 1e-15, 0);
    UB_CHECK(isnan(mt_residual(0.7, 1.0, 1.0)));
}

static void test_decay(void) {
    /* exact exponential with half-life 300 at log-spaced steps: recovered */
    const double st[] = {62, 125, 250, 500, 1000, 2000};
    double r[6];
    for (int i = 0; i < 6; i++) r[i] = exp(-log(2.0) * st[i] / 300.0);
    UB_CHECK_CLOSE(mt_decay_half_life(st, r, 6, 8000), 300.0, 0, 1e-6);
    /* noise around it (fixed): close, not exact */
    const double noise[] = {0.03, -0.02, 0.04, -0.03, 0.01, 0.02};
    for (int i = 0; i < 6; i++) r[i] += noise[i];
    double h = mt_decay_half_life(st, r, 6, 8000);
    UB_CHECK_MSG(h > 250 && h < 360, "half-life %g", h);
    /* no decay within the horizon: censored (INFINITY), not a made-up number */
    const double flat[] = {1.0, 0.99, 1.01, 1.0, 0.98, 1.0};
    UB_CHECK(isinf(mt_decay_half_life(st, flat, 6, 8000)));
    /* NaN points are skipped; none at all gives NaN */
    const double nan6[] = {NAN, NAN, NAN, NAN, NAN, NAN};
    UB_CHECK(isnan(mt_decay_half_life(st, nan6, 6, 8000)));
}

int main(void) {
    test_auc();
    test_decay();
    test_ks();
    test_exposure();
    test_mia();
    test_stats();
    UB_TEST_END();
}
