/* kernels/kn_private.h: private helpers shared by the kernels (not part of the public API):
 * thread choice, column blocking for deterministic reductions, a vectorisable exp. */
#ifndef UB_KN_PRIVATE_H
#define UB_KN_PRIVATE_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

/* Columns per block in the deterministic column reductions: each thread owns whole blocks of
 * columns and sums rows in a fixed order, so no scratch and no dependence on the thread count.
 * 32 floats = 4 AVX2 registers of accumulators, two cache lines per row. */
#define KN_COL_BLOCK 32

/* Kernels whose signature has no kn_tune (encoder, layernorm) run on the OpenMP team that
 * kn_tune_apply set, from this many elements up (the default par_min). */
#define KN_PAR_MIN_UNTUNED 32768

/* Threads for a kernel touching `work` elements: 1 below tune->par_min (a team start costs
 * about as much as streaming par_min floats), else the tune's thread count. */
static inline int kn_par_threads(const kn_tune *tune, size_t work) {
    return work < (size_t)tune->par_min ? 1 : kn_tune_threads(tune);
}

/* c ? a : b for floats, through integer masks. A float `?:` with a computed arm is turned into
 * a branch (the arithmetic gets sunk into it), and with trapping math on (GCC's default, which
 * we keep) the vectoriser will not speculate it back: "control flow in loop". */
static inline float kn_select(int c, float a, float b) {
    uint32_t m = 0u - (uint32_t)c, ab, bb, r;
    memcpy(&ab, &a, 4);
    memcpy(&bb, &b, 4);
    r = (ab & m) | (bb & ~m);
    float f;
    memcpy(&f, &r, 4);
    return f;
}

/* glibc's expf is a scalar call unless fast-math flags are on (never here), so loops over softmax
 * rows and GELU activations would not vectorise. kn_expf is branch-free and inlines into
 * `#pragma omp simd` loops (AVX2: 8 lanes). Cody-Waite reduction by ln2 and the Cephes degree-6
 * polynomial: relative error below 2 ulp on [-87, 88] (tests/test_kernels.c checks it against
 * exp() in double). NaN propagates; x < -87.3 gives 0; x > 88.3 gives +inf. */
static inline float kn_expf(float x) {
    const float hi = 88.3f, lo = -87.3f;
    float xc = kn_select(x > hi, hi, x);
    xc = kn_select(xc < lo, lo, xc);
    /* n = round(x / ln2): adding 1.5*2^23 rounds to an integer held in the low mantissa bits. */
    const float magic = 12582912.0f;
    float t = xc * 1.44269504088896341f + magic;
    float n = t - magic;
    float r = xc - n * 0.693359375f; /* ln2 split: the high part has 9 bits, n*hi is exact */
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    /* 2^n built in the exponent field; n in [-126, 127] after the clamp. Unsigned: a NaN input
     * gives garbage bits here (no overflow UB) and NaN from the polynomial anyway. */
    uint32_t ti, mi;
    memcpy(&ti, &t, 4);
    memcpy(&mi, &magic, 4);
    uint32_t bits = (ti - mi + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    y = y * scale;
    y = kn_select(x < lo, 0.0f, y);
    return kn_select(x > hi, (float)INFINITY, y);
}

/* p (n) = softmax(x (n)), stable (max subtracted); p may alias x. Returns the sum of
 * exp(x - max) before normalising and stores the max in *mx, so a caller can form
 * log-probabilities: log p_j = x_j - mx - log(sum). */
static inline float kn_softmax_row(float *p, const float *x, int n, float *mx_out) {
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < n; j++) mx = x[j] > mx ? x[j] : mx;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < n; j++) {
        p[j] = kn_expf(x[j] - mx);
        s += p[j];
    }
    float inv = 1.0f / s;
#pragma omp simd
    for (int j = 0; j < n; j++) p[j] *= inv;
    if (mx_out) *mx_out = mx;
    return s;
}

#endif
