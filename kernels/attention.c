/* kernels/attention.c: causal multi-head self-attention, forward and backward.
 *
 * Work is split over (b,h) pairs: each head of each sequence is independent and writes only
 * its own hs channels of out/dqkv and its own (T,T) block of att/scratch, so the result does
 * not depend on the thread count. Within a head, query rows are processed in tiles of
 * tune->attn_ts rows [t0,t1); a tile only needs keys 0..t1-1, so the masked upper triangle is
 * skipped tile by tile. The products are single-threaded sgemm calls on strided views of qkv
 * (row stride 3C) and out (row stride C).
 *
 * Threads: in KN_GEMM_OMP_PANELS mode (OpenBLAS on 1 thread) the heads run in an OpenMP loop.
 * In KN_GEMM_BLAS_THREADS mode OpenBLAS may be multi-threaded, which must not be called from
 * inside an OpenMP region, so the heads run one after another on the calling thread and only
 * the sgemm calls large enough for OpenBLAS to split use more than one core.
 */
#include <cblas.h>

#include "kn_private.h"

/* Softmax of row (n) in place over entries 0..n-1; the row is scaled scores. */
static void softmax_row(float *row, int n) {
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < n; j++) mx = row[j] > mx ? row[j] : mx;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < n; j++) {
        row[j] = kn_expf(row[j] - mx);
        s += row[j];
    }
    float inv = 1.0f / s;
#pragma omp simd
    for (int j = 0; j < n; j++) row[j] *= inv;
}

/* One head: out rows of (b,h) (T,hs) stride C; att_bh (T,T); qkv_b (T,3C) of sequence b. */
static void attn_forward_head(float *out_bh, float *att_bh, const float *qkv_b, int h, int T,
                              int C, int NH, int ts) {
    int hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    const float *q = qkv_b + h * hs;   /* (T,hs) stride 3C */
    const float *k = q + C;            /* (T,hs) stride 3C */
    const float *v = q + 2 * C;        /* (T,hs) stride 3C */
    for (int t0 = 0; t0 < T; t0 += ts) {
        int t1 = t0 + ts < T ? t0 + ts : T;
        float *S = att_bh + (size_t)t0 * T;   /* rows t0..t1-1 (t1-t0, T) */
        /* S[:, 0:t1] = scale * Q[t0:t1] @ K[0:t1]^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t1 - t0, t1, hs, scale,
                    q + (size_t)t0 * C3, C3, k, C3, 0.0f, S, T);
        for (int t = t0; t < t1; t++) {
            float *row = att_bh + (size_t)t * T;   /* (T) */
            softmax_row(row, t + 1);
            for (int j = t + 1; j < T; j++) row[j] = 0.0f;
        }
        /* out[t0:t1] = P[t0:t1, 0:t1] @ V[0:t1]  (masked entries are 0) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t1 - t0, hs, t1, 1.0f, S, T, v,
                    C3, 0.0f, out_bh + (size_t)t0 * C, C);
    }
}

/* out (B,T,C); att (B,NH,T,T); qkv (B,T,3C) */
void kn_attention_forward(float *out, float *att, const float *qkv,
                          int B, int T, int C, int NH, const kn_tune *tune) {
    int hs = C / NH, nbh = B * NH;
    int nt = tune->gemm == KN_GEMM_OMP_PANELS ? kn_tune_threads(tune) : 1;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int bh = 0; bh < nbh; bh++) {
        int b = bh / NH, h = bh % NH;
        attn_forward_head(out + (size_t)b * T * C + h * hs, att + (size_t)bh * T * T,
                          qkv + (size_t)b * T * 3 * C, h, T, C, NH, tune->attn_ts);
    }
}

/* One head. dqkv_b (T,3C) +=; dS (T,T) workspace; dout_bh (T,hs) stride C; qkv_b (T,3C);
 * att_bh (T,T). With P = att, dO = dout:
 *   dP = dO V^T;  dS = P * (dP - rowsum(dP * P));  dV += P^T dO;
 *   dQ += scale dS K;  dK += scale dS^T Q. */
static void attn_backward_head(float *dqkv_b, float *dS, const float *dout_bh,
                               const float *qkv_b, const float *att_bh, int h, int T, int C,
                               int NH, int ts) {
    int hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    const float *q = qkv_b + h * hs, *k = q + C, *v = q + 2 * C;   /* (T,hs) stride 3C */
    float *dq = dqkv_b + h * hs, *dk = dq + C, *dv = dq + 2 * C;   /* (T,hs) stride 3C */
    for (int t0 = 0; t0 < T; t0 += ts) {
        int t1 = t0 + ts < T ? t0 + ts : T, m = t1 - t0;
        const float *P = att_bh + (size_t)t0 * T;    /* rows t0..t1-1 (m, T) */
        float *D = dS + (size_t)t0 * T;              /* rows t0..t1-1 (m, T) */
        const float *dO = dout_bh + (size_t)t0 * C;  /* (m, hs) stride C */
        /* D[:, 0:t1] = dO @ V[0:t1]^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, t1, hs, 1.0f, dO, C, v, C3,
                    0.0f, D, T);
        for (int t = t0; t < t1; t++) {
            const float *p = att_bh + (size_t)t * T;   /* (T) */
            float *d = dS + (size_t)t * T;             /* (T) */
            float s = 0.0f;
#pragma omp simd reduction(+ : s)
            for (int j = 0; j <= t; j++) s += d[j] * p[j];
#pragma omp simd
            for (int j = 0; j <= t; j++) d[j] = p[j] * (d[j] - s);
            for (int j = t + 1; j < t1; j++) d[j] = 0.0f;
        }
        /* dV[0:t1] += P[:, 0:t1]^T @ dO */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t1, hs, m, 1.0f, P, T, dO, C,
                    1.0f, dv, C3);
        /* dQ[t0:t1] += scale * D[:, 0:t1] @ K[0:t1] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, hs, t1, scale, D, T, k, C3,
                    1.0f, dq + (size_t)t0 * C3, C3);
        /* dK[0:t1] += scale * D[:, 0:t1]^T @ Q[t0:t1] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t1, hs, m, scale, D, T,
                    q + (size_t)t0 * C3, C3, 1.0f, dk, C3);
    }
}

/* dqkv (B,T,3C) +=; scratch (B,NH,T,T); dout (B,T,C); qkv (B,T,3C); att (B,NH,T,T) */
void kn_attention_backward(float *dqkv, float *scratch, const float *dout, const float *qkv,
                           const float *att, int B, int T, int C, int NH,
                           const kn_tune *tune) {
    int hs = C / NH, nbh = B * NH;
    int nt = tune->gemm == KN_GEMM_OMP_PANELS ? kn_tune_threads(tune) : 1;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int bh = 0; bh < nbh; bh++) {
        int b = bh / NH, h = bh % NH;
        size_t o3 = (size_t)b * T * 3 * C;
        attn_backward_head(dqkv + o3, scratch + (size_t)bh * T * T,
                           dout + (size_t)b * T * C + h * hs, qkv + o3,
                           att + (size_t)bh * T * T, h, T, C, NH, tune->attn_ts);
    }
}
