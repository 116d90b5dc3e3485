#!/usr/bin/env bash
# End to end: an independent PyTorch implementation that reads only the checkpoint (by GPT-2
# names) reproduces `unlearnbench score`'s per-token losses within 1e-3.
# Usage: e2e_score_torch.sh UNLEARNBENCH SCRIPTS_DIR. Exit 77 (skipped) without torch/h5py.
set -uo pipefail
ub="$1" scripts="$2"
/usr/bin/python3 -c "import torch, h5py" 2>/dev/null || { echo "torch/h5py missing: skipped"; exit 77; }
source "$(dirname "$0")/lib.sh"
lic=/usr/share/common-licenses
"$ub" tokens "$lic/GPL-3" --out "$tmp/tok.h5" >/dev/null || { bad "tokens GPL-3"; exit 1; }
"$ub" tokens "$lic/GFDL-1.3" --out "$tmp/held.h5" >/dev/null || { bad "tokens GFDL-1.3"; exit 1; }
"$ub" train --preset tiny --tokens "$tmp/tok.h5" --steps 40 --batch 8 --lr 3e-3 --out "$tmp/m.h5" >/dev/null 2>&1 || { bad "train"; exit 1; }
"$ub" score --model "$tmp/m.h5" --tokens "$tmp/held.h5" --out "$tmp/s.h5" || { bad "score"; exit 1; }
/usr/bin/python3 "$scripts/check_score.py" --model "$tmp/m.h5" --scores "$tmp/s.h5" --tol 1e-3 \
  && ok || bad "PyTorch's per-token losses differ from unlearnbench score's (check_score.py)"
finish
