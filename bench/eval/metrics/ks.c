/* bench/eval/metrics/ks.c: two-sample Kolmogorov-Smirnov statistic and its exact two-sided p-value,
 * following scipy.stats.ks_2samp (scipy 1.10, stats/_stats_py.py and _stats_pythran.py) step for
 * step so that the p-values agree to rounding.
 *
 * D is found on integers: at every distinct value v, na nb (F_a(v) - F_b(v)) = i nb - j na with
 * i, j the counts <= v. With g = gcd(na, nb) and L = lcm(na, nb) = na nb / g, h = max |i nb - j na|
 * / g is an integer and D = h / L exactly; the p-value P(D' >= h / L) counts lattice paths.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* Increasing order, NaN last (np.sort's order; a total order keeps qsort well defined). */
static int cmp_asc(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);
    return (a > b) - (a < b);
}

static int64_t gcd64(int64_t a, int64_t b) {
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* floor(a / b) and ceil(a / b) for b > 0, exact on integers. */
static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}
static int64_t ceil_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && a > 0) ? q + 1 : q;
}

/* P(D_{n,n} >= h/n) for equal sizes: the reflection sum 2 sum_k (-1)^(k+1) C(2n, n-kh) / C(2n, n),
 * each term divided by C(2n, n) and nested Horner-like to avoid cancellation (scipy's
 * _compute_prob_outside_square, same operation order). O(n + h). */
static double prob_outside_square(int64_t n, int64_t h) {
    double P = 0.0;
    for (int64_t k = n / h; k >= 0; k--) {
        double p1 = 1.0;
        for (int64_t j = 0; j < h; j++)
            p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
        P = p1 * (1.0 - P);
    }
    return 2.0 * P;
}

/* P(D >= h / lcm) for unequal sizes: the share of lattice paths from (0,0) to (m,n) that leave
 * the band |x/m - y/n| < h / lcm (Hodges 1958), with Viehmann's (arXiv:2102.08037) recursion
 * that carries 1 - (inside share) column by column so every entry stays in [0, 1]. Only a
 * sliding window [minj, maxj) of each column is inside the band. scipy's
 * _compute_outer_prob_inside_method, same operation order. Returns NaN if out of memory.
 * O(m * window), window <= 2h/(m/g) + 2. */
static double prob_outer_inside(int64_t m, int64_t n, int64_t g, int64_t h) {
    if (m < n) {
        int64_t t = m;
        m = n;
        n = t;
    }
    int64_t mg = m / g, ng = n / g;
    int64_t minj = 0, maxj = ceil_div(h, mg);
    if (maxj > n + 1) maxj = n + 1;
    int64_t curlen = maxj - minj;
    int64_t lenA = 2 * maxj + 2 < n + 1 ? 2 * maxj + 2 : n + 1;
    double *A = malloc((size_t)lenA * sizeof(double));
    if (!A) return NAN;
    for (int64_t k = 0; k < lenA; k++)
        A[k] = k < maxj ? 0.0 : 1.0; /* first column */
    double res = NAN;
    for (int64_t i = 1; i <= m; i++) {
        int64_t lastminj = minj, lastlen = curlen;
        minj = floor_div(ng * i - h, mg) + 1;
        if (minj < 0) minj = 0;
        if (minj > n) minj = n;
        maxj = ceil_div(ng * i + h, mg);
        if (maxj > n + 1) maxj = n + 1;
        if (maxj <= minj) {
            res = 1.0; /* the band is closed: every path leaves it */
            goto done;
        }
        /* The window slides right (minj >= lastminj), so A[jj + shift] is read before A[jj] is
         * written over. The window never outgrows lenA (its width is at most 2 ceil(h/mg) + 1);
         * the check guards the bound anyway. */
        int64_t shift = minj - lastminj;
        if (maxj - minj - 1 + shift >= lenA) goto done;
        double val = minj == 0 ? 0.0 : 1.0;
        for (int64_t jj = 0; jj < maxj - minj; jj++) {
            int64_t j = jj + minj;
            val = (A[jj + shift] * (double)i + val * (double)j) / (double)(i + j);
            A[jj] = val;
        }
        curlen = maxj - minj;
        /* Entries past the new window that the old one used reset to 1 (outside the band). */
        for (int64_t k = curlen; k < lastlen && k < lenA; k++)
            A[k] = 1.0;
    }
    res = A[maxj - minj - 1];
done:
    free(A);
    return res;
}

void mt_ks_2samp(const double *a, size_t na, const double *b, size_t nb, double *D, double *p) {
    *D = *p = NAN;
    if (na == 0 || nb == 0) return;
    double *x = malloc(na * sizeof(double)), *y = malloc(nb * sizeof(double));
    if (!x || !y) {
        free(x);
        free(y);
        return;
    }
    memcpy(x, a, na * sizeof(double));
    memcpy(y, b, nb * sizeof(double));
    qsort(x, na, sizeof(double), cmp_asc);
    qsort(y, nb, sizeof(double), cmp_asc);

    /* Walk the distinct values upward; after stepping over v, i and j count the scores <= v. */
    int64_t n1 = (int64_t)na, n2 = (int64_t)nb, maxdiff = 0;
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        double v;
        if (i == na)
            v = y[j];
        else if (j == nb)
            v = x[i];
        else
            v = cmp_asc(&x[i], &y[j]) <= 0 ? x[i] : y[j];
        if (isnan(v)) break; /* NaNs sort last; scipy's result on them is NaN-dependent */
        while (i < na && x[i] == v)
            i++;
        while (j < nb && y[j] == v)
            j++;
        int64_t diff = (int64_t)i * n2 - (int64_t)j * n1;
        if (diff < 0) diff = -diff;
        if (diff > maxdiff) maxdiff = diff;
    }
    free(x);
    free(y);

    int64_t g = gcd64(n1, n2);
    int64_t h = maxdiff / g, lcm = (n1 / g) * n2;
    *D = (double)h / (double)lcm;
    double prob;
    if (h == 0)
        prob = 1.0;
    else if (n1 == n2)
        prob = prob_outside_square(n1, h);
    else
        prob = prob_outer_inside(n1, n2, g, h);
    *p = isnan(prob) ? prob : fmin(fmax(prob, 0.0), 1.0);
}
