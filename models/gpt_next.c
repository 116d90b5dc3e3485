/* models/gpt_next.c: next-token distributions after many short rows that share a context, for
 * searches over continuations (the exact rank of a secret, bench/eval/enumerate.c). The
 * context runs once into a KV cache and each batch runs only its rows (as gpt_cont.c does for
 * candidates); context ++ row longer than n_ctx takes the plain path, which runs them whole. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_private.h"

enum { NEXT_BATCH = 32,    /* rows per forward pass */
       NEXT_TEAM_MIN = 8 }; /* batches below which one worker runs them all */

/* A KV pass over rows (gpt_team_run's ctx). */
typedef struct next_pass {
    gpt_kv_worker *wk;
    int nm, V;
    int32_t last; /* the context's last token: every row's first input */
    const gpt_seqs *rows;
    float *lp_rows, *dist;
} next_pass;

/* Rows [bi * NEXT_BATCH, ...) after the cached context but its last token: row b's inputs are
 * that token, then the row's own (Tn = the batch's longest row + 1). */
static ub_status next_batch(void *ctx, int w, size_t bi, ub_err *e) {
    const next_pass *x = ctx;
    gpt_kv_worker *c = &x->wk[w];
    const gpt_seqs *rows = x->rows;
    size_t r0 = bi * NEXT_BATCH;
    int V = x->V, nb = rows->n - r0 < NEXT_BATCH ? (int)(rows->n - r0) : NEXT_BATCH, Tn = 1;
    for (int b = 0; b < nb; b++) {
        int nr = (int)(rows->off[r0 + b + 1] - rows->off[r0 + b]);
        if (nr + 1 > Tn) Tn = nr + 1;
    }
    for (int b = 0; b < nb; b++) {
        const int32_t *row = rows->ids + rows->off[r0 + b];
        int nr = (int)(rows->off[r0 + b + 1] - rows->off[r0 + b]);
        for (int j = 0; j < Tn; j++) /* right-padded: causal attention ignores the pad */
            c->in[b * Tn + j] = j == 0 ? x->last : j <= nr ? row[j - 1] : 0;
    }
    const float *probs = NULL;
    ub_status st = gpt_forward_avg(c->ms, x->nm, c->kvs, c->in, c->tg, nb, Tn, c->avg, &probs,
                                   c->blp, e);
    for (int b = 0; !st && b < nb; b++) {
        size_t r = r0 + (size_t)b, o = rows->off[r];
        const int32_t *row = rows->ids + o;
        int nr = (int)(rows->off[r + 1] - o);
        for (int t = 0; t < nr; t++) /* input t predicts row token t */
            x->lp_rows[o + t] = (float)gpt_safe_log(probs[((size_t)b * Tn + t) * V + row[t]]);
        const float *p = probs + ((size_t)b * Tn + nr) * V;
        for (int v = 0; v < V; v++) x->dist[r * V + v] = (float)gpt_safe_log(p[v]);
    }
    return st;
}

/* The KV path: the context but its last token runs once per worker into its caches; batches of
 * rows then run after it (Tc = the longest row + 1). */
static ub_status next_kv(gpt_model **ms, int nm, const int32_t *context, int n_context,
                         const gpt_seqs *rows, int maxr, float *lp_rows, float *dist, ub_err *e) {
    int V = ms[0]->cfg.vocab_size, P = n_context - 1, Tc = maxr + 1;
    size_t nbatch = (rows->n + NEXT_BATCH - 1) / NEXT_BATCH;
    gpt_team tm = {0};
    gpt_kv_worker *wk = NULL;
    /* every worker prefills the context itself: with few batches (a search's typical call,
     * tens of rows of a few tokens after a context of tens) that costs more than it saves */
    ub_status st = gpt_team_make(&tm, ms, nm, nbatch >= NEXT_TEAM_MIN ? nbatch : 1, e);
    if (!st) st = gpt_kv_workers_make(&wk, &tm, context, P, (size_t)NEXT_BATCH * Tc, e);
    next_pass x = {wk, nm, V, context[P], rows, lp_rows, dist};
    if (!st) st = gpt_team_run(&tm, nbatch, next_batch, &x, e);
    gpt_kv_workers_free(wk, &tm);
    gpt_team_free(&tm);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory in gpt_next_logprobs");
    return st;
}

ub_status gpt_next_logprobs(gpt_model **ms, int nm, const int32_t *context, int n_context,
                            const gpt_seqs *rows, float *lp_rows, float *dist, ub_err *e) {
    int T = ms[0]->cfg.n_ctx, V = ms[0]->cfg.vocab_size, maxr = 0;
    if (n_context < 1) return ub_fail(e, UB_EARG, "gpt_next_logprobs: empty context");
    for (size_t i = 0; i < rows->n; i++)
        if ((int)(rows->off[i + 1] - rows->off[i]) > maxr) maxr = (int)(rows->off[i + 1] - rows->off[i]);
    if (rows->n > 0 && n_context + maxr <= T)
        return next_kv(ms, nm, context, n_context, rows, maxr, lp_rows, dist, e);
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
