# Byte-level BPE: round trips, hand-computed merges, determinism across thread counts, HDF5
# save/load and corruption, compression on real English text (plus throughput figures printed).
add_executable(test_bpe ${UB_TEST_DIR}/test_bpe.c)
target_include_directories(test_bpe PRIVATE ${UB_TEST_DIR})
target_link_libraries(test_bpe PRIVATE ub_datasets)
add_test(NAME bpe COMMAND test_bpe /usr/share/common-licenses)
set_tests_properties(bpe PROPERTIES LABELS unit TIMEOUT 300)
