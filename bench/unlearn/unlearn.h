/* bench/unlearn/unlearn.h: the ways a deletion request is answered besides exact retraining:
 * the approximate methods of unlearn/methods/ applied to a copy of the deployed model
 * (unlearn/apply.c), continued training on the corpus without F (unlearn/continued.c), and
 * SISA's sharded exact retraining (unlearn/sisa.c). No scoring here: the engine scores what
 * these return (eval/). */
#ifndef UB_UNLEARN_H
#define UB_UNLEARN_H

#include "methods.h"
#include "scenario.h"

/* ---- approximate methods (unlearn/apply.c) ---- */
/* The methods a list names ("all", "none" or "a,b,c") into out (room for ul_n_methods), in
 * the list's order; a name unknown or given twice is an error. */
ub_status ul_select(const char *list, const ul_method **out, int *n, ub_err *e);

/* ---- continued training (unlearn/continued.c) ----
 * The deployed model keeps training on the retained posts (constant learning rate min_lr,
 * fresh AdamW moments), in stages so that it can be scored between them. */
typedef struct ul_continued {
    gpt_model model;        /* original, trained further */
    gpt_train_state state;
    gpt_train_cfg cfg;
    corpus_tokens tokens;   /* a view of the retained posts */
    double seconds;         /* spent training so far */
} ul_continued;
ub_status ul_continued_begin(ul_continued *c, const gpt_model *orig, const run_set *retain,
                             const gpt_train_cfg *tc, long budget, ub_err *e);
/* Train on until `steps` steps in all (nothing when already there). */
ub_status ul_continued_to(ul_continued *c, long steps, ub_err *e);
void ul_continued_free(ul_continued *c);

/* ---- the relearning attack (unlearn/relearn.c) ----
 * m fine-tuned for `steps` steps on posts (F's users' fresh posts): the finetune objective at
 * the original's final learning rate tc->min_lr, constant, fresh AdamW moments, tc's batch and
 * window. Deterministic in (m, posts, steps, seed) for a fixed thread count. */
ub_status ul_relearn(gpt_model *m, const ul_posts *posts, const gpt_train_cfg *tc, long steps,
                     uint64_t seed, ul_cost *cost, ub_err *e);

/* ---- SISA (Bourtoule et al. 2021; unlearn/sisa.c) ---- */
typedef struct ub_sisa_cfg {
    int shards, slices; /* S and R */
    int check;          /* also train SISA without F from scratch: must match bitwise */
} ub_sisa_cfg;

typedef struct ul_sisa_ckpt ul_sisa_ckpt;
typedef struct ul_sisa {
    int S, R;
    int *shard, *slice;     /* (n_users) each member's shard and slice */
    gpt_model *ms;          /* (S) the shard models */
    gpt_model **ens;        /* (S) pointers to them: the ensemble to score */
    ul_sisa_ckpt *ck;       /* (S x R) parameters and AdamW state after each stage */
    gpt_train_cfg base;     /* one shard's schedule */
    const run_corpus *rc;
    const run_scenario *sc;
    /* costs: of training the ensemble on all members, and of the deletion of F */
    double seconds_full, flops_full, seconds_del, flops_del;
    double flops_one_user;  /* mean cost of deleting one user of F alone */
    long steps_full;        /* optimizer steps of all shards on all members */
    size_t extra_bytes;     /* checkpoints and the S-1 further models */
    uint8_t *deleted;       /* (n_users) users deleted by the requests so far */
    int requests;           /* deletion requests so far */
} ul_sisa;
/* Deal the members into shards and slices and train every shard on all of them. */
ub_status ul_sisa_train(ul_sisa *s, const ub_sisa_cfg *cfg, const run_corpus *rc,
                        const run_scenario *sc, const gpt_config *mc, const gpt_train_cfg *tc,
                        const kn_tune *tu, const ub_log *log, ub_err *e);
/* A deletion request for users[0..n) (members): every shard with one of them restarts from the
 * checkpoint before their earliest slice there and trains the remaining stages without every
 * user deleted so far (s->deleted), refreshing those checkpoints, so that requests chain. With
 * cfg->check, also trains every shard without all deleted users from scratch and fails unless
 * the bits are the same. Costs (seconds_del, flops_del, flops_one_user) are the
 * request's. */
ub_status ul_sisa_delete_users(ul_sisa *s, const int64_t *users, size_t n,
                               const ub_sisa_cfg *cfg, const gpt_config *mc, const kn_tune *tu,
                               const ub_log *log, ub_err *e);
/* The request to delete F (sc->forget_users). */
ub_status ul_sisa_delete(ul_sisa *s, const ub_sisa_cfg *cfg, const gpt_config *mc,
                         const kn_tune *tu, const ub_log *log, ub_err *e);
void ul_sisa_free(ul_sisa *s);

#endif
