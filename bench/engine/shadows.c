/* bench/engine/shadows.c: the shadow models of LiRA (Carlini et al. 2022) and U-LiRA (Hayes et
 * al. 2024). The shadows are a property of the corpus and the recipe, not of a seed: their pool
 * is every user the policy admits (members and non-members of any seed's split alike), shadow j
 * trains with the original's recipe and its own fixed training seed on the eligible posts of
 * its share of the pool, and every pool user is in exactly m_in of the K shadows, m_in / K the
 * members' share of the pool (so that a shadow has about as many users as the original and
 * memorises about as much per post). So the K shadows are trained once per run (the model cache
 * by content hash serves every further seed, run and grid task) and each seed only scores them
 * on its targets, F's posts and the matched non-members' posts: per target, the means of its
 * logit-scaled score over the "in" and the "out" shadows, and one pooled sd per side over all
 * targets (the paper's global variance, for a small K), go into the scenario, where the metric
 * table's LiRA rows read them for every model. With --ulira, each method is applied to each
 * shadow with the shadow's users of the seed's F (topped up to |F|) as its forget set. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_private.h"
#include "metrics.h"

#define SHADOW_STREAM 0x5AD0000000ull

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The pool: every user the policy admits (a member or a non-member in the split), sorted. The
 * split's roles differ between seeds but the admitted users do not. */
static ub_status make_pool(run_scenario *sc, size_t n_users, ub_err *e) {
    sc->pool = ub_malloc((n_users + 1) * sizeof(int64_t), "shadow pool", e);
    if (!sc->pool) return UB_ENOMEM;
    size_t n = 0;
    for (size_t u = 0; u < n_users; u++)
        if (sc->split.role[u] != CORPUS_ROLE_EXCLUDED) sc->pool[n++] = (int64_t)u;
    sc->n_pool = n;
    return UB_OK;
}

/* Which shadows train on which pool user: for each user, m_in of the K shadows, a seeded
 * permutation of the user's own stream (so a user's draw does not depend on the pool or the
 * seed). */
static ub_status draw_membership(run_scenario *sc, int K, int m_in, uint64_t pool_seed,
                                 ub_err *e) {
    sc->shadow_in = ub_calloc((size_t)K * sc->n_pool + 1, 1, "shadow membership", e);
    int64_t *perm = ub_malloc((size_t)K * sizeof(int64_t), "shadow membership", e);
    if (!sc->shadow_in || !perm) {
        free(perm);
        return UB_ENOMEM;
    }
    for (size_t p = 0; p < sc->n_pool; p++) {
        ub_rng r;
        ub_rng_init(&r, pool_seed, SHADOW_STREAM + (uint64_t)sc->pool[p]);
        for (int j = 0; j < K; j++) perm[j] = j;
        ub_rng_shuffle(&r, perm, K);
        for (int j = 0; j < m_in; j++) sc->shadow_in[(size_t)perm[j] * sc->n_pool + p] = 1;
    }
    free(perm);
    return UB_OK;
}

/* Shadow j's users, as a mask over the corpus's users. */
static void shadow_users(uint8_t *user_in, const run_scenario *sc, int j) {
    for (size_t p = 0; p < sc->n_pool; p++)
        user_in[sc->pool[p]] = sc->shadow_in[(size_t)j * sc->n_pool + p];
}

/* The eligible (trainable) posts of the users with mask[u] and not excl[u] (excl may be NULL):
 * a shadow's training set (its users), or the forget and retain sets of its U-LiRA unlearning. */
ub_status run_gather_users(run_set *out, const run_corpus *rc, const run_scenario *sc,
                           const uint8_t *mask, const uint8_t *excl, uint64_t seed,
                           uint64_t stream, ub_err *e) {
    const corpus *c = &rc->c;
    uint8_t *take = ub_calloc(c->n_posts + 1, 1, "shadow posts", e);
    if (!take) return UB_ENOMEM;
    for (size_t i = 0; i < c->n_posts; i++) {
        const corpus_post *q = &c->posts[i];
        take[i] = !q->fresh && sc->split.eligible[i] && mask[q->user] && !(excl && excl[q->user]);
    }
    ub_status st = run_set_gather(out, rc, take, 0, seed, stream, e);
    free(take);
    return st;
}

/* U-LiRA's forget set of shadow j, as a mask over users: the shadow's F users (so every user of
 * F is unlearned by every shadow that trained on it), topped up with other users the shadow
 * trained on, in an order seeded by the split, until it has as many users as F: each method
 * then unlearns as many users from a shadow as from the deployed model. */
static void ulira_forget(uint8_t *forget, const run_scenario *sc, int j, uint64_t split_seed,
                         int64_t *perm) {
    size_t nf = 0;
    const uint8_t *in = sc->shadow_in + (size_t)j * sc->n_pool;
    for (size_t p = 0; p < sc->n_pool; p++)
        if (in[p] && sc->in_forget[sc->pool[p]]) forget[sc->pool[p]] = 1, nf++;
    for (size_t p = 0; p < sc->n_pool; p++) perm[p] = (int64_t)p;
    ub_rng r;
    ub_rng_init(&r, split_seed, SHADOW_STREAM - 2 - (uint64_t)j);
    ub_rng_shuffle(&r, perm, (long)sc->n_pool);
    for (size_t i = 0; i < sc->n_pool && nf < sc->n_forget; i++) {
        size_t p = (size_t)perm[i];
        if (in[p] && !forget[sc->pool[p]]) forget[sc->pool[p]] = 1, nf++;
    }
}

/* U-LiRA on shadow m (trained as shadow j): every method applied to a copy of it with the
 * shadow's forget set, each scored on F's posts; per F post whose user shadow j trained on,
 * the unlearned copy's phi goes into the method's res[].ulira, elsewhere the shadow's own
 * (phi_f: shadow j's phi of F's posts). */
static ub_status ulira_shadow(const run_state *rs, run_scenario *sc, model_result *res,
                              const gpt_model *m, const gpt_train_cfg *t2, int j,
                              const uint8_t *user_in, const double *phi_f, uint64_t seed,
                              uint64_t split_seed, double *secs, ub_err *e) {
    const run_set *F = &sc->set[RUN_FORGET];
    size_t K = (size_t)sc->shadows, nu = rs->rc.c.n_users;
    uint8_t *forget = ub_calloc(nu + 1, 1, "U-LiRA forget set", e);
    int64_t *perm = ub_malloc((sc->n_pool + 1) * sizeof(int64_t), "U-LiRA forget set", e);
    run_set fs = {0}, ks = {0}, idk = {0};
    ub_status st = forget && perm ? UB_OK : UB_ENOMEM;
    if (!st) ulira_forget(forget, sc, j, split_seed, perm);
    if (!st) st = run_gather_users(&fs, &rs->rc, sc, forget, NULL, split_seed, 1900 + (uint64_t)j, e);
    if (!st) st = run_gather_users(&ks, &rs->rc, sc, user_in, forget, split_seed, 2900 + (uint64_t)j, e);
    if (!st) st = run_idk_set(&idk, &rs->rc, &fs, e);
    for (size_t i = 0; !st && i < F->n; i++) res[RUN_ORIG].ulira[i * K + (size_t)j] = phi_f[i];
    double t0 = ub_now();
    for (int k = 0; !st && k < rs->n_methods; k++) {
        const ul_method *um = rs->methods[k];
        double *out = res[run_slot_method(rs, k)].ulira;
        gpt_model work = {0};
        char mp[1024];
        ul_method_params(rs->cfg->method_params, um->name, mp, sizeof mp);
        ul_ctx uc = {m, &fs.view, &ks.view, t2,
                     (seed * 1000 + (uint64_t)k) ^ ((uint64_t)(j + 1) << 40), mp[0] ? mp : NULL,
                     &idk.view};
        ul_cost cost = {0};
        ub_post_scores ps = {0};
        st = ul_copy_model(&work, m, e);
        if (!st) st = um->apply(&work, &uc, &cost, e);
        if (!st) st = ub_score_posts(&work, NULL, &F->view, rs->cfg->score.mink_k, &ps, e);
        for (size_t i = 0; !st && i < F->n; i++)
            out[i * K + (size_t)j] = !F->sh_in[i * K + (size_t)j] ? phi_f[i]
                                     : ps.ntok[i] ? mt_lira_phi(ps.loss[i] / ps.ntok[i]) : NAN;
        if (!st) ub_post_scores_free(&ps);
        gpt_free(&work);
    }
    *secs += ub_now() - t0;
    free(forget), free(perm);
    run_set_free(&fs), run_set_free(&ks), run_set_free(&idk);
    return st;
}

/* U-LiRA's arrays: F's posts' shadow membership, and the per-post phi of original and each
 * method. */
static ub_status ulira_alloc(const run_state *rs, run_scenario *sc, model_result *res,
                             const size_t *pos_f, ub_err *e) {
    run_set *F = &sc->set[RUN_FORGET];
    size_t K = (size_t)rs->cfg->score.shadows, n = F->n * K + 1;
    F->sh_in = ub_calloc(n, 1, "U-LiRA membership", e);
    if (!F->sh_in) return UB_ENOMEM;
    for (size_t i = 0; i < F->n; i++)
        for (size_t j = 0; j < K; j++)
            F->sh_in[i * K + j] = sc->shadow_in[j * sc->n_pool + pos_f[i]];
    for (int k = -1; k < rs->n_methods; k++) {
        model_result *r = &res[k < 0 ? RUN_ORIG : run_slot_method(rs, k)];
        r->ulira = ub_calloc(n, sizeof(double), "U-LiRA scores", e);
        if (!r->ulira) return UB_ENOMEM;
    }
    return UB_OK;
}

/* The shadows' membership draw and training seeds: fixed, so that every seed, run and grid
 * task of a corpus and recipe shares the same K models (a run with --split-seed keeps its own
 * draw, its scenario being its own too). */
#define SHADOW_POOL_SEED 0x5AD05EEDull

static uint64_t pool_seed_of(const run_state *rs) {
    return rs->cfg->scenario.split_seed ? rs->cfg->scenario.split_seed : SHADOW_POOL_SEED;
}

ub_status run_shadow_design(const run_state *rs, run_scenario *sc, ub_err *e) {
    int K = rs->cfg->score.shadows;
    ub_status st = make_pool(sc, rs->rc.c.n_users, e);
    /* each user in the members' share of the shadows, at least one and at most K - 1 of them:
     * a shadow then has about as many users as the original */
    int m_in = sc->n_pool ? (int)lround((double)K * (double)sc->split.n_members /
                                        (double)sc->n_pool) : 1;
    m_in = m_in < 1 ? 1 : m_in > K - 1 ? K - 1 : m_in;
    sc->shadow_m_in = m_in;
    if (!st) st = draw_membership(sc, K, m_in, pool_seed_of(rs), e);
    return st;
}

ub_status run_shadow_model(const run_state *rs, const run_scenario *sc, int j,
                           const gpt_config *mc, const gpt_train_cfg *tc, uint8_t *user_in,
                           gpt_model *m, gpt_train_cfg *t2, double *secs, ub_err *e) {
    uint64_t pool_seed = pool_seed_of(rs);
    run_set set = {0};
    char name[64];
    snprintf(name, sizeof name, "shadow%d", j);
    *t2 = *tc;
    t2->seed = pool_seed + 0xA11CE000ull + (uint64_t)j; /* each shadow its own training seed */
    memset(user_in, 0, rs->rc.c.n_users);
    shadow_users(user_in, sc, j);
    ub_status st = run_gather_users(&set, &rs->rc, sc, user_in, NULL, pool_seed, 900 + (uint64_t)j, e);
    if (!st) st = run_train_cached(rs, m, name, &set, mc, t2, secs, e);
    run_set_free(&set);
    return st;
}

ub_status run_shadows(run_state *rs, run_scenario *sc, model_result *res,
                      const gpt_config *mc, const gpt_train_cfg *tc, uint64_t seed,
                      uint64_t split_seed, ub_err *e) {
    int K = rs->cfg->score.shadows;
    sc->shadows = 0;
    if (K <= 0) return UB_OK;
    const int sets[2] = {RUN_FORGET, RUN_NONMEMBER};
    ub_status st = run_shadow_design(rs, sc, e);
    if (st) return st;
    int m_in = sc->shadow_m_in;
    size_t *pos[2] = {0};
    double *phi[2] = {0};
    for (int s = 0; !st && s < 2; s++) {
        const run_set *t = &sc->set[sets[s]];
        pos[s] = ub_malloc((t->n + 1) * sizeof(size_t), "shadow targets", e);
        phi[s] = ub_malloc(((size_t)K * t->n + 1) * sizeof(double), "shadow scores", e);
        if (!pos[s] || !phi[s]) st = UB_ENOMEM;
        for (size_t i = 0; !st && i < t->n; i++) {
            const int64_t *f = bsearch(&t->user[i], sc->pool, sc->n_pool, sizeof(int64_t), cmp_i64);
            if (!f) st = ub_fail(e, UB_EINTERNAL, "shadows: a target's user is not in the pool");
            else pos[s][i] = (size_t)(f - sc->pool);
        }
    }
    int ulira = rs->cfg->score.ulira && rs->n_methods > 0;
    uint8_t *user_in = ub_malloc(rs->rc.c.n_users + 1, "shadow users", e);
    if (!st && !user_in) st = UB_ENOMEM;
    sc->shadows = K; /* the U-LiRA arrays' stride; set back to 0 below if anything fails */
    if (!st && ulira) st = ulira_alloc(rs, sc, res, pos[0], e);
    double t0 = ub_now(), train_s = 0, ulira_s = 0;
    for (int j = 0; !st && j < K; j++) {
        gpt_model m = {0};
        gpt_train_cfg t2;
        double secs = 0;
        st = run_shadow_model(rs, sc, j, mc, tc, user_in, &m, &t2, &secs, e);
        if (isfinite(secs)) train_s += secs;
        double ts = ub_now();
        for (int s = 0; !st && s < 2; s++) {
            const run_set *t = &sc->set[sets[s]];
            ub_post_scores ps;
            st = ub_score_posts(&m, NULL, &t->view, rs->cfg->score.mink_k, &ps, e);
            for (size_t i = 0; !st && i < t->n; i++)
                phi[s][(size_t)j * t->n + i] =
                    ps.ntok[i] ? mt_lira_phi(ps.loss[i] / ps.ntok[i]) : NAN;
            if (!st) ub_post_scores_free(&ps);
        }
        rs->shadow_score_seconds += ub_now() - ts; /* scoring: counted with the run's */
        rs->score_seconds += ub_now() - ts;
        if (!st && ulira) {
            const run_set *F = &sc->set[RUN_FORGET];
            double *pf = ub_malloc((F->n + 1) * sizeof(double), "U-LiRA", e);
            if (!pf) st = UB_ENOMEM;
            for (size_t i = 0; !st && i < F->n; i++) pf[i] = phi[0][(size_t)j * F->n + i];
            if (!st)
                st = ulira_shadow(rs, sc, res, &m, &t2, j, user_in, pf, seed, split_seed,
                                  &ulira_s, e);
            free(pf);
        }
        gpt_free(&m);
    }
    /* each target's samples split by side (xs[1]: its m_in "in" samples, xs[0]: its K - m_in
     * "out" ones): its means from its own, the sds pooled over every target of both sets */
    size_t n = sc->set[RUN_FORGET].n + sc->set[RUN_NONMEMBER].n;
    size_t cnt[2] = {(size_t)(K - m_in), (size_t)m_in};
    double *xs[2] = {ub_malloc((n * cnt[0] + 1) * sizeof(double), "LiRA samples", e),
                     ub_malloc((n * cnt[1] + 1) * sizeof(double), "LiRA samples", e)};
    size_t *start[2] = {ub_malloc((n + 1) * sizeof(size_t), "LiRA samples", e),
                        ub_malloc((n + 1) * sizeof(size_t), "LiRA samples", e)};
    if (!st && (!xs[0] || !xs[1] || !start[0] || !start[1])) st = UB_ENOMEM;
    size_t q = 0;
    for (int s = 0; !st && s < 2; s++) {
        run_set *t = &sc->set[sets[s]];
        t->mu_in = ub_calloc(t->n + 1, sizeof(double), "LiRA means", e);
        t->mu_out = ub_calloc(t->n + 1, sizeof(double), "LiRA means", e);
        if (!t->mu_in || !t->mu_out) st = UB_ENOMEM;
        for (size_t i = 0; !st && i < t->n; i++, q++) {
            size_t c[2] = {0, 0};
            for (int h = 0; h < 2; h++) start[h][q] = q * cnt[h];
            for (int j = 0; j < K; j++) { /* exactly m_in "in" samples per target */
                int h = sc->shadow_in[(size_t)j * sc->n_pool + pos[s][i]];
                xs[h][q * cnt[h] + c[h]++] = phi[s][(size_t)j * t->n + i];
            }
            double sd;
            mt_gauss_fit(xs[1] + q * cnt[1], cnt[1], &t->mu_in[i], &sd);
            mt_gauss_fit(xs[0] + q * cnt[0], cnt[0], &t->mu_out[i], &sd);
        }
    }
    if (!st) {
        for (int h = 0; h < 2; h++) start[h][n] = n * cnt[h];
        sc->lira_sd_in = mt_lira_pooled_sd(xs[1], start[1], n);
        sc->lira_sd_out = mt_lira_pooled_sd(xs[0], start[0], n);
    }
    if (st) sc->shadows = 0;
    free(xs[0]), free(xs[1]), free(start[0]), free(start[1]), free(user_in);
    if (!st)
        ub_logf(rs->log, "  shadows: %d models, each pool user in %d of them (%zu users admitted "
                "by the policy; about %zu users per shadow), %.0f s training (cached ones not "
                "counted), %.0f s in all; pooled sd in %.3f, out %.3f", K, m_in, sc->n_pool,
                (size_t)lround((double)sc->n_pool * m_in / K), train_s, ub_now() - t0,
                sc->lira_sd_in, sc->lira_sd_out);
    if (!st && ulira)
        ub_logf(rs->log, "  U-LiRA: %d methods on each of the %d shadows (forget set: the "
                "shadow's F users topped up to |F| = %zu), %.0f s", rs->n_methods, K,
                sc->n_forget, ulira_s);
    for (int s = 0; s < 2; s++) free(pos[s]), free(phi[s]);
    return st;
}
