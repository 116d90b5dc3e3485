/* models/gpt_next.c: next-token distributions after many short rows that share a context, for
 * searches over continuations (the exact rank of a secret, bench/eval/enumerate.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_private.h"

enum { NEXT_BATCH = 32 }; /* rows per forward pass */

ub_status gpt_next_logprobs(gpt_model **ms, int nm, const int32_t *context, int n_context,
                            const gpt_seqs *rows, float *lp_rows, float *dist, ub_err *e) {
    int T = ms[0]->cfg.n_ctx, V = ms[0]->cfg.vocab_size;
    if (n_context < 1) return ub_fail(e, UB_EARG, "gpt_next_logprobs: empty context");
    int *in = ub_malloc((size_t)NEXT_BATCH * T * sizeof(int), "next-token batch", e);
    /* dummy targets: with targets the forward pass turns logits into probabilities */
    int *tg = ub_calloc((size_t)NEXT_BATCH * T, sizeof(int), "next-token batch", e);
    float *avg = nm > 1 ? ub_malloc((size_t)NEXT_BATCH * T * V * sizeof(float), "probs", e) : NULL;
    ub_status st = in && tg && (nm == 1 || avg) ? UB_OK : UB_ENOMEM;
    for (size_t r0 = 0; !st && r0 < rows->n; r0 += NEXT_BATCH) {
        int nb = rows->n - r0 < NEXT_BATCH ? (int)(rows->n - r0) : NEXT_BATCH;
        int Tb = 1, len[NEXT_BATCH], s0[NEXT_BATCH];
        for (int b = 0; b < nb; b++) { /* context ++ row, its last T tokens if longer */
            len[b] = n_context + (int)(rows->off[r0 + b + 1] - rows->off[r0 + b]);
            s0[b] = len[b] > T ? len[b] - T : 0;
            if (len[b] - s0[b] > Tb) Tb = len[b] - s0[b];
        }
        for (int b = 0; b < nb; b++) {
            const int32_t *row = rows->ids + rows->off[r0 + b];
            for (int j = 0; j < Tb; j++) { /* right-padded: causal attention ignores the pad */
                int p = s0[b] + j;
                in[b * Tb + j] = p >= len[b] ? 0 : p < n_context ? context[p] : row[p - n_context];
            }
        }
        const float *probs = NULL;
        for (int k = 0; !st && k < nm; k++) {
            st = gpt_forward(ms[k], in, tg, nb, Tb, e);
            if (st || nm == 1) break;
            const float *p = ms[k]->acts.probs;
            size_t n = (size_t)nb * Tb * V;
            if (k == 0)
                memcpy(avg, p, n * sizeof(float));
            else
                for (size_t i = 0; i < n; i++)
                    avg[i] += p[i];
        }
        if (st) break;
        if (nm == 1)
            probs = ms[0]->acts.probs;
        else {
            float inv = 1.0f / (float)nm;
            for (size_t i = 0; i < (size_t)nb * Tb * V; i++)
                avg[i] *= inv;
            probs = avg;
        }
        for (int b = 0; b < nb; b++) {
            size_t r = r0 + (size_t)b, o = rows->off[r];
            const int32_t *row = rows->ids + o;
            for (int t = 0; t < (int)(rows->off[r + 1] - o); t++) {
                int at = n_context + t - 1 - s0[b]; /* the input position that predicts it */
                lp_rows[o + t] =
                    at < 0 ? NAN : (float)gpt_safe_log(probs[((size_t)b * Tb + at) * V + row[t]]);
            }
            const float *p = probs + ((size_t)b * Tb + len[b] - s0[b] - 1) * V;
            for (int v = 0; v < V; v++)
                dist[r * V + v] = (float)gpt_safe_log(p[v]);
        }
    }
    free(in), free(tg), free(avg);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory in gpt_next_logprobs");
    return st;
}
