/* bench/run_metrics.c: the metrics of one (seed, model) from its per-post and per-secret
 * scores: those that need the model's scores only, and those relative to original, retrain and
 * the reference model. Names and definitions: run_metric_names / run_metric_docs (run.c). */
#include <math.h>
#include <stdlib.h>

#include "metrics.h"
#include "run_private.h"

/* -mean loss per post: the LOSS attack's score (higher = member). */
static double *loss_scores(const ub_post_scores *s, ub_err *e) {
    double *x = ub_calloc(s->n + 1, sizeof(double), "attack scores", e);
    for (size_t i = 0; x && i < s->n; i++) x[i] = s->ntok[i] ? -s->loss[i] / s->ntok[i] : 0.0;
    return x;
}

static double mean_loss(const ub_post_scores *s) {
    double a = 0, n = 0;
    for (size_t i = 0; i < s->n; i++) a += s->loss[i], n += s->ntok[i];
    return n > 0 ? a / n : NAN;
}

static double mean_kl(const ub_post_scores *s) {
    double a = 0, n = 0;
    for (size_t i = 0; i < s->n; i++) a += s->kl[i] * s->ntok[i], n += s->ntok[i];
    return n > 0 ? a / n : NAN;
}

static double mean_of(const double *x, size_t n) {
    double a = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) a += x[i], k++;
    return k ? a / (double)k : NAN;
}

/* Metrics of r that need only r (and retrain's, for KS and PrivLeak later). */
ub_status run_metrics_own(model_result *r, const run_corpus *rc, const secret_set *ss,
                             const probe_set *ps, ub_err *e) {
    double *x = r->metric;
    x[M_LOSS_F] = mean_loss(&r->s[S_F]);
    x[M_LOSS_R] = mean_loss(&r->s[S_R]);
    x[M_LOSS_N] = mean_loss(&r->s[S_N]);
    x[M_LOSS_FF] = mean_loss(&r->s[S_FF]);
    x[M_LOSS_NF] = mean_loss(&r->s[S_NF]);
    double *f = loss_scores(&r->s[S_F], e), *nm = loss_scores(&r->s[S_N], e);
    double *ff = loss_scores(&r->s[S_FF], e), *nf = loss_scores(&r->s[S_NF], e);
    double *rt = loss_scores(&r->s[S_R], e);
    ub_status st = f && nm && ff && nf && rt ? UB_OK : UB_ENOMEM;
    if (!st) {
        size_t nF = r->s[S_F].n, nN = r->s[S_N].n;
        x[M_AUC_LOSS] = mt_auc(f, nF, nm, nN);
        x[M_AUC_ZLIB] = mt_auc(r->zlib[S_F], nF, r->zlib[S_N], nN);
        x[M_AUC_MINK] = mt_auc(r->s[S_F].mink, nF, r->s[S_N].mink, nN);
        x[M_AUC_MINKPP] = mt_auc(r->s[S_F].minkpp, nF, r->s[S_N].minkpp, nN);
        x[M_TPR1_LOSS] = mt_tpr_at_fpr(f, nF, nm, nN, 0.01);
        x[M_TPR01_LOSS] = mt_tpr_at_fpr(f, nF, nm, nN, 0.001);
        x[M_AUC_USER] = mt_auc(ff, r->s[S_FF].n, nf, r->s[S_NF].n);
        x[M_AUC_RETAIN] = mt_auc(rt, r->s[S_R].n, nm, nN);
        x[M_KL_F] = mean_kl(&r->s[S_F]);
        x[M_KL_R] = mean_kl(&r->s[S_R]);
        x[M_EM_F] = mean_of(r->s[S_F].em, nF);
        x[M_EM_N] = mean_of(r->s[S_N].em, nN);
        x[M_ES_F] = mean_of(r->s[S_F].es, nF);
        x[M_ES_N] = mean_of(r->s[S_N].es, nN);
    }
    /* knowledge probes: top-1 share per kind and the normalised rank over all */
    double top[2] = {0, 0}, cnt[2] = {0, 0}, nr = 0;
    for (size_t i = 0; i < ps->n; i++) {
        int g = ps->kind[i] != CORPUS_PROBE_CITY;
        top[g] += r->probe_rank[i] == 1.0;
        cnt[g]++;
        nr += 1.0 - (r->probe_rank[i] - 1.0) / (double)(ps->n_values[i] - 1);
    }
    x[M_KNOW_CITY] = cnt[0] ? top[0] / cnt[0] : NAN;
    x[M_KNOW_SENS] = cnt[1] ? top[1] / cnt[1] : NAN;
    x[M_KNOW_RANK] = ps->n ? nr / (double)ps->n : NAN;
    for (int b = 0; b < 4; b++) {
        double sr = 0, ssn = 0, ex = 0, exb = 0;
        int n = 0;
        for (size_t i = 0; i < ss->n; i++)
            if (rc->c.secrets[ss->secret[i]].inserted == run_exposure_counts[b])
                sr += r->exp_rank[i], ssn += r->exp_sn[i], ex += r->extracted[i],
                    exb += r->extracted_beam[i], n++;
        x[M_EXP_R0 + b] = n ? sr / n : NAN;
        x[M_EXP_S0 + b] = n ? ssn / n : NAN;
        x[M_EXT0 + b] = n ? ex / n : NAN;
        x[M_EXTB0 + b] = n ? exb / n : NAN;
    }
    x[M_COST_FLOPS] = r->flops / 1e9;
    x[M_MEM_MB] = (double)r->extra_bytes / 1048576.0;
    free(f), free(nm), free(ff), free(nf), free(rt);
    return st;
}

/* Reference-calibrated score per post: loss per token under the reference minus under the
 * model (higher = more likely a member). */
static double *ref_scores(const ub_post_scores *m, const ub_post_scores *ref, ub_err *e) {
    double *x = ub_calloc(m->n + 1, sizeof(double), "attack scores", e);
    for (size_t i = 0; x && i < m->n; i++)
        x[i] = m->ntok[i] ? (ref->loss[i] - m->loss[i]) / m->ntok[i] : 0.0;
    return x;
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

/* Metrics relative to original, retrain and the reference model (retrain_ref). */
ub_status run_metrics_relative(model_result *r, const model_result *orig,
                                  const model_result *ret, const model_result *refm,
                                  const run_scenario *sc, ub_err *e) {
    double *x = r->metric;
    const double *o = orig->metric, *t = ret->metric;
    x[M_AUC_REF] = x[M_AUC_USER_REF] = NAN;
    if (r != refm) {
        double *f = ref_scores(&r->s[S_F], &refm->s[S_F], e);
        double *nm = ref_scores(&r->s[S_N], &refm->s[S_N], e);
        double *ff = ref_scores(&r->s[S_FF], &refm->s[S_FF], e);
        double *nf = ref_scores(&r->s[S_NF], &refm->s[S_NF], e);
        size_t nff = r->s[S_FF].n, nnf = r->s[S_NF].n;
        double *uf = ub_calloc(nff + 1, sizeof(double), "user scores", e);
        double *un = ub_calloc(nnf + 1, sizeof(double), "user scores", e);
        ub_status st = f && nm && ff && nf && uf && un ? UB_OK : UB_ENOMEM;
        if (!st) {
            x[M_AUC_REF] = mt_auc(f, r->s[S_F].n, nm, r->s[S_N].n);
            size_t a = user_means(sc->set[RUN_FORGET_FRESH].user, ff, nff, uf, e);
            size_t b = user_means(sc->set[RUN_NONMEMBER_FRESH].user, nf, nnf, un, e);
            if ((a == 0 && nff) || (b == 0 && nnf)) st = UB_ENOMEM;
            else x[M_AUC_USER_REF] = mt_auc(uf, a, un, b);
        }
        free(f), free(nm), free(ff), free(nf), free(uf), free(un);
        if (st) return st;
    }
    x[M_PPL_R_REL] = exp(x[M_LOSS_R] - o[M_LOSS_R]);
    x[M_PPL_N_REL] = exp(x[M_LOSS_N] - o[M_LOSS_N]);
    x[M_PRIVLEAK] = mt_privleak(x[M_AUC_LOSS], t[M_AUC_LOSS]);
    x[M_RES_AUC] = mt_residual(x[M_AUC_LOSS], t[M_AUC_LOSS], o[M_AUC_LOSS]);
    x[M_RES_LOSS_F] = mt_residual(x[M_LOSS_F], t[M_LOSS_F], o[M_LOSS_F]);
    x[M_RES_USER] = mt_residual(x[M_AUC_USER_REF], t[M_AUC_USER_REF], o[M_AUC_USER_REF]);
    x[M_RES_EXP16] = mt_residual(x[M_EXP_R16], t[M_EXP_R16], o[M_EXP_R16]);
    x[M_RES_KNOW] = mt_residual(x[M_KNOW_RANK], t[M_KNOW_RANK], o[M_KNOW_RANK]);
    x[M_COST_REL] = t[M_COST_FLOPS] > 0 ? x[M_COST_FLOPS] / t[M_COST_FLOPS] : NAN;
    x[M_COST_REL_USER] = t[M_COST_FLOPS] > 0 ? r->flops_one_user / (t[M_COST_FLOPS] * 1e9) : NAN;
    /* KS between per-post mean losses on F, model vs retrain */
    size_t n = r->s[S_F].n;
    double *a = ub_calloc(n + 1, sizeof(double), "ks", e), *b = ub_calloc(n + 1, sizeof(double), "ks", e);
    if (!a || !b) {
        free(a), free(b);
        return UB_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        a[i] = r->s[S_F].ntok[i] ? r->s[S_F].loss[i] / r->s[S_F].ntok[i] : 0;
        b[i] = ret->s[S_F].ntok[i] ? ret->s[S_F].loss[i] / ret->s[S_F].ntok[i] : 0;
    }
    mt_ks_2samp(a, n, b, n, &x[M_KS_D], &x[M_KS_P]);
    free(a), free(b);
    return UB_OK;
}

