/* bench/eval/eval.h: a model's evaluation on a seed's scenario: its scores on the scored post
 * sets, on F's secrets and on the knowledge probes (eval/score_model.c, eval/probes.c), and the
 * metrics computed from them, each a row of one table (eval/metric_table.c). */
#ifndef UB_EVAL_H
#define UB_EVAL_H

#include "scenario.h"
#include "score.h"

/* What scoring depends on (part of the run's configuration, engine/run.h). */
typedef struct ub_score_cfg {
    double mink_k;   /* k of Min-K% and Min-K%++ */
    int beam_width;  /* beam search width of the extraction attack (5) */
    long enum_budget; /* exact-rank search: one model's forward rows per secret before it gives
                       * up (0: off; an ensemble of S models gets budget/S rows, each costing S
                       * forwards). 1536 by default: the quick preset's memorised 16x email
                       * (rank 1 of 1e6) needs 1130 rows, ~5.6x the rows of its 200 candidates */
    int boot;        /* user-bootstrap replicates per seed (ev_bootstrap; 200, 0 = none) */
    int shadows;     /* LiRA's shadow models per seed (engine/shadows.c; 0 = none, else even) */
    int ulira;       /* 1: U-LiRA and the per-user epsilon, every method applied to every
                      * shadow (needs shadows) */
} ub_score_cfg;

/* The scored sets, in the order of model_result.s, and the scenario set each one is. */
enum { S_F, S_R, S_N, S_FF, S_NF, N_SCORED };
extern const int ev_scored_set[N_SCORED];

/* Where a model's scoring time goes (model_result.t_phase; the run prints the sums). */
enum { EV_T_POSTS, EV_T_CANDIDATES, EV_T_EXACT, EV_T_EXTRACT, EV_T_PROBES, EV_N_PHASES };
enum { EV_MAX_METRICS = 128 }; /* room in model_result.metric; the table is checked against it */

/* Everything measured of one model (or SISA ensemble) in one seed. */
typedef struct model_result {
    char name[48];
    ub_post_scores s[N_SCORED];
    double *zlib[N_SCORED];  /* per post: -loss / zlib bytes */
    double *exp_rank, *exp_sn, *secret_loss; /* per secret of F */
    double *exp_censored;    /* per secret of F: 1 when exp_rank is a lower bound (the secret
                              * beat what the sampled candidates resolve), else 0 */
    double *exp_enum;        /* per secret of F: 1 exp_rank is the exact rank over the whole
                              * format; 0 not tried (space too large, or the sample predicts
                              * more better values than the budget resolves); -1 tried, over
                              * budget (exp_rank is the sampled estimate) */
    double *exp_sampled;     /* per secret of F: the sampled (censored) rank estimate, kept
                              * beside an enumerated exp_rank for comparison */
    double *enum_rows;       /* per secret of F: forward rows the exact-rank search used */
    double *sn_stat;         /* per secret of F: lower-tail Anderson-Darling statistic of the
                              * skew-normal fit to its candidates */
    double *sn_pass;         /* per secret of F: 1 when the fit passes and the secret is within
                              * the fit's extrapolation limit (mt_exposure_skewnorm_checked) */
    double *extracted;       /* per secret of F: 1 when greedy decoding from its context
                              * reproduces it exactly, else 0 */
    double *extracted_beam;  /* ... when beam search does */
    /* knowledge probes (scenario.h probe_set): per item and value (flattened, item i's values
     * from the sum of n_values before it), log p of the value after the item's context, and
     * that minus the mean log p of the value after the calibration handles of its form (the
     * other handles for a calibration item; NaN without any); per item, the rank of the true
     * value (1 = first, ties half; NaN without a truth) by log p and by the calibrated score */
    double *probe_logp, *probe_cal;
    double *probe_rank, *probe_rank_cal;
    /* U-LiRA (engine/shadows.c, --ulira): per F post (s[S_F]'s order) and shadow j, phi of the
     * post under this model's version of shadow j: the method applied to shadow j with the
     * shadow's own F users as its forget set where shadow j trained on the post's user
     * (run_set.sh_in), the shadow as trained where it did not; original: the shadows as trained
     * (no unlearning: the ceiling); NULL for the models it is not made for */
    double *ulira;           /* (n of S_F, shadows) */
    double seconds, flops;
    double t_phase[EV_N_PHASES]; /* wall seconds of ev_score_model's steps */
    int n_ens;               /* models whose probabilities are averaged per query (SISA: S) */
    double flops_one_user;   /* SISA: mean cost of deleting one user of F alone; else NaN */
    size_t extra_bytes;
    double metric[EV_MAX_METRICS]; /* (ev_n_metrics) in table order */
} model_result;
void model_result_free(model_result *r);

/* KL's reference: retrain, and its next-token distributions on F and on the retained posts,
 * computed on first use and kept for the seed (every model is scored against them). */
typedef struct ev_ref {
    gpt_model *model;              /* retrain */
    int built;
    gpt_ref_dists d[N_SCORED];     /* [S_F], [S_R] */
} ev_ref;
void ev_ref_free(ev_ref *r);

/* Scores of models ms[0..nm) (averaged probabilities when nm > 1) on the seed's sets, secrets
 * and probes; ref: retrain's (KL on F and retained posts), or NULL for retrain itself. */
ub_status ev_score_model(model_result *r, gpt_model **ms, int nm, ev_ref *ref,
                         const run_corpus *rc, const run_scenario *sc, const secret_set *ss,
                         const probe_set *ps, const ub_score_cfg *cfg, ub_err *e);
/* The knowledge probes' fields of r: ev_score_probes, then ev_probe_ranks. */
ub_status ev_score_knowledge(model_result *r, gpt_model **ms, int nm, const probe_set *ps,
                             ub_err *e);
/* Values of all probe items, summed (the length of model_result.probe_logp). */
size_t ev_probe_values(const probe_set *ps);
/* logp (ev_probe_values) = log p of every value of every probe item after its context. */
ub_status ev_score_probes(double *logp, gpt_model **ms, int nm, const probe_set *ps, ub_err *e);
/* From logp: cal (ev_probe_values) the calibrated scores, rank and rank_cal (ps->n) the ranks
 * of the true values (model_result's probe_* fields). A model that knows nothing about a
 * person prefers the same values after their handle as after the calibration handles, so
 * their true value's calibrated rank is at chance whatever the values' popularity. */
void ev_probe_ranks(const probe_set *ps, const double *logp, double *rank, double *cal,
                    double *rank_cal);
/* Extraction of each secret from its context, as many tokens as the secret has: greedy[i] /
 * beam[i] = 1 when greedy decoding / beam search of the given width returns exactly the
 * secret's tokens. */
ub_status ev_extract_secrets(double *greedy, double *beam, int width, gpt_model **ms, int nm,
                             const secret_set *ss, ub_err *e);

/* ---- exact rank (eval/enumerate.c) ----------------------------------------------------
 * Exposure from the secret's exact rank among all values of its format, by a branch-and-bound
 * over the format's token tree (Carlini et al. 2019, section 8). */
enum { EV_ENUM_MAX_BYTES = 128 }; /* longest lead + format */
#define EV_ENUM_MAX_SPACE 1e7     /* formats with more values keep the sampled estimate */
/* What the search asks of a model: for each row (the context is the callback's), the log p
 * of each row token (lp (rows->off[n])) and the log of the next-token distribution after the
 * row (dist (n, V)), as gpt_next_logprobs. */
typedef ub_status (*ev_next_fn)(void *ctx, const gpt_seqs *rows, float *lp, float *dist,
                                ub_err *e);
typedef struct ev_enum_result {
    double better; /* values whose loss is below the secret's (exact when resolved) */
    long rows;     /* rows evaluated (the search's cost: one forward row each) */
    int resolved;  /* 1: the search finished within its budget */
} ev_enum_result;
/* Counts the values of lead + format (D digit, N digit 1-9, \\x literal x; tokenized by bpe as
 * one text) whose summed token loss is below secret_loss, the secret's (its canonical tokens
 * secret (n_secret) are not counted). Stops unresolved before evaluating more than budget
 * rows. V: the row stride of dist (>= bpe->vocab_size). */
ub_status ev_enum_rank(const corpus_bpe *bpe, const char *lead, const char *format,
                       const int32_t *secret, int n_secret, double secret_loss, long budget,
                       ev_next_fn next, void *ctx, int V, ev_enum_result *out, ub_err *e);

/* ---- the metric table ------------------------------------------------------------------
 * One row per metric: its name (in results.h5, the report and --help), its definition, and
 * the function that computes it for one (seed, model). A metric is added by adding a row (and
 * its function, unless an existing one takes the row's operands). */

/* What a metric function sees: the model's scores, those of the other models of the seed
 * (original, retrain, the reference model), the scenario, and the metric values so far. */
typedef struct ev_ctx {
    const model_result *r;    /* the model measured */
    const model_result *orig; /* original: the deployed model */
    const model_result *ret;  /* retrain: the exact answer */
    const model_result *ref;  /* retrain_ref: retrain with another training seed */
    const run_corpus *rc;
    const run_scenario *sc;
    const secret_set *ss;
    const probe_set *ps;
    int src;                  /* derived rows: the index of their src metric */
} ev_ctx;

struct ev_metric;
typedef ub_status (*ev_fn)(const ev_ctx *c, const struct ev_metric *m, double *out, ub_err *e);

typedef struct ev_metric {
    const char *name;
    const char *doc;
    ev_fn fn;
    int attack;      /* membership attacks: which (EV_A_*) */
    int a, b;        /* the function's operands: scored sets (S_*) or a field, as the
                      * function documents */
    double arg;      /* a parameter: an FPR, an insertion count */
    const char *src; /* derived metrics: the metric whose values of this model, original and
                      * retrain the function combines (computed after every own metric) */
    double lo, hi;   /* the range of its values (every row states one; +-INFINITY: open) */
    int fixed;       /* 1: not a function of the scored users (costs): the report's interval
                      * is over seeds only; 0: resampled by ev_bootstrap */
} ev_metric;

/* Membership attacks: the per-post score each one ranks posts by (higher = member). */
enum { EV_A_LOSS, EV_A_ZLIB, EV_A_MINK, EV_A_MINKPP, EV_A_REF, EV_A_LIRA, EV_A_LIRA_OFF };

extern const ev_metric ev_metrics[];
extern const int ev_n_metrics;
/* Index of the metric called name, or -1. */
int ev_metric_index(const char *name);
/* Every metric of the seed's models res[0..n): first the rows without src for every model,
 * then the derived rows (which read original's and retrain's values). */
ub_status ev_measure(model_result *res, int n, int i_orig, int i_ret, int i_ref,
                     const run_corpus *rc, const run_scenario *sc, const secret_set *ss,
                     const probe_set *ps, ub_err *e);

/* ---- U-LiRA and the per-user epsilon (eval/metric_fns.c) ------------------------------
 * The NeurIPS 2023 unlearning challenge's delta; the chance level's draws and their seed. */
#define EV_EPS_DELTA 1e-5
enum { EV_ULIRA_NULL_R = 100 };
#define EV_ULIRA_NULL_SEED 0x4E55ull
/* Each F user's epsilon under r's U-LiRA scores (users sorted; eps and users room for F's
 * posts); *nu = 0 when r has none. */
ub_status ev_ulira_eps(const run_scenario *sc, const model_result *r, double *eps,
                       int64_t *users, size_t *nu, ub_err *e);

/* ---- the user-level bootstrap of one seed (eval/bootstrap.c) ---------------------------
 * Posts, fresh posts, secrets and probes of one user are not independent, so the user is what
 * is resampled, stratified by group: F's users (their posts, fresh posts, secrets and probes),
 * the matched non-members (their posts and fresh posts) and the retained users with scored
 * posts. Replicate b draws each group's users with replacement (a user drawn twice counts as two
 * users), gathers what they own into resampled views of every model's scores (the same draw for
 * every model, so differences between models stay paired by users) and runs ev_measure on them.
 * The draws come from ub_rng(split_seed, EV_BOOT_STREAM + b): the seed of the scenario, so that
 * with one split for every seed replicate b is the same user draw in every seed.
 * out (B, n, ev_n_metrics): every metric of every model in every replicate. Replicates run on
 * `threads` threads, with the same bytes on any number of them. */
enum { EV_BOOT_DEFAULT = 200 };
#define EV_BOOT_STREAM 0xB0075EEDull
ub_status ev_bootstrap(const model_result *res, int n, int i_orig, int i_ret, int i_ref,
                       const run_corpus *rc, const run_scenario *sc, const secret_set *ss,
                       const probe_set *ps, int B, uint64_t split_seed, int threads,
                       double *out, ub_err *e);

#endif
