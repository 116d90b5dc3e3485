/* models/gpt.h: a GPT-2-style decoder on kernels/ (library ub_models).
 *
 * Architecture (Hugging Face GPT-2): pre-LayerNorm blocks, learned absolute position embeddings,
 * GELU-tanh MLP of width 4C, tied input/output embeddings, biases everywhere, LayerNorm eps 1e-5.
 * Parameters live in one contiguous buffer with named views (gpt_params); gradients and AdamW
 * moments use the same layout, so an unlearning method can treat a whole model as one vector.
 * Checkpoints: models/FORMAT.md. Training: gpt_train below. Scoring and decoding of token
 * sequences (one model or an averaged ensemble): gpt_score_tokens, gpt_greedy, gpt_beam.
 *
 * Legend: L n_layer, C n_embd, NH n_head, maxT n_ctx, V vocab_size, B batch, T time steps.
 */
#ifndef UB_GPT_H
#define UB_GPT_H

#include "corpus.h"
#include "kernels.h"
#include "ub.h"

typedef struct gpt_config {
    int n_layer, n_embd, n_head, n_ctx, vocab_size;
} gpt_config;

/* Named presets: tiny 2/128/4/64/256, small 4/256/4/128/512, medium 6/384/6/256/2048
 * (n_layer/n_embd/n_head/n_ctx/vocab); micro 1/32/2/32/256 for end-to-end tests. Also their default batch size (used by bench). */
ub_status gpt_preset(const char *name, gpt_config *cfg, int *default_batch, ub_err *e);
/* One line listing the preset names, for help texts. */
const char *gpt_preset_names(void);
ub_status gpt_config_check(const gpt_config *cfg, ub_err *e);

#define GPT_NUM_KINDS 16
typedef struct gpt_params {
    float *wte;      /* (V, C) */
    float *wpe;      /* (maxT, C) */
    float *ln1w;     /* (L, C) */
    float *ln1b;     /* (L, C) */
    float *qkvw;     /* (L, C, 3C) */
    float *qkvb;     /* (L, 3C) */
    float *attprojw; /* (L, C, C) */
    float *attprojb; /* (L, C) */
    float *ln2w;     /* (L, C) */
    float *ln2b;     /* (L, C) */
    float *fcw;      /* (L, C, 4C) */
    float *fcb;      /* (L, 4C) */
    float *fcprojw;  /* (L, 4C, C) */
    float *fcprojb;  /* (L, C) */
    float *lnfw;     /* (C) */
    float *lnfb;     /* (C) */
} gpt_params;

/* One named tensor of the checkpoint (per-layer tensors are separate entries). */
typedef struct gpt_tensor {
    char name[64];   /* Hugging Face GPT-2 name: "wte", "h.0.attn.c_attn.weight", ... */
    int rank;        /* 1 or 2 */
    size_t dims[2];
    size_t offset;   /* into the parameter buffer (floats) */
    size_t numel;
    int decay;       /* 1: weight decay applies (matrices and embeddings) */
} gpt_tensor;

/* Forward activations, kept for backward. */
typedef struct gpt_acts {
    float *encoded;   /* (B, T, C) */
    float *ln1;       /* (L, B, T, C) */
    float *ln1_mean;  /* (L, B, T) */
    float *ln1_rstd;  /* (L, B, T) */
    float *qkv;       /* (L, B, T, 3C) */
    float *atty;      /* (L, B, T, C) */
    float *att;       /* (L, B, NH, T, T) */
    float *residual2; /* (L, B, T, C) */
    float *ln2;       /* (L, B, T, C) */
    float *ln2_mean;  /* (L, B, T) */
    float *ln2_rstd;  /* (L, B, T) */
    float *fch;       /* (L, B, T, 4C) */
    float *fch_gelu;  /* (L, B, T, 4C) */
    float *residual3; /* (L, B, T, C) */
    float *lnf;       /* (B, T, C) */
    float *lnf_mean;  /* (B, T) */
    float *lnf_rstd;  /* (B, T) */
    float *probs;     /* (B, T, V) logits, turned into probabilities in place */
    float *losses;    /* (B, T) per-token loss, natural log; 0 where target < 0 */
} gpt_acts;

/* Backward scratch, one layer at a time (reused across layers). */
typedef struct gpt_scratch {
    float *dres;      /* (B, T, C) gradient of the residual stream */
    float *dln;       /* (B, T, C) */
    float *datty;     /* (B, T, C) */
    float *dqkv;      /* (B, T, 3C) */
    float *datt;      /* (B, NH, T, T) */
    float *dfch;      /* (B, T, 4C) */
    float *dfch_gelu; /* (B, T, 4C) */
    float *dlosses;   /* (B, T) */
} gpt_scratch;

/* Optional wall-time breakdown of forward/backward by kernel (bench train --profile). */
typedef enum {
    GPT_P_ENCODER, GPT_P_LAYERNORM, GPT_P_MM_QKV, GPT_P_ATTENTION, GPT_P_MM_ATTPROJ,
    GPT_P_RESIDUAL, GPT_P_MM_FC, GPT_P_GELU, GPT_P_MM_FCPROJ, GPT_P_LOGITS, GPT_P_XENT,
    GPT_P_ZERO, GPT_P_OPTIM, GPT_P_COUNT
} gpt_prof_kind;
extern const char *const gpt_prof_names[GPT_P_COUNT];
typedef struct gpt_prof {
    int on;
    double sec[2][GPT_P_COUNT]; /* [0 forward / 1 backward and optimizer][kind], summed */
} gpt_prof;

typedef struct gpt_model {
    gpt_config cfg;
    kn_tune tune;
    int n_tensors;
    gpt_tensor *tensors;       /* (n_tensors) */
    size_t kind_sizes[GPT_NUM_KINDS];
    size_t n_params;
    float *params_mem;         /* (n_params) */
    gpt_params params;
    float *grads_mem;          /* (n_params), allocated by the first backward */
    gpt_params grads;
    float *m_mem, *v_mem;      /* (n_params) AdamW moments, allocated by the first step */
    long adam_step;            /* optimizer steps taken */
    int B, T;                  /* activation capacity */
    float *acts_mem;
    gpt_acts acts;
    float *scratch_mem;
    gpt_scratch s;
    int *inputs, *targets;     /* (B, T) of the last forward */
    int cur_B, cur_T;          /* shape of the last forward */
    float mean_loss;           /* mean over positions with target >= 0 */
    int n_valid;               /* number of such positions */
    gpt_prof prof;             /* set prof.on = 1 to time each kernel */
    struct gpt_model *replicas; /* (n_replicas) per-thread workers when tune.replicas: they
                                 * share params and own activations and gradients */
    int n_replicas;
} gpt_model;

/* Allocate the parameter buffer (zeroed) for cfg. */
ub_status gpt_build(gpt_model *m, const gpt_config *cfg, const kn_tune *tune, ub_err *e);
void gpt_free(gpt_model *m);
/* GPT-2 initialisation: N(0, 0.02) for matrices and embeddings, N(0, 0.02/sqrt(2L)) for the
 * residual output projections, zero biases, unit LayerNorm weights. Deterministic in seed:
 * each tensor draws from its own RNG stream. */
void gpt_init_gpt2(gpt_model *m, uint64_t seed);
/* Index of the tensor with this name, or -1. */
int gpt_find_tensor(const gpt_model *m, const char *name);

/* Forward on inputs (B,T) with targets (B,T) (or NULL: no loss). Ids are range-checked. */
ub_status gpt_forward(gpt_model *m, const int *inputs, const int *targets, int B, int T,
                      ub_err *e);
/* grads += d(scale * mean_loss)/d(params) for the last forward (which needs targets). */
ub_status gpt_backward(gpt_model *m, float scale, ub_err *e);
/* The general form, for unlearning objectives: with weights (B,T) (may be NULL), the loss is
 * scale * sum_i weights[i] * loss_i instead of scale * mean; with soft (B,T,V) (may be NULL),
 * loss_i is the cross-entropy to the distribution soft[i] instead of to the target id (the
 * KL to soft up to a constant; rows with target < 0 still count as ignored). gpt_forward's
 * losses stay those of the target ids. */
ub_status gpt_backward_ex(gpt_model *m, float scale, const float *weights, const float *soft,
                          ub_err *e);
/* Activations and gradients at a layer's output (the residual stream after layer `layer`, as
 * RMU steers it): gpt_layer_output is that output of the last forward (cur_B, cur_T, C);
 * gpt_backward_from adds to grads d(loss)/d(params) for a loss whose gradient with respect to
 * that output is dh (cur_B, cur_T, C): layers `layer`..0 and the embeddings, nothing above. */
const float *gpt_layer_output(const gpt_model *m, int layer);
ub_status gpt_backward_from(gpt_model *m, int layer, const float *dh, ub_err *e);
void gpt_zero_grad(gpt_model *m);
/* grads += d(scale * batch mean loss)/d(params) for inputs/targets (B,T), run as micro-batches
 * of at most tune.pass_rows rows (each weighted by its share of counted targets, so the result
 * is that of one pass up to float rounding). *loss = the batch's mean loss (NaN/Inf if it
 * diverged; the caller checks). */
ub_status gpt_forward_backward(gpt_model *m, const int *inputs, const int *targets, int B, int T,
                               float scale, double *loss, ub_err *e);

typedef struct gpt_adamw {
    double lr, beta1, beta2, eps, weight_decay;
} gpt_adamw;
/* Global-norm clipping (max_norm <= 0: none); returns the norm before clipping. */
double gpt_clip_grad(gpt_model *m, double max_norm);
/* One AdamW step on all parameters; decay only on tensors with decay=1. */
ub_status gpt_adamw_step(gpt_model *m, const gpt_adamw *h, ub_err *e);
/* Name the first tensor whose gradient holds NaN/Inf (or NULL). */
const char *gpt_nonfinite_grad(const gpt_model *m);

/* 6 x params x tokens + 12 x L x T x C x tokens: forward+backward FLOPs of `tokens` tokens
 * (the convention of the PaLM/nanoGPT MFU estimate; params counted once as the embedding is
 * tied). */
double gpt_train_flops(const gpt_config *cfg, size_t n_params, int T, double tokens);

/* --------------------------------------------------------------------------------------------
 * Training
 * -------------------------------------------------------------------------------------------- */
typedef struct gpt_train_cfg {
    uint64_t seed;      /* init and data order */
    long steps;         /* optimizer steps */
    int batch;          /* windows per micro-batch */
    int accum;          /* micro-batches per step (gradient accumulation) */
    int ctx;            /* window length T (<= n_ctx) */
    double lr, min_lr;  /* peak and final learning rate (cosine decay) */
    long warmup;        /* linear warm-up steps */
    double grad_clip;   /* global norm; 0 = off */
    double beta1, beta2, eps, weight_decay;
    long ckpt_every;    /* write the checkpoint every this many steps (0: only at the end) */
    long stop_at;       /* stop after this many steps (0: steps); training in stages (SISA)
                         * keeps one learning-rate schedule over all of them. Not saved. */
} gpt_train_cfg;

/* The documented defaults (AdamW 0.9/0.95/1e-8, wd 0.1, clip 1.0, lr 1e-3 -> 1e-4, ...). */
void gpt_train_defaults(gpt_train_cfg *c);
ub_status gpt_train_check(const gpt_train_cfg *c, const gpt_config *mc, ub_err *e);

typedef struct gpt_train_state {
    long step;          /* steps done */
    long epoch, pos;    /* data order position: permutation of windows keyed by (seed, epoch) */
    float *loss;        /* (steps) training loss per step; loss[0..step) are valid */
    char tokens_sha256[65];
    size_t n_tokens;
} gpt_train_state;

ub_status gpt_train_state_init(gpt_train_state *s, const gpt_train_cfg *c,
                               const corpus_tokens *tok, ub_err *e);
void gpt_train_state_free(gpt_train_state *s);

/* Learning rate at step (0-based): linear warm-up, then cosine to min_lr. */
double gpt_lr_at(const gpt_train_cfg *c, long step);

/* Called after every step; return non-zero to stop early (state stays resumable). */
typedef int (*gpt_progress_fn)(void *ctx, long step, long steps, float loss, double grad_norm,
                               double lr, double tokens_per_s);

/* Train from s->step to c->steps on the token stream. If ckpt_path is set, writes a resumable
 * checkpoint every c->ckpt_every steps and at the end (atomically). A NaN/Inf loss or gradient
 * stops with UB_ENUMERIC naming the step and tensor; the last checkpoint stays intact. */
ub_status gpt_train(gpt_model *m, const corpus_tokens *tok, const gpt_train_cfg *c,
                    gpt_train_state *s, const char *ckpt_path, gpt_progress_fn progress,
                    void *progress_ctx, ub_err *e);

/* --------------------------------------------------------------------------------------------
 * Checkpoints (models/FORMAT.md)
 * -------------------------------------------------------------------------------------------- */
/* Write params (and, if c and s are given, optimizer moments and training state). Atomic. */
ub_status gpt_save(const char *path, const gpt_model *m, const gpt_train_cfg *c,
                   const gpt_train_state *s, ub_err *e);
/* gpt_save plus n root attributes (float64) named by the caller: what a model cost to make,
 * kept with it (the benchmark's cache of unlearned models). gpt_load ignores them. */
ub_status gpt_save_notes(const char *path, const gpt_model *m, const gpt_train_cfg *c,
                         const gpt_train_state *s, const char *const *names, const double *vals,
                         int n, ub_err *e);
/* Build m from the file's config and load params. If c and s are given and the file holds
 * training state, load it too (*has_train = 1). */
ub_status gpt_load(const char *path, gpt_model *m, const kn_tune *tune, gpt_train_cfg *c,
                   gpt_train_state *s, int *has_train, ub_err *e);
/* gpt_load (params only) plus the n attributes gpt_save_notes wrote, in the same read of the
 * file; a missing one is an error. */
ub_status gpt_load_notes(const char *path, gpt_model *m, const kn_tune *tune,
                         const char *const *names, double *vals, int n, ub_err *e);

/* --------------------------------------------------------------------------------------------
 * Scoring (gpt_score in gpt_train.c, continuations in gpt_cont.c, the rest in gpt_score.c)
 * -------------------------------------------------------------------------------------------- */
/* loss (N, T) = per-token loss of each window (N, T+1): predicting token t+1 from 0..t.
 * Runs in batches of `batch` windows. */
ub_status gpt_score(gpt_model *m, const int32_t *windows, long N, int T, int batch, float *loss,
                    ub_err *e);

/* A set of token sequences: sequence i is ids[off[i] .. off[i+1]). */
typedef struct gpt_seqs {
    const int32_t *ids; /* (off[n]) */
    const size_t *off;  /* (n+1) */
    size_t n;
} gpt_seqs;

/* Below, ms[0..nm) is one model (nm = 1) or an ensemble of models with one config whose
 * next-token probabilities are averaged (SISA's aggregation). */

/* Per-token scores, indexed like the sequences' ids: entry off[i]+t (t >= 1) scores token t of
 * sequence i given its prefix; entries off[i] (no prefix) are 0. */
typedef struct gpt_token_scores {
    float *logp;  /* (N+1) log p of the token: log-softmax for one model, log of the averaged
                   * probability (floored at 1e-30) for an ensemble */
    float *mu;    /* (N+1) mean of log p under the next-token distribution (Min-K%++) */
    float *sd;    /* (N+1) its standard deviation */
    float *kl;    /* (N+1) KL(p_ref || p) in nats, or NULL without a reference model */
    uint8_t *hit; /* (N+1) 1 where the token is the argmax (ties: lowest id) */
} gpt_token_scores;
/* A reference model's next-token distributions at every token of q that gpt_score_tokens
 * scores (the same windows and batches), with their logs: what KL(p_ref || p) needs, computed
 * once and reused for every model scored against the same reference. Entries are indexed like
 * gpt_token_scores; those of each sequence's first token are zero. */
typedef struct gpt_ref_dists {
    size_t n;     /* q->off[q->n] + 1 */
    int V;
    float *p;     /* (n, V) p_ref */
    double *logp; /* (n, V) log p_ref (0 where p_ref = 0) */
} gpt_ref_dists;
ub_status gpt_ref_dists_build(gpt_ref_dists *r, gpt_model *ref, const gpt_seqs *q, ub_err *e);
void gpt_ref_dists_free(gpt_ref_dists *r);

/* Scores of every token of q but each sequence's first: consecutive windows of n_ctx (stride
 * n_ctx, as training cuts its stream), so every token is scored once, with the tokens before it
 * in its window as context. With ref != NULL (built on the same q), also KL(p_ref || p) per
 * token.
 * N = q->off[q->n]. */
ub_status gpt_score_tokens(gpt_model **ms, int nm, const gpt_ref_dists *ref, const gpt_seqs *q,
                           gpt_token_scores *out, ub_err *e);
void gpt_token_scores_free(gpt_token_scores *t);

/* loss (values->n) = summed loss (nats) of each value after context (n_context ids, BOS first),
 * e.g. the candidates of a secret; context ++ value longer than n_ctx+1 keeps its last n_ctx+1. */
ub_status gpt_score_continuations(gpt_model **ms, int nm, const int32_t *context, int n_context,
                                  const gpt_seqs *values, double *loss, ub_err *e);
/* The same by whole forward passes over context ++ value (no KV cache): the reference of the
 * tests, and the path taken when a candidate outgrows n_ctx. */
ub_status gpt_score_continuations_full(gpt_model **ms, int nm, const int32_t *context,
                                       int n_context, const gpt_seqs *values, double *loss,
                                       ub_err *e);
/* The candidates of n_items contexts at once: item i's context ctx[i] (n_ctx[i] ids, BOS
 * first), its candidates values[first[i] .. first[i+1]) (first[n_items] = values->n); loss as
 * above, each candidate after its own context. Contexts of one length share forward passes
 * (secrets' candidates, knowledge probes' values); equal to one gpt_score_continuations per
 * item up to float rounding, and the same bits on any thread count. */
ub_status gpt_score_continuations_many(gpt_model **ms, int nm, const int32_t *const *ctx,
                                       const int *n_ctx, size_t n_items, const size_t *first,
                                       const gpt_seqs *values, double *loss, ub_err *e);

/* Round every matrix and embedding of m to `bits` bits (2..16) in place: symmetric
 * round-to-nearest with one scale per row of the stored matrix (scale = max |w| of the row /
 * (2^(bits-1) - 1)); biases and layer norms stay in float. The weights stay float on the
 * grid, so every kernel runs them unchanged (gpt_quant.c: the quantization attack on
 * unlearning, Zhang et al. 2024). A non-finite weight fails with the tensor's name. */
ub_status gpt_quantize_rtn(gpt_model *m, int bits, ub_err *e);

/* --------------------------------------------------------------------------------------------
 * KV cache (gpt_kv.c): the keys and values of the positions already run, per layer, so that a
 * forward pass runs only new tokens. Scoring candidates after one context and decoding use it.
 * -------------------------------------------------------------------------------------------- */
typedef struct gpt_kv {
    int L, C, S, cap;       /* layers, channels, sequences, positions per sequence (n_ctx) */
    int len;                /* positions cached, the same for every sequence */
    float *k, *v;           /* (L, S, cap, C) */
    float *probs;           /* (B, T, V) of the last gpt_forward_kv: probabilities with targets,
                             * logits without */
    float *losses;          /* (B, T) per-token loss where targets were given */
    float *tmp;             /* (2, L, S, cap, C) for gpt_kv_select, allocated on first use */
    const int *seq;         /* (B) or NULL: row b of gpt_forward_kv attends to cache sequence
                             * seq[b] (several rows may share one), without copying it */
    float *work;            /* the forward's work space (work_n floats), views below */
    size_t work_n;
    float *w_x, *w_ln, *w_qkv, *w_atty, *w_proj, *w_res, *w_fch, *w_fchg, *w_mean, *w_rstd,
        *w_att;
} gpt_kv;
/* An empty cache of S sequences for models of config cfg. */
ub_status gpt_kv_build(gpt_kv *kv, const gpt_config *cfg, int S, ub_err *e);
void gpt_kv_free(gpt_kv *kv);
/* Sequences 0..B) of the cache = the keys and values of m's last gpt_forward (B, T); len = T. */
ub_status gpt_kv_fill(gpt_kv *kv, const gpt_model *m, ub_err *e);
/* Sequence q of the cache becomes a copy of sequence parent[q], q < n (beam search). */
ub_status gpt_kv_select(gpt_kv *kv, const int *parent, int n, ub_err *e);
/* Forward of inputs (B, T) at positions len .. len+T-1 after the cached prefix: row b attends
 * to cache sequence b (or to sequence 0 when the cache holds one: a prefix shared by all rows;
 * or to sequence kv->seq[b] when set) and causally to its own new tokens. With targets (or NULL), like gpt_forward into kv->probs
 * and kv->losses; the same values as gpt_forward over prefix ++ inputs (the same bits for the
 * kernels' loop path of attention). append (B <= S): keep the new keys and values, len += T. */
ub_status gpt_forward_kv(gpt_model *m, gpt_kv *kv, const int *inputs, const int *targets, int B,
                         int T, int append, ub_err *e);

/* For rows->n rows that each continue context (n_context ids, BOS first; a row may be empty):
 * lp_rows (rows->off[n]) the log p of each row token given the context and the row before it,
 * and dist (n, V) the log of the next-token distribution after the whole row (gpt_next.c).
 * log p is the log of the probability (of the averaged one for an ensemble) floored at 1e-30.
 * context ++ row longer than n_ctx keeps its last n_ctx ids; row tokens whose predicting
 * position was cut get NaN. One forward pass per 32 rows. */
ub_status gpt_next_logprobs(gpt_model **ms, int nm, const int32_t *context, int n_context,
                            const gpt_seqs *rows, float *lp_rows, float *dist, ub_err *e);

/* --------------------------------------------------------------------------------------------
 * Decoding (gpt_decode.c); the context window slides when the sequence outgrows n_ctx
 * -------------------------------------------------------------------------------------------- */
/* out (n_new) = greedy decoding after context (n_context ids, BOS first): each token the argmax
 * of the next-token distribution. Ties go to the lowest token id. */
ub_status gpt_greedy(gpt_model **ms, int nm, const int32_t *context, int n_context, int n_new,
                     int32_t *out, ub_err *e);
/* out (n_new) = the continuation with the highest summed log probability that a beam of the
 * given width keeps (that sum into *logp when not NULL). Ties go to the earlier beam, then the
 * lower token id; width 1 is greedy decoding. */
ub_status gpt_beam(gpt_model **ms, int nm, const int32_t *context, int n_context, int n_new,
                   int width, int32_t *out, double *logp, ub_err *e);
/* The same, rerunning the whole window for every new token (no KV cache): the reference. */
ub_status gpt_beam_full(gpt_model **ms, int nm, const int32_t *context, int n_context, int n_new,
                        int width, int32_t *out, double *logp, ub_err *e);

#endif
