/* bench/eval/metrics/lira.c: the likelihood-ratio attack (LiRA, Carlini et al. 2022,
 * "Membership Inference Attacks From First Principles") on per-text scores, per text and per
 * user.
 *
 * For one target (a post), shadow models that trained on it ("in") and that did not ("out") give
 * samples of its logit-scaled score phi; LiRA fits a Gaussian to each and asks how much more
 * likely the target model's phi is under "in" than under "out" (online), or how far it lies
 * above the "out" Gaussian alone (offline, when no shadow model may train on the target). With
 * few shadow models per target the paper fixes one variance for all targets (the "global
 * variance" variant): mt_lira_pooled_sd gives it. */
#include <math.h>
#include <stdlib.h>

#include "metrics.h"

/* Below this, a Gaussian's sd is degenerate: the shadow scores were all equal. */
#define LIRA_SD_FLOOR 1e-6

double mt_lira_phi(double mean_loss) {
    if (!(mean_loss >= 0.0)) return NAN;
    double l = mean_loss > 1e-12 ? mean_loss : 1e-12; /* p = 1 would be +inf */
    /* p = exp(-l): phi = log p - log(1 - p) = -l - log(-expm1(-l)), stable for small and
     * large l alike */
    return -l - log(-expm1(-l));
}

void mt_gauss_fit(const double *x, size_t n, double *mu, double *sd) {
    double m = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++) m += x[i];
    m = n ? m / (double)n : NAN;
    for (size_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    *mu = m;
    *sd = n > 1 ? sqrt(s / (double)(n - 1)) : NAN;
}

double mt_lira_pooled_sd(const double *x, const size_t *start, size_t n_targets) {
    double ss = 0.0;
    size_t df = 0;
    for (size_t t = 0; t < n_targets; t++) {
        size_t a = start[t], b = start[t + 1];
        if (b - a < 2) continue;
        double mu, sd;
        mt_gauss_fit(x + a, b - a, &mu, &sd);
        ss += sd * sd * (double)(b - a - 1);
        df += b - a - 1;
    }
    return df ? sqrt(ss / (double)df) : NAN;
}

/* log N(x; mu, sd) without the constant -0.5 log(2 pi), which cancels in every ratio here. */
static double log_normal(double x, double mu, double sd) {
    double z = (x - mu) / sd;
    return -0.5 * z * z - log(sd);
}

double mt_lira_online(double phi, double mu_in, double sd_in, double mu_out, double sd_out) {
    if (!(sd_in > 0.0) || !(sd_out > 0.0) || isnan(phi) || isnan(mu_in) || isnan(mu_out))
        return NAN;
    if (sd_in < LIRA_SD_FLOOR) sd_in = LIRA_SD_FLOOR;
    if (sd_out < LIRA_SD_FLOOR) sd_out = LIRA_SD_FLOOR;
    return log_normal(phi, mu_in, sd_in) - log_normal(phi, mu_out, sd_out);
}

double mt_lira_offline(double phi, double mu_out, double sd_out) {
    if (!(sd_out > 0.0) || isnan(phi) || isnan(mu_out)) return NAN;
    if (sd_out < LIRA_SD_FLOOR) sd_out = LIRA_SD_FLOOR;
    return (phi - mu_out) / sd_out;
}

/* ---- U-LiRA (Hayes et al. 2024) and the challenge's epsilon score ---- */

ub_status mt_ulira_loo(const double *x, const uint8_t *in, size_t nu, int K, double *auc,
                       double *acc) {
    *auc = *acc = NAN;
    if (nu == 0 || K < 4) return UB_OK;
    size_t nk = nu * (size_t)K;
    double *xs[2] = {malloc((nk + 1) * sizeof(double)), malloc((nk + 1) * sizeof(double))};
    size_t *st[2] = {malloc((nu + 1) * sizeof(size_t)), malloc((nu + 1) * sizeof(size_t))};
    double *llr[2] = {malloc((nk + 1) * sizeof(double)), malloc((nk + 1) * sizeof(double))};
    ub_status s = UB_OK;
    if (!xs[0] || !xs[1] || !st[0] || !st[1] || !llr[0] || !llr[1]) s = UB_ENOMEM;
    size_t n[2] = {0, 0};
    for (size_t u = 0; !s && u < nu; u++) /* each side's finite samples, per user */
        for (int h = 0; h < 2; h++) {
            st[h][u] = n[h];
            for (int j = 0; j < K; j++) {
                double v = x[u * (size_t)K + (size_t)j];
                if (!!in[u * (size_t)K + (size_t)j] == h && isfinite(v)) xs[h][n[h]++] = v;
            }
            if (u + 1 == nu) st[h][nu] = n[h];
        }
    double sd[2] = {NAN, NAN};
    for (int h = 0; !s && h < 2; h++) sd[h] = mt_lira_pooled_sd(xs[h], st[h], nu);
    size_t m[2] = {0, 0}, right = 0;
    for (size_t u = 0; !s && u < nu; u++) {
        double sum[2] = {0, 0};
        size_t c[2];
        for (int h = 0; h < 2; h++) {
            c[h] = st[h][u + 1] - st[h][u];
            for (size_t i = st[h][u]; i < st[h][u + 1]; i++) sum[h] += xs[h][i];
        }
        /* leave-one-out: model j's sample is scored against the means of the user's other
         * models, so no sample tests itself */
        for (int h = 0; h < 2; h++)
            for (size_t i = st[h][u]; i < st[h][u + 1]; i++) {
                double v = xs[h][i];
                size_t ci = c[1] - (h == 1), co = c[0] - (h == 0);
                if (!ci || !co) continue;
                double mi = (sum[1] - (h == 1 ? v : 0)) / (double)ci;
                double mo = (sum[0] - (h == 0 ? v : 0)) / (double)co;
                double l = mt_lira_online(v, mi, sd[1], mo, sd[0]);
                if (!isfinite(l)) continue;
                llr[h][m[h]++] = l;
                right += h ? l > 0 : l <= 0;
            }
    }
    if (!s && m[0] && m[1]) {
        *auc = mt_auc(llr[1], m[1], llr[0], m[0]);
        *acc = (double)right / (double)(m[0] + m[1]);
    }
    for (int h = 0; h < 2; h++) free(xs[h]), free(st[h]), free(llr[h]);
    return s;
}

double mt_eps_score(double eps) {
    if (isnan(eps)) return NAN;
    double b = floor((eps > 0 ? eps : 0) / 0.5);
    return exp2(-(b < 1100 ? b : 1100));
}
