/* bench/eval/metrics/mia_scores.c: membership scores of one text from its per-token log-probabilities:
 * Min-K% Prob (Shi et al. 2023), Min-K%++ (Zhang et al. 2024), and the zlib ratio (Carlini et al.
 * 2021). Higher = more likely a member.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "metrics.h"

static int cmp_asc(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);
    return (a > b) - (a < b);
}

/* m = ceil(k n) in [1, n], with a 1e-9 slack against k n landing just above an integer. */
static size_t lowest_count(size_t n, double k) {
    double m = ceil(k * (double)n - 1e-9);
    if (m < 1.0) return 1;
    return m > (double)n ? n : (size_t)m;
}

/* Mean of the lowest ceil(k n) of v (n); sorts v in place. */
static double mean_lowest(double *v, size_t n, double k) {
    qsort(v, n, sizeof(double), cmp_asc);
    size_t m = lowest_count(n, k);
    double s = 0.0;
    for (size_t i = 0; i < m; i++)
        s += v[i];
    return s / (double)m;
}

double mt_mink(const float *logp, size_t n, double k) {
    if (n == 0 || !(k > 0.0 && k <= 1.0)) return NAN;
    double *v = malloc(n * sizeof(double));
    if (!v) return NAN;
    for (size_t i = 0; i < n; i++)
        v[i] = logp[i];
    double r = mean_lowest(v, n, k);
    free(v);
    return r;
}

double mt_minkpp(const float *logp, const float *mu, const float *sigma, size_t n, double k) {
    if (n == 0 || !(k > 0.0 && k <= 1.0)) return NAN;
    double *v = malloc(n * sizeof(double));
    if (!v) return NAN;
    for (size_t i = 0; i < n; i++) {
        double s = sigma[i] > 0.0f ? (double)sigma[i] : MT_MINKPP_SIGMA_EPS;
        v[i] = ((double)logp[i] - (double)mu[i]) / s;
    }
    double r = mean_lowest(v, n, k);
    free(v);
    return r;
}

size_t mt_zlib_len(const void *bytes, size_t n) {
    /* deflateInit(level 6) is what compress2() and Python's zlib.compress use. The output goes
     * through a stack buffer and is only counted; avail_in is 32 bits, so the input is fed in
     * chunks. */
    z_stream s = {0};
    if (deflateInit(&s, 6) != Z_OK) return 0;
    unsigned char out[16384];
    const unsigned char *in = bytes;
    size_t left = n, total = 0;
    int rc;
    do {
        uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
        s.next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const-correct */
        s.avail_in = chunk;
        in += chunk;
        left -= chunk;
        int flush = left ? Z_NO_FLUSH : Z_FINISH;
        do {
            s.next_out = out;
            s.avail_out = sizeof out;
            rc = deflate(&s, flush);
            if (rc == Z_STREAM_ERROR) {
                deflateEnd(&s);
                return 0;
            }
            total += sizeof out - s.avail_out;
        } while (s.avail_out == 0);
    } while (left);
    deflateEnd(&s);
    return rc == Z_STREAM_END ? total : 0;
}

double mt_zlib_score(double loss_nats, size_t zlib_len) {
    if (zlib_len == 0) return NAN;
    return -(loss_nats / (double)zlib_len);
}
