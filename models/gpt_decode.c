/* models/gpt_decode.c: greedy decoding and beam search under a model or an ensemble whose
 * next-token probabilities are averaged. gpt_beam runs the context once and then one new token
 * per beam and step after a KV cache (reordered with the beams); gpt_beam_full reruns the whole
 * window every step (the reference, and the path once the sequence outgrows n_ctx). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_private.h"

ub_status gpt_greedy(gpt_model **ms, int nm, const int32_t *context, int n_context, int n_new,
                     int32_t *out, ub_err *e) {
    return gpt_beam(ms, nm, context, n_context, n_new, 1, out, NULL, e);
}

/* Beam search; with use_kv, steps whose sequence fits n_ctx run after per-model KV caches
 * (beam b of the cache is beam b of seq). */
static ub_status beam(gpt_model **ms, int nm, const int32_t *context, int n_context, int n_new,
                      int width, int use_kv, int32_t *out, double *logp, ub_err *e) {
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
    int *pick_parent = ub_calloc((size_t)width, sizeof(int), "decoding", e);
    gpt_kv *kvs = use_kv && n_context <= T ? ub_calloc((size_t)nm, sizeof *kvs, "decoding", e)
                                           : NULL;
    ub_status st = seq && next && in && tg && avg && score && nscore && pick && pick_parent &&
                           (kvs || !use_kv || n_context > T)
                       ? UB_OK
                       : UB_ENOMEM;
    for (int k = 0; kvs && !st && k < nm; k++) st = gpt_kv_build(&kvs[k], &ms[k]->cfg, width, e);
    for (int i = 0; !st && i < n_context; i++) seq[i] = context[i];
    for (int len = n_context; !st && len < total; len++) {
        int s0 = len > T ? len - T : 0, n = len - s0; /* the last T tokens */
        for (int b = 0; b < nb; b++) memcpy(in + (size_t)b * n, seq + (size_t)b * total + s0,
                                            (size_t)n * sizeof(int));
        /* cached: the first step fills the caches from a whole pass over the context, later
         * ones run each beam's last token after its cache */
        int cached = kvs && len <= T && len > n_context;
        if (cached)
            for (int b = 0; b < nb; b++) in[b] = seq[(size_t)b * total + len - 1];
        for (int k = 0; !st && k < nm; k++) {
            if (cached) st = gpt_kv_select(&kvs[k], pick_parent, nb, e);
            if (!st)
                st = cached ? gpt_forward_kv(ms[k], &kvs[k], in, tg, nb, 1, 1, e)
                            : gpt_forward(ms[k], in, tg, nb, n, e);
            if (!st && kvs && len == n_context && len <= T) st = gpt_kv_fill(&kvs[k], ms[k], e);
            for (int b = 0; !st && b < nb; b++) {
                const float *p = cached ? kvs[k].probs + (size_t)b * V
                                        : ms[k]->acts.probs + ((size_t)b * n + n - 1) * V;
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
            pick_parent[q] = pick[2 * q];
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
    for (int k = 0; kvs && k < nm; k++) gpt_kv_free(&kvs[k]);
    free(seq), free(next), free(in), free(tg), free(avg), free(score), free(nscore), free(pick);
    free(pick_parent), free(kvs);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory while decoding");
    return st;
}

ub_status gpt_beam(gpt_model **ms, int nm, const int32_t *context, int n_context, int n_new,
                   int width, int32_t *out, double *logp, ub_err *e) {
    return beam(ms, nm, context, n_context, n_new, width, 1, out, logp, e);
}

ub_status gpt_beam_full(gpt_model **ms, int nm, const int32_t *context, int n_context, int n_new,
                        int width, int32_t *out, double *logp, ub_err *e) {
    return beam(ms, nm, context, n_context, n_new, width, 0, out, logp, e);
}
