#!/usr/bin/env bash
# End to end, flipped bytes: for each kind of file we write (a corpus, a token file, a
# checkpoint, a run's results.h5) one byte at a time is changed at many random places (the seal
# at the start, HDF5's metadata, the data, the last byte), and the file's reader is run on it.
# Each trial must end in one of two ways: a clear error (exit 1, one stderr line naming the
# file) or output identical to the intact file's. A silent change (exit 0, different output) or
# a crash (a signal, a sanitizer report) fails the test. Positions come from a fixed seed, so a
# failure repeats. Usage: e2e_flip.sh UNLEARNBENCH [TRIALS]
set -uo pipefail
ub="$1"
source "$(dirname "$0")/lib.sh"
trials="${2:-100}"
sanitize && trials="${2:-12}" # the same check, fewer trials, in the sanitizer build
RANDOM=20261203
d="$tmp/run"
"$ub" corpus generate --profile quick --seed 1 --out "$tmp/corpus.h5" >/dev/null 2>"$tmp/err" \
  || { bad "corpus"; cat "$tmp/err"; exit 1; }
"$ub" run --seeds 1 "${micro_args[@]}" --corpus "$tmp/corpus.h5" --out "$d" >/dev/null 2>"$tmp/err" \
  || { bad "micro run"; cat "$tmp/err"; exit 1; }
"$ub" tokens /usr/share/common-licenses/GPL-3 --out "$tmp/tok.h5" >/dev/null 2>"$tmp/err" \
  || { bad "tokens"; cat "$tmp/err"; exit 1; }
ck=$(ls "$d"/models/original-s1-*.h5 | head -1)
[[ -f "$ck" ]] || { bad "no checkpoint in the run"; exit 1; }

# The reader of each kind, on the file given as $1; its output goes to $2 (compared as bytes).
read_corpus() { "$ub" corpus info "$1" >"$2"; }
read_tokens() { "$ub" score --model "$ck" --tokens "$1" --out "$2.h5" --threads 2 >/dev/null && cat "$2.h5" >"$2"; }
read_ckpt() { "$ub" score --model "$1" --tokens "$tmp/tok.h5" --out "$2.h5" --threads 2 >/dev/null && cat "$2.h5" >"$2"; }
read_results() { # report.md from results.h5 in a directory of its own
  rm -rf "$tmp/rd"; mkdir -p "$tmp/rd"; cp "$1" "$tmp/rd/results.h5"
  "$ub" report "$tmp/rd" >/dev/null && cat "$tmp/rd/report.md" >"$2"
}

# flip_one FILE POS: XOR the byte at POS with a random non-zero value
flip_one() {
  local b x
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  x=$(( (RANDOM % 255) + 1 ))
  printf "$(printf '\\%03o' $(( b ^ x )))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

for kind in corpus tokens ckpt results; do
  case $kind in
    corpus) src="$tmp/corpus.h5" ;;
    tokens) src="$tmp/tok.h5" ;;
    ckpt) src="$ck" ;;
    results) src="$d/results.h5" ;;
  esac
  "read_$kind" "$src" "$tmp/want" 2>"$tmp/err" || { bad "$kind: the intact file does not read"; cat "$tmp/err"; continue; }
  n=$(stat -c %s "$src")
  errors=0 same=0 silent=0 crashed=0
  for ((t = 0; t < trials; t++)); do
    case $t in
      0) pos=0 ;; 1) pos=511 ;; 2) pos=512 ;; 3) pos=$((n - 1)) ;;
      *) pos=$(( (RANDOM * 32768 + RANDOM) % n )) ;;
    esac
    f="$tmp/flip-$kind.h5"
    cp "$src" "$f"
    flip_one "$f" "$pos"
    "read_$kind" "$f" "$tmp/got" 2>"$tmp/err"; rc=$?
    if [[ $rc -eq 0 ]]; then
      if cmp -s "$tmp/want" "$tmp/got"; then same=$((same + 1))
      else silent=$((silent + 1)); echo "  $kind: byte $pos changed, exit 0, different output"; fi
    elif [[ $rc -eq 1 && $(wc -l <"$tmp/err") -eq 1 ]] && grep -q "flip-$kind.h5\|results.h5" "$tmp/err"; then
      errors=$((errors + 1))
    else
      crashed=$((crashed + 1)); echo "  $kind: byte $pos changed, exit $rc:"; head -5 "$tmp/err"
    fi
  done
  echo "$kind ($n bytes): $trials flips: $errors clear errors, $same identical, $silent silent changes, $crashed other"
  [[ $silent -eq 0 && $crashed -eq 0 && $((errors + same)) -eq $trials ]] && ok || bad "$kind: a flip changed the output silently or crashed"
done
finish
