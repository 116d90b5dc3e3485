/* models/gpt_private.h: shared by the model's source files; not part of the public API. */
#ifndef UB_GPT_PRIVATE_H
#define UB_GPT_PRIVATE_H

#include <math.h>

#include "gpt.h"

/* Allocate (zeroed) gradient buffers and their views if not there yet. */
ub_status gpt_ensure_grads(gpt_model *m, ub_err *e);
/* Free the data-parallel replicas (their activations and gradients, not the shared params). */
void gpt_free_replicas(gpt_model *m);

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
