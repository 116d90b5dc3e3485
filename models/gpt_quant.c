/* models/gpt_quant.c: weight quantization by round-to-nearest, the attack of Zhang et al. 2024
 * ("Catastrophic Failure of LLM Unlearning via Quantization"): an unlearning method that moves
 * the weights only a little may be undone when they are rounded to a coarse grid, because the
 * rounding maps the unlearned weights back onto the original's grid points. */
#include <math.h>

#include "gpt_private.h"

ub_status gpt_quantize_rtn(gpt_model *m, int bits, ub_err *e) {
    if (bits < 2 || bits > 16)
        return ub_fail(e, UB_EARG, "quantize: %d bits, need 2..16", bits);
    double qmax = ldexp(1.0, bits - 1) - 1.0; /* symmetric: -qmax .. qmax, zero exact */
    for (int t = 0; t < m->n_tensors; t++) {
        const gpt_tensor *g = &m->tensors[t];
        /* the matrices and embeddings (the tensors weight decay applies to); biases and layer
         * norms stay in float, as in the paper's RTN baselines */
        if (!g->decay || g->rank != 2) continue;
        size_t rows = g->dims[0], cols = g->dims[1];
        float *w = m->params_mem + g->offset;
        for (size_t r = 0; r < rows; r++) { /* one scale per row of the stored matrix */
            float *x = w + r * cols;
            double amax = 0.0;
            for (size_t c = 0; c < cols; c++) {
                if (!isfinite(x[c]))
                    return ub_fail(e, UB_EFORMAT, "quantize: tensor %s row %zu column %zu is "
                                   "not finite", g->name, r, c);
                amax = fmax(amax, fabs((double)x[c]));
            }
            if (amax == 0.0) continue;
            double scale = amax / qmax;
            for (size_t c = 0; c < cols; c++) x[c] = (float)(nearbyint((double)x[c] / scale) * scale);
        }
    }
    return UB_OK;
}
