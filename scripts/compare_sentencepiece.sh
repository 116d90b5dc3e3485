#!/usr/bin/env bash
# Our byte-level BPE against SentencePiece's BPE on the same text, one after the other, so the
# ratio is measured on one machine at one time. Needs Debian's `sentencepiece` package
# (spm_train, spm_encode; installed here if missing and running as root) and a built
# build/unlearnbench. Usage: scripts/compare_sentencepiece.sh TEXT [VOCAB] [THREADS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
text="${1:?usage: compare_sentencepiece.sh TEXT [VOCAB] [THREADS]}"
vocab="${2:-2048}"
threads="${3:-$(nproc)}"
if ! command -v spm_train >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sentencepiece >/dev/null
  else
    echo "spm_train not found: apt-get install sentencepiece" >&2
    exit 77
  fi
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
bytes=$(stat -c %s "$text")
echo "text: $text ($bytes bytes), vocab $vocab, threads $threads"
t0=$(date +%s.%N)
spm_train --input="$text" --model_prefix="$tmp/spm" --vocab_size="$vocab" --model_type=bpe \
  --num_threads="$threads" --character_coverage=1.0 --byte_fallback=true \
  --max_sentence_length=100000 --minloglevel=2 >/dev/null 2>&1
t1=$(date +%s.%N)
spm_encode --model="$tmp/spm.model" --output_format=id <"$text" >"$tmp/ids"
t2=$(date +%s.%N)
awk -v b="$bytes" -v a="$t0" -v m="$t1" -v z="$t2" -v n="$(wc -w <"$tmp/ids")" 'BEGIN {
  printf "SentencePiece: train %.2f s (%.1f MB/s), encode %.2f s (%.1f MB/s, 1 process), %.3f tokens/byte\n",
    m-a, b/1e6/(m-a), z-m, b/1e6/(z-m), n/b }'
"$root/build/unlearnbench" bench corpus --text "$text" --vocab "$vocab" --threads "$threads"
