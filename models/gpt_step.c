/* models/gpt_step.c: what one training step does with the model: forward+backward passes over
 * a batch (micro-batched, optionally data-parallel across threads) and the optimizer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_private.h"

/* Forward+backward of sequences [b0, b1) in passes of at most `rows` rows, each weighted by its
 * share of the n_total counted targets; adds sum of per-token losses to *sum. */
static ub_status fb_range(gpt_model *m, const int *inputs, const int *targets, int b0, int b1,
                          int T, int rows, float scale, long n_total, double *sum, ub_err *e) {
    int chunk = rows / T;
    if (chunk < 1) chunk = 1;
    for (int c0 = b0; c0 < b1; c0 += chunk) {
        int nb = b1 - c0 < chunk ? b1 - c0 : chunk;
        ub_status st =
            gpt_forward(m, inputs + (size_t)c0 * T, targets + (size_t)c0 * T, nb, T, e);
        if (st) return st;
        *sum += (double)m->mean_loss * m->n_valid;
        if (m->n_valid == 0) continue;
        st = gpt_backward(m, scale * (float)m->n_valid / (float)n_total, e);
        if (st) return st;
    }
    return UB_OK;
}

ub_status gpt_ensure_replicas(gpt_model *m, int W, ub_err *e) {
    if (m->n_replicas == W) return UB_OK;
    gpt_free_replicas(m);
    m->replicas = ub_calloc((size_t)W, sizeof(gpt_model), "replicas", e);
    if (!m->replicas) return UB_ENOMEM;
    for (int w = 0; w < W; w++) {
        gpt_model *r = &m->replicas[w];
        *r = *m; /* shares params_mem, the views and the tensor table */
        r->acts_mem = r->scratch_mem = r->grads_mem = r->m_mem = r->v_mem = NULL;
        r->inputs = r->targets = NULL;
        r->B = r->T = r->cur_B = 0;
        r->replicas = NULL;
        r->n_replicas = 0;
        r->tune.threads = 1; /* kernels run on the replica's own thread only */
        memset(&r->prof, 0, sizeof r->prof);
        m->n_replicas = w + 1;
        if (gpt_ensure_grads(r, e)) return UB_ENOMEM;
    }
    return UB_OK;
}

/* Data-parallel passes: thread w takes sequences [w*B/W, (w+1)*B/W) on its replica; the
 * replicas' gradients are then added to m's in replica order, so the bits depend on the thread
 * count (as sgemm's do) but on nothing else. */
static ub_status fb_replicas(gpt_model *m, const int *inputs, const int *targets, int B, int T,
                             float scale, long n_total, double *loss, ub_err *e) {
    int W = kn_tune_threads(&m->tune);
    if (W > B) W = B;
    ub_status st = gpt_ensure_grads(m, e);
    if (!st) st = gpt_ensure_replicas(m, W, e);
    if (st) return st;
    double sums[W];
    ub_status sts[W];
    ub_err errs[W];
    int rows = m->tune.pass_rows / W;
#pragma omp parallel for schedule(static) num_threads(W)
    for (int w = 0; w < W; w++) {
        gpt_model *r = &m->replicas[w];
        memset(r->grads_mem, 0, r->n_params * sizeof(float));
        r->prof.on = m->prof.on;
        sums[w] = 0;
        ub_err_clear(&errs[w]);
        sts[w] = fb_range(r, inputs, targets, (int)((long)w * B / W), (int)((long)(w + 1) * B / W),
                          T, rows, scale, n_total, &sums[w], &errs[w]);
    }
    double sum = 0;
    for (int w = 0; w < W; w++) {
        if (sts[w]) {
            ub_fail(e, sts[w], "%s", errs[w].msg);
            return sts[w];
        }
        sum += sums[w];
    }
    size_t n = m->n_params;
    float *g = m->grads_mem;
#pragma omp parallel for schedule(static) num_threads(W)
    for (size_t i = 0; i < n; i++) {
        float acc = g[i];
        for (int w = 0; w < W; w++) acc += m->replicas[w].grads_mem[i];
        g[i] = acc;
    }
    if (m->prof.on) /* wall time: the replicas ran side by side */
        for (int w = 0; w < W; w++)
            for (int d = 0; d < 2; d++)
                for (int k = 0; k < GPT_P_COUNT; k++) {
                    m->prof.sec[d][k] += m->replicas[w].prof.sec[d][k] / W;
                    m->replicas[w].prof.sec[d][k] = 0;
                }
    *loss = n_total ? sum / (double)n_total : 0.0;
    return UB_OK;
}

ub_status gpt_forward_backward(gpt_model *m, const int *inputs, const int *targets, int B, int T,
                               float scale, double *loss, ub_err *e) {
    long n_total = 0;
    for (size_t i = 0; i < (size_t)B * T; i++)
        n_total += targets[i] >= 0;
    if (m->tune.replicas && kn_tune_threads(&m->tune) > 1 && B > 1)
        return fb_replicas(m, inputs, targets, B, T, scale, n_total, loss, e);
    double sum = 0;
    ub_status st = fb_range(m, inputs, targets, 0, B, T, m->tune.pass_rows, scale, n_total, &sum, e);
    *loss = n_total ? sum / (double)n_total : 0.0;
    return st;
}

/* ---- optimizer -------------------------------------------------------------------------- */
double gpt_clip_grad(gpt_model *m, double max_norm) {
    if (!m->grads_mem) return 0.0;
    double norm;
    if (max_norm <= 0)
        PROF(1, GPT_P_OPTIM, norm = sqrt(kn_sumsq(m->grads_mem, m->n_params, &m->tune)));
    else
        PROF(1, GPT_P_OPTIM,
             norm = kn_clip_grad_norm(m->grads_mem, m->n_params, max_norm, &m->tune));
    return norm;
}

ub_status gpt_adamw_step(gpt_model *m, const gpt_adamw *h, ub_err *e) {
    if (!m->grads_mem) return ub_fail(e, UB_EINTERNAL, "optimizer step without gradients");
    if (!m->m_mem) {
        m->m_mem = ub_calloc(m->n_params, sizeof(float), "AdamW first moments", e);
        m->v_mem = ub_calloc(m->n_params, sizeof(float), "AdamW second moments", e);
        if (!m->m_mem || !m->v_mem) return UB_ENOMEM;
    }
    m->adam_step++;
    /* Consecutive tensors share a decay flag in long runs (all biases of a kind...), but the
     * update is element-wise, so per-tensor calls cost nothing extra. */
    double t0 = m->prof.on ? ub_now() : 0.0;
    for (int i = 0; i < m->n_tensors; i++) {
        const gpt_tensor *t = &m->tensors[i];
        size_t o = t->offset;
        kn_adamw_update(m->params_mem + o, m->grads_mem + o, m->m_mem + o, m->v_mem + o, t->numel,
                        (float)h->lr, (float)h->beta1, (float)h->beta2, (float)h->eps,
                        t->decay ? (float)h->weight_decay : 0.0f, m->adam_step, &m->tune);
    }
    if (m->prof.on) m->prof.sec[1][GPT_P_OPTIM] += ub_now() - t0;
    return UB_OK;
}

const char *gpt_nonfinite_grad(const gpt_model *m) {
    if (!m->grads_mem) return NULL;
    for (int i = 0; i < m->n_tensors; i++) {
        const float *g = m->grads_mem + m->tensors[i].offset;
        for (size_t j = 0; j < m->tensors[i].numel; j++)
            if (!isfinite(g[j])) return m->tensors[i].name;
    }
    return NULL;
}
