# The benchmark end to end on a tiny budget (both builds).
add_test(NAME run_cli COMMAND bash ${UB_TEST_DIR}/e2e_run.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(run_cli PROPERTIES LABELS e2e TIMEOUT 900)
# The benchmark's scoring pieces (ub_bench): exact memorisation, extraction strength and greedy
# decoding agree; knowledge-probe ranks; ensembles.
ub_c_test(NAME score SOURCE test_score.c LIB ub_bench TIMEOUT 300)
# The grid of forget-set sizes: merge equals a plain run, tasks by hand and under mpirun.
add_test(NAME run_grid COMMAND bash ${UB_TEST_DIR}/e2e_grid.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(run_grid PROPERTIES LABELS e2e TIMEOUT 900)
