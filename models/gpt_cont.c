/* models/gpt_cont.c: the loss of candidate continuations after one context (a secret's
 * candidates, a probe's values): the context runs once into a KV cache, then only the
 * candidates' tokens, in batches; the plain version runs context ++ candidate whole. */
#include <stdlib.h>
#include <string.h>

#include "gpt_private.h"

enum { CONT_BATCH = 32 }; /* candidates per forward pass */

ub_status gpt_score_continuations_full(gpt_model **ms, int nm, const int32_t *context, int n_context,
                                  const gpt_seqs *values, double *loss, ub_err *e) {
    int T = ms[0]->cfg.n_ctx, V = ms[0]->cfg.vocab_size;
    const int32_t *ids = values->ids;
    const size_t *off = values->off;
    size_t n = values->n;
    int *in = ub_malloc((size_t)CONT_BATCH * T * sizeof(int), "candidate batch", e);
    int *tg = ub_malloc((size_t)CONT_BATCH * T * sizeof(int), "candidate batch", e);
    float *blp = ub_malloc((size_t)CONT_BATCH * T * sizeof(float), "candidate batch", e);
    float *avg = nm > 1 ? ub_malloc((size_t)CONT_BATCH * T * V * sizeof(float), "probs", e) : NULL;
    const float *probs;
    ub_status st = in && tg && blp && (nm == 1 || avg) ? UB_OK : UB_ENOMEM;
    for (size_t c0 = 0; !st && c0 < n; c0 += CONT_BATCH) {
        int nb = n - c0 < CONT_BATCH ? (int)(n - c0) : CONT_BATCH;
        /* rows as long as the batch's longest sequence needs (candidates are short: a secret
         * or a value after its context), not the full n_ctx */
        int Tb = 1;
        for (int b = 0; b < nb; b++) {
            int len = n_context + (int)(off[c0 + b + 1] - off[c0 + b]);
            if (len - 1 > Tb) Tb = len - 1;
        }
        if (Tb > T) Tb = T;
        for (int b = 0; b < nb; b++) {
            /* the sequence context ++ value, its last Tb+1 tokens if longer */
            const int32_t *v = ids + off[c0 + b];
            int nv = (int)(off[c0 + b + 1] - off[c0 + b]), len = n_context + nv;
            int skip = len > Tb + 1 ? len - (Tb + 1) : 0;
            for (int j = 0; j < Tb; j++) {
                int pos = skip + j, ok = pos + 1 < len;
                int x = pos < n_context ? context[pos] : pos < len ? v[pos - n_context] : 0;
                int y = ok ? (pos + 1 < n_context ? context[pos + 1] : v[pos + 1 - n_context]) : 0;
                in[b * Tb + j] = pos < len ? x : 0;
                tg[b * Tb + j] = ok && pos + 1 >= n_context ? y : -1;
            }
        }
        st = gpt_forward_avg(ms, nm, NULL, in, tg, nb, Tb, avg, &probs, blp, e);
        for (int b = 0; !st && b < nb; b++) {
            double s = 0;
            for (int j = 0; j < Tb; j++)
                if (tg[b * Tb + j] >= 0) s -= blp[b * Tb + j];
            loss[c0 + b] = s;
        }
    }
    free(in), free(tg), free(blp), free(avg);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory while scoring");
    return st;
}

/* A KV pass over candidates (gpt_team_run's ctx). */
typedef struct cont_pass {
    gpt_kv_worker *wk;
    int nm;
    int32_t last;          /* the context's last token: every row's first input */
    const gpt_seqs *values;
    double *loss;
} cont_pass;

/* Candidates [b * CONT_BATCH, ...) after the cached context: row j's input is the context's last
 * token, then the value's tokens; its target the value's token j. */
static ub_status cont_batch(void *ctx, int w, size_t bi, ub_err *e) {
    const cont_pass *x = ctx;
    gpt_kv_worker *c = &x->wk[w];
    const int32_t *ids = x->values->ids;
    const size_t *off = x->values->off;
    size_t n = x->values->n, c0 = bi * CONT_BATCH;
    int nb = n - c0 < CONT_BATCH ? (int)(n - c0) : CONT_BATCH, Tn = 1;
    for (int b = 0; b < nb; b++)
        if ((int)(off[c0 + b + 1] - off[c0 + b]) > Tn) Tn = (int)(off[c0 + b + 1] - off[c0 + b]);
    for (int b = 0; b < nb; b++) {
        const int32_t *v = ids + off[c0 + b];
        int nv = (int)(off[c0 + b + 1] - off[c0 + b]);
        for (int j = 0; j < Tn; j++) {
            c->in[b * Tn + j] = j == 0 ? x->last : j < nv ? v[j - 1] : 0;
            c->tg[b * Tn + j] = j < nv ? v[j] : -1;
        }
    }
    const float *probs;
    ub_status st = gpt_forward_avg(c->ms, x->nm, c->kvs, c->in, c->tg, nb, Tn, c->avg, &probs,
                                   c->blp, e);
    for (int b = 0; !st && b < nb; b++) {
        double s = 0;
        for (int j = 0; j < Tn; j++)
            if (c->tg[b * Tn + j] >= 0) s -= c->blp[b * Tn + j];
        x->loss[c0 + b] = s;
    }
    return st;
}

ub_status gpt_score_continuations(gpt_model **ms, int nm, const int32_t *context, int n_context,
                                  const gpt_seqs *values, double *loss, ub_err *e) {
    int T = ms[0]->cfg.n_ctx, maxv = 0;
    const size_t *off = values->off;
    size_t n = values->n;
    for (size_t i = 0; i < n; i++)
        if ((int)(off[i + 1] - off[i]) > maxv) maxv = (int)(off[i + 1] - off[i]);
    /* a candidate that outgrows n_ctx slides the window (positions shift): the plain path */
    if (n_context < 1 || n == 0 || maxv == 0 || n_context - 1 + maxv > T)
        return gpt_score_continuations_full(ms, nm, context, n_context, values, loss, e);
    int P = n_context - 1; /* cached: the context but its last token, the first input row */
    size_t nbatch = (n + CONT_BATCH - 1) / CONT_BATCH;
    gpt_team tm = {0};
    gpt_kv_worker *wk = NULL;
    ub_status st = gpt_team_make(&tm, ms, nm, nbatch, e);
    if (!st) st = gpt_kv_workers_make(&wk, &tm, context, P, (size_t)CONT_BATCH * maxv, e);
    cont_pass x = {wk, nm, context[P], values, loss};
    if (!st) st = gpt_team_run(&tm, nbatch, cont_batch, &x, e);
    gpt_kv_workers_free(wk, &tm);
    gpt_team_free(&tm);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory while scoring");
    return st;
}
