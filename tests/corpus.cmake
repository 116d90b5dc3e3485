# The HDF5 corpus file: save/load round trip, byte-identical saves, bad files.
ub_c_test(NAME corpus_io SOURCE test_corpus_io.c LIB ub_datasets)

add_test(NAME corpus_cli COMMAND bash ${UB_TEST_DIR}/e2e_corpus.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(corpus_cli PROPERTIES LABELS e2e TIMEOUT 600)

ub_c_test(NAME splits SOURCE test_splits.c LIB ub_datasets)

# Statistical end-to-end tests train models long enough for a signal (minutes under ASan, where
# the attention loops run ~7x slower): Release only. The Sanitize build runs the same code paths
# on the functional e2e tests' small budgets.
if(NOT CMAKE_BUILD_TYPE STREQUAL "Sanitize")
  add_test(NAME user_inference_signal COMMAND bash ${UB_TEST_DIR}/e2e_user_inference.sh $<TARGET_FILE:unlearnbench>)
  set_tests_properties(user_inference_signal PROPERTIES LABELS "e2e;statistical" TIMEOUT 900)
endif()
