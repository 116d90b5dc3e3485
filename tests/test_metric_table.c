/* tests/test_metric_table.c: the metric table (bench/eval/metric_table.c) is well formed, and
 * ev_measure computes own and derived rows from hand-made scores with known answers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "ubtest.h"

static void check_rows(void) {
    UB_CHECK(ev_n_metrics > 0 && ev_n_metrics <= EV_MAX_METRICS);
    for (int k = 0; k < ev_n_metrics; k++) {
        const ev_metric *m = &ev_metrics[k];
        UB_CHECK_MSG(m->name && m->name[0], "row %d has no name", k);
        UB_CHECK_MSG(m->doc && strlen(m->doc) > 10, "%s has no definition", m->name);
        UB_CHECK_MSG(m->fn != NULL, "%s has no function", m->name);
        UB_CHECK_MSG(ev_metric_index(m->name) == k, "%s is not unique", m->name);
        for (const char *c = m->name; *c; c++)
            UB_CHECK_MSG((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
                             *c == '.', "%s: not a plain name", m->name);
        UB_CHECK_MSG(m->lo < m->hi, "%s states no range", m->name);
        if (m->src) {
            int s = ev_metric_index(m->src);
            UB_CHECK_MSG(s >= 0, "%s: src %s is not a metric", m->name, m->src);
            UB_CHECK_MSG(s < 0 || !ev_metrics[s].src, "%s: src %s is derived itself", m->name,
                         m->src);
        }
    }
    UB_CHECK(ev_metric_index("no_such_metric") == -1);
}

/* Scores of one model: every scored set has 4 posts of 10 tokens; F's and the fresh F posts'
 * loss per token is lf, the others' ln. KL per token kl on every post. */
static void fake(model_result *r, double lf, double ln, double kl, double flops) {
    memset(r, 0, sizeof *r);
    for (int k = 0; k < N_SCORED; k++) {
        ub_post_scores *s = &r->s[k];
        s->n = 4;
        s->loss = calloc(4, sizeof(double)), s->ntok = calloc(4, sizeof(int32_t));
        s->mink = calloc(4, sizeof(double)), s->minkpp = calloc(4, sizeof(double));
        s->kl = calloc(4, sizeof(double)), s->em = calloc(4, sizeof(double));
        s->es = calloc(4, sizeof(double));
        r->zlib[k] = calloc(4, sizeof(double));
        double l = k == S_F || k == S_FF ? lf : ln;
        for (int i = 0; i < 4; i++) {
            /* posts differ a little so that ranks are strict; the F sets all below the others */
            s->ntok[i] = 10;
            s->loss[i] = 10 * (l + 0.01 * i);
            s->mink[i] = -(l + 0.01 * i), s->minkpp[i] = -(l + 0.01 * i);
            s->kl[i] = kl;
            s->em[i] = 0.5, s->es[i] = 0.25;
            r->zlib[k][i] = -(l + 0.01 * i);
        }
    }
    r->flops = flops;
    r->flops_one_user = NAN;
}

static void check_measure(void) {
    /* original remembers F (low loss on F), retrain and retrain_ref do not */
    model_result res[3];
    fake(&res[0], 1.0, 2.0, 0.30, 4e9);
    fake(&res[1], 2.0, 2.0, 0.00, 4e9);
    fake(&res[2], 2.05, 2.0, 0.10, 4e9);
    run_corpus rc;
    run_scenario sc;
    memset(&rc, 0, sizeof rc), memset(&sc, 0, sizeof sc);
    int64_t uf[4] = {1, 1, 2, 2}, un[4] = {3, 4, 5, 6};
    sc.set[RUN_FORGET_FRESH].user = uf, sc.set[RUN_NONMEMBER_FRESH].user = un;
    secret_set ss = {0};
    probe_set ps = {0};
    ub_err e = {0};
    UB_CHECK(ev_measure(res, 3, 0, 1, 2, &rc, &sc, &ss, &ps, &e) == UB_OK);
    const double *o = res[0].metric, *t = res[1].metric, *q = res[2].metric;
#define M(x) ev_metric_index(x)
    UB_CHECK_CLOSE(o[M("loss_forget")], 1.015, 1e-12, 0);
    UB_CHECK(o[M("auc_loss")] == 1.0);           /* every F post below every non-member post */
    UB_CHECK(o[M("tpr_at_1pct_fpr")] == 1.0);
    UB_CHECK(o[M("auc_ref")] == 1.0);            /* calibrated by retrain_ref: same verdict */
    UB_CHECK(isnan(q[M("auc_ref")]));            /* the reference model cannot test itself */
    UB_CHECK(isnan(q[M("tpr_at_1pct_fpr_ref")]));
    UB_CHECK(o[M("auc_user_ref")] == 1.0);       /* 2 users of F against 4 non-members */
    UB_CHECK(t[M("auc_loss")] == 0.5);           /* retrain: F and non-members alike */
    UB_CHECK(o[M("ppl_retain_rel")] == 1.0);     /* derived: relative to original itself */
    /* the sign conventions: ours is positive for a model that keeps F, MUSE's near -100 */
    UB_CHECK_CLOSE(o[M("privleak")], 100.0, 1e-12, 0);
    UB_CHECK_CLOSE(o[M("privleak_muse")], -100.0, 1e-12, 0);
    UB_CHECK(t[M("privleak")] == 0.0 && t[M("privleak_muse")] == 0.0);
    UB_CHECK(o[M("residual_auc_loss")] == 1.0 && t[M("residual_auc_loss")] == 0.0);
    UB_CHECK_CLOSE(o[M("kl_forget_excess")], 0.30 - 0.10, 1e-12, 0);
    UB_CHECK(q[M("kl_forget_excess")] == 0.0);
    UB_CHECK(o[M("cost_rel_retrain")] == 1.0 && o[M("cost_gflop")] == 4.0);
    UB_CHECK(isnan(o[M("exposure_rank_16")]) && isnan(o[M("know_rank")])); /* none to ask */
    UB_CHECK_CLOSE(o[M("em_forget")], 0.5, 0, 0);
    UB_CHECK(o[M("ks_d")] == 1.0 && t[M("ks_d")] == 0.0);
#undef M
    for (int i = 0; i < 3; i++) model_result_free(&res[i]);
}

/* The user bootstrap on the fake scores: F's users 1 and 2 own two posts each (and the fresh
 * ones), non-members 3..6 and retained users 7..10 one each. Every replicate stays in each
 * metric's range, original's AUC stays 1 (every F post below every non-member post whatever the
 * draw), F's loss moves with the draw, and the same split seed gives the same bytes. */
static void check_bootstrap(void) {
    model_result res[3];
    fake(&res[0], 1.0, 2.0, 0.30, 4e9);
    fake(&res[1], 2.0, 2.0, 0.00, 4e9);
    fake(&res[2], 2.05, 2.0, 0.10, 4e9);
    run_corpus rc;
    run_scenario sc;
    memset(&rc, 0, sizeof rc), memset(&sc, 0, sizeof sc);
    rc.c.n_users = 11;
    int64_t uf[4] = {1, 1, 2, 2}, un[4] = {3, 4, 5, 6}, ur[4] = {7, 8, 9, 10}, fu[2] = {1, 2};
    uint8_t matched[11] = {0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0};
    for (int k = 0; k < N_SCORED; k++) {
        run_set *s = &sc.set[ev_scored_set[k]];
        s->n = 4;
        s->user = k == S_F || k == S_FF ? uf : k == S_R ? ur : un;
    }
    sc.forget_users = fu, sc.n_forget = 2, sc.matched = matched;
    secret_set ss = {0};
    probe_set ps = {0};
    ub_err e = {0};
    enum { B = 40 };
    size_t nb = (size_t)B * 3 * ev_n_metrics;
    double *a = calloc(nb, sizeof(double)), *b = calloc(nb, sizeof(double));
    /* the same bytes on one thread and on three */
    UB_CHECK(ev_bootstrap(res, 3, 0, 1, 2, &rc, &sc, &ss, &ps, B, 9, 1, a, &e) == UB_OK);
    UB_CHECK(ev_bootstrap(res, 3, 0, 1, 2, &rc, &sc, &ss, &ps, B, 9, 3, b, &e) == UB_OK);
    UB_CHECK(!memcmp(a, b, nb * sizeof(double)));
    int in_range = 1, moved = 0;
    int lf = ev_metric_index("loss_forget"), auc = ev_metric_index("auc_loss");
    for (int r = 0; r < B; r++)
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < ev_n_metrics; k++) {
                double v = a[((size_t)r * 3 + i) * ev_n_metrics + k];
                if (isfinite(v) && (v < ev_metrics[k].lo || v > ev_metrics[k].hi)) in_range = 0;
            }
    for (int r = 0; r < B; r++) {
        const double *o = a + (size_t)r * 3 * ev_n_metrics;
        UB_CHECK(o[auc] == 1.0);
        UB_CHECK(o[lf] >= 1.0 - 1e-12 && o[lf] <= 1.03 + 1e-12);
        moved += o[lf] != a[lf];
    }
    UB_CHECK(in_range);
    UB_CHECK(moved > 1); /* some replicate's F loss differs from the first's */
    free(a), free(b);
    for (int i = 0; i < 3; i++) model_result_free(&res[i]);
}

int main(void) {
    check_rows();
    check_measure();
    check_bootstrap();
    UB_TEST_END();
}
