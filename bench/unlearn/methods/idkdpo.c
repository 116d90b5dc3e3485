/* bench/unlearn/methods/idkdpo.c: IdkDPO (TOFU's extension of DPO, Maini et al. 2024; DPO:
 * Rafailov et al. 2023): prefer the neutral answer to what the user posted.
 *
 * Objective, over pairs (post y_l of F, its neutral answer y_w = "HANDLE: I don't want to talk
 * about this.", ul_ctx.idk), each a row of its own:
 *   L = -(2/beta) E[ log sigmoid(beta ((log p(y_w) - log p0(y_w)) - (log p(y_l) - log p0(y_l)))) ]
 *     + retain_weight * E_R[L(x; theta)]
 * with p0 the original. Both texts start with the user's handle, so the prompt's likelihood
 * cancels in the margin and the pair compares only what follows it: the model is taught to
 * answer the handle with the neutral text rather than the post (ul_dpo_weights). Defaults are
 * open-unlearning's IdkDPO setting (beta = 0.1, retain weight 1) at this run's 40 steps and
 * lr 1e-5. Posts longer than the window are cut at T predicted tokens (ul_post_rows); pairs are
 * drawn uniformly with replacement from the seed, per step. The original runs as a private
 * copy. */
#include "ul_private.h"

#include <stdlib.h>
#include <string.h>

static ub_status apply(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e) {
    ul_run r;
    ul_sampler rs = {0};
    gpt_model ref;
    memset(&ref, 0, sizeof ref);
    double beta = 0, rw = 0;
    float *buf = NULL;
    size_t *which = NULL;
    ub_status st = ul_run_init(&r, &ul_idkdpo, m, c, cost, e);
    if (!st) st = ul_param_f64(&r.p, "beta", 1e-6, 1e6, UL_OWN, &beta, e);
    if (!st) st = ul_param_f64(&r.p, "retain_weight", 0, 1e6, UL_OWN, &rw, e);
    if (!st && (!c->idk || c->idk->n != c->forget->n || c->forget->n == 0))
        st = ub_fail(e, UB_EARG, "method idkdpo: needs a neutral answer per post of F "
                     "(ul_ctx.idk)");
    if (!st && rw > 0)
        st = ul_sampler_init(&rs, c->retain, r.T, c->seed, UL_STREAM_RETAIN, r.name, "retained", e);
    if (!st) st = ul_copy_model(&ref, c->original, e);
    size_t BT = (size_t)r.B * r.T;
    int *tw = NULL, *tl = NULL, *iw = NULL, *il = NULL;
    if (!st) {
        /* losses of w and l under the model and the reference, then the two weight rows */
        buf = ub_malloc(6 * BT * sizeof(float), "IdkDPO", e);
        which = ub_malloc((size_t)r.B * sizeof(size_t), "IdkDPO", e);
        iw = ub_malloc(4 * BT * sizeof(int), "IdkDPO", e);
        if (!buf || !which || !iw) st = UB_ENOMEM;
        else il = iw + BT, tw = iw + 2 * BT, tl = iw + 3 * BT;
        cost->extra_bytes += ul_forward_model_bytes(&m->cfg, m->n_params, r.B, r.T) +
                             6 * BT * sizeof(float) + 4 * BT * sizeof(int);
    }
    float *lw = buf, *rfw = buf + BT, *ll = buf + 2 * BT, *rfl = buf + 3 * BT;
    float *ww = buf + 4 * BT, *wl = buf + 5 * BT;
    for (long s = 0; !st && s < r.steps; s++) {
        double l, lr;
        ub_rng rng;
        ub_rng_init(&rng, c->seed, UL_STREAM_FORGET + (uint64_t)s);
        for (int b = 0; b < r.B; b++) which[b] = (size_t)ub_rng_below(&rng, c->forget->n);
        ul_post_rows(c->idk, which, r.B, r.T, iw, tw);
        ul_post_rows(c->forget, which, r.B, r.T, il, tl);
        gpt_zero_grad(m);
        st = ul_ref_forward(&r, &ref, iw, tw, e);
        if (!st) memcpy(rfw, ref.acts.losses, BT * sizeof(float));
        if (!st) st = ul_ref_forward(&r, &ref, il, tl, e);
        if (!st) memcpy(rfl, ref.acts.losses, BT * sizeof(float));
        if (!st) st = gpt_forward(m, il, tl, r.B, r.T, e);
        if (!st) memcpy(ll, m->acts.losses, BT * sizeof(float));
        if (!st) ul_cost_forward(cost, m, r.T, (double)BT);
        if (!st) st = gpt_forward(m, iw, tw, r.B, r.T, e);
        if (!st) {
            memcpy(lw, m->acts.losses, BT * sizeof(float));
            ul_dpo_weights(lw, rfw, ll, rfl, tw, tl, r.B, r.T, beta, ww, wl, &l);
            st = ul_check_finite(r.name, s + 1, "DPO loss", l, e);
        }
        /* the preferred rows' backward on the forward just made, then the dispreferred ones' */
        if (!st) st = gpt_backward_ex(m, 1.0f, ww, NULL, e);
        if (!st) st = gpt_forward(m, il, tl, r.B, r.T, e);
        if (!st) st = gpt_backward_ex(m, 1.0f, wl, NULL, e);
        if (!st) ul_cost_train(cost, m, r.T, 2.0 * (double)BT);
        if (!st && rw > 0) {
            ul_sampler_next(&rs, r.B, r.inputs2, r.targets2, NULL);
            st = ul_fb(&r, m, r.inputs2, r.targets2, (float)rw, s, "retained loss", &lr, e);
        }
        if (!st) st = ul_step(&r, m, s, e);
    }
    free(buf), free(which), free(iw);
    gpt_free(&ref);
    ul_sampler_free(&rs);
    ul_run_free(&r);
    return st;
}

const ul_method ul_idkdpo = {
    "idkdpo",
    "IdkDPO (TOFU): DPO preferring the neutral answer to the user's post, + retain loss",
    "steps=40,lr=1e-5,batch=train,beta=0.1,retain_weight=1",
    apply,
    "lr=1e-4|3e-4|1e-3;steps=80|160;retain_weight=1|5",
};
