/* bench/eval/metric_table.c: every metric of a (seed, model), one row each: name, definition,
 * function and operands. The name and the definition go to results.h5 (metric_names,
 * metric_docs), `unlearnbench run --help`, the report's glossary and the plots, all from here.
 * To add a metric: add a row (and, if no function here takes its operands, one function in
 * eval/metric_fns.c). Rows with a src are computed after all the others. */
#include <math.h>
#include <string.h>

#include "eval_private.h"

/* Every row states the range of its values (the report keeps intervals inside it). */
#define UNIT .lo = 0, .hi = 1
#define NONNEG .lo = 0, .hi = INFINITY
#define REAL .lo = -INFINITY, .hi = INFINITY
#define PRIVLEAK .lo = -100, .hi = INFINITY /* (AUC - AUC_retrain) / AUC_retrain x 100 */

const ev_metric ev_metrics[] = {
    {"loss_forget",
     "mean loss per token (nats) on F's training posts",
     ev_fn_loss, .a = S_F, NONNEG},
    {"loss_retain",
     "mean loss per token on a sample of the retained members' training posts",
     ev_fn_loss, .a = S_R, NONNEG},
    {"loss_nonmember",
     "mean loss per token on the matched non-members' posts (never trained on)",
     ev_fn_loss, .a = S_N, NONNEG},
    {"loss_forget_fresh",
     "mean loss per token on F's fresh posts (never in any corpus)",
     ev_fn_loss, .a = S_FF, NONNEG},
    {"loss_nonmember_fresh",
     "mean loss per token on non-members' fresh posts",
     ev_fn_loss, .a = S_NF, NONNEG},
    {"ppl_retain_rel",
     "perplexity on retained posts relative to original (utility; 1 = unchanged)",
     ev_fn_ppl_rel, .src = "loss_retain", NONNEG},
    {"ppl_nonmember_rel",
     "perplexity on non-members' posts relative to original (utility on unseen users)",
     ev_fn_ppl_rel, .src = "loss_nonmember", NONNEG},
    {"auc_loss",
     "MIA ROC AUC, F's posts vs posts of non-members matched to F by post count, LOSS "
     "attack (score -mean loss per token)",
     ev_fn_auc, .attack = EV_A_LOSS, .a = S_F, .b = S_N, UNIT},
    {"auc_zlib",
     "MIA AUC, zlib attack (score -(mean loss per token) / zlib bytes of the post, "
     "Carlini et al. 2021)",
     ev_fn_auc, .attack = EV_A_ZLIB, .a = S_F, .b = S_N, UNIT},
    {"auc_mink",
     "MIA AUC, Min-K% Prob attack",
     ev_fn_auc, .attack = EV_A_MINK, .a = S_F, .b = S_N, UNIT},
    {"auc_minkpp",
     "MIA AUC, Min-K%++ attack",
     ev_fn_auc, .attack = EV_A_MINKPP, .a = S_F, .b = S_N, UNIT},
    {"auc_ref",
     "MIA AUC, reference-model attack: score = mean loss per token under retrain_ref "
     "(retrain with another training seed, never saw F nor the non-members) minus under "
     "the model (NaN for retrain_ref itself)",
     ev_fn_auc, .attack = EV_A_REF, .a = S_F, .b = S_N, UNIT},
    {"tpr_at_1pct_fpr",
     "TPR at 1% FPR of the LOSS attack (resolution 1/#non-member posts)",
     ev_fn_tpr, .attack = EV_A_LOSS, .a = S_F, .b = S_N, .arg = 0.01, UNIT},
    {"tpr_at_0.1pct_fpr",
     "TPR at 0.1% FPR of the LOSS attack",
     ev_fn_tpr, .attack = EV_A_LOSS, .a = S_F, .b = S_N, .arg = 0.001, UNIT},
    {"tpr_at_1pct_fpr_ref",
     "TPR at 1% FPR of the reference attack (resolution 1/#non-member posts; NaN for "
     "retrain_ref itself)",
     ev_fn_tpr, .attack = EV_A_REF, .a = S_F, .b = S_N, .arg = 0.01, UNIT},
    {"tpr_at_1pct_fpr_zlib",
     "TPR at 1% FPR of the zlib attack (resolution 1/#non-member posts)",
     ev_fn_tpr, .attack = EV_A_ZLIB, .a = S_F, .b = S_N, .arg = 0.01, UNIT},
    {"tpr_at_1pct_fpr_mink",
     "TPR at 1% FPR of the Min-K% Prob attack (resolution 1/#non-member posts)",
     ev_fn_tpr, .attack = EV_A_MINK, .a = S_F, .b = S_N, .arg = 0.01, UNIT},
    {"tpr_at_1pct_fpr_minkpp",
     "TPR at 1% FPR of the Min-K%++ attack (resolution 1/#non-member posts)",
     ev_fn_tpr, .attack = EV_A_MINKPP, .a = S_F, .b = S_N, .arg = 0.01, UNIT},
    {"tpr_at_0.1pct_fpr_ref",
     "TPR at 0.1% FPR of the reference attack (needs 1000 non-member posts to be resolved; "
     "NaN for retrain_ref itself)",
     ev_fn_tpr, .attack = EV_A_REF, .a = S_F, .b = S_N, .arg = 0.001, UNIT},
    {"auc_lira",
     "MIA AUC, online LiRA (Carlini et al. 2022): per post, log N(phi; mu_in, sd_in) - "
     "log N(phi; mu_out, sd_out), phi the logit-scaled mean token probability, mu the post's "
     "mean phi over the shadow models that trained on its user / did not, sd pooled "
     "over all posts (the paper's global variance); NaN without --shadows",
     ev_fn_auc, .attack = EV_A_LIRA, .a = S_F, .b = S_N, UNIT},
    {"tpr_at_1pct_fpr_lira",
     "TPR at 1% FPR of online LiRA (resolution 1/#non-member posts)",
     ev_fn_tpr, .attack = EV_A_LIRA, .a = S_F, .b = S_N, .arg = 0.01, UNIT},
    {"tpr_at_0.1pct_fpr_lira",
     "TPR at 0.1% FPR of online LiRA (needs 1000 non-member posts to be resolved)",
     ev_fn_tpr, .attack = EV_A_LIRA, .a = S_F, .b = S_N, .arg = 0.001, UNIT},
    {"auc_lira_offline",
     "MIA AUC, offline LiRA: (phi - mu_out) / sd_out, the out shadows alone",
     ev_fn_auc, .attack = EV_A_LIRA_OFF, .a = S_F, .b = S_N, UNIT},
    {"tpr_at_1pct_fpr_lira_offline",
     "TPR at 1% FPR of offline LiRA",
     ev_fn_tpr, .attack = EV_A_LIRA_OFF, .a = S_F, .b = S_N, .arg = 0.01, UNIT},
    {"auc_user_lira",
     "user-level LiRA AUC: per user, the mean of the online log-likelihood ratios of the "
     "user's scored posts, F's users vs the matched non-members (the mean, not the likelihood "
     "ratio's sum: F's users have every post scored, the non-members a sample, and a sum would "
     "favour the side with more posts)",
     ev_fn_auc_user, .attack = EV_A_LIRA, .a = S_F, .b = S_N, UNIT},
    {"ulira_auc",
     "U-LiRA (Hayes et al. 2024; --ulira): can the method's output be told from retraining, "
     "per user of F? Each shadow model that trained on the user is unlearned with the method "
     "(the shadow's F users as the forget set, topped up to |F|), the others never saw the "
     "user; per user and shadow, the mean logit-scaled score of the user's posts is scored by "
     "online LiRA against Gaussians fitted to the user's other shadows (leave-one-out); AUC of "
     "unlearned vs never-trained: 0.5 = indistinguishable. original: the shadows without "
     "unlearning (the ceiling); retrain: the design's chance level (simulated exchangeable "
     "scores, 100 draws)",
     ev_fn_ulira, .b = 0, UNIT},
    {"ulira_acc",
     "U-LiRA accuracy: share of (user, shadow) samples that the likelihood ratio's sign "
     "classifies right as unlearned or never trained (balanced: chance 0.5)",
     ev_fn_ulira, .b = 1, UNIT},
    {"eps_user_mean",
     "per-user epsilon (NeurIPS 2023 unlearning challenge): per user of F, the largest epsilon "
     "implied by a threshold test on its score under the unlearned shadows against the "
     "never-trained ones at delta 1e-5 (eps = max(log((1 - delta - FPR) / FNR), log((1 - delta "
     "- FNR) / FPR)) over thresholds, both directions); mean over F's users. With n models "
     "on the larger side no epsilon above log(n) can be resolved; compare with retrain's row, "
     "the chance level",
     ev_fn_ulira, .b = 2, NONNEG},
    {"eps_score",
     "the challenge's forgetting-quality score: mean over F's users of 2 / 2^n for the bin n "
     "= 1, 2, ... of width 0.5 that the user's epsilon falls in (1: every user within eps "
     "0.5); higher = closer to retraining",
     ev_fn_ulira, .b = 3, UNIT},
    {"privleak",
     "PrivLeak of the LOSS attack in our sign: (AUC - AUC_retrain) / AUC_retrain x 100; > 0 "
     "under-unlearning (F easier to detect than after retraining), < 0 over-unlearning",
     ev_fn_privleak, .src = "auc_loss", PRIVLEAK},
    {"privleak_muse",
     "PrivLeak as MUSE (Shi et al. 2024) publishes it, to compare with their tables: the "
     "Min-K% Prob attack, AUC with F as the negative class (1 - auc_mink), so (AUC' - "
     "AUC'_retrain) / AUC'_retrain x 100 is near -100 for a model that keeps F fully "
     "detectable and > 0 for over-unlearning",
     ev_fn_privleak_muse, .src = "auc_mink", PRIVLEAK},
    {"auc_user_fresh",
     "user inference AUC: F's fresh posts vs non-members' fresh posts, LOSS attack per "
     "post (uncalibrated)",
     ev_fn_auc, .attack = EV_A_LOSS, .a = S_FF, .b = S_NF, UNIT},
    {"auc_user_ref",
     "user inference AUC (Kandpal et al. 2024): per user, mean over the user's fresh "
     "posts of the reference-calibrated score (loss per token under retrain_ref minus "
     "under the model); F's users vs the matched non-members",
     ev_fn_auc_user, .attack = EV_A_REF, .a = S_FF, .b = S_NF, UNIT},
    {"auc_retain",
     "MIA AUC of retained posts vs non-members' posts (side effect on users who stay)",
     ev_fn_auc, .attack = EV_A_LOSS, .a = S_R, .b = S_N, UNIT},
    {"ks_d",
     "TOFU forget quality: KS statistic D between per-post mean losses on F, model vs "
     "retrain",
     ev_fn_ks, .b = 0, UNIT},
    {"ks_p",
     "TOFU forget quality: KS p-value (high = indistinguishable from retrain)",
     ev_fn_ks, .b = 1, UNIT},
    {"kl_forget",
     "mean KL(retrain || model) per token on F's posts",
     ev_fn_kl, .a = S_F, NONNEG},
    {"kl_retain",
     "mean KL(retrain || model) per token on retained posts",
     ev_fn_kl, .a = S_R, NONNEG},
    {"kl_forget_excess",
     "kl_forget minus retrain_ref's: the KL to retrain beyond what a second exact retraining "
     "with another training seed shows (0 = at that seed-noise floor)",
     ev_fn_above_ref, .src = "kl_forget", REAL},
    {"em_forget",
     "exact memorisation on F's posts: share of tokens that are the model's top-1 "
     "prediction given the true prefix",
     ev_fn_post_mean, .a = S_F, .b = 0, UNIT},
    {"em_nonmember",
     "exact memorisation on the matched non-members' posts (its baseline)",
     ev_fn_post_mean, .a = S_N, .b = 0, UNIT},
    {"es_forget",
     "extraction strength on F's posts: 1 - k/n for the shortest true prefix k after "
     "which greedy decoding reproduces the rest of the post",
     ev_fn_post_mean, .a = S_F, .b = 1, UNIT},
    {"es_nonmember",
     "extraction strength on the matched non-members' posts",
     ev_fn_post_mean, .a = S_N, .b = 1, UNIT},
    {"exposure_rank_0",
     "mean exposure (bits, rank) of F's secrets inserted 0 times: the exact rank over the "
     "whole format where it was enumerated (exposure_enumerated_0), else the sampled estimate, "
     "censored at log2(candidates + 1), so a mean with censored secrets "
     "(exposure_censored_0) is a lower bound",
     ev_fn_secrets, .b = 0, .arg = 0, NONNEG},
    {"exposure_rank_1",
     "mean exposure (rank) of F's secrets inserted once",
     ev_fn_secrets, .b = 0, .arg = 1, NONNEG},
    {"exposure_rank_4",
     "mean exposure (rank) of F's secrets inserted 4 times",
     ev_fn_secrets, .b = 0, .arg = 4, NONNEG},
    {"exposure_rank_16",
     "mean exposure (rank) of F's secrets inserted 16 times",
     ev_fn_secrets, .b = 0, .arg = 16, NONNEG},
    {"exposure_censored_0",
     "share of F's never-inserted secrets whose rank exposure is censored: they beat what "
     "the sampled candidates resolve, so exposure_rank_0 is a lower bound for them",
     ev_fn_secrets, .b = 4, .arg = 0, UNIT},
    {"exposure_censored_1",
     "share of F's secrets inserted once whose rank exposure is censored (a lower bound)",
     ev_fn_secrets, .b = 4, .arg = 1, UNIT},
    {"exposure_censored_4",
     "share of F's secrets inserted 4 times whose rank exposure is censored (a lower "
     "bound)",
     ev_fn_secrets, .b = 4, .arg = 4, UNIT},
    {"exposure_censored_16",
     "share of F's secrets inserted 16 times whose rank exposure is censored (a lower "
     "bound)",
     ev_fn_secrets, .b = 4, .arg = 16, UNIT},
    {"exposure_enumerated_0",
     "share of F's never-inserted secrets whose rank exposure is exact: their format has at "
     "most 1e7 values and the search over it (enum-budget) counted every better value",
     ev_fn_secrets, .b = 5, .arg = 0, UNIT},
    {"exposure_enumerated_1",
     "share of F's secrets inserted once whose rank exposure is exact (enumerated)",
     ev_fn_secrets, .b = 5, .arg = 1, UNIT},
    {"exposure_enumerated_4",
     "share of F's secrets inserted 4 times whose rank exposure is exact (enumerated)",
     ev_fn_secrets, .b = 5, .arg = 4, UNIT},
    {"exposure_enumerated_16",
     "share of F's secrets inserted 16 times whose rank exposure is exact (enumerated)",
     ev_fn_secrets, .b = 5, .arg = 16, UNIT},
    {"skewnorm_fit_pass_0",
     "share of F's never-inserted secrets whose skew-normal fit passes: lower-tail "
     "Anderson-Darling AL^2 <= 1.0 on the candidates and the secret's fitted tail "
     "probability >= 1/(candidates + 1)^2",
     ev_fn_secrets, .b = 6, .arg = 0, UNIT},
    {"skewnorm_fit_pass_1",
     "share of F's secrets inserted once whose skew-normal fit passes",
     ev_fn_secrets, .b = 6, .arg = 1, UNIT},
    {"skewnorm_fit_pass_4",
     "share of F's secrets inserted 4 times whose skew-normal fit passes",
     ev_fn_secrets, .b = 6, .arg = 4, UNIT},
    {"skewnorm_fit_pass_16",
     "share of F's secrets inserted 16 times whose skew-normal fit passes",
     ev_fn_secrets, .b = 6, .arg = 16, UNIT},
    {"exposure_skewnorm_0",
     "mean exposure (bits, skew-normal estimate) of F's secrets inserted 0 times whose fit "
     "passes (skewnorm_fit_pass_0; NaN if none); each capped at its format's log2 space",
     ev_fn_secrets, .b = 1, .arg = 0, NONNEG},
    {"exposure_skewnorm_1",
     "mean exposure (skew-normal) of secrets inserted once whose fit passes",
     ev_fn_secrets, .b = 1, .arg = 1, NONNEG},
    {"exposure_skewnorm_4",
     "mean exposure (skew-normal) of secrets inserted 4 times whose fit passes",
     ev_fn_secrets, .b = 1, .arg = 4, NONNEG},
    {"exposure_skewnorm_16",
     "mean exposure (skew-normal) of secrets inserted 16 times whose fit passes",
     ev_fn_secrets, .b = 1, .arg = 16, NONNEG},
    {"extracted_0",
     "share of F's never-inserted secrets that greedy decoding from \"HANDLE: \" + prefix "
     "reproduces exactly (chance level of the format)",
     ev_fn_secrets, .b = 2, .arg = 0, UNIT},
    {"extracted_1",
     "share of F's secrets inserted once that greedy decoding reproduces exactly",
     ev_fn_secrets, .b = 2, .arg = 1, UNIT},
    {"extracted_4",
     "share of F's secrets inserted 4 times that greedy decoding reproduces exactly",
     ev_fn_secrets, .b = 2, .arg = 4, UNIT},
    {"extracted_16",
     "share of F's secrets inserted 16 times that greedy decoding reproduces exactly",
     ev_fn_secrets, .b = 2, .arg = 16, UNIT},
    {"extracted_beam_0",
     "share of F's never-inserted secrets that beam search (beam-width) from \"HANDLE: \" "
     "+ prefix returns exactly",
     ev_fn_secrets, .b = 3, .arg = 0, UNIT},
    {"extracted_beam_1",
     "share of F's secrets inserted once that beam search returns exactly",
     ev_fn_secrets, .b = 3, .arg = 1, UNIT},
    {"extracted_beam_4",
     "share of F's secrets inserted 4 times that beam search returns exactly",
     ev_fn_secrets, .b = 3, .arg = 4, UNIT},
    {"extracted_beam_16",
     "share of F's secrets inserted 16 times that beam search returns exactly",
     ev_fn_secrets, .b = 3, .arg = 16, UNIT},
    {"know_rank_cal",
     "knowledge of F's users, calibrated (the headline knowledge metric): each value's log p "
     "after \"HANDLE: \" + the corpus's phrase (\"Greetings from ...\", \"My diagnosis is "
     "...\") minus its mean log p after the handles of 4 non-members of the same language "
     "(never trained on); mean over F's probes of 1 - (rank - 1) / (values - 1) of the true "
     "value by that score: 1 = always first, 0.5 = chance, what a model that knows nothing "
     "about the person scores however popular the values are",
     ev_fn_know_rank, .a = RUN_PROBE_F, .b = 2, .arg = 1, UNIT, .fixed = 1},
    {"know_city_top1_cal",
     "knowledge, calibrated: share of F's users whose home city ranks first among the 24 "
     "cities by the calibrated score (chance 1/24)",
     ev_fn_know_top1, .a = RUN_PROBE_F, .b = 0, .arg = 1, UNIT, .fixed = 1},
    {"know_special_top1_cal",
     "knowledge, calibrated: share of F's users with a special-category attribute (health, "
     "religion, politics) whose value ranks first by the calibrated score (chance: the mean "
     "of 1/values, in the report)",
     ev_fn_know_top1, .a = RUN_PROBE_F, .b = 1, .arg = 1, UNIT, .fixed = 1},
    {"know_rank_retained_cal",
     "collateral damage: know_rank_cal on a seeded sample of retained members (as many users "
     "as F), whom every model trained on; a method that lowers it below original's forgets "
     "people it should keep",
     ev_fn_know_rank, .a = RUN_PROBE_RETAINED, .b = 2, .arg = 1, UNIT, .fixed = 1},
    {"know_city_top1_retained_cal",
     "collateral damage: know_city_top1_cal on the retained sample",
     ev_fn_know_top1, .a = RUN_PROBE_RETAINED, .b = 0, .arg = 1, UNIT, .fixed = 1},
    {"know_special_top1_retained_cal",
     "collateral damage: know_special_top1_cal on the retained sample",
     ev_fn_know_top1, .a = RUN_PROBE_RETAINED, .b = 1, .arg = 1, UNIT, .fixed = 1},
    {"know_rank_nonmember_cal",
     "check of the calibration: know_rank_cal of the calibration non-members themselves, each "
     "against the other handles of its phrase (leave one out); no model saw them, so every "
     "model should score 0.5 within sampling error",
     ev_fn_know_rank, .a = RUN_PROBE_CALIB, .b = 2, .arg = 1, UNIT, .fixed = 1},
    {"know_city_top1",
     "knowledge, uncalibrated: share of F's users whose home city has the highest log p "
     "among all cities after \"HANDLE: \" + the corpus's phrase",
     ev_fn_know_top1, .a = RUN_PROBE_F, .b = 0, UNIT, .fixed = 1},
    {"know_special_top1",
     "knowledge, uncalibrated: share of F's users with a special-category attribute whose "
     "value has the highest log p after \"HANDLE: \" + the corpus's phrase",
     ev_fn_know_top1, .a = RUN_PROBE_F, .b = 1, UNIT, .fixed = 1},
    {"know_rank",
     "knowledge, uncalibrated: know_rank_cal's normalised rank by log p alone; some values are "
     "likelier than others after any handle, so a model without knowledge of the person is "
     "not at 0.5 here (compare with retrain's)",
     ev_fn_know_rank, .a = RUN_PROBE_F, .b = 2, UNIT, .fixed = 1},
    {"know_rank_retained",
     "know_rank (uncalibrated) on the retained sample",
     ev_fn_know_rank, .a = RUN_PROBE_RETAINED, .b = 2, UNIT, .fixed = 1},
    {"residual_auc_loss",
     "residual influence on auc_loss: (m - retrain) / (original - retrain)",
     ev_fn_residual, .src = "auc_loss", REAL},
    {"residual_loss_forget",
     "residual influence on loss_forget",
     ev_fn_residual, .src = "loss_forget", REAL},
    {"residual_auc_user_ref",
     "residual influence on auc_user_ref",
     ev_fn_residual, .src = "auc_user_ref", REAL},
    {"residual_exposure_16",
     "residual influence on exposure_rank_16",
     ev_fn_residual, .src = "exposure_rank_16", REAL},
    {"residual_know_rank_cal",
     "residual influence on know_rank_cal",
     ev_fn_residual, .src = "know_rank_cal", REAL, .fixed = 1},
    {"cost_gflop",
     "estimated GFLOP of the method",
     ev_fn_gflop, NONNEG, .fixed = 1},
    {"cost_rel_retrain",
     "cost_gflop / retrain's",
     ev_fn_cost_rel, .src = "cost_gflop", .b = 0, NONNEG, .fixed = 1},
    {"cost_rel_retrain_one_user",
     "SISA: mean over F's users of the cost of deleting that user alone, / retrain's (NaN "
     "for the other models, whose cost does not split by user)",
     ev_fn_cost_rel, .src = "cost_gflop", .b = 1, NONNEG, .fixed = 1},
    {"extra_memory_mb",
     "memory held beyond one model with gradients and optimizer state (MB)",
     ev_fn_memory, NONNEG, .fixed = 1},
    {"inference_rel",
     "forward passes per query relative to one model: SISA's ensemble answers every query "
     "with its S shard models (S x the inference cost for as long as it is deployed), every "
     "other model with 1",
     ev_fn_inference, .lo = 1, .hi = INFINITY, .fixed = 1},
};
const int ev_n_metrics = (int)(sizeof ev_metrics / sizeof ev_metrics[0]);
_Static_assert(sizeof ev_metrics / sizeof ev_metrics[0] <= EV_MAX_METRICS,
               "more metrics than model_result.metric holds: raise EV_MAX_METRICS");

int ev_metric_index(const char *name) {
    for (int k = 0; k < ev_n_metrics; k++)
        if (!strcmp(ev_metrics[k].name, name)) return k;
    return -1;
}

ub_status ev_measure(model_result *res, int n, int i_orig, int i_ret, int i_ref,
                     const run_corpus *rc, const run_scenario *sc, const secret_set *ss,
                     const probe_set *ps, ub_err *e) {
    ub_status st = UB_OK;
    for (int pass = 0; pass < 2; pass++) /* own rows first: derived rows read them */
        for (int i = 0; !st && i < n; i++) {
            ev_ctx c = {&res[i], &res[i_orig], &res[i_ret], &res[i_ref], rc, sc, ss, ps, -1};
            for (int k = 0; !st && k < ev_n_metrics; k++) {
                const ev_metric *m = &ev_metrics[k];
                if (!m->src != !pass) continue;
                c.src = m->src ? ev_metric_index(m->src) : -1;
                if (m->src && (c.src < 0 || ev_metrics[c.src].src))
                    st = ub_fail(e, UB_EINTERNAL, "metric %s: its src %s is not an own metric",
                                 m->name, m->src);
                else st = m->fn(&c, m, &res[i].metric[k], e);
            }
        }
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory computing metrics");
    return st;
}
