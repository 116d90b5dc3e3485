/* bench/scenario/scenario.h: a seed's deletion scenario, the first stage of the run. From the
 * corpus and a seed: the split (members, non-members, excluded by policy), the forget set F by
 * its rule, non-members matched to F by post count, the post sets that are trained on and
 * scored, F's planted secrets with sampled candidates, and knowledge probes about F's users.
 * Everything here is data; no model is involved (eval/ scores models on it). */
#ifndef UB_SCENARIO_H
#define UB_SCENARIO_H

#include "corpus.h"
#include "methods.h"

/* What the scenario depends on (part of the run's configuration, engine/run.h). */
typedef struct ub_scenario_cfg {
    const char *forget_rule;   /* random, heavy, secrets, sensitive, objected */
    long forget_users;         /* size of F, or 0: forget_frac of the members */
    double forget_frac;
    double nonmember_frac;     /* share of eligible users held out as non-members */
    int all_posts;             /* no policy: every corpus-proper post is eligible */
    const char *post_format;   /* "author": a post is trained and scored as "HANDLE: text", so
                                * a model can learn who wrote what (knowledge probes need it);
                                * "text": the post's text alone */
    uint64_t split_seed;       /* 0: each seed draws its own F and non-members; else this split
                                * for every seed (then seeds vary the training only) */
    int eval_posts;            /* cap on retained posts and non-members' fresh posts scored
                                * per seed */
    int nonmember_posts;       /* cap on non-member posts scored per seed: the membership
                                * attacks' negatives (at least 500 resolve a 1% FPR) */
    int candidates;            /* sampled candidates per secret for exposure */
    const uint8_t *exclude;    /* (n_users) users left out of the split altogether (neither
                                * trained on nor scored: the budget sweep's validation leaves
                                * out every test F's users), or NULL; not in the config string */
} ub_scenario_cfg;

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
/* Load the corpus file at path, hash its bytes and encode every post (author: with handles). */
ub_status run_corpus_open(run_corpus *rc, const char *path, int author, int threads, ub_err *e);
void run_corpus_free(run_corpus *rc);
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
    double *mu_in, *mu_out; /* LiRA: the mean logit-scaled score of each post over the shadow
                             * models that trained on its user / did not (F's and the
                             * non-members' scored posts, with shadows; else NULL) */
    uint8_t *sh_in;         /* U-LiRA (F's scored posts, with shadows and --ulira; else NULL):
                             * (n, shadows) 1 where shadow j trained on the post's user (and
                             * each method's version of shadow j unlearned it) */
    size_t n;
    ul_posts view;
} run_set;
void run_set_free(run_set *s);
/* Gather the posts i with take[i] (in corpus order), at most cap of them (a seeded sample when
 * there are more; cap 0 = all). */
ub_status run_set_gather(run_set *out, const run_corpus *rc, const uint8_t *take, size_t cap,
                         uint64_t seed, uint64_t stream, ub_err *e);
/* In place of each post of f, the neutral answer "HANDLE: " UL_IDK_TEXT as a post (BOS text
 * EOS), encoded by the corpus's tokenizer: ul_ctx.idk (relabel's idk mode, IdkDPO). post[i] is
 * f's post it replaces. */
ub_status run_idk_set(run_set *out, const run_corpus *rc, const run_set *f, ub_err *e);
/* The set's posts as one token stream (a view: t->ids points into s). */
void run_tokens_of(const run_set *s, int vocab, corpus_tokens *t);

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
    uint8_t *matched;      /* (n_users) non-members matched to F by post count */
    run_set set[RUN_N_SETS];
    /* the shadow pool (engine/shadows.c; K = 0: none): K models, each trained on the original's
     * recipe with a share of the users pool[0..n_pool) (every user the policy admits), each
     * user in exactly shadow_m_in of them */
    int shadows, shadow_m_in;
    int64_t *pool;         /* (n_pool) sorted */
    size_t n_pool;
    uint8_t *shadow_in;    /* (shadows, n_pool) 1: shadow j trained on pool user p */
    double lira_sd_in, lira_sd_out; /* the pooled sds over every target (global variance) */
} run_scenario;
/* The scenario of seed (the split seed, when cfg->split_seed fixes it). */
ub_status run_scenario_make(run_scenario *sc, const run_corpus *rc, const ub_scenario_cfg *cfg,
                            uint64_t seed, ub_err *e);
void run_scenario_free(run_scenario *sc);

enum { RUN_MAX_VALUE = 256 }; /* longest secret value, in bytes (and so in tokens) */

/* F's secrets and their sampled candidates (the same for every model of a seed). */
typedef struct secret_set {
    size_t n;
    int n_cand;       /* sampled candidates per secret, besides the secret itself */
    int64_t *secret;  /* (n) index into corpus secrets */
    int32_t **ctx;    /* (n) BOS + prefix ids */
    int *n_ctx;
    int32_t **ids;    /* (n) candidate ids, candidate 0 = the secret */
    size_t **off;     /* (n) (n_cand+2) */
} secret_set;
/* F's secrets with n_cand candidates each drawn from their formats (scenario/secrets.c). */
ub_status secrets_make(secret_set *ss, const run_corpus *rc, const run_scenario *sc, int n_cand,
                       uint64_t seed, ub_err *e);
void secret_set_free(secret_set *s);

/* Knowledge probes (scenario/knowledge.c): "HANDLE: " + the corpus's phrase, and every value of
 * the category as a candidate continuation. Items of three groups: probes about F's users, about
 * a seeded sample of retained members (as many users as F: does a method forget them too?), and
 * calibration items: each phrase a probe uses (a form: one kind in one language) after the
 * handles of RUN_PROBE_CAL non-members of that language. A non-member's handle was never
 * trained on, so what a model prefers after it is what it prefers after anyone's: the baseline
 * a probe's values are compared to (eval/probes.c). */
enum { RUN_PROBE_F = 0, RUN_PROBE_RETAINED = 1, RUN_PROBE_CALIB = 2 };
enum { RUN_PROBE_CAL = 4,        /* calibration handles per form */
       RUN_PROBE_MAX_FORMS = 64 }; /* distinct phrases (generated corpora: 4 kinds x 2) */
typedef struct probe_set {
    size_t n;         /* items: F's first, then the retained sample's, then the calibration */
    int64_t *user;    /* (n) */
    int *group;       /* (n) RUN_PROBE_F, _RETAINED, _CALIB */
    int *kind;        /* (n) CORPUS_PROBE_* */
    int *form;        /* (n) items of one form share the phrase and the values */
    int *truth;       /* (n) index of the true value among the candidates; -1: a calibration
                       * user without a value of that kind */
    int *n_values;    /* (n) candidates */
    int32_t **ctx;    /* (n) BOS + "HANDLE: " + phrase */
    int *n_ctx;
    int32_t **ids;    /* (n) candidate continuations: value + rest of the phrase */
    size_t **off;
    int n_forms;
} probe_set;
/* The probes of the seed's scenario; seed draws the retained sample and the calibration
 * handles. */
ub_status run_probes_make(probe_set *ps, const run_corpus *rc, const run_scenario *sc,
                          uint64_t seed, ub_err *e);
void run_probes_free(probe_set *ps);

#endif
