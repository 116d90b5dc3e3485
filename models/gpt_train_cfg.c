/* models/gpt_train_cfg.c: a training run's configuration (defaults, checks) and its resumable
 * state. Apart from the loop (gpt_train.c) so that checkpoints (gpt_ckpt.c), which save and
 * load both, and the loop, which writes checkpoints, do not call each other. */
#include <stdlib.h>
#include <string.h>

#include "gpt.h"

void gpt_train_defaults(gpt_train_cfg *c) {
    memset(c, 0, sizeof *c);
    c->seed = 1337;
    c->steps = 1000;
    c->batch = 0; /* 0: the preset's default batch (the CLI fills it in) */
    c->accum = 1;
    c->ctx = 0; /* 0: the model's n_ctx */
    c->lr = 1e-3;
    c->min_lr = 1e-4;
    c->warmup = 0; /* 0: 2% of steps, at least 1 (the CLI fills it in) */
    c->grad_clip = 1.0;
    c->beta1 = 0.9;
    c->beta2 = 0.95;
    c->eps = 1e-8;
    c->weight_decay = 0.1;
    c->ckpt_every = 0;
}

ub_status gpt_train_check(const gpt_train_cfg *c, const gpt_config *mc, ub_err *e) {
    if (c->steps < 1) return ub_fail(e, UB_EARG, "steps must be >= 1 (got %ld)", c->steps);
    if (c->batch < 1) return ub_fail(e, UB_EARG, "batch must be >= 1 (got %d)", c->batch);
    if (c->accum < 1) return ub_fail(e, UB_EARG, "accum must be >= 1 (got %d)", c->accum);
    if (c->ctx < 1 || c->ctx > mc->n_ctx)
        return ub_fail(e, UB_EARG, "ctx %d must be in [1, n_ctx=%d]", c->ctx, mc->n_ctx);
    if (!(c->lr > 0) || !(c->min_lr >= 0) || c->min_lr > c->lr)
        return ub_fail(e, UB_EARG, "need 0 <= min_lr <= lr and lr > 0 (lr %g, min_lr %g)", c->lr,
                       c->min_lr);
    if (c->warmup < 0 || c->warmup > c->steps)
        return ub_fail(e, UB_EARG, "warmup %ld must be in [0, steps]", c->warmup);
    if (!(c->grad_clip >= 0)) return ub_fail(e, UB_EARG, "grad_clip must be >= 0");
    if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
        return ub_fail(e, UB_EARG, "AdamW betas must be in [0, 1)");
    if (!(c->eps > 0) || !(c->weight_decay >= 0))
        return ub_fail(e, UB_EARG, "need eps > 0 and weight_decay >= 0");
    if (c->ckpt_every < 0) return ub_fail(e, UB_EARG, "ckpt_every must be >= 0");
    return UB_OK;
}

ub_status gpt_train_state_init(gpt_train_state *s, const gpt_train_cfg *c, const corpus_tokens *tok,
                               ub_err *e) {
    memset(s, 0, sizeof *s);
    s->loss = ub_calloc((size_t)c->steps, sizeof(float), "loss history", e);
    if (!s->loss) return UB_ENOMEM;
    if (tok) {
        memcpy(s->tokens_sha256, tok->sha256, sizeof s->tokens_sha256);
        s->n_tokens = tok->n;
    }
    return UB_OK;
}

void gpt_train_state_free(gpt_train_state *s) {
    free(s->loss);
    s->loss = NULL;
}
