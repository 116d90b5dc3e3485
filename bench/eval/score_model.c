/* bench/eval/score_model.c: one model's (or ensemble's) scores on a seed's scenario: every
 * scored post set, F's secrets among their candidates, the knowledge probes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "metrics.h"

const int ev_scored_set[N_SCORED] = {RUN_FORGET, RUN_RETAIN_EVAL, RUN_NONMEMBER, RUN_FORGET_FRESH,
                                     RUN_NONMEMBER_FRESH};

void model_result_free(model_result *r) {
    for (int k = 0; k < N_SCORED; k++) {
        ub_post_scores_free(&r->s[k]);
        free(r->zlib[k]);
    }
    free(r->exp_rank), free(r->exp_sn), free(r->secret_loss), free(r->extracted);
    free(r->exp_censored), free(r->exp_enum), free(r->exp_sampled), free(r->enum_rows);
    free(r->sn_stat), free(r->sn_pass);
    free(r->extracted_beam);
    free(r->probe_logp), free(r->probe_cal), free(r->probe_rank), free(r->probe_rank_cal);
    free(r->ulira);
}

void ev_ref_free(ev_ref *r) {
    for (int k = 0; k < N_SCORED; k++) gpt_ref_dists_free(&r->d[k]);
    r->built = 0;
}

/* KL to retrain is reported on F and on retained posts only: retrain runs on those sets once. */
static ub_status ref_build(ev_ref *ref, const run_scenario *sc, ub_err *e) {
    ub_status st = UB_OK;
    for (int k = S_F; !st && k <= S_R; k++) {
        const ul_posts *v = &sc->set[ev_scored_set[k]].view;
        gpt_seqs q = {v->ids, v->off, v->n};
        st = gpt_ref_dists_build(&ref->d[k], ref->model, &q, e);
    }
    ref->built = !st;
    if (st) ev_ref_free(ref);
    return st;
}

/* The models' next-token distributions after a secret's context (ev_enum_rank's callback). */
typedef struct next_ctx {
    gpt_model **ms;
    int nm;
    const int32_t *ctx;
    int n_ctx;
} next_ctx;
static ub_status model_next(void *c, const gpt_seqs *rows, float *lp, float *dist, ub_err *e) {
    const next_ctx *x = c;
    return gpt_next_logprobs(x->ms, x->nm, x->ctx, x->n_ctx, rows, lp, dist, e);
}

/* Secret i's exact rank exposure, when its format has at most EV_ENUM_MAX_SPACE values and the
 * sampled candidates (cand[0] the secret, cand[1..nc]) do not predict more better values than
 * the budget resolves (each better value costs one to two rows: the literal tail after the
 * last placeholder, as in an email, is scored per value, and the prefixes above it cost rows
 * too); then exp_rank is exact and not censored. */
static ub_status exact_rank(model_result *r, size_t i, gpt_model **ms, int nm,
                            const run_corpus *rc, const secret_set *ss, const double *cand,
                            size_t nc, long budget, ub_err *e) {
    const corpus_secret *s = &rc->c.secrets[ss->secret[i]];
    /* the budget counts one model's forward rows: an ensemble of nm models, whose every row
     * costs nm forwards, gets 1/nm of the rows (SISA's exact ranks cost what a model's do) */
    budget /= nm > 0 ? nm : 1;
    double k = 0;
    for (size_t j = 1; j <= nc; j++) k += cand[j] < cand[0] ? 1.0 : cand[j] == cand[0] ? 0.5 : 0.0;
    if (budget <= 0 || s->log2_space > log2(EV_ENUM_MAX_SPACE) ||
        k / (double)nc * exp2(s->log2_space) > 0.5 * (double)budget)
        return UB_OK;
    /* the lead (" " or "") the value was encoded with: its tokens decoded, less the value */
    const int32_t *ids = ss->ids[i] + ss->off[i][0];
    int n_ids = (int)(ss->off[i][1] - ss->off[i][0]);
    char text[EV_ENUM_MAX_BYTES + 1], lead[EV_ENUM_MAX_BYTES + 1];
    size_t nt = 0;
    const char *value = corpus_s(&rc->c, s->value);
    size_t nv = strlen(value);
    ub_status st = corpus_bpe_decode(&rc->bpe, ids, (size_t)n_ids, text, sizeof text - 1, &nt, e);
    if (st) return st;
    if (nt < nv || memcmp(text + nt - nv, value, nv))
        return ub_fail(e, UB_EINTERNAL, "secret %lld: its tokens do not decode to its value",
                       (long long)ss->secret[i]);
    memcpy(lead, text, nt - nv);
    lead[nt - nv] = '\0';
    next_ctx x = {ms, nm, ss->ctx[i], ss->n_ctx[i]};
    ev_enum_result res;
    st = ev_enum_rank(&rc->bpe, lead, corpus_s(&rc->c, s->format), ids, n_ids, cand[0], budget,
                      model_next, &x, ms[0]->cfg.vocab_size, &res, e);
    if (st) return st;
    r->exp_enum[i] = res.resolved ? 1.0 : -1.0;
    r->enum_rows[i] = (double)res.rows;
    if (res.resolved) {
        r->exp_rank[i] = s->log2_space - log2(1.0 + res.better);
        r->exp_censored[i] = 0.0;
    }
    return UB_OK;
}

/* Every secret's candidates (cand[0] the secret, then the sampled ones) after the secret's
 * context, all secrets in one call: cands (n, nc + 1). */
static ub_status secret_candidates(double *cands, gpt_model **ms, int nm, const secret_set *ss,
                                   ub_err *e) {
    size_t n = ss->n, nc1 = (size_t)ss->n_cand + 1, ntok = 0;
    for (size_t i = 0; i < n; i++) ntok += ss->off[i][nc1] - ss->off[i][0];
    int32_t *ids = ub_malloc((ntok + 1) * sizeof(int32_t), "exposure", e);
    size_t *off = ub_malloc((n * nc1 + 1) * sizeof(size_t), "exposure", e);
    size_t *first = ub_malloc((n + 1) * sizeof(size_t), "exposure", e);
    ub_status st = ids && off && first ? UB_OK : UB_ENOMEM;
    size_t t = 0;
    off[0] = 0;
    for (size_t i = 0; !st && i < n; i++) {
        const size_t *o = ss->off[i];
        first[i] = i * nc1;
        memcpy(ids + t, ss->ids[i] + o[0], (o[nc1] - o[0]) * sizeof(int32_t));
        for (size_t j = 0; j < nc1; j++) off[i * nc1 + j + 1] = t + o[j + 1] - o[0];
        t += o[nc1] - o[0];
    }
    if (!st) {
        first[n] = n * nc1;
        gpt_seqs q = {ids, off, n * nc1};
        st = gpt_score_continuations_many(ms, nm, (const int32_t *const *)ss->ctx, ss->n_ctx, n,
                                          first, &q, cands, e);
    }
    free(ids), free(off), free(first);
    return st;
}

ub_status ev_score_model(model_result *r, gpt_model **ms, int nm, ev_ref *ref,
                         const run_corpus *rc, const run_scenario *sc, const secret_set *ss,
                         const probe_set *ps, const ub_score_cfg *cfg, ub_err *e) {
    double t0 = ub_now();
    ub_status st = ref && !ref->built ? ref_build(ref, sc, e) : UB_OK;
    r->n_ens = nm;
    for (int k = 0; !st && k < N_SCORED; k++) {
        const run_set *set = &sc->set[ev_scored_set[k]];
        const gpt_ref_dists *kref = ref && (k == S_F || k == S_R) ? &ref->d[k] : NULL;
        st = ub_score_posts_ens(ms, nm, kref, &set->view, cfg->mink_k, &r->s[k], e);
        if (st) break;
        if (!ref)
            for (size_t i = 0; i < set->n; i++) r->s[k].kl[i] = 0.0; /* retrain vs itself */
        r->zlib[k] = ub_calloc(set->n + 1, sizeof(double), "zlib scores", e);
        if (!r->zlib[k]) return UB_ENOMEM;
        for (size_t i = 0; i < set->n; i++) /* mean loss per token, as Carlini et al. */
            r->zlib[k][i] = mt_zlib_score(r->s[k].ntok[i] ? r->s[k].loss[i] / r->s[k].ntok[i] : 0,
                                          set->zlen[i]);
    }
    double t1 = ub_now(), t_exact = 0;
    r->t_phase[EV_T_POSTS] = t1 - t0;
    size_t n = ss->n, nc = (size_t)ss->n_cand;
    r->exp_rank = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->exp_sn = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->secret_loss = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->exp_censored = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->exp_enum = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->exp_sampled = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->enum_rows = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->sn_stat = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->sn_pass = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->extracted = ub_calloc(n + 1, sizeof(double), "extraction", e);
    r->extracted_beam = ub_calloc(n + 1, sizeof(double), "extraction", e);
    double *cands = ub_calloc(n * (nc + 1) + 1, sizeof(double), "exposure", e);
    if (!st && (!r->exp_rank || !r->exp_sn || !r->secret_loss || !r->exp_censored || !r->exp_enum ||
                !r->exp_sampled || !r->enum_rows ||
                !r->sn_stat || !r->sn_pass || !r->extracted ||
                !r->extracted_beam || !cands))
        st = UB_ENOMEM;
    if (!st && n) st = secret_candidates(cands, ms, nm, ss, e);
    for (size_t i = 0; !st && i < n; i++) {
        const double *cand = cands + i * (nc + 1);
        const corpus_secret *s = &rc->c.secrets[ss->secret[i]];
        r->secret_loss[i] = cand[0];
        int cens = 0;
        r->exp_rank[i] = mt_exposure_rank(cand[0], cand + 1, nc, s->log2_space, &cens);
        r->exp_censored[i] = cens;
        r->exp_sampled[i] = r->exp_rank[i];
        /* the fit extrapolates the tail; no secret is more exposed than its space allows
         * (NaN, a failed fit, stays NaN) */
        int pass = 0;
        double sn = mt_exposure_skewnorm_checked(cand[0], cand + 1, nc, &r->sn_stat[i], &pass);
        r->exp_sn[i] = sn > s->log2_space ? s->log2_space : sn;
        r->sn_pass[i] = pass;
        double te = ub_now();
        st = exact_rank(r, i, ms, nm, rc, ss, cand, nc, cfg->enum_budget, e);
        t_exact += ub_now() - te;
    }
    free(cands);
    double t2 = ub_now();
    r->t_phase[EV_T_CANDIDATES] = t2 - t1 - t_exact;
    r->t_phase[EV_T_EXACT] = t_exact;
    if (!st)
        st = ev_extract_secrets(r->extracted, r->extracted_beam, cfg->beam_width, ms, nm, ss, e);
    double t3 = ub_now();
    r->t_phase[EV_T_EXTRACT] = t3 - t2;
    if (!st) st = ev_score_knowledge(r, ms, nm, ps, e);
    r->t_phase[EV_T_PROBES] = ub_now() - t3;
    return st;
}
