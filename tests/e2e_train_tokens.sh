#!/usr/bin/env bash
# End to end: `train` on a token file without the vocab_size attribute (as other tools write
# them). With --vocab-size it trains exactly like the same stream with the attribute, and every
# id is checked against the size (a bad one: one line naming the file, position and id, exit 1);
# without it, one line asking for --vocab-size. A file with the attribute keeps its rule:
# --vocab-size may only enlarge the vocabulary. h5py removes the attribute: exit 77 (skipped)
# without it. Usage: e2e_train_tokens.sh UNLEARNBENCH
source "$(dirname "$0")/lib.sh"
ub="$1"
/usr/bin/python3 -c "import h5py" 2>/dev/null || { echo "h5py missing: skipped"; exit 77; }

"$ub" tokens /usr/share/common-licenses/GPL-3 --out "$tmp/with.h5" >/dev/null || { bad "tokens"; finish; }
# noattr.h5: the same stream without vocab_size; badid.h5: also token 7 set to 300 (> 255).
/usr/bin/python3 - "$tmp" <<'PY' || { bad "h5py could not write the fixtures"; finish; }
import sys, h5py
d = sys.argv[1]
# written afresh as another tool would (plain HDF5, no unlearnbench seal)
with h5py.File(f"{d}/with.h5", "r") as src:
    for name, bad_id in (("noattr", None), ("badid", 300)):
        with h5py.File(f"{d}/{name}.h5", "w") as f:
            for k, v in src.attrs.items():
                if k != "vocab_size":
                    f.attrs[k] = v
            t = src["tokens"][...]
            if bad_id is not None:
                t[7] = bad_id
            f.create_dataset("tokens", data=t)
PY

# A model small enough for a few seconds; same seed and threads, so runs compare bitwise.
small=(--n-layer 1 --n-embd 32 --n-head 2 --n-ctx 32 --batch 2 --steps 2 --threads 2)

expect 1 "noattr.h5: attribute vocab_size is missing.*--vocab-size" -- \
  "$ub" train "${small[@]}" --tokens "$tmp/noattr.h5" --out "$tmp/m0.h5"
[[ ! -e "$tmp/m0.h5" ]] && ok || bad "a checkpoint was written without a vocabulary"

if "$ub" train "${small[@]}" --vocab-size 256 --tokens "$tmp/noattr.h5" --out "$tmp/m1.h5" \
     >"$tmp/out" 2>"$tmp/err" && grep -q "trained 2 steps" "$tmp/out" && grep -q "vocab 256" "$tmp/err"; then
  ok
else
  bad "train --vocab-size 256 on a file without vocab_size"; cat "$tmp/out" "$tmp/err"
fi
"$ub" train "${small[@]}" --vocab-size 256 --tokens "$tmp/with.h5" --out "$tmp/m2.h5" >/dev/null 2>&1 \
  || bad "train --vocab-size 256 on the file with vocab_size"
cmp -s "$tmp/m1.h5" "$tmp/m2.h5" && ok || bad "the stream without vocab_size trained differently"

expect 1 "badid.h5: /tokens\[7\] = 300 is outside \[0, 256)" -- \
  "$ub" train "${small[@]}" --vocab-size 256 --tokens "$tmp/badid.h5" --out "$tmp/m3.h5"
expect 1 "noattr.h5: /tokens\[[0-9]*\] = [0-9]* is outside \[0, 100)" -- \
  "$ub" train "${small[@]}" --vocab-size 100 --tokens "$tmp/noattr.h5" --out "$tmp/m3.h5"
expect 2 "vocab_size 1 (given) out of range" -- \
  "$ub" train "${small[@]}" --vocab-size 1 --tokens "$tmp/noattr.h5" --out "$tmp/m3.h5"
[[ ! -e "$tmp/m3.h5" ]] && ok || bad "a checkpoint was written for bad tokens"

# With the attribute, --vocab-size may enlarge the model's vocabulary but not shrink it.
expect 2 "has vocabulary 256 but the model only 200" -- \
  "$ub" train "${small[@]}" --vocab-size 200 --tokens "$tmp/with.h5" --out "$tmp/m4.h5"
"$ub" train "${small[@]}" --vocab-size 300 --tokens "$tmp/with.h5" --out "$tmp/m5.h5" >/dev/null \
  2>"$tmp/err" && grep -q "vocab 300" "$tmp/err" && ok || bad "--vocab-size 300 on a vocab-256 file"
finish
