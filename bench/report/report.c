/* bench/report/report.c: report.md from results.h5 alone (`unlearnbench report DIR`). Every
 * figure is a mean over seeds with a 95% interval (report/report_stats.c: the hierarchical user
 * bootstrap for post-level metrics); "differs from retrain" claims only what survives Holm's
 * correction over the whole table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "report_private.h"

static void cell(FILE *o, const res_file *r, int m, int k, int prec) {
    char b[128];
    fprintf(o, " %s |", rp_fmt_mean(r, m, k, prec, b, sizeof b));
}

/* A table of models ms[0..n) (ms NULL: the first n) against the metrics cols. */
static void table(FILE *o, const res_file *r, const int *ms, int n, const char *const *cols,
                  const char *const *heads, const int *prec, int nc) {
    fprintf(o, "| model |");
    for (int c = 0; c < nc; c++) fprintf(o, " %s |", heads[c]);
    fprintf(o, "\n|---|");
    for (int c = 0; c < nc; c++) fprintf(o, "---|");
    fprintf(o, "\n");
    for (int i = 0; i < n; i++) {
        int m = ms ? ms[i] : i;
        if (m < 0) continue;
        fprintf(o, "| %s |", r->model[m]);
        for (int c = 0; c < nc; c++) cell(o, r, m, res_metric(r, cols[c]), prec[c]);
        fprintf(o, "\n");
    }
    fprintf(o, "\n");
}

/* What a TPR at this FPR rests on with n non-member posts: the threshold may pass at most
 * floor(fpr n) of them, so a handful of posts decide it. */
static const char *fpr_note(double n, double fpr, char *buf, size_t cap) {
    long k = (long)floor(fpr * n + 1e-9);
    if (k == 0)
        snprintf(buf, cap, "not resolved with %.0f non-member posts (it is the TPR at zero false "
                 "positives: read it as a bound)", n);
    else if (k < 5)
        snprintf(buf, cap, "the threshold may pass only %ld of the %.0f non-member posts, so "
                 "that many posts decide it: read it as noisy (at least 500 posts give 5)", k, n);
    else
        snprintf(buf, cap, "resolved (the threshold may pass %ld of %.0f non-member posts)", k, n);
    return buf;
}


/* The table "distinguishable from retrain": every model's paired difference to retrain on the
 * attack metrics, one test each, Holm-Bonferroni over all tests of the table. */
static void distinguishable(FILE *o, const res_file *r, int kr) {
    enum { NATT = 11 };
    const char *att[NATT] = {"auc_loss", "auc_zlib", "auc_mink", "auc_minkpp", "auc_ref",
                             "auc_user_ref", "exposure_rank_16", "extracted_beam_16", "es_forget",
                             "know_rank_cal", "loss_forget"};
    size_t nc = (size_t)r->M * NATT;
    rp_ci *d = calloc(nc + 1, sizeof *d);
    double *p = calloc(nc + 1, sizeof(double)), *adj = calloc(nc + 1, sizeof(double));
    ub_err e = {0};
    size_t ntest = 0;
    int boot = 0;
    for (int m = 0; d && p && m < r->M; m++)
        for (int a = 0; a < NATT; a++) {
            size_t i = (size_t)m * NATT + a;
            int k = res_metric(r, att[a]);
            p[i] = NAN;
            if (m == kr || k < 0 || !rp_diff(r, m, kr, k, &d[i]) || !isfinite(d[i].lo)) continue;
            p[i] = d[i].p, ntest += isfinite(p[i]), boot |= d[i].how == RP_BOOT;
        }
    if (!d || !p || !adj || mt_holm_adjust(p, nc, adj, &e)) {
        fprintf(o, "(out of memory: table left out)\n\n");
        free(d), free(p), free(adj);
        return;
    }
    fprintf(o, "### Statistically distinguishable from `retrain`?\n\nPaired difference to "
               "`retrain` (%s) with its 95%% interval and p-value (%s); **yes** when the test "
               "survives the **Holm-Bonferroni correction over all %zu tests of this table** at "
               "family-wise level 0.05 (the p shown is Holm-adjusted; a 'no' may still have an "
               "interval that excludes 0: it did not survive the correction).\n\n| model |",
            boot ? "paired by seed and by the user draw" : "paired by seed",
            boot ? "hierarchical bootstrap, two-sided: twice the share of replicates on the "
                   "other side of 0" : "paired t over seeds",
            ntest);
    for (int a = 0; a < NATT; a++) fprintf(o, " %s |", att[a]);
    fprintf(o, "\n|---|");
    for (int a = 0; a < NATT; a++) fprintf(o, "---|");
    fprintf(o, "\n");
    for (int m = 0; m < r->M; m++) {
        if (m == kr) continue;
        fprintf(o, "| %s |", r->model[m]);
        for (int a = 0; a < NATT; a++) {
            size_t i = (size_t)m * NATT + a;
            if (!isfinite(adj[i])) fprintf(o, " n/a |");
            else fprintf(o, " %s (%+.3f [%+.3f, %+.3f], p %.2g) |",
                         adj[i] <= 0.05 ? "**yes**" : "no", d[i].mean, d[i].lo, d[i].hi, adj[i]);
        }
        fprintf(o, "\n");
    }
    free(d), free(p), free(adj);
}

/* "[lo, hi]" of metric k's range. */
static const char *range_of(const res_file *r, int k, char *buf, size_t cap) {
    double lo = r->lo ? r->lo[k] : -INFINITY, hi = r->hi ? r->hi[k] : INFINITY;
    char a[32], b[32];
    if (isfinite(lo)) snprintf(a, sizeof a, "%g", lo);
    else snprintf(a, sizeof a, "-inf");
    if (isfinite(hi)) snprintf(b, sizeof b, "%g", hi);
    else snprintf(b, sizeof b, "inf");
    snprintf(buf, cap, "[%s, %s]", a, b);
    return buf;
}

/* How the intervals are made, then every metric with its range and its kind of interval. */
static void glossary(FILE *o, const res_file *r) {
    fprintf(o, "## How the intervals are made\n\n");
    if (r->B > 0)
        fprintf(o, "- **Post-level metrics** (every metric computed from per-post, per-secret or "
                   "per-probe scores: AUCs, TPRs, losses, perplexities, KL, exposure, "
                   "extraction, knowledge, and the rows derived from them): within each seed, "
                   "`unlearnbench run` drew B = %d user resamples. Users are the unit (posts, "
                   "fresh posts, secrets and probes of one user are not independent): F's "
                   "users, the matched non-members and the retained users with scored posts "
                   "are each drawn with replacement, a drawn user brings all its posts, secrets "
                   "and probes (drawn twice, it counts as two users), and every metric of every "
                   "model is recomputed on the replicate; all models share the draw "
                   "(`seed_<s>/bootstrap` in results.h5, bench/FORMAT.md). The report then "
                   "makes %d outer replicates T = the mean over seeds of their replicate-b "
                   "values (one b for every seed, so with one split for all seeds the same "
                   "users are drawn in each) + a Student-t draw (S-1 degrees of freedom) times "
                   "sqrt(V/S), V the training noise: the seeds' variance with one split, else "
                   "the seeds' variance beyond the users' part (max(0, s^2 - mean replicate "
                   "variance)); each T is clipped to the metric's range, and the interval is "
                   "the 2.5%% and 97.5%% percentiles of T, so it stays inside the range. The "
                   "figure itself is the mean over seeds of the full-sample values. Coverage on "
                   "simulated clustered data (scripts/bootstrap_coverage.py, 3 or 5 seeds, 13 "
                   "users in F): 0.87-0.97 across designs and noise levels, where a Student t "
                   "over seeds covers 0.15-0.88 with one split for all seeds and a bootstrap "
                   "that resamples posts 0.38-0.89 there.\n", r->B, RP_BOOT_R);
    fprintf(o, "- **Costs and memory** (not functions of the users): Student t over seeds "
               "(n-1 degrees of freedom), clipped to the metric's range.%s\n",
            r->B > 0 ? "" : " In this file every interval is made so (no user-bootstrap "
                            "replicates).");
    fprintf(o, "- **Differences to `retrain`** are paired: by seed, and by the user draw "
               "(replicate b of both models comes from the same users). Their p-value is "
               "two-sided: twice the share of outer replicates on the far side of 0 (at least "
               "2/(R+1)), or the paired t-test over seeds without replicates. The "
               "distinguishability table applies Holm-Bonferroni over all its tests.\n");
    fprintf(o, "- **KS forget quality** (`ks_p`): a p-value is not averaged. The seeds' p-values "
               "(independent seeds) combine by Fisher's method, -2 sum log p ~ chi2 with 2S "
               "degrees of freedom. Each seed's KS test treats F's posts as independent, which "
               "posts of one user are not: read the figure as descriptive; `ks_d` gets the "
               "bootstrap interval.\n\n");
    fprintf(o, "## Every metric\n\n| metric | range | interval | definition |\n|---|---|---|---|\n");
    char rb[80];
    for (int k = 0; k < r->K; k++) {
        size_t len = strlen(r->metric[k]);
        const char *how = len > 2 && !strcmp(r->metric[k] + len - 2, "_p") ? "Fisher over seeds"
                          : r->B > 0 && r->resampled && r->resampled[k] ? "user bootstrap"
                                                                        : "t over seeds";
        fprintf(o, "| `%s` | %s | %s | %s |\n", r->metric[k], range_of(r, k, rb, sizeof rb),
                how, r->doc[k]);
    }
}

/* How much of SISA's low detectability is a weaker model rather than the deletion: its ensemble
 * before any deletion (sisa_full) against original, both measured against retrain. */
static void sisa_weakness(FILE *o, const res_file *r) {
    int ko = res_model(r, "original"), kr = res_model(r, "retrain");
    int kf = res_model(r, "sisa_full"), ks = res_model(r, "sisa");
    int ka = res_metric(r, "auc_loss"), kp = res_metric(r, "ppl_retain_rel");
    rp_ci dO, dF, dD, p;
    if (ko < 0 || kr < 0 || kf < 0 || ks < 0 || ka < 0 || kp < 0 ||
        rp_diff(r, ko, kr, ka, &dO) < 1 || rp_diff(r, kf, kr, ka, &dF) < 1 ||
        rp_diff(r, kf, ks, ka, &dD) < 1 || rp_stat(r, kf, kp, &p) < 1)
        return;
    char b1[96], b2[96], b3[96], b4[96];
    fprintf(o, "**SISA's low AUC is partly a weaker model.** Before any deletion, SISA's ensemble "
               "(`sisa_full`, trained on every member, F included) has a perplexity on retained "
               "posts of %s x the original's, and its LOSS AUC on F exceeds retrain's by %s, "
               "against %s for `original`",
            rp_fmt_ci(&p, 2, b1, sizeof b1), rp_fmt_ci(&dF, 3, b2, sizeof b2),
            rp_fmt_ci(&dO, 3, b3, sizeof b3));
    if (isfinite(dO.mean) && dO.mean > 0 && isfinite(dF.mean))
        fprintf(o, ": about %.0f%% of the deployed model's excess (means over seeds) is absent "
                   "before SISA deletes anything, because shard models that each see 1/S of the "
                   "data memorise less of everyone",
                100.0 * fmax(0.0, 1.0 - dF.mean / dO.mean));
    fprintf(o, ". The deletion itself (`sisa_full` - `sisa`) moves the AUC by %s. A fair "
               "comparison with the approximate methods weighs SISA's exactness against that "
               "utility and its S-fold inference cost.\n\n",
            rp_fmt_ci(&dD, 3, b4, sizeof b4));
}

static void write_report(FILE *o, const res_file *r, int has_plots) {
    const char *config = r->config;
    fprintf(o, "# unlearnbench report\n\n");
    rp_verdict(o, r);
    fprintf(o, "## How this was measured\n\n");
    const char *ss = strstr(config, "\nsplit-seed = ");
    unsigned long long split = ss ? strtoull(ss + 14, NULL, 10) : 0;
    char design[160];
    if (split)
        snprintf(design, sizeof design, "one split (split-seed %llu: the same F and non-members) for "
                 "every seed, so seeds vary the training only", split);
    else
        snprintf(design, sizeof design, "seeds vary both the users drawn into F and non-members and "
                 "the training seed");
    fprintf(o, "Generated by `unlearnbench report` from `results.h5` alone (unlearnbench %s, %lld "
               "threads). Every figure is the mean over **%d seeds** with its 95%% interval "
               "`[lo, hi]`; %s. ",
            r->version, (long long)r->threads, r->S, design);
    if (r->B > 0)
        fprintf(o, "For a metric of the scored posts, secrets or probes the interval is "
                   "two-level: the users resampled within each seed (%d user resamples per "
                   "seed, stratified: F, matched non-members, retained users), so posts of one "
                   "user count as one unit, plus the seeds' training noise as a Student t; costs "
                   "keep a Student-t "
                   "interval over seeds, clipped to the metric's range (how: \"How the intervals "
                   "are made\" at the end).%s\n\n", r->B,
                r->S < 2 ? " With one seed the interval covers the users only, not the "
                           "training's randomness: treat it as a lower bound on the uncertainty."
                         : "");
    else
        fprintf(o, "This file has no user-bootstrap replicates (`--bootstrap 0`, or written "
                   "before them): intervals are Student t over seeds (n-1 degrees of freedom), "
                   "clipped to each metric's range, and ignore that posts of one user are not "
                   "independent.%s\n\n",
                r->S < 2 ? " With one seed there are no intervals: treat every figure as "
                           "anecdotal." : "");
    if (isfinite(r->wall)) fprintf(o, "Wall time of the run: %.0f s.\n\n", r->wall);
    fprintf(o, "Corpus sha256 `%s`. Configuration (`--config` reads it back):\n\n```ini\n%s```\n\n",
            r->sha, config);
    int ko = res_model(r, "original"), kr = res_model(r, "retrain");
    int base[3] = {ko, kr, res_model(r, "retrain_ref")};
    int kauc = res_metric(r, "auc_loss");
    fprintf(o, "## Deletion from the corpus only\n\n");
    fprintf(o, "`original` is the deployed model: F's posts are deleted from the corpus, the "
               "model is unchanged. `retrain` never saw F. What stays in is the difference. "
               "`retrain_ref` is retrain again with another training seed: the reference model "
               "of the reference attacks, and the noise floor (two exact retrains differ only "
               "by chance).\n\n");
    const char *hc[] = {"auc_loss", "tpr_at_1pct_fpr", "auc_minkpp", "auc_ref",
                        "tpr_at_1pct_fpr_ref", "auc_user_ref", "exposure_rank_16",
                        "exposure_censored_16", "exposure_rank_0", "extracted_beam_16",
                        "es_forget", "know_rank_cal", "loss_forget"};
    const char *hh[] = {"MIA AUC on F (LOSS)", "TPR at 1% FPR (LOSS)", "MIA AUC (Min-K%++)",
                        "MIA AUC (reference)", "TPR at 1% FPR (reference)",
                        "user inference AUC", "exposure, secrets seen 16x (bits, at least)",
                        "share of them censored", "exposure, never-inserted",
                        "16x secrets extracted (beam)", "extraction strength on F",
                        "knowledge rank (calibrated, 0.5 = chance)", "loss on F (nats)"};
    const int hp[] = {3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 3, 3, 3};
    table(o, r, base, 3, hc, hh, hp, 13);
    const char *hk[] = {"auc_loss", "auc_ref", "auc_user_ref", "exposure_rank_16",
                        "extracted_16", "extracted_beam_16", "es_forget", "em_forget",
                        "know_rank_cal", "loss_forget"};
    const char *what[] = {"MIA AUC on F (LOSS)", "MIA AUC on F (reference attack)",
                          "user inference AUC (fresh posts, calibrated)",
                          "exposure of 16x secrets", "share of 16x secrets extracted greedily",
                          "share of 16x secrets extracted by beam search",
                          "extraction strength on F's posts", "exact memorisation of F's posts",
                          "calibrated knowledge rank of F's city and special category",
                          "loss on F"};
    const char *why[] = {"no value", "no value", "no fresh posts", "no secrets inserted 16 times",
                         "no secrets inserted 16 times", "no secrets inserted 16 times",
                         "no value", "no value",
                         "no knowledge probes: an imported corpus, or --post-format text",
                         "no value"};
    for (int i = 0; i < 10; i++) {
        int k = res_metric(r, hk[i]);
        rp_ci d;
        int n = k >= 0 ? rp_diff(r, ko, kr, k, &d) : 0;
        if (n == 0) {
            fprintf(o, "- %s: not applicable on this corpus (%s).\n", what[i], why[i]);
            continue;
        }
        if (!isfinite(d.lo)) {
            fprintf(o, "- %s: original - retrain = %.3f (one seed and no user bootstrap: no "
                       "interval).\n", what[i], d.mean);
            continue;
        }
        int sig = d.lo > 0 || d.hi < 0, few = 0;
        char per[96] = "";
        if (strstr(what[i], "16x")) { /* these rest on few secrets: say how few */
            double ns = rp_secrets_inserted(r, 16);
            few = ns < RP_MIN_SECRETS_CLAIM;
            snprintf(per, sizeof per, ", about %.1f secrets per seed", ns);
        }
        fprintf(o, "- %s: original - retrain = %.3f [%.3f, %.3f] (paired over %d seeds%s%s): "
                   "%s.\n", what[i], d.mean, d.lo, d.hi, n,
                d.how == RP_BOOT ? " and user draws" : "", per,
                few ? "shown, not claimed: a claim per insertion count needs at least 20 "
                      "secrets per seed"
                : sig ? "its interval excludes 0, the deployed model differs from retraining"
                      : "not distinguishable at this seed count");
    }
    rp_ci ra;
    if (kauc >= 0 && rp_stat(r, kr, kauc, &ra) >= 1 && isfinite(ra.lo))
        fprintf(o, "- `retrain`'s MIA AUC on F is %.3f [%.3f, %.3f]: %s 0.5 (a retrained model "
                   "should not tell F from non-members; on real data F and non-members may "
                   "differ in style, which is why the comparison to `retrain`, not to 0.5, is "
                   "the measure).\n",
                ra.mean, ra.lo, ra.hi,
                ra.lo <= 0.5 && 0.5 <= ra.hi ? "its interval includes" : "away from");
    rp_lira(o, r);
    rp_ulira(o, r);
    rp_quant(o, r);
    rp_relearn(o, r);
    rp_chain(o, r);
    fprintf(o, "\n## Methods\n\nResidual influence = (method - retrain) / (original - retrain) "
               "per seed: 0 = like retraining, 1 = as strong as the deployed model (it is noisy "
               "where original and retrain are close). KL to retrain is partly seed noise: "
               "`retrain_ref`, an exact retrain itself, has a KL of its own, and the column "
               "beside it subtracts that floor. PrivLeak in our sign is "
               "> 0 for under-unlearning (F easier to detect than after retraining) and < 0 for "
               "over-unlearning; MUSE publishes the opposite sign with the Min-K%% attack "
               "(`privleak_muse`: about -100 for a model that keeps F).\n\n");
    const char *mc[] = {"auc_loss", "tpr_at_1pct_fpr", "privleak", "privleak_muse",
                        "residual_auc_loss", "auc_ref",
                        "tpr_at_1pct_fpr_ref", "auc_user_ref", "exposure_rank_16", "es_forget",
                        "know_rank_cal", "know_rank_retained_cal", "ks_p", "kl_forget",
                        "kl_forget_excess", "ppl_retain_rel",
                        "ppl_nonmember_rel", "cost_rel_retrain"};
    const char *mh[] = {"AUC (LOSS)", "TPR@1% (LOSS)", "PrivLeak %", "PrivLeak % (MUSE)",
                        "residual (AUC)",
                        "AUC (reference)", "TPR@1% (reference)", "user AUC", "exposure 16x",
                        "extraction strength", "knowledge of F (cal.)",
                        "knowledge of retained (cal.)", "KS p (Fisher over seeds)",
                        "KL to retrain on F", "KL above retrain_ref's", "ppl retained / original",
                        "ppl unseen / original", "FLOPs / retrain"};
    const int mp[] = {3, 3, 1, 1, 2, 3, 3, 3, 2, 3, 3, 3, 3, 4, 4, 3, 3, 3};
    table(o, r, NULL, r->M, mc, mh, mp, 18);
    rp_method_settings(o, r);
    char f1[160], f01[160];
    fprintf(o, "### Membership at low false-positive rates\n\nTPR of each attack at 1%% and "
               "0.1%% FPR, F's posts against %.0f non-member posts per seed. At 1%% FPR %s; at "
               "0.1%% FPR %s.\n\n",
            r->n_set[S_N], fpr_note(r->n_set[S_N], 0.01, f1, sizeof f1),
            fpr_note(r->n_set[S_N], 0.001, f01, sizeof f01));
    const char *tc[] = {"tpr_at_1pct_fpr", "tpr_at_1pct_fpr_zlib", "tpr_at_1pct_fpr_mink",
                        "tpr_at_1pct_fpr_minkpp", "tpr_at_1pct_fpr_ref", "tpr_at_0.1pct_fpr",
                        "tpr_at_0.1pct_fpr_ref"};
    const char *th[] = {"LOSS 1%", "zlib 1%", "Min-K% 1%", "Min-K%++ 1%", "reference 1%",
                        "LOSS 0.1%", "reference 0.1%"};
    const int tp[] = {3, 3, 3, 3, 3, 3, 3};
    table(o, r, NULL, r->M, tc, th, tp, 7);
    distinguishable(o, r, kr);
    fprintf(o, "\n");
    rp_exposure_section(o, r);
    rp_knowledge(o, r);
    rp_decay(o, r);
    fprintf(o, "## Cost\n\nFLOPs are estimated (6 x params x trained tokens + attention; "
               "forward-only tokens a third of that). For SISA, the cost of this deletion request "
               "and, next to it, the mean cost of deleting one of F's users alone; a deployed "
               "model's cost does not end there: SISA answers every query with its S shard "
               "models (`inference_rel`).\n\n"
               "| model | GFLOP | FLOPs / retrain | one user alone / retrain | forward passes "
               "per query | extra memory (MB) | wall s |\n|---|---|---|---|---|---|---|\n");
    int kf = res_metric(r, "cost_gflop"), kc = res_metric(r, "cost_rel_retrain"),
        km = res_metric(r, "extra_memory_mb");
    for (int m = 0; m < r->M; m++) {
        fprintf(o, "| %s |", r->model[m]);
        cell(o, r, m, kf, 1);
        cell(o, r, m, kc, 3);
        cell(o, r, m, res_metric(r, "cost_rel_retrain_one_user"), 3);
        cell(o, r, m, res_metric(r, "inference_rel"), 0);
        cell(o, r, m, km, 1);
        if (r->sec) {
            double v[256], mean, half;
            int n = 0;
            for (int s = 0; s < r->S && n < 256; s++)
                if (isfinite(r->sec[(size_t)s * r->M + m])) v[n++] = r->sec[(size_t)s * r->M + m];
            if (n) {
                mt_mean_ci95(v, (size_t)n, &mean, &half);
                if (isfinite(half)) /* clipped: seconds are >= 0 */
                    fprintf(o, " %.1f [%.1f, %.1f] |\n", mean, fmax(mean - half, 0), mean + half);
                else fprintf(o, " %.1f |\n", mean);
            } else {
                fprintf(o, " cached |\n");
            }
        } else {
            fprintf(o, " n/a |\n");
        }
    }
    fprintf(o, "\nWall times come from `timings.h5` (kept apart so that `results.h5` is "
               "byte-identical across runs); `cached` = trained by an earlier run.\n\n");
    sisa_weakness(o, r);
    fprintf(o, "## What this run can and cannot detect\n\n");
    fprintf(o, "Per seed, on average: %.0f posts of F against %.0f non-member posts (MIA), "
               "%.0f fresh posts of F against %.0f of non-members (user inference), %.0f "
               "retained posts (side effects), %.1f planted secrets of F with %lld sampled "
               "candidates each.\n\n",
            r->n_set[0], r->n_set[2], r->n_set[3], r->n_set[4], r->n_set[1], r->n_secrets,
            (long long)r->candidates);
    if (r->n_ins > 0) {
        fprintf(o, "- Secrets of F per seed by how often they are in the corpus:");
        for (int j = 0; j < r->n_ins; j++)
            fprintf(o, "%s %lldx: %.1f", j ? "," : "", (long long)r->ins[j], r->n_secrets_ins[j]);
        fprintf(o, ". Every exposure or extraction figure of one insertion count rests on that "
                   "many secrets per seed, and a share moves in steps of one secret.\n");
    }
    fprintf(o, "- User inference compares users, not posts: its AUC rests on about %.0f users of "
               "F against the matched non-members with fresh posts, so it is coarse (steps of "
               "1/(#F x #non-members)) and its interval wide.\n",
            r->n_users_f);
    if (r->n_probes > 0)
        fprintf(o, "- Knowledge probes: %.1f per seed about F's users and %.1f about retained "
                   "users (a home city among 24 for each, and a special-category value for those "
                   "who have one). Top-1 shares move in steps of one probe; the calibrated "
                   "normalised rank (know_rank_cal, 0.5 = chance) is the smoother measure. A "
                   "model can only learn who wrote what when posts carry their author "
                   "(`post-format = author`) and the statement falls within its context window "
                   "after the handle.\n",
                r->n_probes, r->n_probes_retained);
    fprintf(o, "- An AUC rests on %.0f x %.0f post pairs per seed, but on far fewer users "
               "(about %.0f of F): the user bootstrap puts that in the intervals above. A TPR at 1%% FPR: %s; at 0.1%% FPR: %s.\n",
            r->n_set[S_F], r->n_set[S_N], r->n_users_f,
            fpr_note(r->n_set[S_N], 0.01, f1, sizeof f1),
            fpr_note(r->n_set[S_N], 0.001, f01, sizeof f01));
    fprintf(o, "- Exposure by rank is exact for the secrets whose format was enumerated "
               "(`exposure_enumerated_*`); for the others it is censored at what %lld sampled "
               "candidates resolve, log2(%lld + 1) = %.1f bits: a secret that beats every "
               "candidate gets that bound, which means 'at least'; `exposure_censored_*` is the "
               "share of secrets at the bound, and a mean over secrets with censored ones is a "
               "lower bound. The skew-normal estimate extrapolates the candidates' tail beyond "
               "the sample and counts only where its fit passes (see 'How each exposure was "
               "measured').\n",
            (long long)r->candidates, (long long)r->candidates,
            log2((double)r->candidates + 1.0));
    fprintf(o, "- Extraction is the stricter test: a secret can rank first among the sampled "
               "candidates (high exposure) and still not be what greedy decoding or beam search "
               "returns from its context, token for token; `extracted_*` and "
               "`extracted_beam_*` count exact reproductions only. "
               "Extraction strength and exact memorisation on F's posts are measured against "
               "`retrain`, which also predicts much of any post (common words, the generator's "
               "phrasing).\n");
    fprintf(o, "- The tiny model and corpus give large effects for posts and secrets seen many "
               "times; effects smaller than the intervals above are not detectable at this "
               "seed count, and a 'no' in the distinguishability table is absence of evidence, "
               "not evidence of forgetting.\n\n");
    fprintf(o, "## Plots\n\n");
    if (has_plots)
        fprintf(o, "![MIA ROC, log-log](plots/mia_roc.png) ![exposure](plots/exposure.png)\n"
                   "![forgetting vs utility](plots/tradeoff.png) "
                   "![influence decay](plots/decay.png)\n\n(SVG versions next to them.)\n\n");
    else
        fprintf(o, "None in this directory: `/usr/bin/python3 scripts/plots.py DIR` draws them "
                   "(needs python3-h5py and python3-matplotlib).\n\n");
    glossary(o, r);
    fprintf(o, "\nPer-post and per-secret scores of every model and seed are in `results.h5` "
               "(layout: bench/FORMAT.md).\n");
}

ub_status ub_run_report(const char *dir, ub_err *e) {
    res_file r;
    ub_status st = res_load(dir, &r, e);
    if (st) return st;
    char path[4200], tmp[4300];
    snprintf(tmp, sizeof tmp, "%s/plots/mia_roc.png", dir);
    FILE *pf = fopen(tmp, "rb");
    int has_plots = pf != NULL;
    if (pf) fclose(pf);
    snprintf(path, sizeof path, "%s/report.md", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *o = fopen(tmp, "w");
    if (!o) st = ub_fail(e, UB_EIO, "cannot write %s", tmp);
    if (!st) {
        write_report(o, &r, has_plots);
        if (fclose(o) || rename(tmp, path)) st = ub_fail(e, UB_EIO, "cannot write %s", path);
    }
    res_free(&r);
    return st;
}
