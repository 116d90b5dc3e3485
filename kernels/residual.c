/* kernels/residual.c: residual add, forward and backward (memory-bound streams). */
#include "kn_private.h"

/* out (n) = a (n) + b (n) */
void kn_residual_forward(float *out, const float *a, const float *b, size_t n,
                         const kn_tune *tune) {
#pragma omp parallel for simd schedule(static) num_threads(kn_par_threads(tune, n))
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/* da (n) += dout (n); db (n) += dout */
void kn_residual_backward(float *da, float *db, const float *dout, size_t n,
                          const kn_tune *tune) {
#pragma omp parallel for simd schedule(static) num_threads(kn_par_threads(tune, n))
    for (size_t i = 0; i < n; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}
