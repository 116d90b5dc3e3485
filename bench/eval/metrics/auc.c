/* bench/eval/metrics/auc.c: ROC curve, AUC, TPR at low FPR, PrivLeak, threshold epsilon.
 *
 * Every function here sweeps the decision threshold t ("member" when score >= t) from the top:
 * both score sets are sorted in decreasing order and walked together, one step per distinct
 * score, so ties between and within the sets are handled exactly (a tie moves TP and FP in the
 * same step, which is the trapezoid that gives ties half credit).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* Decreasing order, NaN last: a total order, so qsort stays well defined on any input. */
static int cmp_desc(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);
    return (a < b) - (a > b);
}

/* A threshold sweep over two sorted copies. */
typedef struct sweep {
    double *p, *n; /* pos (np), neg (nn), decreasing */
    size_t np, nn;
    size_t i, j; /* how many of p, n are >= the current threshold: TP and FP counts */
} sweep;

static int sweep_init(sweep *s, const double *pos, size_t np, const double *neg, size_t nn) {
    memset(s, 0, sizeof *s);
    s->p = malloc((np ? np : 1) * sizeof(double));
    s->n = malloc((nn ? nn : 1) * sizeof(double));
    if (!s->p || !s->n) {
        free(s->p);
        free(s->n);
        return -1;
    }
    if (np) memcpy(s->p, pos, np * sizeof(double));
    if (nn) memcpy(s->n, neg, nn * sizeof(double));
    qsort(s->p, np, sizeof(double), cmp_desc);
    qsort(s->n, nn, sizeof(double), cmp_desc);
    s->np = np;
    s->nn = nn;
    return 0;
}

static void sweep_free(sweep *s) {
    free(s->p);
    free(s->n);
}

/* Lower the threshold to the next distinct score; 0 when all scores are already counted. */
static int sweep_next(sweep *s) {
    if (s->i == s->np && s->j == s->nn) return 0;
    double t;
    if (s->i == s->np)
        t = s->n[s->j];
    else if (s->j == s->nn)
        t = s->p[s->i];
    else
        t = cmp_desc(&s->p[s->i], &s->n[s->j]) <= 0 ? s->p[s->i] : s->n[s->j];
    /* Step over every score equal to t (for NaN, over the run of NaNs). */
    if (isnan(t)) {
        while (s->i < s->np && isnan(s->p[s->i]))
            s->i++;
        while (s->j < s->nn && isnan(s->n[s->j]))
            s->j++;
    } else {
        while (s->i < s->np && s->p[s->i] == t)
            s->i++;
        while (s->j < s->nn && s->n[s->j] == t)
            s->j++;
    }
    return 1;
}

double mt_auc(const double *pos, size_t np, const double *neg, size_t nn) {
    if (np == 0 || nn == 0) return NAN;
    sweep s;
    if (sweep_init(&s, pos, np, neg, nn)) return NAN;
    /* Trapezoids in half-units: each step adds dFP * (TP_before + TP_after), an integer. The sum
     * is at most 2 np nn, exact in a double up to 2^53. */
    double twice_area = 0.0;
    size_t tp = 0, fp = 0;
    while (sweep_next(&s)) {
        twice_area += (double)(s.j - fp) * (double)(tp + s.i);
        tp = s.i;
        fp = s.j;
    }
    sweep_free(&s);
    return twice_area / (2.0 * (double)np * (double)nn);
}

ub_status mt_roc(const double *pos, size_t np, const double *neg, size_t nn, double **fpr,
                 double **tpr, size_t *n_points, ub_err *e) {
    *fpr = *tpr = NULL;
    *n_points = 0;
    if (np == 0 || nn == 0)
        return ub_fail(e, UB_EARG, "ROC curve needs members and non-members (got %zu and %zu)", np,
                       nn);
    sweep s;
    if (sweep_init(&s, pos, np, neg, nn))
        return ub_fail(e, UB_ENOMEM, "out of memory sorting %zu + %zu scores", np, nn);
    /* At most one point per score, plus (0,0). */
    size_t cap = np + nn + 1;
    double *f = ub_malloc(cap * sizeof(double), "ROC fpr", e);
    double *t = ub_malloc(cap * sizeof(double), "ROC tpr", e);
    if (!f || !t) {
        free(f);
        free(t);
        sweep_free(&s);
        return e ? e->code : UB_ENOMEM;
    }
    size_t k = 0;
    f[k] = t[k] = 0.0;
    k++;
    while (sweep_next(&s)) {
        /* Divide (not multiply by 1/n) so the values are bit-equal to sklearn's fps / fps[-1]. */
        f[k] = (double)s.j / (double)nn;
        t[k] = (double)s.i / (double)np;
        k++;
    }
    sweep_free(&s);
    *fpr = f;
    *tpr = t;
    *n_points = k;
    return UB_OK;
}

double mt_tpr_at_fpr(const double *pos, size_t np, const double *neg, size_t nn, double max_fpr) {
    if (np == 0 || nn == 0 || !(max_fpr >= 0.0)) return NAN;
    sweep s;
    if (sweep_init(&s, pos, np, neg, nn)) return NAN;
    /* TPR and FPR only grow along the sweep: the answer is the TPR at the last point whose FPR
     * is still <= max_fpr; (0,0) always qualifies. */
    double best = 0.0;
    while (sweep_next(&s) && (double)s.j / (double)nn <= max_fpr)
        best = (double)s.i / (double)np;
    sweep_free(&s);
    return best;
}

double mt_privleak(double auc_method, double auc_retrain) {
    return (auc_method - auc_retrain) / auc_retrain * 100.0;
}

/* The two DP hypothesis-testing bounds at one (FPR, FNR): FPR + e^eps FNR >= 1 - delta and
 * FNR + e^eps FPR >= 1 - delta. Updates *best with each defined term. */
static void eps_terms(double fpr, double fnr, double delta, double *best) {
    double a = 1.0 - delta - fpr, b = 1.0 - delta - fnr;
    if (fnr > 0.0 && a > 0.0) *best = fmax(*best, log(a / fnr));
    if (fpr > 0.0 && b > 0.0) *best = fmax(*best, log(b / fpr));
}

/* Both rules at the sweep's current threshold t. Rule "unlearned when score >= t": FP = s->j of
 * ret, missed = nu - s->i of unl. The flipped rule ("< t") has FPR' = 1 - FPR and FNR' = 1 - FNR,
 * taken from counts so both rules see exact rates. */
static void eps_point(const sweep *s, double delta, double *best) {
    double nu = (double)s->np, nr = (double)s->nn, tp = (double)s->i, fp = (double)s->j;
    eps_terms(fp / nr, (nu - tp) / nu, delta, best);
    eps_terms((nr - fp) / nr, tp / nu, delta, best);
}

double mt_eps_threshold(const double *unl, size_t nu, const double *ret, size_t nr, double delta) {
    if (nu == 0 || nr == 0) return NAN;
    sweep s;
    if (sweep_init(&s, unl, nu, ret, nr)) return NAN;
    double best = -INFINITY;
    eps_point(&s, delta, &best); /* t above every score */
    while (sweep_next(&s))
        eps_point(&s, delta, &best);
    sweep_free(&s);
    return best == -INFINITY ? NAN : best;
}
