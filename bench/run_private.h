/* bench/run_private.h: what the files of the run share (not a public header). */
#ifndef UB_RUN_PRIVATE_H
#define UB_RUN_PRIVATE_H

#include "run.h"

/* The corpus with every post encoded (BOS text EOS): post i is ids[off[i] .. off[i+1]). */
typedef struct run_corpus {
    corpus c;
    corpus_bpe bpe;
    int32_t *ids;
    size_t *off;
    char sha256[65]; /* of the corpus file's bytes */
} run_corpus;
ub_status run_corpus_encode(run_corpus *rc, int threads, ub_err *e);

/* A set of posts, owned; view is what methods and scoring take. */
typedef struct run_set {
    int32_t *ids;
    size_t *off;
    int64_t *user;
    int64_t *post; /* corpus post index */
    size_t n;
    ul_posts view;
} run_set;
void run_set_free(run_set *s);

enum {
    RUN_TRAIN,          /* members' eligible posts: the original's training set */
    RUN_RETAIN,         /* the same without F: retrain's training set */
    RUN_FORGET,         /* F's training posts */
    RUN_RETAIN_EVAL,    /* a sample of RETAIN, scored */
    RUN_NONMEMBER,      /* posts of non-members matched to F by post count (a sample) */
    RUN_FORGET_FRESH,   /* F's fresh posts: never in any corpus */
    RUN_NONMEMBER_FRESH,/* the matched non-members' fresh posts (a sample) */
    RUN_N_SETS
};
extern const char *const run_set_names[RUN_N_SETS];

typedef struct run_scenario {
    corpus_split split;
    int64_t *forget_users; /* (n_forget) sorted */
    size_t n_forget;
    uint8_t *in_forget;    /* (n_users) */
    uint8_t *matched;      /* (n_users) non-members matched to F by post count (run_data.c) */
    run_set set[RUN_N_SETS];
} run_scenario;
ub_status run_scenario_make(run_scenario *sc, const run_corpus *rc, const ub_run_cfg *cfg,
                            uint64_t seed, ub_err *e);
void run_scenario_free(run_scenario *sc);

/* The metrics of one (seed, model), in this order (run_metric_names/docs in run.c). */
enum {
    M_LOSS_F, M_LOSS_R, M_LOSS_N, M_LOSS_FF, M_LOSS_NF, M_PPL_R_REL, M_PPL_N_REL,
    M_AUC_LOSS, M_AUC_ZLIB, M_AUC_MINK, M_AUC_MINKPP, M_TPR1_LOSS, M_TPR01_LOSS, M_PRIVLEAK,
    M_AUC_USER, M_AUC_RETAIN, M_KS_D, M_KS_P, M_KL_F, M_KL_R,
    M_EXP_R0, M_EXP_R1, M_EXP_R4, M_EXP_R16, M_EXP_S0, M_EXP_S1, M_EXP_S4, M_EXP_S16,
    M_RES_AUC, M_RES_LOSS_F, M_RES_USER, M_RES_EXP16,
    M_COST_FLOPS, M_COST_REL, M_COST_REL_USER, M_MEM_MB,
    M_N_METRICS
};
extern const char *const run_metric_names[M_N_METRICS];
extern const char *const run_metric_docs[M_N_METRICS];
extern const int run_exposure_counts[4]; /* 0, 1, 4, 16 */

/* Model slots: original, retrain, continued x3, sisa_full, sisa, then the methods. */
enum { RUN_FIRST_METHOD = 7 };

ub_status run_set_gather(run_set *out, const run_corpus *rc, const uint8_t *take, size_t cap,
                         uint64_t seed, uint64_t stream, ub_err *e);

#endif
