/* tests/test_resample.c: the cluster bootstrap and the multiple-testing tools (bench/eval/metrics/
 * resample.c): known answers (percentiles as numpy, Fisher as scipy.stats.combine_pvalues, Holm
 * by hand), the hierarchical interval's range and p-value, and on simulated clustered data: an
 * interval that resamples posts as if independent is too narrow, the user-level one covers; the
 * seed part: with 3 seeds that differ by training alone, a Student-t spread, not a resample. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "ubtest.h"

static void check_gather(void) {
    /* 3 clusters owning items {0,1}, {}, {2,3,4} */
    size_t start[4] = {0, 2, 2, 5}, item[5] = {0, 1, 2, 3, 4}, draw[3] = {2, 0, 2};
    size_t idx[16];
    int64_t lab[16];
    UB_CHECK(mt_boot_gather(start, item, draw, 3, NULL, NULL, 0) == 8);
    UB_CHECK(mt_boot_gather(start, item, draw, 3, idx, lab, 10) == 8);
    size_t want[8] = {2, 3, 4, 0, 1, 2, 3, 4};
    int64_t wl[8] = {10, 10, 10, 11, 11, 12, 12, 12}; /* cluster 2 drawn twice: two labels */
    for (int i = 0; i < 8; i++) UB_CHECK(idx[i] == want[i] && lab[i] == wl[i]);
    ub_rng r;
    ub_rng_init(&r, 1, 2);
    size_t d[1000];
    mt_boot_draw(&r, 1000, d);
    int ok = 1;
    for (int i = 0; i < 1000; i++) ok &= d[i] < 1000;
    UB_CHECK(ok);
}

static void check_known(void) {
    double x[5] = {1, 2, 4, 8, 16};
    UB_CHECK_CLOSE(mt_percentile_sorted(x, 5, 0.025), 1.1, 1e-12, 0); /* numpy.percentile */
    UB_CHECK_CLOSE(mt_percentile_sorted(x, 5, 0.975), 15.2, 1e-12, 0);
    UB_CHECK_CLOSE(mt_percentile_sorted(x, 5, 0.5), 4.0, 1e-12, 0);
    double p[3] = {0.01, 0.2, 0.3}, one = 0.5;
    UB_CHECK_CLOSE(mt_fisher_p(p, 3), 0.021561751324834632, 0, 1e-12); /* scipy */
    UB_CHECK_CLOSE(mt_fisher_p(&one, 1), 0.5, 0, 1e-12);
    double q[5] = {0.01, 0.04, NAN, 0.03, 0.005}, adj[5];
    ub_err e = {0};
    UB_CHECK(mt_holm_adjust(q, 5, adj, &e) == UB_OK);
    /* sorted 0.005 x4 = 0.02, 0.01 x3 = 0.03, 0.03 x2 = 0.06, 0.04 x1 -> 0.06 (monotone) */
    UB_CHECK_CLOSE(adj[0], 0.03, 1e-15, 0);
    UB_CHECK_CLOSE(adj[1], 0.06, 1e-15, 0);
    UB_CHECK(isnan(adj[2]));
    UB_CHECK_CLOSE(adj[3], 0.06, 1e-15, 0);
    UB_CHECK_CLOSE(adj[4], 0.02, 1e-15, 0);
}

static void check_hier(void) {
    enum { S = 3, B = 50 };
    double rep[S * B], full[S] = {0.0, 1.0 / 13, 0.0};
    ub_err e = {0};
    mt_boot_ci c;
    /* shares in [0, 1] near the bound, seeds far apart: the t draw is clipped to the range */
    ub_rng r;
    ub_rng_init(&r, 3, 4);
    for (int i = 0; i < S * B; i++) rep[i] = ub_rng_uniform(&r) < 0.9 ? 0.0 : 1.0 / 13;
    UB_CHECK(mt_boot_hier(rep, full, S, B, 0, 0, 1, 4000, 7, 0, &c, &e) == UB_OK);
    UB_CHECK(c.lo >= 0 && c.hi <= 1 && c.lo <= c.hi && c.n == 4000);
    /* all replicates positive: p at its floor 2 / (n + 1); constant: a point interval */
    for (int i = 0; i < S * B; i++) rep[i] = 0.25;
    full[0] = full[1] = full[2] = 0.25;
    UB_CHECK(mt_boot_hier(rep, full, S, B, 0, 0, 1, 4000, 7, 0, &c, &e) == UB_OK);
    UB_CHECK(c.lo == 0.25 && c.hi == 0.25);
    UB_CHECK_CLOSE(c.p, 2.0 / 4001, 1e-15, 0);
    /* all zero (no difference at all): p = 1; undefined everywhere: NaN */
    for (int i = 0; i < S * B; i++) rep[i] = 0.0;
    full[0] = full[1] = full[2] = 0.0;
    UB_CHECK(mt_boot_hier(rep, full, S, B, 0, -1, 1, 1000, 7, 0, &c, &e) == UB_OK && c.p == 1.0);
    for (int i = 0; i < S * B; i++) rep[i] = NAN;
    UB_CHECK(mt_boot_hier(rep, full, S, B, 0, -1, 1, 1000, 7, 0, &c, &e) == UB_OK && c.n == 0 && isnan(c.lo));
    /* three seeds that differ by training alone (no user spread): the seed part is Student t
     * with 2 df, mean +- 4.303 sd / sqrt(3) (a resample of 3 seeds never leaves [0.4, 0.6]) */
    double tf[S] = {0.4, 0.5, 0.6};
    for (int s = 0; s < S; s++)
        for (int i = 0; i < B; i++) rep[s * B + i] = tf[s];
    UB_CHECK(mt_boot_hier(rep, tf, S, B, 1, 0, 1, 20000, 7, 1, &c, &e) == UB_OK);
    double half = 4.302652729749464 * 0.1 / sqrt(3.0);
    UB_CHECK_CLOSE(c.lo, 0.5 - half, 0.02, 0); /* the t tail's percentile from 20000 draws */
    UB_CHECK_CLOSE(c.hi, 0.5 + half, 0.02, 0);
    /* fresh users per seed whose replicates spread more than the seeds do: the seeds' spread
     * is the users' (no training excess), so only the user part is left: 0.5 +- 0.15 */
    for (int s = 0; s < S; s++)
        for (int i = 0; i < B; i++) rep[s * B + i] = tf[s] + (i % 2 ? 0.15 : -0.15);
    UB_CHECK(mt_boot_hier(rep, tf, S, B, 0, 0, 1, 4000, 7, 1, &c, &e) == UB_OK);
    UB_CHECK_CLOSE(c.lo, 0.35, 1e-12, 0);
    UB_CHECK_CLOSE(c.hi, 0.65, 1e-12, 0);
    /* reproducible: same seed and stream, same interval */
    for (int i = 0; i < S * B; i++) rep[i] = ub_rng_normal(&r);
    mt_boot_ci c2;
    mt_boot_hier(rep, full, S, B, 1, -INFINITY, INFINITY, 1000, 7, 5, &c, &e);
    mt_boot_hier(rep, full, S, B, 1, -INFINITY, INFINITY, 1000, 7, 5, &c2, &e);
    UB_CHECK(!memcmp(&c, &c2, sizeof c));
}

/* Clustered data with known truth: G users with P posts each, post value = u_g + eps, u_g ~
 * N(0, 1), eps ~ N(0, 0.5^2) (intra-class correlation 0.8); the statistic is the mean over
 * posts, the truth 0. Per dataset, a 95% interval from B replicates that resample posts as if
 * independent, and one that resamples users (what ev_bootstrap does), both through
 * mt_boot_hier with one seed. The post-level interval misses far more often. */
static void check_coverage(void) {
    enum { G = 20, P = 8, N = G * P, B = 200, DATA = 300 };
    size_t start[G + 1], item[N], draw[N], idx[N];
    for (int g = 0; g <= G; g++) start[g] = (size_t)g * P;
    for (int i = 0; i < N; i++) item[i] = (size_t)i;
    double x[N], rep_user[B], rep_post[B];
    int cov_user = 0, cov_post = 0;
    double w_user = 0, w_post = 0;
    ub_err e = {0};
    for (int d = 0; d < DATA; d++) {
        ub_rng r;
        ub_rng_init(&r, 11, (uint64_t)d);
        for (int g = 0; g < G; g++) {
            double u = ub_rng_normal(&r);
            for (int j = 0; j < P; j++) x[g * P + j] = u + 0.5 * ub_rng_normal(&r);
        }
        for (int b = 0; b < B; b++) {
            mt_boot_draw(&r, G, draw);
            size_t n = mt_boot_gather(start, item, draw, G, idx, NULL, 0);
            double a = 0;
            for (size_t i = 0; i < n; i++) a += x[idx[i]];
            rep_user[b] = a / (double)n;
            mt_boot_draw(&r, N, draw); /* posts as independent units */
            a = 0;
            for (int i = 0; i < N; i++) a += x[draw[i]];
            rep_post[b] = a / N;
        }
        mt_boot_ci cu, cp;
        double mean = 0;
        for (int i = 0; i < N; i++) mean += x[i] / N;
        mt_boot_hier(rep_user, &mean, 1, B, 0, -INFINITY, INFINITY, 2000, 1, (uint64_t)d, &cu, &e);
        mt_boot_hier(rep_post, &mean, 1, B, 0, -INFINITY, INFINITY, 2000, 1, (uint64_t)d, &cp, &e);
        cov_user += cu.lo <= 0 && 0 <= cu.hi, cov_post += cp.lo <= 0 && 0 <= cp.hi;
        w_user += cu.hi - cu.lo, w_post += cp.hi - cp.lo;
    }
    double fu = (double)cov_user / DATA, fp = (double)cov_post / DATA;
    printf("coverage of 95%% intervals on %d clustered data sets (%d users x %d posts, ICC 0.8): "
           "users resampled %.3f (mean width %.3f), posts resampled %.3f (mean width %.3f)\n",
           DATA, G, P, fu, w_user / DATA, fp, w_post / DATA);
    UB_CHECK_MSG(fu >= 0.88 && fu <= 0.99, "user bootstrap coverage %.3f", fu);
    UB_CHECK_MSG(fp < 0.75, "post bootstrap coverage %.3f should be far below 0.95", fp);
    UB_CHECK(w_post < 0.6 * w_user);
}

int main(void) {
    check_gather();
    check_known();
    check_hier();
    check_coverage();
    UB_TEST_END();
}
