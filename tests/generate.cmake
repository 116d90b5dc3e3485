# Synthetic corpus generator: determinism, UTF-8, planted secrets (exact counts), heavy tail,
# configured fractions, config validation; prints posts/s of the "default" profile.
add_executable(test_generate ${UB_TEST_DIR}/test_generate.c)
target_include_directories(test_generate PRIVATE ${UB_TEST_DIR})
target_link_libraries(test_generate PRIVATE ub_datasets)
add_test(NAME generate COMMAND test_generate)
set_tests_properties(generate PROPERTIES LABELS unit TIMEOUT 300)
