#!/usr/bin/env bash
# End to end, the grid of forget-set sizes (`run --forget-sizes`): every size gets a merged
# results.h5 equal to a plain multi-seed run of that size, the tasks split by hand
# (--task-index/--task-count, then a run without them merges) and under mpirun (when Open MPI
# is installed and the binary was built with it) give the same bytes, the shadow models are
# trained once for all tasks, a re-run skips complete tasks, and bad lists fail cleanly.
# Usage: e2e_grid.sh UNLEARNBENCH
set -uo pipefail
ub="$1"
source "$(dirname "$0")/lib.sh"
args=(--seeds 2 --model micro --steps 10 --batch 4 --continued-steps 4 --candidates 4 --eval-posts 8
      --sisa-shards 2 --sisa-slices 1 --threads 1 --methods finetune,npo
      --method-params "finetune:steps=1,batch=2;npo:steps=1,batch=2" --quiet --no-plots)
check_grid() { # a complete grid directory
  for f in grid.md users_1/results.h5 users_1/report.md frac_0.05/results.h5 frac_0.05/timings.h5 \
           frac_0.05/report.md users_1/seed_2/results.h5; do
    [[ -s "$1/$f" ]] && ok || bad "missing $f"
  done
  grep -q "| users_1 | 2 | 1.0 |" "$1/grid.md" && grep -q "| npo |" "$1/grid.md" && ok || bad "grid.md content"
}
# one process runs the whole grid (the Sanitize half runs the grid split in two processes below,
# the same code and more; comparing the two is the Release build's)
g="$tmp/h"
if ! sanitize; then
  g="$tmp/g"
  "$ub" run "${args[@]}" --forget-sizes 1,5% --out "$g" 2>"$tmp/err" && ok || { bad "grid run"; cat "$tmp/err"; }
  check_grid "$g"
fi
# the merged size equals a plain run of that size (same seeds, same corpus bytes; a data check,
# the Release build's)
if ! sanitize; then
  "$ub" run "${args[@]}" --forget-frac 0.05 --out "$tmp/p" 2>"$tmp/err" && ok || { bad "plain run"; cat "$tmp/err"; }
fi
if ! sanitize && /usr/bin/python3 -c "import h5py, numpy" 2>/dev/null; then
  /usr/bin/python3 - "$tmp/g/frac_0.05/results.h5" "$tmp/p/results.h5" <<'PY' && ok || bad "merged != plain run"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
assert a["metrics"].shape == b["metrics"].shape == (2, a["metrics"].shape[1], a["metrics"].shape[2])
np.testing.assert_array_equal(a["metrics"][...], b["metrics"][...])
assert list(a["seeds"][...]) == [1, 2]
for s in ("seed_1", "seed_2"):
    for d in ("forget_users", "models/original/forget/loss", "models/npo/secrets/exposure_rank",
              "models/retrain_ref/probe_rank"):
        np.testing.assert_array_equal(a[s][d][...], b[s][d][...])
assert list(a["model_names"].asstr()[...]) == list(b["model_names"].asstr()[...])
assert "seeds = 2" in a.attrs["config"] and "forget-frac = 0.05" in a.attrs["config"]
PY
fi
# split by hand into two processes, then a plain re-run merges: the same bytes
"$ub" run "${args[@]}" --forget-sizes 1,5% --task-index 0 --task-count 2 --out "$tmp/h" 2>"$tmp/err" \
  && "$ub" run "${args[@]}" --forget-sizes 1,5% --task-index 1 --task-count 2 --out "$tmp/h" 2>>"$tmp/err" \
  && ok || { bad "tasks by hand"; cat "$tmp/err"; }
[[ ! -e "$tmp/h/frac_0.05/results.h5" ]] && ok || bad "a process of several merged on its own"
# the quick preset's 8 shadow models serve every task of both sizes: 8 files in the shared cache
[[ $(ls "$tmp/h/models" | grep -c '^shadow[0-9]*-') -eq 8 ]] && ok || { bad "shadows in the grid's cache"; ls "$tmp/h/models"; }
"$ub" run "${args[@]}" --forget-sizes 1,5% --out "$tmp/h" 2>"$tmp/err" && ok || { bad "merge run"; cat "$tmp/err"; }
if sanitize; then
  check_grid "$tmp/h"
else
  cmp -s "$tmp/g/frac_0.05/results.h5" "$tmp/h/frac_0.05/results.h5" && cmp -s "$tmp/g/users_1/results.h5" "$tmp/h/users_1/results.h5" \
    && ok || bad "tasks by hand give other bytes than one process"
fi
# a re-run skips every complete task and rewrites the same bytes
cp "$tmp/h/frac_0.05/results.h5" "$tmp/h_frac.h5"
"$ub" run "${args[@]}" --forget-sizes 1,5% --out "$g" 2>/dev/null && cmp -s "$g/frac_0.05/results.h5" "$tmp/h_frac.h5" \
  && ok || bad "re-run of a complete grid"
"$ub" run "${args[@]}" --forget-sizes 1,5% --out "$g" 2>&1 | grep -q "skipped" && bad "--quiet prints" || ok
# a task directory of another configuration is refused
"$ub" run "${args[@]}" --forget-sizes 1,5% --steps 21 --out "$g" >/dev/null 2>"$tmp/err"; rc=$?
[[ $rc -ne 0 ]] && grep -q "another configuration" "$tmp/err" && ok || { bad "stale task accepted (exit $rc)"; cat "$tmp/err"; }
# under mpirun, when there is one and the binary uses it
if command -v mpirun >/dev/null && grep -q "MPI_C_FOUND:BOOL=TRUE" "$(dirname "$ub")/CMakeCache.txt" 2>/dev/null; then
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe --bind-to none -np 3 \
    "$ub" run "${args[@]}" --forget-sizes 1,5% --out "$tmp/m" >"$tmp/mpi" 2>&1 \
    && cmp -s "$tmp/h_frac.h5" "$tmp/m/frac_0.05/results.h5" && [[ -s "$tmp/m/grid.md" ]] \
    && ok || { bad "mpirun -np 3"; tail -20 "$tmp/mpi"; }
else
  echo "note: no mpirun or no MPI build: the MPI case is not tested here"
fi
"$ub" run --forget-sizes 1,abc --out "$tmp/e" >/dev/null 2>"$tmp/err"; [[ $? -ne 0 ]] && grep -q "abc" "$tmp/err" \
  && [[ $(wc -l <"$tmp/err") -eq 1 ]] && ok || bad "bad size list"
"$ub" run --forget-sizes 1 --forget-frac 0.05 --out "$tmp/e" >/dev/null 2>&1; [[ $? -eq 2 ]] && ok || bad "sizes and frac together"
finish
