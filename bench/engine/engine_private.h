/* bench/engine/engine_private.h: what the engine's files share. */
#ifndef UB_ENGINE_PRIVATE_H
#define UB_ENGINE_PRIVATE_H

#include "results.h"
#include "run.h"

/* Model slots: original, retrain, retrain_ref (retrain with another training seed: the
 * reference model of the reference attacks, and the noise floor between two exact retrains),
 * continued at P points (run_slot_*), sisa_full, sisa, then the methods. */
enum { RUN_ORIG = 0, RUN_RET = 1, RUN_REF = 2, RUN_CONTINUED = 3, RUN_MAX_MODELS = 128 };

/* Steps of continued training after which slot RUN_CONTINUED + k (k = 0 .. points-1) is
 * scored: log-spaced by factors of 2 up to the whole budget (3 points: 1/4, 1/2, all of it),
 * at least one step. */
static inline long run_continued_steps(long budget, int points, int k) {
    long s = budget >> (points - 1 - k);
    return s < 1 ? 1 : s;
}

typedef struct run_state {
    const ub_run_cfg *cfg;
    const ub_run_observer *obs;
    const ub_log *log;         /* obs->log, or NULL */
    kn_tune tune;
    run_corpus rc;
    const ul_method **methods;
    int n_methods;
    int n_models;              /* the slots above */
    int n_cont;                /* continued's points (cfg->train.continued_points) */
    char names[RUN_MAX_MODELS][48];
    double *metrics;           /* (seeds, n_models, ev_n_metrics) */
    double *seconds;           /* (seeds, n_models) wall time: timings.h5, apart from the
                                * byte-reproducible results.h5 */
    double score_seconds;      /* wall time spent scoring and measuring, all seeds: the run
                                * prints its share of the total */
    double score_phase[EV_N_PHASES]; /* ... of it in ev_score_model's steps (model_result) */
    double measure_seconds;    /* ... of it in the metrics and the user bootstrap */
    double shadow_score_seconds; /* the shadows' scoring on each seed's targets (run_shadows) */
    int qbits[UB_MAX_QUANT];   /* the quantization attack's widths (cfg->quantize) */
    int n_q;
    int rl_steps[UB_MAX_RELEARN]; /* the relearning attack's step counts (cfg->relearn) */
    int n_rl;
} run_state;

static inline int run_slot_sisa_full(const run_state *rs) { return RUN_CONTINUED + rs->n_cont; }
static inline int run_slot_sisa(const run_state *rs) { return RUN_CONTINUED + rs->n_cont + 1; }
static inline int run_slot_method(const run_state *rs, int k) {
    return RUN_CONTINUED + rs->n_cont + 2 + k;
}
/* The quantization attack's bases: original (0), retrain (1), then the methods (2 + k); the
 * slot of base b rounded to width qbits[qi] ("NAME@qB") comes after every method. */
static inline int run_n_qbase(const run_state *rs) { return 2 + rs->n_methods; }
static inline int run_slot_quant(const run_state *rs, int qi, int b) {
    return run_slot_method(rs, rs->n_methods) + qi * run_n_qbase(rs) + b;
}

/* The relearning attack's slots ("NAME@rlN"), point p (rl_steps[p]) of base b as above, after
 * the quantized ones; then the run's slot count. */
static inline int run_slot_relearn(const run_state *rs, int p, int b) {
    return run_slot_quant(rs, rs->n_q, 0) + p * run_n_qbase(rs) + b;
}
static inline int run_n_slots(const run_state *rs) { return run_slot_relearn(rs, rs->n_rl, 0); }

/* The recipe's schedule for a model of mc trained with seed (engine/train_cache.c). */
void run_train_cfg(const ub_train_recipe *t, const gpt_config *mc, uint64_t seed,
                   gpt_train_cfg *c);
/* Train (or load from the cache, DIR/models/NAME-HASH.h5) a model of mc on set with tc;
 * *seconds is NaN when it came from the cache. */
ub_status run_train_cached(const run_state *rs, gpt_model *m, const char *name,
                           const run_set *set, const gpt_config *mc, const gpt_train_cfg *tc,
                           double *seconds, ub_err *e);
/* 1 if the file at path has the n string root attributes names[i] == want[i], 0 if one
 * differs, -1 (e set) if the file or an attribute cannot be read: a grid's finished task and
 * a run's finished seed are recognised by it (engine/grid.c, engine/run.c). */
int run_attrs_equal(const char *path, const char *const *names, const char *const *want, int n,
                    ub_err *e);
/* Method um applied to a fresh copy of uc->original into out (empty on entry), or loaded from
 * the cache: DIR/models/METHOD-HASH.h5, named by a hash of the original's weights, the method's
 * settings as run, its seed, F's, the retained and the neutral posts, the schedule and the
 * tunables, with the cost as attributes. A run killed later resumes from it; *seconds is NaN
 * when it came from the cache. */
ub_status run_method_cached(const run_state *rs, const ul_method *um, const ul_ctx *uc,
                            gpt_model *out, ul_cost *cost, double *seconds, ub_err *e);
/* The training posts (eligible, not fresh) of the users in mask, less those in excl (NULL:
 * none), in corpus order (engine/shadows.c). */
ub_status run_gather_users(run_set *out, const run_corpus *rc, const run_scenario *sc,
                           const uint8_t *mask, const uint8_t *excl, uint64_t seed,
                           uint64_t stream, ub_err *e);
/* The seed's K = cfg->score.shadows shadow models for LiRA, trained (or cached) and scored on
 * the targets; their per-post means and pooled sds into sc (engine/shadows.c). With
 * cfg->score.ulira, every method is applied to every shadow too, and the U-LiRA scores go into
 * res[RUN_ORIG].ulira and each method slot's (eval.h model_result.ulira). */
ub_status run_shadows(run_state *rs, run_scenario *sc, model_result *res,
                      const gpt_config *mc, const gpt_train_cfg *tc, uint64_t seed,
                      uint64_t split_seed, ub_err *e);
/* The shadows' pool and membership into sc (pool, n_pool, shadow_in, shadow_m_in; the same
 * for every seed of a corpus and recipe), and shadow j trained or loaded from the cache
 * (user_in: room for a mask over the users; *t2 its training schedule). */
ub_status run_shadow_design(const run_state *rs, run_scenario *sc, ub_err *e);
ub_status run_shadow_model(const run_state *rs, const run_scenario *sc, int j,
                           const gpt_config *mc, const gpt_train_cfg *tc, uint8_t *user_in,
                           gpt_model *m, gpt_train_cfg *t2, double *secs, ub_err *e);
/* Chained deletion requests (cfg->chain) on one seed's scenario into c (engine/chain.c):
 * original and retrain measured on the users forgotten so far, SISA trained anew and deleting
 * each request, every method applied request after request to its own previous output. */
ub_status run_chain_seed(run_state *rs, const run_scenario *sc, const gpt_model *orig,
                         gpt_model *ret, const gpt_config *mc, const gpt_train_cfg *tc,
                         uint64_t seed, uint64_t split_seed, run_chain *c, ub_err *e);
/* One seed: scenario, training, unlearning, scoring, metrics, its group in results.h5
 * (engine/seed.c). */
ub_status run_seed(run_state *rs, int si, hid_t file, ub_err *e);
/* What every engine command does first: the kernel tunables checked and applied, the
 * configuration checked, the output directory (out_dir = 1) and the model cache made; `what`
 * names the command in messages. */
ub_status run_begin(run_state *rs, const char *what, int out_dir, ub_err *e);
/* Open (or first generate) the run's corpus into rs->rc (engine/run.c). */
ub_status run_open_corpus(run_state *rs, ub_err *e);
/* mkdir -p. */
ub_status run_mkdir_p(const char *dir, ub_err *e);
/* Generate the corpus of src (its profile and seed) into path. */
ub_status run_generate_corpus(const ub_source_cfg *src, int threads, const char *path,
                              ub_err *e);

#endif
