# Shared helpers of the CLI tests (sourced). Each check prints PASS/FAIL; the script
# exits non-zero if any failed.
failures=0
checks=0
pass() { checks=$((checks + 1)); echo "PASS: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }

# expect_exit CODE DESCRIPTION -- command...: runs the command, captures stdout+stderr
# in $out, checks the exit code.
expect_exit() {
  local want=$1 what=$2
  shift 3
  out=$("$@" 2>&1)
  local got=$?
  if [[ $got -eq $want ]]; then pass "$what (exit $got)"; else fail "$what: exit $got, expected $want; output: $out"; fi
}
# expect_in TEXT DESCRIPTION: $out must contain TEXT.
expect_in() {
  if [[ "$out" == *"$1"* ]]; then pass "$2"; else fail "$2: '$1' not in output: $out"; fi
}
# expect_cmp A OP B DESCRIPTION: numeric comparison with awk (OP: < <= > >= ==).
expect_cmp() {
  if awk -v a="$1" -v b="$3" "BEGIN { exit !(a $2 b) }"; then pass "$4 ($1 $2 $3)"; else fail "$4: $1 $2 $3 is false"; fi
}
# json_num KEY: the first numeric value of "KEY": in $out.
json_num() { sed -n "s/.*\"$1\":\([-0-9.eE+]*\).*/\1/p" <<<"$out" | head -n 1; }
finish() {
  echo "$checks checks, $failures failed"
  [[ $failures -eq 0 ]]
}
# usable_backends QBENCH: the backends this machine can run now (QB_ISA_MASK applied),
# comma-separated, best last as `qbench info` lists them.
usable_backends() {
  "$1" info --json | python3 -c 'import json,sys; print(",".join(json.load(sys.stdin)["backends"]["usable"]))'
}
# exact_simd_backend QBENCH: one usable SIMD backend that is exact by design (not
# avx2-sat), empty on a scalar-only host. Tests compare it with scalar when present.
exact_simd_backend() {
  usable_backends "$1" | tr ',' '\n' | grep -v -e '^scalar$' -e '^avx2-sat$' | tail -n 1
}
