/* bench/unlearn/methods/whp.c: "Who's Harry Potter?" (Eldan and Russinovich 2023): generic
 * predictions from a model reinforced on F.
 *
 *   theta_r = the original fine-tuned on F (the method's steps and lr: the reinforced model,
 *             which predicts F's idiosyncratic continuations even more strongly)
 *   per position of F: v_generic = v_0 - alpha * ReLU(v_r - v_0), v the next-token log-probs
 *             of the original (0) and the reinforced model (r)
 *   min_theta E_{x in F, t} CE(softmax(v_generic_t), p_theta(. | x_<t)) + retain_weight E_R[L]
 * Tokens whose likelihood the reinforcement raised are what F taught the model: their logits
 * are pushed down, the rest of the original's distribution is kept, and the model is trained
 * towards what a model that never saw F would plausibly predict. Choices for this setting: the
 * paper's anchored-term dictionary (replacing idiosyncratic names in the text) has no
 * counterpart in posts and is left out; v are log-probabilities (the logits up to a constant per
 * position, which ReLU sees); the targets are the generic distribution itself rather than its
 * argmax (soft labels, as UNDIAL). alpha = 1, the paper's formula's scale left at one; 40
 * steps at lr 1e-4 for both phases (as task_vector's fine-tune). Both models run as private
 * copies. */
#include "ul_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ul_whp_targets(const float *p0, const float *pr, const int *targets, int BT, int V,
                    double alpha, float *q) {
    for (int i = 0; i < BT; i++) {
        const float *a = p0 + (size_t)i * V, *b = pr + (size_t)i * V;
        float *qi = q + (size_t)i * V;
        if (targets[i] < 0) {
            memcpy(qi, a, (size_t)V * sizeof(float));
            continue;
        }
        double mx = -INFINITY, s = 0;
        for (int v = 0; v < V; v++) { /* v_generic in q, in float; its max for a stable softmax */
            double l0 = log(fmax((double)a[v], 1e-30)), lr = log(fmax((double)b[v], 1e-30));
            double g = l0 - alpha * fmax(lr - l0, 0.0);
            qi[v] = (float)g;
            mx = fmax(mx, g);
        }
        for (int v = 0; v < V; v++) s += exp((double)qi[v] - mx);
        for (int v = 0; v < V; v++) qi[v] = (float)(exp((double)qi[v] - mx) / s);
    }
}

static ub_status apply(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e) {
    ul_run r;
    ul_sampler fs = {0}, rs = {0};
    gpt_model base, reinf;
    memset(&base, 0, sizeof base);
    memset(&reinf, 0, sizeof reinf);
    float *q = NULL;
    double alpha = 0, rw = 0;
    int V = m->cfg.vocab_size;
    ub_status st = ul_run_init(&r, &ul_whp, m, c, cost, e);
    if (!st) st = ul_param_f64(&r.p, "alpha", 0, 1e3, UL_OWN, &alpha, e);
    if (!st) st = ul_param_f64(&r.p, "retain_weight", 0, 1e6, UL_OWN, &rw, e);
    if (!st) st = ul_copy_model(&base, c->original, e);
    if (!st) st = ul_copy_model(&reinf, c->original, e);
    /* phase 1: the reinforced model */
    if (!st)
        st = ul_train_on(&r, &reinf, c->forget, c->seed ^ 0x5EEDull, UL_STREAM_FORGET,
                         "forget", 1.0f, "forget loss (reinforcement)", e);
    if (!st)
        st = ul_sampler_init(&fs, c->forget, r.T, c->seed, UL_STREAM_FORGET, r.name, "forget", e);
    if (!st && rw > 0)
        st = ul_sampler_init(&rs, c->retain, r.T, c->seed, UL_STREAM_RETAIN, r.name, "retained", e);
    if (!st) {
        size_t n = (size_t)r.B * r.T * V;
        q = ub_malloc(n * sizeof(float), "WHP targets", e);
        if (!q) st = UB_ENOMEM;
        cost->extra_bytes += 2 * ul_forward_model_bytes(&m->cfg, m->n_params, r.B, r.T) +
                             n * sizeof(float);
    }
    /* phase 2: the original towards the generic predictions */
    for (long s = 0; !st && s < r.steps; s++) {
        double lr;
        gpt_zero_grad(m);
        ul_sampler_next(&fs, r.B, r.inputs, r.targets, NULL);
        st = ul_ref_forward(&r, &base, r.inputs, r.targets, e);
        if (!st) st = ul_ref_forward(&r, &reinf, r.inputs, r.targets, e);
        if (!st) {
            ul_whp_targets(base.acts.probs, reinf.acts.probs, r.targets, r.B * r.T, V, alpha, q);
            st = gpt_forward(m, r.inputs, r.targets, r.B, r.T, e);
        }
        if (!st) st = ul_check_finite(r.name, s + 1, "forget loss", m->mean_loss, e);
        if (!st) st = gpt_backward_ex(m, 1.0f, NULL, q, e);
        if (!st) ul_cost_train(cost, m, r.T, (double)r.B * r.T);
        if (!st && rw > 0) {
            ul_sampler_next(&rs, r.B, r.inputs2, r.targets2, NULL);
            st = ul_fb(&r, m, r.inputs2, r.targets2, (float)rw, s, "retained loss", &lr, e);
        }
        if (!st) st = ul_step(&r, m, s, e);
    }
    free(q);
    gpt_free(&base);
    gpt_free(&reinf);
    ul_sampler_free(&fs);
    ul_sampler_free(&rs);
    ul_run_free(&r);
    return st;
}

const ul_method ul_whp = {
    "whp",
    "Who's Harry Potter (Eldan and Russinovich 2023): train towards generic predictions from a "
    "model reinforced on F",
    "steps=40,lr=1e-4,batch=train,alpha=1,retain_weight=0",
    apply,
    "lr=1e-4|3e-4|1e-3;alpha=1|3|10",
};
