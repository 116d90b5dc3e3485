#!/usr/bin/env bash
# Seed inputs of the fuzz targets (tests/fuzz/), one folder per target under DIR, made by the
# benchmark itself: a JSONL file and a config file, a corpus, a token file, a checkpoint and a
# results.h5 of a micro run (all sealed, as the benchmark writes them), plus the hand-written
# inputs of tests/fuzz/seeds/. Used by scripts/fuzz.sh and by the test fuzz_replay.
# Usage: scripts/fuzz_seeds.sh UNLEARNBENCH DIR
set -euo pipefail
ub="$1"; out="$2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$out"/{jsonl,ini,corpus,tokens,ckpt,results}
cp "$root"/tests/fuzz/seeds/jsonl/* "$out/jsonl/"
cp "$root"/tests/fuzz/seeds/ini/* "$out/ini/"
w="$out/.work"; rm -rf "$w"; mkdir -p "$w"
"$ub" corpus generate --profile tiny --seed 1 --users 12 --out "$out/corpus/tiny.h5" >/dev/null
head -c 2000 /usr/share/common-licenses/GPL-3 >"$w/text"
"$ub" tokens "$w/text" --out "$out/tokens/gpl.h5" >/dev/null
"$ub" train --tokens "$out/tokens/gpl.h5" --out "$out/ckpt/micro.h5" --n-layer 1 --n-embd 16 \
  --n-head 2 --n-ctx 16 --batch 2 --steps 2 --threads 1 >/dev/null 2>&1
source "$root/tests/lib.sh" >/dev/null
"$ub" run "${micro_args[@]}" --seeds 1 --bootstrap 2 --out "$w/run" >/dev/null 2>&1
cp "$w/run/results.h5" "$out/results/micro.h5"
"$ub" run --dry-run "${micro_args[@]}" >"$out/ini/micro.ini"
rm -rf "$w"
