/* bench/methods/finetune.c: continue training on the retained posts only.
 *
 * Objective: min_theta E_{x in R} [L(x; theta)] (mean next-token cross-entropy), from the
 * original. The cheapest baseline: F is never looked at, so F's influence only fades as far as
 * descent on the others overwrites it ("catastrophic forgetting" as an unlearning method;
 * TOFU and MUSE report it as a weak baseline). */
#include "ul_private.h"

static ub_status apply(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e) {
    ul_run r;
    ul_sampler rs = {0};
    ub_status st = ul_run_init(&r, &ul_finetune, m, c, cost, e);
    if (!st)
        st = ul_sampler_init(&rs, c->retain, r.T, c->seed, UL_STREAM_RETAIN, r.name, "retained", e);
    for (long s = 0; !st && s < r.steps; s++) {
        double loss;
        ul_sampler_next(&rs, r.B, r.inputs, r.targets, NULL);
        gpt_zero_grad(m);
        st = ul_fb(&r, m, r.inputs, r.targets, 1.0f, s, "retained loss", &loss, e);
        if (!st) st = ul_step(&r, m, s, e);
    }
    ul_sampler_free(&rs);
    ul_run_free(&r);
    return st;
}

const ul_method ul_finetune = {
    "finetune",
    "continue training on the retained posts only (descent; F is never seen)",
    "steps=50,lr=3e-4,batch=train",
    apply,
};
