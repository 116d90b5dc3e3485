/* bench/eval/score.c: per-post and per-continuation scores of a model, the raw material of
 * every metric. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "score.h"

enum { SCORE_BATCH = 32 };

static double safe_log(float p) { return log(p > 1e-30f ? (double)p : 1e-30); }

/* One window of a post: inputs at positions [s, end), targets [s+1, end]; targets at positions
 * <= from are context only (scored by an earlier window). */
typedef struct window {
    size_t post;
    size_t s, end, from;
} window;

/* Sliding windows of T with stride T/2 over every post: each target scored exactly once. */
static window *make_windows(const ul_posts *p, int T, size_t *n_out, ub_err *e) {
    size_t h = T / 2 > 0 ? (size_t)T / 2 : 1, n = 0, cap = p->n + 16;
    window *w = ub_malloc(cap * sizeof *w, "score windows", e);
    for (size_t i = 0; w && i < p->n; i++) {
        size_t len = p->off[i + 1] - p->off[i], last = len ? len - 1 : 0, prev = 0;
        for (size_t s = 0; last > 0; s += h) {
            if (n == cap) {
                window *g = realloc(w, 2 * cap * sizeof *w);
                if (!g) {
                    free(w);
                    ub_fail(e, UB_ENOMEM, "out of memory for score windows");
                    return NULL;
                }
                w = g, cap *= 2;
            }
            size_t end = s + (size_t)T < last ? s + (size_t)T : last;
            w[n++] = (window){i, s, end, prev};
            prev = end;
            if (end == last) break;
        }
    }
    *n_out = n;
    return w;
}

/* Fill inputs/targets (nb, T) for windows w[0..nb). */
static void fill_batch(const ul_posts *p, const window *w, int nb, int T, int *in, int *tg) {
    for (int b = 0; b < nb; b++) {
        const int32_t *ids = p->ids + p->off[w[b].post];
        for (int j = 0; j < T; j++) {
            size_t pos = w[b].s + (size_t)j; /* input position; target at pos + 1 */
            int ok = pos < w[b].end;
            in[b * T + j] = ok ? ids[pos] : 0;
            tg[b * T + j] = ok && pos + 1 > w[b].from ? ids[pos + 1] : -1;
        }
    }
}

void ub_post_scores_free(ub_post_scores *s) {
    free(s->loss);
    free(s->ntok);
    free(s->mink);
    free(s->minkpp);
    free(s->kl);
    free(s->em);
    free(s->es);
    memset(s, 0, sizeof *s);
}

/* The next-token distributions of models ms[0..nm) on a batch, averaged (SISA's aggregation)
 * into avg (nb*T, V); for one model a pointer to its own probs. Per-token log p of the target
 * into lp_out (nb*T): exact (log-sum-exp) for one model, log of the averaged probability for an
 * ensemble. */
static ub_status forward_avg(gpt_model **ms, int nm, const int *in, const int *tg, int nb, int T,
                             float *avg, const float **probs, float *lp_out, ub_err *e) {
    int V = ms[0]->cfg.vocab_size;
    size_t n = (size_t)nb * T;
    for (int k = 0; k < nm; k++) {
        ub_status st = gpt_forward(ms[k], in, tg, nb, T, e);
        if (st) return st;
        if (nm == 1) break;
        const float *p = ms[k]->acts.probs;
        if (k == 0) memcpy(avg, p, n * V * sizeof(float));
        else
            for (size_t i = 0; i < n * V; i++) avg[i] += p[i];
    }
    if (nm == 1) {
        *probs = ms[0]->acts.probs;
        for (size_t i = 0; i < n; i++) lp_out[i] = tg[i] >= 0 ? -ms[0]->acts.losses[i] : 0.0f;
        return UB_OK;
    }
    float inv = 1.0f / (float)nm;
    for (size_t i = 0; i < n * V; i++) avg[i] *= inv;
    *probs = avg;
    for (size_t i = 0; i < n; i++)
        lp_out[i] = tg[i] >= 0 ? (float)safe_log(avg[i * V + tg[i]]) : 0.0f;
    return UB_OK;
}

ub_status ub_score_posts(gpt_model *m, gpt_model *ref, const ul_posts *p, double mink_k,
                         ub_post_scores *out, ub_err *e) {
    return ub_score_posts_ens(&m, 1, ref, p, mink_k, out, e);
}

ub_status ub_score_posts_ens(gpt_model **ms, int nm, gpt_model *ref, const ul_posts *p,
                             double mink_k, ub_post_scores *out, ub_err *e) {
    memset(out, 0, sizeof *out);
    gpt_model *m = ms[0];
    int T = m->cfg.n_ctx, V = m->cfg.vocab_size;
    size_t nw = 0, ntot = p->off[p->n];
    window *w = make_windows(p, T, &nw, e);
    if (!w) return e->code;
    int *in = ub_malloc((size_t)SCORE_BATCH * T * sizeof(int), "score batch", e);
    int *tg = ub_malloc((size_t)SCORE_BATCH * T * sizeof(int), "score batch", e);
    /* per token of the stream (indexed like p->ids): log p, mean and std of log p under p, KL */
    float *lp = ub_calloc(ntot + 1, sizeof(float), "token scores", e);
    float *mu = ub_calloc(ntot + 1, sizeof(float), "token scores", e);
    float *sd = ub_calloc(ntot + 1, sizeof(float), "token scores", e);
    float *kl = ref ? ub_calloc(ntot + 1, sizeof(float), "token scores", e) : NULL;
    float *refp = ref ? ub_malloc((size_t)SCORE_BATCH * T * V * sizeof(float), "probs", e) : NULL;
    float *avg = nm > 1 ? ub_malloc((size_t)SCORE_BATCH * T * V * sizeof(float), "probs", e) : NULL;
    float *blp = ub_malloc((size_t)SCORE_BATCH * T * sizeof(float), "token scores", e);
    uint8_t *hit = ub_calloc(ntot + 1, 1, "token scores", e); /* target == argmax */
    const float *probs = NULL;
    out->n = p->n;
    out->loss = ub_calloc(p->n + 1, sizeof(double), "post scores", e);
    out->ntok = ub_calloc(p->n + 1, sizeof(int32_t), "post scores", e);
    out->mink = ub_calloc(p->n + 1, sizeof(double), "post scores", e);
    out->minkpp = ub_calloc(p->n + 1, sizeof(double), "post scores", e);
    out->kl = ub_calloc(p->n + 1, sizeof(double), "post scores", e);
    out->em = ub_calloc(p->n + 1, sizeof(double), "post scores", e);
    out->es = ub_calloc(p->n + 1, sizeof(double), "post scores", e);
    ub_status st = in && tg && lp && mu && sd && (!ref || (kl && refp)) && (nm == 1 || avg) &&
                           blp && hit && out->loss && out->ntok && out->mink && out->minkpp &&
                           out->kl && out->em && out->es
                       ? UB_OK
                       : UB_ENOMEM;
    for (size_t w0 = 0; !st && w0 < nw; w0 += SCORE_BATCH) {
        int nb = nw - w0 < SCORE_BATCH ? (int)(nw - w0) : SCORE_BATCH;
        fill_batch(p, w + w0, nb, T, in, tg);
        if (ref) {
            st = gpt_forward(ref, in, tg, nb, T, e);
            if (st) break;
            memcpy(refp, ref->acts.probs, (size_t)nb * T * V * sizeof(float));
        }
        st = forward_avg(ms, nm, in, tg, nb, T, avg, &probs, blp, e);
        if (st) break;
        for (int b = 0; b < nb; b++)
            for (int j = 0; j < T; j++) {
                int i = b * T + j;
                if (tg[i] < 0) continue;
                size_t at = p->off[w[w0 + b].post] + w[w0 + b].s + (size_t)j + 1;
                const float *pr = probs + (size_t)i * V;
                double s1 = 0, s2 = 0, d = 0;
                int best = 0;
                for (int v = 0; v < V; v++) {
                    if (pr[v] > pr[best]) best = v;
                    if (pr[v] <= 0.0f) continue;
                    double l = log((double)pr[v]);
                    s1 += pr[v] * l;
                    s2 += pr[v] * l * l;
                }
                lp[at] = blp[i];
                hit[at] = best == tg[i];
                mu[at] = (float)s1;
                sd[at] = (float)sqrt(fmax(s2 - s1 * s1, 0.0));
                if (ref) {
                    const float *q = refp + (size_t)i * V;
                    for (int v = 0; v < V; v++)
                        if (q[v] > 0.0f) d += q[v] * (log((double)q[v]) - safe_log(pr[v]));
                    kl[at] = (float)d;
                }
            }
    }
    for (size_t i = 0; !st && i < p->n; i++) {
        size_t a = p->off[i] + 1, len = p->off[i + 1] - p->off[i];
        size_t n = len > 0 ? len - 1 : 0;
        double sum = 0, skl = 0;
        size_t hits = 0, k = 0; /* k: one past the last miss */
        for (size_t t = 0; t < n; t++) {
            sum -= lp[a + t];
            if (ref) skl += kl[a + t];
            hits += hit[a + t];
            if (!hit[a + t]) k = t + 1;
        }
        out->em[i] = n ? (double)hits / (double)n : NAN;
        out->es[i] = n ? 1.0 - (double)k / (double)n : NAN;
        out->loss[i] = sum;
        out->ntok[i] = (int32_t)n;
        out->mink[i] = n ? mt_mink(lp + a, n, mink_k) : NAN;
        out->minkpp[i] = n ? mt_minkpp(lp + a, mu + a, sd + a, n, mink_k) : NAN;
        out->kl[i] = ref && n ? skl / (double)n : NAN;
    }
    free(w), free(in), free(tg), free(lp), free(mu), free(sd), free(kl), free(refp), free(avg);
    free(blp), free(hit);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory while scoring");
    if (st) ub_post_scores_free(out);
    return st;
}

ub_status ub_score_continuations(gpt_model *m, const int32_t *context, int n_context,
                                 const int32_t *ids, const size_t *off, size_t n, double *loss,
                                 ub_err *e) {
    return ub_score_continuations_ens(&m, 1, context, n_context, ids, off, n, loss, e);
}

ub_status ub_score_continuations_ens(gpt_model **ms, int nm, const int32_t *context,
                                     int n_context, const int32_t *ids, const size_t *off,
                                     size_t n, double *loss, ub_err *e) {
    int T = ms[0]->cfg.n_ctx, V = ms[0]->cfg.vocab_size;
    int *in = ub_malloc((size_t)SCORE_BATCH * T * sizeof(int), "candidate batch", e);
    int *tg = ub_malloc((size_t)SCORE_BATCH * T * sizeof(int), "candidate batch", e);
    float *blp = ub_malloc((size_t)SCORE_BATCH * T * sizeof(float), "candidate batch", e);
    float *avg = nm > 1 ? ub_malloc((size_t)SCORE_BATCH * T * V * sizeof(float), "probs", e) : NULL;
    const float *probs;
    ub_status st = in && tg && blp && (nm == 1 || avg) ? UB_OK : UB_ENOMEM;
    for (size_t c0 = 0; !st && c0 < n; c0 += SCORE_BATCH) {
        int nb = n - c0 < SCORE_BATCH ? (int)(n - c0) : SCORE_BATCH;
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
        st = forward_avg(ms, nm, in, tg, nb, Tb, avg, &probs, blp, e);
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

ub_status ub_greedy_ens(gpt_model **ms, int nm, const int32_t *context, int n_context, int n_new,
                        int32_t *out, ub_err *e) {
    return ub_beam_ens(ms, nm, context, n_context, n_new, 1, out, NULL, e);
}

ub_status ub_beam_ens(gpt_model **ms, int nm, const int32_t *context, int n_context, int n_new,
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
                    double sc = score[b] + safe_log(avg[(size_t)b * V + v] / (float)nm);
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
