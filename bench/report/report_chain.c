/* bench/report/report_chain.c: chained deletion requests (`run --chain K`, MUSE's
 * sustainability, truly chained): per model, the LOSS attack's AUC on every user forgotten so
 * far after each request, its distance to retrain after the last, utility and cumulative cost.
 * These rows carry no user bootstrap: intervals are Student t over seeds, clipped to the range. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "report_private.h"

/* Mean and Student-t interval over the seeds of x[s * stride] (finite values only), clipped to
 * [lo, hi]. */
static rp_ci seeds_ci(const double *x, int S, size_t stride, double lo, double hi) {
    double v[S > 0 ? S : 1];
    size_t n = 0;
    for (int s = 0; s < S; s++)
        if (isfinite(x[(size_t)s * stride])) v[n++] = x[(size_t)s * stride];
    rp_ci c = {NAN, NAN, NAN, NAN, (int)n, RP_T};
    if (!n) return c;
    double m, h;
    mt_mean_ci95(v, n, &m, &h);
    c.mean = m;
    if (isfinite(h)) c.lo = fmax(m - h, lo), c.hi = fmin(m + h, hi);
    return c;
}

void rp_chain(FILE *o, const res_file *r) {
    int K = r->chain_k, R = r->chain_rows, S = r->S;
    if (K < 1 || R < 3) return;
    size_t stride = (size_t)R * K;
    char b[96];
    fprintf(o, "\n### Chained deletion requests\n\n"
               "F's %.0f users per seed arrive as %d deletion requests (%.1f of them per seed in "
               "the order of their objection dates, the rest in an order seeded by the split). "
               "Every method starts each request from its own previous output (that output is "
               "its reference model too), with the request's users as the forget set and the "
               "members not yet deleted as the retain set; `sisa` is an ensemble trained anew "
               "that deletes each request from checkpoints its earlier deletions refreshed (so "
               "a later request cannot restore an earlier one's users); `original` is the "
               "deployed model, nothing removed; `retrain` is the run's retraining without all "
               "of F, which on the users of requests 1..q is what retraining without them gives "
               "(it never saw them), at one full retraining per request. After request q the "
               "LOSS attack's AUC compares the posts of every user forgotten so far (on average",
            r->chain_users, K, r->chain_dated);
    for (int q = 0; q < K; q++)
        fprintf(o, "%s%.1f", q ? ", " : " ", r->chain_posts[q]);
    fprintf(o, " posts per seed after requests 1..%d) with the non-members' posts. Mean over %d "
               "seeds with a Student-t 95%% interval over seeds, clipped to [0, 1]: these rows have "
               "no user bootstrap, and the first requests rest on few posts. The difference to "
               "`retrain` after the last request is paired by seed (**bold** where its interval "
               "excludes 0).\n\n| model |", K, S);
    for (int q = 0; q < K; q++) fprintf(o, " AUC after %d |", q + 1);
    fprintf(o, " AUC after %d - retrain | ppl / original after %d | deletion FLOPs after %d / one "
               "retraining |\n|---|", K, K, K);
    for (int q = 0; q <= K + 2; q++) fprintf(o, "---|");
    fprintf(o, "\n");
    /* one retraining: retrain's cost after request 1 */
    double f1 = seeds_ci(r->chain_flops + (size_t)K, S, stride, 0, INFINITY).mean;
    for (int row = 0; row < R; row++) {
        fprintf(o, "| %s |", r->chain_model[row]);
        for (int q = 0; q < K; q++) {
            rp_ci c = seeds_ci(r->chain_auc + (size_t)row * K + q, S, stride, 0, 1);
            fprintf(o, " %s |", rp_fmt_ci(&c, 3, b, sizeof b));
        }
        if (row == 1) {
            fprintf(o, " - |");
        } else {
            double d[S > 0 ? S : 1];
            for (int s = 0; s < S; s++)
                d[s] = r->chain_auc[(size_t)s * stride + (size_t)row * K + K - 1] -
                       r->chain_auc[(size_t)s * stride + (size_t)1 * K + K - 1];
            rp_ci c = seeds_ci(d, S, 1, -1, 1);
            int sig = isfinite(c.lo) && (c.lo > 0 || c.hi < 0);
            fprintf(o, " %s%s%s |", sig ? "**" : "", rp_fmt_ci(&c, 3, b, sizeof b), sig ? "**" : "");
        }
        rp_ci p = seeds_ci(r->chain_ppl + (size_t)row * K + K - 1, S, stride, 0, INFINITY);
        rp_ci f = seeds_ci(r->chain_flops + (size_t)row * K + K - 1, S, stride, 0, INFINITY);
        fprintf(o, " %s |", rp_fmt_ci(&p, 3, b, sizeof b));
        if (f1 > 0 && isfinite(f.mean))
            fprintf(o, " %.3g |\n", f.mean / f1);
        else
            fprintf(o, " n/a |\n");
    }
    fprintf(o, "\n");
}
