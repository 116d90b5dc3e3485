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

/* One sequence of the batch: an item's context after BOS, alone (value -1) or with a value. */
typedef struct row {
    size_t item, len;
    int value;
} row;
static int cmp_row(const void *a, const void *b) {
    const row *p = a, *q = b;
    if (p->len != q->len) return p->len < q->len ? -1 : 1;
    if (p->item != q->item) return p->item < q->item ? -1 : 1;
    return (p->value > q->value) - (p->value < q->value);
}

ub_status ev_score_probes(double *logp, gpt_model **ms, int nm, const probe_set *ps, ub_err *e) {
    if (ps->n == 0) return UB_OK;
    int T = ms[0]->cfg.n_ctx;
    int32_t bos = ps->ctx[0][0];
    size_t nr = 0, ntok = 0;
    for (size_t i = 0; i < ps->n; i++) {
        nr += (size_t)ps->n_values[i] + 1;
        ntok += (size_t)(ps->n_ctx[i] - 1) * (ps->n_values[i] + 1) + ps->off[i][ps->n_values[i]];
        if (ps->ctx[i][0] != bos)
            return ub_fail(e, UB_EINTERNAL, "probe %zu: its context does not start with BOS", i);
    }
    row *rw = ub_malloc((nr + 1) * sizeof *rw, "probe batch", e);
    int32_t *ids = ub_malloc((ntok + 1) * sizeof(int32_t), "probe batch", e);
    size_t *off = ub_malloc((nr + 2) * sizeof(size_t), "probe batch", e);
    double *loss = ub_malloc((nr + 1) * sizeof(double), "probe batch", e);
    double *lctx = ub_malloc((ps->n + 1) * sizeof(double), "probe batch", e);
    size_t *voff = ub_malloc((ps->n + 1) * sizeof(size_t), "probe batch", e);
    ub_status st = rw && ids && off && loss && lctx && voff ? UB_OK : UB_ENOMEM;
    /* log p(value | context) = log p(context + value) - log p(context), both after BOS alone:
     * then every probe's rows share one context and go through the model in full batches,
     * shortest first (little padding); an item whose longest row outgrows the model's window
     * keeps its own context (gpt_score_continuations truncates from the left) */
    size_t n = 0, k = 0;
    for (size_t i = 0; !st && i < ps->n; i++) {
        voff[i] = k;
        size_t lc = (size_t)ps->n_ctx[i] - 1, lmax = lc;
        for (int v = 0; v < ps->n_values[i]; v++) {
            size_t lv = lc + ps->off[i][v + 1] - ps->off[i][v];
            if (lv > lmax) lmax = lv;
        }
        if (lmax + 1 > (size_t)T + 1) {
            gpt_seqs values = {ps->ids[i], ps->off[i], (size_t)ps->n_values[i]};
            st = gpt_score_continuations(ms, nm, ps->ctx[i], ps->n_ctx[i], &values, loss, e);
            for (int v = 0; !st && v < ps->n_values[i]; v++) logp[k + v] = -loss[v];
            lctx[i] = NAN; /* scored: no rows */
        } else {
            rw[n++] = (row){i, lc, -1};
            for (int v = 0; v < ps->n_values[i]; v++)
                rw[n++] = (row){i, lc + ps->off[i][v + 1] - ps->off[i][v], v};
        }
        k += (size_t)ps->n_values[i];
    }
    if (!st) qsort(rw, n, sizeof *rw, cmp_row);
    off[0] = 0;
    for (size_t r = 0; !st && r < n; r++) {
        size_t i = rw[r].item, lc = (size_t)ps->n_ctx[i] - 1;
        memcpy(ids + off[r], ps->ctx[i] + 1, lc * sizeof(int32_t));
        if (rw[r].value >= 0) {
            const size_t *o = ps->off[i] + rw[r].value;
            memcpy(ids + off[r] + lc, ps->ids[i] + o[0], (o[1] - o[0]) * sizeof(int32_t));
        }
        off[r + 1] = off[r] + rw[r].len;
    }
    gpt_seqs q = {ids, off, n};
    if (!st && n) st = gpt_score_continuations(ms, nm, &bos, 1, &q, loss, e);
    for (size_t r = 0; !st && r < n; r++)
        if (rw[r].value < 0) lctx[rw[r].item] = loss[r];
    for (size_t r = 0; !st && r < n; r++)
        if (rw[r].value >= 0)
            logp[voff[rw[r].item] + (size_t)rw[r].value] = lctx[rw[r].item] - loss[r];
    free(rw), free(ids), free(off), free(loss), free(lctx), free(voff);
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
