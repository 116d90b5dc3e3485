/* kernels/tune.c: defaults, validation and application of the kernel tunables (kn_tune).
 *
 * | field          | default                     | range      | what it trades |
 * |----------------|-----------------------------|------------|----------------|
 * | threads        | online cores (UB_THREADS)   | 0 .. 1024  | OpenMP team size, and the number of sgemm panels or OpenBLAS threads. 0 = all online cores. More threads than cores only adds contention. |
 * | gemm           | KN_GEMM_OMP_PANELS          | 0, 1       | panels: one OpenMP team, each thread a single-threaded sgemm on its rows (no second thread pool, no spinning OpenBLAS workers competing with our element-wise kernels). blas: one whole sgemm with OpenBLAS's own threads (better for few huge GEMMs, worse on 2 cores between element-wise kernels). |
 * | gemm_min_rows  | 32                          | 1 .. 65536 | a panel never has fewer rows than this: small panels lose sgemm efficiency (packing the shared operand per panel, edge micro-tiles); large values serialise small GEMMs (dW of a C=128 layer has only 128 rows). |
 * | attn_ts        | 32                          | 1 .. 4096  | query rows per attention tile: each tile only computes scores against keys 0..t1-1, so smaller tiles skip more of the masked upper triangle (up to half the work) but make more, smaller sgemm calls. |
 * | par_min        | 32768                       | 1 .. 2^30  | element-wise / row kernels with fewer elements than this run on one thread: starting an OpenMP team costs a few microseconds, about the time to stream 32K floats. |
 *
 * UB_THREADS (environment) overrides the default thread count; it must be an integer in
 * 1 .. 1024, otherwise it is ignored and kn_tune_check is what reports bad values.
 */
#include "kernels.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>

#define KN_MAX_THREADS 1024

void kn_tune_default(kn_tune *t) {
    t->threads = omp_get_num_procs();
    t->gemm = KN_GEMM_OMP_PANELS;
    t->gemm_min_rows = 32;
    t->attn_ts = 32;
    t->par_min = 32768;
    const char *env = getenv("UB_THREADS");
    if (env && *env) {
        char *end = NULL;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v >= 1 && v <= KN_MAX_THREADS) t->threads = (int)v;
    }
}

int kn_tune_check(const kn_tune *t, char *msg, size_t msglen) {
    const char *why = NULL;
    if (t->threads < 0 || t->threads > KN_MAX_THREADS) why = "threads must be in 0..1024 (0 = all cores)";
    else if (t->gemm != KN_GEMM_OMP_PANELS && t->gemm != KN_GEMM_BLAS_THREADS) why = "gemm must be panels or blas";
    else if (t->gemm_min_rows < 1 || t->gemm_min_rows > 65536) why = "gemm_min_rows must be in 1..65536";
    else if (t->attn_ts < 1 || t->attn_ts > 4096) why = "attn_ts must be in 1..4096";
    else if (t->par_min < 1 || t->par_min > (1 << 30)) why = "par_min must be in 1..2^30";
    if (msg && msglen) snprintf(msg, msglen, "%s", why ? why : "ok");
    return why ? -1 : 0;
}

int kn_tune_threads(const kn_tune *t) {
    return t->threads > 0 ? t->threads : omp_get_num_procs();
}

int kn_tune_apply(kn_tune *t) {
    int n = kn_tune_threads(t);
    t->threads = n;
    omp_set_num_threads(n);
    /* Panels: each OpenMP thread calls sgemm, which must then run on its caller's thread only. */
    openblas_set_num_threads(t->gemm == KN_GEMM_BLAS_THREADS ? n : 1);
    return n;
}

void kn_tune_str(const kn_tune *t, char *buf, size_t len) {
    snprintf(buf, len, "threads=%d gemm=%s gemm_min_rows=%d attn_ts=%d par_min=%d",
             kn_tune_threads(t), t->gemm == KN_GEMM_BLAS_THREADS ? "blas-threads" : "omp-panels",
             t->gemm_min_rows, t->attn_ts, t->par_min);
}
