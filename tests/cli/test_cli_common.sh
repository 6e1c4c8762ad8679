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
