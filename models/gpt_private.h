/* models/gpt_private.h: shared by the model's source files; not part of the public API. */
#ifndef UB_GPT_PRIVATE_H
#define UB_GPT_PRIVATE_H

#include <math.h>

#include "gpt.h"

/* Allocate (zeroed) gradient buffers and their views if not there yet. */
ub_status gpt_ensure_grads(gpt_model *m, ub_err *e);
/* Free the data-parallel replicas (their activations and gradients, not the shared params). */
void gpt_free_replicas(gpt_model *m);
/* m->replicas[0..W): per-thread workers sharing m's parameters, each with its own activations
 * and gradients, kernels on one thread (gpt_step.c). Kept while W is unchanged. */
ub_status gpt_ensure_replicas(gpt_model *m, int W, ub_err *e);

/* Workers of a batch-parallel forward pass over nbatch batches (scoring, candidates, next-token
 * rows): with tune.replicas, more than one thread and more than one batch, W = min(threads,
 * nbatch) workers, each running whole batches on its own replicas of ms[0..nm) with
 * single-threaded kernels (no synchronisation inside a batch: small batches scale too); else
 * one worker, the models themselves, kernels on every thread. Batch b goes to worker b mod W
 * (inside `omp parallel for schedule(static, 1) num_threads(W)`): with W > 1 a batch's bits
 * depend only on its rows, not on the schedule. gpt_score.c. */
typedef struct gpt_team {
    int W, nm;
    int inner;        /* threads of a worker's kernels and loops */
    gpt_model **ms;   /* (W * nm): worker w's models at ms + w * nm */
} gpt_team;
ub_status gpt_team_make(gpt_team *t, gpt_model **ms, int nm, size_t nbatch, ub_err *e);
void gpt_team_free(gpt_team *t);
static inline gpt_model **gpt_team_models(const gpt_team *t, int w) { return t->ms + (size_t)w * t->nm; }
/* fn(ctx, w, b, e) for every batch b < nbatch, b on worker b mod W: inside one parallel region
 * when W > 1, else in a plain loop (a parallel region of one would make the kernels' own teams
 * nested ones, which libgomp starts afresh each time); the first failing worker's error. */
typedef ub_status (*gpt_team_fn)(void *ctx, int w, size_t b, ub_err *e);
ub_status gpt_team_run(const gpt_team *t, size_t nbatch, gpt_team_fn fn, void *ctx, ub_err *e);

/* One worker of a KV-cached pass (candidates, next-token rows): its models (a gpt_team's), their
 * caches holding a shared context, one batch's buffers. */
typedef struct gpt_kv_worker {
    gpt_model **ms;
    gpt_kv *kvs;      /* (nm) */
    int *in, *tg;     /* (rows); tg starts zeroed (dummy targets: with targets the forward pass
                       * turns logits into probabilities) */
    float *blp, *avg; /* (rows), (rows * V) when nm > 1 */
} gpt_kv_worker;
/* (*wk)[0..t->W): buffers of `rows` rows, caches holding the context's first P ids. */
ub_status gpt_kv_workers_make(gpt_kv_worker **wk, const gpt_team *t, const int32_t *context, int P,
                              size_t rows, ub_err *e);
void gpt_kv_workers_free(gpt_kv_worker *wk, const gpt_team *t);

/* Models ms[0..nm) (one or an averaged ensemble) on a batch in (nb, T) with targets tg; with
 * kvs (nm caches) after each one's cached prefix. probs: the (averaged) distributions, avg or
 * the model's own buffer; lp_out (nb*T) log p of each target (0 where tg < 0). gpt_score.c. */
ub_status gpt_forward_avg(gpt_model **ms, int nm, gpt_kv *kvs, const int *in, const int *tg,
                          int nb, int T, float *avg, const float **probs, float *lp_out,
                          ub_err *e);

/* kvs[0..nm) = empty one-sequence caches holding each model's keys and values of the context's
 * first P ids (nothing to run when P = 0): the shared prefix of candidates or rows that then
 * run after it (gpt_cont.c, gpt_next.c). gpt_score.c. */
ub_status gpt_kv_prefill(gpt_model **ms, int nm, const int32_t *context, int P, gpt_kv *kvs,
                         ub_err *e);

/* log p with p floored at 1e-30 (an averaged probability can underflow to 0). */
static inline double gpt_safe_log(float p) { return log(p > 1e-30f ? (double)p : 1e-30); }

/* Time `call` into m->prof.sec[dir][kind] when profiling is on (clock reads cost ~20 ns). */
#define PROF(dir, kind, call)                                                                      \
    do {                                                                                           \
        double prof_t0_ = m->prof.on ? ub_now() : 0.0;                                             \
        call;                                                                                      \
        if (m->prof.on) m->prof.sec[dir][kind] += ub_now() - prof_t0_;                             \
    } while (0)

#endif
