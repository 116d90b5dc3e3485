/* tests/test_methods.c: the unlearning methods (ub_methods) on a very small model trained briefly
 * on synthetic posts, where the forget set's users write in their own pattern. Every registered
 * method: runs end to end with small budgets, is deterministic (identical parameter bytes), fills
 * its cost, names the key of a bad hyperparameter, and fails with UB_ENUMERIC on NaN. Then
 * method-specific sanity: ascent raises F's loss, fine-tuning lowers the retained loss, a task
 * vector with alpha=0 is the original exactly, a Newton step is finite and capped, and NPO's
 * weights match a hand computation and finite differences of its loss. Also the batch sampler
 * (padding, coverage) and the hyperparameter parser. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "ubtest.h"
#include "ul_private.h"

/* L n_layer, C n_embd, NH n_head, maxT n_ctx, V vocab: the byte-level vocabulary, of which the
 * posts use ids 0..37, the neutral answers 40..44, and BOS 256, EOS 257. */
static const gpt_config cfg = {2, 32, 2, 16, 258};
#define BOS            256
#define EOS            257
#define N_USERS        10
#define POSTS_PER_USER 6
#define N_FORGET_USERS 2

/* A posts set built in place: ids (cap), off (n+1), user (n). */
typedef struct posts_buf {
    int32_t ids[4096];
    size_t off[N_USERS * POSTS_PER_USER + 1];
    int64_t user[N_USERS * POSTS_PER_USER];
    ul_posts p;
} posts_buf;

static void posts_add(posts_buf *b, const int32_t *post, size_t len, int64_t user) {
    size_t at = b->p.n ? b->off[b->p.n] : 0;
    memcpy(b->ids + at, post, len * sizeof(int32_t));
    b->user[b->p.n] = user;
    b->p.n++;
    b->off[b->p.n] = at + len;
}

static void posts_init(posts_buf *b) {
    memset(b, 0, sizeof *b);
    b->p = (ul_posts){b->ids, b->off, 0, b->user};
}

/* Retained users count up mod 20 from a random start; F's users repeat their own phrase over
 * ids 20..37. all = every post in user order (the training stream); idk = a neutral answer
 * (ids 40..44) in place of each post of F. */
static void make_posts(posts_buf *all, posts_buf *forget, posts_buf *retain, posts_buf *idk) {
    posts_init(all);
    posts_init(forget);
    posts_init(retain);
    posts_init(idk);
    ub_rng r;
    ub_rng_init(&r, 99, 0);
    for (int u = 0; u < N_USERS; u++) {
        int32_t phrase[5];
        for (int k = 0; k < 5; k++)
            phrase[k] = 20 + (int32_t)ub_rng_below(&r, 18);
        for (int j = 0; j < POSTS_PER_USER; j++) {
            int32_t post[20];
            size_t len = 0;
            int n_text = 6 + (int)ub_rng_below(&r, 7);
            int a = (int)ub_rng_below(&r, 20);
            post[len++] = BOS;
            for (int t = 0; t < n_text; t++)
                post[len++] = u < N_FORGET_USERS ? phrase[t % 5] : (a + t) % 20;
            post[len++] = EOS;
            posts_add(all, post, len, u);
            posts_add(u < N_FORGET_USERS ? forget : retain, post, len, u);
            if (u < N_FORGET_USERS) {
                const int32_t neutral[7] = {BOS, 40, 41, 42, 43, 44, EOS};
                posts_add(idk, neutral, 7, u);
            }
        }
    }
}

/* Mean per-token loss of m over the stride-T windows of a posts stream. */
static double posts_loss(gpt_model *m, const ul_posts *p, int T) {
    ub_err e = {0};
    size_t n = ul_posts_tokens(p);
    long N = (long)((n - 1) / (size_t)T);
    int32_t *w = malloc((size_t)N * (T + 1) * sizeof(int32_t));
    float *loss = malloc((size_t)N * T * sizeof(float));
    for (long i = 0; i < N; i++)
        memcpy(w + i * (T + 1), p->ids + i * T, (size_t)(T + 1) * sizeof(int32_t));
    double sum = 0;
    if (gpt_score(m, w, N, T, 8, loss, &e) != UB_OK) {
        fprintf(stderr, "score: %s\n", e.msg);
        sum = NAN;
    }
    for (long i = 0; i < N * T; i++)
        sum += loss[i];
    free(w);
    free(loss);
    return sum / (double)(N * T);
}

typedef struct fixture {
    kn_tune tune;
    gpt_model orig;
    gpt_train_cfg train;
    posts_buf all, forget, retain, idk;
} fixture;

static int fixture_build(fixture *f) {
    ub_err e = {0};
    kn_tune_default(&f->tune);
    kn_tune_apply(&f->tune);
    make_posts(&f->all, &f->forget, &f->retain, &f->idk);
    if (gpt_build(&f->orig, &cfg, &f->tune, &e)) return -1;
    gpt_init_gpt2(&f->orig, 5);
    gpt_train_defaults(&f->train);
    f->train.steps = 150;
    f->train.batch = 8;
    f->train.ctx = 16;
    f->train.lr = 1e-2;
    f->train.min_lr = 1e-3;
    f->train.warmup = 5;
    corpus_tokens tok = {f->all.ids, ul_posts_tokens(&f->all.p), cfg.vocab_size, ""};
    gpt_train_state s;
    ub_status st = gpt_train_state_init(&s, &f->train, &tok, &e);
    if (!st) st = gpt_train(&f->orig, &tok, &f->train, &s, NULL, NULL, NULL, &e);
    gpt_train_state_free(&s);
    if (st) fprintf(stderr, "training the fixture: %s\n", e.msg);
    return st ? -1 : 0;
}

static ul_ctx fixture_ctx(const fixture *f, const char *params) {
    return (ul_ctx){&f->orig, &f->forget.p, &f->retain.p, &f->train, 11, params, &f->idk.p};
}

/* m = a fresh copy of the original. */
static int copy_original(gpt_model *m, const fixture *f) {
    ub_err e = {0};
    if (gpt_build(m, &f->orig.cfg, &f->tune, &e)) return -1;
    memcpy(m->params_mem, f->orig.params_mem, m->n_params * sizeof(float));
    return 0;
}

/* Run meth on a fresh copy with params; m keeps the result (free it). */
static ub_status run_method(const fixture *f, const ul_method *meth, const char *params,
                            gpt_model *m, ul_cost *cost, ub_err *e) {
    ub_err_clear(e);
    if (copy_original(m, f)) return UB_ENOMEM;
    ul_ctx c = fixture_ctx(f, params);
    return meth->apply(m, &c, cost, e);
}

/* Small budgets per method, so the whole file runs in seconds under ASan. */
static const char *small_params(const char *name) {
    if (strcmp(name, "newton") == 0) return "steps=2,batch=4,hvp_batches=1,grad_batches=1";
    return "steps=3,batch=4,lr=1e-3";
}

static void test_registry(void) {
    UB_CHECK(ul_n_methods == 13);
    for (int i = 0; i < ul_n_methods; i++) {
        const ul_method *m = ul_methods[i];
        UB_CHECK(m->name && m->summary && m->params && m->apply);
        UB_CHECK(ul_find(m->name) == m);
        for (int j = 0; j < i; j++)
            UB_CHECK(strcmp(ul_methods[j]->name, m->name) != 0);
        /* The documented defaults parse and name every common key. */
        ul_params p;
        ub_err e = {0};
        UB_CHECK_MSG(ul_params_parse(&p, m, NULL, &e) == UB_OK, "%s: %s", m->name, e.msg);
        UB_CHECK(ul_param_raw(&p, "steps") && ul_param_raw(&p, "batch"));
        UB_CHECK(ul_param_raw(&p, "ctx") && ul_param_raw(&p, "clip") && ul_param_raw(&p, "wd"));
    }
    UB_CHECK(ul_find("no_such_method") == NULL);
}

static void test_params(void) {
    const ul_method *ga = ul_find("gradient_ascent");
    ul_params p;
    ub_err e = {0};
    UB_CHECK(ul_params_parse(&p, ga, " steps = 7 ,lr=2e-3,,", &e) == UB_OK);
    long steps = 0;
    double lr = 0;
    UB_CHECK(ul_param_long(&p, "steps", 1, 100, UL_OWN_LONG, &steps, &e) == UB_OK && steps == 7);
    UB_CHECK(ul_param_f64(&p, "lr", 0, 1, UL_OWN, &lr, &e) == UB_OK && lr == 2e-3);
    /* "train" takes the inherited value where there is one. */
    double clip = 0;
    UB_CHECK(ul_param_f64(&p, "clip", 0, 10, 0.75, &clip, &e) == UB_OK && clip == 0.75);
    struct {
        const char *params, *key;
        ub_status st;
    } bad[] = {
        {"bogus=1", "bogus", UB_EARG},         {"steps", "steps", UB_EARG}, {"lr=", "lr", UB_EARG},
        {"steps=2,steps=3", "steps", UB_EARG}, {"=4", "=4", UB_EARG},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ub_err_clear(&e);
        UB_CHECK(ul_params_parse(&p, ga, bad[i].params, &e) == bad[i].st);
        UB_CHECK_MSG(strstr(e.msg, bad[i].key) && strstr(e.msg, "gradient_ascent"), "%s -> %s",
                     bad[i].params, e.msg);
    }
    /* Malformed and out-of-range values fail when read, naming the key. */
    UB_CHECK(ul_params_parse(&p, ga, "steps=abc,lr=-1,batch=train", &e) == UB_OK);
    ub_err_clear(&e);
    UB_CHECK(ul_param_long(&p, "steps", 1, 100, UL_OWN_LONG, &steps, &e) == UB_EARG);
    UB_CHECK(strstr(e.msg, "steps") && strstr(e.msg, "abc"));
    ub_err_clear(&e);
    UB_CHECK(ul_param_f64(&p, "lr", 0, 1, UL_OWN, &lr, &e) == UB_EARG && strstr(e.msg, "lr"));
    ub_err_clear(&e);
    UB_CHECK(ul_params_parse(&p, ga, "steps=train", &e) == UB_OK);
    UB_CHECK(ul_param_long(&p, "steps", 1, 100, UL_OWN_LONG, &steps, &e) == UB_EARG);
}

/* The sweep's grids: every method has one, every setting parses and differs from the others,
 * and the settings spec merges key by key (a preset's with the user's on top). */
static void test_grids(void) {
    static char pts[UL_GRID_MAX][UL_GRID_LEN];
    ub_err e = {0};
    for (int i = 0; i < ul_n_methods; i++) {
        const ul_method *m = ul_methods[i];
        int n = ul_grid_points(m->grid, pts, UL_GRID_MAX, &e);
        UB_CHECK_MSG(n >= 4 && n <= 24, "%s: %d settings (%s)", m->name, n, e.msg);
        for (int p = 0; p < n; p++) {
            ul_params q;
            UB_CHECK_MSG(ul_params_parse(&q, m, pts[p], &e) == UB_OK, "%s: %s: %s", m->name,
                         pts[p], e.msg);
            for (int r = 0; r < p; r++) UB_CHECK(strcmp(pts[p], pts[r]) != 0);
        }
    }
    int n = ul_grid_points("lr=1|2;steps=3|4|5", pts, UL_GRID_MAX, &e);
    UB_CHECK(n == 6 && !strcmp(pts[0], "lr=1,steps=3") && !strcmp(pts[1], "lr=1,steps=4") &&
             !strcmp(pts[5], "lr=2,steps=5"));
    const char *bad[] = {"lr", "lr=", "lr=1|", "=1", "lr=1||2", "a=1;b", "a=1|2|3|4|5|6|7|8;b=1|2|3|4|5|6|7|8|9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ub_err_clear(&e);
        UB_CHECK_MSG(ul_grid_points(bad[i], pts, UL_GRID_MAX, &e) == -1 && e.msg[0], "%s", bad[i]);
    }
    char out[512];
    ul_method_params("npo:lr=1,steps=2;kl:x=1;npo: steps=5 ,beta=3", "npo", out, sizeof out);
    UB_CHECK_MSG(!strcmp(out, "lr=1, steps=5 ,beta=3"), "[%s]", out);
    ul_method_params("kl:x=1", "npo", out, sizeof out);
    UB_CHECK(out[0] == '\0');
    ul_effective_params(ul_find("npo"), "npo:lr=3e-5;npo:retain_weight=5", out, sizeof out);
    UB_CHECK_MSG(!strcmp(out, "steps=40,batch=train,beta=0.1,lr=3e-5,retain_weight=5"), "[%s]",
                 out);
}

static void test_sampler(void) {
    ub_err e = {0};
    /* A stream of 6 tokens and T = 16: one window, padded with target -1. */
    posts_buf b;
    posts_init(&b);
    int32_t post[6] = {BOS, 3, 4, 5, 6, EOS};
    posts_add(&b, post, 6, 0);
    ul_sampler s;
    UB_CHECK(ul_sampler_init(&s, &b.p, 16, 1, 0, "test", "short", &e) == UB_OK);
    int in[2 * 16], tg[2 * 16];
    size_t starts[2];
    ul_sampler_next(&s, 2, in, tg, starts);
    UB_CHECK(s.n_win == 1 && starts[0] == 0 && starts[1] == 0);
    for (int t = 0; t < 16; t++) {
        UB_CHECK(in[t] == (t < 5 ? post[t] : 0));
        UB_CHECK(tg[t] == (t < 5 ? post[t + 1] : -1));
    }
    ul_sampler_free(&s);
    /* A longer stream: every token is a target of some window; the last window ends at the end. */
    posts_buf all, f, r, idk;
    make_posts(&all, &f, &r, &idk);
    size_t n = ul_posts_tokens(&r.p);
    int T = 16;
    UB_CHECK(ul_sampler_init(&s, &r.p, T, 3, 0, "test", "retained", &e) == UB_OK);
    char *hit = calloc(n, 1);
    int *bin = malloc((size_t)s.n_win * T * sizeof(int)),
        *btg = malloc((size_t)s.n_win * T * sizeof(int));
    size_t *bst = malloc((size_t)s.n_win * sizeof(size_t));
    ul_sampler_next(&s, (int)s.n_win, bin, btg, bst);
    for (long w = 0; w < s.n_win; w++) {
        UB_CHECK(bst[w] + T <= n - 1);
        for (int t = 0; t < T; t++) {
            UB_CHECK(bin[w * T + t] == r.ids[bst[w] + t] &&
                     btg[w * T + t] == r.ids[bst[w] + t + 1]);
            hit[bst[w] + t + 1] = 1;
        }
    }
    size_t missed = 0;
    for (size_t j = 1; j < n; j++)
        missed += !hit[j];
    UB_CHECK(missed == 0);
    free(hit);
    free(bin);
    free(btg);
    free(bst);
    ul_sampler_free(&s);
}

static double sigmoid(double x) {
    return 1.0 / (1.0 + exp(-x));
}

static void test_npo_weights(void) {
    /* One window, hand computed: lp = -(0.5 + 1.0 + 2.0) = -3.5 (the -1 target is skipped),
     * lpref = -(0.4 + 0.9 + 1.5) = -2.8, d = -0.7, beta = 0.5. */
    const float losses[4] = {0.5f, 1.0f, 9.0f, 2.0f}, ref[4] = {0.4f, 0.9f, 9.0f, 1.5f};
    const int targets[4] = {1, 2, -1, 3};
    float w[4];
    double loss;
    ul_npo_weights(losses, ref, targets, 1, 4, 0.5, w, &loss);
    double d = (double)-(0.5f + 1.0f + 2.0f) - (double)-(0.4f + 0.9f + 1.5f);
    double expect_w = -2.0 * sigmoid(0.5 * d);
    double expect_loss = -(2.0 / 0.5) * log(sigmoid(-0.5 * d));
    UB_CHECK_CLOSE(d, -0.7, 1e-6, 0);
    UB_CHECK_CLOSE(w[0], expect_w, 1e-6, 0);
    UB_CHECK_CLOSE(w[1], expect_w, 1e-6, 0);
    UB_CHECK(w[2] == 0.0f);
    UB_CHECK_CLOSE(w[3], expect_w, 1e-6, 0);
    UB_CHECK_CLOSE(loss, expect_loss, 1e-6, 1e-6);
    UB_CHECK(w[0] < 0); /* descending L raises the window's loss: log p goes down */
    /* Two windows: each weight is dL/dloss by central differences. */
    float l2[6] = {0.3f, 1.2f, 0.7f, 2.0f, 0.1f, 0.6f},
          r2[6] = {0.2f, 0.2f, 0.9f, 1.0f, 1.0f, 1.0f};
    int t2[6] = {1, 1, 1, 1, 1, 1};
    float w2[6], dummy[6];
    ul_npo_weights(l2, r2, t2, 2, 3, 2.0, w2, &loss);
    for (int i = 0; i < 6; i++) {
        double h = 1e-3, lp, lm;
        float save = l2[i];
        l2[i] = save + (float)h;
        ul_npo_weights(l2, r2, t2, 2, 3, 2.0, dummy, &lp);
        l2[i] = save - (float)h;
        ul_npo_weights(l2, r2, t2, 2, 3, 2.0, dummy, &lm);
        l2[i] = save;
        UB_CHECK_CLOSE(w2[i], (lp - lm) / (2 * h), 1e-4, 1e-3);
    }
}

static void test_simnpo_weights(void) {
    /* One window, hand computed: lp = -3.5 over n = 3 scored tokens, beta = 2.5, gamma = 0.5:
     * z = 2.5 * -3.5 / 3 + 0.5. */
    const float losses[4] = {0.5f, 1.0f, 9.0f, 2.0f};
    const int targets[4] = {1, 2, -1, 3};
    float w[4];
    double loss;
    ul_simnpo_weights(losses, targets, 1, 4, 2.5, 0.5, w, &loss);
    double z = 2.5 * -3.5 / 3.0 + 0.5;
    UB_CHECK_CLOSE(w[0], -2.0 * sigmoid(z) / 3.0, 1e-6, 0);
    UB_CHECK(w[2] == 0.0f && w[0] == w[1] && w[1] == w[3] && w[0] < 0);
    UB_CHECK_CLOSE(loss, -(2.0 / 2.5) * log(sigmoid(-z)), 1e-6, 1e-6);
    /* Two windows of different lengths: each weight is dL/dloss by central differences (the
     * length normalisation included) */
    float l2[6] = {0.3f, 1.2f, 0.7f, 2.0f, 0.1f, 0.6f};
    int t2[6] = {1, 1, -1, 1, 1, 1};
    float w2[6], dummy[6];
    ul_simnpo_weights(l2, t2, 2, 3, 2.5, 0.0, w2, &loss);
    for (int i = 0; i < 6; i++) {
        double h = 1e-3, lp, lm;
        float save = l2[i];
        l2[i] = save + (float)h;
        ul_simnpo_weights(l2, t2, 2, 3, 2.5, 0.0, dummy, &lp);
        l2[i] = save - (float)h;
        ul_simnpo_weights(l2, t2, 2, 3, 2.5, 0.0, dummy, &lm);
        l2[i] = save;
        UB_CHECK_CLOSE(w2[i], (lp - lm) / (2 * h), 1e-4, 1e-3);
    }
}

static void test_undial_targets(void) {
    /* softmax(z - beta onehot(y)) from p = softmax(z), against the logits directly */
    const double z[2][4] = {{1.0, 2.0, 0.5, -1.0}, {0.3, 0.3, 0.3, 0.3}};
    const int y[2] = {1, -1};
    float p[8], q[8];
    for (int i = 0; i < 2; i++) {
        double s = 0;
        for (int v = 0; v < 4; v++) s += exp(z[i][v]);
        for (int v = 0; v < 4; v++) p[i * 4 + v] = (float)(exp(z[i][v]) / s);
    }
    ul_undial_targets(p, y, 2, 4, 3.0, q);
    double s = 0, want[4];
    for (int v = 0; v < 4; v++) s += exp(z[0][v] - (v == 1 ? 3.0 : 0.0));
    for (int v = 0; v < 4; v++) want[v] = exp(z[0][v] - (v == 1 ? 3.0 : 0.0)) / s;
    double sum = 0;
    for (int v = 0; v < 4; v++) {
        UB_CHECK_CLOSE(q[v], want[v], 1e-6, 1e-5);
        sum += q[v];
    }
    UB_CHECK_CLOSE(sum, 1.0, 1e-6, 0);
    for (int v = 0; v < 4; v++) UB_CHECK(q[4 + v] == p[4 + v]); /* an ignored row: unchanged */
    ul_undial_targets(p, y, 1, 4, 0.0, q);                     /* beta 0: the original itself */
    for (int v = 0; v < 4; v++) UB_CHECK_CLOSE(q[v], p[v], 1e-7, 1e-6);
}

static void test_whp_targets(void) {
    /* token 1 gained under the reinforced model: pushed down by alpha x its gain; token 2 lost
     * likelihood: unchanged (ReLU); the row renormalised */
    const float p0[4] = {0.4f, 0.3f, 0.2f, 0.1f}, pr[4] = {0.2f, 0.6f, 0.1f, 0.1f};
    const int y[1] = {1};
    float q[4];
    ul_whp_targets(p0, pr, y, 1, 4, 2.0, q);
    double g[4], s = 0;
    for (int v = 0; v < 4; v++) {
        double l0 = log((double)p0[v]), lr = log((double)pr[v]);
        g[v] = exp(l0 - 2.0 * fmax(lr - l0, 0.0));
        s += g[v];
    }
    for (int v = 0; v < 4; v++) UB_CHECK_CLOSE(q[v], g[v] / s, 1e-6, 1e-5);
    UB_CHECK(q[1] < p0[1] && q[0] > p0[0]);
    ul_whp_targets(p0, pr, y, 1, 4, 0.0, q); /* alpha 0: the original's distribution */
    for (int v = 0; v < 4; v++) UB_CHECK_CLOSE(q[v], p0[v], 1e-6, 1e-5);
}

static void test_dpo(void) {
    /* rows of posts: cut at T, padded with target -1 */
    const int32_t ids[9] = {256, 1, 2, 3, 257, 256, 5, 6, 257};
    const size_t off[3] = {0, 5, 9};
    ul_posts p = {ids, off, 2, NULL};
    size_t which[2] = {1, 0};
    int in[6], tg[6];
    ul_post_rows(&p, which, 2, 3, in, tg);
    const int want_in[6] = {256, 5, 6, 256, 1, 2}, want_tg[6] = {5, 6, 257, 1, 2, 3};
    for (int i = 0; i < 6; i++) UB_CHECK(in[i] == want_in[i] && tg[i] == want_tg[i]);
    size_t w1[1] = {1};
    int in4[4], tg4[4];
    ul_post_rows(&p, w1, 1, 4, in4, tg4);
    UB_CHECK(tg4[2] == 257 && tg4[3] == -1 && in4[3] == 0);
    /* DPO weights: dL/dloss by central differences, on both rows of two pairs */
    float lw[6] = {0.3f, 1.2f, 0.7f, 2.0f, 0.1f, 0.6f}, rw[6] = {0.2f, 0.2f, 0.9f, 1.0f, 1.0f, 1.0f};
    float ll[6] = {0.5f, 0.4f, 0.9f, 0.2f, 1.1f, 0.3f}, rl[6] = {0.6f, 0.1f, 0.2f, 0.3f, 0.9f, 0.8f};
    int tw[6] = {1, 1, -1, 1, 1, 1}, tl[6] = {1, 1, 1, 1, -1, 1};
    float ww[6], wl[6], d1[6], d2[6];
    double loss, lp, lm;
    ul_dpo_weights(lw, rw, ll, rl, tw, tl, 2, 3, 0.5, ww, wl, &loss);
    UB_CHECK(ww[2] == 0.0f && wl[4] == 0.0f && ww[0] > 0 && wl[0] < 0);
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < 6; i++) {
            float *x = side ? ll : lw, save = x[i], h = 1e-3f;
            x[i] = save + h;
            ul_dpo_weights(lw, rw, ll, rl, tw, tl, 2, 3, 0.5, d1, d2, &lp);
            x[i] = save - h;
            ul_dpo_weights(lw, rw, ll, rl, tw, tl, 2, 3, 0.5, d1, d2, &lm);
            x[i] = save;
            UB_CHECK_CLOSE((side ? wl : ww)[i], (lp - lm) / (2.0 * h), 1e-4, 1e-3);
        }
}

/* Every method: end to end, deterministic, cost filled, parse errors and NaN named. */
/* RMU's loss and gradient: the mean over valid rows and channels of (h - target)^2, its gradient
 * by central differences, padded rows left out of both. */
static void test_rmu_mse(void) {
    enum { BT = 3, C = 4 };
    float h[BT * C], t[BT * C], u[C], dh[BT * C], dh2[BT * C];
    int tg[BT] = {5, -1, 7};
    for (int i = 0; i < BT * C; i++) h[i] = 0.1f * (float)(i % 5) - 0.2f, t[i] = 0.05f * (float)i;
    for (int j = 0; j < C; j++) u[j] = 0.3f * (float)j;
    double want = 0;
    for (int i = 0; i < BT; i++)
        for (int j = 0; tg[i] >= 0 && j < C; j++) want += pow((double)h[i * C + j] - u[j], 2);
    want /= 2.0 * C;
    UB_CHECK_CLOSE(ul_rmu_mse(h, u, 0, tg, BT, C, 1.0, dh), want, 1e-12, 1e-12);
    double l0 = ul_rmu_mse(h, t, C, tg, BT, C, 3.0, dh);
    for (int j = 0; j < C; j++) UB_CHECK(dh[C + j] == 0.0f); /* the padded row */
    for (int i = 0; i < BT * C; i++) {
        if (tg[i / C] < 0) continue;
        float keep = h[i];
        h[i] = keep + 1e-3f;
        double lp = ul_rmu_mse(h, t, C, tg, BT, C, 3.0, dh2);
        h[i] = keep - 1e-3f;
        double lm = ul_rmu_mse(h, t, C, tg, BT, C, 3.0, dh2);
        h[i] = keep;
        UB_CHECK_CLOSE(dh[i], 3.0 * (lp - lm) / 2e-3, 1e-3, 1e-5);
    }
    UB_CHECK(l0 > 0);
}

static void test_all_methods(const fixture *f) {
    for (int i = 0; i < ul_n_methods; i++) {
        const ul_method *meth = ul_methods[i];
        const char *params = small_params(meth->name);
        gpt_model a, b;
        ul_cost ca, cb;
        ub_err e = {0};
        ub_status st = run_method(f, meth, params, &a, &ca, &e);
        UB_CHECK_MSG(st == UB_OK, "%s: %s", meth->name, e.msg);
        st = run_method(f, meth, params, &b, &cb, &e);
        UB_CHECK_MSG(st == UB_OK, "%s: %s", meth->name, e.msg);
        UB_CHECK_MSG(memcmp(a.params_mem, b.params_mem, a.n_params * sizeof(float)) == 0,
                     "%s is not deterministic", meth->name);
        UB_CHECK_MSG(memcmp(a.params_mem, f->orig.params_mem, a.n_params * sizeof(float)) != 0,
                     "%s changed nothing", meth->name);
        UB_CHECK_MSG(ca.steps > 0 && ca.tokens > 0 && ca.flops > 0, "%s: cost %ld %g %g",
                     meth->name, ca.steps, ca.tokens, ca.flops);
        UB_CHECK(ca.steps == cb.steps && ca.tokens == cb.tokens && ca.flops == cb.flops &&
                 ca.extra_bytes == cb.extra_bytes);
        /* FLOPs: between a third (forward only) and all of the training FLOPs of the tokens. */
        double full = gpt_train_flops(&cfg, a.n_params, 16, ca.tokens);
        UB_CHECK(ca.flops <= full * (1 + 1e-12) && ca.flops >= full / 3 * (1 - 1e-12));
        size_t n_bad = 0;
        for (size_t j = 0; j < a.n_params; j++)
            n_bad += !isfinite(a.params_mem[j]);
        UB_CHECK(n_bad == 0);
        gpt_free(&a);
        gpt_free(&b);

        /* A bad key and a malformed value name the method and the key. */
        char bad[128];
        snprintf(bad, sizeof bad, "%s,no_such_key=1", params);
        st = run_method(f, meth, bad, &a, &ca, &e);
        UB_CHECK(st == UB_EARG && strstr(e.msg, "no_such_key") && strstr(e.msg, meth->name));
        gpt_free(&a);
        st = run_method(f, meth, "batch=four", &a, &ca, &e);
        UB_CHECK_MSG(st == UB_EARG && strstr(e.msg, "batch") && strstr(e.msg, meth->name), "%s",
                     e.msg);
        gpt_free(&a);
    }
}

/* A NaN in the original: every method stops with UB_ENUMERIC naming itself and a step. */
static void test_nan(fixture *f) {
    int k = gpt_find_tensor(&f->orig, "ln_f.bias");
    float *p = f->orig.params_mem + f->orig.tensors[k].offset;
    float save = p[0];
    p[0] = NAN;
    for (int i = 0; i < ul_n_methods; i++) {
        gpt_model m;
        ul_cost c;
        ub_err e = {0};
        ub_status st = run_method(f, ul_methods[i], small_params(ul_methods[i]->name), &m, &c, &e);
        UB_CHECK_MSG(st == UB_ENUMERIC && strstr(e.msg, ul_methods[i]->name) &&
                         strstr(e.msg, "step"),
                     "%s: %d %s", ul_methods[i]->name, (int)st, e.msg);
        gpt_free(&m);
    }
    p[0] = save;
}

static void test_specific(const fixture *f) {
    int T = 16;
    ub_err e = {0};
    ul_cost c;
    gpt_model m;
    double f0 = posts_loss((gpt_model *)&f->orig, &f->forget.p, T);
    double r0 = posts_loss((gpt_model *)&f->orig, &f->retain.p, T);
    printf("original: forget loss %.4f, retained loss %.4f\n", f0, r0);
    /* The fixture learned both patterns (uniform would be log 258 = 5.55). */
    UB_CHECK(f0 < 2.5 && r0 < 2.5);

    UB_CHECK(run_method(f, ul_find("gradient_ascent"), "steps=10,batch=4,lr=1e-3", &m, &c, &e) ==
             UB_OK);
    double f1 = posts_loss(&m, &f->forget.p, T);
    printf("gradient_ascent: forget loss %.4f -> %.4f\n", f0, f1);
    UB_CHECK(f1 > f0 + 0.05);
    gpt_free(&m);

    UB_CHECK(run_method(f, ul_find("finetune"), "steps=20,batch=8,lr=1e-3", &m, &c, &e) == UB_OK);
    double r1 = posts_loss(&m, &f->retain.p, T);
    printf("finetune: retained loss %.4f -> %.4f\n", r0, r1);
    UB_CHECK(r1 < r0);
    gpt_free(&m);

    UB_CHECK(run_method(f, ul_find("task_vector"), "steps=3,batch=4,lr=1e-3,alpha=0", &m, &c, &e) ==
             UB_OK);
    UB_CHECK(memcmp(m.params_mem, f->orig.params_mem, m.n_params * sizeof(float)) == 0);
    UB_CHECK(c.steps == 3);
    gpt_free(&m);
    /* alpha=1 moves away from the fine-tune: F's loss goes up. */
    UB_CHECK(run_method(f, ul_find("task_vector"), "steps=5,batch=4,lr=1e-3,alpha=1", &m, &c, &e) ==
             UB_OK);
    double f2 = posts_loss(&m, &f->forget.p, T);
    printf("task_vector: forget loss %.4f -> %.4f\n", f0, f2);
    UB_CHECK(f2 > f0);
    gpt_free(&m);

    /* relabel's random mode runs too (idk is the default, run above). */
    gpt_model m2;
    ul_cost c2;
    const char *rnd = "steps=3,batch=4,lr=1e-3,mode=random";
    UB_CHECK(run_method(f, ul_find("relabel"), rnd, &m, &c, &e) == UB_OK);
    UB_CHECK(run_method(f, ul_find("relabel"), rnd, &m2, &c2, &e) == UB_OK);
    UB_CHECK(memcmp(m.params_mem, m2.params_mem, m.n_params * sizeof(float)) == 0);
    UB_CHECK(memcmp(m.params_mem, f->orig.params_mem, m.n_params * sizeof(float)) != 0);
    gpt_free(&m);
    gpt_free(&m2);
    UB_CHECK(run_method(f, ul_find("relabel"), "mode=maybe", &m, &c, &e) == UB_EARG &&
             strstr(e.msg, "mode"));
    gpt_free(&m);
    /* idk mode and IdkDPO: the neutral answer gets likelier; without answers, a clear error */
    {
        gpt_model o;
        UB_CHECK(copy_original(&o, f) == 0);
        double before = posts_loss(&o, &f->idk.p, 4);
        gpt_free(&o);
        for (int k = 0; k < 2; k++) {
            const char *name = k ? "idkdpo" : "relabel";
            UB_CHECK(run_method(f, ul_find(name), "steps=10,batch=4,lr=1e-2", &m, &c, &e) == UB_OK);
            double after = posts_loss(&m, &f->idk.p, 4);
            printf("%s: neutral answers' loss %.4f -> %.4f\n", name, before, after);
            UB_CHECK(after < before);
            gpt_free(&m);
            ul_ctx x = fixture_ctx(f, "steps=2,batch=4");
            x.idk = NULL;
            UB_CHECK(copy_original(&m, f) == 0);
            UB_CHECK(ul_find(name)->apply(&m, &x, &c, &e) == UB_EARG && strstr(e.msg, "neutral"));
            gpt_free(&m);
        }
    }

    /* RMU with layer 0: only block 0's MLP output projection changes (weight decay 0), the
     * rest of the model stays bit for bit (the reference code updates only those) */
    UB_CHECK(run_method(f, ul_find("rmu"), "steps=3,batch=4,lr=1e-3,layer=0", &m, &c, &e) == UB_OK);
    {
        int C = cfg.n_embd;
        size_t nw = (size_t)4 * C * C;
        size_t w0 = (size_t)(m.params.fcprojw - m.params_mem), b0 = (size_t)(m.params.fcprojb - m.params_mem);
        size_t changed_in = 0, changed_out = 0;
        for (size_t i = 0; i < m.n_params; i++) {
            int in = (i >= w0 && i < w0 + nw) || (i >= b0 && i < b0 + (size_t)C);
            int ch = m.params_mem[i] != f->orig.params_mem[i];
            changed_in += in && ch, changed_out += !in && ch;
        }
        UB_CHECK_MSG(changed_in > 0 && changed_out == 0, "rmu changed %zu inside, %zu outside",
                     changed_in, changed_out);
    }
    gpt_free(&m);

    /* Newton: a finite change, at most cap * ||theta|| (here the cap binds). */
    double cap = 1e-3;
    UB_CHECK(run_method(f, ul_find("newton"),
                        "steps=2,batch=4,hvp_batches=1,grad_batches=1,damping=0.01,cap=0.001", &m,
                        &c, &e) == UB_OK);
    double dn = 0, tn = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        double d = (double)m.params_mem[i] - f->orig.params_mem[i];
        dn += d * d;
        tn += (double)f->orig.params_mem[i] * f->orig.params_mem[i];
    }
    dn = sqrt(dn);
    tn = sqrt(tn);
    printf("newton: ||delta|| %.6g, cap * ||theta|| %.6g, %ld Hessian-vector products\n", dn,
           cap * tn, c.steps);
    UB_CHECK(isfinite(dn) && dn > 0 && dn <= cap * tn * (1 + 1e-4));
    UB_CHECK(c.steps >= 1 && c.steps <= 2);
    gpt_free(&m);
}

int main(void) {
    ub_h5_quiet();
    test_registry();
    test_params();
    test_grids();
    test_sampler();
    test_npo_weights();
    test_simnpo_weights();
    test_undial_targets();
    test_whp_targets();
    test_rmu_mse();
    test_dpo();
    fixture *f = calloc(1, sizeof *f);
    if (!f || fixture_build(f)) {
        fprintf(stderr, "could not build the fixture\n");
        return 1;
    }
    test_all_methods(f);
    test_nan(f);
    test_specific(f);
    gpt_free(&f->orig);
    free(f);
    UB_TEST_END();
}
