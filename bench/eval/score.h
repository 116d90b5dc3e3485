/* bench/eval/score.h: per-post scores of a model (or of an ensemble whose next-token
 * probabilities are averaged), the raw material of every metric. The per-token scores,
 * continuation losses and decoding they build on are the model's: gpt_score_tokens,
 * gpt_score_continuations, gpt_greedy, gpt_beam (models/gpt.h). */
#ifndef UB_SCORE_H
#define UB_SCORE_H

#include "gpt.h"
#include "methods.h"

/* Per-post scores of a model on a set of posts (sliding windows of n_ctx with stride n_ctx/2:
 * every target token is scored once, with at least n_ctx/2 tokens of context after the first
 * window). With ref != NULL (the reference's distributions on the same posts,
 * gpt_ref_dists_build), also the mean KL(p_ref || p_model) per scored token. */
typedef struct ub_post_scores {
    size_t n;
    double *loss;   /* (n) summed loss of the post's scored tokens, nats */
    int32_t *ntok;  /* (n) scored tokens */
    double *mink;   /* (n) Min-K% Prob (mean of the lowest k of log p) */
    double *minkpp; /* (n) Min-K%++ */
    double *kl;     /* (n) mean KL to ref per token, or NaN */
    double *em;     /* (n) exact memorisation: share of scored tokens that are the model's
                     * top-1 prediction given the true prefix (teacher forcing) */
    double *es;     /* (n) extraction strength: 1 - k/n for the smallest k such that greedy
                     * decoding from the first k scored tokens reproduces the rest exactly */
} ub_post_scores;
ub_status ub_score_posts(gpt_model *m, const gpt_ref_dists *ref, const ul_posts *p,
                         double mink_k, ub_post_scores *out, ub_err *e);
/* The same for an ensemble of nm models whose next-token probabilities are averaged (SISA). */
ub_status ub_score_posts_ens(gpt_model **ms, int nm, const gpt_ref_dists *ref,
                             const ul_posts *p, double mink_k, ub_post_scores *out, ub_err *e);
void ub_post_scores_free(ub_post_scores *s);

#endif
