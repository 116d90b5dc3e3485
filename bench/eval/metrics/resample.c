/* bench/eval/metrics/resample.c: the cluster (user-level) bootstrap and what the report makes of
 * its replicates: draws of clusters, the items they bring, percentiles, the two-level interval
 * over seeds and users, Fisher's combination of independent p-values and Holm's step-down correction. */
#include <math.h>
#include <stdlib.h>

#include "metrics.h"

void mt_boot_draw(ub_rng *r, size_t n, size_t *draw) {
    for (size_t j = 0; j < n; j++) draw[j] = (size_t)ub_rng_below(r, n);
}

size_t mt_boot_gather(const size_t *start, const size_t *item, const size_t *draw, size_t nd,
                      size_t *idx, int64_t *label, int64_t label0) {
    size_t k = 0;
    for (size_t j = 0; j < nd; j++)
        for (size_t t = start[draw[j]]; t < start[draw[j] + 1]; t++, k++) {
            if (idx) idx[k] = item[t];
            if (label) label[k] = label0 + (int64_t)j; /* a cluster drawn twice counts twice */
        }
    return k;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double mt_percentile_sorted(const double *x, size_t n, double q) {
    if (n == 0 || !(q >= 0 && q <= 1)) return NAN;
    double h = q * (double)(n - 1);
    size_t i = (size_t)floor(h);
    if (i + 1 >= n) return x[n - 1];
    return x[i] + (h - (double)i) * (x[i + 1] - x[i]);
}

/* Mean and variance (ddof 1; 0 below two values) of the finite x[0], x[step], ... (n). */
static void mean_var(const double *x, size_t n, size_t step, double *mean, double *var) {
    double a = 0, q = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i * step])) a += x[i * step], k++;
    *mean = k ? a / (double)k : NAN;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i * step])) q += (x[i * step] - *mean) * (x[i * step] - *mean);
    *var = k > 1 ? q / (double)(k - 1) : 0.0;
}

ub_status mt_boot_hier(const double *rep, const double *full, size_t S, size_t B, int shared,
                       double lo, double hi, size_t R, uint64_t seed, uint64_t stream,
                       mt_boot_ci *out, ub_err *e) {
    *out = (mt_boot_ci){NAN, NAN, NAN, 0};
    if (S == 0 || B == 0 || R == 0) return UB_OK;
    double *t = ub_malloc(R * sizeof(double), "bootstrap replicates", e);
    if (!t) return UB_ENOMEM;
    /* the seeds' spread beyond what the users explain: with fresh users per seed the seeds'
     * variance holds the users' part too (the replicates' mean variance), so only the excess is
     * drawn at the seed level; with shared users all of it is training */
    double m, s2, vbar = 0, mb, vb;
    mean_var(full, S, 1, &m, &s2);
    for (size_t s = 0; s < S; s++) {
        mean_var(rep + s * B, B, 1, &mb, &vb);
        vbar += vb / (double)S;
    }
    double scale = S > 1 ? sqrt((shared ? s2 : fmax(s2 - vbar, 0.0)) / (double)S) : 0.0;
    ub_rng r;
    ub_rng_init(&r, seed, stream);
    size_t nt = 0, le = 0, ge = 0;
    for (size_t i = 0; i < R; i++) {
        size_t b = (size_t)ub_rng_below(&r, B);
        double a = 0;
        size_t n = 0;
        for (size_t j = 0; j < S; j++)
            if (isfinite(rep[j * B + b])) a += rep[j * B + b], n++;
        double g = 0, c = 0; /* Student t with S - 1 degrees of freedom: Z / sqrt(chi2 / df) */
        if (S > 1) {
            g = ub_rng_normal(&r);
            for (size_t k = 1; k < S; k++) {
                double z = ub_rng_normal(&r);
                c += z * z;
            }
            g /= sqrt(c / (double)(S - 1));
        }
        if (!n) continue; /* no defined value in this replicate (e.g. no such secret drawn) */
        double v = a / (double)n + g * scale;
        t[nt++] = v < lo ? lo : v > hi ? hi : v;
        le += t[nt - 1] <= 0, ge += t[nt - 1] >= 0;
    }
    if (nt) {
        qsort(t, nt, sizeof *t, cmp_double);
        out->lo = mt_percentile_sorted(t, nt, 0.025);
        out->hi = mt_percentile_sorted(t, nt, 0.975);
        double k = (double)(le < ge ? le : ge);
        out->p = fmin(1.0, 2.0 * (k + 1.0) / ((double)nt + 1.0));
        out->n = nt;
    }
    free(t);
    return UB_OK;
}

double mt_fisher_p(const double *p, size_t n) {
    double x = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(p[i])) continue;
        if (p[i] <= 0) return 0.0;
        x += -2.0 * log(fmin(p[i], 1.0)), k++;
    }
    if (!k) return NAN;
    /* chi-square survival with 2k degrees of freedom: exp(-x/2) sum_{j<k} (x/2)^j / j!,
     * summed in log space so large x does not overflow */
    double h = x / 2, lt = -h, s = 0;
    for (size_t j = 0; j < k; j++) {
        s += exp(lt);
        lt += log(h) - log((double)(j + 1));
    }
    return fmin(1.0, s);
}

typedef struct pidx {
    double p;
    size_t i;
} pidx;
static int cmp_pidx(const void *a, const void *b) {
    const pidx *x = a, *y = b;
    return x->p < y->p ? -1 : x->p > y->p ? 1 : (x->i > y->i) - (x->i < y->i);
}

ub_status mt_holm_adjust(const double *p, size_t n, double *adj, ub_err *e) {
    pidx *s = ub_malloc((n + 1) * sizeof *s, "holm", e);
    if (!s) return UB_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        adj[i] = NAN;
        if (isfinite(p[i])) s[m++] = (pidx){p[i], i};
    }
    qsort(s, m, sizeof *s, cmp_pidx);
    double run = 0;
    for (size_t j = 0; j < m; j++) { /* step-down: (m - j) p_(j), kept monotone */
        run = fmax(run, fmin(1.0, (double)(m - j) * s[j].p));
        adj[s[j].i] = run;
    }
    free(s);
    return UB_OK;
}
