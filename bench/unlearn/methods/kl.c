/* bench/unlearn/methods/kl.c: ascent on F plus a KL anchor to the original on the retained posts
 * (TOFU's "KL" method, Maini et al. 2024).
 *
 * Objective: min_theta  -forget_weight * E_F[L(x; theta)]
 *                      + kl_weight * E_{x in R, t} KL(p_orig(. | x_<t) || p_theta(. | x_<t)).
 * The KL term is the cross-entropy to the original's next-token distribution minus its (constant)
 * entropy, so its gradient is gpt_backward_ex with soft targets = the original's probabilities
 * on the same batch. The original runs as a private copy (gpt_forward writes activations). */
#include "ul_private.h"

#include <string.h>

static ub_status apply(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e) {
    ul_run r;
    ul_sampler fs = {0}, rs = {0};
    gpt_model ref;
    memset(&ref, 0, sizeof ref);
    double fw = 0, kw = 0;
    ub_status st = ul_run_init(&r, &ul_kl, m, c, cost, e);
    if (!st) st = ul_param_f64(&r.p, "forget_weight", 0, 1e6, UL_OWN, &fw, e);
    if (!st) st = ul_param_f64(&r.p, "kl_weight", 0, 1e6, UL_OWN, &kw, e);
    if (!st)
        st = ul_sampler_init(&fs, c->forget, r.T, c->seed, UL_STREAM_FORGET, r.name, "forget", e);
    if (!st && kw > 0) {
        st = ul_sampler_init(&rs, c->retain, r.T, c->seed, UL_STREAM_RETAIN, r.name, "retained", e);
        if (!st) st = ul_copy_model(&ref, c->original, e);
        cost->extra_bytes += ul_forward_model_bytes(&m->cfg, m->n_params, r.B, r.T);
    }
    for (long s = 0; !st && s < r.steps; s++) {
        double lf;
        gpt_zero_grad(m);
        ul_sampler_next(&fs, r.B, r.inputs, r.targets, NULL);
        st = ul_fb(&r, m, r.inputs, r.targets, (float)-fw, s, "forget loss", &lf, e);
        if (st || kw == 0) goto step;
        ul_sampler_next(&rs, r.B, r.inputs2, r.targets2, NULL);
        /* ref.acts.probs (B, T, V): the original's next-token distributions. */
        st = ul_ref_forward(&r, &ref, r.inputs2, r.targets2, e);
        if (!st) st = gpt_forward(m, r.inputs2, r.targets2, r.B, r.T, e);
        if (!st) st = ul_check_finite(r.name, s + 1, "retained loss", m->mean_loss, e);
        if (!st) st = gpt_backward_ex(m, (float)kw, NULL, ref.acts.probs, e);
        if (!st) ul_cost_train(cost, m, r.T, (double)r.B * r.T);
    step:
        if (!st) st = ul_step(&r, m, s, e);
    }
    gpt_free(&ref);
    ul_sampler_free(&fs);
    ul_sampler_free(&rs);
    ul_run_free(&r);
    return st;
}

const ul_method ul_kl = {
    "kl",
    "ascent on F plus KL(original || model) on the retained posts (TOFU's KL method)",
    "steps=40,lr=1e-5,batch=train,forget_weight=1,kl_weight=1",
    apply,
    "lr=3e-5|1e-4|3e-4;steps=80|160;kl_weight=1|5|20",
};
