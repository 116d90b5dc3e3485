/* bench/engine/chain.c: chained deletion requests (MUSE's sustainability, truly chained). F's
 * users arrive as k requests; every method starts each request from its own previous output,
 * SISA deletes each request from checkpoints its earlier deletions refreshed, and after every
 * request the deployed state is measured on all users forgotten so far: the LOSS attack's AUC
 * on their posts against the matched non-members' (the run's non-member set), perplexity on
 * the retained posts relative to original, and the cumulative cost. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_private.h"
#include "metrics.h"

void run_chain_free(run_chain *c) {
    free(c->order), free(c->request), free(c->n_posts), free(c->auc), free(c->ppl);
    free(c->flops);
    memset(c, 0, sizeof *c);
}

/* The arrival order of F's users: by objection date where the corpus has one (the regulators'
 * case: an objection after the training cut-off), then the rest in an order seeded by the
 * split; k consecutive requests of sizes differing by at most one. */
static int cmp_arrival(const void *a, const void *b) {
    const int64_t *x = a, *y = b; /* (time, rank, user) */
    for (int i = 0; i < 3; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

static ub_status arrival(run_chain *c, const run_corpus *rc, const run_scenario *sc, int k,
                         uint64_t split_seed, ub_err *e) {
    size_t n = sc->n_forget;
    int64_t *key = ub_malloc((3 * n + 1) * sizeof(int64_t), "deletion requests", e);
    int64_t *perm = ub_malloc((n + 1) * sizeof(int64_t), "deletion requests", e);
    if (!key || !perm) {
        free(key), free(perm);
        return UB_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) perm[i] = (int64_t)i;
    ub_rng r;
    ub_rng_init(&r, split_seed, 0xC4A1);
    ub_rng_shuffle(&r, perm, (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        int64_t u = sc->forget_users[perm[i]], t = rc->c.users[u].objection_time;
        key[3 * i] = t > 0 ? t : INT64_MAX, key[3 * i + 1] = (int64_t)i, key[3 * i + 2] = u;
    }
    qsort(key, n, 3 * sizeof(int64_t), cmp_arrival);
    for (size_t i = 0; i < n; i++) {
        c->order[i] = key[3 * i + 2];
        c->request[i] = (int32_t)((int64_t)i * k / (int64_t)n);
        c->dated += key[3 * i] != INT64_MAX;
    }
    free(key), free(perm);
    return UB_OK;
}

/* A mask of the users of requests q0..q1. */
static void requested(uint8_t *mask, size_t nu, const run_chain *c, size_t n, int q0, int q1) {
    memset(mask, 0, nu);
    for (size_t i = 0; i < n; i++)
        if (c->request[i] >= q0 && c->request[i] <= q1) mask[c->order[i]] = 1;
}

/* A state's scores: F's posts, the non-members', the retained posts'. */
typedef struct chain_scores {
    ub_post_scores f, n, r;
} chain_scores;

static void scores_free(chain_scores *x) {
    ub_post_scores_free(&x->f), ub_post_scores_free(&x->n), ub_post_scores_free(&x->r);
}

static ub_status score_state(chain_scores *x, gpt_model **ms, int nm, const run_scenario *sc,
                             double mink_k, ub_err *e) {
    memset(x, 0, sizeof *x);
    ub_status st = ub_score_posts_ens(ms, nm, NULL, &sc->set[RUN_FORGET].view, mink_k, &x->f, e);
    if (!st) st = ub_score_posts_ens(ms, nm, NULL, &sc->set[RUN_NONMEMBER].view, mink_k, &x->n, e);
    if (!st)
        st = ub_score_posts_ens(ms, nm, NULL, &sc->set[RUN_RETAIN_EVAL].view, mink_k, &x->r, e);
    if (st) scores_free(x);
    return st;
}

/* Row r after request q from a state's scores: AUC of F's posts of the users gone (requests
 * 0..q) against the non-members' posts, perplexity on the retained posts relative to *loss0
 * (original's mean loss per token there, set by the first call: original's). */
static ub_status measure(run_chain *c, int r, int q, const chain_scores *x, const run_scenario *sc,
                         const uint8_t *gone, double *loss0, ub_err *e) {
    const run_set *F = &sc->set[RUN_FORGET], *N = &sc->set[RUN_NONMEMBER];
    const run_set *R = &sc->set[RUN_RETAIN_EVAL];
    double *pos = ub_malloc((F->n + 1) * sizeof(double), "chain scores", e);
    double *neg = ub_malloc((N->n + 1) * sizeof(double), "chain scores", e);
    ub_status st = pos && neg ? UB_OK : UB_ENOMEM;
    size_t np = 0;
    for (size_t i = 0; !st && i < F->n; i++)
        if (gone[F->user[i]] && x->f.ntok[i]) pos[np++] = -x->f.loss[i] / x->f.ntok[i];
    for (size_t i = 0; !st && i < N->n; i++)
        neg[i] = x->n.ntok[i] ? -x->n.loss[i] / x->n.ntok[i] : 0;
    double lr = 0, nt = 0;
    for (size_t i = 0; !st && i < R->n; i++) lr += x->r.loss[i], nt += x->r.ntok[i];
    if (!st) {
        size_t at = (size_t)r * c->k + (size_t)q;
        c->auc[at] = np ? mt_auc(pos, np, neg, N->n) : NAN;
        double l = nt > 0 ? lr / nt : NAN;
        if (isnan(*loss0)) *loss0 = l;
        c->ppl[at] = exp(l - *loss0);
        c->n_posts[q] = (int64_t)np;
    }
    free(pos), free(neg);
    return st;
}

ub_status run_chain_seed(run_state *rs, const run_scenario *sc, const gpt_model *orig,
                         gpt_model *ret, const gpt_config *mc, const gpt_train_cfg *tc,
                         uint64_t seed, uint64_t split_seed, run_chain *c, ub_err *e) {
    const ub_run_cfg *cfg = rs->cfg;
    int k = cfg->chain;
    size_t n = sc->n_forget, nu = rs->rc.c.n_users;
    memset(c, 0, sizeof *c);
    if ((size_t)k > n)
        return ub_fail(e, UB_EARG, "run: chain %d: F has only %zu users, one request needs one", k, n);
    c->k = k, c->n_forget = n, c->rows = 3 + rs->n_methods;
    size_t cells = (size_t)c->rows * k;
    c->order = ub_calloc(n + 1, sizeof(int64_t), "chain", e);
    c->request = ub_calloc(n + 1, sizeof(int32_t), "chain", e);
    c->n_posts = ub_calloc((size_t)k + 1, sizeof(int64_t), "chain", e);
    c->auc = ub_calloc(cells + 1, sizeof(double), "chain", e);
    c->ppl = ub_calloc(cells + 1, sizeof(double), "chain", e);
    c->flops = ub_calloc(cells + 1, sizeof(double), "chain", e);
    uint8_t *gone = ub_calloc(nu + 1, 1, "chain", e), *now = ub_calloc(nu + 1, 1, "chain", e);
    uint8_t *members = ub_calloc(nu + 1, 1, "chain", e);
    ub_status st = c->order && c->request && c->n_posts && c->auc && c->ppl &&
                           c->flops && gone && now && members
                       ? UB_OK
                       : UB_ENOMEM;
    if (!st) st = arrival(c, &rs->rc, sc, k, split_seed, e);
    for (size_t u = 0; !st && u < nu; u++) members[u] = sc->split.role[u] == CORPUS_ROLE_MEMBER;
    double loss0 = NAN, mk = cfg->score.mink_k;
    double step_tokens = (double)tc->batch * tc->ctx;
    double f_train = gpt_train_flops(mc, orig->n_params, tc->ctx, step_tokens * (double)tc->steps);
    /* row 0 original (the deployed model, nothing removed), row 1 retrain (trained without all
     * of F: on the posts of requests 0..q it is what retraining without them gives, having never
     * seen them; its cost: one retraining per request), row 2 SISA, rows 3.. the methods */
    gpt_model *fixed[2] = {(gpt_model *)orig, ret};
    for (int row = 0; !st && row < 2; row++) { /* fixed models: scored once */
        chain_scores x;
        st = score_state(&x, &fixed[row], 1, sc, mk, e);
        if (st) break;
        for (int q = 0; !st && q < k; q++) {
            requested(gone, nu, c, n, 0, q);
            st = measure(c, row, q, &x, sc, gone, &loss0, e);
            c->flops[(size_t)row * k + q] = row ? f_train * (q + 1) : 0;
        }
        scores_free(&x);
    }
    /* SISA: trained again here (the run's own ensemble is deleted F at once) */
    ul_sisa s;
    int have_sisa = 0;
    if (!st) {
        st = ul_sisa_train(&s, &cfg->sisa, &rs->rc, sc, mc, tc, &rs->tune, rs->log, e);
        have_sisa = 1;
    }
    double secs = 0, fl = 0;
    int64_t *users = ub_malloc((n + 1) * sizeof(int64_t), "chain", e);
    if (!st && !users) st = UB_ENOMEM;
    for (int q = 0; !st && q < k; q++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (c->request[i] == q) users[m++] = c->order[i];
        st = ul_sisa_delete_users(&s, users, m, &cfg->sisa, mc, &rs->tune, rs->log, e);
        secs += s.seconds_del, fl += s.flops_del;
        c->flops[2 * (size_t)k + q] = fl;
        requested(gone, nu, c, n, 0, q);
        chain_scores x;
        if (!st && !(st = score_state(&x, s.ens, s.S, sc, mk, e))) {
            st = measure(c, 2, q, &x, sc, gone, &loss0, e);
            scores_free(&x);
        }
    }
    free(users);
    if (!st)
        ub_logf(rs->log, "  chain: sisa after %d requests: AUC on the %zu users forgotten %.3f, "
                "perplexity x%.2f, %.1f s of deletions", k, n, c->auc[3 * (size_t)k - 1],
                c->ppl[3 * (size_t)k - 1], secs);
    if (have_sisa) ul_sisa_free(&s);
    /* every method from its own previous output: each request's users as the forget set, the
     * members not deleted so far as the retain set, the previous output as its reference */
    for (int mi = 0; !st && mi < rs->n_methods; mi++) {
        const ul_method *um = rs->methods[mi];
        gpt_model cur = {0}, prev = {0};
        char mp[1024];
        ul_method_params(cfg->method_params, um->name, mp, sizeof mp);
        st = ul_copy_model(&cur, orig, e);
        secs = 0, fl = 0;
        for (int q = 0; !st && q < k; q++) {
            run_set fs = {0}, ks = {0}, idk = {0};
            requested(gone, nu, c, n, 0, q);
            requested(now, nu, c, n, q, q); /* request q alone */
            st = run_gather_users(&fs, &rs->rc, sc, now, NULL, split_seed, 3900 + (uint64_t)q, e);
            if (!st) st = run_gather_users(&ks, &rs->rc, sc, members, gone, split_seed, 4900 + (uint64_t)q, e);
            if (!st) st = run_idk_set(&idk, &rs->rc, &fs, e);
            gpt_free(&prev);
            if (!st) st = ul_copy_model(&prev, &cur, e);
            ul_ctx uc = {&prev, &fs.view, &ks.view, tc,
                         (seed * 1000 + (uint64_t)mi) ^ ((uint64_t)(q + 1) << 44),
                         mp[0] ? mp : NULL, &idk.view};
            ul_cost cost = {0};
            double t0 = ub_now();
            if (!st) st = um->apply(&cur, &uc, &cost, e);
            secs += ub_now() - t0, fl += cost.flops;
            size_t at = (size_t)(3 + mi) * k + (size_t)q;
            c->flops[at] = fl;
            gpt_model *p = &cur;
            chain_scores x;
            if (!st && !(st = score_state(&x, &p, 1, sc, mk, e))) {
                st = measure(c, 3 + mi, q, &x, sc, gone, &loss0, e);
                scores_free(&x);
            }
            run_set_free(&fs), run_set_free(&ks), run_set_free(&idk);
        }
        if (!st)
            ub_logf(rs->log, "  chain: %s after %d requests: AUC on the %zu users forgotten %.3f "
                    "(original %.3f, retrain %.3f), perplexity x%.2f, %.1f s of unlearning",
                    um->name, k, n, c->auc[(size_t)(3 + mi) * k + k - 1], c->auc[k - 1],
                    c->auc[2 * (size_t)k - 1], c->ppl[(size_t)(3 + mi) * k + k - 1], secs);
        gpt_free(&cur), gpt_free(&prev);
    }
    free(gone), free(now), free(members);
    if (st) run_chain_free(c);
    return st;
}
