/* bench/eval/metrics/metrics.h: the metrics of unlearnbench (library ub_metrics, prefix mt_).
 *
 * Pure functions over arrays: no model code, no I/O, no globals. Double precision throughout.
 *
 * Conventions
 *   - Membership scores: a HIGHER score means "more likely a member" (of the training set, or of
 *     the forget set before unlearning). Exposure is the exception: it takes losses (LOWER = more
 *     likely) because that is how Carlini et al. define it.
 *   - Callers pass finite values. A NaN score gives a memory-safe but unspecified result.
 *   - Functions returning a double return NaN when the answer is undefined (empty input, a
 *     division by zero documented below) or when an internal allocation fails. Functions that
 *     hand arrays back return a ub_status and fill ub_err.
 *   - Shapes: pos (np), neg (nn), a (na), b (nb), x (n), ... : plain 1-D arrays.
 *
 * Families and files: ROC/AUC and thresholds (auc.c), Kolmogorov-Smirnov (ks.c), secret exposure
 * and the skew-normal (exposure.c), per-text membership scores (mia_scores.c), statistics over
 * seeds (stats.c), the cluster bootstrap, Fisher's and Holm's methods (resample.c), LiRA
 * (lira.c). scripts/check_metrics.py checks every function against numpy, scipy, sklearn.
 */
#ifndef UB_METRICS_H
#define UB_METRICS_H

#include <stddef.h>

#include "ub.h"

/* ------------------------------------------------------------------------------------------
 * ROC, AUC, thresholds (auc.c)
 * ------------------------------------------------------------------------------------------ */
/* ROC AUC = P(pos > neg) + 0.5 P(pos == neg) over all (pos, neg) pairs: the Mann-Whitney U
 * statistic / (np nn). O((np+nn) log) by sorting, ties exact; equals
 * sklearn.metrics.roc_auc_score. NaN if np or nn is 0. */
double mt_auc(const double *pos, size_t np, const double *neg, size_t nn);

/* The ROC curve: one point per distinct score threshold t (classify "member" when score >= t),
 * from the highest threshold down, with (0,0) prepended; the last point is (1,1). The same points
 * as sklearn.metrics.roc_curve(drop_intermediate=False). fpr, tpr (n_points) are allocated here;
 * the caller frees them with free(). UB_EARG if np or nn is 0. */
ub_status mt_roc(const double *pos, size_t np, const double *neg, size_t nn, double **fpr,
                 double **tpr, size_t *n_points, ub_err *e);

/* TPR at low FPR (Carlini et al. 2022, "Membership Inference Attacks From First Principles"): the
 * largest TPR over the ROC points with FPR <= max_fpr. Resolution: with nn negatives the FPRs
 * are multiples of 1/nn, so max_fpr < 1/nn selects only thresholds with no false positive at
 * all; callers report 1/nn next to the value when it exceeds max_fpr. NaN if np or nn is 0 or
 * max_fpr < 0. */
double mt_tpr_at_fpr(const double *pos, size_t np, const double *neg, size_t nn, double max_fpr);

/* PrivLeak (Shi et al. 2024, MUSE): (auc_method - auc_retrain) / auc_retrain * 100. 0 = leaks
 * like the retrained model; > 0 under-unlearning; < 0 over-unlearning. auc_retrain = 0 gives
 * +-inf or NaN. */
double mt_privleak(double auc_method, double auc_retrain);

/* Empirical epsilon for one example (NeurIPS 2023 unlearning challenge, Triantafillou et al.
 * 2024): unl (nu) are the example's scores under unlearned models, ret (nr) under retrained
 * ones. For every threshold decision rule ("unlearned" when score >= t, and also the flipped rule
 * "unlearned" when score < t, since an attacker may pick either side), with FPR = share of ret
 * called "unlearned" and FNR = share of unl missed:
 *   eps = max over rules of max(log((1 - delta - FPR) / FNR), log((1 - delta - FNR) / FPR)).
 * A term whose denominator is 0 or whose numerator is <= 0 is undefined and skipped (a perfect
 * separation therefore does not give +inf: the estimate is bounded by the sample sizes). NaN if
 * nu or nr is 0, or if no term is defined. */
double mt_eps_threshold(const double *unl, size_t nu, const double *ret, size_t nr, double delta);

/* ------------------------------------------------------------------------------------------
 * LiRA, the likelihood-ratio attack with shadow models (lira.c; Carlini et al. 2022)
 * ------------------------------------------------------------------------------------------ */
/* The logit-scaled confidence of a text whose mean loss per token is mean_loss (nats): with
 * p = exp(-mean_loss), the geometric mean of the tokens' probabilities, phi = log(p / (1 - p)),
 * the scaling under which the paper finds a model's confidences on one example across shadow
 * models close to Gaussian. Higher = more confident. NaN for a negative or NaN loss. */
double mt_lira_phi(double mean_loss);
/* Mean and sample standard deviation (n - 1) of x (n); sd NaN when n < 2, mu NaN when n = 0. */
void mt_gauss_fit(const double *x, size_t n, double *mu, double *sd);
/* The paper's "global variance": the sd pooled over targets (sum of squared deviations from
 * each target's own mean over the summed degrees of freedom); target t's samples are
 * x[start[t] .. start[t+1]). Targets with fewer than 2 samples are skipped; NaN if none has 2. */
double mt_lira_pooled_sd(const double *x, const size_t *start, size_t n_targets);
/* Online LiRA: log N(phi; mu_in, sd_in) - log N(phi; mu_out, sd_out), the log-likelihood ratio
 * of "in" over "out" (higher = member). sds below 1e-6 are raised to it; NaN for a sd <= 0 or
 * NaN input. */
double mt_lira_online(double phi, double mu_in, double sd_in, double mu_out, double sd_out);
/* Offline LiRA: (phi - mu_out) / sd_out, how far phi lies above the "out" Gaussian (a monotone
 * transform of the paper's one-sided p-value, so the same ROC). NaN as above. */
double mt_lira_offline(double phi, double mu_out, double sd_out);

/* U-LiRA (Hayes et al. 2024), the per-user test of "unlearned or never trained on": x (nu, K)
 * each user's score under K models and in (nu, K) 1 where model j was trained on the user and
 * then unlearned it, 0 where it never saw the user. Every (user, j) sample is scored by online
 * LiRA (mt_lira_online) against Gaussians fitted to the user's other models (leave-one-out:
 * means per user and side without model j, one sd per side pooled over users as
 * mt_lira_pooled_sd); auc = AUC of the scores of the "in" samples against the "out" ones, acc =
 * share classified right by the score's sign (balanced designs: chance 0.5). Non-finite samples
 * are skipped. NaN (UB_OK) when nu = 0, K < 4 or a side is empty; UB_ENOMEM on allocation. */
ub_status mt_ulira_loo(const double *x, const uint8_t *in, size_t nu, int K, double *auc,
                       double *acc);
/* The NeurIPS 2023 unlearning challenge's score of one example's epsilon (Triantafillou et al.
 * 2024): epsilons in bins of width 0.5, bin n = 1, 2, ... scored 2 / 2^n, so 1 for eps < 0.5,
 * 1/2 below 1, 1/4 below 1.5, ...; the forgetting-quality score is its mean over the forget
 * set's examples (1 = every example indistinguishable within eps 0.5). Negative eps counts as
 * 0; NaN for NaN. */
double mt_eps_score(double eps);

/* ------------------------------------------------------------------------------------------
 * Two-sample Kolmogorov-Smirnov (ks.c)
 * ------------------------------------------------------------------------------------------ */
/* D = sup_x |F_a(x) - F_b(x)| of the two empirical CDFs, and the two-sided p-value
 * P(D' >= D) under H0 (both samples from one continuous distribution), as
 * scipy.stats.ks_2samp(a, b) (method='auto', alternative='two-sided'). The p-value is exact:
 * equal sizes use the reflection formula (scipy's _compute_prob_outside_square), unequal sizes
 * the lattice-path recursion of Hodges (1958) in Viehmann's (2021) stable form for 1 - p
 * (scipy's _compute_outer_prob_inside_method). scipy switches to an asymptotic p-value when
 * max(na, nb) > 10000; we stay exact (cost O(max(na,nb) * D * min(na,nb))), so only there may
 * our p differ from scipy's, by scipy's approximation error. TOFU's forget quality is this
 * p-value on truth ratios. D and p are NaN if na or nb is 0. */
void mt_ks_2samp(const double *a, size_t na, const double *b, size_t nb, double *D, double *p);

/* ------------------------------------------------------------------------------------------
 * Secret exposure (exposure.c), Carlini et al. 2019, "The Secret Sharer"
 *   Scores are log-perplexities: the total loss in nats of a secret's tokens given its prefix
 *   (LOWER = more likely). cand (n) are the losses of candidates drawn uniformly from the
 *   secret's format (the randomness space, of size 2^log2_space).
 * ------------------------------------------------------------------------------------------ */
/* Exposure by rank interpolation (Secret Sharer, section 4): with k = #(cand < secret) +
 * 0.5 #(cand == secret), the secret's estimated rank in the whole space is
 * r = 1 + k 2^log2_space / n, and exposure = log2_space - log2(r), evaluated in log2 so that
 * large spaces do not overflow; one worse than every candidate gets about 0. n sampled
 * candidates resolve a rank of at best 1 in n + 1, so the estimate is censored at
 * log2(n + 1) bits: a secret that beats every candidate (or nearly) gets that bound, and
 * *censored (when not NULL) is set to 1, meaning "at least this many bits". NaN if n is 0. */
double mt_exposure_rank(double secret, const double *cand, size_t n, double log2_space,
                        int *censored);

/* Exposure by distribution fit (Secret Sharer, section 4.3): fit a skew-normal to the candidates'
 * losses by the method of moments (mt_skewnorm_fit), then exposure = -log2 CDF(secret), i.e.
 * -log2 of the probability that a random candidate has a loss <= the secret's. The CDF is
 * computed in log space (mt_skewnorm_logcdf), so no cap is needed: exposure stays finite and
 * accurate far beyond where the CDF underflows (it is +inf only when the standardised score's
 * square overflows a double, |z| > 1e154). NaN if the fit fails (n < 3, zero spread). */
double mt_exposure_skewnorm(double secret, const double *cand, size_t n);

/* Goodness of fit of the skew-normal that mt_exposure_skewnorm extrapolates: the lower-tail
 * Anderson-Darling statistic (Ahmad, Sinclair and Spurr 1988), n int (F_n - F)^2 / F dF, which
 * weights the low-loss tail that exposure reads:
 *   AL^2 = -3n/2 + 2 sum_i F(x_i) - (1/n) sum_i (2i - 1) log F(x_(i))   (x sorted ascending),
 * with F the fitted SN's CDF (log F exact far in the tail). NaN if n is 0, omega <= 0 or out of
 * memory. */
double mt_skewnorm_ad_lower(const double *x, size_t n, double xi, double omega, double alpha);
/* The pass threshold on AL^2 when the parameters come from the same sample by the method of
 * moments (scripts/calibrate_skewnorm_gof.py simulates it: under a true SN the 95th percentile
 * is 0.31-0.43 for |alpha| <= 1 and ~1.0 for alpha 3-10 at n = 200; 2.0 at n = 1000, alpha 10,
 * where the moment fit itself is loose in the lower tail). */
#define MT_SN_GOF_THRESHOLD 1.0
/* mt_exposure_skewnorm with its check: *stat = AL^2 of the fit to cand, *pass = 1 when AL^2 <=
 * MT_SN_GOF_THRESHOLD and the exposure is at most 2 log2(n + 1) bits (the secret's fitted tail
 * probability is >= 1/(n+1)^2: beyond that the value is the family's shape, not the data's).
 * NaN exposure and stat, pass 0, if the fit fails. */
double mt_exposure_skewnorm_checked(double secret, const double *cand, size_t n, double *stat,
                                    int *pass);

/* Skew-normal SN(xi, omega, alpha): density 2/omega phi(z) Phi(alpha z), z = (x - xi)/omega
 * (Azzalini 1985; scipy.stats.skewnorm(a=alpha, loc=xi, scale=omega)). */
/* Method-of-moments fit, as scipy.stats.skewnorm.fit(x, method='mm'): the sample skewness g1
 * (biased, m3 / m2^1.5, as scipy.stats.skew) gives delta = alpha / sqrt(1 + alpha^2) in closed
 * form; then omega^2 = m2 / (1 - 2 delta^2 / pi) and xi = mean - omega delta sqrt(2/pi), with m2
 * the population variance (ddof 0). |g1| is clamped to MT_SKEWNORM_MAX_SKEW, below the family's
 * maximum 0.9952717, so alpha stays finite (scipy clamps at the maximum and returns alpha = inf).
 * Maximum likelihood (scipy's default fit) is not used: it needs an optimiser and is unstable
 * for |g1| near the maximum. UB_EARG if n < 3 or the sample has zero variance. */
#define MT_SKEWNORM_MAX_SKEW 0.99
ub_status mt_skewnorm_fit(const double *x, size_t n, double *xi, double *omega, double *alpha,
                          ub_err *e);
/* CDF and log CDF. With z = (x - xi)/omega, CDF = Phi(z) - 2 T(z, alpha), evaluated without
 * cancellation: for z <= 0, CDF = (1/pi) int_{atan alpha}^{pi/2} exp(-z^2 / (2 cos^2 t)) dt (a
 * positive integrand, from T(z, inf) = Phi(z)/2), integrated by adaptive Gauss-Kronrod with the
 * peak factored out so the log CDF is exact in the far left tail; for z > 0 through the
 * survival function of SN(-alpha) at -z. Accuracy (checked against mpmath): relative ~1e-13 on
 * the CDF and on the log CDF (absolute ~1e-16 where log CDF ~ 0) for |alpha| <= 1e3 (the fit
 * gives |alpha| <= 28); ~1e-9 for |alpha| ~ 1e8 with |z| < 1e-6. Finite |alpha| <= 1e100;
 * omega <= 0 gives NaN. */
double mt_skewnorm_cdf(double x, double xi, double omega, double alpha);
double mt_skewnorm_logcdf(double x, double xi, double omega, double alpha);
/* Owen's T function T(h, a) = 1/(2 pi) int_0^a exp(-h^2 (1 + x^2) / 2) / (1 + x^2) dx, computed
 * as 1/(2 pi) int_0^{atan a} exp(-h^2 / (2 cos^2 t)) dt by adaptive Gauss-Kronrod (relative
 * accuracy about 1e-13; scipy.special.owens_t). */
double mt_owens_t(double h, double a);

/* ------------------------------------------------------------------------------------------
 * Membership scores of one text (mia_scores.c)
 *   logp (n): natural-log probabilities of the text's n tokens, each given its prefix.
 * ------------------------------------------------------------------------------------------ */
/* Min-K% Prob (Shi et al. 2023, "Detecting Pretraining Data from Large Language Models"): the
 * mean of the lowest m = ceil(k n) token log-probabilities (at least 1). Higher = member.
 * ceil(k n) is taken with a 1e-9 slack so that k = 0.1, n = 30 gives 3, not 4 from the rounding
 * of 0.1 * 30. (The authors' code uses int(k n), i.e. floor.) NaN if n is 0 or k is not in
 * (0, 1]. */
double mt_mink(const float *logp, size_t n, double k);
/* Min-K%++ (Zhang et al. 2024): per token z = (logp - mu) / sigma, where mu (n) and sigma (n)
 * are the mean and the STANDARD DEVIATION (not the variance) of log p(v) over the vocabulary v
 * under the model's next-token distribution at that position; then the mean of the lowest
 * ceil(k n) z (as mt_mink). sigma <= 0 (a one-hot next-token distribution) is replaced by
 * MT_MINKPP_SIGMA_EPS. NaN if n is 0 or k is not in (0, 1]. */
#define MT_MINKPP_SIGMA_EPS 1e-12
double mt_minkpp(const float *logp, const float *mu, const float *sigma, size_t n, double k);
/* Length in bytes of the zlib stream of bytes (n) at level 6 (memLevel 8, windowBits 15, default
 * strategy): equal to Python's len(zlib.compress(b)) (level -1 means 6) with the same zlib.
 * Streams through a small buffer, so n may be large. Returns 0 (never a valid length: the
 * smallest stream is 8 bytes) if zlib fails. */
size_t mt_zlib_len(const void *bytes, size_t n);
/* zlib score (Carlini et al. 2021, "Extracting Training Data from Large Language Models"): their
 * ratio is log-perplexity / zlib entropy, lower = member; we return -(loss_nats / zlib_len) so
 * higher = member. Carlini et al. (and Shi et al.'s Min-K% code) use the MEAN token loss
 * (log-perplexity) here, not the total: pass the mean to reproduce them. NaN if zlib_len is 0. */
double mt_zlib_score(double loss_nats, size_t zlib_len);

/* ------------------------------------------------------------------------------------------
 * Statistics over seeds (stats.c)
 * ------------------------------------------------------------------------------------------ */
/* Mean and Student-t 95% confidence half-width t_{0.975, n-1} sd / sqrt(n), sd with ddof 1.
 * n = 1: half_width NaN; n = 0: both NaN. Callers pass finite values (no NaN skipping). */
void mt_mean_ci95(const double *x, size_t n, double *mean, double *half_width);
/* Student t with df > 0 degrees of freedom (df need not be an integer: Welch). Survival
 * function P(T > t) through the regularized incomplete beta function (continued fraction), as
 * scipy.stats.t.sf. Relative accuracy (checked against mpmath): ~1e-13 for df <= 1e4, ~1e-12 at
 * 1e5, ~5e-11 at 1e6. NaN if df <= 0 or not finite. */
double mt_t_sf(double t, double df);
/* Inverse CDF of Student t: safeguarded Newton on log sf, converged to ~1e-15, so as accurate as
 * mt_t_sf. scipy.stats.t.ppf (cephes stdtri) is itself off by up to ~3e-9 relative (t.ppf(0.975,
 * 2) = 4.302652729911275; exact (2p-1)/sqrt(2p(1-p)) = 4.30265272974946). p = 0 / 1 give -inf /
 * +inf, as does a quantile beyond the double range; NaN if p is outside [0, 1] or df is
 * invalid. */
double mt_t_quantile(double p, double df);
/* Two-sided p-value of the paired t-test on a (n), b (n) (scipy.stats.ttest_rel): t = mean(d) /
 * (sd(d) / sqrt(n)), d = a - b, df = n - 1. NaN if n < 2 or all differences are equal to their
 * mean and that mean is 0 (0/0); 0 if they are constant and nonzero. */
double mt_ttest_paired_p(const double *a, const double *b, size_t n);
/* Two-sided p-value of Welch's unequal-variance t-test (scipy.stats.ttest_ind(equal_var=False)):
 * t = (mean_a - mean_b) / sqrt(va/na + vb/nb), Welch-Satterthwaite df (1 when both variances are
 * 0, as scipy). NaN if na < 2 or nb < 2, or if both variances are 0 and the means are equal. */
double mt_welch_p(const double *a, size_t na, const double *b, size_t nb);

/* Residual knowledge: (v_method - v_retrain) / (v_original - v_retrain). 0 = like the retrained
 * model, 1 = like the original, < 0 past retrain, > 1 worse than the original. NaN when
 * |v_original - v_retrain| < 1e-12 (the metric cannot tell the two references apart). */
double mt_residual(double v_method, double v_retrain, double v_original);

/* Half-life in steps of an influence that decays as r(s) = exp(-lambda s), fitted by least
 * squares to the finite points (s_i > 0, r_i) (residual influences after s_i steps of continued
 * training; r = 1 at s = 0 by construction). INFINITY when the fit's half-life reaches bound
 * (the data show no decay the horizon resolves; use a few times the longest s_i); NaN without
 * points. */
double mt_decay_half_life(const double *s, const double *r, size_t n, double bound);
/* ------------------------------------------------------------------------------------------
 * Cluster bootstrap and multiple testing (resample.c)
 *   Posts and secrets of one user are not independent: the user (cluster) is the unit that is
 *   resampled. Clusters are given as CSR: cluster j owns items item[start[j] .. start[j+1]).
 * ------------------------------------------------------------------------------------------ */
/* n clusters drawn uniformly with replacement from 0..n-1 into draw (n). */
void mt_boot_draw(ub_rng *r, size_t n, size_t *draw);
/* The items of the drawn clusters draw (nd), in draw order, into idx, and for each the label
 * label0 + (its position in draw), so a cluster drawn twice counts as two clusters. Either
 * output may be NULL; returns the number of items (call with both NULL to size them). */
size_t mt_boot_gather(const size_t *start, const size_t *item, const size_t *draw, size_t nd,
                      size_t *idx, int64_t *label, int64_t label0);
/* The q-quantile (0 <= q <= 1) of sorted x (n), linear interpolation between order statistics
 * (numpy.percentile's default). NaN if n is 0. */
double mt_percentile_sorted(const double *x, size_t n, double q);
/* A two-level interval for a mean over S seeds of a statistic, from full (S): its value in each
 * seed, and rep (S, B): B within-seed user-bootstrap replicates per seed (NaN = undefined in
 * that replicate). Each of R outer replicates is T = (mean over seeds of rep[s][b], one index b
 * for every seed) + g sqrt(V / S), g ~ Student t with S - 1 degrees of freedom, clipped to
 * [lo, hi] (the statistic's range). The user part: with one split for all seeds (shared = 1)
 * replicate b is the same user draw in each seed, so the users' uncertainty does not average
 * out over seeds. The seed part (training noise) V: shared = 1: the seeds' variance s2 of full;
 * shared = 0 (each seed draws its own users, so s2 already holds their part): max(0, s2 - the
 * mean over seeds of the replicates' variance). A t quantile, not a resample of the seeds,
 * because 3 seeds resampled understate the spread (plug-in variance, normal tails; coverage
 * measured by scripts/bootstrap_coverage.py). S = 1: users only. lo, hi: the 2.5% and 97.5%
 * percentiles of T (inside [lo, hi]); p: two-sided bootstrap p-value of "the mean is 0",
 * min(1, 2 (1 + min(#{T <= 0}, #{T >= 0})) / (n + 1)) over the n kept replicates (a replicate
 * with no finite rep is dropped; the smallest p is 2 / (n + 1)). Seeded (seed, stream). All NaN
 * and n = 0 when nothing is defined. */
typedef struct mt_boot_ci {
    double lo, hi, p;
    size_t n;
} mt_boot_ci;
ub_status mt_boot_hier(const double *rep, const double *full, size_t S, size_t B, int shared,
                       double lo, double hi, size_t R, uint64_t seed, uint64_t stream,
                       mt_boot_ci *out, ub_err *e);
/* Fisher's method for n independent p-values (non-finite ones skipped): X = -2 sum log p_i,
 * p = P(chi2_{2k} >= X), k the finite ones, as scipy.stats.combine_pvalues(method='fisher').
 * A p of 0 gives 0; NaN if none is finite. */
double mt_fisher_p(const double *p, size_t n);
/* Holm-Bonferroni adjusted p-values over the finite p (n) (non-finite: NaN in adj): sorted
 * ascending, adj_(j) = max over i <= j of min(1, (m - i) p_(i)) with m the finite ones and i
 * from 0, as statsmodels multipletests(method='holm'). Reject at family-wise level alpha where
 * adj <= alpha. */
ub_status mt_holm_adjust(const double *p, size_t n, double *adj, ub_err *e);

#endif
