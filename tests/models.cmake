# Model tests: the module alone (test_models), and against PyTorch's fixture (test_fixture).
ub_c_test(NAME models SOURCE test_models.c LIB ub_models)

ub_c_test(NAME fixture_pytorch SOURCE test_fixture.c LIB ub_models ARGS ${UB_TEST_DIR}/fixtures/gpt_ref.h5)

set(UB_LICENSES /usr/share/common-licenses)
ub_c_test(NAME train_real_text SOURCE test_train_text.c LIB ub_models LABELS e2e TIMEOUT 600
          ARGS ${UB_LICENSES}/GFDL-1.3 ${UB_LICENSES}/GPL-2 ${UB_LICENSES}/GPL-3
               ${UB_LICENSES}/Apache-2.0 ${UB_LICENSES}/MPL-2.0 ${UB_LICENSES}/LGPL-2.1)

# CLI end-to-end runs (bash scripts driving the built binary).
add_test(NAME cli_bad_input COMMAND bash ${UB_TEST_DIR}/e2e_cli.sh $<TARGET_FILE:unlearnbench>)
add_test(NAME train_resume_bitwise COMMAND bash ${UB_TEST_DIR}/e2e_resume.sh $<TARGET_FILE:unlearnbench>)
add_test(NAME score_vs_pytorch COMMAND bash ${UB_TEST_DIR}/e2e_score_torch.sh
         $<TARGET_FILE:unlearnbench> ${PROJECT_SOURCE_DIR}/scripts)
set_tests_properties(cli_bad_input train_resume_bitwise PROPERTIES LABELS e2e TIMEOUT 600)
set_tests_properties(score_vs_pytorch PROPERTIES LABELS "e2e;python" TIMEOUT 600 SKIP_RETURN_CODE 77)
# train on a token file without vocab_size (--vocab-size stands in); h5py strips the attribute.
add_test(NAME train_tokens_vocab COMMAND bash ${UB_TEST_DIR}/e2e_train_tokens.sh $<TARGET_FILE:unlearnbench>)
set_tests_properties(train_tokens_vocab PROPERTIES LABELS "e2e;python" TIMEOUT 300 SKIP_RETURN_CODE 77)
ub_c_test(NAME kv SOURCE test_kv.c LIB ub_models)
# Round-to-nearest weight quantization (the quantization attack on unlearning).
ub_c_test(NAME quant SOURCE test_quant.c LIB ub_models TIMEOUT 60)
