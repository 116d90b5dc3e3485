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
    size_t *zlen;    /* zlib-compressed bytes of each post as trained (handle prefix included) */
    int author;      /* posts are "HANDLE: text" (cfg post_format "author") */
    char sha256[65]; /* of the corpus file's bytes */
} run_corpus;
/* Shared by run.c and run_grid.c. */
ub_status run_mkdir_p(const char *dir, ub_err *e);
void run_cfg_string(const ub_run_cfg *c, char *buf, size_t cap);
ub_status run_generate_corpus(const ub_run_cfg *cfg, const char *path, ub_err *e);

ub_status run_corpus_encode(run_corpus *rc, int author, int threads, ub_err *e);
/* The ids of "HANDLE: " + text (handle only when rc->author) into out (cap ids): a cloze's
 * context. Returns the number of ids, or -1 when they do not fit. */
int run_encode_prompt(const run_corpus *rc, int64_t user, const char *text, int32_t *out, int cap);

/* A set of posts, owned; view is what methods and scoring take. */
typedef struct run_set {
    int32_t *ids;
    size_t *off;
    int64_t *user;
    int64_t *post; /* corpus post index */
    size_t *zlen;  /* zlib-compressed bytes of each post's text (scored sets only, else NULL) */
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
    M_AUC_LOSS, M_AUC_ZLIB, M_AUC_MINK, M_AUC_MINKPP, M_AUC_REF, M_TPR1_LOSS, M_TPR01_LOSS,
    M_PRIVLEAK, M_AUC_USER, M_AUC_USER_REF, M_AUC_RETAIN, M_KS_D, M_KS_P, M_KL_F, M_KL_R,
    M_EM_F, M_EM_N, M_ES_F, M_ES_N,
    M_EXP_R0, M_EXP_R1, M_EXP_R4, M_EXP_R16, M_EXP_S0, M_EXP_S1, M_EXP_S4, M_EXP_S16,
    M_EXT0, M_EXT1, M_EXT4, M_EXT16, M_EXTB0, M_EXTB1, M_EXTB4, M_EXTB16, M_KNOW_CITY, M_KNOW_SENS, M_KNOW_RANK,
    M_RES_AUC, M_RES_LOSS_F, M_RES_USER, M_RES_EXP16, M_RES_KNOW,
    M_COST_FLOPS, M_COST_REL, M_COST_REL_USER, M_MEM_MB,
    M_N_METRICS
};
extern const char *const run_metric_names[M_N_METRICS];
extern const char *const run_metric_docs[M_N_METRICS];
extern const int run_exposure_counts[4]; /* 0, 1, 4, 16 */

/* Model slots: original, retrain, retrain_ref (retrain with another training seed: the
 * reference model of the reference attacks, and the noise floor between two exact retrains),
 * continued x3, sisa_full, sisa, then the methods. */
enum { RUN_REF = 2, RUN_CONTINUED = 3, RUN_SISA_FULL = 6, RUN_SISA = 7, RUN_FIRST_METHOD = 8 };

ub_status run_set_gather(run_set *out, const run_corpus *rc, const uint8_t *take, size_t cap,
                         uint64_t seed, uint64_t stream, ub_err *e);

/* ---- per model results (bench/run.c) ---- */
/* The scored sets, in the order of model_result.s */
enum { S_F, S_R, S_N, S_FF, S_NF, N_SCORED };

typedef struct model_result {
    char name[48];
    ub_post_scores s[N_SCORED];
    double *zlib[N_SCORED];  /* per post: -loss / zlib bytes */
    double *exp_rank, *exp_sn, *secret_loss; /* per secret of F */
    double *extracted;       /* per secret of F: 1 when greedy decoding from its context
                              * reproduces it exactly, else 0 */
    double *extracted_beam;  /* ... when beam search does */
    double *probe_rank;      /* per knowledge probe: rank of the true value (1 = first) */
    double seconds, flops;
    double flops_one_user; /* SISA: mean cost of deleting one user of F alone; else NaN */
    size_t extra_bytes;
    double metric[M_N_METRICS];
} model_result;

/* F's secrets and their sampled candidates (the same for every model of a seed). */
typedef struct secret_set {
    size_t n;
    int64_t *secret;  /* (n) index into corpus secrets */
    int32_t **ctx;    /* (n) BOS + prefix ids */
    int *n_ctx;
    int32_t **ids;    /* (n) candidate ids, candidate 0 = the secret */
    size_t **off;     /* (n) (candidates+2) */
} secret_set;
/* F's secrets with n_cand candidates each drawn from their formats (bench/run_probe.c). */
ub_status secrets_make(secret_set *ss, const run_corpus *rc, const run_scenario *sc, int n_cand,
                       uint64_t seed, ub_err *e);
void secret_set_free(secret_set *s);

/* Knowledge probes about F's users (bench/run_probe.c): "HANDLE: " + the corpus's phrase, and
 * every value of the category as a candidate continuation. */
typedef struct probe_set {
    size_t n;
    int64_t *user;    /* (n) */
    int *kind;        /* (n) CORPUS_PROBE_* */
    int *truth;       /* (n) index of the true value among the candidates */
    int *n_values;    /* (n) candidates */
    int32_t **ctx;    /* (n) BOS + "HANDLE: " + phrase */
    int *n_ctx;
    int32_t **ids;    /* (n) candidate continuations: value + rest of the phrase */
    size_t **off;
} probe_set;
ub_status run_probes_make(probe_set *ps, const run_corpus *rc, const run_scenario *sc, ub_err *e);
void run_probes_free(probe_set *ps);
/* Rank of the true value of each probe (ties count half) by the summed loss of the candidates. */
ub_status run_score_probes(double *rank, gpt_model **ms, int nm, const probe_set *ps, ub_err *e);
/* Extraction of each secret from its context, as many tokens as the secret has: greedy[i] /
 * beam[i] = 1 when greedy decoding / beam search of the given width returns exactly the
 * secret's tokens. */
ub_status run_extract_secrets(double *greedy, double *beam, int width, gpt_model **ms, int nm,
                              const secret_set *ss, ub_err *e);

/* Scores of models ms[0..nm) (averaged probabilities when nm > 1) on the seed's sets and
 * secrets; ref = retrain (KL on F and retained posts), or NULL for retrain itself. */
ub_status run_score_models(model_result *r, gpt_model **ms, int nm, gpt_model *ref,
                           const run_corpus *rc, const run_scenario *sc, const secret_set *ss,
                           const probe_set *ps, const ub_run_cfg *cfg, ub_err *e);
/* The set's posts as one token stream (a view: t->ids points into s). */
void run_tokens_of(const run_set *s, int vocab, corpus_tokens *t);

/* Metrics (bench/run_metrics.c): those of r alone, then those relative to original, retrain
 * and the reference model retrain_ref (after every model of the seed has its own). */
ub_status run_metrics_own(model_result *r, const run_corpus *rc, const secret_set *ss,
                          const probe_set *ps, ub_err *e);
ub_status run_metrics_relative(model_result *r, const model_result *orig,
                               const model_result *ret, const model_result *refm,
                               const run_scenario *sc, ub_err *e);

/* SISA (bench/run_sisa.c): the shard ensemble trained on all members (full) and after deleting
 * F (del), both scored. */
ub_status run_sisa(model_result *full, model_result *del, const ub_run_cfg *cfg,
                   const run_corpus *rc, const run_scenario *sc, const gpt_config *mc,
                   const gpt_train_cfg *tc, const kn_tune *tu, const secret_set *ss,
                   const probe_set *ps, gpt_model *ret, ub_err *e);

#endif
