/* bench/eval/metric_fns.c: the functions of the metric table (eval/metric_table.c). Each
 * computes one value for one (seed, model) from the scores in its ev_ctx; its row supplies the
 * operands. Rows with a src are derived: they combine metric values already computed. */
#include <math.h>
#include <string.h>
#include <stdlib.h>

#include "eval_private.h"
#include "metrics.h"

/* ---- over posts ------------------------------------------------------------------------ */

/* Mean loss per token over the set's posts. a: the scored set. */
ub_status ev_fn_loss(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    const ub_post_scores *s = &c->r->s[m->a];
    double a = 0, n = 0;
    for (size_t i = 0; i < s->n; i++) a += s->loss[i], n += s->ntok[i];
    *out = n > 0 ? a / n : NAN;
    return UB_OK;
}

/* Mean KL to retrain per token over the set's posts. a: the scored set. */
ub_status ev_fn_kl(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    const ub_post_scores *s = &c->r->s[m->a];
    double a = 0, n = 0;
    for (size_t i = 0; i < s->n; i++) a += s->kl[i] * s->ntok[i], n += s->ntok[i];
    *out = n > 0 ? a / n : NAN;
    return UB_OK;
}

static double mean_of(const double *x, size_t n) {
    double a = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) a += x[i], k++;
    return k ? a / (double)k : NAN;
}

/* Mean exact memorisation (b = 0) or extraction strength (b = 1) over the set's posts. */
ub_status ev_fn_post_mean(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    const ub_post_scores *s = &c->r->s[m->a];
    *out = mean_of(m->b ? s->es : s->em, s->n);
    return UB_OK;
}

/* ---- membership attacks ---------------------------------------------------------------- */

/* The attack's score of every post of scored set k (higher = member), or NULL with *none set
 * when the attack does not apply (the reference attack on the reference model itself). */
static double *attack_scores(const ev_ctx *c, int attack, int k, int *none, ub_err *e) {
    const ub_post_scores *s = &c->r->s[k], *q = &c->ref->s[k];
    const run_scenario *sc = c->sc;
    const run_set *t = &sc->set[ev_scored_set[k]];
    int lira = attack == EV_A_LIRA || attack == EV_A_LIRA_OFF;
    /* LiRA needs the seed's shadows, whose means exist for F's and the non-members' posts */
    *none = (attack == EV_A_REF && c->r == c->ref) || (lira && (!t->mu_in || !t->mu_out));
    if (*none) return NULL;
    double *x = ub_calloc(s->n + 1, sizeof(double), "attack scores", e);
    for (size_t i = 0; x && i < s->n; i++) switch (attack) {
        case EV_A_LOSS: x[i] = s->ntok[i] ? -s->loss[i] / s->ntok[i] : 0.0; break;
        case EV_A_ZLIB: x[i] = c->r->zlib[k][i]; break;
        case EV_A_MINK: x[i] = s->mink[i]; break;
        case EV_A_MINKPP: x[i] = s->minkpp[i]; break;
        /* reference-calibrated: loss per token under the reference minus under the model */
        case EV_A_REF: x[i] = s->ntok[i] ? (q->loss[i] - s->loss[i]) / s->ntok[i] : 0.0; break;
        /* LiRA on the logit-scaled mean token probability */
        case EV_A_LIRA:
        case EV_A_LIRA_OFF: {
            double phi = s->ntok[i] ? mt_lira_phi(s->loss[i] / s->ntok[i]) : NAN;
            x[i] = attack == EV_A_LIRA ? mt_lira_online(phi, t->mu_in[i], sc->lira_sd_in,
                                                        t->mu_out[i], sc->lira_sd_out)
                                       : mt_lira_offline(phi, t->mu_out[i], sc->lira_sd_out);
            if (isnan(x[i])) x[i] = 0.0; /* no scored token, or a degenerate fit: no evidence */
            break;
        }
        }
    return x;
}

/* The attack's scores on sets a (members) and b (non-members) into *x, *y. */
static ub_status attack_pair(const ev_ctx *c, const ev_metric *m, double **x, double **y,
                             int *none, ub_err *e) {
    *x = attack_scores(c, m->attack, m->a, none, e);
    *y = *none ? NULL : attack_scores(c, m->attack, m->b, none, e);
    return *none || (*x && *y) ? UB_OK : UB_ENOMEM;
}

/* ROC AUC of the attack, posts of set a against posts of set b. */
ub_status ev_fn_auc(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    double *x, *y;
    int none;
    ub_status st = attack_pair(c, m, &x, &y, &none, e);
    *out = st || none ? NAN : mt_auc(x, c->r->s[m->a].n, y, c->r->s[m->b].n);
    free(x), free(y);
    return st;
}

/* TPR of the attack at FPR arg, set a against set b. */
ub_status ev_fn_tpr(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    double *x, *y;
    int none;
    ub_status st = attack_pair(c, m, &x, &y, &none, e);
    *out = st || none ? NAN : mt_tpr_at_fpr(x, c->r->s[m->a].n, y, c->r->s[m->b].n, m->arg);
    free(x), free(y);
    return st;
}

typedef struct user_score {
    int64_t user;
    double x;
} user_score;
static int cmp_user(const void *a, const void *b) {
    const user_score *p = a, *q = b;
    return p->user < q->user ? -1 : p->user > q->user ? 1 : p->x < q->x ? -1 : p->x > q->x;
}

/* Per user, the mean of x over the user's posts, into out (returns the number of users). */
static size_t user_means(const int64_t *user, const double *x, size_t n, double *out, ub_err *e) {
    user_score *u = ub_malloc((n + 1) * sizeof *u, "user scores", e);
    if (!u) return 0;
    for (size_t i = 0; i < n; i++) u[i] = (user_score){user[i], x[i]};
    qsort(u, n, sizeof *u, cmp_user);
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double a = 0;
        for (; j < n && u[j].user == u[i].user; j++) a += u[j].x;
        out[k++] = a / (double)(j - i);
        i = j;
    }
    free(u);
    return k;
}

/* User inference (Kandpal et al. 2024): ROC AUC over users of the mean attack score of each
 * user's posts, users of set a against users of set b. */
ub_status ev_fn_auc_user(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    double *x, *y;
    int none;
    ub_status st = attack_pair(c, m, &x, &y, &none, e);
    size_t na = c->r->s[m->a].n, nb = c->r->s[m->b].n;
    double *ux = st || none ? NULL : ub_calloc(na + 1, sizeof(double), "user scores", e);
    double *uy = st || none ? NULL : ub_calloc(nb + 1, sizeof(double), "user scores", e);
    *out = NAN;
    if (!st && !none && (!ux || !uy)) st = UB_ENOMEM;
    if (!st && !none) {
        size_t ka = user_means(c->sc->set[ev_scored_set[m->a]].user, x, na, ux, e);
        size_t kb = user_means(c->sc->set[ev_scored_set[m->b]].user, y, nb, uy, e);
        if ((ka == 0 && na) || (kb == 0 && nb)) st = UB_ENOMEM;
        else *out = mt_auc(ux, ka, uy, kb);
    }
    free(x), free(y), free(ux), free(uy);
    return st;
}

/* TOFU's forget quality: two-sample KS test between the per-post mean losses on F of the
 * model and of retrain; b = 0: the statistic D, b = 1: the p-value. */
ub_status ev_fn_ks(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    const ub_post_scores *s = &c->r->s[S_F], *t = &c->ret->s[S_F];
    size_t n = s->n;
    double *a = ub_calloc(n + 1, sizeof(double), "ks", e), *b = ub_calloc(n + 1, sizeof(double), "ks", e);
    if (!a || !b) {
        free(a), free(b);
        return UB_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        a[i] = s->ntok[i] ? s->loss[i] / s->ntok[i] : 0;
        b[i] = t->ntok[i] ? t->loss[i] / t->ntok[i] : 0;
    }
    double d, p;
    mt_ks_2samp(a, n, b, n, &d, &p);
    *out = m->b ? p : d;
    free(a), free(b);
    return UB_OK;
}

/* ---- secrets and probes ---------------------------------------------------------------- */

/* Mean over F's secrets inserted arg times of a per-secret value: b = 0 exposure (rank),
 * 1 exposure (skew-normal; only the secrets whose fit passes), 2 extracted greedily, 3
 * extracted by beam search, 4 whether the rank exposure is censored, 5 whether it is exact
 * (enumerated), 6 whether the skew-normal fit passes. NaN when no secret qualifies. */
ub_status ev_fn_secrets(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    const model_result *r = c->r;
    const double *v[7] = {r->exp_rank, r->exp_sn,   r->extracted, r->extracted_beam,
                          r->exp_censored, r->exp_enum, r->sn_pass};
    double a = 0;
    int n = 0;
    for (size_t i = 0; i < c->ss->n; i++) {
        if (c->rc->c.secrets[c->ss->secret[i]].inserted != (int)m->arg) continue;
        if (m->b == 1 && r->sn_pass[i] != 1.0) continue;
        a += m->b == 5 ? v[5][i] == 1.0 : v[m->b][i], n++;
    }
    *out = n ? a / n : NAN;
    return UB_OK;
}

/* Knowledge rows: probes of group a (RUN_PROBE_*) of the kinds b selects (0 home city, 1 special
 * category, 2 both), ranked by the calibrated score when arg = 1, by log p when arg = 0. Probes
 * without a rank (a calibration user without that kind, a phrase without calibration handles)
 * are left out. */
static const double *probe_ranks(const ev_ctx *c, const ev_metric *m, size_t i) {
    const probe_set *ps = c->ps;
    int city = ps->kind[i] == CORPUS_PROBE_CITY;
    if (ps->group[i] != m->a || (m->b != 2 && (m->b == 0) != city)) return NULL;
    const double *r = m->arg ? c->r->probe_rank_cal : c->r->probe_rank;
    return isfinite(r[i]) ? r + i : NULL;
}

/* Share of the probes whose true value ranks first (chance: the mean of 1/values). */
ub_status ev_fn_know_top1(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    double top = 0, cnt = 0;
    for (size_t i = 0; i < c->ps->n; i++) {
        const double *r = probe_ranks(c, m, i);
        if (r) top += *r == 1.0, cnt++;
    }
    *out = cnt ? top / cnt : NAN;
    return UB_OK;
}

/* Mean normalised rank of the true value, 1 - (rank - 1) / (values - 1): 1 = first, 0.5 =
 * chance. */
ub_status ev_fn_know_rank(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    double nr = 0, cnt = 0;
    for (size_t i = 0; i < c->ps->n; i++) {
        const double *r = probe_ranks(c, m, i);
        if (r) nr += 1.0 - (*r - 1.0) / (double)(c->ps->n_values[i] - 1), cnt++;
    }
    *out = cnt ? nr / cnt : NAN;
    return UB_OK;
}

/* ---- cost ------------------------------------------------------------------------------ */
ub_status ev_fn_gflop(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    *out = c->r->flops / 1e9;
    return UB_OK;
}

ub_status ev_fn_memory(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    *out = (double)c->r->extra_bytes / 1048576.0;
    return UB_OK;
}

ub_status ev_fn_inference(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    *out = c->r->n_ens > 0 ? (double)c->r->n_ens : NAN;
    return UB_OK;
}

/* ---- derived: x = this model's, o = original's, t = retrain's values of src ------------- */
static void src_values(const ev_ctx *c, const ev_metric *m, double *x, double *o, double *t) {
    *x = c->r->metric[c->src], *o = c->orig->metric[c->src], *t = c->ret->metric[c->src];
}

/* Perplexity relative to original's: exp of the difference of mean losses. */
ub_status ev_fn_ppl_rel(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    double x, o, t;
    src_values(c, m, &x, &o, &t);
    *out = exp(x - o);
    return UB_OK;
}

/* MUSE's PrivLeak of an AUC against retrain's. */
ub_status ev_fn_privleak(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    double x, o, t;
    src_values(c, m, &x, &o, &t);
    *out = mt_privleak(x, t);
    return UB_OK;
}

/* PrivLeak in MUSE's published convention: their AUC ranks the holdout set above the forget
 * set (forget is the negative class), i.e. 1 - ours, so a model that keeps F scores near -100%
 * where ours is positive. */
ub_status ev_fn_privleak_muse(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    double x, o, t;
    src_values(c, m, &x, &o, &t);
    *out = mt_privleak(1.0 - x, 1.0 - t);
    return UB_OK;
}

/* Residual influence: (x - retrain) / (original - retrain). */
ub_status ev_fn_residual(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    double x, o, t;
    src_values(c, m, &x, &o, &t);
    *out = mt_residual(x, t, o);
    return UB_OK;
}

/* The value above retrain_ref's: what is left once the noise between two exact retrains (which
 * differ only in their training seed) is taken away. */
ub_status ev_fn_above_ref(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    *out = c->r->metric[c->src] - c->ref->metric[c->src];
    return UB_OK;
}

/* Cost relative to retrain's (src: GFLOP); b = 1: SISA's cost of deleting one user alone. */
ub_status ev_fn_cost_rel(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    double x, o, t;
    src_values(c, m, &x, &o, &t);
    *out = t > 0 ? (m->b ? c->r->flops_one_user / (t * 1e9) : x / t) : NAN;
    return UB_OK;
}

/* ---- U-LiRA and the per-user epsilon ---------------------------------------------------- */

/* F's users (by the scored set's labels, sorted) and per user and shadow j the mean of
 * ulira over the user's posts, and the user's membership of shadow j. */
static ub_status ulira_users(const run_set *F, const double *ulira, size_t K, double **x,
                             uint8_t **in, int64_t **users, size_t *nu, ub_err *e) {
    size_t n = F->n;
    user_score *u = ub_malloc((n + 1) * sizeof *u, "U-LiRA users", e);
    *x = ub_calloc(n * K + 1, sizeof(double), "U-LiRA users", e);
    *in = ub_calloc(n * K + 1, 1, "U-LiRA users", e);
    *users = ub_calloc(n + 1, sizeof(int64_t), "U-LiRA users", e);
    *nu = 0;
    if (!u || !*x || !*in || !*users) {
        free(u);
        return UB_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) u[i] = (user_score){F->user[i], (double)i};
    qsort(u, n, sizeof *u, cmp_user); /* by user, then by post index */
    for (size_t i = 0; i < n;) {
        size_t j = i, k = *nu;
        for (; j < n && u[j].user == u[i].user; j++) {
            size_t p = (size_t)u[j].x;
            for (size_t s = 0; s < K; s++) (*x)[k * K + s] += ulira[p * K + s];
        }
        size_t p0 = (size_t)u[i].x;
        for (size_t s = 0; s < K; s++) {
            (*x)[k * K + s] /= (double)(j - i);
            (*in)[k * K + s] = F->sh_in[p0 * K + s]; /* one user: one membership */
        }
        (*users)[k] = u[i].user;
        (*nu)++;
        i = j;
    }
    free(u);
    return UB_OK;
}

/* The four U-LiRA figures of per-user samples x, in (nu, K): out[0] AUC, out[1] accuracy,
 * out[2] mean epsilon, out[3] the challenge's score; eps (nu, or NULL) each user's epsilon. */
static ub_status ulira_figures(const double *x, const uint8_t *in, size_t nu, size_t K,
                               double out[4], double *eps, ub_err *e) {
    double *a = ub_malloc((2 * K + 1) * sizeof(double), "U-LiRA", e), *b = a ? a + K : NULL;
    if (!a) return UB_ENOMEM;
    ub_status st = mt_ulira_loo(x, in, nu, (int)K, &out[0], &out[1]);
    if (st) ub_fail(e, st, "out of memory in U-LiRA");
    double se = 0, ss = 0;
    size_t ne = 0;
    for (size_t u = 0; !st && u < nu; u++) {
        size_t na = 0, nb = 0;
        for (size_t j = 0; j < K; j++) {
            double v = x[u * K + j];
            if (!isfinite(v)) continue;
            if (in[u * K + j]) a[na++] = v;
            else b[nb++] = v;
        }
        /* epsilon from the best threshold test at the challenge's delta; one that no threshold
         * defines, or a negative one (log(1 - delta)), counts as 0 */
        double ep = mt_eps_threshold(a, na, b, nb, EV_EPS_DELTA);
        ep = isnan(ep) ? NAN : ep > 0 ? ep : 0.0;
        if (eps) eps[u] = ep;
        if (isnan(ep)) continue;
        se += ep, ss += mt_eps_score(ep), ne++;
    }
    out[2] = ne ? se / (double)ne : NAN;
    out[3] = ne ? ss / (double)ne : NAN;
    free(a);
    return st;
}

/* What a model indistinguishable from retraining scores (by construction: its samples are
 * exchangeable with those of the shadows that never saw the user): the figures of iid
 * N(0, 1) samples in the same design (users, K, membership), averaged over EV_ULIRA_NULL_R
 * seeded draws. With a few models per side this is far from AUC 0.5 / epsilon 0 only through
 * chance: the level a method is compared with. */
static ub_status ulira_null(const uint8_t *in, size_t nu, size_t K, double out[4], ub_err *e) {
    double *x = ub_malloc((nu * K + 1) * sizeof(double), "U-LiRA null", e);
    if (!x) return UB_ENOMEM;
    double acc[4] = {0, 0, 0, 0};
    int cnt[4] = {0, 0, 0, 0};
    ub_status st = UB_OK;
    for (int rep = 0; !st && rep < EV_ULIRA_NULL_R; rep++) {
        ub_rng r;
        ub_rng_init(&r, EV_ULIRA_NULL_SEED, (uint64_t)rep);
        for (size_t i = 0; i < nu * K; i++) x[i] = ub_rng_normal(&r);
        double f[4];
        st = ulira_figures(x, in, nu, K, f, NULL, e);
        for (int k = 0; !st && k < 4; k++)
            if (isfinite(f[k])) acc[k] += f[k], cnt[k]++;
    }
    for (int k = 0; k < 4; k++) out[k] = cnt[k] ? acc[k] / cnt[k] : NAN;
    free(x);
    return st;
}

ub_status ev_ulira_eps(const run_scenario *sc, const model_result *r, double *eps,
                       int64_t *users, size_t *nu, ub_err *e) {
    const run_set *F = &sc->set[RUN_FORGET];
    *nu = 0;
    if (!r->ulira || !F->sh_in || sc->shadows < 4) return UB_OK;
    double *x, f[4];
    uint8_t *in;
    int64_t *us;
    size_t K = (size_t)sc->shadows;
    ub_status st = ulira_users(F, r->ulira, K, &x, &in, &us, nu, e);
    if (!st) st = ulira_figures(x, in, *nu, K, f, eps, e);
    if (!st) memcpy(users, us, *nu * sizeof(int64_t));
    free(x), free(in), free(us);
    return st;
}

/* U-LiRA (Hayes et al. 2024) and the NeurIPS 2023 challenge's per-user epsilon of the model's
 * method (model_result.ulira), m->b picking the figure (ulira_figures); retrain: the design's
 * chance level (ulira_null). NaN for models without U-LiRA scores. */
ub_status ev_fn_ulira(const ev_ctx *c, const ev_metric *m, double *out, ub_err *e) {
    const run_set *F = &c->sc->set[RUN_FORGET];
    *out = NAN;
    const double *src = c->r == c->ret ? c->orig->ulira : c->r->ulira;
    if (!src || !F->sh_in || c->sc->shadows < 4 || !F->n) return UB_OK;
    double *x, f[4];
    uint8_t *in;
    int64_t *us;
    size_t nu, K = (size_t)c->sc->shadows;
    ub_status st = ulira_users(F, src, K, &x, &in, &us, &nu, e);
    if (!st)
        st = c->r == c->ret ? ulira_null(in, nu, K, f, e) : ulira_figures(x, in, nu, K, f, NULL, e);
    if (!st) *out = f[m->b];
    free(x), free(in), free(us);
    return st;
}
