/* bench/eval/score_model.c: one model's (or ensemble's) scores on a seed's scenario: every
 * scored post set, F's secrets among their candidates, the knowledge probes. */
#include <stdlib.h>

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
    free(r->exp_censored);
    free(r->extracted_beam);
    free(r->probe_logp), free(r->probe_cal), free(r->probe_rank), free(r->probe_rank_cal);
}

ub_status ev_score_model(model_result *r, gpt_model **ms, int nm, gpt_model *ref,
                         const run_corpus *rc, const run_scenario *sc, const secret_set *ss,
                         const probe_set *ps, const ub_score_cfg *cfg, ub_err *e) {
    ub_status st = UB_OK;
    for (int k = 0; !st && k < N_SCORED; k++) {
        const run_set *set = &sc->set[ev_scored_set[k]];
        /* KL to retrain is reported on F and on retained posts only: the reference's forward
         * passes are skipped on the other sets */
        gpt_model *kref = k == S_F || k == S_R ? ref : NULL;
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
    size_t n = ss->n, nc = (size_t)ss->n_cand;
    r->exp_rank = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->exp_sn = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->secret_loss = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->exp_censored = ub_calloc(n + 1, sizeof(double), "exposure", e);
    r->extracted = ub_calloc(n + 1, sizeof(double), "extraction", e);
    r->extracted_beam = ub_calloc(n + 1, sizeof(double), "extraction", e);
    double *cand = ub_calloc(nc + 1, sizeof(double), "exposure", e);
    if (!st && (!r->exp_rank || !r->exp_sn || !r->secret_loss || !r->exp_censored || !r->extracted ||
                !r->extracted_beam || !cand))
        st = UB_ENOMEM;
    for (size_t i = 0; !st && i < n; i++) {
        gpt_seqs values = {ss->ids[i], ss->off[i], nc + 1};
        st = gpt_score_continuations(ms, nm, ss->ctx[i], ss->n_ctx[i], &values, cand, e);
        if (st) break;
        const corpus_secret *s = &rc->c.secrets[ss->secret[i]];
        r->secret_loss[i] = cand[0];
        int cens = 0;
        r->exp_rank[i] = mt_exposure_rank(cand[0], cand + 1, nc, s->log2_space, &cens);
        r->exp_censored[i] = cens;
        /* the fit extrapolates the tail; no secret is more exposed than its space allows
         * (NaN, a failed fit, stays NaN) */
        double sn = mt_exposure_skewnorm(cand[0], cand + 1, nc);
        r->exp_sn[i] = sn > s->log2_space ? s->log2_space : sn;
    }
    free(cand);
    if (!st)
        st = ev_extract_secrets(r->extracted, r->extracted_beam, cfg->beam_width, ms, nm, ss, e);
    if (!st) st = ev_score_knowledge(r, ms, nm, ps, e);
    return st;
}
