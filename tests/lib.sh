# tests/lib.sh: the pass/fail bookkeeping shared by the end-to-end scripts tests/e2e_*.sh.
# Source it near the top of a script, after `set -uo pipefail` and after reading the arguments:
#
#   source "$(dirname "$0")/lib.sh"
#
# What it provides:
#   $tmp        a fresh temporary directory (mktemp -d), removed when the script exits (an EXIT
#               trap set here; bash runs it on `exit`, on the end of the script and on SIGINT/TERM).
#   ok          count one passed check. Returns 0.
#   bad MSG...  print "FAIL: MSG..." on stdout and count one failed check. Returns 0, so that
#               `cond && ok || bad "..."` and `cond && bad "..." || ok` each count exactly once.
#   expect CODE PATTERN -- CMD [ARGS...]
#               run CMD with stdout to $tmp/out and stderr to $tmp/err. It passes (ok) when the
#               exit code is CODE and stderr is exactly one line (one newline) matching
#               `grep -q -- PATTERN`; otherwise it prints
#               "FAIL: CMD ARGS -> exit RC (want CODE), N stderr lines (want 1), stderr:"
#               followed by the stderr, and counts a failure. Returns 0.
#   finish      print "N passed, M failed" and exit: 1 if any check failed or if none passed (a
#               script that ran no check cannot pass), else 0. Call it last.
#   micro_args  the options of a micro run of the benchmark (see the end of this file).
#   sanitize    true in the Sanitize build's suite (UB_TEST_SANITIZE=1, set by
#               tests/CMakeLists.txt). A script skips there only what repeats a code path it
#               has already run (a second identical run for byte equality, more random trials
#               of the same check): byte equality and trial counts are the Release build's to
#               check, memory errors on every path the sanitizer build's.
#   at_exit CMD...
#               register one more cleanup command (one string, run with eval) for the EXIT trap,
#               e.g. at_exit 'kill "$pid" 2>/dev/null'. They run last-registered first, then
#               $tmp is removed. Do not set an EXIT trap of your own: it would replace this one.
#
# The counts live in a file, not in shell variables, so ok/bad/expect also count when called in
# a subshell or a pipeline (`... | while read -r l; do bad "$l"; done`). Scripts that stop on a
# fatal setup failure may do so with `bad "what failed"; exit 1` (the trap still cleans up).
# lib.sh sets no shell options: each script keeps its own `set -uo pipefail`; the functions here
# are safe under set -u and set -e.

if [[ -n ${_lib_sh_loaded:-} ]]; then
  return 0
fi
_lib_sh_loaded=1
_lib_cleanups=()

_lib_cleanup() {
  local i
  for ((i = ${#_lib_cleanups[@]} - 1; i >= 0; i--)); do
    eval "${_lib_cleanups[i]}" || true
  done
  rm -rf -- "${_lib_tmp:-}" "${_lib_results:-}"
}
trap _lib_cleanup EXIT

tmp="$(mktemp -d)" || { echo "FAIL: mktemp -d"; exit 1; }
_lib_tmp="$tmp"
_lib_results="$(mktemp)" || { echo "FAIL: mktemp"; exit 1; }

at_exit() {
  _lib_cleanups+=("$*")
}

ok() {
  echo pass >>"$_lib_results"
}

bad() {
  echo "FAIL: $*"
  echo fail >>"$_lib_results"
}

expect() {
  if [[ $# -lt 4 || ${3-} != "--" || ! ${1-} =~ ^[0-9]+$ ]]; then
    bad "expect: usage: expect CODE PATTERN -- CMD [ARGS...] (got: $*)"
    return 0
  fi
  local code="$1" pat="$2"
  shift 3
  local rc=0 lines
  "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  lines=$(wc -l <"$tmp/err")
  if [[ $rc -ne $code || $lines -ne 1 ]] || ! grep -q -- "$pat" "$tmp/err"; then
    bad "$* -> exit $rc (want $code), $lines stderr lines (want 1), stderr:"
    cat "$tmp/err"
  else
    ok
  fi
  return 0
}

sanitize() {
  [[ -n ${UB_TEST_SANITIZE:-} ]]
}

finish() {
  local passes fails
  if [[ ! -f $_lib_results ]]; then
    echo "FAIL: lib.sh: the results file $_lib_results is gone"
    exit 1
  fi
  passes=$(grep -c '^pass$' "$_lib_results") || true
  fails=$(grep -c '^fail$' "$_lib_results") || true
  echo "$passes passed, $fails failed"
  if [[ $fails -ne 0 ]]; then
    exit 1
  fi
  if [[ $passes -eq 0 ]]; then
    echo "FAIL: no check ran"
    exit 1
  fi
  exit 0
}

# micro_args: a run of the benchmark small enough for every test (micro model, one method, no
# shadow models), shared by the scripts that need a complete run directory; add --seeds N and
# the options a test is about.
micro_args=(--model micro --steps 20 --continued-steps 2 --continued-points 1 --candidates 4
            --eval-posts 12 --nonmember-posts 20 --forget-users 3 --sisa-shards 2 --sisa-slices 2
            --shadows 0 --bootstrap 10 --methods gradient_ascent
            --method-params gradient_ascent:steps=2 --threads 2 --quiet --no-plots)
