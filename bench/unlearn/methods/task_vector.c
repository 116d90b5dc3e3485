/* bench/unlearn/methods/task_vector.c: task-arithmetic negation (Ilharco et al. 2023, "Editing Models
 * with Task Arithmetic").
 *
 *   theta_ft = the original fine-tuned on F's posts (descent, `steps` AdamW steps)
 *   tau      = theta_ft - theta_orig                  (the "F task vector")
 *   result   = theta_orig - alpha * tau
 * Fine-tuning on F further amplifies what the model learned from F; subtracting that direction
 * is meant to remove it. alpha=0 returns the original exactly (bit for bit). The fine-tune runs
 * in m itself; the original's parameters are read from the context (no extra copy). */
#include "ul_private.h"

#include <string.h>

static ub_status apply(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e) {
    ul_run r;
    double alpha = 0;
    ub_status st = ul_run_init(&r, &ul_task_vector, m, c, cost, e);
    if (!st) st = ul_param_f64(&r.p, "alpha", -1e3, 1e3, UL_OWN, &alpha, e);
    if (!st)
        st = ul_train_on(&r, m, c->forget, c->seed, UL_STREAM_FORGET, "forget", 1.0f,
                         "forget loss (fine-tune)", e);
    if (!st) {
        const float *o = c->original->params_mem; /* (n_params) */
        float *p = m->params_mem;                 /* (n_params) theta_ft, then the result */
        if (alpha == 0) {
            /* o - 0 * tau can differ from o in the sign of a zero; alpha=0 is exact. */
            memcpy(p, o, m->n_params * sizeof(float));
        } else {
            for (size_t i = 0; i < m->n_params; i++)
                p[i] = (float)((double)o[i] - alpha * ((double)p[i] - (double)o[i]));
        }
        st = ul_check_params(r.name, r.steps, m, e);
    }
    ul_run_free(&r);
    return st;
}

const ul_method ul_task_vector = {
    "task_vector",
    "negate the task vector of fine-tuning on F (Ilharco et al. 2023): orig - alpha*(ft - orig)",
    "steps=40,lr=1e-4,batch=train,alpha=1",
    apply,
    "lr=1e-4|3e-4;steps=20|40;alpha=0.5|1|2",
};
