/* kernels/layernorm.c: LayerNorm over the last dimension (eps KN_LN_EPS), forward and backward. */
#include "kn_private.h"

/* out (N,C); mean (N); rstd (N) saved for backward; inp (N,C); w (C); b (C).
 * Two passes per row (mean, then the mean of squared deviations) as PyTorch: no cancellation. */
void kn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *w, const float *b, int N, int C) {
#pragma omp parallel for schedule(static) if ((size_t)N * C >= KN_PAR_MIN_UNTUNED)
    for (int i = 0; i < N; i++) {
        const float *x = inp + (size_t)i * C;   /* (C) */
        float *o = out + (size_t)i * C;         /* (C) */
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int c = 0; c < C; c++) s += x[c];
        float m = s / C;
        float v = 0.0f;
#pragma omp simd reduction(+ : v)
        for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
        float r = 1.0f / sqrtf(v / C + KN_LN_EPS);
#pragma omp simd
        for (int c = 0; c < C; c++) o[c] = (x[c] - m) * r * w[c] + b[c];
        mean[i] = m;
        rstd[i] = r;
    }
}

/* dinp (N,C) +=; dw (C) +=; db (C) +=; dout (N,C); inp (N,C); w (C); mean (N); rstd (N).
 * With xh = (x - mean) * rstd and g = dout * w:
 *   dinp = rstd * (g - mean(g) - xh * mean(g * xh));  dw = sum_rows dout * xh;  db = sum_rows dout.
 * dinp is row-parallel. dw/db are column reductions: each thread owns blocks of KN_COL_BLOCK
 * columns, sums each of the KN_REDUCE_CHUNKS fixed row chunks, then adds the chunk sums in
 * order, so the bits do not depend on the thread count. */
void kn_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                           const float *inp, const float *w, const float *mean,
                           const float *rstd, int N, int C) {
    int par = (size_t)N * C >= KN_PAR_MIN_UNTUNED;
#pragma omp parallel for schedule(static) if (par)
    for (int i = 0; i < N; i++) {
        const float *x = inp + (size_t)i * C;    /* (C) */
        const float *d = dout + (size_t)i * C;   /* (C) */
        float *dx = dinp + (size_t)i * C;        /* (C) */
        float m = mean[i], r = rstd[i];
        float sg = 0.0f, sgx = 0.0f;
#pragma omp simd reduction(+ : sg, sgx)
        for (int c = 0; c < C; c++) {
            float g = d[c] * w[c];
            sg += g;
            sgx += g * (x[c] - m) * r;
        }
        sg /= C;
        sgx /= C;
#pragma omp simd
        for (int c = 0; c < C; c++) {
            float xh = (x[c] - m) * r;
            dx[c] += r * (d[c] * w[c] - sg - xh * sgx);
        }
    }

    int nblk = (C + KN_COL_BLOCK - 1) / KN_COL_BLOCK;
    int chunk = (N + KN_REDUCE_CHUNKS - 1) / KN_REDUCE_CHUNKS;
#pragma omp parallel for schedule(static) if (par)
    for (int blk = 0; blk < nblk; blk++) {
        int c0 = blk * KN_COL_BLOCK;
        int cn = C - c0 < KN_COL_BLOCK ? C - c0 : KN_COL_BLOCK;
        float tw[KN_COL_BLOCK] = {0}, tb[KN_COL_BLOCK] = {0};
        for (int i0 = 0; i0 < N; i0 += chunk) {
            int i1 = i0 + chunk < N ? i0 + chunk : N;
            float pw[KN_COL_BLOCK] = {0}, pb[KN_COL_BLOCK] = {0};
            for (int i = i0; i < i1; i++) {
                const float *x = inp + (size_t)i * C + c0;    /* (cn) */
                const float *d = dout + (size_t)i * C + c0;   /* (cn) */
                float m = mean[i], r = rstd[i];
#pragma omp simd
                for (int c = 0; c < cn; c++) {
                    pw[c] += d[c] * ((x[c] - m) * r);
                    pb[c] += d[c];
                }
            }
            for (int c = 0; c < cn; c++) {
                tw[c] += pw[c];
                tb[c] += pb[c];
            }
        }
        for (int c = 0; c < cn; c++) {
            dw[c0 + c] += tw[c];
            db[c0 + c] += tb[c];
        }
    }
}
