# The benchmark end to end on a tiny budget (both builds).
add_test(NAME run_cli COMMAND bash ${UB_TEST_DIR}/e2e_run.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(run_cli PROPERTIES LABELS e2e TIMEOUT 900)
# Scoring: the model's per-token scores, decoding and continuation losses (models/gpt_score.c,
# gpt_decode.c) and the benchmark's per-post scores and knowledge-probe ranks on them (ub_bench).
ub_c_test(NAME score SOURCE test_score.c LIB ub_bench TIMEOUT 300)
# The grid of forget-set sizes: merge equals a plain run, tasks by hand and under mpirun.
add_test(NAME run_grid COMMAND bash ${UB_TEST_DIR}/e2e_grid.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(run_grid PROPERTIES LABELS e2e TIMEOUT 900)
