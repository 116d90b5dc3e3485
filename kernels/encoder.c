/* kernels/encoder.c: token + position embedding, forward and backward. */
#include "kn_private.h"

/* out (B,T,C); inp (B,T) token ids in [0,V); wte (V,C); wpe (maxT,C), T <= maxT */
void kn_encoder_forward(float *out, const int *inp, const float *wte, const float *wpe,
                        int B, int T, int C) {
    size_t N = (size_t)B * T;
#pragma omp parallel for schedule(static) if (N * C >= KN_PAR_MIN_UNTUNED)
    for (size_t i = 0; i < N; i++) {
        float *o = out + i * C;                         /* (C) */
        const float *e = wte + (size_t)inp[i] * C;      /* (C) */
        const float *p = wpe + (i % T) * (size_t)C;     /* (C) */
#pragma omp simd
        for (int c = 0; c < C; c++) o[c] = e[c] + p[c];
    }
}

/* dwte (V,C) +=; dwpe (maxT,C) +=; dout (B,T,C); inp (B,T).
 * A token id may repeat, so rows of dwte receive several contributions. Instead of atomics or
 * per-thread copies of dwte, each thread owns a block of channels and walks every token in
 * (b,t) order: each element is summed in the same order whatever the thread count. */
void kn_encoder_backward(float *dwte, float *dwpe, const float *dout, const int *inp,
                         int B, int T, int C) {
    int nblk = (C + KN_COL_BLOCK - 1) / KN_COL_BLOCK;
    size_t N = (size_t)B * T;
#pragma omp parallel for schedule(static) if (N * C >= KN_PAR_MIN_UNTUNED)
    for (int blk = 0; blk < nblk; blk++) {
        int c0 = blk * KN_COL_BLOCK;
        int cn = C - c0 < KN_COL_BLOCK ? C - c0 : KN_COL_BLOCK;
        for (size_t i = 0; i < N; i++) {
            const float *d = dout + i * C + c0;                     /* (cn) */
            float *gw = dwte + (size_t)inp[i] * C + c0;              /* (cn) */
            float *gp = dwpe + (i % T) * (size_t)C + c0;             /* (cn) */
#pragma omp simd
            for (int c = 0; c < cn; c++) {
                gw[c] += d[c];
                gp[c] += d[c];
            }
        }
    }
}
