# JSON Lines import: every field, every kind of bad line (strict and skip_invalid), a large
# generated file (counts, a peak-RSS bound, import speed printed), missing files.
add_executable(test_import ${UB_TEST_DIR}/test_import.c)
target_include_directories(test_import PRIVATE ${UB_TEST_DIR})
target_link_libraries(test_import PRIVATE ub_datasets)
add_test(NAME import COMMAND test_import)
set_tests_properties(import PROPERTIES LABELS unit TIMEOUT 120)
