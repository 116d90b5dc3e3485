/* bench/report/verdict.c: the plain-language verdict that opens report.md (and so RESULTS.md),
 * generated from results.h5 alone: is F still detectable after deletion from the corpus only,
 * by how much against retraining, which other answers to the deletion cannot be told from
 * retraining at what utility cost, and what this run cannot detect. Every sentence is chosen
 * by the intervals: a claim is made only where the paired 95% CI supports it. */
#include <math.h>
#include <string.h>

#include "report_private.h"

/* The attacks the verdict reads, each with the direction in which "more stays in". */
static const struct {
    const char *metric, *what;
} attacks[] = {
    {"auc_loss", "the LOSS attack's AUC on F's posts"},
    {"auc_ref", "the reference attack's AUC on F's posts"},
    {"auc_user_ref", "user inference from fresh posts (AUC)"},
    {"exposure_rank_16", "exposure of secrets posted 16 times (bits)"},
    {"es_forget", "extraction strength on F's posts"},
};
enum { N_ATTACKS = sizeof attacks / sizeof attacks[0] };

/* Paired difference m - b of metric name: 1 when the 95% CI is above 0, -1 below, 0 when it
 * includes 0, -2 when there is no interval (fewer than 2 seeds or no value). */
static int compare(const res_file *r, int m, int b, const char *name, double *d, double *h) {
    int k = res_metric(r, name);
    *d = *h = NAN;
    if (k < 0 || m < 0 || b < 0) return -2;
    int n = rp_diff(r, m, b, k, d, h);
    if (n < 2 || !isfinite(*d) || !isfinite(*h)) return -2;
    return *d - *h > 0 ? 1 : *d + *h < 0 ? -1 : 0;
}

static int is_reference_model(const char *name) {
    return !strcmp(name, "original") || !strcmp(name, "retrain") || !strcmp(name, "retrain_ref") ||
           !strcmp(name, "sisa_full");
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
    /* 1. deletion from the corpus alone */
    double d, h, mo, ho, mr, hr;
    int kauc = res_metric(r, "auc_loss");
    rp_stat(r, ko, kauc, &mo, &ho);
    rp_stat(r, kr, kauc, &mr, &hr);
    int c = compare(r, ko, kr, "auc_loss", &d, &h);
    fprintf(o, "**Deletion from the corpus alone:** ");
    if (c == 1)
        fprintf(o, "F's influence stays in the deployed model. The LOSS attack tells F's posts "
                   "from non-members' better in `original` (AUC %.3f ± %.3f) than after "
                   "retraining without F (%.3f ± %.3f): paired difference %+.3f ± %.3f over %d "
                   "seeds (95%% CI).",
                mo, ho, mr, hr, d, h, r->S);
    else
        fprintf(o, "this run does not show F to be more detectable in the deployed model than "
                   "after retraining on the LOSS attack (AUC %.3f ± %.3f against %.3f ± %.3f, "
                   "paired difference %+.3f ± %.3f over %d seeds).",
                mo, ho, mr, hr, d, h, r->S);
    int more = 0;
    for (int a = 1; a < N_ATTACKS; a++) {
        double da, ha;
        if (compare(r, ko, kr, attacks[a].metric, &da, &ha) != 1) continue;
        fprintf(o, "%s %s (%+.3f ± %.3f)", more ? "," : " Also above retraining:",
                attacks[a].what, da, ha);
        more = 1;
    }
    fprintf(o, "%s\n\n", more ? "." : "");
    /* 2. every other answer to the deletion against retraining, attack by attack */
    int kp = res_metric(r, "ppl_retain_rel");
    fprintf(o, "**Other answers to the deletion, against exact retraining** (a model is named "
               "under an attack when its paired 95%% CI against `retrain` excludes 0; "
               "utility = perplexity on retained posts relative to `original`):\n\n");
    for (int m = 0; m < r->M; m++) {
        if (is_reference_model(r->model[m])) continue;
        char still[512] = "", same[512] = "";
        size_t ns = 0, nm = 0;
        int any = 0;
        for (int a = 0; a < N_ATTACKS; a++) {
            double da, ha;
            int cm = compare(r, m, kr, attacks[a].metric, &da, &ha);
            if (cm == -2) continue;
            any = 1;
            if (cm == 1 && ns < sizeof still)
                ns += (size_t)snprintf(still + ns, sizeof still - ns, "%s%s (%+.3f ± %.3f)",
                                       ns ? ", " : "", attacks[a].metric, da, ha);
            else if (cm != 1 && nm < sizeof same)
                nm += (size_t)snprintf(same + nm, sizeof same - nm, "%s%s%s", nm ? ", " : "",
                                       attacks[a].metric, cm == -1 ? " (below retrain)" : "");
        }
        if (!any) continue;
        fprintf(o, "- `%s`: ", r->model[m]);
        if (ns) fprintf(o, "more of F stays in than after retraining on %s", still);
        else fprintf(o, "not distinguishable from retraining on any of these attacks");
        if (ns && nm) fprintf(o, "; not distinguishable on %s", same);
        double mp, hp;
        if (kp >= 0 && rp_stat(r, m, kp, &mp, &hp) >= 2)
            fprintf(o, ". Utility: perplexity %.3f ± %.3f x the original's", mp, hp);
        fprintf(o, ".\n");
    }
    /* 3. the limits, from what the run rests on */
    fprintf(o, "\n**What this run cannot detect:** differences smaller than the intervals "
               "above: with %d seeds, %.0f posts of F (%.0f users) and %.0f non-member posts "
               "per seed, ",
            r->S, r->n_set[S_F], r->n_users_f, r->n_set[S_N]);
    if (isfinite(h)) fprintf(o, "a change of the LOSS AUC smaller than about ±%.3f is not "
                                "resolved; ", h);
    fprintf(o, "'not distinguishable' is absence of evidence, not proof of forgetting. ");
    if (r->n_set[S_N] * 0.001 < 1)
        fprintf(o, "TPR at 0.1%% FPR is not resolved with %.0f non-member posts. ", r->n_set[S_N]);
    fprintf(o, "A secret counts as exposed 'at least' log2(%lld + 1) = %.1f bits when it "
               "beats every sampled candidate. These are small models on a synthetic corpus: "
               "the verdict is about this setting, measured; how large the effect is on a "
               "deployed production model is not measured here.\n\n",
            (long long)r->candidates, log2((double)r->candidates + 1.0));
}
