/* tests/test_lira.c: LiRA (bench/eval/metrics/lira.c) on closed forms, and on simulated
 * Gaussian shadow scores whose best attack is known: with "in" and "out" scores of every target
 * N(mu_t + d, 1) and N(mu_t, 1), the likelihood-ratio test reaches TPR = Phi(d - z_{1-a}) at FPR
 * a, whatever the spread of the targets' mu_t, while one global threshold on the raw score (the
 * LOSS attack) is blunted by that spread. */
#include <math.h>
#include <stdlib.h>

#include "metrics.h"
#include "ubtest.h"

static double Phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

static void closed_forms(void) {
    UB_CHECK_CLOSE(mt_lira_phi(log(2.0)), 0.0, 1e-15, 0); /* p = 1/2 */
    double p = exp(-1.0);
    UB_CHECK_CLOSE(mt_lira_phi(1.0), log(p / (1.0 - p)), 1e-15, 1e-14);
    UB_CHECK_CLOSE(mt_lira_phi(1e-9), -1e-9 - log(1e-9), 0, 1e-9); /* near-certain: large */
    UB_CHECK(mt_lira_phi(0.0) > 27.0 && isfinite(mt_lira_phi(0.0))); /* floored, finite */
    UB_CHECK(isnan(mt_lira_phi(-1.0)) && isnan(mt_lira_phi(NAN)));
    UB_CHECK(mt_lira_phi(0.5) > mt_lira_phi(0.7)); /* lower loss, higher confidence */

    double x[4] = {1, 2, 3, 4}, mu, sd;
    mt_gauss_fit(x, 4, &mu, &sd);
    UB_CHECK_CLOSE(mu, 2.5, 1e-15, 0);
    UB_CHECK_CLOSE(sd, sqrt(5.0 / 3.0), 1e-15, 0);
    mt_gauss_fit(x, 1, &mu, &sd);
    UB_CHECK(mu == 1.0 && isnan(sd));

    double y[6] = {1, 3, 10, 12, 14, 99};
    size_t start[4] = {0, 2, 5, 6}; /* the last target has one sample: skipped */
    UB_CHECK_CLOSE(mt_lira_pooled_sd(y, start, 3), sqrt(10.0 / 3.0), 1e-15, 0);
    size_t one[3] = {0, 1, 2};
    UB_CHECK(isnan(mt_lira_pooled_sd(y, one, 2)));

    UB_CHECK_CLOSE(mt_lira_online(0.5, 1, 1, 0, 1), 0.0, 1e-15, 0); /* half way: no evidence */
    UB_CHECK_CLOSE(mt_lira_online(2.0, 1, 1, 0, 1), 1.5, 1e-15, 0);
    UB_CHECK_CLOSE(mt_lira_online(0.0, 0, 2, 0, 1), -log(2.0), 1e-15, 0);
    UB_CHECK(isnan(mt_lira_online(0.0, 0, 0, 0, 1)) && isnan(mt_lira_online(NAN, 0, 1, 0, 1)));
    UB_CHECK(isfinite(mt_lira_online(1.0, 1, 1e-12, 0, 1))); /* degenerate sd: floored */
    UB_CHECK_CLOSE(mt_lira_offline(3.0, 1.0, 2.0), 1.0, 1e-15, 0);
    UB_CHECK(isnan(mt_lira_offline(3.0, 1.0, -1.0)));
}

/* NT targets per class (members, non-members), K shadow scores each (K/2 in, K/2 out), shift d. */
enum { NT = 6000, K = 128 };

static void simulation(void) {
    const double d = 2.0, z99 = 2.3263478740408408;
    ub_rng r;
    ub_rng_init(&r, 7, 1);
    size_t n = 2 * NT; /* targets 0..NT members, NT..2NT non-members */
    double *sh_in = malloc(n * (K / 2) * sizeof(double)), *sh_out = malloc(n * (K / 2) * sizeof(double));
    size_t *start = malloc((n + 1) * sizeof(size_t));
    double *on = malloc(n * sizeof(double)), *off = malloc(n * sizeof(double));
    double *raw = malloc(n * sizeof(double)), *phi = malloc(n * sizeof(double));
    double *mu_out = malloc(n * sizeof(double)), *mu_in = malloc(n * sizeof(double));
    UB_CHECK(sh_in && sh_out && start && on && off && raw && phi && mu_out && mu_in);
    for (size_t t = 0; t < n; t++) {
        double mu = -3.0 + 6.0 * ub_rng_uniform(&r); /* the targets' own difficulty */
        for (int k = 0; k < K / 2; k++) {
            sh_in[t * (K / 2) + k] = mu + d + ub_rng_normal(&r);
            sh_out[t * (K / 2) + k] = mu + ub_rng_normal(&r);
        }
        phi[t] = (t < NT ? mu + d : mu) + ub_rng_normal(&r);
        start[t] = t * (K / 2);
    }
    start[n] = n * (K / 2);
    /* the global variance of the paper, pooled over every target's in and out scores */
    double sd_in = mt_lira_pooled_sd(sh_in, start, n), sd_out = mt_lira_pooled_sd(sh_out, start, n);
    UB_CHECK_CLOSE(sd_in, 1.0, 0.02, 0);
    UB_CHECK_CLOSE(sd_out, 1.0, 0.02, 0);
    for (size_t t = 0; t < n; t++) {
        double s;
        mt_gauss_fit(sh_in + t * (K / 2), K / 2, &mu_in[t], &s);
        mt_gauss_fit(sh_out + t * (K / 2), K / 2, &mu_out[t], &s);
        on[t] = mt_lira_online(phi[t], mu_in[t], sd_in, mu_out[t], sd_out);
        off[t] = mt_lira_offline(phi[t], mu_out[t], sd_out);
        raw[t] = phi[t];
    }
    /* the fitted means carry noise of variance 1/(K/2) each: d_eff = d / sqrt(1 + 2/(K/2)) for
     * online, d / sqrt(1 + 1/(K/2)) offline */
    double want_on = Phi(d / sqrt(1.0 + 4.0 / K) - z99), want_off = Phi(d / sqrt(1.0 + 2.0 / K) - z99);
    double t_on = mt_tpr_at_fpr(on, NT, on + NT, NT, 0.01);
    double t_off = mt_tpr_at_fpr(off, NT, off + NT, NT, 0.01);
    double t_raw = mt_tpr_at_fpr(raw, NT, raw + NT, NT, 0.01);
    UB_CHECK_MSG(fabs(t_on - want_on) < 0.035, "online TPR@1%% %.3f, theory %.3f", t_on, want_on);
    UB_CHECK_MSG(fabs(t_off - want_off) < 0.035, "offline TPR@1%% %.3f, theory %.3f", t_off, want_off);
    UB_CHECK_MSG(t_raw < 0.5 * t_on, "the raw score's TPR@1%% %.3f should trail LiRA's %.3f",
                 t_raw, t_on);
    free(sh_in), free(sh_out), free(start), free(on), free(off), free(raw), free(phi);
    free(mu_out), free(mu_in);
}

/* U-LiRA on users whose K/2 "unlearned" samples are N(mu_u + d, 1) and K/2 "never trained"
 * samples N(mu_u, 1), mu_u spread over users: with the leave-one-out means (noise of variance
 * about 1/(K/2) each) the score ranks by the distance of the sample from the midpoint, so AUC =
 * Phi(d / sqrt(2 (1 + v))) and accuracy Phi(d / (2 sqrt(1 + v))), v = (2 / (K/2 - 1) + ...)/4
 * ~ 1 / K; with d = 0 both are at chance. And the challenge's bins. */
static void ulira(void) {
    enum { NU = 2000, KU = 64 };
    double *x = malloc((size_t)NU * KU * sizeof(double));
    uint8_t *in = malloc((size_t)NU * KU);
    UB_CHECK(x && in);
    for (int pass = 0; pass < 2; pass++) {
        double d = pass ? 1.0 : 0.0;
        ub_rng r;
        ub_rng_init(&r, 11, (uint64_t)pass);
        for (size_t u = 0; u < NU; u++) {
            double mu = -3.0 + 6.0 * ub_rng_uniform(&r);
            for (int j = 0; j < KU; j++) {
                in[u * KU + j] = (uint8_t)((j + u) % 2); /* balanced, interleaved */
                x[u * KU + j] = mu + (in[u * KU + j] ? d : 0.0) + ub_rng_normal(&r);
            }
        }
        double auc, acc, v = 1.0 / KU;
        UB_CHECK(mt_ulira_loo(x, in, NU, KU, &auc, &acc) == UB_OK);
        double want_auc = Phi(d / sqrt(2.0 * (1.0 + v))), want_acc = Phi(d / (2.0 * sqrt(1.0 + v)));
        UB_CHECK_MSG(fabs(auc - want_auc) < 0.012, "U-LiRA AUC %.4f at d = %.0f, theory %.4f", auc,
                     d, want_auc);
        UB_CHECK_MSG(fabs(acc - want_acc) < 0.012, "U-LiRA accuracy %.4f at d = %.0f, theory %.4f",
                     acc, d, want_acc);
    }
    double auc, acc; /* too few models per side for a leave-one-out fit */
    UB_CHECK(mt_ulira_loo(x, in, NU, 2, &auc, &acc) == UB_OK && isnan(auc) && isnan(acc));
    free(x), free(in);
    UB_CHECK(mt_eps_score(0.2) == 1.0 && mt_eps_score(-1.0) == 1.0);
    UB_CHECK(mt_eps_score(0.5) == 0.5 && mt_eps_score(0.99) == 0.5);
    UB_CHECK(mt_eps_score(1.0) == 0.25 && mt_eps_score(2.2) == 0.0625);
    UB_CHECK(isnan(mt_eps_score(NAN)) && mt_eps_score(INFINITY) >= 0.0);
}

int main(void) {
    closed_forms();
    simulation();
    ulira();
    UB_TEST_END();
}
