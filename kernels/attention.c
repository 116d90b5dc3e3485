/* kernels/attention.c: causal multi-head self-attention, forward and backward.
 *
 * Work is split over (b,h) pairs: each head of each sequence is independent and writes only
 * its own hs channels of out/dqkv and its own (T,T) block of att/scratch. Each head is
 * computed by one thread, always in the same order of operations, so the result does not
 * depend on the thread count.
 *
 * Two implementations of one head, chosen per shape by attn_fwd_loops() / attn_bwd_loops():
 *
 * - Loops (hs <= 128; forward T <= 256, backward T <= 128; see attn_fwd_loops): plain C
 *   loops that GCC vectorises (AVX2/FMA), touching only the causal part s <= t up to tile
 *   rounding. The micro-kernels vectorise the outer loop over 8 keys or 8 channels and keep 8
 *   row accumulators in registers (scores8, acc8). Scores: a tile of AT_KT keys is transposed
 *   into a stack buffer kt[hs][AT_KT], and 8 query rows at a time get s_r += q[t+r,d] kt[d][:].
 *   Weighted sums (out = P V, dQ = dS K, dK = dS^T Q, dV = P^T dO) pack AT_KT rows of the
 *   summed operand into a tile of constant row stride and add 8 output rows at a time
 *   (column weights of dS^T, P^T are packed too). Softmax and dS rows run in whole vectors
 *   with the entries past the diagonal masked. Backward keeps dP / dS in the head's own
 *   scratch block (T*T floats). Stack per thread: under 40 KB. No BLAS calls: no packing
 *   buffers, no OpenBLAS allocator lock per call, and the heads run on the OpenMP team in
 *   both GEMM modes.
 *
 * - sgemm (fallback for large heads): query rows in tiles of tune->attn_ts rows [t0,t1); a
 *   tile only needs keys 0..t1-1, so the masked upper triangle is skipped tile by tile. The
 *   products are single-threaded sgemm calls on strided views of qkv (row stride 3C) and out
 *   (row stride C). In KN_GEMM_OMP_PANELS mode (OpenBLAS on 1 thread) the heads run in an
 *   OpenMP loop. In KN_GEMM_BLAS_THREADS mode OpenBLAS may be multi-threaded, which must not
 *   be called from inside an OpenMP region, so the heads run one after another on the calling
 *   thread and only the sgemm calls large enough for OpenBLAS to split use more than one core.
 */
#include <cblas.h>

#include "kn_private.h"

/* One head: out rows of (b,h) (T,hs) stride C; att_bh (T,T); qkv_b (T,3C) of sequence b. */
static void attn_forward_head_gemm(float *out_bh, float *att_bh, const float *qkv_b, int h, int T,
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
            kn_softmax_row(row, row, t + 1, NULL);
            for (int j = t + 1; j < T; j++) row[j] = 0.0f;
        }
        /* out[t0:t1] = P[t0:t1, 0:t1] @ V[0:t1]  (masked entries are 0) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t1 - t0, hs, t1, 1.0f, S, T, v,
                    C3, 0.0f, out_bh + (size_t)t0 * C, C);
    }
}

/* One head. dqkv_b (T,3C) +=; dS (T,T) workspace; dout_bh (T,hs) stride C; qkv_b (T,3C);
 * att_bh (T,T). With P = att, dO = dout:
 *   dP = dO V^T;  dS = P * (dP - rowsum(dP * P));  dV += P^T dO;
 *   dQ += scale dS K;  dK += scale dS^T Q. */
static void attn_backward_head_gemm(float *dqkv_b, float *dS, const float *dout_bh,
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

/* ------------------------------------------------------------------------------------------
 * Loop implementation
 * ------------------------------------------------------------------------------------------ */
#define AT_KT 32     /* keys per transposed tile: 4 AVX2 vectors of scores per query row */
#define AT_MAXHS 128 /* head size limit of the loop path: kt is AT_KT*AT_MAXHS floats = 16 KB */

static inline int imin(int a, int b) { return a < b ? a : b; }

/* kt[d*AT_KT + j] = src[(s0+j)*ld + d] for j < n, 0 for n <= j < AT_KT; d < hs. */
static void tile_transpose(float *restrict kt, const float *restrict src, int ld, int hs, int s0,
                           int n) {
    for (int j = 0; j < n; j++) {
        const float *r = src + (size_t)(s0 + j) * ld;
        for (int d = 0; d < hs; d++) kt[d * AT_KT + j] = r[d];
    }
    for (int d = 0; d < hs; d++)
        for (int j = n; j < AT_KT; j++) kt[d * AT_KT + j] = 0.0f;
}

/* The micro-kernels below vectorise the OUTER loop (`omp simd` over 8 lanes of keys or of
 * channels) and run the inner loop per vector with 8 independent accumulators, one per row,
 * which GCC keeps in registers: per inner step one vector load, 8 broadcasts, 8 FMAs. The inner
 * loop is a do-while (n >= 1 always): a guarded `for` is "control flow in loop" to GCC's
 * outer-loop vectoriser. Rows past the end are passed as copies of the last row. */

/* c[r*AT_KT + j] = a_r . kt[:,j] for r < 8, j < AT_KT; a_r (hs) = a[r]; hs >= 1. */
static inline void scores8(float *restrict c, const float *const a[8], const float *restrict kt,
                           int hs) {
    const float *restrict a0 = a[0], *restrict a1 = a[1], *restrict a2 = a[2];
    const float *restrict a3 = a[3], *restrict a4 = a[4], *restrict a5 = a[5];
    const float *restrict a6 = a[6], *restrict a7 = a[7];
#pragma omp simd
    for (int j = 0; j < AT_KT; j++) {
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s4 = 0.0f, s5 = 0.0f, s6 = 0.0f,
              s7 = 0.0f;
        int d = 0;
        do {
            float x = kt[d * AT_KT + j];
            s0 += a0[d] * x, s1 += a1[d] * x, s2 += a2[d] * x, s3 += a3[d] * x;
            s4 += a4[d] * x, s5 += a5[d] * x, s6 += a6[d] * x, s7 += a7[d] * x;
        } while (++d < hs);
        c[j] = s0, c[AT_KT + j] = s1, c[2 * AT_KT + j] = s2, c[3 * AT_KT + j] = s3;
        c[4 * AT_KT + j] = s4, c[5 * AT_KT + j] = s5, c[6 * AT_KT + j] = s6;
        c[7 * AT_KT + j] = s7;
    }
}

/* S[t, s] = alpha * A[t,:] . X[s,:] for s <= t, one key tile [s0, s0+AT_KT) at a time against
 * rows t >= s0, 8 rows at a time (entries s > t are not written). A, X (T, hs) row strides
 * lda, ldx; S (T, T). */
static void causal_scores(float *restrict S, const float *restrict A, int lda,
                          const float *restrict X, int ldx, int T, int hs, float alpha) {
    float kt[AT_KT * AT_MAXHS];
    float c[8 * AT_KT];
    for (int s0 = 0; s0 < T; s0 += AT_KT) {
        int nk = imin(AT_KT, T - s0);
        tile_transpose(kt, X, ldx, hs, s0, nk);
        for (int t = s0; t < T; t += 8) {
            const float *a[8];
            for (int r = 0; r < 8; r++) a[r] = A + (size_t)imin(t + r, T - 1) * lda;
            scores8(c, a, kt, hs);
            for (int r = 0; r < 8 && t + r < T; r++) {
                int n = imin(nk, t + r + 1 - s0);
                float *row = S + (size_t)(t + r) * T + s0;
                const float *cr = c + r * AT_KT;
#pragma omp simd
                for (int j = 0; j < n; j++) row[j] = alpha * cr[j];
            }
        }
    }
}

/* g[r][i] += alpha * sum_{m<n} w[r][m] xb[m*AT_MAXHS + i] for r < 8, i < hs, 1 <= n <= AT_KT:
 * eight weighted sums of the same n rows of a packed tile xb. Rows g[r] must be distinct. */
static inline void acc8(float *const g[8], float alpha, const float *const w[8],
                        const float *restrict xb, int n, int hs) {
    float *restrict g0 = g[0], *restrict g1 = g[1], *restrict g2 = g[2], *restrict g3 = g[3];
    float *restrict g4 = g[4], *restrict g5 = g[5], *restrict g6 = g[6], *restrict g7 = g[7];
    const float *restrict w0 = w[0], *restrict w1 = w[1], *restrict w2 = w[2];
    const float *restrict w3 = w[3], *restrict w4 = w[4], *restrict w5 = w[5];
    const float *restrict w6 = w[6], *restrict w7 = w[7];
#pragma omp simd
    for (int i = 0; i < hs; i++) {
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s4 = 0.0f, s5 = 0.0f, s6 = 0.0f,
              s7 = 0.0f;
        int m = 0;
        do {
            float x = xb[m * AT_MAXHS + i];
            s0 += w0[m] * x, s1 += w1[m] * x, s2 += w2[m] * x, s3 += w3[m] * x;
            s4 += w4[m] * x, s5 += w5[m] * x, s6 += w6[m] * x, s7 += w7[m] * x;
        } while (++m < n);
        g0[i] += alpha * s0, g1[i] += alpha * s1, g2[i] += alpha * s2, g3[i] += alpha * s3;
        g4[i] += alpha * s4, g5[i] += alpha * s5, g6[i] += alpha * s6, g7[i] += alpha * s7;
    }
}

/* xb[m*AT_MAXHS + i] = X[(m0+m)*ldx + i] for m < n, i < hs. */
static void tile_rows(float *restrict xb, const float *restrict X, int ldx, int hs, int m0,
                      int n) {
    for (int m = 0; m < n; m++) {
        const float *x = X + (size_t)(m0 + m) * ldx;
        float *b = xb + m * AT_MAXHS;
#pragma omp simd
        for (int i = 0; i < hs; i++) b[i] = x[i];
    }
}

/* Workspace of the weighted sums: a packed tile of X, packed weights, and 8 dummy output rows
 * for the rows past T of the last block (20.5 KB). */
typedef struct {
    float xb[AT_KT * AT_MAXHS];
    float wb[8 * AT_KT];
    float junk[8 * AT_MAXHS];
} wsum_ws;

/* G[t] += alpha * sum_{m<=t} W[t,m] X[m] for all rows t: W (T,T) with zeros above the diagonal;
 * X, G (T, hs) row strides ldx, ldg. By tiles of AT_KT rows m of X, against blocks of 8 rows t
 * that reach the tile. */
static void rows_wsum(wsum_ws *ws, float *G, int ldg, const float *W, const float *X, int ldx,
                      int T, int hs, float alpha) {
    for (int m0 = 0; m0 < T; m0 += AT_KT) {
        int nk = imin(AT_KT, T - m0);
        tile_rows(ws->xb, X, ldx, hs, m0, nk);
        for (int t = m0 - m0 % 8; t < T; t += 8) {
            float *g[8];
            const float *w[8];
            for (int r = 0; r < 8; r++) {
                int tr = imin(t + r, T - 1);
                g[r] = t + r < T ? G + (size_t)(t + r) * ldg : ws->junk + r * AT_MAXHS;
                w[r] = W + (size_t)tr * T + m0;
            }
            acc8(g, alpha, w, ws->xb, imin(nk, t + 8 - m0), hs);
        }
    }
}

/* G[s] += alpha * sum_{m>=s} W[m,s] X[m] for all columns s: W (T,T) with zeros above the
 * diagonal; X, G (T, hs) row strides ldx, ldg. By tiles of AT_KT rows m of X, against blocks of
 * 8 columns s that the tile reaches; the 8 columns of W are packed per (tile, block). */
static void cols_wsum(wsum_ws *ws, float *G, int ldg, const float *W, const float *X, int ldx,
                      int T, int hs, float alpha) {
    for (int m0 = 0; m0 < T; m0 += AT_KT) {
        int m1 = imin(m0 + AT_KT, T);
        tile_rows(ws->xb, X, ldx, hs, m0, m1 - m0);
        for (int s = 0; s < m1; s += 8) {
            int ms = s > m0 ? s : m0, n = m1 - ms;
            float *g[8];
            const float *w[8];
            int sr[8];
            for (int r = 0; r < 8; r++) {
                sr[r] = imin(s + r, T - 1);
                g[r] = s + r < T ? G + (size_t)(s + r) * ldg : ws->junk + r * AT_MAXHS;
                w[r] = ws->wb + r * AT_KT;
            }
            for (int m = 0; m < n; m++) { /* row by row: 8 floats of one cache line or two */
                const float *wm = W + (size_t)(ms + m) * T;
                for (int r = 0; r < 8; r++) ws->wb[r * AT_KT + m] = wm[sr[r]];
            }
            acc8(g, alpha, w, ws->xb + (ms - m0) * AT_MAXHS, n, hs);
        }
    }
}

/* Softmax in place of row[0..t], written as 0 over row[t+1..T): entries are handled in whole
 * vectors up to n8 = min(t+1 rounded up to 8, T), the ones past t masked with kn_select, so the
 * loops have no ragged epilogue (their contents past t are never used). */
static void softmax_causal(float *row, int t, int T) {
    int n8 = imin((t + 8) & ~7, T);
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < n8; j++) {
        float x = kn_select(j <= t, row[j], -INFINITY);
        mx = x > mx ? x : mx;
    }
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < n8; j++) {
        float e = kn_select(j <= t, kn_expf(row[j] - mx), 0.0f);
        row[j] = e;
        s += e;
    }
    float inv = 1.0f / s;
#pragma omp simd
    for (int j = 0; j < n8; j++) row[j] *= inv;
    for (int j = n8; j < T; j++) row[j] = 0.0f;
}

/* One head, loops. out_bh (T,hs) stride C; att_bh (T,T); qkv_b (T,3C) of sequence b. */
static void attn_forward_head_loops(float *out_bh, float *att_bh, const float *qkv_b, int h,
                                    int T, int C, int NH) {
    int hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    const float *q = qkv_b + h * hs, *k = q + C, *v = q + 2 * C; /* (T,hs) stride 3C */
    causal_scores(att_bh, q, C3, k, C3, T, hs, scale);
    for (int t = 0; t < T; t++) {
        float *row = att_bh + (size_t)t * T;
        softmax_causal(row, t, T);
        memset(out_bh + (size_t)t * C, 0, sizeof(float) * hs);
    }
    wsum_ws ws;
    rows_wsum(&ws, out_bh, C, att_bh, v, C3, T, hs, 1.0f); /* out = P V */
}

/* One head, loops. dqkv_b (T,3C) +=; D (T,T) workspace; dout_bh (T,hs) stride C;
 * qkv_b (T,3C); att_bh (T,T). */
static void attn_backward_head_loops(float *dqkv_b, float *D, const float *dout_bh,
                                     const float *qkv_b, const float *att_bh, int h, int T,
                                     int C, int NH) {
    int hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    const float *q = qkv_b + h * hs, *k = q + C, *v = q + 2 * C; /* (T,hs) stride 3C */
    float *dq = dqkv_b + h * hs, *dk = dq + C, *dv = dq + 2 * C;  /* (T,hs) stride 3C */
    const float *P = att_bh;
    /* D = dP = dO V^T (s <= t), then dS = P * (dP - rowsum(dP * P)), 0 above the diagonal */
    causal_scores(D, dout_bh, C, v, C3, T, hs, 1.0f);
    for (int t = 0; t < T; t++) {
        const float *p = P + (size_t)t * T;
        float *d = D + (size_t)t * T;
        int n8 = imin((t + 8) & ~7, T); /* whole vectors, entries past t masked */
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int j = 0; j < n8; j++) s += kn_select(j <= t, d[j] * p[j], 0.0f);
#pragma omp simd
        for (int j = 0; j < n8; j++) d[j] = kn_select(j <= t, p[j] * (d[j] - s), 0.0f);
        for (int j = n8; j < T; j++) d[j] = 0.0f;
    }
    wsum_ws ws;
    rows_wsum(&ws, dq, C3, D, k, C3, T, hs, scale);     /* dQ += scale dS K */
    cols_wsum(&ws, dk, C3, D, q, C3, T, hs, scale);     /* dK += scale dS^T Q */
    cols_wsum(&ws, dv, C3, P, dout_bh, C, T, hs, 1.0f); /* dV += P^T dO */
}

/* Which implementation a shape gets. The loop path needs hs <= AT_MAXHS (its stack tiles).
 * Beyond that, by T, measured with `bench kernels` and a per-head harness at 1 and 2 threads on
 * the 2-core EPYC dev box (B*T = 4096 and in-cache micro-batches):
 *   forward : loops 1.2-1.6x faster than sgemm at T=64 (hs 32) and T=128 (hs 64), about equal
 *             to 1.3x faster at T=256 (hs 64): loops up to T = 256.
 *   backward: loops ~1.2x faster at T=64, within noise at T=128, 1.1-1.3x slower at T=256
 *             (the column sums dS^T Q and P^T dO walk (T,T) blocks that no longer fit in L1/L2
 *             by columns): loops up to T = 128.
 * Above those T the sgemm path (tune->attn_ts tiles) runs. */
#define AT_FWD_LOOPS_MAXT 256
#define AT_BWD_LOOPS_MAXT 128
static int attn_fwd_loops(int T, int hs) { return hs <= AT_MAXHS && T <= AT_FWD_LOOPS_MAXT; }
static int attn_bwd_loops(int T, int hs) { return hs <= AT_MAXHS && T <= AT_BWD_LOOPS_MAXT; }

/* ------------------------------------------------------------------------------------------
 * After a cached prefix (KV cache, inference only)
 * ------------------------------------------------------------------------------------------ */
/* Key/value row j of a head whose first P rows are cached (pre, row stride ldp) and the rest
 * are the new rows (cur, row stride ldc). */
static inline const float *kv_row(const float *pre, int ldp, const float *cur, int ldc, int P,
                                  int j) {
    return j < P ? pre + (size_t)j * ldp : cur + (size_t)(j - P) * ldc;
}

/* One head of kn_attention_kv_forward, the loop path with the same micro-kernels in the same
 * order as attn_forward_head_loops over the whole sequence, so that a row gets the same bits as
 * there when T = P + Tn: key tiles at the same global offsets, entries past a row's diagonal
 * zero. out_bh (Tn,hs) stride C; S (Tn,Tf) workspace, Tf = P+Tn; qkv_b (Tn,3C); kp, vp (P,hs)
 * stride C: the prefix's keys and values of head h. */
static void attn_kv_head_loops(float *out_bh, float *S, const float *qkv_b, const float *kp,
                               const float *vp, int h, int Tn, int P, int C, int NH) {
    int hs = C / NH, C3 = 3 * C, Tf = P + Tn;
    float scale = 1.0f / sqrtf((float)hs);
    const float *q = qkv_b + h * hs, *k = q + C, *v = q + 2 * C; /* (Tn,hs) stride 3C */
    float kt[AT_KT * AT_MAXHS];
    float c[8 * AT_KT];
    for (int s0 = 0; s0 < Tf; s0 += AT_KT) {
        int nk = imin(AT_KT, Tf - s0);
        for (int j = 0; j < nk; j++) { /* transposed tile of keys s0.. */
            const float *r = kv_row(kp, C, k, C3, P, s0 + j);
            for (int d = 0; d < hs; d++) kt[d * AT_KT + j] = r[d];
        }
        for (int d = 0; d < hs; d++)
            for (int j = nk; j < AT_KT; j++) kt[d * AT_KT + j] = 0.0f;
        for (int t = s0 > P ? s0 - P : 0; t < Tn; t += 8) { /* rows that reach the tile */
            const float *a[8];
            for (int r = 0; r < 8; r++) a[r] = q + (size_t)imin(t + r, Tn - 1) * C3;
            scores8(c, a, kt, hs);
            for (int r = 0; r < 8 && t + r < Tn; r++) {
                int n = imin(nk, P + t + r + 1 - s0);
                float *row = S + (size_t)(t + r) * Tf + s0;
                const float *cr = c + r * AT_KT;
#pragma omp simd
                for (int j = 0; j < n; j++) row[j] = scale * cr[j];
            }
        }
    }
    for (int t = 0; t < Tn; t++) {
        softmax_causal(S + (size_t)t * Tf, P + t, Tf);
        memset(out_bh + (size_t)t * C, 0, sizeof(float) * hs);
    }
    wsum_ws ws;
    for (int m0 = 0; m0 < Tf; m0 += AT_KT) { /* out = P V, by tiles of value rows */
        int nk = imin(AT_KT, Tf - m0);
        for (int m = 0; m < nk; m++) {
            const float *x = kv_row(vp, C, v, C3, P, m0 + m);
            for (int i = 0; i < hs; i++) ws.xb[m * AT_MAXHS + i] = x[i];
        }
        for (int t = m0 > P ? m0 - P : 0; t < Tn; t += 8) {
            float *g[8];
            const float *w[8];
            for (int r = 0; r < 8; r++) {
                g[r] = t + r < Tn ? out_bh + (size_t)(t + r) * C : ws.junk + r * AT_MAXHS;
                w[r] = S + (size_t)imin(t + r, Tn - 1) * Tf + m0;
            }
            acc8(g, 1.0f, w, ws.xb, imin(nk, P + t + 8 - m0), hs);
        }
    }
}

/* The same for heads too large for the loop path's tiles: plain loops, one row at a time. */
static void attn_kv_head_plain(float *out_bh, float *S, const float *qkv_b, const float *kp,
                               const float *vp, int h, int Tn, int P, int C, int NH) {
    int hs = C / NH, C3 = 3 * C, Tf = P + Tn;
    float scale = 1.0f / sqrtf((float)hs);
    const float *q = qkv_b + h * hs, *k = q + C, *v = q + 2 * C;
    for (int t = 0; t < Tn; t++) {
        float *row = S + (size_t)t * Tf, *o = out_bh + (size_t)t * C;
        const float *qt = q + (size_t)t * C3;
        for (int j = 0; j <= P + t; j++) {
            const float *kr = kv_row(kp, C, k, C3, P, j);
            float s = 0.0f;
            for (int d = 0; d < hs; d++) s += qt[d] * kr[d];
            row[j] = scale * s;
        }
        softmax_causal(row, P + t, Tf);
        memset(o, 0, sizeof(float) * hs);
        for (int j = 0; j <= P + t; j++) {
            const float *vr = kv_row(vp, C, v, C3, P, j);
            for (int d = 0; d < hs; d++) o[d] += row[j] * vr[d];
        }
    }
}

/* ------------------------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------------------------ */
/* out (B,T,C); att (B,NH,T,T); qkv (B,T,3C) */
void kn_attention_forward(float *out, float *att, const float *qkv,
                          int B, int T, int C, int NH, const kn_tune *tune) {
    int hs = C / NH, nbh = B * NH;
    int loops = attn_fwd_loops(T, hs);
    int nt = loops || tune->gemm == KN_GEMM_OMP_PANELS ? kn_tune_threads(tune) : 1;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int bh = 0; bh < nbh; bh++) {
        int b = bh / NH, h = bh % NH;
        float *o = out + (size_t)b * T * C + h * hs, *a = att + (size_t)bh * T * T;
        const float *x = qkv + (size_t)b * T * 3 * C;
        if (loops)
            attn_forward_head_loops(o, a, x, h, T, C, NH);
        else
            attn_forward_head_gemm(o, a, x, h, T, C, NH, tune->attn_ts);
    }
}

/* dqkv (B,T,3C) +=; scratch (B,NH,T,T); dout (B,T,C); qkv (B,T,3C); att (B,NH,T,T) */
void kn_attention_backward(float *dqkv, float *scratch, const float *dout, const float *qkv,
                           const float *att, int B, int T, int C, int NH,
                           const kn_tune *tune) {
    int hs = C / NH, nbh = B * NH;
    int loops = attn_bwd_loops(T, hs);
    int nt = loops || tune->gemm == KN_GEMM_OMP_PANELS ? kn_tune_threads(tune) : 1;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int bh = 0; bh < nbh; bh++) {
        int b = bh / NH, h = bh % NH;
        size_t o3 = (size_t)b * T * 3 * C;
        float *s = scratch + (size_t)bh * T * T;
        const float *d = dout + (size_t)b * T * C + h * hs, *a = att + (size_t)bh * T * T;
        if (loops)
            attn_backward_head_loops(dqkv + o3, s, d, qkv + o3, a, h, T, C, NH);
        else
            attn_backward_head_gemm(dqkv + o3, s, d, qkv + o3, a, h, T, C, NH, tune->attn_ts);
    }
}

/* out (B,Tn,C); att (B,NH,Tn,P+Tn) workspace; qkv (B,Tn,3C); kpre, vpre (P,C) at
 * + (seq ? seq[b] : b) * pstride */
void kn_attention_kv_forward(float *out, float *att, const float *qkv, const float *kpre,
                             const float *vpre, size_t pstride, const int *seq, int B, int Tn,
                             int P, int C, int NH, const kn_tune *tune) {
    int hs = C / NH, nbh = B * NH, Tf = P + Tn;
    /* a decoding step (a few rows) is microseconds of work: no team for it */
    int nt = kn_par_threads(tune, (size_t)B * Tn * Tf * C);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1 && nbh > 1)
    for (int bh = 0; bh < nbh; bh++) {
        int b = bh / NH, h = bh % NH;
        float *o = out + (size_t)b * Tn * C + h * hs, *a = att + (size_t)bh * Tn * Tf;
        const float *x = qkv + (size_t)b * Tn * 3 * C;
        size_t so = (size_t)(seq ? seq[b] : b) * pstride;
        const float *kp = kpre + so + h * hs, *vp = vpre + so + h * hs;
        if (hs <= AT_MAXHS)
            attn_kv_head_loops(o, a, x, kp, vp, h, Tn, P, C, NH);
        else
            attn_kv_head_plain(o, a, x, kp, vp, h, Tn, P, C, NH);
    }
}
