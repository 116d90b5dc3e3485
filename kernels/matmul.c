/* kernels/matmul.c: matmul forward/backward through cblas_sgemm, and the deterministic bias
 * gradient.
 *
 * Parallelisation (kn_tune.gemm):
 *   KN_GEMM_OMP_PANELS   the output is split into panels, one per OpenMP thread, and each
 *                        thread calls single-threaded sgemm on its panel (kn_tune_apply has set
 *                        OpenBLAS to 1 thread). Panels run along the longer side of the output
 *                        (see sgemm_panels), so no two threads write the same element and K
 *                        (the summation length) is never split.
 *   KN_GEMM_BLAS_THREADS one whole sgemm, outside any OpenMP region, on OpenBLAS's threads.
 */
#include <cblas.h>

#include "kn_private.h"

/* Panel sizes are rounded up to a multiple of this (OpenBLAS's Haswell/Zen sgemm micro-kernel
 * unrolls 16 rows; columns come in multiples of its 4 too), so only the last panel is ragged. */
#define KN_PANEL_ALIGN 16

/* C (M,N) = alpha * op(A) (M,K) @ op(B) (K,N) + beta * C, row-major, split into panels of C.
 * Each thread packs its own slice of one operand and the whole of the other, so the split runs
 * along the longer side of C: rows when M >= N (every thread packs all of op(B)), columns when
 * N > M (every thread packs all of op(A)). For dW = inp^T @ dout of a C -> 4C layer that halves
 * the bytes each thread packs. K (the summation) is never split, so every element of C is
 * computed by one sgemm in the same order whatever the panel count. */
static void sgemm_panels(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K,
                         float alpha, const float *A, int lda, const float *Bm, int ldb,
                         float beta, float *Cm, int ldc, const kn_tune *tune) {
    int by_cols = N > M, len = by_cols ? N : M;
    int np = 1;
    if (tune->gemm == KN_GEMM_OMP_PANELS) {
        np = len / tune->gemm_min_rows;
        int nt = kn_tune_threads(tune);
        np = np < 1 ? 1 : (np > nt ? nt : np);
    }
    if (np == 1) {
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, Bm, ldb, beta, Cm, ldc);
        return;
    }
    int step = (len + np - 1) / np;
    step = (step + KN_PANEL_ALIGN - 1) / KN_PANEL_ALIGN * KN_PANEL_ALIGN;
#pragma omp parallel for schedule(static) num_threads(np)
    for (int p = 0; p < np; p++) {
        int i0 = p * step;
        int i1 = i0 + step < len ? i0 + step : len;
        if (i0 >= i1) continue;
        if (by_cols) { /* columns i0..i1 of op(B) and of C */
            const float *Bp = tb == CblasNoTrans ? Bm + i0 : Bm + (size_t)i0 * ldb;
            cblas_sgemm(CblasRowMajor, ta, tb, M, i1 - i0, K, alpha, A, lda, Bp, ldb, beta,
                        Cm + i0, ldc);
        } else { /* rows i0..i1 of op(A) and of C */
            const float *Ap = ta == CblasNoTrans ? A + (size_t)i0 * lda : A + i0;
            cblas_sgemm(CblasRowMajor, ta, tb, i1 - i0, N, K, alpha, Ap, lda, Bm, ldb, beta,
                        Cm + (size_t)i0 * ldc, ldc);
        }
    }
}

/* dbias (OC) += column sums of dout (N,OC). Threads own blocks of columns; rows are summed per
 * fixed chunk (KN_REDUCE_CHUNKS) and the chunk sums added in order: same bits for any thread
 * count, no scratch. */
static void colsum_add(float *dbias, const float *dout, int N, int OC, const kn_tune *tune) {
    int nblk = (OC + KN_COL_BLOCK - 1) / KN_COL_BLOCK;
    int chunk = (N + KN_REDUCE_CHUNKS - 1) / KN_REDUCE_CHUNKS;
#pragma omp parallel for schedule(static) num_threads(kn_par_threads(tune, (size_t)N * OC))
    for (int blk = 0; blk < nblk; blk++) {
        int o0 = blk * KN_COL_BLOCK;
        int on = OC - o0 < KN_COL_BLOCK ? OC - o0 : KN_COL_BLOCK;
        float tot[KN_COL_BLOCK] = {0};
        for (int i0 = 0; i0 < N; i0 += chunk) {
            int i1 = i0 + chunk < N ? i0 + chunk : N;
            float part[KN_COL_BLOCK] = {0};
            for (int i = i0; i < i1; i++) {
                const float *d = dout + (size_t)i * OC + o0;   /* (on) */
#pragma omp simd
                for (int o = 0; o < on; o++) part[o] += d[o];
            }
            for (int o = 0; o < on; o++) tot[o] += part[o];
        }
        for (int o = 0; o < on; o++) dbias[o0 + o] += tot[o];
    }
}

/* out (N,OC) = inp (N,C) @ w (C,OC) + bias (OC); bias may be NULL.
 * The bias is written first and sgemm accumulates onto it (beta = 1): one pass over out. */
void kn_matmul_forward(float *out, const float *inp, const float *w, const float *bias,
                       int N, int C, int OC, const kn_tune *tune) {
    float beta = 0.0f;
    if (bias) {
#pragma omp parallel for schedule(static) num_threads(kn_par_threads(tune, (size_t)N * OC))
        for (int i = 0; i < N; i++) memcpy(out + (size_t)i * OC, bias, sizeof(float) * OC);
        beta = 1.0f;
    }
    sgemm_panels(CblasNoTrans, CblasNoTrans, N, OC, C, 1.0f, inp, C, w, OC, beta, out, OC, tune);
}

/* dinp (N,C) += (or =) dout (N,OC) @ w^T;  dw (C,OC) += inp^T @ dout;  dbias (OC) += colsum(dout).
 * dinp and dbias may be NULL. */
void kn_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
                        const float *inp, const float *w, int N, int C, int OC,
                        kn_write dinp_mode, const kn_tune *tune) {
    if (dbias) colsum_add(dbias, dout, N, OC, tune);
    /* beta = 0 makes sgemm ignore dinp's old contents (even NaN garbage): no zeroing pass. */
    float beta = dinp_mode == KN_OVERWRITE ? 0.0f : 1.0f;
    if (dinp)
        sgemm_panels(CblasNoTrans, CblasTrans, N, C, OC, 1.0f, dout, OC, w, OC, beta, dinp, C,
                   tune);
    sgemm_panels(CblasTrans, CblasNoTrans, C, OC, N, 1.0f, inp, C, dout, OC, 1.0f, dw, OC, tune);
}

/* out (N,OC) = inp (N,C) @ w^T;  w (OC,C) */
void kn_matmul_nt_forward(float *out, const float *inp, const float *w,
                          int N, int C, int OC, const kn_tune *tune) {
    sgemm_panels(CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, w, C, 0.0f, out, OC, tune);
}

/* dinp (N,C) += (or =) dout (N,OC) @ w (OC,C);  dw (OC,C) += dout^T @ inp (N,C).  dinp may be NULL. */
void kn_matmul_nt_backward(float *dinp, float *dw, const float *dout, const float *inp,
                           const float *w, int N, int C, int OC, kn_write dinp_mode,
                           const kn_tune *tune) {
    float beta = dinp_mode == KN_OVERWRITE ? 0.0f : 1.0f;
    if (dinp)
        sgemm_panels(CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, w, C, beta, dinp, C,
                   tune);
    sgemm_panels(CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dw, C, tune);
}
