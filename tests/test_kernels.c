/* tests/test_kernels.c: unit tests of kernels/.
 *
 * For every backward kernel, a finite-difference check: with a random upstream gradient dout,
 * L = sum(out * dout) is computed in double from the float forward; each input element is
 * perturbed by +-eps (central differences) and the numerical derivative compared with the
 * analytic one. Error metric, per tensor:
 *     err = max_i |a_i - n_i| / max(FD_FLOOR, |a_i| + |n_i|)      must be < FD_TOL
 * (a wrong index or a missing term gives err near 1). None of these ops has kinks.
 * Also: forward against naive double-precision references, accumulation (+=) of every backward,
 * bitwise equality of our own kernels at 1 and 2 threads, sgemm-based kernels against references
 * in both GEMM modes and bitwise run to run, AdamW against a 2-step hand computation.
 */
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "kernels.h"
#include "kn_private.h"
#include "ubtest.h"

/* eps: the forward runs in float, so L carries rounding noise of ~1e-7 |L_row| that the
 * difference quotient divides by 2 eps; at eps = 1e-3 that noise alone reaches the tolerance
 * on the linear ops. The truncation error, O(eps^2) for central differences, stays ~1e-4. */
#define FD_EPS 1e-2f
#define FD_FLOOR 1e-2
#define FD_TOL 5e-3

/* ---------------------------------------------------------------- helpers */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float frand(void) { /* uniform in [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * (1.0 / 8388608.0)) - 1.0f;
}
static float *rnd(size_t n, float scale) {
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = scale * frand();
    return x;
}
static float *zeros(size_t n) { return calloc(n, sizeof(float)); }
static float *copy(const float *x, size_t n) {
    float *y = malloc(n * sizeof(float));
    memcpy(y, x, n * sizeof(float));
    return y;
}
static double dotd(const float *a, const float *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}
static double maxabsdiff(const float *a, const float *b, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}
static double maxabsdiff_d(const float *a, const double *b, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
    return m;
}
static int same_bits(const float *a, const float *b, size_t n) {
    return memcmp(a, b, n * sizeof(float)) == 0;
}

/* Finite-difference loops call the forward hundreds of times; they run it on one thread (as a
 * copy of the tune with threads = 1) so that a loaded machine, where an OpenMP barrier can wait
 * a whole time slice, does not make the test slow. The analytic backward runs on 2 threads. */
static kn_tune single(kn_tune t) {
    t.threads = 1;
    return t;
}

static kn_tune tune_with(int threads, kn_gemm_mode mode) {
    kn_tune t;
    kn_tune_default(&t);
    t.threads = threads;
    t.gemm = mode;
    t.par_min = 1;       /* thread even the tiny test shapes */
    t.gemm_min_rows = 4; /* so that small GEMMs really are split into panels */
    t.attn_ts = 2;       /* several attention tiles at T = 5 */
    kn_tune_apply(&t);
    return t;
}

typedef double (*loss_fn)(void *ctx);

/* Central differences over every element of x (n); ga (n) the analytic gradient. */
static double fd_err(float *x, size_t n, const float *ga, loss_fn f, void *ctx, float eps) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        float x0 = x[i], xp = x0 + eps, xm = x0 - eps;
        x[i] = xp;
        double lp = f(ctx);
        x[i] = xm;
        double lm = f(ctx);
        x[i] = x0;
        double num = (lp - lm) / ((double)xp - (double)xm);
        double e = fabs(ga[i] - num) / fmax(FD_FLOOR, fabs(ga[i]) + fabs(num));
        if (e > worst) worst = e;
    }
    return worst;
}
#define CHECK_FD(name, x, n, ga, f, ctx)                                                  \
    do {                                                                                  \
        double e_ = fd_err(x, n, ga, f, ctx, FD_EPS);                                     \
        printf("  fd %-22s err %.2e\n", name, e_);                                        \
        UB_CHECK_MSG(e_ < FD_TOL, "%s: finite-difference error %.3g", name, e_);          \
    } while (0)

/* A backward called on pre-filled gradients must add exactly what it gives from zero:
 * g1 (n) after the call on g0; ga (n) the result from zeros. */
static void check_accum(const char *name, const float *g1, const float *g0, const float *ga,
                        size_t n) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double want = (double)g0[i] + ga[i];
        double e = fabs(g1[i] - want) / (1e-6 + 1e-6 * (fabs(g0[i]) + fabs(ga[i])));
        if (e > worst) worst = e;
    }
    UB_CHECK_MSG(worst <= 1.0, "%s does not accumulate (+=): worst %.3g", name, worst);
}

/* Dimensions of the finite-difference tests: small, non-square, T < maxT. */
enum { B = 2, T = 5, MAXT = 7, C = 8, NH = 2, V = 11, OC = 12, N = B * T };

/* ---------------------------------------------------------------- kn_expf */
static void test_math(void) {
    double worst = 0.0;
    for (float x = -87.0f; x < 88.0f; x += 0.0137f) {
        double r = exp((double)x);
        worst = fmax(worst, fabs(kn_expf(x) - r) / r);
    }
    printf("  kn_expf max rel err %.2e\n", worst);
    UB_CHECK(worst < 2.5e-7);
    UB_CHECK(kn_expf(0.0f) == 1.0f);
    UB_CHECK(kn_expf(-100.0f) == 0.0f);
    UB_CHECK(isinf(kn_expf(100.0f)));
    UB_CHECK(isnan(kn_expf(NAN)));
}

/* ---------------------------------------------------------------- tune */
static void test_tune(void) {
    kn_tune t;
    char msg[128], s[256];
    kn_tune_default(&t);
    UB_CHECK(kn_tune_check(&t, msg, sizeof msg) == 0);
    UB_CHECK(t.gemm == KN_GEMM_OMP_PANELS && t.threads >= 1);
    kn_tune bad = t;
    bad.threads = -1;
    UB_CHECK(kn_tune_check(&bad, msg, sizeof msg) == -1 && strstr(msg, "threads"));
    bad = t;
    bad.gemm = (kn_gemm_mode)7;
    UB_CHECK(kn_tune_check(&bad, msg, sizeof msg) == -1 && strstr(msg, "gemm"));
    bad = t;
    bad.gemm_min_rows = 0;
    UB_CHECK(kn_tune_check(&bad, msg, sizeof msg) == -1 && strstr(msg, "gemm_min_rows"));
    bad = t;
    bad.attn_ts = 0;
    UB_CHECK(kn_tune_check(&bad, msg, sizeof msg) == -1 && strstr(msg, "attn_ts"));
    bad = t;
    bad.par_min = 0;
    UB_CHECK(kn_tune_check(&bad, msg, sizeof msg) == -1 && strstr(msg, "par_min"));
    bad = t;
    bad.threads = 0;
    UB_CHECK(kn_tune_apply(&bad) == omp_get_num_procs() && bad.threads == omp_get_num_procs());
    kn_tune_str(&t, s, sizeof s);
    UB_CHECK(strstr(s, "gemm=omp-panels") && strstr(s, "attn_ts="));
    setenv("UB_THREADS", "3", 1);
    kn_tune_default(&t);
    UB_CHECK(t.threads == 3);
    setenv("UB_THREADS", "x2", 1);
    kn_tune_default(&t);
    UB_CHECK(kn_tune_check(&t, msg, sizeof msg) == -1 && strstr(msg, "UB_THREADS"));
    unsetenv("UB_THREADS");
}

/* ---------------------------------------------------------------- encoder */
typedef struct {
    float *out, *wte, *wpe, *dout;
    const int *inp;
} enc_ctx;
static double enc_loss(void *p) {
    enc_ctx *c = p;
    kn_encoder_forward(c->out, c->inp, c->wte, c->wpe, B, T, C);
    return dotd(c->out, c->dout, (size_t)N * C);
}
static void test_encoder(void) {
    int inp[N];
    for (int i = 0; i < N; i++) inp[i] = (int)((frand() + 1.0f) * 0.5f * V) % V;
    inp[7] = inp[2]; /* a repeated token: its dwte row gets two contributions */
    enc_ctx c = {zeros((size_t)N * C), rnd((size_t)V * C, 1), rnd((size_t)MAXT * C, 1),
                 rnd((size_t)N * C, 1), inp};
    enc_loss(&c);
    int ok = 1;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < C; k++)
            ok &= c.out[i * C + k] == c.wte[inp[i] * C + k] + c.wpe[(i % T) * C + k];
    UB_CHECK(ok);
    float *dwte = zeros((size_t)V * C), *dwpe = zeros((size_t)MAXT * C);
    kn_encoder_backward(dwte, dwpe, c.dout, inp, B, T, C);
    CHECK_FD("encoder dwte", c.wte, (size_t)V * C, dwte, enc_loss, &c);
    CHECK_FD("encoder dwpe", c.wpe, (size_t)MAXT * C, dwpe, enc_loss, &c);
    float *g0 = rnd((size_t)V * C, 1), *g1 = copy(g0, (size_t)V * C);
    float *p0 = rnd((size_t)MAXT * C, 1), *p1 = copy(p0, (size_t)MAXT * C);
    kn_encoder_backward(g1, p1, c.dout, inp, B, T, C);
    check_accum("encoder dwte", g1, g0, dwte, (size_t)V * C);
    check_accum("encoder dwpe", p1, p0, dwpe, (size_t)MAXT * C);
    free(c.out), free(c.wte), free(c.wpe), free(c.dout), free(dwte), free(dwpe);
    free(g0), free(g1), free(p0), free(p1);
}

/* ---------------------------------------------------------------- layernorm */
typedef struct {
    float *out, *mean, *rstd, *inp, *w, *b, *dout;
} ln_ctx;
static double ln_loss(void *p) {
    ln_ctx *c = p;
    kn_layernorm_forward(c->out, c->mean, c->rstd, c->inp, c->w, c->b, N, C);
    return dotd(c->out, c->dout, (size_t)N * C);
}
static void test_layernorm(void) {
    size_t nc = (size_t)N * C;
    ln_ctx c = {zeros(nc), zeros(N), zeros(N), rnd(nc, 2), rnd(C, 1), rnd(C, 1), rnd(nc, 1)};
    for (size_t i = 0; i < nc; i++) c.inp[i] += 0.5f; /* a non-zero mean */
    ln_loss(&c);
    double worst = 0.0;
    for (int i = 0; i < N; i++) {
        double m = 0, v = 0;
        for (int k = 0; k < C; k++) m += c.inp[i * C + k];
        m /= C;
        for (int k = 0; k < C; k++) v += (c.inp[i * C + k] - m) * (c.inp[i * C + k] - m);
        double r = 1.0 / sqrt(v / C + 1e-5);
        for (int k = 0; k < C; k++)
            worst = fmax(worst, fabs(c.out[i * C + k] -
                                     ((c.inp[i * C + k] - m) * r * c.w[k] + c.b[k])));
        worst = fmax(worst, fabs(c.mean[i] - m) + fabs(c.rstd[i] - r) / r);
    }
    UB_CHECK_MSG(worst < 2e-6, "layernorm forward vs double: %.3g", worst);
    float *dinp = zeros(nc), *dw = zeros(C), *db = zeros(C);
    kn_layernorm_backward(dinp, dw, db, c.dout, c.inp, c.w, c.mean, c.rstd, N, C);
    CHECK_FD("layernorm dinp", c.inp, nc, dinp, ln_loss, &c);
    CHECK_FD("layernorm dw", c.w, C, dw, ln_loss, &c);
    CHECK_FD("layernorm db", c.b, C, db, ln_loss, &c);
    ln_loss(&c);
    float *x0 = rnd(nc, 1), *x1 = copy(x0, nc), *w0 = rnd(C, 1), *w1 = copy(w0, C);
    float *b0 = rnd(C, 1), *b1 = copy(b0, C);
    kn_layernorm_backward(x1, w1, b1, c.dout, c.inp, c.w, c.mean, c.rstd, N, C);
    check_accum("layernorm dinp", x1, x0, dinp, nc);
    check_accum("layernorm dw", w1, w0, dw, C);
    check_accum("layernorm db", b1, b0, db, C);
    free(c.out), free(c.mean), free(c.rstd), free(c.inp), free(c.w), free(c.b), free(c.dout);
    free(dinp), free(dw), free(db), free(x0), free(x1), free(w0), free(w1), free(b0), free(b1);
}

/* ---------------------------------------------------------------- matmul */
typedef struct {
    float *out, *inp, *w, *bias, *dout;
    int nt; /* 1: matmul_nt (w is (OC,C)) */
    const kn_tune *tune;
} mm_ctx;
static double mm_loss(void *p) {
    mm_ctx *c = p;
    if (c->nt) kn_matmul_nt_forward(c->out, c->inp, c->w, N, C, V, c->tune);
    else kn_matmul_forward(c->out, c->inp, c->w, c->bias, N, C, OC, c->tune);
    return dotd(c->out, c->dout, (size_t)N * (c->nt ? V : OC));
}
/* out (n,oc) reference in double; w (C,OC) or, when nt, (OC,C). */
static double *mm_ref(const float *inp, const float *w, const float *bias, int n, int c,
                      int oc, int nt) {
    double *o = malloc(sizeof(double) * n * oc);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < oc; j++) {
            double s = bias ? bias[j] : 0.0;
            for (int k = 0; k < c; k++)
                s += (double)inp[i * c + k] * (nt ? w[j * c + k] : w[k * oc + j]);
            o[i * oc + j] = s;
        }
    return o;
}
static void test_matmul_fd(void) {
    kn_tune tu = tune_with(2, KN_GEMM_OMP_PANELS), t1 = single(tu);
    mm_ctx c = {zeros((size_t)N * OC), rnd((size_t)N * C, 1), rnd((size_t)C * OC, 1),
                rnd(OC, 1), rnd((size_t)N * OC, 1), 0, &t1};
    float *dinp = zeros((size_t)N * C), *dw = zeros((size_t)C * OC), *db = zeros(OC);
    kn_matmul_backward(dinp, dw, db, c.dout, c.inp, c.w, N, C, OC, KN_ACCUMULATE, &tu);
    CHECK_FD("matmul dinp", c.inp, (size_t)N * C, dinp, mm_loss, &c);
    CHECK_FD("matmul dw", c.w, (size_t)C * OC, dw, mm_loss, &c);
    CHECK_FD("matmul dbias", c.bias, OC, db, mm_loss, &c);
    float *x0 = rnd((size_t)N * C, 1), *x1 = copy(x0, (size_t)N * C);
    float *w0 = rnd((size_t)C * OC, 1), *w1 = copy(w0, (size_t)C * OC);
    float *b0 = rnd(OC, 1), *b1 = copy(b0, OC);
    kn_matmul_backward(x1, w1, b1, c.dout, c.inp, c.w, N, C, OC, KN_ACCUMULATE, &tu);
    check_accum("matmul dinp", x1, x0, dinp, (size_t)N * C);
    check_accum("matmul dw", w1, w0, dw, (size_t)C * OC);
    check_accum("matmul dbias", b1, b0, db, OC);
    /* NULL dinp / dbias: dw alone */
    float *w2 = copy(w0, (size_t)C * OC);
    kn_matmul_backward(NULL, w2, NULL, c.dout, c.inp, c.w, N, C, OC, KN_ACCUMULATE, &tu);
    check_accum("matmul dw (dinp=NULL)", w2, w0, dw, (size_t)C * OC);
    free(c.out), free(c.inp), free(c.w), free(c.bias), free(c.dout), free(dinp), free(dw);
    free(db), free(x0), free(x1), free(w0), free(w1), free(b0), free(b1), free(w2);

    mm_ctx d = {zeros((size_t)N * V), rnd((size_t)N * C, 1), rnd((size_t)V * C, 1), NULL,
                rnd((size_t)N * V, 1), 1, &t1};
    dinp = zeros((size_t)N * C), dw = zeros((size_t)V * C);
    kn_matmul_nt_backward(dinp, dw, d.dout, d.inp, d.w, N, C, V, KN_ACCUMULATE, &tu);
    CHECK_FD("matmul_nt dinp", d.inp, (size_t)N * C, dinp, mm_loss, &d);
    CHECK_FD("matmul_nt dw", d.w, (size_t)V * C, dw, mm_loss, &d);
    x0 = rnd((size_t)N * C, 1), x1 = copy(x0, (size_t)N * C);
    w0 = rnd((size_t)V * C, 1), w1 = copy(w0, (size_t)V * C);
    kn_matmul_nt_backward(x1, w1, d.dout, d.inp, d.w, N, C, V, KN_ACCUMULATE, &tu);
    check_accum("matmul_nt dinp", x1, x0, dinp, (size_t)N * C);
    check_accum("matmul_nt dw", w1, w0, dw, (size_t)V * C);
    free(d.out), free(d.inp), free(d.w), free(d.dout), free(dinp), free(dw);
    free(x0), free(x1), free(w0), free(w1);
}

/* Bigger, ragged shapes in both GEMM modes at 1 and 2 threads: forward and backward against
 * double references (tolerance), bitwise run to run at a fixed thread count, and the bias
 * gradient (our own reduction) bitwise across thread counts. */
static void test_matmul_modes(void) {
    enum { MN = 203, MC = 72, MO = 136 };
    float *inp = rnd((size_t)MN * MC, 1), *w = rnd((size_t)MC * MO, 1), *bias = rnd(MO, 1);
    float *dout = rnd((size_t)MN * MO, 1), *wt = rnd((size_t)MO * MC, 1);
    double *ref = mm_ref(inp, w, bias, MN, MC, MO, 0);
    double *ref_nt = mm_ref(inp, wt, NULL, MN, MC, MO, 1);
    /* backward references: dinp = dout @ w^T (MN,MC); dw = inp^T @ dout (MC,MO) */
    double *rdx = calloc((size_t)MN * MC, sizeof(double)), *rdw = calloc((size_t)MC * MO, sizeof(double));
    double *rdb = calloc(MO, sizeof(double));
    for (int i = 0; i < MN; i++)
        for (int o = 0; o < MO; o++) {
            double d = dout[i * MO + o];
            rdb[o] += d;
            for (int k = 0; k < MC; k++) {
                rdx[i * MC + k] += d * w[k * MO + o];
                rdw[k * MO + o] += d * inp[i * MC + k];
            }
        }
    float *db_first = NULL;
    for (int mode = 0; mode < 2; mode++)
        for (int th = 1; th <= 2; th++) {
            kn_tune tu = tune_with(th, (kn_gemm_mode)mode);
            float *out = zeros((size_t)MN * MO), *out2 = zeros((size_t)MN * MO);
            kn_matmul_forward(out, inp, w, bias, MN, MC, MO, &tu);
            kn_matmul_forward(out2, inp, w, bias, MN, MC, MO, &tu);
            UB_CHECK_MSG(maxabsdiff_d(out, ref, (size_t)MN * MO) < 1e-4, "matmul fwd mode %d th %d", mode, th);
            UB_CHECK(same_bits(out, out2, (size_t)MN * MO));
            kn_matmul_nt_forward(out, inp, wt, MN, MC, MO, &tu);
            kn_matmul_nt_forward(out2, inp, wt, MN, MC, MO, &tu);
            UB_CHECK_MSG(maxabsdiff_d(out, ref_nt, (size_t)MN * MO) < 1e-4, "matmul_nt fwd mode %d th %d", mode, th);
            UB_CHECK(same_bits(out, out2, (size_t)MN * MO));
            float *dx = zeros((size_t)MN * MC), *dw = zeros((size_t)MC * MO), *db = zeros(MO);
            float *dx2 = zeros((size_t)MN * MC), *dw2 = zeros((size_t)MC * MO), *db2 = zeros(MO);
            kn_matmul_backward(dx, dw, db, dout, inp, w, MN, MC, MO, KN_ACCUMULATE, &tu);
            kn_matmul_backward(dx2, dw2, db2, dout, inp, w, MN, MC, MO, KN_ACCUMULATE, &tu);
            UB_CHECK_MSG(maxabsdiff_d(dx, rdx, (size_t)MN * MC) < 1e-4, "matmul dinp mode %d th %d", mode, th);
            UB_CHECK_MSG(maxabsdiff_d(dw, rdw, (size_t)MC * MO) < 1e-3, "matmul dw mode %d th %d", mode, th);
            UB_CHECK_MSG(maxabsdiff_d(db, rdb, MO) < 1e-3, "matmul dbias mode %d th %d", mode, th);
            UB_CHECK(same_bits(dx, dx2, (size_t)MN * MC) && same_bits(dw, dw2, (size_t)MC * MO));
            if (!db_first) db_first = copy(db, MO);
            else UB_CHECK_MSG(same_bits(db, db_first, MO), "dbias bits differ, mode %d th %d", mode, th);
            free(out), free(out2), free(dx), free(dw), free(db), free(dx2), free(dw2), free(db2);
        }
    free(inp), free(w), free(bias), free(dout), free(wt), free(ref), free(ref_nt);
    free(rdx), free(rdw), free(rdb), free(db_first);
}

/* Debian's pthread OpenBLAS 0.3.21 set to 1 thread, called concurrently from an OpenMP team:
 * every thread must get the same bits as one call on its own. */
static void test_concurrent_sgemm(void) {
    kn_tune tu = tune_with(2, KN_GEMM_OMP_PANELS);
    (void)tu;
    enum { M = 96, K = 80, NN = 112, REP = 20 };
    float *A = rnd((size_t)M * K, 1), *Bm = rnd((size_t)K * NN, 1), *C1 = zeros((size_t)M * NN);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, NN, K, 1.0f, A, K, Bm, NN, 0.0f,
                C1, NN);
    int bad = 0;
#pragma omp parallel num_threads(2) reduction(+ : bad)
    {
        float *Ct = malloc(sizeof(float) * M * NN);
        for (int r = 0; r < REP; r++) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, NN, K, 1.0f, A, K, Bm,
                        NN, 0.0f, Ct, NN);
            bad += !same_bits(Ct, C1, (size_t)M * NN);
        }
        free(Ct);
    }
    UB_CHECK_MSG(bad == 0, "%d concurrent sgemm results differ from a single call", bad);
    free(A), free(Bm), free(C1);
}

/* ---------------------------------------------------------------- gelu, residual */
typedef struct {
    float *out, *inp, *inp2, *dout;
    size_t n;
    const kn_tune *tune;
} ew_ctx;
static double gelu_loss(void *p) {
    ew_ctx *c = p;
    kn_gelu_forward(c->out, c->inp, c->n, c->tune);
    return dotd(c->out, c->dout, c->n);
}
static double res_loss(void *p) {
    ew_ctx *c = p;
    kn_residual_forward(c->out, c->inp, c->inp2, c->n, c->tune);
    return dotd(c->out, c->dout, c->n);
}
static void test_elementwise(void) {
    kn_tune tu = tune_with(2, KN_GEMM_OMP_PANELS), t1 = single(tu);
    size_t n = 203;
    ew_ctx c = {zeros(n), rnd(n, 4), rnd(n, 1), rnd(n, 1), n, &t1};
    gelu_loss(&c);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = c.inp[i];
        double y = 0.5 * x * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
        worst = fmax(worst, fabs(c.out[i] - y) / (1e-7 + fabs(y)));
    }
    UB_CHECK_MSG(worst < 1e-5, "gelu forward vs double: %.3g", worst);
    float *dx = zeros(n);
    kn_gelu_backward(dx, c.inp, c.dout, n, KN_ACCUMULATE, &tu);
    CHECK_FD("gelu dinp", c.inp, n, dx, gelu_loss, &c);
    float *x0 = rnd(n, 1), *x1 = copy(x0, n);
    kn_gelu_backward(x1, c.inp, c.dout, n, KN_ACCUMULATE, &tu);
    check_accum("gelu dinp", x1, x0, dx, n);

    float *da = zeros(n), *db = zeros(n);
    kn_residual_backward(da, db, c.dout, n, &tu);
    CHECK_FD("residual da", c.inp, n, da, res_loss, &c);
    CHECK_FD("residual db", c.inp2, n, db, res_loss, &c);
    float *y0 = rnd(n, 1), *y1 = copy(y0, n), *z0 = rnd(n, 1), *z1 = copy(z0, n);
    kn_residual_backward(y1, z1, c.dout, n, &tu);
    check_accum("residual da", y1, y0, da, n);
    check_accum("residual db", z1, z0, db, n);
    free(c.out), free(c.inp), free(c.inp2), free(c.dout), free(dx), free(x0), free(x1);
    free(da), free(db), free(y0), free(y1), free(z0), free(z1);
}

/* ---------------------------------------------------------------- attention */
typedef struct {
    float *out, *att, *qkv, *dout;
    int b, t, c, nh;
    const kn_tune *tune;
} at_ctx;
static double at_loss(void *p) {
    at_ctx *c = p;
    kn_attention_forward(c->out, c->att, c->qkv, c->b, c->t, c->c, c->nh, c->tune);
    return dotd(c->out, c->dout, (size_t)c->b * c->t * c->c);
}
/* out (b,t,c) in double: naive triple loop. */
static double *attn_ref(const float *qkv, int b_, int t_, int c_, int nh) {
    int hs = c_ / nh;
    double *out = calloc((size_t)b_ * t_ * c_, sizeof(double));
    double *w = malloc(sizeof(double) * t_);
    for (int b = 0; b < b_; b++)
        for (int h = 0; h < nh; h++)
            for (int t = 0; t < t_; t++) {
                const float *q = qkv + ((size_t)b * t_ + t) * 3 * c_ + h * hs;
                double mx = -INFINITY, s = 0.0;
                for (int j = 0; j <= t; j++) {
                    const float *k = qkv + ((size_t)b * t_ + j) * 3 * c_ + c_ + h * hs;
                    double d = 0.0;
                    for (int i = 0; i < hs; i++) d += (double)q[i] * k[i];
                    w[j] = d / sqrt((double)hs);
                    mx = fmax(mx, w[j]);
                }
                for (int j = 0; j <= t; j++) s += (w[j] = exp(w[j] - mx));
                for (int j = 0; j <= t; j++) {
                    const float *v = qkv + ((size_t)b * t_ + j) * 3 * c_ + 2 * c_ + h * hs;
                    for (int i = 0; i < hs; i++)
                        out[((size_t)b * t_ + t) * c_ + h * hs + i] += w[j] / s * v[i];
                }
            }
    free(w);
    return out;
}
static void test_attention(void) {
    kn_tune tu = tune_with(2, KN_GEMM_OMP_PANELS), t1 = single(tu);
    size_t n3 = (size_t)N * 3 * C, nc = (size_t)N * C, na = (size_t)B * NH * T * T;
    at_ctx c = {zeros(nc), zeros(na), rnd(n3, 1.5), rnd(nc, 1), B, T, C, NH, &t1};
    double *ref = attn_ref(c.qkv, B, T, C, NH);
    int ts_list[] = {1, 2, 3, 64};
    for (int i = 0; i < 4; i++) {
        kn_tune t2 = tu;
        t2.attn_ts = ts_list[i];
        c.tune = &t2;
        at_loss(&c);
        UB_CHECK_MSG(maxabsdiff_d(c.out, ref, nc) < 2e-6, "attention fwd ts=%d: %.3g",
                     ts_list[i], maxabsdiff_d(c.out, ref, nc));
    }
    c.tune = &t1;
    at_loss(&c);
    int upper_zero = 1;
    double rowsum_err = 0.0;
    for (int bh = 0; bh < B * NH; bh++)
        for (int t = 0; t < T; t++) {
            double s = 0.0;
            for (int j = 0; j < T; j++) {
                float a = c.att[((size_t)bh * T + t) * T + j];
                if (j > t) upper_zero &= a == 0.0f;
                s += a;
            }
            rowsum_err = fmax(rowsum_err, fabs(s - 1.0));
        }
    UB_CHECK(upper_zero);
    UB_CHECK(rowsum_err < 1e-6);
    /* causal: changing the last token changes no earlier output */
    float *out0 = copy(c.out, nc);
    for (int b = 0; b < B; b++)
        for (int k = 0; k < 3 * C; k++) c.qkv[((size_t)b * T + T - 1) * 3 * C + k] += 0.7f;
    at_loss(&c);
    int causal = 1;
    for (int b = 0; b < B; b++)
        causal &= same_bits(c.out + (size_t)b * T * C, out0 + (size_t)b * T * C, (size_t)(T - 1) * C);
    UB_CHECK_MSG(causal, "attention output at t < T-1 depends on token T-1");
    at_loss(&c);

    float *dqkv = zeros(n3), *scratch = rnd(na, 1);
    kn_attention_backward(dqkv, scratch, c.dout, c.qkv, c.att, B, T, C, NH, &tu);
    CHECK_FD("attention dqkv", c.qkv, n3, dqkv, at_loss, &c);
    at_loss(&c);
    float *g0 = rnd(n3, 1), *g1 = copy(g0, n3);
    kn_attention_backward(g1, scratch, c.dout, c.qkv, c.att, B, T, C, NH, &tu);
    check_accum("attention dqkv", g1, g0, dqkv, n3);
    /* other tile sizes give the same gradient up to rounding */
    for (int i = 0; i < 4; i++) {
        kn_tune t2 = tu;
        t2.attn_ts = ts_list[i];
        float *g = zeros(n3);
        kn_attention_backward(g, scratch, c.dout, c.qkv, c.att, B, T, C, NH, &t2);
        UB_CHECK_MSG(maxabsdiff(g, dqkv, n3) < 1e-5, "attention bwd ts=%d", ts_list[i]);
        free(g);
    }
    free(c.out), free(c.att), free(c.qkv), free(c.dout), free(ref), free(out0), free(dqkv);
    free(scratch), free(g0), free(g1);
}

/* Attention at other shapes: forward against the double reference, backward by central
 * differences on `nfd` elements of qkv spread over the tensor (all when nfd = 0), accumulation,
 * and the same bits at 1 and 2 threads. kernels/attention.c picks loops or sgemm by T (and hs):
 * T = 37, hs = 12 is the loop path with a ragged key tile (32) and a head size that is not a
 * multiple of the 8-lane vectors; T = 260 is the sgemm path in both directions. */
static void attention_shape(int b_, int t_, int c_, int nh, size_t nfd) {
    kn_tune tu = tune_with(2, KN_GEMM_OMP_PANELS), t1 = single(tu);
    size_t n3 = (size_t)b_ * t_ * 3 * c_, nc = (size_t)b_ * t_ * c_, na = (size_t)b_ * nh * t_ * t_;
    at_ctx c = {zeros(nc), zeros(na), rnd(n3, 0.7), rnd(nc, 1), b_, t_, c_, nh, &t1};
    double *ref = attn_ref(c.qkv, b_, t_, c_, nh);
    at_loss(&c);
    UB_CHECK_MSG(maxabsdiff_d(c.out, ref, nc) < 2e-6, "attention fwd T=%d hs=%d: %.3g", t_,
                 c_ / nh, maxabsdiff_d(c.out, ref, nc));
    int upper_zero = 1;
    for (int bh = 0; bh < b_ * nh; bh++)
        for (int t = 0; t < t_; t++)
            for (int j = t + 1; j < t_; j++) upper_zero &= c.att[((size_t)bh * t_ + t) * t_ + j] == 0.0f;
    UB_CHECK(upper_zero);
    /* 2 threads: the same bits as 1 */
    float *out2 = zeros(nc), *att2 = rnd(na, 1); /* att2: stale contents must not matter */
    kn_attention_forward(out2, att2, c.qkv, b_, t_, c_, nh, &tu);
    UB_CHECK_MSG(same_bits(out2, c.out, nc) && same_bits(att2, c.att, na),
                 "attention fwd T=%d: 1 vs 2 threads differ", t_);
    float *dqkv = zeros(n3), *dqkv1 = zeros(n3), *scratch = rnd(na, 1);
    kn_attention_backward(dqkv, scratch, c.dout, c.qkv, c.att, b_, t_, c_, nh, &tu);
    kn_attention_backward(dqkv1, scratch, c.dout, c.qkv, c.att, b_, t_, c_, nh, &t1);
    UB_CHECK_MSG(same_bits(dqkv, dqkv1, n3), "attention bwd T=%d: 1 vs 2 threads differ", t_);
    if (nfd == 0) {
        char name[64];
        snprintf(name, sizeof name, "attention T=%d hs=%d", t_, c_ / nh);
        CHECK_FD(name, c.qkv, n3, dqkv, at_loss, &c);
    } else {
        double worst = 0.0;
        for (size_t k = 0; k < nfd; k++) {
            size_t i = (k * 7919u + 13u) % n3;
            float x0 = c.qkv[i], xp = x0 + FD_EPS, xm = x0 - FD_EPS;
            c.qkv[i] = xp;
            double lp = at_loss(&c);
            c.qkv[i] = xm;
            double lm = at_loss(&c);
            c.qkv[i] = x0;
            double num = (lp - lm) / ((double)xp - (double)xm);
            worst = fmax(worst, fabs(dqkv[i] - num) / fmax(FD_FLOOR, fabs(dqkv[i]) + fabs(num)));
        }
        printf("  fd attention T=%-4d hs=%-3d err %.2e (%zu elements)\n", t_, c_ / nh, worst, nfd);
        UB_CHECK_MSG(worst < FD_TOL, "attention T=%d: finite-difference error %.3g", t_, worst);
    }
    at_loss(&c);
    float *g0 = rnd(n3, 1), *g1 = copy(g0, n3);
    kn_attention_backward(g1, scratch, c.dout, c.qkv, c.att, b_, t_, c_, nh, &tu);
    check_accum("attention dqkv (shape)", g1, g0, dqkv, n3);
    free(c.out), free(c.att), free(c.qkv), free(c.dout), free(ref), free(out2), free(att2);
    free(dqkv), free(dqkv1), free(scratch), free(g0), free(g1);
}
static void test_attention_shapes(void) {
    attention_shape(2, 37, 36, 3, 0);  /* loops: T % 32 != 0, hs = 12 */
    attention_shape(1, 260, 24, 2, 300); /* sgemm fallback (T > 256), hs = 12 */
}

/* Attention after a cached prefix: the last Tn rows of kn_attention_forward over P+Tn rows,
 * bit for bit where the loop path runs (hs <= 128), to rounding otherwise; for a prefix shared
 * by every sequence (pstride 0) and per-sequence prefixes, also through a row -> sequence map
 * (seq); P = 0, and 1 vs 2 threads. */
static void attention_kv_shape(int b_, int P, int tn, int c_, int nh) {
    kn_tune tu = tune_with(2, KN_GEMM_OMP_PANELS), t1 = single(tu);
    int tf = P + tn;
    size_t n3 = (size_t)b_ * tf * 3 * c_, nc = (size_t)b_ * tf * c_;
    float *qkv = rnd(n3, 0.7), *out = zeros(nc), *att = zeros((size_t)b_ * nh * tf * tf);
    kn_attention_forward(out, att, qkv, b_, tf, c_, nh, &t1);
    /* per-sequence prefixes (P,C) and the new rows' qkv (b,tn,3C) */
    float *kp = zeros((size_t)b_ * P * c_ + 1), *vp = zeros((size_t)b_ * P * c_ + 1);
    float *q2 = zeros((size_t)b_ * tn * 3 * c_), *o2 = zeros((size_t)b_ * tn * c_);
    float *o1 = zeros((size_t)b_ * tn * c_), *a2 = rnd((size_t)b_ * nh * tn * tf, 1);
    for (int b = 0; b < b_; b++) {
        for (int t = 0; t < P; t++)
            for (int i = 0; i < c_; i++) {
                const float *r = qkv + ((size_t)b * tf + t) * 3 * c_;
                kp[((size_t)b * P + t) * c_ + i] = r[c_ + i];
                vp[((size_t)b * P + t) * c_ + i] = r[2 * c_ + i];
            }
        memcpy(q2 + (size_t)b * tn * 3 * c_, qkv + ((size_t)b * tf + P) * 3 * c_,
               sizeof(float) * tn * 3 * c_);
    }
    size_t no = (size_t)tn * c_;
    kn_attention_kv_forward(o2, a2, q2, kp, vp, (size_t)P * c_, NULL, b_, tn, P, c_, nh, &tu);
    kn_attention_kv_forward(o1, a2, q2, kp, vp, (size_t)P * c_, NULL, b_, tn, P, c_, nh, &t1);
    UB_CHECK_MSG(same_bits(o1, o2, (size_t)b_ * no), "attention kv P=%d: 1 vs 2 threads differ", P);
    double worst = 0.0;
    int exact = 1;
    for (int b = 0; b < b_; b++) {
        const float *want = out + ((size_t)b * tf + P) * c_;
        worst = fmax(worst, maxabsdiff(o2 + (size_t)b * no, want, no));
        exact &= same_bits(o2 + (size_t)b * no, want, no);
    }
    printf("  attention kv B=%d P=%-3d Tn=%-2d hs=%-3d max |diff| %.2e%s\n", b_, P, tn, c_ / nh,
           worst, exact ? " (same bits)" : "");
    UB_CHECK_MSG(worst < 1e-6, "attention kv P=%d Tn=%d: %.3g", P, tn, worst);
    if (c_ / nh <= 128) UB_CHECK_MSG(exact, "attention kv P=%d Tn=%d: bits differ", P, tn);
    /* rows in reverse order, each mapped to its own sequence: the same bits per row */
    float *q3 = zeros((size_t)b_ * tn * 3 * c_), *o3 = zeros((size_t)b_ * tn * c_);
    int seq[8];
    for (int b = 0; b < b_; b++) {
        seq[b] = b_ - 1 - b;
        memcpy(q3 + (size_t)b * tn * 3 * c_, q2 + (size_t)seq[b] * tn * 3 * c_,
               sizeof(float) * tn * 3 * c_);
    }
    kn_attention_kv_forward(o3, a2, q3, kp, vp, (size_t)P * c_, seq, b_, tn, P, c_, nh, &tu);
    int mapped = 1;
    for (int b = 0; b < b_; b++) mapped &= same_bits(o3 + (size_t)b * no, o2 + (size_t)seq[b] * no, no);
    UB_CHECK_MSG(mapped, "attention kv P=%d: rows mapped to their sequences differ", P);
    free(q3), free(o3);
    /* one prefix for all: sequence 0's, against sequence 0's rows */
    kn_attention_kv_forward(o2, a2, q2, kp, vp, 0, NULL, b_, tn, P, c_, nh, &tu);
    for (int b = 0; b < b_; b++)
        memcpy(q2 + (size_t)b * tn * 3 * c_, q2, sizeof(float) * tn * 3 * c_);
    kn_attention_kv_forward(o2, a2, q2, kp, vp, 0, NULL, b_, tn, P, c_, nh, &tu);
    int shared = 1;
    for (int b = 0; b < b_; b++)
        shared &= maxabsdiff(o2 + (size_t)b * no, out + (size_t)P * c_, no) < 1e-6;
    UB_CHECK_MSG(shared, "attention kv P=%d: shared prefix", P);
    free(qkv), free(out), free(att), free(kp), free(vp), free(q2), free(o2), free(o1), free(a2);
}
static void test_attention_kv(void) {
    attention_kv_shape(3, 37, 5, 36, 3); /* ragged tiles, hs = 12 */
    attention_kv_shape(2, 60, 1, 64, 2); /* one new row: decoding */
    attention_kv_shape(2, 0, 9, 32, 4);  /* no prefix */
    attention_kv_shape(2, 33, 40, 16, 1);
    attention_kv_shape(1, 20, 3, 272, 2); /* hs = 136: plain loops */
}

/* ---------------------------------------------------------------- cross-entropy */
typedef struct {
    float *losses, *probs, *logits, *dlosses;
    const int *targets;
    const kn_tune *tune;
} ce_ctx;
static double ce_loss(void *p) {
    ce_ctx *c = p;
    kn_crossentropy_forward(c->losses, c->probs, c->logits, c->targets, N, V, c->tune);
    return dotd(c->losses, c->dlosses, N);
}
static void test_crossentropy(void) {
    kn_tune tu = tune_with(2, KN_GEMM_OMP_PANELS), t1 = single(tu);
    int targets[N];
    for (int i = 0; i < N; i++) targets[i] = (i * 7 + 3) % V;
    targets[4] = -1; /* ignored position */
    size_t nv = (size_t)N * V;
    ce_ctx c = {zeros(N), zeros(nv), rnd(nv, 3), rnd(N, 1), targets, &t1};
    c.logits[5 * V + 2] = 60.0f; /* a dominant logit: the max subtraction must hold */
    ce_loss(&c);
    double worst = 0.0, worstp = 0.0;
    for (int i = 0; i < N; i++) {
        const float *x = c.logits + (size_t)i * V;
        double mx = -INFINITY, s = 0.0;
        for (int j = 0; j < V; j++) mx = fmax(mx, x[j]);
        for (int j = 0; j < V; j++) s += exp(x[j] - mx);
        for (int j = 0; j < V; j++)
            worstp = fmax(worstp, fabs(c.probs[(size_t)i * V + j] - exp(x[j] - mx) / s));
        double l = targets[i] < 0 ? 0.0 : log(s) - (x[targets[i]] - mx);
        worst = fmax(worst, fabs(c.losses[i] - l) / (1.0 + l));
    }
    UB_CHECK_MSG(worst < 1e-6 && worstp < 1e-6, "crossentropy fwd %.3g %.3g", worst, worstp);
    UB_CHECK(c.losses[4] == 0.0f);
    float *dl = zeros(nv);
    kn_crossentropy_backward(dl, c.probs, targets, c.dlosses, N, V, &tu);
    int ignored_zero = 1;
    for (int j = 0; j < V; j++) ignored_zero &= dl[4 * V + j] == 0.0f;
    UB_CHECK(ignored_zero);
    CHECK_FD("crossentropy dlogits", c.logits, nv, dl, ce_loss, &c);
    ce_loss(&c);
    float *g0 = rnd(nv, 1), *g1 = copy(g0, nv);
    kn_crossentropy_backward(g1, c.probs, targets, c.dlosses, N, V, &tu);
    check_accum("crossentropy dlogits", g1, g0, dl, nv);
    /* in place: probs may alias logits, dlogits may alias probs (then it is overwritten) */
    float *buf = copy(c.logits, nv), *loss2 = zeros(N);
    kn_crossentropy_forward(loss2, buf, buf, targets, N, V, &tu);
    UB_CHECK(same_bits(buf, c.probs, nv) && same_bits(loss2, c.losses, N));
    kn_crossentropy_backward(buf, buf, targets, c.dlosses, N, V, &tu);
    UB_CHECK_MSG(same_bits(buf, dl, nv), "in-place crossentropy backward differs");
    free(c.losses), free(c.probs), free(c.logits), free(c.dlosses), free(dl), free(g0);
    free(g1), free(buf), free(loss2);
}

/* Soft targets: loss = -sum q log softmax(x); against its definition and by finite
 * differences (the weights dlosses and a masked row included). */
typedef struct {
    float *losses, *probs, *logits, *soft, *dlosses;
    const int *mask;
    const kn_tune *tune;
} sce_ctx;
static double sce_loss(void *p) {
    sce_ctx *c = p;
    kn_crossentropy_soft_forward(c->losses, c->probs, c->logits, c->soft, c->mask, N, V,
                                 c->tune);
    return dotd(c->losses, c->dlosses, N);
}
static void test_crossentropy_soft(void) {
    kn_tune tu = tune_with(2, KN_GEMM_OMP_PANELS), t1 = single(tu);
    size_t nv = (size_t)N * V;
    int mask[N];
    for (int i = 0; i < N; i++) mask[i] = i == 3 ? -1 : 0;
    sce_ctx c = {zeros(N), zeros(nv), rnd(nv, 3), rnd(nv, 1), rnd(N, 1), mask, &t1};
    for (int i = 0; i < N; i++) { /* q_i = softmax of random numbers: a distribution */
        float *q = c.soft + (size_t)i * V, mx;
        float s = kn_softmax_row(q, q, V, &mx);
        (void)s;
    }
    sce_loss(&c);
    double worst = 0.0;
    for (int i = 0; i < N; i++) {
        const float *x = c.logits + (size_t)i * V, *q = c.soft + (size_t)i * V;
        double mx = -INFINITY, s = 0.0, l = 0.0;
        for (int j = 0; j < V; j++) mx = fmax(mx, x[j]);
        for (int j = 0; j < V; j++) s += exp(x[j] - mx);
        for (int j = 0; j < V; j++) l -= q[j] * (x[j] - mx - log(s));
        if (i == 3) l = 0.0;
        worst = fmax(worst, fabs(c.losses[i] - l) / (1.0 + fabs(l)));
    }
    UB_CHECK_MSG(worst < 1e-5, "soft crossentropy fwd %.3g", worst);
    float *dl = zeros(nv);
    kn_crossentropy_soft_backward(dl, c.probs, c.soft, mask, c.dlosses, N, V, &tu);
    CHECK_FD("soft crossentropy", c.logits, nv, dl, sce_loss, &c);
    sce_loss(&c);
    float *g0 = rnd(nv, 1), *g1 = copy(g0, nv);
    kn_crossentropy_soft_backward(g1, c.probs, c.soft, mask, c.dlosses, N, V, &tu);
    check_accum("soft crossentropy", g1, g0, dl, nv);
    float *buf = copy(c.probs, nv);
    kn_crossentropy_soft_backward(buf, buf, c.soft, mask, c.dlosses, N, V, &tu);
    UB_CHECK_MSG(same_bits(buf, dl, nv), "in-place soft crossentropy backward differs");
    free(c.losses), free(c.probs), free(c.logits), free(c.soft), free(c.dlosses), free(dl);
    free(g0), free(g1), free(buf);
}

/* ---------------------------------------------------------------- optimizer helpers */
static void test_optim(void) {
    kn_tune tu = tune_with(2, KN_GEMM_OMP_PANELS);
    /* By hand, p=1, g=0.5, lr=0.1, b1=0.5, b2=0.75, wd=0.1 (eps negligible; betas exact in
     * float so m and v are exact):
     * step 1: p=0.99, m=0.25, v=0.0625, bc1=0.5, bc2=0.25, step=0.2, denom=0.25/0.5=0.5
     *         -> p = 0.99 - 0.2*0.25/0.5 = 0.89
     * step 2: p=0.8811, m=0.375, v=0.109375, bc1=0.75, bc2=0.4375, step=0.1/0.75,
     *         denom=sqrt(0.25)=0.5 -> p = 0.8811 - 0.1 = 0.7811 */
    float p = 1.0f, g = 0.5f, m = 0.0f, v = 0.0f;
    kn_adamw_update(&p, &g, &m, &v, 1, 0.1f, 0.5f, 0.75f, 1e-8f, 0.1f, 1, &tu);
    UB_CHECK_CLOSE(p, 0.89, 1e-6, 0);
    UB_CHECK(m == 0.25f && v == 0.0625f);
    kn_adamw_update(&p, &g, &m, &v, 1, 0.1f, 0.5f, 0.75f, 1e-8f, 0.1f, 2, &tu);
    UB_CHECK_CLOSE(p, 0.7811, 1e-6, 0);
    UB_CHECK(m == 0.375f && v == 0.109375f);

    /* arrays, 2 steps, against the formula in double; threads 1 vs 2 bitwise */
    size_t n = 100003;
    float *p0 = rnd(n, 1), *g1 = rnd(n, 1), *g2 = rnd(n, 1);
    float *pa = copy(p0, n), *ma = zeros(n), *va = zeros(n);
    float *pb = copy(p0, n), *mb = zeros(n), *vb = zeros(n);
    kn_tune t1 = tune_with(1, KN_GEMM_OMP_PANELS), t2 = tune_with(2, KN_GEMM_OMP_PANELS);
    kn_adamw_update(pa, g1, ma, va, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 1, &t1);
    kn_adamw_update(pa, g2, ma, va, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 2, &t1);
    kn_adamw_update(pb, g1, mb, vb, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 1, &t2);
    kn_adamw_update(pb, g2, mb, vb, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 2, &t2);
    UB_CHECK(same_bits(pa, pb, n) && same_bits(ma, mb, n) && same_bits(va, vb, n));
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double pp = p0[i], mm = 0, vv = 0, lr = 1e-3f, b1 = 0.9f, b2 = 0.95f, eps = 1e-8f, wd = 0.1f;
        for (int t = 1; t <= 2; t++) {
            double gg = t == 1 ? g1[i] : g2[i];
            pp *= 1 - lr * wd;
            mm = b1 * mm + (1 - b1) * gg;
            vv = b2 * vv + (1 - b2) * gg * gg;
            pp -= lr / (1 - pow(b1, t)) * mm / (sqrt(vv) / sqrt(1 - pow(b2, t)) + eps);
        }
        worst = fmax(worst, fabs(pa[i] - pp));
    }
    UB_CHECK_MSG(worst < 1e-6, "adamw vs double: %.3g", worst);

    /* sumsq: thread-count independent bits, close to the double sum */
    double ss1 = kn_sumsq(g1, n, &t1), ss2 = kn_sumsq(g1, n, &t2), ssr = 0.0;
    for (size_t i = 0; i < n; i++) ssr += (double)g1[i] * g1[i];
    UB_CHECK(memcmp(&ss1, &ss2, sizeof ss1) == 0);
    UB_CHECK_CLOSE(ss1, ssr, 0, 1e-12);
    UB_CHECK(kn_sumsq(g1, 0, &t2) == 0.0);
    UB_CHECK(kn_sumsq(g1, 3, &t2) == (double)g1[0] * g1[0] + (double)g1[1] * g1[1] + (double)g1[2] * g1[2]);

    float s[2] = {3.0f, 4.0f};
    kn_scale(s, 2.0f, 2, &t2);
    UB_CHECK(s[0] == 6.0f && s[1] == 8.0f);
    /* clip_grad_norm: norm 5 > 1 -> scaled by 1/(5+1e-6); max_norm 10 -> untouched */
    float cg[2] = {3.0f, 4.0f};
    double norm = kn_clip_grad_norm(cg, 2, 1.0, &t2);
    UB_CHECK_CLOSE(norm, 5.0, 1e-12, 0);
    UB_CHECK_CLOSE(cg[0], 3.0 / (5.0 + 1e-6), 1e-7, 0);
    UB_CHECK_CLOSE(cg[1], 4.0 / (5.0 + 1e-6), 1e-7, 0);
    float cu[2] = {3.0f, 4.0f};
    UB_CHECK_CLOSE(kn_clip_grad_norm(cu, 2, 10.0, &t2), 5.0, 1e-12, 0);
    UB_CHECK(cu[0] == 3.0f && cu[1] == 4.0f);
    float cn[2] = {NAN, 4.0f};
    UB_CHECK(isnan(kn_clip_grad_norm(cn, 2, 1.0, &t2)) && cn[1] == 4.0f);
    free(p0), free(g1), free(g2), free(pa), free(ma), free(va), free(pb), free(mb), free(vb);
}

/* ---------------------------------------------------------------- threads 1 vs 2, bitwise */
/* Our own kernels at a shape above every parallel threshold: the same bits at 1 and 2 threads.
 * Attention is included: its sgemm calls are per head, the same whatever the team size. */
static void test_thread_determinism(void) {
    enum { DB = 4, DT = 175, DC = 96, DNH = 3, DV = 37, DMAXT = 200 };
    int dn = DB * DT;
    size_t nc = (size_t)dn * DC, n3 = 3 * nc, na = (size_t)DB * DNH * DT * DT, nv = (size_t)dn * DV;
    int *inp = malloc(sizeof(int) * dn), *tg = malloc(sizeof(int) * dn);
    for (int i = 0; i < dn; i++) inp[i] = (i * 13) % DV, tg[i] = i % 17 == 0 ? -1 : (i * 5) % DV;
    float *wte = rnd((size_t)DV * DC, 1), *wpe = rnd((size_t)DMAXT * DC, 1), *x = rnd(nc, 1);
    float *dout = rnd(nc, 1), *w = rnd(DC, 1), *bb = rnd(DC, 1), *qkv = rnd(n3, 1);
    float *logits = rnd(nv, 2), *dlosses = rnd(dn, 1);
    float *res[2][16];
    for (int th = 1; th <= 2; th++) {
        kn_tune tu = tune_with(th, KN_GEMM_OMP_PANELS);
        tu.attn_ts = 32;
        float **r = res[th - 1];
        r[0] = zeros(nc);
        kn_encoder_forward(r[0], inp, wte, wpe, DB, DT, DC);
        r[1] = zeros((size_t)DV * DC), r[2] = zeros((size_t)DMAXT * DC);
        kn_encoder_backward(r[1], r[2], dout, inp, DB, DT, DC);
        r[3] = zeros(nc), r[4] = zeros(dn), r[5] = zeros(dn);
        kn_layernorm_forward(r[3], r[4], r[5], x, w, bb, dn, DC);
        r[6] = zeros(nc), r[7] = zeros(DC), r[8] = zeros(DC);
        kn_layernorm_backward(r[6], r[7], r[8], dout, x, w, r[4], r[5], dn, DC);
        r[9] = zeros(nc), r[10] = zeros(na);
        kn_attention_forward(r[9], r[10], qkv, DB, DT, DC, DNH, &tu);
        r[11] = zeros(n3);
        float *scr = zeros(na);
        kn_attention_backward(r[11], scr, dout, qkv, r[10], DB, DT, DC, DNH, &tu);
        free(scr);
        r[12] = zeros(nc);
        kn_gelu_forward(r[12], x, nc, &tu);
        kn_gelu_backward(r[12], x, dout, nc, KN_ACCUMULATE, &tu);
        r[13] = zeros(dn), r[14] = zeros(nv);
        kn_crossentropy_forward(r[13], r[14], logits, tg, dn, DV, &tu);
        r[15] = zeros(nv);
        kn_crossentropy_backward(r[15], r[14], tg, dlosses, dn, DV, &tu);
    }
    size_t sizes[16] = {nc, (size_t)DV * DC, (size_t)DMAXT * DC, nc, dn, dn, nc, DC, DC, nc, na, n3, nc, dn, nv, nv};
    const char *names[16] = {"encoder fwd", "encoder dwte", "encoder dwpe", "layernorm fwd",
                             "layernorm mean", "layernorm rstd", "layernorm dinp", "layernorm dw",
                             "layernorm db", "attention fwd", "attention att", "attention dqkv",
                             "gelu fwd+bwd", "crossentropy loss", "crossentropy probs",
                             "crossentropy dlogits"};
    for (int i = 0; i < 16; i++) {
        UB_CHECK_MSG(same_bits(res[0][i], res[1][i], sizes[i]), "%s: 1 vs 2 threads differ", names[i]);
        free(res[0][i]), free(res[1][i]);
    }
    free(inp), free(tg), free(wte), free(wpe), free(x), free(dout), free(w), free(bb), free(qkv);
    free(logits), free(dlosses);
}

#define RUN(f)                                                                            \
    do {                                                                                  \
        double t0_ = omp_get_wtime();                                                     \
        f();                                                                              \
        printf("%-26s %.2f s\n", #f, omp_get_wtime() - t0_);                              \
    } while (0)

/* KN_OVERWRITE: the result equals accumulating into zeros, bit for bit, and the old contents
 * (here NaN) are never read. Both GEMM modes, 2 threads. */
static void test_overwrite(void) {
    const int N = 37, C = 12, OC = 20;
    float *inp = rnd((size_t)N * C, 1), *w = rnd((size_t)C * OC, 1), *dout = rnd((size_t)N * OC, 1);
    float *wnt = rnd((size_t)OC * C, 1);
    for (int mode = 0; mode < 2; mode++) {
        kn_tune tu = tune_with(2, mode ? KN_GEMM_BLAS_THREADS : KN_GEMM_OMP_PANELS);
        float *acc = zeros((size_t)N * C), *ovw = malloc(sizeof(float) * N * C);
        float *dw1 = zeros((size_t)C * OC), *dw2 = zeros((size_t)C * OC);
        for (int i = 0; i < N * C; i++) ovw[i] = NAN;
        kn_matmul_backward(acc, dw1, NULL, dout, inp, w, N, C, OC, KN_ACCUMULATE, &tu);
        kn_matmul_backward(ovw, dw2, NULL, dout, inp, w, N, C, OC, KN_OVERWRITE, &tu);
        UB_CHECK_MSG(same_bits(acc, ovw, (size_t)N * C), "matmul overwrite, gemm mode %d", mode);
        UB_CHECK_MSG(same_bits(dw1, dw2, (size_t)C * OC), "matmul dw, gemm mode %d", mode);
        memset(acc, 0, sizeof(float) * N * C);
        for (int i = 0; i < N * C; i++) ovw[i] = NAN;
        kn_matmul_nt_backward(acc, dw1, dout, inp, wnt, N, C, OC, KN_ACCUMULATE, &tu);
        kn_matmul_nt_backward(ovw, dw2, dout, inp, wnt, N, C, OC, KN_OVERWRITE, &tu);
        UB_CHECK_MSG(same_bits(acc, ovw, (size_t)N * C), "matmul_nt overwrite, gemm mode %d",
                     mode);
        memset(acc, 0, sizeof(float) * N * C);
        for (int i = 0; i < N * C; i++) ovw[i] = NAN;
        kn_gelu_backward(acc, inp, dout, (size_t)N * C, KN_ACCUMULATE, &tu);
        kn_gelu_backward(ovw, inp, dout, (size_t)N * C, KN_OVERWRITE, &tu);
        UB_CHECK_MSG(same_bits(acc, ovw, (size_t)N * C), "gelu overwrite, gemm mode %d", mode);
        free(acc), free(ovw), free(dw1), free(dw2);
    }
    tune_with(1, KN_GEMM_OMP_PANELS);
    free(inp), free(w), free(dout), free(wnt);
}

int main(void) {
    RUN(test_math);
    RUN(test_tune);
    tune_with(1, KN_GEMM_OMP_PANELS); /* encoder and layernorm take the team from here */
    RUN(test_encoder);
    RUN(test_layernorm);
    RUN(test_matmul_fd);
    RUN(test_matmul_modes);
    RUN(test_concurrent_sgemm);
    RUN(test_elementwise);
    RUN(test_attention);
    RUN(test_attention_shapes);
    RUN(test_attention_kv);
    RUN(test_crossentropy);
    RUN(test_crossentropy_soft);
    RUN(test_optim);
    RUN(test_thread_determinism);
    RUN(test_overwrite);
    UB_TEST_END();
}
