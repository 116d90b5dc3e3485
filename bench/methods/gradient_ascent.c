/* bench/methods/gradient_ascent.c: ascend the language-model loss on F's posts (Jang et al.
 * 2023, "Knowledge Unlearning for Mitigating Privacy Risks in Language Models").
 *
 * Objective: max_theta E_{x in F} [L(x; theta)], i.e. descent on -L. Unbounded: the loss on F
 * can grow without limit and the model's utility collapses quickly (TOFU, NPO), so the budget
 * (steps x lr) is what keeps it usable. */
#include "ul_private.h"

static ub_status apply(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e) {
    ul_run r;
    ul_sampler fs = {0};
    ub_status st = ul_run_init(&r, &ul_gradient_ascent, m, c, cost, e);
    if (!st)
        st = ul_sampler_init(&fs, c->forget, r.T, c->seed, UL_STREAM_FORGET, r.name, "forget", e);
    for (long s = 0; !st && s < r.steps; s++) {
        double loss;
        ul_sampler_next(&fs, r.B, r.inputs, r.targets, NULL);
        gpt_zero_grad(m);
        st = ul_fb(&r, m, r.inputs, r.targets, -1.0f, s, "forget loss", &loss, e);
        if (!st) st = ul_step(&r, m, s, e);
    }
    ul_sampler_free(&fs);
    ul_run_free(&r);
    return st;
}

const ul_method ul_gradient_ascent = {
    "gradient_ascent",
    "ascend the LM loss on F's posts (Jang et al. 2023); utility collapses quickly",
    "steps=40,lr=1e-5,batch=train",
    apply,
};
