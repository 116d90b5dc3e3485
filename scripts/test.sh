#!/usr/bin/env bash
# README quickstart, command 2 (and .ci/run): install what is missing, then build and run the
# whole test suite twice: a Release build, and an ASan+UBSan build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/deps.sh" --python
jobs="${UB_TEST_JOBS:-1}"   # tests use every core themselves; parallel ctest would oversubscribe
start=$SECONDS
for type in Release Sanitize; do
  dir="$root/build-test-$(echo "$type" | tr A-Z a-z)"
  echo "== $type build ($dir)"
  "$root/scripts/build.sh" "$type" "$dir"
  # ASan: leaks in HDF5/OpenMP/OpenBLAS library internals are not ours; detect_leaks stays on
  # with their suppressions (tests/lsan.supp).
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" \
  LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    ctest --test-dir "$dir" --output-on-failure -j"$jobs"
done
echo "test suite finished in $((SECONDS - start)) s"
