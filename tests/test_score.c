/* tests/test_score.c: scoring and decoding (models/gpt_score.c, models/gpt_decode.c) and the
 * benchmark's per-post scores on them (bench/eval/score.c, bench/eval/probes.c) against
 * definitions computed another way:
 *  - per-token scores from batched sliding windows equal one forward pass per token on the
 *    window that scores it (log p, argmax hit, mean and std of log p, KL to a reference);
 *  - exact memorisation and extraction strength from one teacher-forced pass equal what greedy
 *    decoding (gpt_greedy) actually reproduces from every prefix of the post;
 *  - a model trained until it memorised a few posts reproduces them greedily (EM = ES = 1) and
 *    ranks a memorised continuation first among altered ones (knowledge probe ranks, ties half);
 *  - beam search of width 1 is greedy decoding, and a beam as wide as the vocabulary finds the
 *    most likely two-token continuation that exhaustive scoring finds;
 *  - an ensemble of identical models decodes and scores like one model;
 *  - with two threads (whole batches per thread on the models' replicas, gpt_team) per-token
 *    scores, candidate losses and next-token rows carry the same bits as on one thread, for one
 *    model and for an ensemble. */
#include <math.h>
#include <string.h>

#include "eval.h"
#include "ubtest.h"

enum { V = 24, NP = 4, LEN = 20 };

/* NP posts of LEN ids: BOS (0), LEN-2 tokens from [2, V), EOS (1). */
static void make_posts(int32_t *ids, size_t *off, uint64_t seed) {
    ub_rng r;
    ub_rng_init(&r, seed, 7);
    for (int p = 0; p < NP; p++) {
        off[p] = (size_t)p * LEN;
        ids[p * LEN] = 0;
        for (int t = 1; t < LEN - 1; t++) ids[p * LEN + t] = 2 + (int32_t)ub_rng_below(&r, V - 2);
        ids[p * LEN + 1] = 2 + p; /* distinct first tokens: after them each post is determined */
        ids[p * LEN + LEN - 1] = 1;
    }
    off[NP] = (size_t)NP * LEN;
}

static void build(gpt_model *m, uint64_t seed) {
    gpt_config c;
    int b;
    ub_err e = {0};
    UB_CHECK(gpt_preset("micro", &c, &b, &e) == UB_OK);
    c.vocab_size = V;
    kn_tune tu;
    kn_tune_default(&tu);
    tu.threads = 1;
    UB_CHECK(gpt_build(m, &c, &tu, &e) == UB_OK);
    gpt_init_gpt2(m, seed);
}

static void train(gpt_model *m, int32_t *ids, size_t n, long steps) {
    corpus_tokens tok = {ids, n, V, ""};
    ub_sha256_hex(ids, n * sizeof(int32_t), tok.sha256);
    gpt_train_cfg tc;
    gpt_train_defaults(&tc);
    tc.seed = 3, tc.steps = steps, tc.batch = 8, tc.ctx = LEN, tc.lr = 2e-2, tc.min_lr = 2e-3;
    tc.warmup = 5, tc.weight_decay = 0;
    gpt_train_state s;
    ub_err e = {0};
    UB_CHECK(gpt_train_state_init(&s, &tc, &tok, &e) == UB_OK);
    UB_CHECK_MSG(gpt_train(m, &tok, &tc, &s, NULL, NULL, NULL, &e) == UB_OK, "%s", e.msg);
    gpt_train_state_free(&s);
}

/* The same model (or ensemble) on two threads with replicas, batches of 2 windows: every
 * batch-parallel path must give the bits of one thread (a batch's bits depend on its rows). */
static void check_team(gpt_model **ms1, int nm, const int32_t *ids) {
    ub_err e = {0};
    gpt_model m2[2];
    gpt_model *ms2[2];
    for (int k = 0; k < nm; k++) {
        kn_tune tu = ms1[k]->tune;
        tu.threads = 2, tu.replicas = 1, tu.pass_rows = 2 * ms1[k]->cfg.n_ctx;
        memset(&m2[k], 0, sizeof m2[k]);
        UB_CHECK(gpt_build(&m2[k], &ms1[k]->cfg, &tu, &e) == UB_OK);
        memcpy(m2[k].params_mem, ms1[k]->params_mem, ms1[k]->n_params * sizeof(float));
        ms2[k] = &m2[k];
        ms1[k]->tune.pass_rows = tu.pass_rows; /* the same batches on one thread */
    }
    /* 3 x NP sequences of LEN (the posts rotated): 6 batches of 2 windows */
    enum { NS = 3 * NP };
    int32_t seq[NS * LEN];
    size_t off[NS + 1];
    for (int i = 0; i < NS; i++) {
        off[i] = (size_t)i * LEN;
        for (int t = 0; t < LEN; t++) seq[i * LEN + t] = ids[(i % NP) * LEN + (t + i) % LEN];
    }
    off[NS] = (size_t)NS * LEN;
    gpt_seqs q = {seq, off, NS};
    gpt_token_scores a, b;
    UB_CHECK_MSG(gpt_score_tokens(ms1, nm, NULL, &q, &a, &e) == UB_OK, "%s", e.msg);
    UB_CHECK_MSG(gpt_score_tokens(ms2, nm, NULL, &q, &b, &e) == UB_OK, "%s", e.msg);
    size_t n = off[NS] + 1;
    UB_CHECK(!memcmp(a.logp, b.logp, n * sizeof(float)) && !memcmp(a.mu, b.mu, n * sizeof(float)) &&
             !memcmp(a.sd, b.sd, n * sizeof(float)) && !memcmp(a.hit, b.hit, n));
    gpt_token_scores_free(&a), gpt_token_scores_free(&b);
    /* candidates: all V^2 two-token values after a context (many batches) */
    static int32_t all[2 * V * V];
    static size_t aoff[V * V + 1];
    static double l1[V * V], l2[V * V];
    for (int i = 0; i < V * V; i++) all[2 * i] = i / V, all[2 * i + 1] = i % V, aoff[i] = 2 * (size_t)i;
    aoff[V * V] = 2 * V * V;
    gpt_seqs vals = {all, aoff, V * V};
    UB_CHECK(gpt_score_continuations(ms1, nm, ids + LEN, 5, &vals, l1, &e) == UB_OK);
    UB_CHECK(gpt_score_continuations(ms2, nm, ids + LEN, 5, &vals, l2, &e) == UB_OK);
    UB_CHECK(!memcmp(l1, l2, sizeof l1));
    /* next-token rows: the same V^2 rows, enough batches for the team */
    static float p1[2 * V * V], p2[2 * V * V], d1[V * V * V], d2[V * V * V];
    UB_CHECK(gpt_next_logprobs(ms1, nm, ids + LEN, 5, &vals, p1, d1, &e) == UB_OK);
    UB_CHECK(gpt_next_logprobs(ms2, nm, ids + LEN, 5, &vals, p2, d2, &e) == UB_OK);
    UB_CHECK(!memcmp(p1, p2, sizeof p1) && !memcmp(d1, d2, sizeof d1));
    for (int k = 0; k < nm; k++) gpt_free(&m2[k]);
}

/* EM and ES of every post by brute force: decode greedily from each prefix. */
static void check_em_es(gpt_model **ms, int nm, const int32_t *ids, const size_t *off) {
    ul_posts p = {ids, off, NP, NULL};
    ub_post_scores sc;
    ub_err e = {0};
    UB_CHECK(ub_score_posts_ens(ms, nm, NULL, &p, 0.2, &sc, &e) == UB_OK);
    int32_t out[LEN];
    for (int i = 0; i < NP; i++) {
        const int32_t *x = ids + off[i];
        int n = LEN - 1; /* scored tokens: every one after BOS */
        UB_CHECK(sc.ntok[i] == n);
        /* EM: one greedy step from every true prefix */
        int hits = 0;
        for (int t = 0; t < n; t++) {
            UB_CHECK(gpt_greedy(ms, nm, x, t + 1, 1, out, &e) == UB_OK);
            hits += out[0] == x[t + 1];
        }
        UB_CHECK_CLOSE(sc.em[i], (double)hits / n, 1e-12, 0);
        /* ES: the shortest prefix from which greedy decoding reproduces the whole rest */
        int kmin = n;
        for (int k = n - 1; k >= 0; k--) {
            UB_CHECK(gpt_greedy(ms, nm, x, k + 1, n - k, out, &e) == UB_OK);
            if (memcmp(out, x + k + 1, (size_t)(n - k) * sizeof(int32_t))) break;
            kmin = k;
        }
        UB_CHECK_CLOSE(sc.es[i], 1.0 - (double)kmin / n, 1e-12, 0);
    }
    ub_post_scores_free(&sc);
}

/* Per-token scores of the posts, of their concatenation (longer than n_ctx: several windows), an
 * empty and a one-token sequence, against one forward pass of ms[0] per token on the window
 * that scores it (ms[1..nm) are copies of ms[0]). ref_self: ref is ms[0], so KL is exactly 0. */
static void check_tokens(gpt_model **ms, int nm, gpt_model *ref, int ref_self,
                         const int32_t *posts) {
    int32_t ids[2 * NP * LEN + 1];
    size_t off[NP + 4];
    for (int i = 0; i <= NP; i++) off[i] = (size_t)i * LEN;
    memcpy(ids, posts, NP * LEN * sizeof(int32_t));
    memcpy(ids + NP * LEN, posts, NP * LEN * sizeof(int32_t));
    ids[2 * NP * LEN] = 0;
    off[NP + 1] = off[NP + 2] = 2 * NP * LEN, off[NP + 3] = 2 * NP * LEN + 1;
    gpt_seqs q = {ids, off, NP + 3};
    gpt_token_scores t;
    ub_err e = {0};
    gpt_ref_dists rd = {0};
    if (ref) UB_CHECK_MSG(gpt_ref_dists_build(&rd, ref, &q, &e) == UB_OK, "%s", e.msg);
    UB_CHECK_MSG(gpt_score_tokens(ms, nm, ref ? &rd : NULL, &q, &t, &e) == UB_OK, "%s", e.msg);
    gpt_ref_dists_free(&rd);
    gpt_model *m = ms[0];
    int T = m->cfg.n_ctx;
    int in[64], tg[64], hit_diff = 0;
    float pm[V], pr[V];
    for (size_t i = 0; i < q.n; i++) {
        const int32_t *x = ids + off[i];
        UB_CHECK(t.logp[off[i]] == 0 && t.hit[off[i]] == 0); /* the first token: no prefix */
        for (int p = 1; p < (int)(off[i + 1] - off[i]); p++) {
            /* windows of T start at multiples of T (as training cuts its stream): token p is
             * scored by the one whose inputs hold token p - 1 */
            int s = (p - 1) / T * T, n = p - s;
            for (int j = 0; j < n; j++) in[j] = x[s + j], tg[j] = x[s + j + 1];
            if (ref) {
                UB_CHECK(gpt_forward(ref, in, tg, 1, n, &e) == UB_OK);
                memcpy(pr, ref->acts.probs + (size_t)(n - 1) * V, sizeof pr);
            }
            UB_CHECK(gpt_forward(m, in, tg, 1, n, &e) == UB_OK);
            memcpy(pm, m->acts.probs + (size_t)(n - 1) * V, sizeof pm);
            double s1 = 0, s2 = 0, kl = 0;
            int best = 0;
            for (int v = 0; v < V; v++) {
                double l = log(fmax(pm[v], 1e-30)); /* p may underflow once memorised */
                s1 += pm[v] * l, s2 += pm[v] * l * l;
                if (pm[v] > pm[best]) best = v;
                if (ref) kl += pr[v] * (log(pr[v]) - l);
            }
            size_t at = off[i] + (size_t)p;
            UB_CHECK_CLOSE(t.logp[at], -m->acts.losses[n - 1], 2e-5, 2e-5);
            UB_CHECK_CLOSE(t.mu[at], s1, 2e-5, 2e-5);
            UB_CHECK_CLOSE(t.sd[at], sqrt(s2 - s1 * s1), 2e-5, 2e-4);
            hit_diff += t.hit[at] != (best == x[p]);
            if (ref)
                UB_CHECK(ref_self ? t.kl[at] == 0.0f : fabs(t.kl[at] - kl) <= 2e-5 + 2e-4 * kl);
        }
    }
    UB_CHECK_MSG(hit_diff == 0, "%d argmax hits differ", hit_diff);
    UB_CHECK(!ref == !t.kl);
    gpt_token_scores_free(&t);
}

int main(void) {
    int32_t ids[NP * LEN];
    size_t off[NP + 1];
    make_posts(ids, off, 11);
    gpt_model m = {0}, m2 = {0};
    build(&m, 5);

    /* the training stream: the posts three times (windows start at multiples of LEN, so each
     * starts at a BOS and every post is seen whole) */
    int32_t stream[3 * NP * LEN];
    for (int r = 0; r < 3; r++) memcpy(stream + r * NP * LEN, ids, sizeof ids);
    double t0 = ub_now();
    /* partly trained: some tokens hit, some miss, so EM and ES are neither 0 nor 1 */
    train(&m, stream, 3 * NP * LEN, 40);
    gpt_model *one[1] = {&m};
    /* per-token scores, against a reference at its init (KL > 0) and against itself (KL = 0) */
    build(&m2, 99);
    check_tokens(one, 1, &m2, 0, ids);
    check_tokens(one, 1, &m, 1, ids);
    check_em_es(one, 1, ids, off);
    /* beam width 1 == greedy; a full-width beam over two tokens == exhaustive search */
    ub_err be = {0};
    for (int k = 1; k < LEN - 3; k += 3) {
        int32_t a[LEN], b[LEN];
        UB_CHECK(gpt_greedy(one, 1, ids + LEN, k, 3, a, &be) == UB_OK);
        UB_CHECK(gpt_beam(one, 1, ids + LEN, k, 3, 1, b, NULL, &be) == UB_OK);
        UB_CHECK(!memcmp(a, b, 3 * sizeof(int32_t)));
        int32_t all[2 * V * V];
        size_t aoff[V * V + 1];
        double loss[V * V], lp = 0;
        for (int i = 0; i < V * V; i++) all[2 * i] = i / V, all[2 * i + 1] = i % V, aoff[i] = 2 * (size_t)i;
        aoff[V * V] = 2 * V * V;
        gpt_seqs vals = {all, aoff, V * V};
        UB_CHECK(gpt_score_continuations(one, 1, ids + LEN, k, &vals, loss, &be) == UB_OK);
        int best = 0;
        for (int i = 1; i < V * V; i++)
            if (loss[i] < loss[best]) best = i;
        UB_CHECK(gpt_beam(one, 1, ids + LEN, k, 2, V, b, &lp, &be) == UB_OK);
        UB_CHECK_MSG(b[0] == best / V && b[1] == best % V, "beam %d %d, exhaustive %d %d", b[0],
                     b[1], best / V, best % V);
        UB_CHECK_CLOSE(lp, -loss[best], 1e-3, 1e-4);
    }
    double t1 = ub_now();
    /* memorised: every post comes back from BOS + its first token (after BOS alone the first
     * token is one of NP: at most one post can hit it) */
    train(&m, stream, 3 * NP * LEN, 300);
    double t2 = ub_now();
    check_em_es(one, 1, ids, off);
    printf("train 40 + checks %.2f s, train 300 %.2f s, check %.2f s\n", t1 - t0, t2 - t1,
           ub_now() - t2);
    ul_posts p = {ids, off, NP, NULL};
    ub_post_scores sc;
    ub_err e = {0};
    UB_CHECK(ub_score_posts(&m, NULL, &p, 0.2, &sc, &e) == UB_OK);
    int n = LEN - 1;
    for (int i = 0; i < NP; i++)
        UB_CHECK_MSG(sc.em[i] >= (n - 1.0) / n && sc.es[i] >= (n - 1.0) / n,
                     "post %d: em %g es %g", i, sc.em[i], sc.es[i]);
    /* a post whose last token is changed: everything but the last token hits */
    int32_t alt[LEN];
    size_t aoff[2] = {0, LEN};
    memcpy(alt, ids, sizeof alt);
    alt[LEN - 1] = alt[LEN - 1] == 5 ? 6 : 5;
    ul_posts pa = {alt, aoff, 1, NULL};
    ub_post_scores sa;
    UB_CHECK(ub_score_posts(&m, NULL, &pa, 0.2, &sa, &e) == UB_OK);
    UB_CHECK_CLOSE(sa.em[0], sc.em[0] - 1.0 / n, 1e-12, 0);
    UB_CHECK(sa.es[0] == 0.0);
    ub_post_scores_free(&sa);

    /* an ensemble of two identical models averages to the same distribution */
    memcpy(m2.params_mem, m.params_mem, m.n_params * sizeof(float));
    gpt_model *two[2] = {&m, &m2};
    check_tokens(two, 2, NULL, 0, ids);
    int32_t g1[LEN], g2[LEN];
    UB_CHECK(gpt_greedy(one, 1, ids, 3, LEN - 3, g1, &e) == UB_OK);
    UB_CHECK(gpt_greedy(two, 2, ids, 3, LEN - 3, g2, &e) == UB_OK);
    UB_CHECK(!memcmp(g1, g2, sizeof(int32_t) * (LEN - 3)));
    UB_CHECK(!memcmp(g1, ids + 3, sizeof(int32_t) * (LEN - 3)));
    UB_CHECK(gpt_beam(two, 2, ids, 3, LEN - 3, 4, g2, NULL, &e) == UB_OK);
    UB_CHECK(!memcmp(g2, ids + 3, sizeof(int32_t) * (LEN - 3))); /* memorised: beam agrees */
    ub_post_scores s2;
    UB_CHECK(ub_score_posts_ens(two, 2, NULL, &p, 0.2, &s2, &e) == UB_OK);
    for (int i = 0; i < NP; i++) UB_CHECK(s2.em[i] == sc.em[i] && s2.es[i] == sc.es[i]);
    ub_post_scores_free(&s2);
    ub_post_scores_free(&sc);
    check_team(one, 1, ids);
    check_team(two, 2, ids);

    /* knowledge probe ranks: context = a memorised post's first 6 ids; candidates: the true
     * continuation (4 ids) and three altered ones, one of them a copy of the truth (a tie) */
    probe_set ps = {0};
    int32_t ctx[6], cid[16];
    memcpy(ctx, ids + LEN, sizeof ctx); /* post 1 */
    size_t coff[5] = {0, 4, 8, 12, 16};
    for (int c = 0; c < 4; c++) memcpy(cid + 4 * c, ids + LEN + 6, 4 * sizeof(int32_t));
    cid[4] = cid[4] == 7 ? 8 : 7;   /* candidate 1: first token altered */
    cid[11] = cid[11] == 9 ? 10 : 9; /* candidate 2: last token altered */
    int32_t *ctxp = ctx, *cidp = cid;
    size_t *coffp = coff;
    int64_t user = 0;
    int kind = CORPUS_PROBE_CITY, truth = 0, nv = 4, nctx = 6, group = RUN_PROBE_F, form = 0;
    ps.n = 1, ps.user = &user, ps.kind = &kind, ps.truth = &truth, ps.n_values = &nv;
    ps.group = &group, ps.form = &form, ps.n_forms = 1;
    ps.ctx = &ctxp, ps.n_ctx = &nctx, ps.ids = &cidp, ps.off = &coffp;
    double logp[4], cal[4], rank = 0, rank_cal = 0;
    UB_CHECK(ev_score_probes(logp, one, 1, &ps, &e) == UB_OK);
    /* all items' values in shared passes after their cached contexts: as after the context */
    gpt_seqs cs = {cid, coff, 4};
    double want[4];
    UB_CHECK(gpt_score_continuations(one, 1, ctx, 6, &cs, want, &e) == UB_OK);
    for (int c = 0; c < 4; c++) UB_CHECK_CLOSE(logp[c], -want[c], 1e-4, 1e-5);
    ev_probe_ranks(&ps, logp, &rank, cal, &rank_cal);
    /* the copy's rows sit elsewhere in the batch: equal up to float rounding, ahead of the rest */
    UB_CHECK_MSG(rank == 1.0 || rank == 1.5 || rank == 2.0, "rank %g", rank);
    logp[3] = logp[0];
    ev_probe_ranks(&ps, logp, &rank, cal, &rank_cal);
    UB_CHECK_MSG(rank == 1.5, "rank %g: the truth and its copy tie for first", rank);
    UB_CHECK(isnan(rank_cal) && isnan(cal[0])); /* no calibration handles: no calibrated rank */
    truth = 1; /* now the altered candidate is called true: the memorised ones beat it */
    ev_probe_ranks(&ps, logp, &rank, cal, &rank_cal);
    UB_CHECK_MSG(rank >= 3.0, "rank %g", rank);

    gpt_free(&m);
    gpt_free(&m2);
    UB_TEST_END();
}
