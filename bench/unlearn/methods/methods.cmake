# Approximate unlearning methods (library ub_methods): one file per method, registered in
# methods/registry.c; common.c holds what they share (methods/ul_private.h).
add_library(ub_methods STATIC
  unlearn/methods/common.c
  unlearn/methods/preference.c
  unlearn/methods/registry.c
  unlearn/methods/finetune.c
  unlearn/methods/gradient_ascent.c
  unlearn/methods/gradient_difference.c
  unlearn/methods/kl.c
  unlearn/methods/npo.c
  unlearn/methods/relabel.c
  unlearn/methods/task_vector.c
  unlearn/methods/newton.c
  unlearn/methods/simnpo.c
  unlearn/methods/undial.c
  unlearn/methods/whp.c
  unlearn/methods/idkdpo.c
  unlearn/methods/rmu.c)
target_include_directories(ub_methods PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/unlearn/methods)
target_link_libraries(ub_methods PUBLIC ub_models)
