# Kernel unit tests: forward vs double-precision references, finite-difference checks of every
# backward, accumulation, thread-count determinism, both GEMM modes.
add_executable(test_kernels ${UB_TEST_DIR}/test_kernels.c)
target_include_directories(test_kernels PRIVATE ${UB_TEST_DIR})
target_link_libraries(test_kernels PRIVATE ub_kernels)
add_test(NAME kernels COMMAND test_kernels)
set_tests_properties(kernels PROPERTIES LABELS unit TIMEOUT 300)
