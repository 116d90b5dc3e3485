# The HDF5 corpus file: save/load round trip, byte-identical saves, bad files.
ub_c_test(NAME corpus_io SOURCE test_corpus_io.c LIB ub_datasets)

add_test(NAME corpus_cli COMMAND bash ${UB_TEST_DIR}/e2e_corpus.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(corpus_cli PROPERTIES LABELS e2e TIMEOUT 600)

ub_c_test(NAME splits SOURCE test_splits.c LIB ub_datasets)

add_test(NAME user_inference_signal COMMAND bash ${UB_TEST_DIR}/e2e_user_inference.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(user_inference_signal PROPERTIES LABELS e2e TIMEOUT 900)
