#!/usr/bin/env bash
# A real-text corpus for `unlearnbench run --corpus`: the King James Bible (public domain), from
# Debian's bible-kjv package, as JSONL with one "user" per chapter and one post per verse.
# Every EVERY-th chapter is kept (default 8: 149 chapters, about 0.5 MB), so that the tiny model
# sees the text for several epochs within minutes.
#   scripts/kjv_corpus.sh OUT.jsonl [EVERY]
#   build/unlearnbench corpus import OUT.jsonl --out kjv.h5
#   build/unlearnbench run --corpus kjv.h5 --all-posts --out out/kjv
# Chapters of one book share a style, so F (chapters) and the non-members (other chapters) come
# from the same distribution only roughly: the measure is original against retrain, not 0.5.
set -euo pipefail
out="${1:?usage: kjv_corpus.sh OUT.jsonl [EVERY]}"
every="${2:-8}"
if ! command -v bible >/dev/null; then
  [[ $(id -u) -eq 0 ]] || { echo "kjv_corpus: needs the bible-kjv package (apt-get install bible-kjv)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bible-kjv >/dev/null
fi
# "Ge1:1 In the beginning ..." -> {"user":"Ge1","text":"In the beginning ..."}
bible -f "gen1:1-rev22:21" | awk -v every="$every" '
  {
    ref = $1; sub(/:.*/, "", ref)           # book and chapter, e.g. "Ge1", "1Sa3"
    if (ref != last) { n++; last = ref }
    if ((n - 1) % every) next
    text = substr($0, index($0, " ") + 1)
    gsub(/\\/, "\\\\", text); gsub(/"/, "\\\"", text)
    printf "{\"user\":\"%s\",\"text\":\"%s\"}\n", ref, text
  }' >"$out.tmp"
mv "$out.tmp" "$out"
echo "kjv_corpus: $(wc -l <"$out") verses of $(cut -d'"' -f4 "$out" | sort -u | wc -l) chapters -> $out" >&2
