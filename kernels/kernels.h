/* kernels/kernels.h: the arithmetic of a GPT-2-style decoder, forward and backward.
 *
 * Pure arithmetic: no I/O, no allocation, no configuration parsing, no globals of our own.
 * Each layer is a <layer>_forward / <layer>_backward pair over flat fp32 arrays.
 *
 * Shape legend (every pointer carries a shape comment):
 *   B  batch size            T  time steps (context length of this batch)
 *   C  channels (n_embd)     OC output channels of a matmul
 *   NH attention heads       hs head size = C / NH
 *   V  vocabulary size       N  rows = B * T (matmul, layernorm, cross-entropy work on rows)
 *   maxT positions in the position table (n_ctx)
 *
 * Conventions
 *   - Arguments: outputs first, then inputs, then dimensions, then the tuning struct.
 *   - Matrices are row-major. Matmul weights are stored (C, OC), the layout of GPT-2's Conv1D
 *     ("in, out"), so that checkpoints are a plain copy of the parameter buffer.
 *   - Backward kernels ACCUMULATE (+=) into every gradient buffer (names start with d). Callers
 *     zero gradients once per optimizer step; gradient accumulation then comes for free.
 *   - Reductions (bias gradients, LayerNorm weight gradients, sums of squares) use a fixed
 *     partition of the rows (KN_REDUCE_CHUNKS), combined in a fixed order, so our kernels give
 *     the same bits whatever the thread count. OpenBLAS sgemm is reproducible only for a fixed
 *     thread count, so end-to-end determinism is promised per thread count.
 *   - A target < 0 in cross-entropy means "ignore this position": loss 0, no gradient.
 */
#ifndef UB_KERNELS_H
#define UB_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------------------------------------
 * Tunables: the one place a student changes to re-measure. See kernels/tune.c for defaults and
 * `unlearnbench bench kernels` for their effect. Environment override: UB_THREADS.
 * ------------------------------------------------------------------------------------------ */
typedef enum {
    /* Our OpenMP team splits every GEMM into row/column panels; each thread calls a
     * single-threaded OpenBLAS sgemm on its panel. Only one thread pool ever runs, so the
     * OpenMP team and OpenBLAS's pthreads never oversubscribe the cores. Default. */
    KN_GEMM_OMP_PANELS = 0,
    /* Hand each GEMM whole to OpenBLAS with `threads` OpenBLAS threads (its own pthread pool).
     * Kept for comparison: on 2 cores its spinning workers compete with our OpenMP team. */
    KN_GEMM_BLAS_THREADS = 1
} kn_gemm_mode;

typedef struct kn_tune {
    int threads;          /* OpenMP team size and sgemm parallelism; 0 = all online cores */
    kn_gemm_mode gemm;    /* how GEMMs are parallelised (see above) */
    int gemm_min_rows;    /* a GEMM panel is never split below this many rows per thread */
    int attn_ts;          /* query rows per attention tile (cache blocking of the T x T scores) */
    int par_min;          /* element-wise kernels below this many elements run on one thread */
    int pass_rows;        /* the model runs forward+backward on at most this many rows (B*T) at
                           * a time, splitting larger batches into micro-batches whose
                           * activations stay in cache; scoring's batches hold this many rows
                           * (models/, not the kernels, reads it) */
    int replicas;         /* 1: data-parallel passes: each thread runs whole forward+backward
                           * passes on its own share of the batch (kernels single-threaded, one
                           * gradient buffer per thread, summed in a fixed order), and scoring
                           * runs whole batches per thread (models/gpt_private.h gpt_team);
                           * 0: every kernel is parallelised on its own (models/ reads it) */
} kn_tune;

/* The defaults, with UB_THREADS applied if set. */
void kn_tune_default(kn_tune *t);
/* 0 if every field is in range, else -1 and a one-line reason in msg. */
int kn_tune_check(const kn_tune *t, char *msg, size_t msglen);
/* Apply the thread settings (OpenMP team size; OpenBLAS threads 1 or `threads` by mode).
 * Returns the thread count in effect. Call once at start-up and whenever the tune changes. */
int kn_tune_apply(kn_tune *t);
/* The thread count a kernel uses: t->threads, or all online cores when it is 0. */
int kn_tune_threads(const kn_tune *t);
/* Write "threads=2 gemm=omp-panels gemm_min_rows=... " into buf. */
void kn_tune_str(const kn_tune *t, char *buf, size_t len);

/* How a backward kernel writes the gradient of its input activation (dinp): add to what is
 * there (the general contract above), or overwrite it, which spares the caller zeroing a scratch
 * buffer first. Parameter gradients (dw, dbias) always accumulate. */
typedef enum { KN_ACCUMULATE = 0, KN_OVERWRITE = 1 } kn_write;

/* Number of fixed row chunks used by deterministic column reductions. */
#define KN_REDUCE_CHUNKS 64

/* ------------------------------------------------------------------------------------------
 * Token + position embedding
 * ------------------------------------------------------------------------------------------ */
/* out (B,T,C) = wte[inp[b,t]] + wpe[t];  inp (B,T) ids in [0,V);  wte (V,C);  wpe (maxT,C) */
void kn_encoder_forward(float *out, const int *inp, const float *wte, const float *wpe,
                        int B, int T, int C);
/* dwte (V,C) +=, dwpe (maxT,C) += from dout (B,T,C). */
void kn_encoder_backward(float *dwte, float *dwpe, const float *dout, const int *inp,
                         int B, int T, int C);

/* ------------------------------------------------------------------------------------------
 * LayerNorm over the last dimension, eps = 1e-5 (GPT-2)
 * ------------------------------------------------------------------------------------------ */
#define KN_LN_EPS 1e-5f
/* out (N,C); mean (N); rstd (N) saved for backward; inp (N,C); w (C); b (C) */
void kn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *w, const float *b, int N, int C);
/* dinp (N,C) +=; dw (C) +=; db (C) += */
void kn_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                           const float *inp, const float *w, const float *mean,
                           const float *rstd, int N, int C);

/* ------------------------------------------------------------------------------------------
 * Matmul (via cblas_sgemm)
 * ------------------------------------------------------------------------------------------ */
/* out (N,OC) = inp (N,C) @ w (C,OC) + bias (OC);  bias may be NULL */
void kn_matmul_forward(float *out, const float *inp, const float *w, const float *bias,
                       int N, int C, int OC, const kn_tune *tune);
/* dinp (N,C) += dout @ w^T (= with KN_OVERWRITE);  dw (C,OC) += inp^T @ dout;
 * dbias (OC) += column sums of dout.  dinp and dbias may be NULL (not needed / no bias). */
void kn_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
                        const float *inp, const float *w, int N, int C, int OC,
                        kn_write dinp_mode, const kn_tune *tune);
/* Tied output projection. out (N,OC) = inp (N,C) @ w^T with w (OC,C) (the wte table). */
void kn_matmul_nt_forward(float *out, const float *inp, const float *w,
                          int N, int C, int OC, const kn_tune *tune);
/* dinp (N,C) += dout @ w (= with KN_OVERWRITE);  dw (OC,C) += dout^T @ inp.  dinp may be
 * NULL. */
void kn_matmul_nt_backward(float *dinp, float *dw, const float *dout, const float *inp,
                           const float *w, int N, int C, int OC, kn_write dinp_mode,
                           const kn_tune *tune);

/* ------------------------------------------------------------------------------------------
 * GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
 * ------------------------------------------------------------------------------------------ */
/* out (n) */
void kn_gelu_forward(float *out, const float *inp, size_t n, const kn_tune *tune);
/* dinp (n) += gelu'(inp) * dout (= with KN_OVERWRITE) */
void kn_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n,
                      kn_write mode, const kn_tune *tune);

/* ------------------------------------------------------------------------------------------
 * Residual add
 * ------------------------------------------------------------------------------------------ */
/* out (n) = a + b */
void kn_residual_forward(float *out, const float *a, const float *b, size_t n,
                         const kn_tune *tune);
/* da (n) += dout; db (n) += dout */
void kn_residual_backward(float *da, float *db, const float *dout, size_t n,
                          const kn_tune *tune);

/* ------------------------------------------------------------------------------------------
 * Causal multi-head self-attention
 *   qkv (B,T,3C): for token (b,t), q = qkv[b,t,0:C], k = qkv[b,t,C:2C], v = qkv[b,t,2C:3C];
 *   head h uses channels h*hs .. (h+1)*hs-1 of each.  Scores scaled by 1/sqrt(hs), causal mask
 *   (position t attends to 0..t), softmax, weighted sum of v.
 * ------------------------------------------------------------------------------------------ */
/* out (B,T,C); att (B,NH,T,T) softmax probabilities, saved for backward (entries above the
 * diagonal are written as 0). */
void kn_attention_forward(float *out, float *att, const float *qkv,
                          int B, int T, int C, int NH, const kn_tune *tune);
/* dqkv (B,T,3C) +=; scratch (B,NH,T,T) is workspace (contents on entry ignored). */
void kn_attention_backward(float *dqkv, float *scratch, const float *dout, const float *qkv,
                           const float *att, int B, int T, int C, int NH,
                           const kn_tune *tune);

/* Inference after a cached prefix (KV cache): Tn new rows per sequence attend to the P
 * positions before them, whose keys and values were kept from an earlier pass, and causally to
 * each other; positions P..P+Tn-1 of kn_attention_forward over the whole sequence, with the same
 * bits when the loop path runs there (hs <= 128, T = P+Tn <= 256). No backward: nothing trains
 * through a cache. out (B,Tn,C); att (B,NH,Tn,P+Tn) workspace; qkv (B,Tn,3C) of the new rows;
 * kpre, vpre (P,C) the prefix keys and values of row b's sequence s at kpre + s*pstride, s =
 * seq[b], or b without seq (pstride 0: all rows share one prefix). P may be 0. */
void kn_attention_kv_forward(float *out, float *att, const float *qkv, const float *kpre,
                             const float *vpre, size_t pstride, const int *seq, int B, int Tn,
                             int P, int C, int NH, const kn_tune *tune);

/* ------------------------------------------------------------------------------------------
 * Softmax + cross-entropy, fused.  Per-token losses are kept (natural log).
 * ------------------------------------------------------------------------------------------ */
/* losses (N) = -log softmax(logits)[target] (0 where target < 0);
 * probs (N,V) = softmax(logits) (probs may alias logits: computed in place). */
void kn_crossentropy_forward(float *losses, float *probs, const float *logits,
                             const int *targets, int N, int V, const kn_tune *tune);
/* dlogits (N,V) += dloss[i] * (probs - onehot(target)); rows with target < 0 get nothing.
 * dlogits may alias probs (then it is overwritten, not accumulated: dlogits = ...). */
void kn_crossentropy_backward(float *dlogits, const float *probs, const int *targets,
                              const float *dlosses, int N, int V, const kn_tune *tune);
/* Soft targets: losses (N) = -sum_j soft_ij log softmax(logits_i)_j (the KL to soft up to its
 * entropy); rows with mask[i] < 0 are ignored (mask may be NULL). probs may alias logits. */
void kn_crossentropy_soft_forward(float *losses, float *probs, const float *logits,
                                  const float *soft, const int *mask, int N, int V,
                                  const kn_tune *tune);
/* dlogits (N,V) += dlosses[i] * (sum(soft_i) probs_i - soft_i); ignored rows get nothing
 * (dlogits may alias probs: then overwritten, ignored rows 0). */
void kn_crossentropy_soft_backward(float *dlogits, const float *probs, const float *soft,
                                   const int *mask, const float *dlosses, int N, int V,
                                   const kn_tune *tune);

/* ------------------------------------------------------------------------------------------
 * Optimizer helpers
 * ------------------------------------------------------------------------------------------ */
/* AdamW exactly as torch.optim.AdamW (decoupled decay applied first):
 *   p *= 1 - lr*wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * p, g, m, v (n); t >= 1 is the step number. */
void kn_adamw_update(float *p, const float *g, float *m, float *v, size_t n, float lr,
                     float beta1, float beta2, float eps, float weight_decay, long t,
                     const kn_tune *tune);
/* Sum of squares in double with a fixed chunking (thread-count independent). x (n) */
double kn_sumsq(const float *x, size_t n, const kn_tune *tune);
/* x (n) *= s */
void kn_scale(float *x, float s, size_t n, const kn_tune *tune);
/* Global-norm clipping as torch.nn.utils.clip_grad_norm_: norm = sqrt(sumsq(g));
 * if norm > max_norm, g *= max_norm / (norm + 1e-6). Returns the norm before clipping
 * (NaN/Inf propagate so the caller can detect a diverged step). g (n) */
double kn_clip_grad_norm(float *g, size_t n, double max_norm, const kn_tune *tune);

#endif
