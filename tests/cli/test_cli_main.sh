#!/usr/bin/env bash
# The main job (currently qbench demo) end to end on Fashion-MNIST, shortened to one
# training epoch: a trained model, a comparison table, and its CSV.
qbench=$1 dir=$2
source "$(dirname "$0")/test_cli_common.sh"
rm -rf "$dir"
expect_exit 0 "demo --help" -- "$qbench" demo --help
expect_exit 2 "demo bad option" -- "$qbench" demo --epochs zero
expect_exit 2 "demo missing data" -- "$qbench" demo --data /nonexistent --out "$dir"
expect_in "cannot open" "missing data named"
expect_exit 0 "demo run" -- "$qbench" demo --epochs 1 --out "$dir"
acc=$(sed -n 's/.*fp32 top-1 on 10k test images: \([0-9.]*\) %.*/\1/p' <<<"$out")
expect_cmp "$acc" ">=" 75 "trained linear model reaches >= 75 % top-1"
expect_in "sym s8 channel minmax" "per-channel config listed"
[[ -f "$dir/demo.csv" ]] && pass "demo.csv written" || fail "demo.csv missing"
rows=$(($(wc -l <"$dir/demo.csv") - 1))
[[ $rows -eq 12 ]] && pass "12 configurations in demo.csv" || fail "demo.csv has $rows rows"
# 8-bit per-channel weights + 8-bit activations cost little: drop below 1 point.
drop=$(awk -F, '$1 == "sym s8 channel minmax" && $2 == "aff u8 tensor minmax" { print $7 }' "$dir/demo.csv")
expect_cmp "$drop" "<" 1.0 "W8A8 per-channel drop below 1 point"
# The integer GEMM and the fake-quant simulation agree to float rounding.
diff=$(awk -F, '$1 == "sym s8 channel minmax" && $2 == "aff u8 tensor minmax" { print $11 }' "$dir/demo.csv")
expect_cmp "$diff" "<" 1e-3 "integer path matches simulation"
expect_exit 0 "weight is a readable tensor" -- "$qbench" tensor "$dir/linear_weight.npy"
expect_in "[10, 784]" "weight shape"
finish
