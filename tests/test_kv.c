/* tests/test_kv.c: the KV-cache paths of models/ against the whole-sequence passes they replace:
 *  - gpt_forward_kv after gpt_kv_fill equals gpt_forward over prefix ++ new tokens.
 * Equal up to float rounding, not bit for bit: OpenBLAS's sgemm gives a row different last bits
 * depending on the row count and offset of the call (its edge micro-kernels), so the old paths
 * too differed by batch composition; the attention kernel itself matches bit for bit
 * (test_kernels).
 *  - gpt_score_continuations (context cached once) equals gpt_score_continuations_full, for one
 *    model and an ensemble, candidates of equal and of mixed lengths, and a context long enough
 *    that the plain path takes over;
 *  - gpt_score_continuations_many (many contexts, those of one length in shared passes) equals
 *    one gpt_score_continuations_full per context, for one model and an ensemble, with
 *    contexts of equal and of different lengths, an item without candidates and one that
 *    outgrows n_ctx; and gives the same bits on one thread as on two;
 *  - gpt_beam (cached, beams reordered) returns the same tokens and log probability as
 *    gpt_beam_full for widths 1, 3 and V, also when the sequence outgrows n_ctx mid-way. */
#include <math.h>
#include <string.h>

#include "gpt.h"
#include "ubtest.h"

enum { V = 40 };

static void build(gpt_model *m, uint64_t seed, int threads) {
    gpt_config c;
    int b;
    ub_err e = {0};
    UB_CHECK(gpt_preset("micro", &c, &b, &e) == UB_OK); /* n_ctx 32, 2 heads of 16 */
    c.vocab_size = V;
    c.n_layer = 2;
    kn_tune tu;
    kn_tune_default(&tu);
    tu.threads = threads;
    UB_CHECK(gpt_build(m, &c, &tu, &e) == UB_OK);
    gpt_init_gpt2(m, seed);
    /* sharper than at init: scale the embeddings so the distributions are not near-uniform */
    for (size_t i = 0; i < (size_t)V * c.n_embd; i++) m->params.wte[i] *= 20.0f;
}

static void rand_ids(int32_t *x, int n, uint64_t seed) {
    ub_rng r;
    ub_rng_init(&r, seed, 1);
    for (int i = 0; i < n; i++) x[i] = (int32_t)ub_rng_below(&r, V);
}

static void test_forward_kv(void) {
    gpt_model m = {0};
    build(&m, 3, 2);
    ub_err e = {0};
    enum { P = 13, TN = 6, B = 3 };
    int32_t ids[B * (P + TN)];
    rand_ids(ids, B * (P + TN), 5);
    int full[B * (P + TN)], tg[B * (P + TN)], pre[B * P], in[B * TN], tgn[B * TN];
    for (int i = 0; i < B * (P + TN); i++) full[i] = ids[i], tg[i] = (ids[i] + 1) % V;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < P + TN; t++) {
            if (t < P) pre[b * P + t] = full[b * (P + TN) + t];
            else in[b * TN + t - P] = full[b * (P + TN) + t], tgn[b * TN + t - P] = tg[b * (P + TN) + t];
        }
    gpt_kv kv;
    UB_CHECK(gpt_kv_build(&kv, &m.cfg, B, &e) == UB_OK);
    UB_CHECK(gpt_forward(&m, pre, NULL, B, P, &e) == UB_OK);
    UB_CHECK(gpt_kv_fill(&kv, &m, &e) == UB_OK);
    UB_CHECK_MSG(gpt_forward_kv(&m, &kv, in, tgn, B, TN, 1, &e) == UB_OK, "%s", e.msg);
    UB_CHECK(kv.len == P + TN);
    UB_CHECK(gpt_forward(&m, full, tg, B, P + TN, &e) == UB_OK);
    double worst = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < TN; t++) {
            const float *a = kv.probs + ((size_t)b * TN + t) * V;
            const float *w = m.acts.probs + ((size_t)b * (P + TN) + P + t) * V;
            for (int v = 0; v < V; v++) worst = fmax(worst, fabs(a[v] - w[v]) / (w[v] + 1e-6));
            float la = kv.losses[b * TN + t], lw = m.acts.losses[b * (P + TN) + P + t];
            worst = fmax(worst, fabs(la - lw) / (fabs(lw) + 1e-6));
        }
    printf("  forward after the cache vs whole pass: max rel diff %.2e\n", worst);
    UB_CHECK_MSG(worst < 1e-5, "forward after the cache differs from the whole pass: %.3g",
                 worst);
    /* the appended keys are those of the whole pass: one more token after them */
    int one[B], t1[B] = {0};
    for (int b = 0; b < B; b++) one[b] = (b * 7) % V;
    UB_CHECK(gpt_forward_kv(&m, &kv, one, t1, B, 1, 0, &e) == UB_OK);
    UB_CHECK(kv.len == P + TN);
    gpt_kv_free(&kv);
    gpt_free(&m);
}

/* Candidates after a context, cached vs whole passes: within 1e-5 relative. */
static void check_cont(gpt_model **ms, int nm, int n_ctx, int mixed, uint64_t seed) {
    enum { NC = 45, MAXV = 7 };
    int32_t ctx[64], vals[NC * MAXV];
    size_t off[NC + 1];
    rand_ids(ctx, n_ctx, seed);
    rand_ids(vals, NC * MAXV, seed + 1);
    off[0] = 0;
    for (int i = 0; i < NC; i++) off[i + 1] = off[i] + (mixed ? 1 + (i * 5) % MAXV : 5);
    gpt_seqs q = {vals, off, NC};
    double a[NC], b[NC];
    ub_err e = {0};
    UB_CHECK_MSG(gpt_score_continuations(ms, nm, ctx, n_ctx, &q, a, &e) == UB_OK, "%s", e.msg);
    UB_CHECK(gpt_score_continuations_full(ms, nm, ctx, n_ctx, &q, b, &e) == UB_OK);
    double worst = 0;
    int same = 1;
    for (int i = 0; i < NC; i++) {
        worst = fmax(worst, fabs(a[i] - b[i]) / fmax(1e-12, fabs(b[i])));
        same &= a[i] == b[i];
    }
    printf("  continuations nm=%d context %2d %s lengths: max rel diff %.2e%s\n", nm, n_ctx,
           mixed ? "mixed" : "equal", worst, same ? " (same bits)" : "");
    UB_CHECK_MSG(worst < 1e-5, "continuations: %.3g", worst);
}

static void test_continuations(void) {
    gpt_model m1 = {0}, m2 = {0};
    build(&m1, 3, 2);
    build(&m2, 4, 2);
    gpt_model *one[1] = {&m1}, *two[2] = {&m1, &m2};
    int ctxs[] = {1, 2, 9, 26, 30}; /* 30 + 7 > n_ctx 32: the plain path */
    for (int i = 0; i < 5; i++)
        for (int mixed = 0; mixed < 2; mixed++) {
            check_cont(one, 1, ctxs[i], mixed, 10 + i);
            check_cont(two, 2, ctxs[i], mixed, 20 + i);
        }
    gpt_free(&m1);
    gpt_free(&m2);
}

/* Many contexts at once against one whole-pass call per context: within 1e-5 relative. 9 items:
 * lengths with repeats (shared passes, chunks cut at MANY_ROWS = 64 rows by item 4's 70
 * candidates), item 5 without candidates, item 7 too long for the cache (26 + 7 > 32). */
static void check_many(gpt_model **ms, int nm, gpt_model **ms1) {
    enum { NI = 9, MAXV = 7 };
    static const int nctx[NI] = {5, 9, 5, 1, 9, 12, 5, 26, 2};
    static const int ncand[NI] = {7, 3, 11, 4, 70, 0, 1, 5, 9};
    int32_t cbuf[NI][32], vals[200 * MAXV];
    const int32_t *ctx[NI];
    size_t first[NI + 1], off[201];
    first[0] = 0;
    for (int i = 0; i < NI; i++) {
        rand_ids(cbuf[i], nctx[i], 40 + (uint64_t)i);
        ctx[i] = cbuf[i];
        first[i + 1] = first[i] + (size_t)ncand[i];
    }
    size_t nv = first[NI];
    off[0] = 0;
    for (size_t k = 0; k < nv; k++) off[k + 1] = off[k] + 1 + (k * 3) % MAXV;
    rand_ids(vals, (int)off[nv], 77);
    gpt_seqs q = {vals, off, nv};
    double a[200], b[200], c[200];
    ub_err e = {0};
    UB_CHECK_MSG(gpt_score_continuations_many(ms, nm, ctx, nctx, NI, first, &q, a, &e) == UB_OK,
                 "%s", e.msg);
    double worst = 0;
    for (int i = 0; i < NI; i++) {
        gpt_seqs qi = {vals, off + first[i], (size_t)ncand[i]};
        if (ncand[i] == 0) continue;
        UB_CHECK(gpt_score_continuations_full(ms, nm, ctx[i], nctx[i], &qi, b + first[i], &e) ==
                 UB_OK);
    }
    for (size_t k = 0; k < nv; k++) worst = fmax(worst, fabs(a[k] - b[k]) / fmax(1e-12, fabs(b[k])));
    printf("  many contexts nm=%d: max rel diff %.2e against one whole pass per context\n", nm,
           worst);
    UB_CHECK_MSG(worst < 1e-5, "many contexts: %.3g", worst);
    UB_CHECK(gpt_score_continuations_many(ms1, nm, ctx, nctx, NI, first, &q, c, &e) == UB_OK);
    UB_CHECK_MSG(!memcmp(a, c, nv * sizeof(double)), "many contexts: other bits on one thread");
    first[NI] = nv + 1; /* the items name more candidates than there are */
    UB_CHECK(gpt_score_continuations_many(ms, nm, ctx, nctx, NI, first, &q, a, &e) == UB_EARG);
}

static void test_many(void) {
    gpt_model m1 = {0}, m2 = {0}, s1 = {0}, s2 = {0};
    build(&m1, 3, 2);
    build(&m2, 4, 2);
    build(&s1, 3, 1);
    build(&s2, 4, 1);
    gpt_model *one[1] = {&m1}, *two[2] = {&m1, &m2}, *one1[1] = {&s1}, *two1[2] = {&s1, &s2};
    check_many(one, 1, one1);
    check_many(two, 2, two1);
    gpt_free(&m1), gpt_free(&m2), gpt_free(&s1), gpt_free(&s2);
}

static void test_beam(void) {
    gpt_model m1 = {0}, m2 = {0};
    build(&m1, 7, 2);
    build(&m2, 8, 1);
    gpt_model *one[1] = {&m1}, *two[2] = {&m1, &m2};
    int32_t ctx[40], a[40], b[40];
    rand_ids(ctx, 40, 9);
    ub_err e = {0};
    int widths[] = {1, 3, V}, ctxs[] = {1, 5, 20, 32}, news[] = {6, 6, 18, 4};
    int same = 1, n = 0;
    for (int w = 0; w < 3; w++)
        for (int c = 0; c < 4; c++)
            for (int nm = 1; nm <= 2; nm++) {
                gpt_model **ms = nm == 1 ? one : two;
                double la = 0, lb = 0;
                UB_CHECK_MSG(gpt_beam(ms, nm, ctx, ctxs[c], news[c], widths[w], a, &la, &e) ==
                                 UB_OK, "%s", e.msg);
                UB_CHECK(gpt_beam_full(ms, nm, ctx, ctxs[c], news[c], widths[w], b, &lb, &e) ==
                         UB_OK);
                int ok = !memcmp(a, b, sizeof(int32_t) * news[c]) &&
                         fabs(la - lb) <= 1e-5 * fabs(lb) + 1e-6;
                if (!ok)
                    printf("  beam width %d context %d nm %d: logp %.9g vs %.9g\n", widths[w],
                           ctxs[c], nm, la, lb);
                same &= ok, n++;
            }
    printf("  beam search, %d cases: %s\n", n, same ? "same tokens, log p within 1e-5" : "DIFFER");
    UB_CHECK(same);
    gpt_free(&m1);
    gpt_free(&m2);
}

int main(void) {
    kn_tune tu;
    kn_tune_default(&tu);
    tu.threads = 2;
    kn_tune_apply(&tu);
    test_forward_kv();
    test_continuations();
    test_many();
    test_beam();
    UB_TEST_END();
}
