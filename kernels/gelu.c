/* kernels/gelu.c: GELU, tanh approximation, as PyTorch's gelu(approximate='tanh'):
 *   y = 0.5 x (1 + tanh(u)),  u = k (x + 0.044715 x^3),  k = sqrt(2/pi).
 * 1 + tanh(u) is computed as s = 2 / (1 + exp(-2u)): the same function, but accurate to a few
 * ulp relative even in the negative tail where 1 + tanh(u) cancels (float tanh near -1 carries
 * an absolute error of ~6e-8, which is 1e-3 relative at x = -4). kn_expf keeps the loops
 * vectorisable (glibc's tanhf/expf are scalar calls without fast-math flags). */
#include "kn_private.h"

#define KN_GELU_K 0.7978845608028654f   /* sqrt(2/pi) = M_SQRT2 * M_2_SQRTPI / 2 */
#define KN_GELU_A 0.044715f

/* out (n); inp (n) */
void kn_gelu_forward(float *out, const float *inp, size_t n, const kn_tune *tune) {
#pragma omp parallel for simd schedule(static) num_threads(kn_par_threads(tune, n))
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float x3 = x * x * x;
        float u = KN_GELU_K * (x + KN_GELU_A * x3);
        float s = 2.0f / (1.0f + kn_expf(-2.0f * u));   /* 1 + tanh(u) */
        out[i] = 0.5f * x * s;
    }
}

/* gelu'(x) = 0.5 (1 + th) + 0.5 x (1 - th^2) k (1 + 3 * 0.044715 x^2), th = tanh(u);
 * with s = 1 + th, 1 - th^2 = s (2 - s). */
static inline float gelu_grad(float x) {
    float x2 = x * x;
    float u = KN_GELU_K * (x + KN_GELU_A * (x2 * x));
    float s = 2.0f / (1.0f + kn_expf(-2.0f * u)); /* 1 + tanh(u) */
    float left = 0.5f * x;
    float dleft = 0.5f * s;
    float du = KN_GELU_K * (1.0f + 3.0f * KN_GELU_A * x2);
    return dleft + left * (s * (2.0f - s)) * du;
}

/* dinp (n) += (or =, KN_OVERWRITE) gelu'(inp) * dout;  inp (n); dout (n). Two loops rather than
 * a blend: overwriting must not read dinp, which may hold garbage (even NaN). */
void kn_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n, kn_write mode,
                      const kn_tune *tune) {
    if (mode == KN_OVERWRITE) {
#pragma omp parallel for simd schedule(static) num_threads(kn_par_threads(tune, n))
        for (size_t i = 0; i < n; i++) dinp[i] = dout[i] * gelu_grad(inp[i]);
    } else {
#pragma omp parallel for simd schedule(static) num_threads(kn_par_threads(tune, n))
        for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * gelu_grad(inp[i]);
    }
}
