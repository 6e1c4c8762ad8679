#!/bin/bash
# qbench recommend --verify end to end: a small MLP trained for one epoch (qbench train;
# its file is not named mlp.onnx: a user model may not take a reference model's name),
# a sweep measuring w8 and w4 weights with per-layer sensitivity on 300 test images,
# then the mixed-precision plan run end to end. Checks: the plan is reported VERIFIED
# with a measured drop (never "VERIFICATION PENDING"); a plan whose every layer takes
# the w4 qconfig measures exactly the w4 qconfig's drop of the sweep (the mixed runtime
# reproduces a plain run); the --config file carries the measurement; exit status
# follows the measured budget; errors for a history id and a run without sensitivity.
# Usage: test_cli_recommend_verify.sh QBENCH WORKDIR
qbench=$1
work=$2
source "$(dirname "$0")/test_cli_common.sh"
rm -rf "$work" && mkdir -p "$work" || exit 1
cd "$work" || exit 1

expect_exit 0 "train a small mlp" -- "$qbench" train mlp --limit 2000 --epochs 1 --out "$work/small-mlp.onnx"
sweep_config() { # NAME MEASURE
  cat <<YAML
name: $1
output: $work/results
seed: 1
models:
  - {path: $work/small-mlp.onnx, data: fashion-mnist}
eval: {limit: 300, calibration: 128}
weights: {bits: [8, 4], scheme: [symmetric], granularity: [channel], range: [minmax]}
activations: {bits: [8], scheme: [affine], granularity: [tensor], range: [minmax]}
workflow: [static]
backends: [scalar]
measure: [$2]
repetitions: 1
threads: [1]
YAML
}
sweep_config sens "accuracy, sensitivity, memory" >sens.yaml
sweep_config acc "accuracy, memory" >acc.yaml
expect_exit 0 "sweep with sensitivity" -- "$qbench" sweep sens.yaml
expect_exit 0 "sweep without sensitivity" -- "$qbench" sweep acc.yaml
run=$(ls -d results/sens-* | head -n 1)
acc=$(ls -d results/acc-* | head -n 1)

# Budget 100 pp by size: every layer takes its cheapest option, the w4 qconfig.
expect_exit 0 "recommend --verify, all layers w4" -- "$qbench" recommend "$run" --model small-mlp --max-drop 100 --objective size --verify --config rec.yaml
expect_in "VERIFIED end to end on scalar (300 samples, 128 calibration" "plan verified on the run's backend and limits"
[[ "$out" != *"VERIFICATION PENDING"* ]] && pass "no 'verification pending' once verified" || fail "still pending: $out"
w4_drop=$(awk '/^  [0-9]+ / && /w4-sym-channel-minmax/ { print $2; exit }' <<<"$out")
measured=$(sed -n 's/.*measured drop \([-0-9.]*\) pp.*/\1/p' <<<"$out" | head -n 1)
plan_w4=$(awk '/^Mixed/ { p = 1; next } p && /^  [a-z]/ && !/predicted|VERIFIED|measured/' <<<"$out" | grep -vc "w4-sym")
[[ $plan_w4 -eq 0 ]] && pass "every layer takes w4" || fail "plan not all w4: $out"
[[ -n "$measured" && "$measured" == "$w4_drop" ]] && pass "all-w4 plan measures the sweep's w4 drop ($measured pp)" || fail "all-w4 plan: measured '$measured' vs sweep w4 '$w4_drop'"
grep -q "^# Mixed-precision plan, VERIFIED .*: fp32 [0-9.]*%, plan [0-9.]*%" rec.yaml && grep -q "measured drop $measured pp" rec.yaml \
  && pass "--config carries the measurement" || fail "rec.yaml: $(cat rec.yaml)"
expect_exit 0 "the recommended config is a valid sweep" -- "$qbench" sweep rec.yaml --dry-run

# Budget 0 pp: a mixed plan (w8 / float where w4 costs accuracy), measured; exit 0 iff within.
out=$("$qbench" recommend "$run" --model small-mlp --max-drop 0 --objective size --verify 2>&1)
rc=$?
[[ "$out" == *"VERIFIED end to end"* ]] && pass "tight budget: verified" || fail "tight budget: $out"
# exit 0 needs a ranked qconfig within the budget (its interval's upper end) too.
if [[ "$out" == *": within the 0.00 pp budget"* && "$out" != *"none: no measured qconfig"* ]]; then want=0; else want=1; fi
[[ $rc -eq $want ]] && pass "exit $rc follows the measured budget" || fail "exit $rc, expected $want: $out"

# Fallback: where a plan measured over its budget, each round put one layer in float.
for b in 0.5 1 1.5 2 2.5; do
  out=$("$qbench" recommend "$run" --model small-mlp --max-drop $b --objective size --verify 2>&1)
  rounds=$(sed -n 's/.*; \([0-9]*\) layer(s) moved to float.*/\1/p' <<<"$out")
  [[ -z "$rounds" ]] && continue
  marked=$(grep -c "float (kept in fp32).*(to float after verification)" <<<"$out")
  [[ $marked -eq $rounds ]] && pass "budget $b: $rounds fallback round(s), $marked layer(s) marked float" || fail "budget $b fallback: $out"
done

expect_exit 0 "recommend without --verify" -- "$qbench" recommend "$run" --model small-mlp --max-drop 100 --objective size
expect_in "VERIFICATION PENDING" "unverified plan says so"
expect_exit 2 "--verify without sensitivity rows" -- "$qbench" recommend "$acc" --model small-mlp --max-drop 100 --verify
expect_in "no mixed-precision plan to verify" "missing sensitivity named"
id=$(basename "$run")
expect_exit 2 "--verify on a history id" -- "$qbench" recommend "$id" --db results/qbench.db --model small-mlp --max-drop 100 --verify
expect_in "needs the run folder" "history runs cannot be verified"
finish
