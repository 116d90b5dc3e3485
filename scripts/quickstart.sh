#!/usr/bin/env bash
# README quickstart, command 1: install what is missing (Python too, for the plots), build, and
# run the default benchmark: `unlearnbench run` with the quick preset (a generated corpus, the
# tiny model, 5 seeds, every method and metric; 14 to 17 minutes on 2 cores). Outputs in
# out/quick/ (results.h5, report.md, plots/); the run prints its time.
# UB_OUT=DIR changes the output directory; extra arguments go to `unlearnbench run`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/deps.sh" --python
"$root/scripts/build.sh" Release
out="${UB_OUT:-$root/out/quick}"
start=$SECONDS
"$root/build/unlearnbench" run --out "$out" "$@"
echo "quickstart: the benchmark took $((SECONDS - start)) s; report: $out/report.md"
