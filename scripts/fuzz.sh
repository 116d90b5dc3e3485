#!/usr/bin/env bash
# Fuzz the readers of untrusted input with libFuzzer (Debian's clang): the JSONL importer, the
# INI config reader and the HDF5 readers of a corpus, a token file, a checkpoint and results
# (tests/fuzz/). Builds build-fuzz/ (clang, ASan + UBSan + libFuzzer coverage), makes seed
# inputs (scripts/fuzz_seeds.sh), then runs each target for a number of executions or seconds,
# two at a time, and prints each one's executions and crashes. A crash's input is left in
# build-fuzz/crashes/<target>/: fix the bug, then copy the input to tests/fuzz/regress/<target>/
# so that CTest replays it (test fuzz_replay) on every build.
# Usage: scripts/fuzz.sh [--runs N | --time SECONDS] [--reseal] [TARGET ...]
#   targets: jsonl ini corpus tokens ckpt results (default: all)
#   --reseal: the HDF5 targets seal each mutated file again before reading it, so that libhdf5
#             and our readers parse the changed bytes (without it the seal rejects them first)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=1000000 time=0 reseal=0 targets=()
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --time) time=$2; runs=0; shift 2 ;;
    --reseal) reseal=1; shift ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(jsonl ini corpus tokens ckpt results)
"$root/scripts/deps.sh" --fuzz
b="$root/build-fuzz"
cmake -S "$root" -B "$b" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DUB_FUZZ=ON \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1 -g" >/dev/null
cmake --build "$b" -j"$(nproc)" --target unlearnbench $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null
[[ -d "$b/seeds" ]] || "$root/scripts/fuzz_seeds.sh" "$root/build/unlearnbench" "$b/seeds" 2>/dev/null \
  || "$root/scripts/fuzz_seeds.sh" "$b/unlearnbench" "$b/seeds"
export UB_FUZZ_TMP="$b/tmp" UB_FUZZ_RESEAL=$reseal
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1"
mkdir -p "$UB_FUZZ_TMP"
one() { # one target: its own working corpus, crashes kept apart
  local t=$1 mode=$2 c="$b/corpus/$1$3" x="$b/crashes/$1"
  mkdir -p "$c" "$x"
  local lim=(-runs="$runs"); ((runs)) || lim=(-max_total_time="$time")
  local rc=0
  "$b/tests/fuzz_$t" "${lim[@]}" -max_len=$((2 * 1024 * 1024)) -rss_limit_mb=4096 -timeout=60 \
    -artifact_prefix="$x/" -print_final_stats=1 "$c" "$b/seeds/$t" >"$b/fuzz_$t$3.log" 2>&1 || rc=$?
  local n; n=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$b/fuzz_$t$3.log" | grep -o "[0-9]*$" || echo "?")
  local s; s=$(grep -o "Done [0-9]* runs in [0-9]* second" "$b/fuzz_$t$3.log" | grep -o "in [0-9]*" | grep -o "[0-9]*" || echo "?")
  if ((rc == 0)); then echo "fuzz_$t$mode: $n executions in ${s:-?} s, no crash"
  else echo "fuzz_$t$mode: CRASH after $n executions (exit $rc): $(ls "$x" | head -3) (log: $b/fuzz_$t$3.log)"; fi
  return $rc
}
mode="" sfx=""; ((reseal)) && mode=" (resealed)" sfx="-reseal"
fail=0 i=0 pids=()
for t in "${targets[@]}"; do
  one "$t" "$mode" "$sfx" & pids+=($!)
  i=$((i + 1))
  if (( i % 2 == 0 )); then for p in "${pids[@]}"; do wait "$p" || fail=1; done; pids=(); fi
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
exit $fail
