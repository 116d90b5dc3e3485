# The benchmark end to end on a tiny budget (both builds).
add_test(NAME run_cli COMMAND bash ${UB_TEST_DIR}/e2e_run.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(run_cli PROPERTIES LABELS e2e TIMEOUT 900)
# Scoring: the model's per-token scores, decoding and continuation losses (models/gpt_score.c,
# gpt_decode.c) and the benchmark's per-post scores and knowledge-probe ranks on them (ub_bench).
ub_c_test(NAME score SOURCE test_score.c LIB ub_bench TIMEOUT 300)
# Calibrated knowledge probes on simulated log probabilities: a model without knowledge of the
# people is at chance, one with knowledge above it; the know_* rows pick their probes.
ub_c_test(NAME knowledge SOURCE test_knowledge.c LIB ub_bench)
# The grid of forget-set sizes: merge equals a plain run, tasks by hand and under mpirun.
add_test(NAME run_grid COMMAND bash ${UB_TEST_DIR}/e2e_grid.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(run_grid PROPERTIES LABELS e2e TIMEOUT 900)
# The metric table: every row named, defined and computable; own and derived rows on hand-made
# scores (bench/eval/metric_table.c).
ub_c_test(NAME metric_table SOURCE test_metric_table.c LIB ub_bench)
# The layout of ARCHITECTURE.md: no source file over 500 lines, no call cycle between files.
# Pure Python over the sources: the Release build's suite only.
if(NOT CMAKE_BUILD_TYPE STREQUAL "Sanitize")
  add_test(NAME layout COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/scripts/check_layout.py
           ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  set_tests_properties(layout PROPERTIES LABELS unit)
endif()
# The exact rank of a secret over its whole format (bench/eval/enumerate.c) against brute force,
# on a hand-made scorer and on a micro model that memorised a few values.
ub_c_test(NAME enumerate SOURCE test_enumerate.c LIB ub_bench TIMEOUT 300)
# The budget sweep: complete, reproducible outputs, validation users disjoint from every test F,
# the stated selection rule, and the selection as run's --method-params.
add_test(NAME sweep_cli COMMAND bash ${UB_TEST_DIR}/e2e_sweep.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(sweep_cli PROPERTIES LABELS e2e TIMEOUT 900)
# The manifest and `verify`: every file hashed; a flipped byte in a checkpoint, the corpus or
# results.h5 named, restored bytes pass; one seed re-run to the byte from config.ini.
add_test(NAME verify_cli COMMAND bash ${UB_TEST_DIR}/e2e_verify.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(verify_cli PROPERTIES LABELS e2e TIMEOUT 900)
# Write failures: results.h5 over a file size limit, report.md on a full device: one line naming
# the file, exit 1, earlier results intact, no temporary file left.
add_test(NAME faults_cli COMMAND bash ${UB_TEST_DIR}/e2e_faults.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(faults_cli PROPERTIES LABELS e2e TIMEOUT 600)
# Flipped bytes: 100 random single-byte changes in each of a corpus, a token file, a checkpoint
# and results.h5; each is a clear error naming the file or identical output, never a silent
# change or a crash.
add_test(NAME flip_cli COMMAND bash ${UB_TEST_DIR}/e2e_flip.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(flip_cli PROPERTIES LABELS e2e TIMEOUT 600)
# kill -9: a run with methods killed at several points (and at random moments, repeatedly),
# restarted with the same command each time, ends with the uninterrupted run's bytes.
add_test(NAME kill_cli COMMAND bash ${UB_TEST_DIR}/e2e_kill.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(kill_cli PROPERTIES LABELS e2e TIMEOUT 900)
