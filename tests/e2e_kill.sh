#!/usr/bin/env bash
# End to end, kill -9: a run with methods (2 seeds, 2 methods) killed at several points (while
# the exact models train, during a method, right after a seed is complete, during the second
# seed's methods, after results.h5 but before the manifest), then at random moments over and
# over, and each time started again with the same command, ends with a results.h5 and a model
# cache identical to the bytes of an uninterrupted run, and no temporary file left behind.
# Usage: e2e_kill.sh UNLEARNBENCH
set -uo pipefail
ub="$1"
source "$(dirname "$0")/lib.sh"
RANDOM=9
"$ub" corpus generate --profile quick --seed 1 --out "$tmp/corpus.h5" >/dev/null 2>"$tmp/err" \
  || { bad "corpus"; cat "$tmp/err"; exit 1; }
# micro_args without --quiet (the kill points are read from the progress lines)
args=()
for a in "${micro_args[@]}"; do [[ $a == --quiet ]] || args+=("$a"); done
args+=(--seeds 2 --corpus "$tmp/corpus.h5" --methods gradient_ascent,npo --steps 60
       --method-params "gradient_ascent:steps=20;npo:steps=20")
sanitize && args+=(--steps 30) # its one kill point comes after the training
"$ub" run "${args[@]}" --out "$tmp/ref" >/dev/null 2>"$tmp/err" || { bad "uninterrupted run"; cat "$tmp/err"; exit 1; }
(cd "$tmp/ref/models" && sha256sum *.h5) >"$tmp/ref.sums"

# kill_at DIR PATTERN N: start the run into DIR, kill -9 it once its progress shows the N-th line
# matching PATTERN; returns 1 if the run ended before that.
kill_at() {
  "$ub" run "${args[@]}" --out "$1" >/dev/null 2>"$tmp/log" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(grep -c -- "$2" "$tmp/log") >= $3 )); then
      kill -9 "$pid"; wait "$pid" 2>/dev/null; return 0
    fi
    sleep 0.01
  done
  wait "$pid"; return 1
}
# kill_after DIR SECONDS: start the run into DIR, kill -9 it after SECONDS (0 if it had ended)
kill_after() {
  "$ub" run "${args[@]}" --out "$1" >/dev/null 2>"$tmp/log" &
  local pid=$!
  sleep "$2"
  kill -9 "$pid" 2>/dev/null && { wait "$pid" 2>/dev/null; return 0; }
  wait "$pid"; return 1
}
# same DIR WHAT: finish the run in DIR and compare it with the uninterrupted one
same() {
  "$ub" run "${args[@]}" --out "$1" >/dev/null 2>"$tmp/err" || { bad "$2: the restarted run failed"; cat "$tmp/err"; return; }
  cmp -s "$tmp/ref/results.h5" "$1/results.h5" && ok || bad "$2: results.h5 differs from the uninterrupted run's"
  (cd "$1/models" && sha256sum -c --quiet "$tmp/ref.sums" >/dev/null 2>&1) && \
    [[ $(ls "$1/models" | wc -l) -eq $(wc -l <"$tmp/ref.sums") ]] && ok || bad "$2: the model cache differs"
  [[ -z $(find "$1" -name "*.tmp.*") && ! -e "$1/seeds" ]] && ok || bad "$2: files left behind: $(find "$1" -name "*.tmp.*" -o -name seeds)"
}

points=("retrain-s1 step 30/60|1|while retrain of seed 1 trains"
        "^  npo \.\.\.|1|during npo of seed 1"
        "^seed 2 |1|right after seed 1 is complete"
        "^  npo \.\.\.|2|during npo of seed 2"
        "^run finished|1|after results.h5, before the manifest")
# the sanitizer build: one kill point, during seed 2's methods (a kept seed file and a cached
# method's result both load on restart: the resume paths), no random kills
sanitize && points=("${points[3]}")
i=0
for p in "${points[@]}"; do
  IFS='|' read -r pat n what <<<"$p"
  d="$tmp/k$i"; i=$((i + 1))
  if kill_at "$d" "$pat" "$n"; then
    ok
    same "$d" "killed $what"
  else
    bad "the run ended before the kill point ($what)"
  fi
done
# a second kill in the restarted run: during seed 1's methods, then during seed 2's training
if ! sanitize; then
d="$tmp/twice"
kill_at "$d" "^  gradient_ascent \.\.\." 1 && kill_at "$d" "original-s2 step 12/60" 1 && ok \
  || bad "the run ended before the kill points (twice)"
same "$d" "killed twice"
fi
# random moments: up to 4 kills after 0.05-1.5 s each, restarting every time
d="$tmp/random"
kills=0
n_random=4
sanitize && n_random=0
for ((t = 0; t < n_random; t++)); do
  kill_after "$d" "$(printf '0.%02d' $((5 + RANDOM % 95)))" && kills=$((kills + 1))
done
echo "random moments: $kills kills"
if ((n_random)); then
  (( kills > 0 )) && ok || bad "no random kill landed before the run ended"
  same "$d" "killed at $kills random moments"
fi
finish
