/* models/gpt_score.c: per-token scores of a set of sequences under a model or an ensemble
 * (sliding windows), and the reference distributions KL compares them with. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_private.h"

enum { SCORE_BATCH = 32 }; /* windows (or candidates) per forward pass */

/* One window of a sequence: inputs at positions [s, end), targets [s+1, end]. */
typedef struct window {
    size_t seq;
    size_t s, end;
} window;

static int cmp_window(const void *a, const void *b) {
    const window *x = a, *y = b;
    size_t lx = x->end - x->s, ly = y->end - y->s;
    if (lx != ly) return lx < ly ? 1 : -1; /* longest first */
    if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
    return (x->s > y->s) - (x->s < y->s);
}

/* The windows of a scoring pass over a set of sequences: windows of T with stride T, as training cuts its token stream: every target is scored once,
 * with the tokens before it in its window as context (0 .. T-1 tokens, as in training). They
 * are sorted longest first, so that a batch is padded only to its own longest window: a post's
 * short last window does not cost a whole window of T. */
typedef struct score_plan {
    window *w;
    size_t nw;
} score_plan;

static void plan_free(score_plan *p) {
    free(p->w);
    memset(p, 0, sizeof *p);
}

static ub_status plan_make(score_plan *p, const gpt_seqs *q, int T, ub_err *e) {
    memset(p, 0, sizeof *p);
    size_t n = 0, cap = 16;
    for (size_t i = 0; i < q->n; i++) {
        size_t len = q->off[i + 1] - q->off[i];
        if (len > 1) cap += (len - 2) / (size_t)T + 1;
    }
    p->w = ub_malloc(cap * sizeof *p->w, "score windows", e);
    if (!p->w) return UB_ENOMEM;
    for (size_t i = 0; i < q->n; i++) {
        size_t len = q->off[i + 1] - q->off[i], last = len ? len - 1 : 0;
        for (size_t s = 0; s < last; s += (size_t)T)
            p->w[n++] = (window){i, s, s + (size_t)T < last ? s + (size_t)T : last};
    }
    qsort(p->w, n, sizeof *p->w, cmp_window);
    p->nw = n;
    return UB_OK;
}

/* Batch w0 of the plan (at most nbmax windows): inputs/targets (nb, Tb) padded to its longest
 * window (the first) into in/tg, the scored rows (row in the batch, entry of the sequences' ids)
 * into row/at; returns their number. */
static int plan_batch(const score_plan *p, const gpt_seqs *q, size_t w0, int nbmax, int *in,
                      int *tg, int *row, size_t *at, int *nb_out, int *Tb_out) {
    int nb = p->nw - w0 < (size_t)nbmax ? (int)(p->nw - w0) : nbmax;
    const window *w = p->w + w0;
    int Tb = (int)(w[0].end - w[0].s), n = 0;
    for (int b = 0; b < nb; b++) {
        const int32_t *ids = q->ids + q->off[w[b].seq];
        for (int j = 0; j < Tb; j++) {
            size_t pos = w[b].s + (size_t)j; /* input position; target at pos + 1 */
            int ok = pos < w[b].end;
            in[b * Tb + j] = ok ? ids[pos] : 0;
            tg[b * Tb + j] = ok ? ids[pos + 1] : -1;
            if (ok) row[n] = b * Tb + j, at[n++] = q->off[w[b].seq] + pos + 1;
        }
    }
    *nb_out = nb, *Tb_out = Tb;
    return n;
}

/* One worker's buffers of a scoring pass. */
typedef struct score_worker {
    gpt_model **ms;     /* (nm) */
    int *in, *tg, *row; /* (nbmax * T) */
    size_t *at;         /* (nbmax * T) */
    float *avg, *blp;   /* (nbmax * T * V) when nm > 1; (nbmax * T) */
    double *lv;         /* (inner * V) scratch of score_token, one row per thread of the worker */
} score_worker;

static void worker_free(score_worker *w) {
    free(w->in), free(w->tg), free(w->row), free(w->at), free(w->avg), free(w->blp), free(w->lv);
}

static ub_status worker_make(score_worker *w, gpt_model **ms, int nm, int nbmax, int T, int V,
                             int inner, ub_err *e) {
    memset(w, 0, sizeof *w);
    size_t n = (size_t)nbmax * T;
    w->ms = ms;
    w->in = ub_malloc(n * sizeof(int), "score batch", e);
    w->tg = ub_malloc(n * sizeof(int), "score batch", e);
    w->row = ub_malloc(n * sizeof(int), "score batch", e);
    w->at = ub_malloc(n * sizeof(size_t), "score batch", e);
    w->avg = nm > 1 ? ub_malloc(n * V * sizeof(float), "probs", e) : NULL;
    w->blp = ub_malloc(n * sizeof(float), "token scores", e);
    w->lv = ub_malloc((size_t)inner * V * sizeof(double), "score scratch", e);
    if (!w->in || !w->tg || !w->row || !w->at || (nm > 1 && !w->avg) || !w->blp || !w->lv)
        return e->code ? e->code : UB_ENOMEM;
    return UB_OK;
}

/* The next-token distributions of models ms[0..nm) on a batch, averaged (SISA's aggregation)
 * into avg (nb*T, V); for one model a pointer to its own probs. Per-token log p of the target
 * into lp_out (nb*T): exact (log-sum-exp) for one model, log of the averaged probability for an
 * ensemble. With kvs (nm caches), the batch runs after each model's cached prefix. */
ub_status gpt_forward_avg(gpt_model **ms, int nm, gpt_kv *kvs, const int *in, const int *tg,
                          int nb, int T, float *avg, const float **probs, float *lp_out,
                          ub_err *e) {
    int V = ms[0]->cfg.vocab_size;
    size_t n = (size_t)nb * T;
    for (int k = 0; k < nm; k++) {
        ub_status st = kvs ? gpt_forward_kv(ms[k], &kvs[k], in, tg, nb, T, 0, e)
                           : gpt_forward(ms[k], in, tg, nb, T, e);
        if (st) return st;
        if (nm == 1) break;
        const float *p = kvs ? kvs[k].probs : ms[k]->acts.probs;
        if (k == 0) memcpy(avg, p, n * V * sizeof(float));
        else
            for (size_t i = 0; i < n * V; i++) avg[i] += p[i];
    }
    if (nm == 1) {
        *probs = kvs ? kvs[0].probs : ms[0]->acts.probs;
        const float *loss = kvs ? kvs[0].losses : ms[0]->acts.losses;
        for (size_t i = 0; i < n; i++) lp_out[i] = tg[i] >= 0 ? -loss[i] : 0.0f;
        return UB_OK;
    }
    float inv = 1.0f / (float)nm;
    for (size_t i = 0; i < n * V; i++) avg[i] *= inv;
    *probs = avg;
    for (size_t i = 0; i < n; i++)
        lp_out[i] = tg[i] >= 0 ? (float)gpt_safe_log(avg[i * V + tg[i]]) : 0.0f;
    return UB_OK;
}

ub_status gpt_team_make(gpt_team *t, gpt_model **ms, int nm, size_t nbatch, ub_err *e) {
    int nt = kn_tune_threads(&ms[0]->tune);
    memset(t, 0, sizeof *t);
    t->nm = nm;
    t->W = ms[0]->tune.replicas && nt > 1 && nbatch > 1 ? (nbatch < (size_t)nt ? (int)nbatch : nt) : 1;
    t->inner = t->W > 1 ? 1 : nt;
    t->ms = ub_malloc((size_t)t->W * nm * sizeof *t->ms, "score workers", e);
    if (!t->ms) return UB_ENOMEM;
    for (int k = 0; k < nm; k++) {
        if (t->W > 1) {
            ub_status st = gpt_ensure_replicas(ms[k], t->W, e);
            if (st) return st;
        }
        for (int w = 0; w < t->W; w++)
            t->ms[(size_t)w * nm + k] = t->W > 1 ? &ms[k]->replicas[w] : ms[k];
    }
    return UB_OK;
}

void gpt_team_free(gpt_team *t) {
    free(t->ms);
    memset(t, 0, sizeof *t);
}

ub_status gpt_team_run(const gpt_team *t, size_t nbatch, gpt_team_fn fn, void *ctx, ub_err *e) {
    int W = t->W;
    ub_status st = UB_OK;
    if (W == 1) {
        for (size_t b = 0; !st && b < nbatch; b++) st = fn(ctx, 0, b, e);
        return st;
    }
    ub_status sts[W];
    ub_err errs[W];
    for (int w = 0; w < W; w++) sts[w] = UB_OK, ub_err_clear(&errs[w]);
#pragma omp parallel for schedule(static, 1) num_threads(W)
    for (size_t b = 0; b < nbatch; b++) {
        int w = omp_get_thread_num();
        if (!sts[w]) sts[w] = fn(ctx, w, b, &errs[w]);
    }
    for (int w = 0; !st && w < W; w++)
        if (sts[w]) st = ub_fail(e, sts[w], "%s", errs[w].msg);
    return st;
}

ub_status gpt_kv_workers_make(gpt_kv_worker **wk, const gpt_team *t, const int32_t *context, int P,
                              size_t rows, ub_err *e) {
    int nm = t->nm, V = t->ms[0]->cfg.vocab_size;
    *wk = ub_calloc((size_t)t->W, sizeof **wk, "score workers", e);
    ub_status st = *wk ? UB_OK : UB_ENOMEM;
    for (int w = 0; !st && w < t->W; w++) {
        gpt_kv_worker *c = &(*wk)[w];
        c->ms = gpt_team_models(t, w);
        c->kvs = ub_calloc((size_t)nm, sizeof *c->kvs, "KV caches", e);
        c->in = ub_malloc(rows * sizeof(int), "score batch", e);
        c->tg = ub_calloc(rows, sizeof(int), "score batch", e);
        c->blp = ub_malloc(rows * sizeof(float), "score batch", e);
        c->avg = nm > 1 ? ub_malloc(rows * V * sizeof(float), "probs", e) : NULL;
        st = c->kvs && c->in && c->tg && c->blp && (nm == 1 || c->avg) ? UB_OK : UB_ENOMEM;
        if (!st) st = gpt_kv_prefill(c->ms, nm, context, P, c->kvs, e);
    }
    return st;
}

void gpt_kv_workers_free(gpt_kv_worker *wk, const gpt_team *t) {
    for (int w = 0; wk && w < t->W; w++) {
        gpt_kv_worker *c = &wk[w];
        for (int k = 0; c->kvs && k < t->nm; k++) gpt_kv_free(&c->kvs[k]);
        free(c->kvs), free(c->in), free(c->tg), free(c->blp), free(c->avg);
    }
    free(wk);
}

ub_status gpt_kv_prefill(gpt_model **ms, int nm, const int32_t *context, int P, gpt_kv *kvs,
                         ub_err *e) {
    ub_status st = UB_OK;
    for (int k = 0; !st && k < nm; k++) {
        st = gpt_kv_build(&kvs[k], &ms[k]->cfg, 1, e);
        if (!st && P > 0) st = gpt_forward(ms[k], context, NULL, 1, P, e);
        if (!st && P > 0) st = gpt_kv_fill(&kvs[k], ms[k], e);
    }
    return st;
}

void gpt_token_scores_free(gpt_token_scores *t) {
    free(t->logp);
    free(t->mu);
    free(t->sd);
    free(t->kl);
    free(t->hit);
    memset(t, 0, sizeof *t);
}

/* log x for a finite x > 0 (subnormals included), written so that a loop over it vectorises
 * (glibc's logf is a scalar call without fast-math flags): x = 2^e m with m in [sqrt(1/2),
 * sqrt(2)), log m = 2 atanh(t), t = (m - 1) / (m + 1), |t| < 0.172, by its series to t^9
 * (truncation below 1e-9 relative); about 2 ulp against logf. */
static inline float score_logf(float x) {
    union { float f; uint32_t i; } u = {x};
    /* integer tests only: a float compare may trap, and GCC then keeps the branch */
    uint32_t sub = (u.i & 0x7f800000u) == 0; /* subnormal: scale into the normal range */
    u.f = x * (sub ? 8388608.0f : 1.0f);
    uint32_t big = (u.i & 0x007fffffu) > 0x003504f3u; /* mantissa above sqrt(2)'s */
    int ex = (int)(u.i >> 23) - 127 - 23 * (int)sub + (int)big;
    u.i = (u.i & 0x007fffffu) | (big ? 0x3f000000u : 0x3f800000u); /* m in [sqrt(1/2), sqrt(2)) */
    float m = u.f, fe = (float)ex;
    float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
    float lm = t * (2.0f + t2 * (0.666666667f + t2 * (0.4f + t2 * (0.285714286f +
                                                               t2 * 0.222222222f))));
    return lm + fe * 0.693359375f + fe * -2.12194440e-4f; /* ln 2 = hi + lo */
}

/* p > 0 (probabilities are never negative; -0 is not positive), as an integer test */
static inline int score_pos(float p) {
    union { float f; uint32_t i; } u = {p};
    return u.i != 0 && u.i < 0x80000000u;
}

/* Scores of one target: pr (V) the model's distribution; q, lq (V) the reference's and its
 * logs, or NULL; lv (V) scratch. Each log p is taken once, for Min-K%++ and KL alike (KL floors
 * p at 1e-30 as gpt_safe_log does). The sums over V run in SCORE_LANES partial sums (in
 * double) added in a fixed order: the inner loop vectorises, and the bits do not depend on it. */
enum { SCORE_LANES = 8 };
static void score_token(const float *pr, const float *q, const double *lq, double *lv, int V,
                        int target, size_t at, float lp, gpt_token_scores *out) {
    double a1[SCORE_LANES] = {0}, a2[SCORE_LANES] = {0}, s1 = 0, s2 = 0, d = 0;
    int best = 0;
    for (int v = 1; v < V; v++)
        if (pr[v] > pr[best]) best = v;
    for (int v0 = 0; v0 < V; v0 += SCORE_LANES) {
        int n = V - v0 < SCORE_LANES ? V - v0 : SCORE_LANES;
        for (int j = 0; j < n; j++) {
            float p = pr[v0 + j];
            double l = score_logf(score_pos(p) ? p : 1.0f); /* p = 0: log 1 = 0 adds nothing */
            double pl = (double)p * l;
            lv[v0 + j] = l;
            a1[j] += pl;
            a2[j] += pl * l;
        }
    }
    for (int j = 0; j < SCORE_LANES; j++) s1 += a1[j], s2 += a2[j];
    out->logp[at] = lp;
    out->hit[at] = best == target;
    out->mu[at] = (float)s1;
    out->sd[at] = (float)sqrt(fmax(s2 - s1 * s1, 0.0));
    if (q) {
        double lfloor = log(1e-30), ad[SCORE_LANES] = {0};
        for (int v0 = 0; v0 < V; v0 += SCORE_LANES) {
            int n = V - v0 < SCORE_LANES ? V - v0 : SCORE_LANES;
            for (int j = 0; j < n; j++) { /* q = 0 adds 0: its lq is 0, lv finite */
                int v = v0 + j;
                double lpv = pr[v] > 1e-30f ? lv[v] : lfloor;
                ad[j] += q[v] * (lq[v] - lpv);
            }
        }
        for (int j = 0; j < SCORE_LANES; j++) d += ad[j];
        out->kl[at] = (float)d;
    }
}

void gpt_ref_dists_free(gpt_ref_dists *r) {
    free(r->p);
    free(r->logp);
    memset(r, 0, sizeof *r);
}

ub_status gpt_ref_dists_build(gpt_ref_dists *r, gpt_model *ref, const gpt_seqs *q, ub_err *e) {
    memset(r, 0, sizeof *r);
    int T = ref->cfg.n_ctx, V = ref->cfg.vocab_size, nt = kn_tune_threads(&ref->tune);
    size_t ntot = q->off[q->n] + 1;
    score_plan pl;
    score_worker w;
    ub_status st = plan_make(&pl, q, T, e);
    if (st) return st;
    st = worker_make(&w, &ref, 1, SCORE_BATCH, T, V, 1, e);
    r->n = ntot, r->V = V;
    r->p = ub_calloc(ntot * V, sizeof(float), "reference distributions", e);
    r->logp = ub_calloc(ntot * V, sizeof(double), "reference distributions", e);
    if (!st && (!r->p || !r->logp)) st = UB_ENOMEM;
    for (size_t w0 = 0; !st && w0 < pl.nw; w0 += SCORE_BATCH) {
        int nb, Tb, n = plan_batch(&pl, q, w0, SCORE_BATCH, w.in, w.tg, w.row, w.at, &nb, &Tb);
        st = gpt_forward(ref, w.in, w.tg, nb, Tb, e);
        if (st) break;
        const float *probs = ref->acts.probs;
        const int *row = w.row;
        const size_t *at = w.at;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (int i = 0; i < n; i++) {
            const float *src = probs + (size_t)row[i] * V;
            float *p = r->p + at[i] * V;
            double *lp = r->logp + at[i] * V;
            /* the logs score_token takes of a model's own probabilities: a model scored
             * against itself has a KL of exactly 0 */
            for (int v = 0; v < V; v++)
                p[v] = src[v], lp[v] = score_logf(score_pos(src[v]) ? src[v] : 1.0f);
        }
    }
    worker_free(&w);
    plan_free(&pl);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory while scoring");
    if (st) gpt_ref_dists_free(r);
    return st;
}

/* What every batch of a scoring pass shares (gpt_team_run's ctx). */
typedef struct score_pass {
    score_worker *wk;
    int nm, nbmax, V, inner;
    const score_plan *pl;
    const gpt_seqs *q;
    const gpt_ref_dists *ref;
    gpt_token_scores *out;
} score_pass;

/* Batch w0 of the plan through the worker's models and into out; the tokens' scores on nt
 * threads (tokens are independent and each writes its own entries: the same bits on any team). */
static ub_status score_batch(score_worker *w, int nm, const score_plan *pl, const gpt_seqs *q,
                             size_t w0, int nbmax, const gpt_ref_dists *ref, int V, int nt,
                             gpt_token_scores *out, ub_err *e) {
    int nb, Tb, n = plan_batch(pl, q, w0, nbmax, w->in, w->tg, w->row, w->at, &nb, &Tb);
    const float *probs = NULL;
    ub_status st = gpt_forward_avg(w->ms, nm, NULL, w->in, w->tg, nb, Tb, w->avg, &probs, w->blp, e);
    if (st) return st;
    const int *row = w->row, *tg = w->tg;
    const size_t *at = w->at;
    const float *blp = w->blp;
    double *lv = w->lv;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int i = 0; i < n; i++) {
        size_t a = at[i];
        score_token(probs + (size_t)row[i] * V, ref ? ref->p + a * V : NULL,
                    ref ? ref->logp + a * V : NULL, lv + (size_t)omp_get_thread_num() * V, V,
                    tg[row[i]], a, blp[row[i]], out);
    }
    return UB_OK;
}

static ub_status score_pass_batch(void *ctx, int w, size_t b, ub_err *e) {
    score_pass *x = ctx;
    return score_batch(&x->wk[w], x->nm, x->pl, x->q, b * (size_t)x->nbmax, x->nbmax, x->ref, x->V,
                       x->inner, x->out, e);
}

/* Batches of tune.pass_rows rows (at least one window): the size whose activations stay in
 * cache; run by a gpt_team. */
ub_status gpt_score_tokens(gpt_model **ms, int nm, const gpt_ref_dists *ref, const gpt_seqs *q,
                           gpt_token_scores *out, ub_err *e) {
    memset(out, 0, sizeof *out);
    int T = ms[0]->cfg.n_ctx, V = ms[0]->cfg.vocab_size;
    size_t ntot = q->off[q->n];
    if (ref && (ref->n != ntot + 1 || ref->V != V))
        return ub_fail(e, UB_EARG, "reference distributions of another set of sequences");
    int nbmax = ms[0]->tune.pass_rows / T;
    if (nbmax < 1) nbmax = 1;
    score_plan pl;
    gpt_team tm = {0};
    ub_status st = plan_make(&pl, q, T, e);
    if (st) return st;
    size_t nbatch = (pl.nw + (size_t)nbmax - 1) / (size_t)nbmax;
    st = gpt_team_make(&tm, ms, nm, nbatch, e);
    int W = tm.W;
    score_worker *wk = st ? NULL : ub_calloc((size_t)W, sizeof *wk, "score workers", e);
    if (!st && !wk) st = UB_ENOMEM;
    for (int w = 0; !st && w < W; w++)
        st = worker_make(&wk[w], gpt_team_models(&tm, w), nm, nbmax, T, V, tm.inner, e);
    out->logp = ub_calloc(ntot + 1, sizeof(float), "token scores", e);
    out->mu = ub_calloc(ntot + 1, sizeof(float), "token scores", e);
    out->sd = ub_calloc(ntot + 1, sizeof(float), "token scores", e);
    out->kl = ref ? ub_calloc(ntot + 1, sizeof(float), "token scores", e) : NULL;
    out->hit = ub_calloc(ntot + 1, 1, "token scores", e);
    if (!st && (!out->logp || !out->mu || !out->sd || !out->hit || (ref && !out->kl)))
        st = UB_ENOMEM;
    score_pass x = {wk, nm, nbmax, V, tm.inner, &pl, q, ref, out};
    if (!st) st = gpt_team_run(&tm, nbatch, score_pass_batch, &x, e);
    for (int w = 0; wk && w < W; w++) worker_free(&wk[w]);
    free(wk);
    gpt_team_free(&tm);
    plan_free(&pl);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory while scoring");
    if (st) gpt_token_scores_free(out);
    return st;
}
