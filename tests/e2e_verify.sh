#!/usr/bin/env bash
# End to end, `unlearnbench verify`: a run's manifest lists every file it wrote or read with its
# SHA-256; verify passes on the untouched run (hashes, and one seed re-run from config.ini with a
# fresh cache: identical results bytes and checkpoints), fails naming the file after one byte of
# a checkpoint, the corpus or results.h5 changes, and passes again once the byte is restored; a
# results.h5 changed together with its hash in the manifest is caught by the re-run.
# Usage: e2e_verify.sh UNLEARNBENCH
set -uo pipefail
ub="$1"
source "$(dirname "$0")/lib.sh"
args=(--seeds 2 "${micro_args[@]}")
d="$tmp/run"
"$ub" run "${args[@]}" --out "$d" >/dev/null 2>"$tmp/err" && [[ -s "$d/manifest.json" && -s "$d/config.ini" ]] \
  && ok || { bad "run writes manifest.json and config.ini"; cat "$tmp/err"; }
if /usr/bin/python3 -c "import json" 2>/dev/null; then
  /usr/bin/python3 - "$d/manifest.json" <<'PY' && ok || bad "manifest.json is JSON with every file"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["format"] == "unlearnbench-manifest" and m["threads"] == 2 and m["seeds"] == [1, 2]
paths = [f["path"] for f in m["files"]]
for p in ("results.h5", "timings.h5", "config.ini", "report.md", "corpus.h5"):
    assert p in paths, p
assert sum(p.startswith("models/original-s") for p in paths) == 2, paths
assert all(len(f["sha256"]) == 64 and f["bytes"] > 0 for f in m["files"] + [m["binary"]])
for k in ("command", "start_utc", "end_utc", "cpu", "openblas", "openblas_core", "hdf5", "compiler", "mpi"):
    assert m[k], k
PY
fi
"$ub" verify "$d" >"$tmp/v" 2>&1 && grep -q "^PASS results.h5 re-run: seed 1 (its group and metrics, byte for byte)" "$tmp/v" \
  && grep -q "^PASS checkpoint original-s1-.*retrained, identical bytes" "$tmp/v" && grep -q "^verify: [0-9]* passed, 0 failed" "$tmp/v" \
  && ok || { bad "verify passes on an untouched run"; cat "$tmp/v"; }
# one byte changed, then restored: a checkpoint, the corpus, results.h5
flip() { # flip the byte at the middle of $1
  local n; n=$(stat -c %s "$1")
  local off=$((n / 2))
  local b; b=$(od -An -tu1 -j "$off" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $(((b + 1) % 256)))" | dd of="$1" bs=1 seek="$off" conv=notrunc status=none
}
ck=$(cd "$d" && ls models/original-s2-*.h5)
for f in "$ck" corpus.h5 results.h5; do
  cp "$d/$f" "$tmp/keep"
  flip "$d/$f"
  "$ub" verify "$d" --no-rerun >"$tmp/v" 2>&1; rc=$?
  [[ $rc -eq 1 ]] && grep -q "^FAIL $f: sha256 differs" "$tmp/v" && [[ $(grep -c "^FAIL" "$tmp/v") -eq 1 ]] \
    && ok || { bad "verify names $f after one byte changed (exit $rc)"; cat "$tmp/v"; }
  cp "$tmp/keep" "$d/$f"
  "$ub" verify "$d" --no-rerun >"$tmp/v" 2>&1 && ok || { bad "verify passes again once $f is restored"; cat "$tmp/v"; }
done
# a value of seed 1 changed in results.h5 and the manifest's hash updated to match: only the
# re-run can tell, and it names the dataset
if /usr/bin/python3 -c "import h5py" 2>/dev/null; then
  cp "$d/results.h5" "$tmp/keep"; cp "$d/manifest.json" "$tmp/keep.json"
  /usr/bin/python3 - "$d" <<'PY'
import hashlib, h5py, json, sys
d = sys.argv[1]
with h5py.File(f"{d}/results.h5", "r+") as f:
    x = f["seed_1/models/original/forget/loss"]
    v = x[...]; v[0] += 1.0; x[...] = v
# the file's seal forged to match (bench/FORMAT.md, "Seal"): only the re-run can tell now
b = bytearray(open(f"{d}/results.h5", "rb").read())
lines = bytes(b[:512]).rstrip(b"\0").decode().split("\n")
lines[1] = "sha256 " + hashlib.sha256(b[512:]).hexdigest()
lines[2] = "bytes %d" % (len(b) - 512)
head = "\n".join(lines).encode()
b[:512] = head + b"\0" * (512 - len(head))
open(f"{d}/results.h5", "wb").write(b)
h = hashlib.sha256(open(f"{d}/results.h5", "rb").read()).hexdigest()
text = open(f"{d}/manifest.json").read()
m = json.loads(text)
old = [f for f in m["files"] if f["path"] == "results.h5"][0]["sha256"]
open(f"{d}/manifest.json", "w").write(text.replace(old, h))
PY
  "$ub" verify "$d" --use-cache >"$tmp/v" 2>&1; rc=$?
  [[ $rc -eq 1 ]] && grep -q "^PASS results.h5: sha256" "$tmp/v" && grep -q "^FAIL results.h5 re-run" "$tmp/v" \
    && grep -q "models/original/forget/loss: values differ" "$tmp/v" \
    && ok || { bad "the re-run catches a changed value whose hash was updated (exit $rc)"; cat "$tmp/v"; }
  cp "$tmp/keep" "$d/results.h5"; cp "$tmp/keep.json" "$d/manifest.json"
fi
# another thread count: metrics within tolerances, said as such
"$ub" verify "$d" --use-cache --threads 1 >"$tmp/v" 2>&1
grep -q "^re-running seed 1 (metrics within tolerances, 1 threads)" "$tmp/v" \
  && grep -q "results.h5 re-run: seed 1 (metrics within tolerances)" "$tmp/v" \
  && ok || { bad "verify with another thread count compares metrics within tolerances"; cat "$tmp/v"; }
# bad input: no manifest, a seed the run does not have
expect 1 "manifest.json" -- "$ub" verify "$tmp"
"$ub" verify "$d" --seed 9 >"$tmp/v" 2>&1; [[ $? -eq 1 ]] && grep -q "^FAIL re-run: the seed is not one of the run's" "$tmp/v" \
  && ok || bad "verify refuses a seed the run does not have"
finish
