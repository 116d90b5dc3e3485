#!/usr/bin/env bash
# README quickstart, command 1: install what is missing, build, run the default job.
# Until the benchmark lands, the default job is the training demo: turn real text into tokens,
# train the tiny model, score held-out text, print the figures.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/deps.sh"
"$root/scripts/build.sh" Release
ub="$root/build/unlearnbench"
out="${UB_OUT:-$root/out/demo}"
mkdir -p "$out"
lic=/usr/share/common-licenses
cat "$lic/GPL-2" "$lic/GPL-3" "$lic/Apache-2.0" "$lic/MPL-2.0" "$lic/LGPL-2.1" > "$out/train.txt"
"$ub" tokens "$out/train.txt" --out "$out/train.h5"
"$ub" tokens "$lic/GFDL-1.3" --out "$out/heldout.h5"
"$ub" train --preset tiny --tokens "$out/train.h5" --steps 600 --batch 32 --lr 3e-3 \
  --min-lr 3e-4 --out "$out/ckpt.h5" --ckpt-every 100 --resume
"$ub" score --model "$out/ckpt.h5" --tokens "$out/train.h5" --out "$out/scores_train.h5"
"$ub" score --model "$out/ckpt.h5" --tokens "$out/heldout.h5" --out "$out/scores_heldout.h5"
echo "demo outputs in $out"
