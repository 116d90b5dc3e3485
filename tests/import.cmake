# JSON Lines import: every field, every kind of bad line (strict and skip_invalid), a large
# generated file (counts, a peak-RSS bound, import speed printed), missing files.
ub_c_test(NAME import SOURCE test_import.c LIB ub_datasets TIMEOUT 120)
