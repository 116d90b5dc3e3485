/* bench/report/report_lira.c: LiRA with the seed's shadow models (Carlini et al. 2022), when
 * the run has them (`--shadows K`): every model's LiRA AUC and TPR at low FPR beside the LOSS
 * attack's on the same posts, and original - retrain. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_private.h"

void rp_lira(FILE *o, const res_file *r) {
    int kl = res_metric(r, "auc_lira"), ko = res_model(r, "original"), kr = res_model(r, "retrain");
    const char *at = strstr(r->config, "\nshadows = ");
    rp_ci c;
    if (kl < 0 || ko < 0 || !at || rp_stat(r, ko, kl, &c) < 1) return;
    int K = atoi(at + 11);
    fprintf(o, "\n### LiRA: the attack calibrated by shadow models\n\n"
               "Per seed, %d shadow models trained with the original's recipe, each on half of a "
               "pool of F's users and the scored non-members (every pool user in exactly %d of "
               "them; `seed_*/shadows/member` in results.h5) plus retained members up to the "
               "original's number of users. Per post, LiRA compares the model's logit-scaled mean "
               "token probability with Gaussians of the shadows that trained on the post's user "
               "(in) and that did not (out); the sds are pooled over the posts (the paper's "
               "global variance, for so few shadows). With %d shadows per seed, each post's "
               "means rest on %d models per side; a post-level test at the paper's fidelity "
               "would rest on more (Carlini et al. train up to 256; the paper preset trains 64).\n\n",
            K, K / 2, K, K / 2);
    static const char *const cols[] = {"auc_loss", "tpr_at_1pct_fpr", "auc_lira",
                                       "tpr_at_1pct_fpr_lira", "tpr_at_0.1pct_fpr_lira",
                                       "auc_lira_offline", "tpr_at_1pct_fpr_lira_offline",
                                       "auc_user_lira"};
    static const char *const heads[] = {"AUC (LOSS)", "TPR@1% (LOSS)", "AUC (LiRA online)",
                                        "TPR@1% (LiRA)", "TPR@0.1% (LiRA)", "AUC (LiRA offline)",
                                        "TPR@1% (LiRA offline)", "user AUC (LiRA)"};
    enum { NC = sizeof cols / sizeof cols[0] };
    fprintf(o, "| model |");
    for (int j = 0; j < NC; j++) fprintf(o, " %s |", heads[j]);
    fprintf(o, "\n|---|");
    for (int j = 0; j < NC; j++) fprintf(o, "---|");
    fprintf(o, "\n");
    for (int m = 0; m < r->M; m++) {
        fprintf(o, "| %s |", r->model[m]);
        for (int j = 0; j < NC; j++) {
            char b[96];
            fprintf(o, " %s |", rp_fmt_mean(r, m, res_metric(r, cols[j]), 3, b, sizeof b));
        }
        fprintf(o, "\n");
    }
    fprintf(o, "\n");
    static const char *const diff[] = {"auc_lira", "tpr_at_1pct_fpr_lira", "tpr_at_1pct_fpr"};
    for (int j = 0; kr >= 0 && j < 3; j++) {
        rp_ci d;
        int k = res_metric(r, diff[j]);
        if (k < 0 || rp_diff(r, ko, kr, k, &d) < 1) continue;
        char b[96];
        fprintf(o, "- %s: original - retrain = %s.\n", diff[j], rp_fmt_ci(&d, 3, b, sizeof b));
    }
    fprintf(o, "- TPR at 1%% FPR rests on %.0f non-member posts per seed (the threshold may pass "
               "%ld of them); TPR at 0.1%% needs 1000.\n\n",
            r->n_set[S_N], (long)floor(0.01 * r->n_set[S_N] + 1e-9));
}
