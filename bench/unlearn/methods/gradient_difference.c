/* bench/unlearn/methods/gradient_difference.c: ascent on F plus descent on the retained posts (Liu et
 * al. 2022, "Continual Learning and Private Unlearning"; TOFU's "grad diff").
 *
 * Objective: min_theta  -forget_weight * E_F[L] + retain_weight * E_R[L], one F batch and one
 * retained batch per step. The retained term anchors utility while the ascent removes F. */
#include "ul_private.h"

static ub_status apply(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e) {
    ul_run r;
    ul_sampler fs = {0}, rs = {0};
    double fw = 0, rw = 0;
    ub_status st = ul_run_init(&r, &ul_gradient_difference, m, c, cost, e);
    if (!st) st = ul_param_f64(&r.p, "forget_weight", 0, 1e6, UL_OWN, &fw, e);
    if (!st) st = ul_param_f64(&r.p, "retain_weight", 0, 1e6, UL_OWN, &rw, e);
    if (!st)
        st = ul_sampler_init(&fs, c->forget, r.T, c->seed, UL_STREAM_FORGET, r.name, "forget", e);
    if (!st && rw > 0)
        st = ul_sampler_init(&rs, c->retain, r.T, c->seed, UL_STREAM_RETAIN, r.name, "retained", e);
    for (long s = 0; !st && s < r.steps; s++) {
        double lf, lr;
        gpt_zero_grad(m);
        ul_sampler_next(&fs, r.B, r.inputs, r.targets, NULL);
        st = ul_fb(&r, m, r.inputs, r.targets, (float)-fw, s, "forget loss", &lf, e);
        if (!st && rw > 0) {
            ul_sampler_next(&rs, r.B, r.inputs2, r.targets2, NULL);
            st = ul_fb(&r, m, r.inputs2, r.targets2, (float)rw, s, "retained loss", &lr, e);
        }
        if (!st) st = ul_step(&r, m, s, e);
    }
    ul_sampler_free(&fs);
    ul_sampler_free(&rs);
    ul_run_free(&r);
    return st;
}

const ul_method ul_gradient_difference = {
    "gradient_difference",
    "ascent on F plus descent on the retained posts (Liu et al. 2022; TOFU grad diff)",
    "steps=40,lr=2e-5,batch=train,forget_weight=1,retain_weight=1",
    apply,
    "lr=3e-5|1e-4|3e-4;steps=80|160;retain_weight=1|5|20",
};
