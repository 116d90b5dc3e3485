/* kernels/tune.c: defaults, validation and application of the kernel tunables (kn_tune).
 *
 * | field         | default                  | range      | what it trades
 * |---------------|--------------------------|------------|---------------------------------
 * | threads       | online cores, or         | 0 .. 1024  | OpenMP team size, and the number
 * |               | UB_THREADS               | 0 = all    | of sgemm panels or OpenBLAS
 * |               |                          | cores      | threads. More than the cores only
 * |               |                          |            | adds contention.
 * | gemm          | KN_GEMM_OMP_PANELS       | panels,    | panels: one OpenMP team; each
 * |               |                          | blas       | thread a single-threaded sgemm on
 * |               |                          |            | its rows. No second thread pool,
 * |               |                          |            | so no OpenBLAS workers spinning
 * |               |                          |            | against our element-wise kernels.
 * |               |                          |            | blas: one whole sgemm on OpenBLAS
 * |               |                          |            | threads; attention heads then run
 * |               |                          |            | one after another.
 * | gemm_min_rows | 32                       | 1 .. 65536 | a panel never has fewer rows:
 * |               |                          |            | small panels lose sgemm efficiency
 * |               |                          |            | (each packs the shared operand,
 * |               |                          |            | ragged micro-tiles); large values
 * |               |                          |            | serialise small GEMMs (dW of a
 * |               |                          |            | C=128 layer has 128 rows).
 * | attn_ts       | 32                       | 1 .. 4096  | query rows per attention tile of
 * |               |                          |            | the sgemm path (heads larger than
 * |               |                          |            | attention.c's loop path takes). A
 * |               |                          |            | tile scores only keys 0..t1-1, so
 * |               |                          |            | small tiles skip more of the
 * |               |                          |            | masked triangle (up to half the
 * |               |                          |            | work) but make more, smaller sgemm
 * |               |                          |            | calls. 32 was best or within 5% at
 * |               |                          |            | T=64, 128, 256 (1 thread, CPU time).
 * | par_min       | 32768                    | 1 .. 2^30  | element-wise and row kernels with
 * |               |                          |            | fewer elements run on one thread:
 * |               |                          |            | a team start costs a few us, about
 * |               |                          |            | the time to stream 32K floats.
 *
 * | pass_rows     | 1024                     | 1 .. 2^30  | rows (B*T) per forward+backward
 * |               |                          |            | pass. A batch of more rows is run
 * |               |                          |            | as micro-batches whose gradients
 * |               |                          |            | add up (same result up to float
 * |               |                          |            | rounding). Smaller passes keep the
 * |               |                          |            | activations in cache; too small
 * |               |                          |            | and the GEMMs get thin. tiny at
 * |               |                          |            | 64x64: 1024 rows ran ~15% faster
 * |               |                          |            | than 4096 (bench train). Scoring's
 * |               |                          |            | batches hold pass_rows rows too:
 * |               |                          |            | 512-1024 scored ~205-218K tok/s,
 * |               |                          |            | 2048 ~182K (tiny, 2 threads).
 * | replicas      | 1                        | 0, 1       | 1: each thread runs whole passes
 * |               |                          |            | on its share of the batch (one
 * |               |                          |            | gradient buffer per thread, summed
 * |               |                          |            | in thread order): no barrier
 * |               |                          |            | between kernels, each thread's
 * |               |                          |            | activations stay in its own cache.
 * |               |                          |            | 0: each kernel is split across the
 * |               |                          |            | team (needed when a batch has
 * |               |                          |            | fewer sequences than threads).
 * |               |                          |            | Scoring (posts, candidates, next-
 * |               |                          |            | token rows) likewise runs whole
 * |               |                          |            | batches per thread with 1.
 *
 * UB_THREADS (environment) overrides the default thread count: an integer in 0 .. 1024. Any
 * other value leaves threads = -1, which kn_tune_check rejects with a message naming it.
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
    t->pass_rows = 1024;
    t->replicas = 1;
    const char *env = getenv("UB_THREADS");
    if (env && *env) {
        char *end = NULL;
        long v = strtol(env, &end, 10);
        /* a bad value is kept as -1 so that kn_tune_check reports it instead of ignoring it */
        t->threads = (*end == '\0' && v >= 0 && v <= KN_MAX_THREADS) ? (int)v : -1;
    }
}

int kn_tune_check(const kn_tune *t, char *msg, size_t msglen) {
    const char *why = NULL;
    if (t->threads < 0 || t->threads > KN_MAX_THREADS)
        why = "threads must be in 0..1024 (0 = all cores; check UB_THREADS)";
    else if (t->gemm != KN_GEMM_OMP_PANELS && t->gemm != KN_GEMM_BLAS_THREADS)
        why = "gemm must be panels or blas";
    else if (t->gemm_min_rows < 1 || t->gemm_min_rows > 65536)
        why = "gemm_min_rows must be in 1..65536";
    else if (t->attn_ts < 1 || t->attn_ts > 4096)
        why = "attn_ts must be in 1..4096";
    else if (t->par_min < 1 || t->par_min > (1 << 30))
        why = "par_min must be in 1..2^30";
    else if (t->pass_rows < 1 || t->pass_rows > (1 << 30))
        why = "pass_rows must be in 1..2^30";
    else if (t->replicas != 0 && t->replicas != 1)
        why = "replicas must be 0 or 1";
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
    snprintf(buf, len, "threads=%d gemm=%s gemm_min_rows=%d attn_ts=%d par_min=%d pass_rows=%d replicas=%d",
             kn_tune_threads(t), t->gemm == KN_GEMM_BLAS_THREADS ? "blas-threads" : "omp-panels",
             t->gemm_min_rows, t->attn_ts, t->par_min, t->pass_rows, t->replicas);
}
