/* bench/eval/score.c: per-post scores of a model, the raw material of every metric: the
 * model's per-token scores (gpt_score_tokens) summed up post by post. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "score.h"

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

ub_status ub_score_posts(gpt_model *m, const gpt_ref_dists *ref, const ul_posts *p,
                         double mink_k, ub_post_scores *out, ub_err *e) {
    return ub_score_posts_ens(&m, 1, ref, p, mink_k, out, e);
}

ub_status ub_score_posts_ens(gpt_model **ms, int nm, const gpt_ref_dists *ref,
                             const ul_posts *p, double mink_k, ub_post_scores *out, ub_err *e) {
    memset(out, 0, sizeof *out);
    gpt_seqs q = {p->ids, p->off, p->n};
    gpt_token_scores t;
    ub_status st = gpt_score_tokens(ms, nm, ref, &q, &t, e);
    if (st) return st;
    out->n = p->n;
    out->loss = ub_calloc(p->n + 1, sizeof(double), "post scores", e);
    out->ntok = ub_calloc(p->n + 1, sizeof(int32_t), "post scores", e);
    out->mink = ub_calloc(p->n + 1, sizeof(double), "post scores", e);
    out->minkpp = ub_calloc(p->n + 1, sizeof(double), "post scores", e);
    out->kl = ub_calloc(p->n + 1, sizeof(double), "post scores", e);
    out->em = ub_calloc(p->n + 1, sizeof(double), "post scores", e);
    out->es = ub_calloc(p->n + 1, sizeof(double), "post scores", e);
    st = out->loss && out->ntok && out->mink && out->minkpp && out->kl && out->em && out->es
             ? UB_OK
             : UB_ENOMEM;
    for (size_t i = 0; !st && i < p->n; i++) {
        size_t a = p->off[i] + 1, len = p->off[i + 1] - p->off[i];
        size_t n = len > 0 ? len - 1 : 0;
        double sum = 0, skl = 0;
        size_t hits = 0, k = 0; /* k: one past the last miss */
        for (size_t j = 0; j < n; j++) {
            sum -= t.logp[a + j];
            if (ref) skl += t.kl[a + j];
            hits += t.hit[a + j];
            if (!t.hit[a + j]) k = j + 1;
        }
        out->em[i] = n ? (double)hits / (double)n : NAN;
        out->es[i] = n ? 1.0 - (double)k / (double)n : NAN;
        out->loss[i] = sum;
        out->ntok[i] = (int32_t)n;
        out->mink[i] = n ? mt_mink(t.logp + a, n, mink_k) : NAN;
        out->minkpp[i] = n ? mt_minkpp(t.logp + a, t.mu + a, t.sd + a, n, mink_k) : NAN;
        out->kl[i] = ref && n ? skl / (double)n : NAN;
    }
    gpt_token_scores_free(&t);
    if (st) ub_post_scores_free(out);
    return st;
}
