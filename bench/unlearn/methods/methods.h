/* bench/unlearn/methods/methods.h: approximate unlearning methods (library ub_methods, prefix ul_).
 *
 * A method turns a copy of the original model (trained on all members, F included) into an
 * "unlearned" model, seeing only what a deployer has at deletion time: the original model, the
 * forget set F's training posts, and the retained members' training posts. The exact methods
 * (retrain, SISA) and continued training are trainings (bench/engine/, bench/unlearn/).
 *
 * Adding a method: one file bench/unlearn/methods/NAME.c that defines `const ul_method ul_NAME`, and
 * one line in bench/unlearn/methods/registry.c. Hyperparameters are key=value pairs with documented
 * defaults (ul_method.params); `unlearnbench run --help` lists them.
 */
#ifndef UB_METHODS_H
#define UB_METHODS_H

#include "gpt.h"

/* Posts as token sequences: post i is ids[off[i] .. off[i+1]) (BOS text EOS), back to back, so
 * ids[0 .. off[n]) is also the token stream the trainer sees. */
typedef struct ul_posts {
    const int32_t *ids;  /* (off[n]) */
    const size_t *off;   /* (n+1) */
    size_t n;
    const int64_t *user; /* (n) corpus user index of each post */
} ul_posts;

typedef struct ul_ctx {
    const gpt_model *original;  /* read-only: the deployed model */
    const ul_posts *forget;     /* F's training posts */
    const ul_posts *retain;     /* the other members' training posts */
    const gpt_train_cfg *train; /* the original's schedule: batch, ctx, lr, AdamW settings */
    uint64_t seed;              /* for the method's data order and random choices */
    const char *params;         /* "key=value,key=value" overriding the defaults, or NULL */
    const ul_posts *idk;        /* per post of F, in F's order, the neutral answer in its
                                 * place: "HANDLE: I don't want to talk about this." as a post
                                 * (BOS text EOS; UL_IDK_TEXT), what relabel's idk mode trains
                                 * on and IdkDPO prefers; NULL: not provided */
} ul_ctx;

/* The neutral answer of the idk variants (TOFU's IdkPO data, Maini et al. 2024), after the
 * user's handle as every post is. */
#define UL_IDK_TEXT "I don't want to talk about this."

typedef struct ul_cost {
    long steps;          /* optimizer steps or updates taken */
    double tokens;       /* tokens through the model (forward, with or without backward) */
    double flops;        /* estimated: 6 x params per trained token, 2 x params per forward-only
                          * token, plus attention (gpt_train_flops convention) */
    size_t extra_bytes;  /* memory the method holds beyond one model with gradients and
                          * optimizer moments: extra model copies, buffers */
} ul_cost;

/* Hyperparameters every method accepts besides those in its params string: ctx (window length),
 * clip (global gradient-norm clip, 0 = off), wd (AdamW weight decay), sched (const: constant
 * learning rate; linear: decaying to 0 over the steps). "train" means the original's setting
 * (ul_ctx.train); batch=train in a method's params likewise. */
#define UL_COMMON_PARAMS "ctx=train,clip=train,wd=train,sched=const"

typedef struct ul_method {
    const char *name;    /* "gradient_ascent" */
    const char *summary; /* one line for --help */
    const char *params;  /* the defaults, "steps=40,lr=1e-4,...": the documented hyperparameters */
    /* m: a copy of the original (parameters loaded, gradients and moments zero); changed in
     * place into the unlearned model. Deterministic in (m, c) for a fixed thread count. */
    ub_status (*apply)(gpt_model *m, const ul_ctx *c, ul_cost *cost, ub_err *e);
    /* the budget sweep's grid (`unlearnbench sweep`): axes "key=v1|v2|...;key2=...", every
     * combination a setting (ul_grid_points); its keys are the budget (steps, lr) and the
     * method's main trade-off (a retain weight, beta, alpha) */
    const char *grid;
} ul_method;

/* The registered methods, in report order. */
extern const ul_method *const ul_methods[];
extern const int ul_n_methods;
const ul_method *ul_find(const char *name);

/* The "key=value,..." settings of spec ("name:k=v,k=v;name2:...") for method name, or "":
 * every item for name, a key given again replacing its earlier value (so "npo:lr=3e-5;
 * npo:steps=20" is "lr=3e-5,steps=20": a preset's settings with the user's on top). */
void ul_method_params(const char *spec, const char *name, char *out, size_t cap);
/* spec in one canonical form: each method named in it once, in registry order, with its
 * merged settings (ul_method_params), so that a preset's settings with a user's on top read
 * back to the same text; an unknown method name is an error. */
ub_status ul_params_canonical(const char *spec, char *out, size_t cap, ub_err *e);
/* The settings of a grid "key=v1|v2;key2=w1|w2" (ul_method.grid): every combination as
 * "key=v1,key2=w1", the last key varying fastest, into out[0..cap) (each UL_GRID_LEN bytes).
 * Returns their number, or -1 with a message in e (a malformed grid, more than cap points). */
/* Method m's defaults (m->params) with spec's settings for it on top: what it runs with. */
void ul_effective_params(const ul_method *m, const char *spec, char *out, size_t cap);
enum { UL_GRID_LEN = 256, UL_GRID_MAX = 64 };
int ul_grid_points(const char *grid, char (*out)[UL_GRID_LEN], int cap, ub_err *e);

/* dst = a new model with src's config and tune, its parameters copied (no gradients, no
 * moments): the copy of the original a method changes, or a reference for outputs
 * (gpt_forward writes activations, so the const original is never run itself). */
ub_status ul_copy_model(gpt_model *dst, const gpt_model *src, ub_err *e);

#endif
