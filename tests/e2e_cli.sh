#!/usr/bin/env bash
# End to end: the CLI on bad input. Each case must exit non-zero (1 = bad input, 2 = usage),
# never crash (no exit >= 128), print its error as one line naming the file/option, and leave
# earlier outputs intact. Usage: e2e_cli.sh UNLEARNBENCH
set -uo pipefail
ub="$1"
# $tmp, ok, bad, finish and `expect CODE PATTERN -- command...` (exit code CODE, stderr one line
# matching PATTERN)
source "$(dirname "$0")/lib.sh"

lic=/usr/share/common-licenses
"$ub" tokens "$lic/GPL-3" --out "$tmp/tok.h5" >/dev/null || { bad "tokens"; exit 1; }

expect 2 "usage" -- "$ub"
expect 2 "unknown command 'frobnicate'" -- "$ub" frobnicate
expect 2 "unknown option '--bogus'" -- "$ub" train --bogus 1
expect 2 "needs a value" -- "$ub" train --steps
expect 2 "bad value 'ten' for steps" -- "$ub" train --steps ten --tokens "$tmp/tok.h5" --out "$tmp/c.h5"
expect 2 "unknown preset 'huge'" -- "$ub" train --preset huge --tokens "$tmp/tok.h5" --out "$tmp/c.h5"
expect 1 "$tmp/missing.h5: No such file" -- "$ub" train --tokens "$tmp/missing.h5" --out "$tmp/c.h5"
expect 1 "$lic/GPL-3: not an HDF5 file" -- "$ub" train --tokens "$lic/GPL-3" --out "$tmp/c.h5"
head -c 3000 "$tmp/tok.h5" >"$tmp/trunc.h5"
expect 1 "trunc.h5: .*truncated" -- "$ub" train --tokens "$tmp/trunc.h5" --out "$tmp/c.h5"
expect 1 "trunc.h5" -- "$ub" score --model "$tmp/trunc.h5" --tokens "$tmp/tok.h5" --out "$tmp/s.h5"
expect 1 "not an unlearnbench checkpoint" -- "$ub" score --model "$tmp/tok.h5" --tokens "$tmp/tok.h5" --out "$tmp/s.h5"
printf 'steps = 5\nlr = fast\n' >"$tmp/bad.ini"
expect 2 "bad.ini:2: bad value 'fast' for lr" -- "$ub" train --config "$tmp/bad.ini" --tokens "$tmp/tok.h5" --out "$tmp/c.h5"
printf '[train]\nstepz = 5\n' >"$tmp/bad2.ini"
expect 2 "bad2.ini:2: unknown key 'stepz'" -- "$ub" train --config "$tmp/bad2.ini" --tokens "$tmp/tok.h5" --out "$tmp/c.h5"
expect 2 "no-such.ini" -- "$ub" train --config "$tmp/no-such.ini" --tokens "$tmp/tok.h5" --out "$tmp/c.h5"
expect 2 "ctx 100 must be in" -- "$ub" train --ctx 100 --steps 2 --tokens "$tmp/tok.h5" --out "$tmp/c.h5"

# A good short run, configured from a file (the command line overrides it).
printf '[model]\nn_layer = 1\nn_embd = 32\nn_head = 2\n[train]\nsteps = 50\nbatch = 4\n' >"$tmp/good.ini"
if ! "$ub" train --config "$tmp/good.ini" --steps 4 --tokens "$tmp/tok.h5" --out "$tmp/good.h5" \
     >"$tmp/out" 2>"$tmp/err" || ! grep -q "trained 4 steps" "$tmp/out"; then
  bad "config-file run"; cat "$tmp/out" "$tmp/err"
else
  ok
fi
# A diverging run (absurd learning rate, no clipping) stops with a one-line error naming the
# step, exit 1, and the existing checkpoint at --out is untouched.
cp "$tmp/good.h5" "$tmp/keep.h5"
"$ub" train --config "$tmp/good.ini" --lr 1e30 --grad-clip 0 --tokens "$tmp/tok.h5" --out "$tmp/good.h5" \
  >"$tmp/out" 2>"$tmp/err"
rc=$?
if [[ $rc -ne 1 ]] || ! tail -n 1 "$tmp/err" | grep -q "step [0-9]*: .*not finite\|step [0-9]*: training loss is" \
   || ! cmp -s "$tmp/good.h5" "$tmp/keep.h5" || compgen -G "$tmp/good.h5.tmp*" >/dev/null; then
  bad "divergence (exit $rc):"; cat "$tmp/err"
else
  ok
fi
finish
