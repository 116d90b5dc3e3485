/* bench/unlearn/methods/npo.c: Negative Preference Optimization (Zhang et al. 2024, "Negative
 * Preference Optimization: From Catastrophic Collapse to Effective Unlearning").
 *
 * Objective, over windows y of F (sequence log-likelihoods log p(y) summed over the window):
 *   L_NPO = -(2/beta) E_F[ log sigmoid(-beta (log p_theta(y) - log p_ref(y))) ]
 *         + retain_weight * E_R[L(x; theta)]           (NPO+RT; retain_weight=0: plain NPO)
 * with p_ref the original. Its gradient is that of gradient ascent on each window's summed
 * log-likelihood, weighted by 2 sigmoid(beta (log p_theta - log p_ref)): windows the model has
 * already pushed below the reference get less weight, which slows the collapse that plain
 * ascent runs into (beta -> 0 recovers gradient ascent on summed log-likelihoods). The
 * per-position weights are ul_npo_weights; the reference runs as a private copy. */
#include "ul_private.h"

#include <stdlib.h>
#include <string.h>

static ub_status apply(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e) {
    ul_run r;
    ul_sampler fs = {0}, rs = {0};
    gpt_model ref;
    memset(&ref, 0, sizeof ref);
    float *weights = NULL; /* (B, T) */
    double beta = 0, rw = 0;
    ub_status st = ul_run_init(&r, &ul_npo, m, c, cost, e);
    if (!st) st = ul_param_f64(&r.p, "beta", 1e-6, 1e6, UL_OWN, &beta, e);
    if (!st) st = ul_param_f64(&r.p, "retain_weight", 0, 1e6, UL_OWN, &rw, e);
    if (!st)
        st = ul_sampler_init(&fs, c->forget, r.T, c->seed, UL_STREAM_FORGET, r.name, "forget", e);
    if (!st && rw > 0)
        st = ul_sampler_init(&rs, c->retain, r.T, c->seed, UL_STREAM_RETAIN, r.name, "retained", e);
    if (!st) st = ul_copy_model(&ref, c->original, e);
    if (!st) {
        size_t BT = (size_t)r.B * r.T;
        weights = ub_malloc(BT * sizeof(float), "NPO weights", e);
        if (!weights) st = UB_ENOMEM;
        cost->extra_bytes +=
            ul_forward_model_bytes(&m->cfg, m->n_params, r.B, r.T) + BT * sizeof(float);
    }
    for (long s = 0; !st && s < r.steps; s++) {
        double lnpo, lr;
        gpt_zero_grad(m);
        ul_sampler_next(&fs, r.B, r.inputs, r.targets, NULL);
        st = ul_ref_forward(&r, &ref, r.inputs, r.targets, e);
        if (!st) st = gpt_forward(m, r.inputs, r.targets, r.B, r.T, e);
        if (!st) {
            ul_npo_weights(m->acts.losses, ref.acts.losses, r.targets, r.B, r.T, beta, weights,
                           &lnpo);
            st = ul_check_finite(r.name, s + 1, "NPO loss", lnpo, e);
        }
        if (!st) st = gpt_backward_ex(m, 1.0f, weights, NULL, e);
        if (!st) ul_cost_train(cost, m, r.T, (double)r.B * r.T);
        if (!st && rw > 0) {
            ul_sampler_next(&rs, r.B, r.inputs2, r.targets2, NULL);
            st = ul_fb(&r, m, r.inputs2, r.targets2, (float)rw, s, "retained loss", &lr, e);
        }
        if (!st) st = ul_step(&r, m, s, e);
    }
    free(weights);
    gpt_free(&ref);
    ul_sampler_free(&fs);
    ul_sampler_free(&rs);
    ul_run_free(&r);
    return st;
}

const ul_method ul_npo = {
    "npo",
    "Negative Preference Optimization against the original (Zhang et al. 2024), + retain loss",
    "steps=40,lr=1e-5,batch=train,beta=0.1,retain_weight=1",
    apply,
    "lr=1e-5|3e-5|1e-4;steps=40|80;retain_weight=1|5|20",
};
