#!/usr/bin/env bash
# qbench info: text and JSON describe the machine, the ISA views and their
# disagreements, the backends, and one kernel per family per usable backend; the
# ISA mask (QB_ISA_MASK or --isa) narrows the usable set; bad input exits 2.
qbench=$1 dir=$2
source "$(dirname "$0")/test_cli_common.sh"
rm -rf "$dir" && mkdir -p "$dir"

expect_exit 0 "info --help" -- "$qbench" info --help
expect_in "--isa LIST" "help lists --isa"
expect_exit 2 "info unknown option" -- "$qbench" info --bogus
expect_in "unknown option '--bogus'" "unknown option named"
expect_exit 2 "info stray argument" -- "$qbench" info extra
expect_exit 2 "info --isa with an unknown backend" -- "$qbench" info --isa scalar,avx9
expect_in "unknown backend 'avx9'" "unknown backend named"
expect_exit 2 "info --isa without a value" -- "$qbench" info --isa

expect_exit 0 "info (text)" -- "$qbench" info
expect_in "isa disagreements (libcpuid vs CPUID): " "disagreements line present (none or a list)"
expect_in "usable    " "usable backends listed"
expect_in "qu8_qs8_qs32_gemm" "a kernel family listed"
expect_in "qb_qu8_qs8_qs32_gemm__scalar" "scalar kernel listed"

# JSON: parses; usable backends = the keys of "kernels"; every family's kernel is
# one of the backend's fallback chain (same backend or scalar at least exists);
# scalar is always usable; usable is a subset of built, detected and allowed.
"$qbench" info --json >"$dir/info.json" 2>"$dir/info.err"
[[ $? -eq 0 ]] && pass "info --json exit 0" || fail "info --json failed: $(cat "$dir/info.err")"
if python3 -m json.tool "$dir/info.json" >/dev/null; then pass "info JSON parses"; else fail "info JSON does not parse"; fi
check_info() { # FILE EXPECTED_USABLE_SUBSET_OR_EMPTY
  python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b = d["backends"]
usable = b["usable"]
problems = []
if "scalar" not in usable: problems.append("scalar not usable")
for x in usable:
    if x != "scalar" and not (x in b["built"] and x in b["detected"] and x in b["allowed"]):
        problems.append(f"{x} usable but not built+detected+allowed")
if sorted(d["kernels"].keys()) != sorted(usable):
    problems.append(f"kernels keys {sorted(d['kernels'])} != usable {sorted(usable)}")
for be, fams in d["kernels"].items():
    if not fams: problems.append(f"{be}: no families")
    for fam, k in fams.items():
        if not k["name"].startswith("qb_") or fam.split("_gemm")[0] not in k["name"]:
            problems.append(f"{be}/{fam}: odd kernel name {k['name']}")
        if k["backend"] not in usable: problems.append(f"{be}/{fam}: {k['backend']} not usable")
        if be == "scalar" and k["backend"] != "scalar": problems.append("scalar table not scalar")
if sys.argv[2]:
    allowed = set(sys.argv[2].split(","))
    if not set(usable) <= allowed: problems.append(f"usable {usable} not within {allowed}")
if not isinstance(d["machine"]["isa_disagreements"], list): problems.append("no disagreement list")
if d["isa_disagreement_count"] != len(d["machine"]["isa_disagreements"]):
    problems.append("disagreement count differs from the list")
print("; ".join(problems) or "ok")
sys.exit(1 if problems else 0)
PY
}
out=$(check_info "$dir/info.json" "") && pass "info JSON consistent ($out)" || fail "info JSON: $out"

QB_ISA_MASK=scalar "$qbench" info --json >"$dir/scalar.json"
out=$(check_info "$dir/scalar.json" "scalar") && pass "QB_ISA_MASK=scalar leaves scalar only" || fail "QB_ISA_MASK=scalar: $out"
# --isa narrows the usable set and overrides QB_ISA_MASK. "full" is what the machine
# offers without any mask; the checks can only tell --isa was applied if the machine
# has more than scalar, and say so when it has not.
full=$(env -u QB_ISA_MASK "$qbench" info --json | python3 -c 'import json,sys; print(",".join(json.load(sys.stdin)["backends"]["usable"]))')
env -u QB_ISA_MASK "$qbench" info --json --isa scalar >"$dir/isa_scalar.json"
out=$(check_info "$dir/isa_scalar.json" "scalar") && pass "--isa scalar leaves scalar only" || fail "--isa scalar: $out"
QB_ISA_MASK=scalar "$qbench" info --json --isa "$full" >"$dir/override.json"
got=$(python3 -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["backends"]["usable"]))' "$dir/override.json")
[[ "$got" == "$full" ]] && pass "--isa $full parsed over QB_ISA_MASK=scalar" || fail "--isa override: $got, expected $full"
if [[ "$full" == "scalar" ]]; then
  echo "NOTE: this machine runs scalar only; the --isa checks above cannot tell an ignored --isa"
else
  pass "the machine offers $full: --isa scalar and the override were observable"
fi
# The text and JSON views agree on the usable set.
usable_json=$(python3 -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["backends"]["usable"]))' "$dir/info.json")
"$qbench" info >"$dir/info.txt"
usable_text=$(sed -n 's/^  usable    //p' "$dir/info.txt")
[[ "$usable_json" == "$usable_text" ]] && pass "text and JSON usable agree ($usable_text)" || fail "usable: text '$usable_text' vs JSON '$usable_json'"
finish
