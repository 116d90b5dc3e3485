#!/usr/bin/env bash
# End to end: `corpus generate|import|info|sample`. Same seed -> byte-identical file, another
# seed -> a different one; a bad JSONL line stops the import with its line number and no output;
# --skip-invalid imports the rest; h5py reads the file without our code (if installed).
# Usage: e2e_corpus.sh UNLEARNBENCH
set -uo pipefail
ub="$1"
source "$(dirname "$0")/lib.sh"

"$ub" corpus generate --profile tiny --seed 5 --vocab 512 --out "$tmp/a.h5" >/dev/null || bad "generate a"
"$ub" corpus generate --profile tiny --seed 5 --vocab 512 --threads 1 --out "$tmp/b.h5" >/dev/null || bad "generate b"
"$ub" corpus generate --profile tiny --seed 6 --vocab 512 --out "$tmp/c.h5" >/dev/null || bad "generate c"
cmp -s "$tmp/a.h5" "$tmp/b.h5" && ok || bad "same seed gives different files"
cmp -s "$tmp/a.h5" "$tmp/c.h5" && bad "different seeds give the same file" || ok
"$ub" corpus info "$tmp/a.h5" >"$tmp/info" && grep -q "^users" "$tmp/info" && grep -q "^secrets" "$tmp/info" && ok || bad "info"
"$ub" corpus sample "$tmp/a.h5" --user 0 --max 3 >"$tmp/sample" && grep -q "^user 0 @" "$tmp/sample" && ok || bad "sample"
"$ub" corpus sample "$tmp/a.h5" --user nobody-here >/dev/null 2>"$tmp/err"; [[ $? -eq 1 ]] && ok || bad "sample of a missing user"

"$ub" corpus split "$tmp/a.h5" --out-dir "$tmp/sp" --forget-rule heavy --forget-frac 0.1 >"$tmp/out" \
  && grep -q "^split: .* in F by rule heavy" "$tmp/out" && [[ -e "$tmp/sp/retain.h5" && -e "$tmp/sp/forget_fresh.h5" ]] \
  && ok || { bad "split"; cat "$tmp/out"; }
"$ub" corpus split "$tmp/a.h5" --out-dir "$tmp/sp2" --forget-rule nonsense >/dev/null 2>&1; [[ $? -eq 2 ]] && ok || bad "split with an unknown rule"

# The trainer reads a corpus file's posts as its token stream (vocabulary from its tokenizer).
"$ub" train --preset tiny --tokens "$tmp/a.h5" --steps 3 --batch 2 --out "$tmp/m.h5" \
  >"$tmp/out" 2>"$tmp/err" && grep -q "trained 3 steps" "$tmp/out" && ok || { bad "train on a corpus"; cat "$tmp/err"; }
"$ub" train --preset tiny --vocab-size 256 --tokens "$tmp/a.h5" --steps 3 --out "$tmp/m2.h5" >/dev/null 2>"$tmp/err"
[[ $? -eq 2 ]] && grep -q "vocabulary 512 but the model only 256" "$tmp/err" && ok || bad "vocab mismatch"

printf '%s\n' '{"user":"anna","text":"Hallo Welt","time":"2024-05-01T10:00:00Z"}' \
  '{"user":"bob","text":' '{"user":"bob","text":"hi @anna","reply_to":1}' >"$tmp/in.jsonl"
"$ub" corpus import "$tmp/in.jsonl" --vocab 258 --out "$tmp/i.h5" >/dev/null 2>"$tmp/err"
rc=$?
if [[ $rc -eq 1 && $(wc -l <"$tmp/err") -eq 1 ]] && grep -q "in.jsonl:2:" "$tmp/err" && [[ ! -e "$tmp/i.h5" ]]; then ok; else bad "import of a bad line (exit $rc)"; cat "$tmp/err"; fi
"$ub" corpus import "$tmp/in.jsonl" --vocab 258 --skip-invalid --out "$tmp/i.h5" >"$tmp/out" 2>"$tmp/err" \
  && grep -q "skipped 1 invalid" "$tmp/err" && grep -q "2 posts" "$tmp/out" && ok || { bad "import --skip-invalid"; cat "$tmp/out" "$tmp/err"; }

if /usr/bin/python3 -c "import h5py" 2>/dev/null; then
  /usr/bin/python3 - "$tmp/a.h5" <<'PY' && ok || bad "h5py read"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert f.attrs["format"] == "unlearnbench-corpus"
    texts = f["posts/text"].asstr()[...]
    assert len(texts) == f.attrs["n_posts"] and all(isinstance(t, str) for t in texts)
    ids, off = f["tokens/ids"][...], f["tokens/offsets"][...]
    assert off[-1] == len(ids) and len(off) == len(texts) + 1
    handles = f["users/handle"].asstr()[...]
    assert len(set(handles)) == len(handles)
PY
fi
finish
