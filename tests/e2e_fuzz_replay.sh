#!/usr/bin/env bash
# The fuzz targets' saved inputs, replayed without libFuzzer: each target's seeds
# (scripts/fuzz_seeds.sh: valid and broken files of its kind) and every input a fuzzer found
# (tests/fuzz/regress/<target>/, the crashes it found once, fixed since). Each replay must end
# without a crash or a sanitizer report. Usage: e2e_fuzz_replay.sh UNLEARNBENCH REPLAY_DIR
set -uo pipefail
ub="$1"; bin="$2"
source "$(dirname "$0")/lib.sh"
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/fuzz_seeds.sh" "$ub" "$tmp/seeds" 2>"$tmp/err" || { bad "fuzz_seeds.sh"; cat "$tmp/err"; exit 1; }
export UB_FUZZ_TMP="$tmp"
for t in jsonl ini corpus tokens ckpt results; do
  dirs=("$tmp/seeds/$t")
  [[ -d "$root/tests/fuzz/regress/$t" ]] && dirs+=("$root/tests/fuzz/regress/$t")
  "$bin/replay_$t" "${dirs[@]}" >"$tmp/out" 2>"$tmp/err"; rc=$?
  [[ $rc -eq 0 ]] && grep -q "no crash" "$tmp/out" && ok || { bad "replay_$t (exit $rc)"; tail -20 "$tmp/err"; }
done
finish
