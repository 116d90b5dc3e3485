# Kernel unit tests: forward vs double-precision references, finite-difference checks of every
# backward, accumulation, thread-count determinism, both GEMM modes.
ub_c_test(NAME kernels SOURCE test_kernels.c LIB ub_kernels)
