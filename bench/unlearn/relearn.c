/* bench/unlearn/relearn.c: the relearning attack (Hu et al. 2024, "Jogging the memory of
 * unlearned LLMs"; Lynch et al. 2024): an unlearned model fine-tuned for a few steps on data
 * related to what it forgot. Here the related data are F's users' fresh posts (public posts
 * they wrote that were never in any corpus): a deployer that keeps training on new public posts
 * does exactly this. A method that only hid F (weights a few steps away from recalling it) gets
 * F back; one that removed it does no better than `retrain` relearned alike, the floor. */
#include <stdio.h>

#include "unlearn.h"

ub_status ul_relearn(gpt_model *m, const ul_posts *posts, const gpt_train_cfg *tc, long steps,
                     uint64_t seed, ul_cost *cost, ub_err *e) {
    const ul_method *ft = ul_find("finetune");
    if (!ft) return ub_fail(e, UB_EINTERNAL, "relearn: the finetune objective is not registered");
    if (posts->n == 0) return ub_fail(e, UB_EARG, "relearn: F's users have no fresh posts");
    /* descent at the original's final learning rate (a deployer training on, not a new run),
     * constant, fresh AdamW moments */
    char p[160];
    snprintf(p, sizeof p, "steps=%ld,lr=%.17g,sched=const", steps, tc->min_lr);
    ul_ctx c = {m, posts, posts, tc, seed, p};
    return ft->apply(m, &c, cost, e);
}
