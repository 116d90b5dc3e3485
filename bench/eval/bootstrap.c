/* bench/eval/bootstrap.c: the user-level bootstrap of one seed (eval.h, ev_bootstrap). Each
 * replicate materialises resampled views of every model's scores and runs the metric table on
 * them unchanged, so every post-level metric, derived rows included, gets its replicates. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "metrics.h"

enum { G_F, G_N, G_R, N_GROUPS };        /* F's users, matched non-members, retained users */
enum { L_SEC = N_SCORED, L_PRB, N_LISTS }; /* item lists: the scored sets, secrets, probes */
static const int list_group[N_LISTS] = {[S_F] = G_F, [S_R] = G_R, [S_N] = G_N, [S_FF] = G_F,
                                        [S_NF] = G_N, [L_SEC] = G_F, [L_PRB] = G_F};

/* Who owns what: per group its users (sorted), per item list the items of each user (CSR). */
typedef struct owners {
    int64_t *users[N_GROUPS];
    size_t nu[N_GROUPS];
    size_t *start[N_LISTS], *item[N_LISTS], n[N_LISTS];
} owners;

static void owners_free(owners *o) {
    for (int g = 0; g < N_GROUPS; g++) free(o->users[g]);
    for (int l = 0; l < N_LISTS; l++) free(o->start[l]), free(o->item[l]);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The user of item i of list l. */
static int64_t owner_of(int l, size_t i, const run_corpus *rc, const run_scenario *sc,
                        const secret_set *ss, const probe_set *ps) {
    if (l == L_SEC) return rc->c.secrets[ss->secret[i]].user;
    if (l == L_PRB) return ps->user[i];
    return sc->set[ev_scored_set[l]].user[i];
}

static ub_status owners_make(owners *o, const run_corpus *rc, const run_scenario *sc,
                             const secret_set *ss, const probe_set *ps, ub_err *e) {
    memset(o, 0, sizeof *o);
    size_t nusers = rc->c.n_users, nr = sc->set[RUN_RETAIN_EVAL].n;
    o->users[G_F] = ub_calloc(sc->n_forget + 1, sizeof(int64_t), "bootstrap users", e);
    o->users[G_N] = ub_calloc(nusers + 1, sizeof(int64_t), "bootstrap users", e);
    o->users[G_R] = ub_calloc(nr + 1, sizeof(int64_t), "bootstrap users", e);
    if (!o->users[G_F] || !o->users[G_N] || !o->users[G_R]) return UB_ENOMEM;
    memcpy(o->users[G_F], sc->forget_users, sc->n_forget * sizeof(int64_t));
    o->nu[G_F] = sc->n_forget;
    for (size_t u = 0; u < nusers; u++)
        if (sc->matched[u]) o->users[G_N][o->nu[G_N]++] = (int64_t)u;
    /* retained users: those with a scored post (the set is a sample of their posts) */
    memcpy(o->users[G_R], sc->set[RUN_RETAIN_EVAL].user, nr * sizeof(int64_t));
    qsort(o->users[G_R], nr, sizeof(int64_t), cmp_i64);
    for (size_t i = 0; i < nr; i++)
        if (!o->nu[G_R] || o->users[G_R][o->nu[G_R] - 1] != o->users[G_R][i])
            o->users[G_R][o->nu[G_R]++] = o->users[G_R][i];
    qsort(o->users[G_F], o->nu[G_F], sizeof(int64_t), cmp_i64);
    for (int l = 0; l < N_LISTS; l++) {
        int g = list_group[l];
        /* probes are not resampled (their rows are `fixed`: intervals over seeds), see replicate */
        size_t n = l == L_SEC ? ss->n : l == L_PRB ? 0 : sc->set[ev_scored_set[l]].n;
        size_t *slot = ub_calloc(n + 1, sizeof(size_t), "bootstrap", e);
        o->start[l] = ub_calloc(o->nu[g] + 2, sizeof(size_t), "bootstrap", e);
        o->item[l] = ub_calloc(n + 1, sizeof(size_t), "bootstrap", e);
        o->n[l] = n;
        if (!slot || !o->start[l] || !o->item[l]) {
            free(slot);
            return UB_ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
            int64_t u = owner_of(l, i, rc, sc, ss, ps);
            const int64_t *f = bsearch(&u, o->users[g], o->nu[g], sizeof(int64_t), cmp_i64);
            if (!f) {
                free(slot);
                return ub_fail(e, UB_EINTERNAL, "bootstrap: user %lld owns item %zu of list %d "
                               "but is not in its group", (long long)u, i, l);
            }
            slot[i] = (size_t)(f - o->users[g]);
            o->start[l][slot[i] + 1]++;
        }
        for (size_t j = 0; j < o->nu[g]; j++) o->start[l][j + 1] += o->start[l][j];
        size_t *fill = ub_calloc(o->nu[g] + 1, sizeof(size_t), "bootstrap", e);
        if (!fill) {
            free(slot);
            return UB_ENOMEM;
        }
        for (size_t i = 0; i < n; i++) /* stable: a user's items keep their order */
            o->item[l][o->start[l][slot[i]] + fill[slot[i]]++] = i;
        free(fill), free(slot);
    }
    return UB_OK;
}

/* dst[j] = src[idx[j]] (nothing when src is NULL: the view's field stays NULL). */
static double *gather(double **at, const double *src, const size_t *idx, size_t n) {
    if (!src) return NULL;
    double *d = *at;
    for (size_t j = 0; j < n; j++) d[j] = src[idx[j]];
    *at += n;
    return d;
}

/* One replicate: resampled views of the models, their metrics into out (n, ev_n_metrics). */
static ub_status replicate(const owners *o, const model_result *res, int n, int i_orig,
                           int i_ret, int i_ref, const run_corpus *rc, const run_scenario *sc,
                           const secret_set *ss, const probe_set *ps, ub_rng *r, double *out,
                           ub_err *e) {
    size_t *draw[N_GROUPS] = {0}, *idx[N_LISTS] = {0}, m[N_LISTS], per_model = 0, ntok = 0;
    int64_t *lab[N_LISTS] = {0};
    model_result *v = ub_calloc((size_t)n, sizeof *v, "bootstrap views", e);
    double *buf = NULL;
    int32_t *tbuf = NULL;
    ub_status st = v ? UB_OK : UB_ENOMEM;
    for (int g = 0; !st && g < N_GROUPS; g++) {
        draw[g] = ub_calloc(o->nu[g] + 1, sizeof(size_t), "bootstrap draw", e);
        if (!draw[g]) st = UB_ENOMEM;
        else mt_boot_draw(r, o->nu[g], draw[g]);
    }
    for (int l = 0; !st && l < N_LISTS; l++) {
        int g = list_group[l];
        m[l] = mt_boot_gather(o->start[l], o->item[l], draw[g], o->nu[g], NULL, NULL, 0);
        idx[l] = ub_calloc(m[l] + 1, sizeof(size_t), "bootstrap items", e);
        lab[l] = ub_calloc(m[l] + 1, sizeof(int64_t), "bootstrap items", e);
        if (!idx[l] || !lab[l]) st = UB_ENOMEM;
        else mt_boot_gather(o->start[l], o->item[l], draw[g], o->nu[g], idx[l], lab[l], 0);
        per_model += l < N_SCORED ? 7 * m[l] : l == L_SEC ? 11 * m[l] : m[l];
        if (l < N_SCORED) ntok += m[l];
    }
    if (!st) {
        buf = ub_malloc(((size_t)n * per_model + 1) * sizeof(double), "bootstrap views", e);
        tbuf = ub_malloc(((size_t)n * ntok + 1) * sizeof(int32_t), "bootstrap views", e);
        if (!buf || !tbuf) st = UB_ENOMEM;
    }
    double *at = buf;
    int32_t *tat = tbuf;
    for (int i = 0; !st && i < n; i++) {
        const model_result *x = &res[i];
        model_result *y = &v[i];
        memcpy(y->name, x->name, sizeof y->name);
        for (int k = 0; k < N_SCORED; k++) {
            const ub_post_scores *p = &x->s[k];
            ub_post_scores *q = &y->s[k];
            q->n = m[k];
            q->loss = gather(&at, p->loss, idx[k], m[k]);
            q->mink = gather(&at, p->mink, idx[k], m[k]);
            q->minkpp = gather(&at, p->minkpp, idx[k], m[k]);
            q->kl = gather(&at, p->kl, idx[k], m[k]);
            q->em = gather(&at, p->em, idx[k], m[k]);
            q->es = gather(&at, p->es, idx[k], m[k]);
            y->zlib[k] = gather(&at, x->zlib[k], idx[k], m[k]);
            q->ntok = tat;
            for (size_t j = 0; j < m[k]; j++) tat[j] = p->ntok[idx[k][j]];
            tat += m[k];
        }
        y->exp_rank = gather(&at, x->exp_rank, idx[L_SEC], m[L_SEC]);
        y->exp_sn = gather(&at, x->exp_sn, idx[L_SEC], m[L_SEC]);
        y->secret_loss = gather(&at, x->secret_loss, idx[L_SEC], m[L_SEC]);
        y->exp_censored = gather(&at, x->exp_censored, idx[L_SEC], m[L_SEC]);
        y->extracted = gather(&at, x->extracted, idx[L_SEC], m[L_SEC]);
        y->extracted_beam = gather(&at, x->extracted_beam, idx[L_SEC], m[L_SEC]);
        y->exp_enum = gather(&at, x->exp_enum, idx[L_SEC], m[L_SEC]);
        y->exp_sampled = gather(&at, x->exp_sampled, idx[L_SEC], m[L_SEC]);
        y->enum_rows = gather(&at, x->enum_rows, idx[L_SEC], m[L_SEC]);
        y->sn_stat = gather(&at, x->sn_stat, idx[L_SEC], m[L_SEC]);
        y->sn_pass = gather(&at, x->sn_pass, idx[L_SEC], m[L_SEC]);
        /* the knowledge probes as they are: F's, retained users' and the calibration handles'
         * items are scored against each other, so they are not user-resampled (the rows are
         * `fixed`) */
        y->probe_logp = x->probe_logp, y->probe_cal = x->probe_cal;
        y->probe_rank = x->probe_rank, y->probe_rank_cal = x->probe_rank_cal;
        y->seconds = x->seconds, y->flops = x->flops, y->flops_one_user = x->flops_one_user;
        y->extra_bytes = x->extra_bytes, y->n_ens = x->n_ens;
    }
    /* the scenario, secrets and probes as the metric functions see them: resampled sizes,
     * owners relabelled by draw (for per-user metrics), and what each secret and probe is */
    run_scenario scv = *sc;
    secret_set ssv = {.n = m[L_SEC], .n_cand = ss->n_cand};
    int64_t *sec = st ? NULL : ub_calloc(m[L_SEC] + 1, sizeof(int64_t), "bootstrap", e);
    double *lira[N_SCORED][2] = {{0}}; /* the posts' LiRA means, resampled with them */
    if (!st && !sec) st = UB_ENOMEM;
    for (int k = 0; !st && k < N_SCORED; k++) {
        const run_set *t = &sc->set[ev_scored_set[k]];
        run_set *tv = &scv.set[ev_scored_set[k]];
        for (int h = 0; h < 2; h++) {
            const double *src = h ? t->mu_out : t->mu_in;
            if (!src) continue;
            double *d = ub_malloc((m[k] + 1) * sizeof(double), "bootstrap LiRA", e);
            if (!d) {
                st = UB_ENOMEM;
                break;
            }
            for (size_t j = 0; j < m[k]; j++) d[j] = src[idx[k][j]];
            lira[k][h] = d;
            if (h) tv->mu_out = d;
            else tv->mu_in = d;
        }
    }
    /* U-LiRA: F's posts' rows of shadow membership and of every model's scores, resampled with
     * the posts */
    size_t K = sc->shadows > 0 ? (size_t)sc->shadows : 0;
    const run_set *F = &sc->set[RUN_FORGET];
    uint8_t *shv = NULL;
    double *ulv = NULL;
    if (!st && F->sh_in && K) {
        size_t nq = 0;
        for (int i = 0; i < n; i++) nq += res[i].ulira != NULL;
        shv = ub_malloc(m[S_F] * K + 1, "bootstrap U-LiRA", e);
        ulv = ub_malloc((nq * m[S_F] * K + 1) * sizeof(double), "bootstrap U-LiRA", e);
        if (!shv || !ulv) st = UB_ENOMEM;
        for (size_t j = 0; !st && j < m[S_F]; j++)
            memcpy(shv + j * K, F->sh_in + idx[S_F][j] * K, K);
        double *uat = ulv;
        for (int i = 0; !st && i < n; i++) {
            if (!res[i].ulira) continue;
            for (size_t j = 0; j < m[S_F]; j++)
                memcpy(uat + j * K, res[i].ulira + idx[S_F][j] * K, K * sizeof(double));
            v[i].ulira = uat;
            uat += m[S_F] * K;
        }
        scv.set[RUN_FORGET].sh_in = shv;
    }
    if (!st) {
        for (int k = 0; k < N_SCORED; k++) {
            scv.set[ev_scored_set[k]].user = lab[k];
            scv.set[ev_scored_set[k]].n = m[k];
        }
        for (size_t j = 0; j < m[L_SEC]; j++) sec[j] = ss->secret[idx[L_SEC][j]];
        ssv.secret = sec;
        st = ev_measure(v, n, i_orig, i_ret, i_ref, rc, &scv, &ssv, ps, e);
    }
    for (int i = 0; !st && i < n; i++)
        memcpy(out + (size_t)i * ev_n_metrics, v[i].metric, (size_t)ev_n_metrics * sizeof(double));
    free(sec), free(buf), free(tbuf), free(v), free(shv), free(ulv);
    for (int k = 0; k < N_SCORED; k++) free(lira[k][0]), free(lira[k][1]);
    for (int g = 0; g < N_GROUPS; g++) free(draw[g]);
    for (int l = 0; l < N_LISTS; l++) free(idx[l]), free(lab[l]);
    return st;
}

ub_status ev_bootstrap(const model_result *res, int n, int i_orig, int i_ret, int i_ref,
                       const run_corpus *rc, const run_scenario *sc, const secret_set *ss,
                       const probe_set *ps, int B, uint64_t split_seed, int threads,
                       double *out, ub_err *e) {
    owners o;
    ub_status st = owners_make(&o, rc, sc, ss, ps, e);
    /* replicates in parallel: each has its own RNG stream and output rows, so the bytes do
     * not depend on the thread count; the first failing replicate's error is reported */
    int first_bad = B;
    ub_err bad = {0};
    if (!st) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads > 0 ? threads : 1) if (threads > 1)
        for (int b = 0; b < B; b++) {
            int skip;
#pragma omp atomic read
            skip = first_bad;
            if (skip < b) continue;
            ub_rng r; /* one stream per replicate: replicate b does not depend on the others */
            ub_rng_init(&r, split_seed, EV_BOOT_STREAM + (uint64_t)b);
            ub_err eb = {0};
            ub_status sb = replicate(&o, res, n, i_orig, i_ret, i_ref, rc, sc, ss, ps, &r,
                                     out + (size_t)b * n * ev_n_metrics, &eb);
            if (sb) {
#pragma omp critical(ev_bootstrap_err)
                if (b < first_bad) {
                    first_bad = b;
                    bad = eb;
                    if (!bad.code) bad.code = sb;
                }
            }
        }
        if (first_bad < B) {
            st = bad.code;
            if (bad.msg[0]) *e = bad;
        }
    }
    owners_free(&o);
    if (st == UB_ENOMEM && !e->code) ub_fail(e, UB_ENOMEM, "out of memory in the user bootstrap");
    return st;
}
