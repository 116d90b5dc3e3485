/* bench/report/verdict.c: the plain-language verdict that opens report.md (and so RESULTS.md),
 * generated from results.h5 alone: is F still detectable after deletion from the corpus only,
 * by how much against retraining, which other answers to the deletion cannot be told from
 * retraining at what utility cost, and what this run cannot detect. Every sentence is chosen
 * by the intervals: a claim is made only where the paired 95% CI supports it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "report_private.h"

/* The attacks the verdict reads, each with the direction in which "more stays in". */
static const struct {
    const char *metric, *what;
} attacks[] = {
    {"auc_loss", "the LOSS attack's AUC on F's posts"},
    {"auc_ref", "the reference attack's AUC on F's posts"},
    {"tpr_at_1pct_fpr_lira", "LiRA's TPR at 1% FPR on F's posts (shadow models)"},
    {"auc_user_ref", "user inference from fresh posts (AUC)"},
    {"exposure_rank_16", "exposure of secrets posted 16 times (bits)"},
    {"es_forget", "extraction strength on F's posts"},
};
enum { N_ATTACKS = sizeof attacks / sizeof attacks[0] };

/* Paired difference m - b of metric name into *c: 1 when its 95% interval lies above 0, -1
 * below, 0 when it includes 0, -2 when there is no interval. */
static int compare(const res_file *r, int m, int b, const char *name, rp_ci *c) {
    int k = res_metric(r, name);
    c->mean = c->lo = c->hi = c->p = NAN;
    if (k < 0 || m < 0 || b < 0) return -2;
    int n = rp_diff(r, m, b, k, c);
    if (n < 1 || !isfinite(c->lo) || !isfinite(c->hi)) return -2;
    return c->lo > 0 ? 1 : c->hi < 0 ? -1 : 0;
}

/* Attack a counts for a claim in this run: a per-insertion-count exposure only where F holds
 * enough secrets of that count per seed (RP_MIN_SECRETS_CLAIM). */
static int claimable(const res_file *r, int a) {
    if (strncmp(attacks[a].metric, "exposure_rank_", 14)) return 1;
    return rp_secrets_inserted(r, atoll(attacks[a].metric + 14)) >= RP_MIN_SECRETS_CLAIM;
}

/* Rows the verdict does not judge as answers to the deletion: the references, and the attack
 * variants (NAME@qB, a model rounded by the quantization attack: the report's own section). */
static int not_an_answer(const char *name) {
    return !strcmp(name, "original") || !strcmp(name, "retrain") || !strcmp(name, "retrain_ref") ||
           !strcmp(name, "sisa_full") || strchr(name, '@');
}

void rp_verdict(FILE *o, const res_file *r) {
    int ko = res_metric(r, "auc_loss") >= 0 ? res_model(r, "original") : -1;
    int kr = res_model(r, "retrain");
    fprintf(o, "## Verdict\n\n");
    if (ko < 0 || kr < 0 || r->S < 2) {
        fprintf(o, "No verdict: it needs `original`, `retrain` and at least 2 seeds (this run "
                   "has %d).\n\n", r->S);
        return;
    }
    /* 1. deletion from the corpus alone: the primary test, one comparison fixed in advance */
    int kauc = res_metric(r, "auc_loss");
    rp_ci co, cr, d;
    rp_stat(r, ko, kauc, &co);
    rp_stat(r, kr, kauc, &cr);
    int c = compare(r, ko, kr, "auc_loss", &d);
    fprintf(o, "**Deletion from the corpus alone:** ");
    if (c == 1)
        fprintf(o, "F's influence stays in the deployed model. The LOSS attack tells F's posts "
                   "from non-members' better in `original` (AUC %.3f [%.3f, %.3f]) than after "
                   "retraining without F (%.3f [%.3f, %.3f]): paired difference %+.3f [%+.3f, "
                   "%+.3f] over %d seeds (95%% intervals).",
                co.mean, co.lo, co.hi, cr.mean, cr.lo, cr.hi, d.mean, d.lo, d.hi, r->S);
    else
        fprintf(o, "this run does not show F to be more detectable in the deployed model than "
                   "after retraining on the LOSS attack (AUC %.3f against %.3f, paired "
                   "difference %+.3f [%+.3f, %+.3f] over %d seeds).",
                co.mean, cr.mean, d.mean, d.lo, d.hi, r->S);
    int more = 0;
    for (int a = 1; a < N_ATTACKS; a++) {
        rp_ci da;
        if (!claimable(r, a) || compare(r, ko, kr, attacks[a].metric, &da) != 1) continue;
        fprintf(o, "%s %s (%+.3f [%+.3f, %+.3f])", more ? "," : " Also above retraining:",
                attacks[a].what, da.mean, da.lo, da.hi);
        more = 1;
    }
    fprintf(o, "%s\n\n", more ? "." : "");
    /* 2. every other answer to the deletion against retraining, attack by attack: many tests,
     * so a claim needs its Holm-adjusted p-value (over all of them) at 0.05 */
    size_t nt = (size_t)r->M * N_ATTACKS;
    rp_ci *t = calloc(nt + 1, sizeof *t);
    double *p = calloc(nt + 1, sizeof *p), *adj = calloc(nt + 1, sizeof *adj);
    ub_err e = {0};
    size_t ntest = 0;
    for (int m = 0; t && p && m < r->M; m++)
        for (int a = 0; a < N_ATTACKS; a++) {
            size_t i = (size_t)m * N_ATTACKS + a;
            p[i] = NAN;
            if (not_an_answer(r->model[m]) || !claimable(r, a) ||
                compare(r, m, kr, attacks[a].metric, &t[i]) == -2)
                continue;
            p[i] = t[i].p;
            ntest += isfinite(p[i]);
        }
    if (!t || !p || !adj || mt_holm_adjust(p, nt, adj, &e)) {
        fprintf(o, "(out of memory: the rest of the verdict is left out)\n\n");
        free(t), free(p), free(adj);
        return;
    }
    int kp = res_metric(r, "ppl_retain_rel");
    fprintf(o, "**Other answers to the deletion, against exact retraining** (a model is said to "
               "keep more of F under an attack when its paired difference to `retrain` is "
               "positive and survives the Holm-Bonferroni correction over all %zu such tests at "
               "family-wise level 0.05; utility = perplexity on retained posts relative to "
               "`original`):\n\n", ntest);
    for (int m = 0; m < r->M; m++) {
        if (not_an_answer(r->model[m])) continue;
        char still[512] = "", same[512] = "";
        size_t ns = 0, nm = 0;
        int any = 0;
        for (int a = 0; a < N_ATTACKS; a++) {
            size_t i = (size_t)m * N_ATTACKS + a;
            if (!isfinite(adj[i])) continue;
            any = 1;
            int sig = adj[i] <= 0.05;
            if (sig && t[i].mean > 0 && ns < sizeof still)
                ns += (size_t)snprintf(still + ns, sizeof still - ns, "%s%s (%+.3f [%+.3f, %+.3f])",
                                       ns ? ", " : "", attacks[a].metric, t[i].mean, t[i].lo,
                                       t[i].hi);
            else if (nm < sizeof same)
                nm += (size_t)snprintf(same + nm, sizeof same - nm, "%s%s%s", nm ? ", " : "",
                                       attacks[a].metric, sig ? " (below retrain)" : "");
        }
        if (!any) continue;
        fprintf(o, "- `%s`: ", r->model[m]);
        if (ns) fprintf(o, "keeps more of F than retraining on %s", still);
        else fprintf(o, "not distinguishable from retraining on any of these attacks");
        if (ns && nm) fprintf(o, "; not distinguishable on %s", same);
        rp_ci u;
        if (kp >= 0 && rp_stat(r, m, kp, &u) >= 2 && isfinite(u.lo))
            fprintf(o, ". Utility: perplexity %.3f [%.3f, %.3f] x the original's", u.mean, u.lo,
                    u.hi);
        fprintf(o, ".\n");
    }
    free(t), free(p), free(adj);
    /* 3. the limits, from what the run rests on */
    fprintf(o, "\n**What this run cannot detect:** differences smaller than the intervals "
               "above: with %d seeds, %.0f posts of F (%.0f users) and %.0f non-member posts "
               "per seed, ",
            r->S, r->n_set[S_F], r->n_users_f, r->n_set[S_N]);
    if (isfinite(d.lo))
        fprintf(o, "a change of the LOSS AUC smaller than about %.3f (half the width of the "
                   "paired interval above) is not resolved; ", 0.5 * (d.hi - d.lo));
    fprintf(o, "'not distinguishable' is absence of evidence, not proof of forgetting. ");
    if (r->n_set[S_N] * 0.001 < 1)
        fprintf(o, "TPR at 0.1%% FPR is not resolved with %.0f non-member posts. ", r->n_set[S_N]);
    for (int a = 0; a < N_ATTACKS; a++)
        if (!claimable(r, a))
            fprintf(o, "Exposure of secrets posted %s times: F holds about %.1f such secrets per "
                       "seed here, fewer than the %.0f per seed a claim per insertion count "
                       "needs, so the verdict makes none (the tables show the figures with "
                       "their counts; in the paper preset every user holds a secret, and its F of 10%% "
                       "holds about 33 per count). ",
                    attacks[a].metric + 14, rp_secrets_inserted(r, atoll(attacks[a].metric + 14)),
                    RP_MIN_SECRETS_CLAIM);
    fprintf(o, "A sampled secret counts as exposed 'at least' log2(%lld + 1) = %.1f bits when "
               "it beats every candidate. These are small models on a synthetic corpus: the "
               "verdict is about this setting, measured; how large the effect is on a deployed "
               "production model is not measured here.\n\n",
            (long long)r->candidates, log2((double)r->candidates + 1.0));
}
