/* bench/unlearn/methods/preference.c: the weight functions of the preference-style objectives
 * (NPO, SimNPO, DPO): each turns per-position losses into the loss and, per position, its
 * derivative, which gpt_backward_ex takes as weights (ul_private.h documents each). */
#include "ul_private.h"

#include <math.h>

/* log sigmoid(x) and sigmoid(x) without overflow for large |x|. */
static double log_sigmoid(double x) {
    return x < 0 ? x - log1p(exp(x)) : -log1p(exp(-x));
}

static double sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double z = exp(x);
    return z / (1.0 + z);
}

void ul_npo_weights(const float *losses, const float *ref_losses, const int *targets, int B, int T,
                    double beta, float *weights, double *loss) {
    double sum = 0;
    for (int b = 0; b < B; b++) {
        double lp = 0, lpref = 0; /* log-likelihoods, summed in double */
        for (int t = 0; t < T; t++)
            if (targets[b * T + t] >= 0) {
                lp -= losses[b * T + t];
                lpref -= ref_losses[b * T + t];
            }
        double d = lp - lpref;
        sum += log_sigmoid(-beta * d);
        /* d/dlp of -(2/beta) log sigmoid(-beta d) = 2 sigmoid(beta d); dlp/dloss = -1. */
        float w = (float)(-2.0 * sigmoid(beta * d) / B);
        for (int t = 0; t < T; t++)
            weights[b * T + t] = targets[b * T + t] >= 0 ? w : 0.0f;
    }
    *loss = -(2.0 / beta) * sum / B;
}

void ul_simnpo_weights(const float *losses, const int *targets, int B, int T, double beta,
                       double gamma, float *weights, double *loss) {
    double sum = 0;
    for (int b = 0; b < B; b++) {
        double lp = 0; /* the window's summed log-likelihood, in double */
        int n = 0;
        for (int t = 0; t < T; t++)
            if (targets[b * T + t] >= 0) lp -= losses[b * T + t], n++;
        if (!n) {
            for (int t = 0; t < T; t++) weights[b * T + t] = 0.0f;
            continue;
        }
        double z = beta * lp / n + gamma;
        sum += log_sigmoid(-z);
        /* d/dlp of -(2/beta) log sigmoid(-z) = (2/n) sigmoid(z); dlp/dloss = -1 */
        float w = (float)(-2.0 * sigmoid(z) / n / B);
        for (int t = 0; t < T; t++) weights[b * T + t] = targets[b * T + t] >= 0 ? w : 0.0f;
    }
    *loss = -(2.0 / beta) * sum / B;
}

void ul_dpo_weights(const float *loss_w, const float *ref_w, const float *loss_l,
                    const float *ref_l, const int *tw, const int *tl, int B, int T, double beta,
                    float *ww, float *wl, double *loss) {
    double sum = 0;
    for (int b = 0; b < B; b++) {
        double lw = 0, rw = 0, ll = 0, rl = 0; /* summed log-likelihoods, in double */
        for (int t = 0; t < T; t++) {
            int i = b * T + t;
            if (tw[i] >= 0) lw -= loss_w[i], rw -= ref_w[i];
            if (tl[i] >= 0) ll -= loss_l[i], rl -= ref_l[i];
        }
        double d = (lw - rw) - (ll - rl);
        sum += log_sigmoid(beta * d);
        /* L = -(2/beta) log sigmoid(beta d): dL/dlw = -2 sigmoid(-beta d) = -dL/dll, and
         * dlp/dloss = -1 */
        double g = 2.0 * sigmoid(-beta * d) / B;
        for (int t = 0; t < T; t++) {
            int i = b * T + t;
            ww[i] = tw[i] >= 0 ? (float)g : 0.0f;
            wl[i] = tl[i] >= 0 ? (float)-g : 0.0f;
        }
    }
    *loss = -(2.0 / beta) * sum / B;
}
