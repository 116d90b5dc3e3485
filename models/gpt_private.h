/* models/gpt_private.h: shared by the model's source files; not part of the public API. */
#ifndef UB_GPT_PRIVATE_H
#define UB_GPT_PRIVATE_H

#include <math.h>

#include "gpt.h"

/* Allocate (zeroed) gradient buffers and their views if not there yet. */
ub_status gpt_ensure_grads(gpt_model *m, ub_err *e);
/* Free the data-parallel replicas (their activations and gradients, not the shared params). */
void gpt_free_replicas(gpt_model *m);

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
