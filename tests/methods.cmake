# Unlearning methods (ub_methods): every registered method on a very small model.
ub_c_test(NAME methods SOURCE test_methods.c LIB ub_methods TIMEOUT 120)
