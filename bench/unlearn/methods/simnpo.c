/* bench/unlearn/methods/simnpo.c: SimNPO (Fan et al. 2024, "Simplicity Prevails: Rethinking
 * Negative Preference Optimization for LLM Unlearning").
 *
 * Objective, over windows y of F (n_y scored tokens, log p(y) summed over the window):
 *   L_SimNPO = -(2/beta) E_F[ log sigmoid(-(beta / n_y) log p_theta(y) - gamma) ]
 *            + retain_weight * E_R[L(x; theta)]
 * NPO without the reference model: the margin is the window's length-normalised
 * log-likelihood (the paper's fix for NPO's bias towards short, already-unlikely texts) plus a
 * reward margin gamma. Its gradient is ascent on each window's mean log-likelihood, weighted
 * by 2 sigmoid((beta / n_y) log p + gamma): windows already unlikely slow down
 * (ul_simnpo_weights). No reference copy: it costs one model less than NPO.
 * Defaults: beta = 2.5 and gamma = 0 are the paper's TOFU setting (it finds gamma = 0 best
 * there); steps, lr and the retain weight are NPO's here, so the two differ in their loss only.
 * Window length: the paper normalises by the response's length; here a window of posts is the
 * unit, as for NPO (documented choice for a corpus of posts). */
#include "ul_private.h"

#include <stdlib.h>

static ub_status apply(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e) {
    ul_run r;
    ul_sampler fs = {0}, rs = {0};
    float *weights = NULL; /* (B, T) */
    double beta = 0, gamma = 0, rw = 0;
    ub_status st = ul_run_init(&r, &ul_simnpo, m, c, cost, e);
    if (!st) st = ul_param_f64(&r.p, "beta", 1e-6, 1e6, UL_OWN, &beta, e);
    if (!st) st = ul_param_f64(&r.p, "gamma", -1e6, 1e6, UL_OWN, &gamma, e);
    if (!st) st = ul_param_f64(&r.p, "retain_weight", 0, 1e6, UL_OWN, &rw, e);
    if (!st)
        st = ul_sampler_init(&fs, c->forget, r.T, c->seed, UL_STREAM_FORGET, r.name, "forget", e);
    if (!st && rw > 0)
        st = ul_sampler_init(&rs, c->retain, r.T, c->seed, UL_STREAM_RETAIN, r.name, "retained", e);
    if (!st) {
        size_t BT = (size_t)r.B * r.T;
        weights = ub_malloc(BT * sizeof(float), "SimNPO weights", e);
        if (!weights) st = UB_ENOMEM;
        cost->extra_bytes += BT * sizeof(float);
    }
    for (long s = 0; !st && s < r.steps; s++) {
        double l, lr;
        gpt_zero_grad(m);
        ul_sampler_next(&fs, r.B, r.inputs, r.targets, NULL);
        st = gpt_forward(m, r.inputs, r.targets, r.B, r.T, e);
        if (!st) {
            ul_simnpo_weights(m->acts.losses, r.targets, r.B, r.T, beta, gamma, weights, &l);
            st = ul_check_finite(r.name, s + 1, "SimNPO loss", l, e);
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
    ul_sampler_free(&fs);
    ul_sampler_free(&rs);
    ul_run_free(&r);
    return st;
}

const ul_method ul_simnpo = {
    "simnpo",
    "SimNPO: reference-free, length-normalised NPO (Fan et al. 2024), + retain loss",
    "steps=40,lr=1e-5,batch=train,beta=2.5,gamma=0,retain_weight=1",
    apply,
    "lr=1e-4|3e-4|1e-3;steps=80|160;retain_weight=1|5",
};
