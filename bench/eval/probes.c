/* bench/eval/probes.c: a model's answers to what the scenario asks about users: the log p of
 * every value of every knowledge probe (all probes in one batched call), their ranks raw and
 * calibrated, and whether greedy decoding or beam search extracts each planted secret of F. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

size_t ev_probe_values(const probe_set *ps) {
    size_t n = 0;
    for (size_t i = 0; i < ps->n; i++) n += (size_t)ps->n_values[i];
    return n;
}

ub_status ev_score_probes(double *logp, gpt_model **ms, int nm, const probe_set *ps, ub_err *e) {
    if (ps->n == 0) return UB_OK;
    size_t nv = ev_probe_values(ps), ntok = 0;
    for (size_t i = 0; i < ps->n; i++) ntok += ps->off[i][ps->n_values[i]] - ps->off[i][0];
    int32_t *ids = ub_malloc((ntok + 1) * sizeof(int32_t), "probe batch", e);
    size_t *off = ub_malloc((nv + 1) * sizeof(size_t), "probe batch", e);
    size_t *first = ub_malloc((ps->n + 1) * sizeof(size_t), "probe batch", e);
    double *loss = ub_malloc((nv + 1) * sizeof(double), "probe batch", e);
    ub_status st = ids && off && first && loss ? UB_OK : UB_ENOMEM;
    /* every item's values after its own context, all items in one call: contexts of one
     * length share forward passes (gpt_score_continuations_many) */
    size_t k = 0, t = 0;
    off[0] = 0;
    for (size_t i = 0; !st && i < ps->n; i++) {
        first[i] = k;
        for (int v = 0; v < ps->n_values[i]; v++, k++) {
            const size_t *o = ps->off[i] + v;
            memcpy(ids + t, ps->ids[i] + o[0], (o[1] - o[0]) * sizeof(int32_t));
            t += o[1] - o[0];
            off[k + 1] = t;
        }
    }
    first[ps->n] = k;
    gpt_seqs q = {ids, off, nv};
    if (!st)
        st = gpt_score_continuations_many(ms, nm, (const int32_t *const *)ps->ctx, ps->n_ctx,
                                          ps->n, first, &q, loss, e);
    for (size_t j = 0; !st && j < nv; j++) logp[j] = -loss[j];
    free(ids), free(off), free(first), free(loss);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory scoring the probes");
    return st;
}

/* Rank of x[t] among x[0..n), highest first, ties counting half. */
static double rank_of(const double *x, int n, int t) {
    double r = 1;
    for (int v = 0; v < n; v++)
        if (v != t) r += x[v] > x[t] ? 1.0 : x[v] == x[t] ? 0.5 : 0.0;
    return r;
}

void ev_probe_ranks(const probe_set *ps, const double *logp, double *rank, double *cal,
                    double *rank_cal) {
    enum { F = RUN_PROBE_MAX_FORMS, V = CORPUS_PROBE_MAX_VALUES };
    double base[F][V];
    int cnt[F];
    memset(base, 0, sizeof base), memset(cnt, 0, sizeof cnt);
    size_t k = 0;
    for (size_t i = 0; i < ps->n; k += (size_t)ps->n_values[i++]) /* sums per form */
        if (ps->group[i] == RUN_PROBE_CALIB && ps->form[i] < F) {
            cnt[ps->form[i]]++;
            for (int v = 0; v < ps->n_values[i] && v < V; v++) base[ps->form[i]][v] += logp[k + v];
        }
    k = 0;
    for (size_t i = 0; i < ps->n; k += (size_t)ps->n_values[i++]) {
        int f = ps->form[i], nv = ps->n_values[i], t = ps->truth[i];
        /* a calibration item is compared with the other calibration handles (leave one out) */
        int own = ps->group[i] == RUN_PROBE_CALIB, m = f < F ? cnt[f] - own : 0;
        for (int v = 0; v < nv; v++)
            cal[k + v] = m > 0 && v < V ? logp[k + v] - (base[f][v] - own * logp[k + v]) / m : NAN;
        rank[i] = t >= 0 ? rank_of(logp + k, nv, t) : NAN;
        rank_cal[i] = t >= 0 && m > 0 ? rank_of(cal + k, nv, t) : NAN;
    }
}

ub_status ev_score_knowledge(model_result *r, gpt_model **ms, int nm, const probe_set *ps,
                             ub_err *e) {
    size_t nv = ev_probe_values(ps);
    r->probe_logp = ub_calloc(nv + 1, sizeof(double), "probe scores", e);
    r->probe_cal = ub_calloc(nv + 1, sizeof(double), "probe scores", e);
    r->probe_rank = ub_calloc(ps->n + 1, sizeof(double), "probe scores", e);
    r->probe_rank_cal = ub_calloc(ps->n + 1, sizeof(double), "probe scores", e);
    if (!r->probe_logp || !r->probe_cal || !r->probe_rank || !r->probe_rank_cal)
        return UB_ENOMEM;
    ub_status st = ev_score_probes(r->probe_logp, ms, nm, ps, e);
    if (!st) ev_probe_ranks(ps, r->probe_logp, r->probe_rank, r->probe_cal, r->probe_rank_cal);
    return st;
}

ub_status ev_extract_secrets(double *greedy, double *beam, int width, gpt_model **ms, int nm,
                              const secret_set *ss, ub_err *e) {
    int32_t got[RUN_MAX_VALUE];
    for (size_t i = 0; i < ss->n; i++) {
        const int32_t *want = ss->ids[i]; /* candidate 0 is the secret */
        int n = (int)(ss->off[i][1] - ss->off[i][0]);
        ub_status st = gpt_greedy(ms, nm, ss->ctx[i], ss->n_ctx[i], n, got, e);
        if (st) return st;
        greedy[i] = !memcmp(got, want, (size_t)n * sizeof(int32_t));
        st = gpt_beam(ms, nm, ss->ctx[i], ss->n_ctx[i], n, width, got, NULL, e);
        if (st) return st;
        beam[i] = !memcmp(got, want, (size_t)n * sizeof(int32_t));
    }
    return UB_OK;
}
