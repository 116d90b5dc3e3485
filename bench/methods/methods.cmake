# Approximate unlearning methods (library ub_methods): one file per method, registered in
# methods/registry.c; common.c holds what they share (methods/ul_private.h).
add_library(ub_methods STATIC
  methods/common.c
  methods/registry.c
  methods/finetune.c
  methods/gradient_ascent.c
  methods/gradient_difference.c
  methods/kl.c
  methods/npo.c
  methods/relabel.c
  methods/task_vector.c
  methods/newton.c)
target_include_directories(ub_methods PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/methods)
target_link_libraries(ub_methods PUBLIC ub_models)
