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
