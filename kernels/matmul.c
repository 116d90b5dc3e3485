/* kernels/matmul.c: matmul forward/backward through cblas_sgemm, and the deterministic bias
 * gradient.
 *
 * Parallelisation (kn_tune.gemm):
 *   KN_GEMM_OMP_PANELS   the output rows are split into panels, one per OpenMP thread, and each
 *                        thread calls single-threaded sgemm on its panel (kn_tune_apply has set
 *                        OpenBLAS to 1 thread). Forward and dinp: rows of out/dinp. dW: rows of
 *                        dW, i.e. a range of input channels, so no two threads write the same
 *                        element and K (the summation length) is never split.
 *   KN_GEMM_BLAS_THREADS one whole sgemm, outside any OpenMP region, on OpenBLAS's threads.
 */
#include <cblas.h>

#include "kn_private.h"

/* Rows of each panel are rounded up to a multiple of this, the M-unroll of OpenBLAS's
 * Haswell/Zen sgemm micro-kernel, so that only the last panel has a ragged edge. */
#define KN_PANEL_ALIGN 16

/* C (M,N) = alpha * op(A) (M,K) @ op(B) (K,N) + beta * C, row-major, split over rows of C.
 * op(A) rows r0..r1 are at A + r0*lda (no transpose) or A + r0 (transposed: columns). */
static void sgemm_rows(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K,
                       float alpha, const float *A, int lda, const float *Bm, int ldb,
                       float beta, float *Cm, int ldc, const kn_tune *tune) {
    int np = 1;
    if (tune->gemm == KN_GEMM_OMP_PANELS) {
        np = M / tune->gemm_min_rows;
        int nt = kn_tune_threads(tune);
        np = np < 1 ? 1 : (np > nt ? nt : np);
    }
    if (np == 1) {
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, Bm, ldb, beta, Cm, ldc);
        return;
    }
    int rows = (M + np - 1) / np;
    rows = (rows + KN_PANEL_ALIGN - 1) / KN_PANEL_ALIGN * KN_PANEL_ALIGN;
#pragma omp parallel for schedule(static) num_threads(np)
    for (int p = 0; p < np; p++) {
        int r0 = p * rows;
        int r1 = r0 + rows < M ? r0 + rows : M;
        if (r0 >= r1) continue;
        const float *Ap = ta == CblasNoTrans ? A + (size_t)r0 * lda : A + r0;
        cblas_sgemm(CblasRowMajor, ta, tb, r1 - r0, N, K, alpha, Ap, lda, Bm, ldb, beta,
                    Cm + (size_t)r0 * ldc, ldc);
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
    sgemm_rows(CblasNoTrans, CblasNoTrans, N, OC, C, 1.0f, inp, C, w, OC, beta, out, OC, tune);
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
        sgemm_rows(CblasNoTrans, CblasTrans, N, C, OC, 1.0f, dout, OC, w, OC, beta, dinp, C,
                   tune);
    sgemm_rows(CblasTrans, CblasNoTrans, C, OC, N, 1.0f, inp, C, dout, OC, 1.0f, dw, OC, tune);
}

/* out (N,OC) = inp (N,C) @ w^T;  w (OC,C) */
void kn_matmul_nt_forward(float *out, const float *inp, const float *w,
                          int N, int C, int OC, const kn_tune *tune) {
    sgemm_rows(CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, w, C, 0.0f, out, OC, tune);
}

/* dinp (N,C) += (or =) dout (N,OC) @ w (OC,C);  dw (OC,C) += dout^T @ inp (N,C).  dinp may be NULL. */
void kn_matmul_nt_backward(float *dinp, float *dw, const float *dout, const float *inp,
                           const float *w, int N, int C, int OC, kn_write dinp_mode,
                           const kn_tune *tune) {
    float beta = dinp_mode == KN_OVERWRITE ? 0.0f : 1.0f;
    if (dinp)
        sgemm_rows(CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, w, C, beta, dinp, C,
                   tune);
    sgemm_rows(CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dw, C, tune);
}
