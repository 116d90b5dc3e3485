/* bench/perf/perf.h: micro-benchmarks of the kernels (`unlearnbench bench kernels`). */
#ifndef UB_BENCH_H
#define UB_BENCH_H

#include "kernels.h"

/* GFLOP/s (2*M*N*K / seconds, best call among repeats filling at least min_seconds) of
 * C (M,N) = A (M,K) @ B, B (K,N) if transB == 0 else (N,K), parallelised as `tune` says
 * (OpenMP panels or OpenBLAS threads). It applies `tune` (kn_tune_apply on a copy): the caller
 * re-applies its own tune afterwards. Returns -1 if the buffers cannot be allocated. */
double ub_bench_sgemm(int M, int N, int K, int transB, const kn_tune *tune, double min_seconds);

/* `unlearnbench bench kernels [--preset tiny|small|medium|all] [--threads N]
 *  [--gemm panels|blas] [--seconds S]`; argv[0] is "kernels". Prints one table per preset on
 * stdout. Returns 0, or 2 after a one-line message on stderr for bad options. */
int ub_cmd_bench_kernels(int argc, char **argv);

/* `unlearnbench bench corpus [--profile P] [--text FILE] [--vocab V] [--threads N]`:
 * generation posts/s, BPE training and encoding MB/s. */
int ub_cmd_bench_corpus(int argc, char **argv);

#endif
