#!/usr/bin/env bash
# End to end: kill -9 during training, resume, and the final checkpoint is bitwise identical to
# an uninterrupted run; two uninterrupted runs with the same seed and thread count are too.
# Usage: e2e_resume.sh UNLEARNBENCH
set -uo pipefail
ub="$1"
source "$(dirname "$0")/lib.sh"
lic=/usr/share/common-licenses
"$ub" tokens "$lic/GPL-3" --out "$tmp/tok.h5" >/dev/null || { bad "tokens"; exit 1; }
args=(train --preset tiny --tokens "$tmp/tok.h5" --steps 120 --batch 4 --ckpt-every 10 --seed 7 --threads 2)
"$ub" "${args[@]}" --out "$tmp/a.h5" >/dev/null 2>&1 || { bad "run a"; exit 1; }
"$ub" "${args[@]}" --out "$tmp/c.h5" >/dev/null 2>&1 || { bad "run c"; exit 1; }
cmp "$tmp/a.h5" "$tmp/c.h5" && ok || bad "two runs with the same seed differ"

"$ub" "${args[@]}" --out "$tmp/b.h5" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 3000); do [[ -e "$tmp/b.h5" ]] && break; sleep 0.01; done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[[ -e "$tmp/b.h5" ]] || { bad "no checkpoint appeared before the kill"; exit 1; }
"$ub" "${args[@]}" --out "$tmp/b.h5" --resume >"$tmp/out" 2>"$tmp/err" || { bad "resume run"; cat "$tmp/err"; exit 1; }
if ! grep -q "resuming .* at step [0-9]*/120" "$tmp/err"; then
  bad "the killed run was not resumed"; cat "$tmp/err"
else
  ok
fi
grep -o "resuming .*" "$tmp/err"
if grep -q "at step 120/120" "$tmp/err"; then
  echo "note: the run finished before the kill; resume path was trivial"
fi
cmp "$tmp/a.h5" "$tmp/b.h5" && ok || bad "resumed run differs from the uninterrupted one"
# A conflicting flag on resume is refused, not silently applied.
"$ub" "${args[@]}" --steps 999 --out "$tmp/b.h5" --resume >/dev/null 2>"$tmp/err"
[[ $? -eq 2 ]] && grep -q "differs from the checkpoint" "$tmp/err" && ok || bad "conflicting resume"
finish
