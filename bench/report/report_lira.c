/* bench/report/report_lira.c: LiRA with the seed's shadow models (Carlini et al. 2022), when
 * the run has them (`--shadows K`): every model's LiRA AUC and TPR at low FPR beside the LOSS
 * attack's on the same posts, and original - retrain. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_private.h"

void rp_lira(FILE *o, const res_file *r) {
    int kl = res_metric(r, "auc_lira"), ko = res_model(r, "original"), kr = res_model(r, "retrain");
    rp_ci c;
    if (kl < 0 || ko < 0 || r->shadows < 2 || rp_stat(r, ko, kl, &c) < 1) return;
    int K = (int)r->shadows, mi = (int)r->shadow_in;
    fprintf(o, "\n### LiRA: the attack calibrated by shadow models\n\n"
               "%d shadow models trained with the original's recipe, each on the posts of a share "
               "of every user the policy admits (each user in exactly %d of them, the count nearest "
               "to the members' share; `seed_*/shadows/member` in results.h5), so a shadow has "
               "about as many users as the original (as near as K allows). They do not depend on the seed: trained once, scored in every "
               "seed. Per post, LiRA compares the model's logit-scaled mean token probability with "
               "Gaussians of the shadows that trained on the post's user (in, %d models) and that "
               "did not (out, %d); the sds are pooled over the posts (the paper's global variance, "
               "for so few shadows). A post-level test at the paper's fidelity would rest on more "
               "models (Carlini et al. train up to 256; the paper preset trains 64).\n\n",
            K, mi, mi, K - mi);
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
    /* the attacks on the same posts of the same model: LiRA against LOSS and reference */
    static const char *const vs[][3] = {
        {"tpr_at_1pct_fpr_lira", "tpr_at_1pct_fpr", "TPR at 1% FPR, LiRA - LOSS"},
        {"auc_lira", "auc_loss", "AUC, LiRA - LOSS"},
        {"tpr_at_1pct_fpr_lira", "tpr_at_1pct_fpr_ref", "TPR at 1% FPR, LiRA - reference"}};
    for (int j = 0; j < 3; j++) {
        rp_ci d;
        if (rp_diff_metrics(r, ko, res_metric(r, vs[j][0]), res_metric(r, vs[j][1]), &d) < 1)
            continue;
        char b[96];
        fprintf(o, "- original, %s on the same posts = %s.\n", vs[j][2], rp_fmt_ci(&d, 3, b, sizeof b));
    }
    fprintf(o, "- TPR at 1%% FPR rests on %.0f non-member posts per seed (the threshold may pass "
               "%ld of them); TPR at 0.1%% needs 1000.\n\n",
            r->n_set[S_N], (long)floor(0.01 * r->n_set[S_N] + 1e-9));
}

/* U-LiRA and the per-user epsilon (`--ulira`): per method, can its output be told from
 * retraining, user by user, with K shadows per seed; Holm over the methods. */
void rp_ulira(FILE *o, const res_file *r) {
    int ka = res_metric(r, "ulira_auc"), kc = res_metric(r, "ulira_acc");
    int ke = res_metric(r, "eps_user_mean"), ks = res_metric(r, "eps_score");
    int kr = res_model(r, "retrain"), ko = res_model(r, "original");
    rp_ci c;
    if (ka < 0 || kc < 0 || ke < 0 || ks < 0 || kr < 0 || ko < 0 || r->shadows < 4 ||
        rp_stat(r, ko, ka, &c) < 1)
        return;
    int K = (int)r->shadows, mi = (int)r->shadow_in, mx = mi > K - mi ? mi : K - mi;
    fprintf(o, "\n### U-LiRA and the per-user epsilon: can each method's output be told from "
               "retraining?\n\n"
               "Each method is applied to each of the %d shadow models with the shadow's "
               "own users of the seed's F as its forget set (topped up to |F| with other users it "
               "trained on), so every user of F has %d unlearned and %d never-trained models "
               "(Hayes et al. 2024). Per user and model, the mean logit-scaled score of the "
               "user's posts; U-LiRA scores each model's sample against Gaussians of the user's "
               "other models (leave-one-out) and reports the AUC and accuracy of unlearned vs "
               "never trained over %.0f users of F per seed (0.5: indistinguishable). The "
               "per-user epsilon is the NeurIPS 2023 challenge's: the best threshold test at "
               "delta 1e-5 between the user's %d and %d scores, and the score averages 2 / 2^n "
               "over the users' bins of width 0.5. With %d models on the larger side no epsilon above "
               "log(%d) = %.2f can be resolved, and chance alone gives the `retrain` row (the "
               "design with exchangeable scores, simulated): compare methods with it, not with 0. "
               "`original` is the ceiling (its shadows not unlearned at all). U-LiRA asks whether "
               "a model could have come from retraining, not whether F's users in particular are "
               "remembered: a method that moves the whole model (even `finetune`, which never "
               "sees F) is told apart from retrained models. The leave-one-out fit is biased "
               "below 0.5 with few models per side, which the chance row shows. Per-user epsilons: "
               "`seed_*/models/NAME/eps_user` in results.h5.\n\n",
            K, mi, K - mi, r->n_users_f, mi, K - mi, mx, mx, log((double)mx));
    fprintf(o, "| model | U-LiRA AUC | U-LiRA accuracy | mean epsilon | challenge score | AUC - "
               "retrain (chance) | Holm | epsilon - retrain (chance) |\n"
               "|---|---|---|---|---|---|---|---|\n");
    /* Holm over the methods' AUC differences (original and retrain excluded) */
    enum { MAXM = 128 };
    int ms[MAXM], nm = 0;
    double p[MAXM], adj[MAXM];
    rp_ci d[MAXM], de[MAXM];
    for (int m = 0; m < r->M && nm < MAXM; m++) {
        if (m == kr || strchr(r->model[m], '@') || rp_stat(r, m, ka, &c) < 1 || !isfinite(c.mean))
            continue;
        ms[nm] = m;
        if (rp_diff(r, m, kr, ka, &d[nm]) < 1) d[nm].p = NAN;
        if (rp_diff(r, m, kr, ke, &de[nm]) < 1) de[nm].lo = de[nm].hi = de[nm].mean = NAN;
        p[nm] = m == ko ? NAN : d[nm].p;
        nm++;
    }
    int ord[MAXM], nt = 0;
    for (int i = 0; i < nm; i++)
        if (isfinite(p[i])) ord[nt++] = i;
    for (int i = 1; i < nt; i++) /* by p, ascending */
        for (int j = i; j > 0 && p[ord[j]] < p[ord[j - 1]]; j--) {
            int t = ord[j];
            ord[j] = ord[j - 1], ord[j - 1] = t;
        }
    double run = 0;
    for (int i = 0; i < nm; i++) adj[i] = NAN;
    for (int i = 0; i < nt; i++) {
        double a = fmin(1.0, (double)(nt - i) * p[ord[i]]);
        run = fmax(run, a);
        adj[ord[i]] = run;
    }
    char b1[96], b2[96], b3[96], b4[96], b5[96], b6[96];
    for (int i = 0; i < nm; i++) {
        int m = ms[i];
        int sig = isfinite(adj[i]) && adj[i] < 0.05;
        char h[64] = "n/a";
        if (isfinite(adj[i])) snprintf(h, sizeof h, "%s%.3g%s", sig ? "**" : "", adj[i], sig ? "**" : "");
        fprintf(o, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r->model[m],
                rp_fmt_mean(r, m, ka, 3, b1, sizeof b1), rp_fmt_mean(r, m, kc, 3, b2, sizeof b2),
                rp_fmt_mean(r, m, ke, 2, b3, sizeof b3), rp_fmt_mean(r, m, ks, 3, b4, sizeof b4),
                isfinite(d[i].p) || m == ko ? rp_fmt_ci(&d[i], 3, b5, sizeof b5) : "n/a", h,
                rp_fmt_ci(&de[i], 2, b6, sizeof b6));
    }
    /* the chance row is a property of the design, simulated: its mean without an interval */
    double cv[4];
    const int kk[4] = {ka, kc, ke, ks};
    for (int j = 0; j < 4; j++) cv[j] = rp_stat(r, kr, kk[j], &c) >= 1 ? c.mean : NAN;
    fprintf(o, "| retrain (chance) | %.3f | %.3f | %.2f | %.3f | | | |\n\n", cv[0], cv[1], cv[2],
            cv[3]);
    int any = 0;
    for (int i = 0; i < nm; i++) {
        if (ms[i] == ko || !(adj[i] < 0.05) || !(d[i].mean > 0)) continue;
        fprintf(o, "%s `%s`", any ? "," : "- Told from retraining by U-LiRA (AUC above chance, "
                "Holm-adjusted p < 0.05):", r->model[ms[i]]);
        any = 1;
    }
    if (any) fprintf(o, ".\n");
    fprintf(o, "- Not told apart at this K is not the same as removed: %d and %d models per side "
               "and %.0f users resolve AUC differences of about the intervals' width, no finer.\n\n",
            mi, K - mi, r->n_users_f);
}
