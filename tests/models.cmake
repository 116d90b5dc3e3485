# Model tests: the module alone (test_models), and against PyTorch's fixture (test_fixture).
add_executable(test_models ${UB_TEST_DIR}/test_models.c)
target_include_directories(test_models PRIVATE ${UB_TEST_DIR})
target_link_libraries(test_models PRIVATE ub_models)
add_test(NAME models COMMAND test_models)
set_tests_properties(models PROPERTIES LABELS unit TIMEOUT 300)

add_executable(test_fixture ${UB_TEST_DIR}/test_fixture.c)
target_include_directories(test_fixture PRIVATE ${UB_TEST_DIR})
target_link_libraries(test_fixture PRIVATE ub_models)
add_test(NAME fixture_pytorch COMMAND test_fixture ${UB_TEST_DIR}/fixtures/gpt_ref.h5)
set_tests_properties(fixture_pytorch PROPERTIES LABELS unit TIMEOUT 300)

set(UB_LICENSES /usr/share/common-licenses)
add_executable(test_train_text ${UB_TEST_DIR}/test_train_text.c)
target_include_directories(test_train_text PRIVATE ${UB_TEST_DIR})
target_link_libraries(test_train_text PRIVATE ub_models)
add_test(NAME train_real_text COMMAND test_train_text ${UB_LICENSES}/GFDL-1.3
         ${UB_LICENSES}/GPL-2 ${UB_LICENSES}/GPL-3 ${UB_LICENSES}/Apache-2.0
         ${UB_LICENSES}/MPL-2.0 ${UB_LICENSES}/LGPL-2.1)
set_tests_properties(train_real_text PROPERTIES LABELS e2e TIMEOUT 600)

# CLI end-to-end runs (bash scripts driving the built binary).
add_test(NAME cli_bad_input COMMAND bash ${UB_TEST_DIR}/e2e_cli.sh $<TARGET_FILE:unlearnbench>)
add_test(NAME train_resume_bitwise COMMAND bash ${UB_TEST_DIR}/e2e_resume.sh $<TARGET_FILE:unlearnbench>)
add_test(NAME score_vs_pytorch COMMAND bash ${UB_TEST_DIR}/e2e_score_torch.sh
         $<TARGET_FILE:unlearnbench> ${PROJECT_SOURCE_DIR}/scripts)
set_tests_properties(cli_bad_input train_resume_bitwise PROPERTIES LABELS e2e TIMEOUT 600)
set_tests_properties(score_vs_pytorch PROPERTIES LABELS "e2e;python" TIMEOUT 600 SKIP_RETURN_CODE 77)
