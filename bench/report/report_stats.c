/* bench/report/report_stats.c: the statistics both reports print. A figure is the mean over
 * seeds of the full-sample values; its 95% interval is two-level for a post-level metric
 * (mt_boot_hier: users from results.h5's seed_<s>/bootstrap, the seeds' spread by Student t),
 * and Student t over seeds, clipped to the metric's range, for the others (costs) and for
 * files without replicates. Differences are paired by seed and by the
 * user draw. A p-value row (ks_p) is not averaged: the seeds' p-values combine by Fisher. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "report_private.h"

enum { RP_MAX_SEEDS = 256 };

/* The report's own bootstrap stream per (model, other model, metric): reproducible, and
 * independent of the order in which the report asks. */
static uint64_t stream_of(const res_file *r, int m, int b, int k) {
    return (((uint64_t)m * (uint64_t)(r->M + 1) + (uint64_t)(b + 1)) * (uint64_t)r->K + (uint64_t)k);
}

/* Model m's metric k minus model b's metric kb (b < 0: m's alone) in seed s, replicate j
 * (j < 0: the full sample). */
static double value(const res_file *r, int s, int j, int m, int b, int k, int kb) {
    double x = j < 0 ? res_value(r, s, m, k) : res_boot(r, s, j, m, k);
    if (b < 0) return x;
    return x - (j < 0 ? res_value(r, s, b, kb) : res_boot(r, s, j, b, kb));
}

/* The interval of m's k (- b's kb) over the seeds where the full-sample value is finite. */
static int interval(const res_file *r, int m, int b, int k, int kb, rp_ci *c) {
    *c = (rp_ci){NAN, NAN, NAN, NAN, 0, RP_NONE};
    if (k < 0 || m < 0 || k >= r->K) return 0;
    int use[RP_MAX_SEEDS], n = 0;
    double v[RP_MAX_SEEDS], a = 0;
    for (int s = 0; s < r->S && n < RP_MAX_SEEDS; s++) {
        double x = value(r, s, -1, m, b, k, kb);
        if (isfinite(x)) use[n] = s, v[n++] = x, a += x;
    }
    c->n = n;
    if (!n) return 0;
    c->mean = a / n;
    /* the range of the figure: a difference of two values in [lo, hi] is in [lo-hi, hi-lo] */
    double lo = r->lo ? r->lo[k] : -INFINITY, hi = r->hi ? r->hi[k] : INFINITY;
    if (b >= 0) {
        double w = hi - lo;
        lo = isfinite(w) ? -w : -INFINITY, hi = isfinite(w) ? w : INFINITY;
    }
    if (r->B > 0 && r->resampled && r->resampled[k]) {
        double *rep = malloc(((size_t)n * r->B + 1) * sizeof(double));
        ub_err e = {0};
        mt_boot_ci bc;
        if (!rep) return n;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < r->B; j++)
                rep[(size_t)i * r->B + j] = value(r, use[i], j, m, b, k, kb);
        /* --split-seed: the same users in every seed */
        int shared = strstr(r->config, "\nsplit-seed = ") &&
                     strtoull(strstr(r->config, "\nsplit-seed = ") + 14, NULL, 10) != 0;
        ub_status st = mt_boot_hier(rep, v, (size_t)n, (size_t)r->B, shared, lo, hi, RP_BOOT_R,
                                    RP_BOOT_SEED,
                                    stream_of(r, m, b, k) ^ (kb == k ? 0 : (uint64_t)(kb + 1) << 40),
                                    &bc, &e);
        free(rep);
        if (!st && bc.n) c->lo = bc.lo, c->hi = bc.hi, c->p = bc.p, c->how = RP_BOOT;
        return n;
    }
    if (n < 2) return n;
    double mean, half;
    mt_mean_ci95(v, (size_t)n, &mean, &half);
    c->lo = fmax(mean - half, lo), c->hi = fmin(mean + half, hi), c->how = RP_T;
    if (b >= 0) { /* the paired t-test on the seeds' differences */
        double z[RP_MAX_SEEDS] = {0};
        c->p = mt_ttest_paired_p(v, z, (size_t)n);
    }
    return n;
}

int rp_stat(const res_file *r, int m, int k, rp_ci *c) { return interval(r, m, -1, k, k, c); }

int rp_diff(const res_file *r, int m, int b, int k, rp_ci *c) {
    return b < 0 ? (*c = (rp_ci){NAN, NAN, NAN, NAN, 0, RP_NONE}, 0) : interval(r, m, b, k, k, c);
}

int rp_diff_metrics(const res_file *r, int m, int k, int kb, rp_ci *c) {
    if (kb < 0 || kb >= r->K || m < 0) return (*c = (rp_ci){NAN, NAN, NAN, NAN, 0, RP_NONE}, 0);
    return interval(r, m, m, k, kb, c);
}

double rp_fisher(const res_file *r, int m, int k, int *n) {
    double v[RP_MAX_SEEDS];
    *n = 0;
    for (int s = 0; k >= 0 && m >= 0 && s < r->S && *n < RP_MAX_SEEDS; s++) {
        double x = res_value(r, s, m, k);
        if (isfinite(x)) v[(*n)++] = x;
    }
    return *n ? mt_fisher_p(v, (size_t)*n) : NAN;
}

/* A p-value row: its name ends in "_p". */
static int is_pvalue(const res_file *r, int k) {
    size_t len = strlen(r->metric[k]);
    return len > 2 && !strcmp(r->metric[k] + len - 2, "_p");
}

const char *rp_fmt_ci(const rp_ci *c, int prec, char *buf, size_t cap) {
    if (c->n == 0) snprintf(buf, cap, "n/a");
    else if (!isfinite(c->lo) || !isfinite(c->hi)) snprintf(buf, cap, "%.*f", prec, c->mean);
    else snprintf(buf, cap, "%.*f [%.*f, %.*f]", prec, c->mean, prec, c->lo, prec, c->hi);
    return buf;
}

const char *rp_fmt_mean(const res_file *r, int m, int k, int prec, char *buf, size_t cap) {
    if (k >= 0 && m >= 0 && is_pvalue(r, k)) {
        int n;
        double p = rp_fisher(r, m, k, &n);
        if (!n || !isfinite(p)) snprintf(buf, cap, "n/a");
        else snprintf(buf, cap, "%.*g (Fisher, %d seeds)", prec, p, n);
        return buf;
    }
    rp_ci c;
    rp_stat(r, m, k, &c);
    return rp_fmt_ci(&c, prec, buf, cap);
}

double rp_secrets_inserted(const res_file *r, int64_t times) {
    for (int j = 0; j < r->n_ins; j++)
        if (r->ins[j] == times) return r->n_secrets_ins[j];
    return 0.0;
}
