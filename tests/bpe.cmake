# Byte-level BPE: round trips, hand-computed merges, determinism across thread counts, HDF5
# save/load and corruption, compression on real English text (plus throughput figures printed).
ub_c_test(NAME bpe SOURCE test_bpe.c LIB ub_datasets ARGS /usr/share/common-licenses)
