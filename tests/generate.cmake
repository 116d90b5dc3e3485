# Synthetic corpus generator: determinism, UTF-8, planted secrets (exact counts), heavy tail,
# configured fractions, config validation; prints posts/s of the "default" profile.
ub_c_test(NAME generate SOURCE test_generate.c LIB ub_datasets)
