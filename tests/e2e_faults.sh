#!/usr/bin/env bash
# End to end, write failures: a run that cannot write results.h5 (a file size limit, as on a
# full disk: EFBIG instead of ENOSPC) or report.md (a device that is always full) stops with
# one line naming the file and a non-zero exit code, leaves the earlier results intact, and
# leaves no temporary file behind.
# Usage: e2e_faults.sh UNLEARNBENCH
set -uo pipefail
ub="$1"
source "$(dirname "$0")/lib.sh"
# two seeds: the merged results.h5 is about twice a seed's file (DIR/seeds/, merged at the end)
args=(--seeds 2 "${micro_args[@]}")
d="$tmp/run"
# the corpus apart from the run directory, so that results.h5 is the largest file a run writes
"$ub" corpus generate --profile quick --seed 1 --out "$tmp/corpus.h5" >/dev/null 2>"$tmp/err" || { bad "corpus"; cat "$tmp/err"; exit 1; }
args+=(--corpus "$tmp/corpus.h5")
"$ub" run "${args[@]}" --out "$d" >/dev/null 2>"$tmp/err" && ok || { bad "first run"; cat "$tmp/err"; exit 1; }
sha256sum "$d/results.h5" "$d/report.md" >"$tmp/sums"
# a file size limit between the largest file written before results.h5 (the checkpoints) and
# results.h5 itself: only results.h5 hits it
big=$(stat -c %s "$d"/models/*.h5 | sort -n | tail -1)
res=$(stat -c %s "$d/results.h5")
if (( res > big + 65536 )); then
  lim=$(( (big + res) / 2 / 1024 ))
  (ulimit -f "$lim"; trap '' XFSZ; exec "$ub" run "${args[@]}" --seed 2 --out "$d") >/dev/null 2>"$tmp/err"; rc=$?
  [[ $rc -eq 1 && $(wc -l <"$tmp/err") -eq 1 ]] && grep -q "results.h5.tmp.[^:]*: cannot write .*(disk full, quota or file size limit?)" "$tmp/err" \
    && ok || { bad "results.h5 over a file size limit: one line naming it, exit 1 (got $rc)"; cat "$tmp/err"; }
  sha256sum -c --quiet "$tmp/sums" && ok || bad "the earlier results are intact after a failed write"
  ls "$d" "$d/models" | grep -q "\.tmp" && bad "a temporary file was left behind: $(ls "$d" | grep tmp)" || ok
else
  bad "results.h5 ($res bytes) is not larger than every earlier file ($big): no limit separates them"
fi
# report.md onto a device that is always full
ln -s /dev/full "$d/report.md.tmp"
"$ub" report "$d" >/dev/null 2>"$tmp/err"; rc=$?
[[ $rc -eq 1 ]] && grep -q "report.md" "$tmp/err" && [[ $(wc -l <"$tmp/err") -eq 1 ]] \
  && ok || { bad "report.md on a full device: one line naming it, exit 1 (got $rc)"; cat "$tmp/err"; }
rm -f "$d/report.md.tmp"
sha256sum -c --quiet "$tmp/sums" && ok || bad "report.md intact after the failed rewrite"
finish
