/* kernels/crossentropy.c: fused softmax + cross-entropy, forward and backward. */
#include "kn_private.h"

/* losses (N); probs (N,V), may alias logits; logits (N,V); targets (N), < 0 = ignored.
 * Stable softmax (the row max is subtracted). The loss is log(sum) - (logit[target] - max),
 * read before the row is overwritten, so it stays finite even where the probability
 * underflows to 0. */
void kn_crossentropy_forward(float *losses, float *probs, const float *logits,
                             const int *targets, int N, int V, const kn_tune *tune) {
#pragma omp parallel for schedule(static) num_threads(kn_par_threads(tune, (size_t)N * V))
    for (int i = 0; i < N; i++) {
        const float *x = logits + (size_t)i * V;   /* (V) */
        float *p = probs + (size_t)i * V;          /* (V), may be x */
        int tg = targets[i];
        float xt = tg >= 0 ? x[tg] : 0.0f; /* read before p (which may be x) is written */
        float mx;
        float s = kn_softmax_row(p, x, V, &mx);
        losses[i] = tg >= 0 ? logf(s) - (xt - mx) : 0.0f;
    }
}

/* dlogits (N,V) += dlosses[i] * (probs - onehot(target)); rows with target < 0 get nothing.
 * If dlogits == probs the row is overwritten instead (ignored rows become 0): the trainer then
 * needs no separate (N,V) gradient buffer.  probs (N,V); targets (N); dlosses (N). */
void kn_crossentropy_backward(float *dlogits, const float *probs, const int *targets,
                              const float *dlosses, int N, int V, const kn_tune *tune) {
    int inplace = dlogits == probs;
#pragma omp parallel for schedule(static) num_threads(kn_par_threads(tune, (size_t)N * V))
    for (int i = 0; i < N; i++) {
        float *g = dlogits + (size_t)i * V;        /* (V) */
        const float *p = probs + (size_t)i * V;    /* (V) */
        int tg = targets[i];
        float dl = dlosses[i];
        if (tg < 0) {
            if (inplace) memset(g, 0, sizeof(float) * V);
            continue;
        }
        /* The target entry is written last as dl * (p - 1): p - 1 is exact for p >= 0.5, so
         * a confident prediction keeps its small gradient accurately. */
        float pt = p[tg], gt = inplace ? 0.0f : g[tg];
        if (inplace) {
#pragma omp simd
            for (int j = 0; j < V; j++) g[j] = dl * p[j];
        } else {
#pragma omp simd
            for (int j = 0; j < V; j++) g[j] += dl * p[j];
        }
        g[tg] = gt + dl * (pt - 1.0f);
    }
}

/* Soft targets (a distribution q per row instead of one id), for distillation-style losses such
 * as KL(q || p) = sum_j q_j (log q_j - log p_j), whose gradient in the logits is p - q (the
 * entropy of q is a constant). losses (N) = -sum_j q_j log p_j; probs (N,V) = softmax(logits),
 * may alias logits; soft (N,V) rows sum to 1; rows with mask[i] < 0 (mask may be NULL) get 0.
 * log p_j = x_j - max - log(sum) is used directly so q_j > 0 where p_j underflows stays finite. */
void kn_crossentropy_soft_forward(float *losses, float *probs, const float *logits,
                                  const float *soft, const int *mask, int N, int V,
                                  const kn_tune *tune) {
#pragma omp parallel for schedule(static) num_threads(kn_par_threads(tune, (size_t)N * V))
    for (int i = 0; i < N; i++) {
        const float *x = logits + (size_t)i * V; /* (V) */
        const float *q = soft + (size_t)i * V;   /* (V) */
        float *p = probs + (size_t)i * V;        /* (V), may be x */
        /* sum_j q_j x_j before p (which may be x) is written */
        double qx = 0.0, qs = 0.0;
        for (int j = 0; j < V; j++) {
            qx += (double)q[j] * x[j];
            qs += q[j];
        }
        float mx;
        float s = kn_softmax_row(p, x, V, &mx);
        /* -sum q (x - mx - log s) */
        losses[i] = mask && mask[i] < 0 ? 0.0f : (float)(qs * ((double)mx + log(s)) - qx);
    }
}

/* dlogits (N,V) += dlosses[i] * (sum(q_i) * probs - q_i); rows with mask[i] < 0 get nothing
 * (with dlogits == probs they are overwritten with 0, as in kn_crossentropy_backward). */
void kn_crossentropy_soft_backward(float *dlogits, const float *probs, const float *soft,
                                   const int *mask, const float *dlosses, int N, int V,
                                   const kn_tune *tune) {
    int inplace = dlogits == probs;
#pragma omp parallel for schedule(static) num_threads(kn_par_threads(tune, (size_t)N * V))
    for (int i = 0; i < N; i++) {
        float *g = dlogits + (size_t)i * V;     /* (V) */
        const float *p = probs + (size_t)i * V; /* (V) */
        const float *q = soft + (size_t)i * V;  /* (V) */
        if (mask && mask[i] < 0) {
            if (inplace) memset(g, 0, sizeof(float) * V);
            continue;
        }
        float qs = 0.0f, dl = dlosses[i];
        for (int j = 0; j < V; j++) qs += q[j];
        if (inplace) {
#pragma omp simd
            for (int j = 0; j < V; j++) g[j] = dl * (qs * p[j] - q[j]);
        } else {
#pragma omp simd
            for (int j = 0; j < V; j++) g[j] += dl * (qs * p[j] - q[j]);
        }
    }
}
