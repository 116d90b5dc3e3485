# Metrics (ub_metrics): hand-made cases with known answers (test_metrics), and every metric on
# random inputs against numpy / scipy / sklearn / zlib (metrics_dump writes JSON lines,
# scripts/check_metrics.py recomputes them; exit 77 = skipped without scipy or sklearn).
ub_c_test(NAME metrics SOURCE test_metrics.c LIB ub_metrics)

add_executable(metrics_dump ${UB_TEST_DIR}/metrics_dump.c)
target_link_libraries(metrics_dump PRIVATE ub_metrics)
# The Sanitize build runs metrics_dump whole under the sanitizers and checks every 5th case (the
# Python side is the same in both builds; the Release build checks every case).
if(CMAKE_BUILD_TYPE STREQUAL "Sanitize")
  set(ub_metrics_every 5)
else()
  set(ub_metrics_every 1)
endif()
add_test(NAME metrics_vs_scipy
         COMMAND bash -c "[ -x /usr/bin/python3 ] || exit 77; \"$0\" \"$1\" && /usr/bin/python3 \"$2\" \"$1\" --every $3"
                 $<TARGET_FILE:metrics_dump> ${CMAKE_CURRENT_BINARY_DIR}/metrics_dump.jsonl
                 ${PROJECT_SOURCE_DIR}/scripts/check_metrics.py ${ub_metrics_every})
set_tests_properties(metrics_vs_scipy PROPERTIES LABELS python TIMEOUT 600 SKIP_RETURN_CODE 77)

# The cluster (user-level) bootstrap, Fisher's and Holm's methods; coverage on clustered data.
ub_c_test(NAME resample SOURCE test_resample.c LIB ub_metrics TIMEOUT 60)
# Coverage of the report's intervals on simulated clustered data (a quick subset, ~8 s of CPU;
# run scripts/bootstrap_coverage.py without --quick for every cell).
# Pure Python (no line of ours runs): the Release build's suite only.
if(NOT CMAKE_BUILD_TYPE STREQUAL "Sanitize")
  add_test(NAME bootstrap_coverage
           COMMAND bash -c "[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import numpy, scipy' 2>/dev/null || exit 77; /usr/bin/python3 \"$0\" --quick --check"
                   ${PROJECT_SOURCE_DIR}/scripts/bootstrap_coverage.py)
  set_tests_properties(bootstrap_coverage PROPERTIES LABELS python TIMEOUT 900 SKIP_RETURN_CODE 77)
endif()
# LiRA (Carlini et al. 2022) on closed forms and on simulated Gaussian shadow scores whose best
# attack's TPR at 1% FPR is known.
ub_c_test(NAME lira SOURCE test_lira.c LIB ub_metrics TIMEOUT 60)
