# The benchmark end to end on a tiny budget (both builds).
add_test(NAME run_cli COMMAND bash ${UB_TEST_DIR}/e2e_run.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(run_cli PROPERTIES LABELS e2e TIMEOUT 900)
