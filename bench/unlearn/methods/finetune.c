/* bench/unlearn/methods/finetune.c: continue training on the retained posts only.
 *
 * Objective: min_theta E_{x in R} [L(x; theta)] (mean next-token cross-entropy), from the
 * original. The cheapest baseline: F is never looked at, so F's influence only fades as far as
 * descent on the others overwrites it ("catastrophic forgetting" as an unlearning method;
 * TOFU and MUSE report it as a weak baseline). */
#include "ul_private.h"

static ub_status apply(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e) {
    ul_run r;
    ub_status st = ul_run_init(&r, &ul_finetune, m, c, cost, e);
    if (!st)
        st = ul_train_on(&r, m, c->retain, c->seed, UL_STREAM_RETAIN, "retained", 1.0f,
                         "retained loss", e);
    ul_run_free(&r);
    return st;
}

const ul_method ul_finetune = {
    "finetune",
    "continue training on the retained posts only (descent; F is never seen)",
    "steps=50,lr=3e-4,batch=train",
    apply,
    "lr=3e-4|1e-3|3e-3;steps=50|100|200",
};
