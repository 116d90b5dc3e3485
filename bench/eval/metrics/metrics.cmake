# ub_metrics: membership-inference, exposure, KS and statistics metrics; pure functions over
# arrays (bench/eval/metrics/metrics.h). Needs ub.h (ub_core) for ub_status/ub_err, zlib for the zlib
# score.
find_package(ZLIB REQUIRED)
add_library(ub_metrics STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/eval/metrics/auc.c
  ${CMAKE_CURRENT_SOURCE_DIR}/eval/metrics/decay.c
  ${CMAKE_CURRENT_SOURCE_DIR}/eval/metrics/ks.c
  ${CMAKE_CURRENT_SOURCE_DIR}/eval/metrics/lira.c
  ${CMAKE_CURRENT_SOURCE_DIR}/eval/metrics/exposure.c
  ${CMAKE_CURRENT_SOURCE_DIR}/eval/metrics/mia_scores.c
  ${CMAKE_CURRENT_SOURCE_DIR}/eval/metrics/stats.c
  ${CMAKE_CURRENT_SOURCE_DIR}/eval/metrics/resample.c)
target_include_directories(ub_metrics PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/eval/metrics)
target_link_libraries(ub_metrics PUBLIC ub_core PRIVATE ZLIB::ZLIB m)
