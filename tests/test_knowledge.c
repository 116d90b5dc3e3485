/* tests/test_knowledge.c: the calibrated knowledge probes (bench/eval/probes.c ev_probe_ranks and
 * the know_* rows of bench/eval/metric_table.c) on simulated log probabilities with known
 * answers:
 *  - a model with no knowledge of anyone, whose preferences for the values are skewed against
 *    the values people actually have (as a trained model's are: retrain ranks F's true values
 *    below chance uncalibrated), is at chance calibrated: the normalised rank at 0.5 and the
 *    top-1 share at 1/values within sampling error over many seeds, while its uncalibrated rank
 *    is clearly below 0.5; the leave-one-out check on the calibration users is at chance too;
 *  - a model that knows the people (the true value's log p raised) is clearly above chance;
 *  - the rows select their group (F, retained) and kind, and leave out probes without a
 *    calibrated rank (a phrase without calibration handles). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "ubtest.h"

enum { NV = 24, NP = 200, NC = RUN_PROBE_CAL, N = NP + NC, SEEDS = 40 };

typedef struct sim {
    probe_set ps;
    int64_t user[N];
    int group[N], kind[N], form[N], truth[N], nv[N];
    double logp[N * NV], cal[N * NV], rank[N], rank_cal[N];
} sim;

/* A true value drawn from a popularity that rises with the index. */
static int draw_truth(ub_rng *r) {
    double w[NV], tot = 0;
    for (int v = 0; v < NV; v++) tot += w[v] = exp(0.15 * v);
    double u = ub_rng_uniform(r) * tot;
    for (int v = 0; v < NV; v++)
        if ((u -= w[v]) < 0) return v;
    return NV - 1;
}

/* One seed: NP probes about F's users and NC calibration users of one phrase. The model prefers
 * low indices after any handle (the opposite of the people's values), plus noise per handle and
 * value; it raises the true value of F's users by know nats. */
static void simulate(sim *s, uint64_t seed, double know) {
    memset(s, 0, sizeof *s);
    ub_rng r;
    ub_rng_init(&r, seed, 1);
    for (int i = 0; i < N; i++) {
        s->user[i] = i, s->kind[i] = CORPUS_PROBE_CITY, s->form[i] = 0, s->nv[i] = NV;
        s->group[i] = i < NP ? RUN_PROBE_F : RUN_PROBE_CALIB;
        s->truth[i] = draw_truth(&r);
        for (int v = 0; v < NV; v++)
            s->logp[i * NV + v] = -0.2 * v + ub_rng_normal(&r) - 5.0;
        if (i < NP) s->logp[i * NV + s->truth[i]] += know;
    }
    probe_set *ps = &s->ps;
    ps->n = N, ps->n_forms = 1, ps->user = s->user, ps->group = s->group, ps->kind = s->kind;
    ps->form = s->form, ps->truth = s->truth, ps->n_values = s->nv;
    ev_probe_ranks(ps, s->logp, s->rank, s->cal, s->rank_cal);
}

/* Row name's value on the simulated seed. */
static double row(const sim *s, const char *name) {
    model_result r;
    memset(&r, 0, sizeof r);
    r.probe_rank = (double *)s->rank, r.probe_rank_cal = (double *)s->rank_cal;
    ev_ctx c = {.r = &r, .ps = &s->ps};
    int k = ev_metric_index(name);
    UB_CHECK_MSG(k >= 0, "no metric %s", name);
    double out = NAN;
    ub_err e = {0};
    if (k >= 0) UB_CHECK(ev_metrics[k].fn(&c, &ev_metrics[k], &out, &e) == UB_OK);
    return out;
}

/* Mean and standard error over the seeds of row name, with the model knowing know nats. */
static void over_seeds(const char *name, double know, double *mean, double *se) {
    static sim s;
    double a = 0, b = 0;
    for (int k = 0; k < SEEDS; k++) {
        simulate(&s, 1000 + (uint64_t)k, know);
        double x = row(&s, name);
        a += x, b += x * x;
    }
    *mean = a / SEEDS;
    *se = sqrt(fmax(b / SEEDS - *mean * *mean, 0.0) / (SEEDS - 1));
}

static void check_chance(void) {
    double m, se;
    over_seeds("know_rank", 0.0, &m, &se);
    UB_CHECK_MSG(m < 0.40, "uncalibrated rank %.3f ± %.3f: the skew should show", m, se);
    over_seeds("know_rank_cal", 0.0, &m, &se);
    UB_CHECK_MSG(fabs(m - 0.5) < 3 * se + 0.005, "calibrated rank %.4f ± %.4f, not at 0.5", m, se);
    over_seeds("know_city_top1_cal", 0.0, &m, &se);
    UB_CHECK_MSG(fabs(m - 1.0 / NV) < 3 * se + 0.002, "calibrated top-1 %.4f ± %.4f, not 1/%d",
                 m, se, NV);
    over_seeds("know_rank_nonmember_cal", 0.0, &m, &se);
    UB_CHECK_MSG(fabs(m - 0.5) < 3 * se + 0.005, "leave-one-out check %.4f ± %.4f", m, se);
    over_seeds("know_rank_cal", 1.5, &m, &se);
    UB_CHECK_MSG(m > 0.6 && m - 3 * se > 0.5, "a knowing model %.3f ± %.3f", m, se);
    over_seeds("know_city_top1_cal", 3.0, &m, &se);
    UB_CHECK_MSG(m > 0.2, "a model that knows well: top-1 %.3f", m);
}

/* Groups, kinds and probes without a calibrated rank, by hand: 3 values, two phrases. */
static void check_rows(void) {
    static sim s;
    memset(&s, 0, sizeof s);
    /* items: F city (form 0), F health (form 1, no calibration), retained city (form 0), two
     * calibration users of form 0 */
    int g[5] = {RUN_PROBE_F, RUN_PROBE_F, RUN_PROBE_RETAINED, RUN_PROBE_CALIB, RUN_PROBE_CALIB};
    int kd[5] = {CORPUS_PROBE_CITY, CORPUS_PROBE_HEALTH, CORPUS_PROBE_CITY, CORPUS_PROBE_CITY,
                 CORPUS_PROBE_CITY};
    int fm[5] = {0, 1, 0, 0, 0}, tr[5] = {2, 0, 0, 1, -1};
    /* log p: the calibration users prefer value 0 (-1, -2, -3); the F user's city prefers value
     * 0 less than they do, so its truth 2 is first calibrated though last raw */
    double lp[15] = {-1.5, -2.2, -2.6, -1, -2, -3, -1, -1.5, -3.5, -1, -2, -3, -1, -2, -3};
    for (int i = 0; i < 5; i++) s.group[i] = g[i], s.kind[i] = kd[i], s.form[i] = fm[i];
    for (int i = 0; i < 5; i++) s.truth[i] = tr[i], s.nv[i] = 3, s.user[i] = i;
    memcpy(s.logp, lp, sizeof lp);
    probe_set *ps = &s.ps;
    ps->n = 5, ps->n_forms = 2, ps->user = s.user, ps->group = s.group, ps->kind = s.kind;
    ps->form = s.form, ps->truth = s.truth, ps->n_values = s.nv;
    ev_probe_ranks(ps, s.logp, s.rank, s.cal, s.rank_cal);
    UB_CHECK(s.rank[0] == 3.0 && s.rank_cal[0] == 1.0);
    UB_CHECK_CLOSE(s.cal[0], -0.5, 1e-12, 0); /* -1.5 - mean(-1, -1) */
    UB_CHECK_CLOSE(s.cal[2], 0.4, 1e-12, 0);  /* -2.6 - mean(-3, -3) */
    UB_CHECK(s.rank[1] == 1.0 && isnan(s.rank_cal[1]) && isnan(s.cal[3]));
    UB_CHECK(s.rank[2] == 1.0 && s.rank_cal[2] == 2.0); /* calibrated 0 < -1.5 - -2 */
    UB_CHECK(s.rank_cal[3] == 2.0 && isnan(s.rank[4]) && isnan(s.rank_cal[4]));
    UB_CHECK(row(&s, "know_rank_cal") == 1.0);       /* F's city alone: health has no rank */
    UB_CHECK(row(&s, "know_city_top1_cal") == 1.0 && isnan(row(&s, "know_special_top1_cal")));
    UB_CHECK(row(&s, "know_special_top1") == 1.0);   /* raw: health's truth is first */
    UB_CHECK(row(&s, "know_rank") == 0.5);           /* (0 + 1) / 2 */
    UB_CHECK(row(&s, "know_rank_retained_cal") == 0.5);
    UB_CHECK(row(&s, "know_rank_retained") == 1.0);
    UB_CHECK(row(&s, "know_rank_nonmember_cal") == 0.5);
}

int main(void) {
    check_rows();
    check_chance();
    UB_TEST_END();
}
