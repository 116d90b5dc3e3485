/* bench/unlearn/methods/gradient_ascent.c: ascend the language-model loss on F's posts (Jang et al.
 * 2023, "Knowledge Unlearning for Mitigating Privacy Risks in Language Models").
 *
 * Objective: max_theta E_{x in F} [L(x; theta)], i.e. descent on -L. Unbounded: the loss on F
 * can grow without limit and the model's utility collapses quickly (TOFU, NPO), so the budget
 * (steps x lr) is what keeps it usable. */
#include "ul_private.h"

static ub_status apply(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e) {
    ul_run r;
    ub_status st = ul_run_init(&r, &ul_gradient_ascent, m, c, cost, e);
    if (!st)
        st = ul_train_on(&r, m, c->forget, c->seed, UL_STREAM_FORGET, "forget", -1.0f,
                         "forget loss", e);
    ul_run_free(&r);
    return st;
}

const ul_method ul_gradient_ascent = {
    "gradient_ascent",
    "ascend the LM loss on F's posts (Jang et al. 2023); utility collapses quickly",
    "steps=40,lr=1e-5,batch=train",
    apply,
    "lr=3e-6|1e-5|3e-5|1e-4;steps=20|40|80",
};
