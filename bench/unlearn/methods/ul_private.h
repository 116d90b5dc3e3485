/* bench/unlearn/methods/ul_private.h: what the method files share (bench/unlearn/methods/common.c); not part of
 * the public API.
 *
 * Legend: B windows per batch, T window length (tokens predicted per window), V vocab_size.
 *
 * Every method's run goes: ul_run_init (parse the hyperparameters over the method's defaults,
 * resolve the ones inherited from the original's training config, allocate scratch batches), a
 * loop of batches from ul_sampler, passes (ul_fb / gpt_forward + gpt_backward_ex) and ul_step
 * (clip, AdamW, finiteness checks, cost), then ul_run_free.
 */
#ifndef UB_UL_PRIVATE_H
#define UB_UL_PRIVATE_H

#include "methods.h"

#include <limits.h>
#include <math.h>

/* The methods (one file each; registry.c lists them). */
extern const ul_method ul_finetune, ul_gradient_ascent, ul_gradient_difference, ul_kl, ul_npo,
    ul_relabel, ul_task_vector, ul_newton, ul_simnpo, ul_undial, ul_whp, ul_idkdpo, ul_rmu;

/* ---- hyperparameters -------------------------------------------------------------------- */
#define UL_MAX_PARAMS 24
#define UL_KEY_LEN    32
#define UL_VAL_LEN    64

/* The method's defaults with the caller's overrides applied. Keys are those of the method's
 * params string plus the common ones (UL_COMMON_PARAMS). */
typedef struct ul_params {
    const char *method;
    int n;
    char key[UL_MAX_PARAMS][UL_KEY_LEN];
    char val[UL_MAX_PARAMS][UL_VAL_LEN];
} ul_params;

/* Parse meth->params and UL_COMMON_PARAMS as the defaults, then apply user ("k=v,k=v" or NULL).
 * An unknown key, a missing '=', an empty value or a repeated key fails with UB_EARG naming the
 * method and the key. */
ub_status ul_params_parse(ul_params *p, const ul_method *meth, const char *user, ub_err *e);
/* The raw value of key (NULL if the key does not exist: a programming error in the method). */
const char *ul_param_raw(const ul_params *p, const char *key);
/* A number in [lo, hi]; the value "train" gives `inherit` (the original's setting), or is an
 * error for UL_OWN (a method's own hyperparameter). A malformed or out-of-range value fails with
 * UB_EARG naming the method and key. */
#define UL_OWN      NAN
#define UL_OWN_LONG LONG_MIN
ub_status ul_param_f64(const ul_params *p, const char *key, double lo, double hi, double inherit,
                       double *out, ub_err *e);
/* An integer in [lo, hi]; "train" as above (UL_OWN_LONG: not allowed). */
ub_status ul_param_long(const ul_params *p, const char *key, long lo, long hi, long inherit,
                        long *out, ub_err *e);
/* One of the NULL-terminated choices; *out = its index. */
ub_status ul_param_choice(const ul_params *p, const char *key, const char *const *choices, int *out,
                          ub_err *e);

/* ---- batches ---------------------------------------------------------------------------- */
/* Windows of T+1 tokens over a posts stream (ids[0 .. off[n])): window w starts at w*T, except
 * that the last one is moved back to end at the stream's end, so every token is a target of
 * some window. Each epoch visits the windows in a permutation drawn from the RNG stream
 * (seed, stream + epoch): a method's batches depend only on its seed. A stream shorter than
 * T+1 tokens is one window, padded with input 0 and target -1 (ignored). */
typedef struct ul_sampler {
    const ul_posts *posts;
    size_t n_tok; /* off[n] */
    int T;
    long n_win;
    int64_t *perm; /* (n_win) */
    long epoch, pos;
    uint64_t seed, stream;
} ul_sampler;

/* RNG streams of the methods' random choices (an epoch or step number is added). */
#define UL_STREAM_FORGET 0x0F00000000ull
#define UL_STREAM_RETAIN 0x0E00000000ull
#define UL_STREAM_LABELS 0x0D00000000ull

/* what names the set in the message (with the method) when it has fewer than 2 tokens. */
ub_status ul_sampler_init(ul_sampler *s, const ul_posts *posts, int T, uint64_t seed,
                          uint64_t stream, const char *method, const char *what, ub_err *e);
/* inputs, targets (B, T); starts (B) (may be NULL): stream index of each window's first token. */
void ul_sampler_next(ul_sampler *s, int B, int *inputs, int *targets, size_t *starts);
void ul_sampler_free(ul_sampler *s);

/* ---- a method run ----------------------------------------------------------------------- */
typedef enum { UL_SCHED_CONST = 0, UL_SCHED_LINEAR = 1 } ul_sched;

typedef struct ul_run {
    const char *name; /* the method's */
    const ul_ctx *c;
    ul_cost *cost;
    ul_params p;
    long steps; /* steps=: optimizer steps (or the method's own notion of a budget) */
    double lr;  /* lr=: peak learning rate */
    int B, T;   /* batch=, ctx= (inherited from the original's training config) */
    ul_sched sched;
    double clip;             /* clip=: global gradient-norm clip, 0 = off */
    gpt_adamw h;             /* betas and eps from the original, wd= */
    int *inputs, *targets;   /* (B, T) scratch batch */
    int *inputs2, *targets2; /* (B, T) a second batch (retained posts) */
} ul_run;

/* Parse and resolve the common hyperparameters, zero cost, reset m's optimizer state (fresh
 * AdamW moments, step 0, zero gradients) and allocate the two scratch batches. */
ub_status ul_run_init(ul_run *r, const ul_method *meth, gpt_model *m, const ul_ctx *c,
                      ul_cost *cost, ub_err *e);
void ul_run_free(ul_run *r);

/* The learning rate of step (0-based): lr, or lr * (1 - step/steps) for sched=linear. */
double ul_lr_at(const ul_run *r, long step);

/* grads += d(scale * mean loss)/d(params) for one batch (B, T) (micro-batched and data-parallel
 * as in training), *loss = its mean loss; counts B*T trained tokens. step is 0-based; if the loss
 * is not finite, fails with UB_ENUMERIC naming the method, step + 1 and `what`. */
ub_status ul_fb(ul_run *r, gpt_model *m, const int *inputs, const int *targets, float scale,
                long step, const char *what, double *loss, ub_err *e);

/* Clip, check the gradient, one AdamW step at ul_lr_at(step) (step 0-based), check the
 * parameters; counts the step. Names the method and step + 1 on failure (UB_ENUMERIC). */
ub_status ul_step(ul_run *r, gpt_model *m, long step, ub_err *e);

/* r->steps optimizer steps on scale * mean loss over batches of one post set (scale -1:
 * ascent), the loop finetune, gradient_ascent and task_vector share. which/stream name the set
 * and its sampler stream; what names the loss in errors. */
ub_status ul_train_on(ul_run *r, gpt_model *m, const ul_posts *posts, uint64_t seed,
                      uint64_t stream, const char *which, float scale, const char *what,
                      ub_err *e);

/* UB_ENUMERIC naming the method, step and what, if v is NaN/Inf. */
ub_status ul_check_finite(const char *method, long step, const char *what, double v, ub_err *e);
/* UB_ENUMERIC naming the method, step and the first tensor holding NaN/Inf, if any. */
ub_status ul_check_params(const char *method, long step, const gpt_model *m, ub_err *e);

/* ---- cost ------------------------------------------------------------------------------- */
/* Trained tokens (forward + backward): gpt_train_flops. */
void ul_cost_train(ul_cost *c, const gpt_model *m, int T, double tokens);
/* Forward-only tokens: a third of the training FLOPs. */
void ul_cost_forward(ul_cost *c, const gpt_model *m, int T, double tokens);
/* Bytes of a model copy used for forward passes of B x T: parameters, activations, scratch. */
size_t ul_forward_model_bytes(const gpt_config *cfg, size_t n_params, int B, int T);

/* ---- models ----------------------------------------------------------------------------- */
/* Forward-only pass of a reference model on (B, T) with targets, so that ref->acts.probs holds
 * softmax probabilities and ref->acts.losses the per-token losses; counts forward-only tokens. */
ub_status ul_ref_forward(ul_run *r, gpt_model *ref, const int *inputs, const int *targets,
                         ub_err *e);

/* The token count of a posts stream (off[n]; 0 for no posts). */
size_t ul_posts_tokens(const ul_posts *p);

/* ---- NPO -------------------------------------------------------------------------------- */
/* The NPO objective over B windows (Zhang et al. 2024):
 *   L = -(2/beta) (1/B) sum_b log sigmoid(-beta (lp_b - lpref_b)),
 * lp_b = -sum_t losses[b,t] (the window's log-likelihood under the model), lpref_b likewise from
 * ref_losses, over positions with targets >= 0. Writes *loss = L and weights (B, T) =
 * dL/dlosses[b,t] = -2 sigmoid(beta (lp_b - lpref_b)) / B (0 where target < 0), so that
 * gpt_backward_ex(m, 1, weights, NULL) adds dL/dparams: descending L pushes lp_b down, with
 * windows already far below the reference weighted less. losses, ref_losses, targets (B, T). */
void ul_npo_weights(const float *losses, const float *ref_losses, const int *targets, int B, int T,
                    double beta, float *weights, double *loss);
/* SimNPO (Fan et al. 2024): the reference-free, length-normalised NPO loss over the batch's
 * windows, L = -(2/beta) mean_b log sigmoid(-(beta / n_b) log p(y_b) - gamma), n_b the
 * window's scored tokens, into *loss, and per position dL/dloss_i (the window's weight
 * -(2 / n_b) sigmoid((beta / n_b) log p(y_b) + gamma) / B) into weights (0 where target < 0). */
void ul_simnpo_weights(const float *losses, const int *targets, int B, int T, double beta,
                       double gamma, float *weights, double *loss);
/* RMU's mean squared distance of h (BT, C) to target (one C vector with tstride 0, else a row
 * per position, tstride C) over the rows whose target id is >= 0, and w times its gradient in
 * dh (rmu.c). */
double ul_rmu_mse(const float *h, const float *target, size_t tstride, const int *targets,
                  int BT, int C, double w, float *dh);
/* UNDIAL's targets (Dong et al. 2024): q (BT, V) = softmax(log p - beta onehot(y)) per row of
 * the original's probabilities p (BT, V) and targets y (BT); rows with y < 0 are copied. */
void ul_undial_targets(const float *p, const int *targets, int BT, int V, double beta, float *q);
/* WHP's targets (Eldan and Russinovich 2023): per row of the original's probabilities p0 and
 * the reinforced model's pr (BT, V), q = softmax(log p0 - alpha ReLU(log pr - log p0)); rows
 * with target < 0 are p0 copied. */
void ul_whp_targets(const float *p0, const float *pr, const int *targets, int BT, int V,
                    double alpha, float *q);
/* ---- per-post batches and DPO ---------------------------------------------------------- */
/* Row b of inputs/targets (B, T) = post which[b] of p on its own: its first min(len - 1, T)
 * tokens and their successors, the rest padded with input 0 and target -1 (a longer post is cut
 * at T predicted tokens). */
void ul_post_rows(const ul_posts *p, const size_t *which, int B, int T, int *inputs,
                  int *targets);
/* DPO (Rafailov et al. 2023) over B pairs of rows, preferred w and dispreferred l (losses (B, T)
 * of the model and of the reference, targets tw, tl):
 *   L = -(2/beta) (1/B) sum_b log sigmoid(beta ((lw_b - rw_b) - (ll_b - rl_b))),
 * l* the rows' summed log-likelihoods (open-unlearning's scale 2/beta). *loss = L; ww, wl
 * (B, T) = dL/dloss per position: positive on w (descent raises its likelihood), negative on l,
 * each pair weighted by 2 sigmoid(-beta margin) / B, 0 where target < 0. */
void ul_dpo_weights(const float *loss_w, const float *ref_w, const float *loss_l,
                    const float *ref_l, const int *tw, const int *tl, int B, int T, double beta,
                    float *ww, float *wl, double *loss);

#endif
