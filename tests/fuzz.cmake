# Fuzz targets (tests/fuzz/): the JSONL importer, the INI config reader and the four HDF5
# readers. With UB_FUZZ=ON (clang; scripts/fuzz.sh configures it) they are libFuzzer
# executables fuzz_<target>; otherwise replay executables that run saved inputs, and the test
# fuzz_replay runs each on its seeds (scripts/fuzz_seeds.sh) and on the inputs the fuzzers
# found (tests/fuzz/regress/<target>/), sanitizers included in the Sanitize build.
option(UB_FUZZ "build the fuzz targets with libFuzzer (clang; scripts/fuzz.sh)" OFF)
set(UB_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
function(ub_fuzz_target name source kind)
  set(exe fuzz_${name})
  if(NOT UB_FUZZ)
    set(exe replay_${name})
  endif()
  add_executable(${exe} ${UB_FUZZ_DIR}/${source})
  if(UB_FUZZ)
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
  else()
    target_sources(${exe} PRIVATE ${UB_FUZZ_DIR}/replay.c)
  endif()
  if(kind)
    target_compile_definitions(${exe} PRIVATE FUZZ_KIND=${kind})
  endif()
  target_link_libraries(${exe} PRIVATE ub_cli)
endfunction()
ub_fuzz_target(jsonl fuzz_jsonl.c "")
ub_fuzz_target(ini fuzz_ini.c "")
ub_fuzz_target(corpus fuzz_h5.c 1)
ub_fuzz_target(tokens fuzz_h5.c 2)
ub_fuzz_target(ckpt fuzz_h5.c 3)
ub_fuzz_target(results fuzz_h5.c 4)
if(NOT UB_FUZZ)
  add_test(NAME fuzz_replay COMMAND bash ${UB_TEST_DIR}/e2e_fuzz_replay.sh
    $<TARGET_FILE:unlearnbench> $<TARGET_FILE_DIR:replay_jsonl>)
  set_tests_properties(fuzz_replay PROPERTIES LABELS e2e TIMEOUT 600)
endif()
