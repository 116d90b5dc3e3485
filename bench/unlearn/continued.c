/* bench/unlearn/continued.c: the deployed model trained further on the corpus without F, the
 * "do nothing special" answer to a deletion request (influence decays, or does not). */
#include <string.h>

#include "unlearn.h"

ub_status ul_continued_begin(ul_continued *c, const gpt_model *orig, const run_set *retain,
                             const gpt_train_cfg *tc, long budget, ub_err *e) {
    memset(c, 0, sizeof *c);
    c->cfg = *tc;
    c->cfg.seed = tc->seed + 0x9e3779b9u;
    c->cfg.lr = c->cfg.min_lr = tc->min_lr;
    c->cfg.warmup = 0;
    c->cfg.steps = budget;
    run_tokens_of(retain, orig->cfg.vocab_size, &c->tokens);
    ub_status st = ul_copy_model(&c->model, orig, e);
    if (!st) st = gpt_train_state_init(&c->state, &c->cfg, &c->tokens, e);
    return st;
}

ub_status ul_continued_to(ul_continued *c, long steps, ub_err *e) {
    gpt_train_cfg c2 = c->cfg;
    c2.steps = steps;
    double t0 = ub_now();
    ub_status st = UB_OK;
    if (c2.steps > c->state.step) st = gpt_train(&c->model, &c->tokens, &c2, &c->state, NULL, NULL,
                                                 NULL, e);
    c->seconds += ub_now() - t0;
    return st;
}

void ul_continued_free(ul_continued *c) {
    gpt_train_state_free(&c->state);
    gpt_free(&c->model);
    memset(c, 0, sizeof *c);
}
