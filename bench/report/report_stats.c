/* bench/report/report_stats.c: the statistics both reports print. Every figure is a mean over
 * seeds with a Student-t 95% CI; differences are paired over seeds. */
#include <math.h>

#include "metrics.h"
#include "report_private.h"

/* mean and CI half width of metric k of model m over seeds (NaN entries skipped) */
int rp_stat(const res_file *r, int m, int k, double *mean, double *half) {
    double v[256];
    int n = 0;
    for (int s = 0; s < r->S && n < 256; s++) {
        double x = res_value(r, s, m, k);
        if (isfinite(x)) v[n++] = x;
    }
    if (n == 0) {
        *mean = *half = NAN;
        return 0;
    }
    mt_mean_ci95(v, (size_t)n, mean, half);
    return n;
}

/* paired difference model m - model b over seeds where both are finite */
int rp_diff(const res_file *r, int m, int b, int k, double *mean, double *half) {
    double v[256];
    int n = 0;
    for (int s = 0; s < r->S && n < 256; s++) {
        double x = res_value(r, s, m, k);
        double y = res_value(r, s, b, k);
        if (isfinite(x) && isfinite(y)) v[n++] = x - y;
    }
    if (n < 2) {
        *mean = n ? v[0] : NAN;
        *half = NAN;
        return n;
    }
    mt_mean_ci95(v, (size_t)n, mean, half);
    return n;
}

/* "mean ± half" of metric k of model m over seeds into buf ("n/a" when it has no value). */
const char *rp_fmt_mean(const res_file *r, int m, int k, int prec, char *buf, size_t cap) {
    double mean, half;
    int n = k >= 0 && m >= 0 ? rp_stat(r, m, k, &mean, &half) : 0;
    if (n == 0) snprintf(buf, cap, "n/a");
    else if (!isfinite(half)) snprintf(buf, cap, "%.*f", prec, mean);
    else snprintf(buf, cap, "%.*f ± %.*f", prec, mean, prec, half);
    return buf;
}

