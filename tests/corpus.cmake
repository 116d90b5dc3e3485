# The HDF5 corpus file: save/load round trip, byte-identical saves, bad files.
add_executable(test_corpus_io ${UB_TEST_DIR}/test_corpus_io.c)
target_include_directories(test_corpus_io PRIVATE ${UB_TEST_DIR})
target_link_libraries(test_corpus_io PRIVATE ub_datasets)
add_test(NAME corpus_io COMMAND test_corpus_io)
set_tests_properties(corpus_io PROPERTIES LABELS unit TIMEOUT 300)

add_test(NAME corpus_cli COMMAND bash ${UB_TEST_DIR}/e2e_corpus.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(corpus_cli PROPERTIES LABELS e2e TIMEOUT 600)

add_executable(test_splits ${UB_TEST_DIR}/test_splits.c)
target_include_directories(test_splits PRIVATE ${UB_TEST_DIR})
target_link_libraries(test_splits PRIVATE ub_datasets)
add_test(NAME splits COMMAND test_splits)
set_tests_properties(splits PROPERTIES LABELS unit TIMEOUT 300)

add_test(NAME user_inference_signal COMMAND bash ${UB_TEST_DIR}/e2e_user_inference.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(user_inference_signal PROPERTIES LABELS e2e TIMEOUT 900)
