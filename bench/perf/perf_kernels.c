/* bench/perf/perf_kernels.c: `unlearnbench bench kernels`, every kernel at the shapes of a preset.
 *
 * Each row is the best time per call among repeats that fill --seconds (after one warm-up
 * call). Backward kernels accumulate into their gradients call after call, which changes no
 * timing. Cross-entropy is timed in place (probs alias logits, dlogits alias probs), as the
 * trainer runs it.
 *
 * FLOP counts (N = B*T rows; per element where marked):
 *   matmul            fwd 2*N*C*OC (+N*OC bias);  bwd 4*N*C*OC (dinp + dW) (+N*OC dbias)
 *   attention         fwd 4*B*T*T*C (QK^T and PV over the full T x T);  bwd 8*B*T*T*C
 *                     (dP, dV, dQ, dK). The causal tiles skip up to half of it, so the
 *                     figure is "full-square equivalent", comparable with the matmuls.
 *   attention kv      fwd 4*B*T*C: one new row per sequence after T-1 cached positions
 *                     (decoding; not part of a training step)
 *   kn_expf           ~20 (reduction, degree-6 polynomial, scaling)
 *   encoder           fwd 1/elt, bwd 2/elt        layernorm  fwd 8/elt, bwd 17/elt
 *   gelu              fwd 30/elt, bwd 40/elt      residual   fwd 1/elt, bwd 2/elt
 *   crossentropy      fwd 24/logit, bwd 3/logit   adamw      16/param;  clip (sumsq) 2/param
 * Bytes (GB/s column, memory-bound kernels only): the big arrays each pass reads or writes,
 * read-modify-write counted twice, 4 bytes per float; rows reused from cache are not counted.
 *
 * Next to each matmul: this machine's sgemm at the same M, N, K in both GEMM modes, measured
 * in the same run (ub_bench_sgemm). For a backward the two GEMMs (dinp, dW) are timed
 * separately and combined; the dW GEMM (A transposed) is measured without the transpose at
 * the same M, N, K (OpenBLAS packs A either way).
 */
#include "perf.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int L, C, NH, T, V, batch;
} preset;

static const preset PRESETS[] = {
    {"tiny", 2, 128, 4, 64, 256, 64},
    {"small", 4, 256, 4, 128, 512, 32},
    {"medium", 6, 384, 6, 256, 2048, 16},
};
#define NPRESETS (int)(sizeof PRESETS / sizeof PRESETS[0])

/* ------------------------------------------------------------------------------ timing */
typedef void (*bench_fn)(void *ctx);

/* Best seconds per call of fn over repeats filling min_seconds (at least 3 calls). */
static double best_time(bench_fn fn, void *ctx, double min_seconds) {
    fn(ctx); /* warm-up: page faults, OpenBLAS buffers, thread start */
    double best = 1e30, start = omp_get_wtime();
    for (int rep = 0; rep < 3 || omp_get_wtime() - start < min_seconds; rep++) {
        double t0 = omp_get_wtime();
        fn(ctx);
        double dt = omp_get_wtime() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

static float *alloc_fill(size_t n, float scale, unsigned *seed) {
    float *x = malloc(n * sizeof(float));
    if (!x) return NULL;
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        x[i] = scale * ((float)(*seed >> 8) * (1.0f / 16777216.0f) - 0.5f);
    }
    return x;
}

/* ------------------------------------------------------------------------------ sgemm */
typedef struct {
    float *A, *Bm, *Cm;
    int M, N, K, transB;
    const kn_tune *tune;
} sgemm_ctx;

static void sgemm_call(void *p) {
    sgemm_ctx *s = p;
    /* the matmul kernels without bias are exactly the tuned sgemm: panels or OpenBLAS threads */
    if (s->transB) kn_matmul_nt_forward(s->Cm, s->A, s->Bm, s->M, s->K, s->N, s->tune);
    else kn_matmul_forward(s->Cm, s->A, s->Bm, NULL, s->M, s->K, s->N, s->tune);
}

double ub_bench_sgemm(int M, int N, int K, int transB, const kn_tune *tune, double min_seconds) {
    kn_tune t = *tune;
    kn_tune_apply(&t);
    unsigned seed = 1;
    sgemm_ctx s = {alloc_fill((size_t)M * K, 1, &seed), alloc_fill((size_t)K * N, 1, &seed),
                   calloc((size_t)M * N, sizeof(float)), M, N, K, transB, &t};
    double gf = -1.0;
    if (s.A && s.Bm && s.Cm) gf = 2.0 * M * N * K / best_time(sgemm_call, &s, min_seconds) * 1e-9;
    free(s.A), free(s.Bm), free(s.Cm);
    return gf;
}

/* ------------------------------------------------------------------------------ kernels */
typedef enum {
    K_ENC_F, K_ENC_B, K_LN_F, K_LN_B, K_MM_F, K_MM_B, K_MMNT_F, K_MMNT_B, K_ATT_F, K_ATT_B, K_ATT_KV,
    K_GELU_F, K_GELU_B, K_RES_F, K_RES_B, K_CE_F, K_CE_B, K_ADAMW, K_CLIP
} kernel_id;

/* Buffers of one layer at a preset's shapes; matmuls use (M rows, K in, OC out). */
typedef struct {
    kernel_id id;
    int B, T, C, NH, V, M, K, OC;
    size_t nparams;
    const kn_tune *tune;
    int *tokens, *targets;
    float *wte, *wpe, *x, *y, *dx, *dy, *mean, *rstd, *lnw, *lnb, *dlnw, *dlnb;
    float *mm_in, *mm_out, *mm_w, *mm_b, *mm_din, *mm_dout, *mm_dw, *mm_db;
    float *qkv, *dqkv, *att, *scratch, *logits, *losses, *dlosses;
    float *p, *g, *m, *v;
} kbuf;

static void run_kernel(void *ctx) {
    kbuf *k = ctx;
    int N = k->B * k->T;
    size_t nc = (size_t)N * k->C;
    switch (k->id) {
    case K_ENC_F: kn_encoder_forward(k->y, k->tokens, k->wte, k->wpe, k->B, k->T, k->C); break;
    case K_ENC_B: kn_encoder_backward(k->mm_dw, k->dy, k->x, k->tokens, k->B, k->T, k->C); break;
    case K_LN_F: kn_layernorm_forward(k->y, k->mean, k->rstd, k->x, k->lnw, k->lnb, N, k->C); break;
    case K_LN_B:
        kn_layernorm_backward(k->dx, k->dlnw, k->dlnb, k->dy, k->x, k->lnw, k->mean, k->rstd, N, k->C);
        break;
    case K_MM_F: kn_matmul_forward(k->mm_out, k->mm_in, k->mm_w, k->mm_b, k->M, k->K, k->OC, k->tune); break;
    case K_MM_B:
        kn_matmul_backward(k->mm_din, k->mm_dw, k->mm_db, k->mm_dout, k->mm_in, k->mm_w, k->M, k->K,
                           k->OC, KN_OVERWRITE, k->tune);
        break;
    case K_MMNT_F: kn_matmul_nt_forward(k->mm_out, k->mm_in, k->mm_w, k->M, k->K, k->OC, k->tune); break;
    case K_MMNT_B:
        kn_matmul_nt_backward(k->mm_din, k->mm_dw, k->mm_dout, k->mm_in, k->mm_w, k->M, k->K, k->OC, KN_OVERWRITE,
                              k->tune);
        break;
    case K_ATT_F: kn_attention_forward(k->y, k->att, k->qkv, k->B, k->T, k->C, k->NH, k->tune); break;
    case K_ATT_KV: /* one new row per sequence after T-1 cached positions (x, dx hold them) */
        kn_attention_kv_forward(k->y, k->att, k->qkv, k->x, k->dx, (size_t)(k->T - 1) * k->C, NULL, k->B,
                                1, k->T - 1, k->C, k->NH, k->tune);
        break;
    case K_ATT_B:
        kn_attention_backward(k->dqkv, k->scratch, k->dy, k->qkv, k->att, k->B, k->T, k->C, k->NH,
                              k->tune);
        break;
    case K_GELU_F: kn_gelu_forward(k->mm_out, k->mm_in, 4 * nc, k->tune); break;
    case K_GELU_B: kn_gelu_backward(k->mm_din, k->mm_in, k->mm_dout, 4 * nc, KN_OVERWRITE, k->tune); break;
    case K_RES_F: kn_residual_forward(k->y, k->x, k->dy, nc, k->tune); break;
    case K_RES_B: kn_residual_backward(k->dx, k->mm_din, k->dy, nc, k->tune); break;
    case K_CE_F:
        kn_crossentropy_forward(k->losses, k->logits, k->logits, k->targets, N, k->V, k->tune);
        break;
    case K_CE_B:
        kn_crossentropy_backward(k->logits, k->logits, k->targets, k->dlosses, N, k->V, k->tune);
        break;
    case K_ADAMW:
        kn_adamw_update(k->p, k->g, k->m, k->v, k->nparams, 1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 10,
                        k->tune);
        break;
    case K_CLIP: kn_clip_grad_norm(k->g, k->nparams, 1e30, k->tune); break;
    }
}

static int kbuf_alloc(kbuf *k, const preset *ps) {
    unsigned seed = 7;
    int B = ps->batch, T = ps->T, C = ps->C, V = ps->V, N = B * T;
    size_t omax = V > 4 * C ? V : 4 * C; /* widest matmul output: fc (4C) or logits (V) */
    size_t nc = (size_t)N * C, nmax = N * omax, wmax = C * omax;
    size_t na = (size_t)B * ps->NH * T * T;
    memset(k, 0, sizeof *k);
    k->B = B, k->T = T, k->C = C, k->NH = ps->NH, k->V = V;
    k->nparams = (size_t)V * C + (size_t)T * C + (size_t)ps->L * (12 * (size_t)C * C + 13 * C) + 2 * C;
    k->tokens = malloc(sizeof(int) * N), k->targets = malloc(sizeof(int) * N);
    if (k->tokens && k->targets)
        for (int i = 0; i < N; i++) k->tokens[i] = (i * 31) % V, k->targets[i] = (i * 17 + 5) % V;
    float **bufs[] = {&k->wte, &k->wpe, &k->x, &k->y, &k->dx, &k->dy, &k->mean, &k->rstd,
                      &k->lnw, &k->lnb, &k->dlnw, &k->dlnb, &k->mm_in, &k->mm_out, &k->mm_w,
                      &k->mm_b, &k->mm_din, &k->mm_dout, &k->mm_dw, &k->mm_db, &k->qkv,
                      &k->dqkv, &k->att, &k->scratch, &k->logits, &k->losses, &k->dlosses,
                      &k->p, &k->g, &k->m, &k->v};
    size_t sizes[] = {(size_t)V * C, (size_t)T * C, nc, nc, nc, nc, N, N, C, C, C, C, nmax, nmax,
                      wmax, omax, nmax, nmax, wmax, omax, 3 * nc, 3 * nc, na, na, (size_t)N * V,
                      N, N, k->nparams, k->nparams, k->nparams, k->nparams};
    int ok = k->tokens && k->targets;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *bufs[i] = alloc_fill(sizes[i], 1.0f, &seed);
        ok &= *bufs[i] != NULL;
    }
    if (ok) {
        for (size_t i = 0; i < k->nparams; i++) k->v[i] = k->v[i] * k->v[i]; /* v >= 0 */
        for (int i = 0; i < N; i++) k->dlosses[i] = 1.0f / N;
    }
    return ok ? 0 : -1;
}

static void kbuf_free(kbuf *k) {
    float *bufs[] = {k->wte, k->wpe, k->x, k->y, k->dx, k->dy, k->mean, k->rstd, k->lnw,
                     k->lnb, k->dlnw, k->dlnb, k->mm_in, k->mm_out, k->mm_w, k->mm_b, k->mm_din,
                     k->mm_dout, k->mm_dw, k->mm_db, k->qkv, k->dqkv, k->att, k->scratch,
                     k->logits, k->losses, k->dlosses, k->p, k->g, k->m, k->v};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(k->tokens), free(k->targets);
}

/* ------------------------------------------------------------------------------ table */
static void print_row(const char *name, const char *pass, const char *shape, double sec,
                      double flops, double bytes) {
    printf("%-14s %-4s %-22s %9.3f %9.1f", name, pass, shape, sec * 1e3, flops / sec * 1e-9);
    if (bytes > 0) printf(" %8.1f", bytes / sec * 1e-9);
    else printf(" %8s", "-");
}

/* Times kernel id; prints the row without its newline. Returns seconds per call. */
static double bench_row(kbuf *k, kernel_id id, const char *name, const char *pass,
                        const char *shape, double flops, double bytes, double secs) {
    k->id = id;
    double s = best_time(run_kernel, k, secs);
    print_row(name, pass, shape, s, flops, bytes);
    return s;
}

/* sgemm ceiling in both modes for a list of (M,N,K,transB) GEMMs making up one kernel call:
 * the GFLOP/s of their combined best times. */
static void print_ceilings(const int (*g)[4], int ng, const kn_tune *tune, double secs) {
    for (int mode = 0; mode < 2; mode++) {
        kn_tune t = *tune;
        t.gemm = (kn_gemm_mode)mode;
        double flops = 0, sec = 0;
        for (int i = 0; i < ng; i++) {
            double f = 2.0 * g[i][0] * g[i][1] * g[i][2];
            double gf = ub_bench_sgemm(g[i][0], g[i][1], g[i][2], g[i][3], &t, secs);
            flops += f;
            sec += f / (gf * 1e9);
        }
        printf(" %11.1f", flops / sec * 1e-9);
    }
    kn_tune t = *tune;
    kn_tune_apply(&t);
}

static double bench_matmul(kbuf *k, const char *name, int M, int Kd, int OC, int nt,
                           const kn_tune *tune, double secs) {
    char shape[40];
    snprintf(shape, sizeof shape, "%dx%dx%d", M, OC, Kd);
    k->M = M, k->K = Kd, k->OC = OC;
    double f = 2.0 * M * Kd * OC, s = 0;
    s += bench_row(k, nt ? K_MMNT_F : K_MM_F, name, "fwd", shape, f + (nt ? 0 : (double)M * OC), 0, secs);
    int gf[1][4] = {{M, OC, Kd, nt}};
    print_ceilings((const int(*)[4])gf, 1, tune, secs);
    printf("\n");
    s += bench_row(k, nt ? K_MMNT_B : K_MM_B, name, "bwd", shape, 2 * f + (nt ? 0 : (double)M * OC), 0, secs);
    /* dinp (M,Kd) = dout (M,OC) @ w^T or w; dW (Kd,OC) or (OC,Kd), summed over M rows */
    int gb[2][4] = {{M, Kd, OC, nt ? 0 : 1}, {nt ? OC : Kd, nt ? Kd : OC, M, 0}};
    print_ceilings((const int(*)[4])gb, 2, tune, secs);
    printf("\n");
    return s;
}

static double elt_row(kbuf *k, kernel_id id, const char *name, const char *pass,
                      const char *shape, double n, double flop_per, double floats, double secs) {
    double s = bench_row(k, id, name, pass, shape, n * flop_per, floats * 4.0, secs);
    printf("\n");
    return s;
}

static int bench_preset(const preset *ps, const kn_tune *tune, double secs) {
    kbuf k;
    if (kbuf_alloc(&k, ps) != 0) {
        kbuf_free(&k);
        fprintf(stderr, "bench kernels: out of memory for preset %s\n", ps->name);
        return 1;
    }
    k.tune = tune;
    int B = ps->batch, T = ps->T, C = ps->C, N = B * T, V = ps->V;
    double nc = (double)N * C, na = (double)B * ps->NH * T * T;
    printf("\npreset %s: n_layer=%d C=%d NH=%d T=%d V=%d batch=%d (N=%d rows, %zu params)\n",
           ps->name, ps->L, C, ps->NH, T, V, B, N, k.nparams);
    printf("%-14s %-4s %-22s %9s %9s %8s %11s %11s\n", "kernel", "pass", "shape", "ms/call",
           "GFLOP/s", "GB/s", "sgemm:panel", "sgemm:blas");
    char sh[64], sh4[64], shv[64], sha[64];
    snprintf(sh, sizeof sh, "%dx%d", N, C);
    snprintf(sh4, sizeof sh4, "%dx%d", N, 4 * C);
    snprintf(shv, sizeof shv, "%dx%d", N, V);
    snprintf(sha, sizeof sha, "B%d NH%d T%d hs%d", B, ps->NH, T, C / ps->NH);
    /* per-step time: layer kernels x n_layer + the rest (residual twice, layernorm twice) */
    double layer = 0, rest = 0;
    rest += elt_row(&k, K_ENC_F, "encoder", "fwd", sh, nc, 1, 3 * nc, secs);
    rest += elt_row(&k, K_ENC_B, "encoder", "bwd", sh, nc, 2, 5 * nc, secs);
    double ln = elt_row(&k, K_LN_F, "layernorm", "fwd", sh, nc, 8, 2 * nc, secs);
    ln += elt_row(&k, K_LN_B, "layernorm", "bwd", sh, nc, 17, 6 * nc, secs);
    layer += 2 * ln, rest += ln;
    layer += bench_matmul(&k, "matmul qkv", N, C, 3 * C, 0, tune, secs);
    double af = 4.0 * B * T * T * C;
    layer += bench_row(&k, K_ATT_F, "attention", "fwd", sha, af, (4 * nc + na) * 4, secs);
    printf("\n");
    layer += bench_row(&k, K_ATT_B, "attention", "bwd", sha, 2 * af, (10 * nc + 3 * na) * 4, secs);
    printf("\n");
    bench_row(&k, K_ATT_KV, "attention kv", "fwd", sha, 4.0 * B * T * C, 2 * nc * 4, secs);
    printf("\n");
    layer += bench_matmul(&k, "matmul attproj", N, C, C, 0, tune, secs);
    double res = elt_row(&k, K_RES_F, "residual", "fwd", sh, nc, 1, 3 * nc, secs);
    res += elt_row(&k, K_RES_B, "residual", "bwd", sh, nc, 2, 5 * nc, secs);
    layer += 2 * res;
    layer += bench_matmul(&k, "matmul fc", N, C, 4 * C, 0, tune, secs);
    layer += elt_row(&k, K_GELU_F, "gelu", "fwd", sh4, 4 * nc, 30, 8 * nc, secs);
    layer += elt_row(&k, K_GELU_B, "gelu", "bwd", sh4, 4 * nc, 40, 16 * nc, secs);
    layer += bench_matmul(&k, "matmul fcproj", N, 4 * C, C, 0, tune, secs);
    rest += bench_matmul(&k, "matmul logits", N, C, V, 1, tune, secs);
    rest += elt_row(&k, K_CE_F, "crossentropy", "fwd", shv, (double)N * V, 24, 2.0 * N * V, secs);
    rest += elt_row(&k, K_CE_B, "crossentropy", "bwd", shv, (double)N * V, 3, 2.0 * N * V, secs);
    char shp[32];
    snprintf(shp, sizeof shp, "%zu", k.nparams);
    double np = (double)k.nparams;
    rest += elt_row(&k, K_ADAMW, "adamw", "step", shp, np, 16, 7 * np, secs);
    rest += elt_row(&k, K_CLIP, "clip (sumsq)", "step", shp, np, 2, np, secs);
    double step = layer * ps->L + rest;
    printf("sum of kernel times for one training step: %.2f ms = %.0f tokens/s (no framework "
           "overhead)\n", step * 1e3, N / step);
    kbuf_free(&k);
    return 0;
}

/* ------------------------------------------------------------------------------ command */
static void usage(FILE *f) {
    fprintf(f, "usage: unlearnbench bench kernels [--preset tiny|small|medium|all] [--threads N]\n"
               "                                  [--gemm panels|blas] [--seconds S]\n"
               "Times every kernel forward and backward at a model preset's shapes, with this\n"
               "machine's sgemm in both GEMM modes next to each matmul.\n");
}

int ub_cmd_bench_kernels(int argc, char **argv) {
    kn_tune tune;
    kn_tune_default(&tune);
    const char *which = "all";
    double secs = 0.3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        int takes = !strcmp(a, "--preset") || !strcmp(a, "--threads") || !strcmp(a, "--gemm") ||
                    !strcmp(a, "--seconds");
        if (!takes) {
            fprintf(stderr, "bench kernels: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (!val) {
            fprintf(stderr, "bench kernels: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--preset")) {
            which = val;
        } else if (!strcmp(a, "--threads")) {
            long n = strtol(val, &end, 10);
            if (*end || n < 0 || n > 1024) {
                fprintf(stderr, "bench kernels: --threads must be an integer in 0..1024, got '%s'\n", val);
                return 2;
            }
            tune.threads = (int)n;
        } else if (!strcmp(a, "--gemm")) {
            if (!strcmp(val, "panels")) tune.gemm = KN_GEMM_OMP_PANELS;
            else if (!strcmp(val, "blas")) tune.gemm = KN_GEMM_BLAS_THREADS;
            else {
                fprintf(stderr, "bench kernels: --gemm must be panels or blas, got '%s'\n", val);
                return 2;
            }
        } else {
            secs = strtod(val, &end);
            if (*end || !(secs >= 0.0 && secs <= 60.0)) {
                fprintf(stderr, "bench kernels: --seconds must be a number in 0..60, got '%s'\n", val);
                return 2;
            }
        }
    }
    int first = -1, last = -1;
    for (int p = 0; p < NPRESETS; p++)
        if (!strcmp(which, PRESETS[p].name)) first = last = p;
    if (!strcmp(which, "all")) first = 0, last = NPRESETS - 1;
    if (first < 0) {
        fprintf(stderr, "bench kernels: unknown preset '%s' (tiny, small, medium or all)\n", which);
        return 2;
    }
    char msg[128], ts[160];
    if (kn_tune_check(&tune, msg, sizeof msg) != 0) {
        fprintf(stderr, "bench kernels: %s\n", msg);
        return 2;
    }
    kn_tune_apply(&tune);
    kn_tune_str(&tune, ts, sizeof ts);
    printf("unlearnbench bench kernels: %s, %.2f s per measurement, best call\n", ts, secs);
    for (int p = first; p <= last; p++)
        if (bench_preset(&PRESETS[p], &tune, secs) != 0) return 1;
    return 0;
}
