/* models/gpt_decode.c: greedy decoding and beam search under a model or an ensemble whose
 * next-token probabilities are averaged. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_private.h"

ub_status gpt_greedy(gpt_model **ms, int nm, const int32_t *context, int n_context, int n_new,
                     int32_t *out, ub_err *e) {
    return gpt_beam(ms, nm, context, n_context, n_new, 1, out, NULL, e);
}

ub_status gpt_beam(gpt_model **ms, int nm, const int32_t *context, int n_context, int n_new,
                   int width, int32_t *out, double *logp, ub_err *e) {
    int T = ms[0]->cfg.n_ctx, V = ms[0]->cfg.vocab_size;
    if (n_context < 1 || width < 1 || n_new < 0)
        return ub_fail(e, UB_EARG, "decoding needs a context, width >= 1 and n_new >= 0");
    int total = n_context + n_new, nb = 1;
    size_t cap = (size_t)width * total;
    int *seq = ub_malloc(cap * sizeof(int), "decoding", e);     /* (width, total) */
    int *next = ub_malloc(cap * sizeof(int), "decoding", e);
    int *in = ub_malloc((size_t)width * T * sizeof(int), "decoding", e);
    /* dummy targets: with targets the forward pass turns logits into probabilities, which an
     * ensemble averages */
    int *tg = ub_calloc((size_t)width * T, sizeof(int), "decoding", e);
    float *avg = ub_malloc((size_t)width * V * sizeof(float), "decoding", e);
    double *score = ub_calloc((size_t)width, sizeof(double), "decoding", e);
    double *nscore = ub_calloc((size_t)width, sizeof(double), "decoding", e);
    int *pick = ub_malloc((size_t)width * 2 * sizeof(int), "decoding", e);
    ub_status st = seq && next && in && tg && avg && score && nscore && pick ? UB_OK : UB_ENOMEM;
    for (int i = 0; !st && i < n_context; i++) seq[i] = context[i];
    for (int len = n_context; !st && len < total; len++) {
        int s0 = len > T ? len - T : 0, n = len - s0; /* the last T tokens */
        for (int b = 0; b < nb; b++) memcpy(in + (size_t)b * n, seq + (size_t)b * total + s0,
                                            (size_t)n * sizeof(int));
        for (int k = 0; !st && k < nm; k++) {
            st = gpt_forward(ms[k], in, tg, nb, n, e);
            for (int b = 0; !st && b < nb; b++) {
                const float *p = ms[k]->acts.probs + ((size_t)b * n + n - 1) * V;
                float *a = avg + (size_t)b * V;
                for (int v = 0; v < V; v++) a[v] = k ? a[v] + p[v] : p[v];
            }
        }
        if (st) break;
        /* the best `width` (beam, token) extensions; scanning beams then tokens in order and
         * taking only strictly better ones breaks ties towards the earlier beam, lower id */
        int np = 0;
        for (int w = 0; w < width; w++) {
            int bb = -1, bv = -1;
            double best = -INFINITY;
            for (int b = 0; b < nb; b++)
                for (int v = 0; v < V; v++) {
                    double sc = score[b] + gpt_safe_log(avg[(size_t)b * V + v] / (float)nm);
                    if (!(sc > best)) continue;
                    int used = 0;
                    for (int q = 0; q < np && !used; q++)
                        used = pick[2 * q] == b && pick[2 * q + 1] == v;
                    if (!used) best = sc, bb = b, bv = v;
                }
            if (bb < 0) break;
            pick[2 * np] = bb, pick[2 * np + 1] = bv, nscore[np] = best, np++;
        }
        for (int q = 0; q < np; q++) {
            memcpy(next + (size_t)q * total, seq + (size_t)pick[2 * q] * total,
                   (size_t)len * sizeof(int));
            next[(size_t)q * total + len] = pick[2 * q + 1];
        }
        int *t = seq;
        seq = next, next = t;
        memcpy(score, nscore, (size_t)np * sizeof(double));
        nb = np;
    }
    if (!st) {
        for (int i = 0; i < n_new; i++) out[i] = seq[n_context + i];
        if (logp) *logp = score[0];
    }
    free(seq), free(next), free(in), free(tg), free(avg), free(score), free(nscore), free(pick);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory while decoding");
    return st;
}
