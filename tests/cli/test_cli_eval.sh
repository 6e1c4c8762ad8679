#!/usr/bin/env bash
# qbench eval end to end: a small MLP trained for one epoch on 2,000 images (qbench
# train), evaluated on 500 test images in fp32 and quantized; fp32 / QDQ export and
# re-evaluation; .npy data; usage errors and bad input.
qbench=$1 dir=$2
source "$(dirname "$0")/test_cli_common.sh"
rm -rf "$dir" && mkdir -p "$dir"
expect_exit 0 "eval --help" -- "$qbench" eval --help
expect_in "--qconfig" "help lists --qconfig"
expect_exit 2 "eval without model" -- "$qbench" eval
expect_exit 2 "eval missing model file" -- "$qbench" eval "$dir/none.onnx"
expect_in "none.onnx" "missing file named"
printf 'not a model' >"$dir/garbage.onnx"
expect_exit 2 "eval garbage model" -- "$qbench" eval "$dir/garbage.onnx"
expect_in "garbage.onnx" "garbage file named"
expect_exit 0 "train a small mlp" -- "$qbench" train mlp --limit 2000 --epochs 1 --out "$dir/mlp.onnx"
expect_exit 2 "bad qconfig" -- "$qbench" eval "$dir/mlp.onnx" --qconfig w9/a8
expect_in "bits" "bad qconfig explained"
expect_exit 2 "bad backend" -- "$qbench" eval "$dir/mlp.onnx" --backend avx9
expect_in "avx9" "bad backend named"
expect_exit 2 "bad limit" -- "$qbench" eval "$dir/mlp.onnx" --limit 0
expect_exit 2 "npy without labels" -- "$qbench" eval "$dir/mlp.onnx" --data "$dir/x.npy"
expect_exit 0 "fp32 eval + export" -- "$qbench" eval "$dir/mlp.onnx" --limit 500 --export "$dir/mlp_fp32.onnx"
fp32=$(sed -n 's/^top-1 fp32: *\([0-9.]*\)%.*/\1/p' <<<"$out")
expect_cmp "$fp32" ">" 50 "one-epoch mlp beats 50 % top-1"
expect_in "activation arena" "arena reported"
expect_exit 0 "exported fp32 model evaluates" -- "$qbench" eval "$dir/mlp_fp32.onnx" --limit 500
again=$(sed -n 's/^top-1 fp32: *\([0-9.]*\)%.*/\1/p' <<<"$out")
expect_cmp "$again" "==" "$fp32" "fp32 export keeps the accuracy"
expect_exit 0 "static w8a8 eval + QDQ export" -- "$qbench" eval "$dir/mlp.onnx" --limit 500 --calib-limit 500 \
  --qconfig w8-sym-channel-minmax/a8-aff-tensor-minmax/static --backend scalar --layers --export-qdq "$dir/mlp_qdq.onnx"
sim=$(sed -n 's/^top-1 simulated: *\([0-9.]*\)%.*/\1/p' <<<"$out")
int=$(sed -n 's/^top-1 integer: *\([0-9.]*\)%.*/\1/p' <<<"$out")
expect_in "qb_qu8_qs8_qs32_gemm__scalar" "scalar backend kernels listed per layer"
expect_in "bias sat" "per-layer table counts saturated int32 biases"
expect_cmp "$(awk -v a="$fp32" -v b="$int" 'BEGIN { d = a - b; print d < 0 ? -d : d }')" "<" 2 "w8a8 within 2 points of fp32"
expect_exit 0 "the same run on 3 threads" -- "$qbench" eval "$dir/mlp.onnx" --limit 500 --calib-limit 500 \
  --qconfig w8-sym-channel-minmax/a8-aff-tensor-minmax/static --backend scalar --threads 3
expect_cmp "$(sed -n 's/^top-1 integer: *\([0-9.]*\)%.*/\1/p' <<<"$out")" "==" "$int" "threads do not change the integer accuracy"
expect_exit 2 "bad thread count" -- "$qbench" eval "$dir/mlp.onnx" --threads 0
expect_exit 0 "QDQ model evaluates in fp32" -- "$qbench" eval "$dir/mlp_qdq.onnx" --limit 500
qdq=$(sed -n 's/^top-1 fp32: *\([0-9.]*\)%.*/\1/p' <<<"$out")
expect_cmp "$qdq" "==" "$sim" "QDQ file reproduces the simulated accuracy"
expect_exit 0 "weight-only run" -- "$qbench" eval "$dir/mlp.onnx" --limit 200 --qconfig w4-sym-group:32-mse/weight-only --layers
expect_in "qb_f32_q4_f32_wgemm" "weight-only layers run the W4A32 kernels"
# A qconfig QDQ cannot express is refused from the options, before any evaluation.
refused() {
  expect_exit 2 "$1 QDQ export refused up front" -- "$qbench" eval "$dir/mlp.onnx" --limit 100 \
    --qconfig "$2" --export-qdq "$dir/bad.onnx"
  expect_in "$3" "$1: reason given"
  if [[ "$out" == *"top-1"* || -e "$dir/bad.onnx" ]]; then fail "$1: evaluated before refusing"; else pass "$1: nothing evaluated"; fi
  if [[ $(wc -l <<<"$out") -eq 1 ]]; then pass "$1: one line"; else fail "$1: more than one line: $out"; fi
}
refused per-group w4-sym-group:32/weight-only "opset 21"
refused 16-bit w16/weight-only "16-bit"
refused dynamic w8/a8/dynamic "dynamic"
refused mul-recip w8/a8-mulrecip/static "mul-recip"
# Below 8 bits the export carries the b-bit grid (a Clip after DequantizeLinear): the
# QDQ file's fp32 top-1 is the simulated one (percentile ranges clip, so the clamp acts).
for a in a4-aff-percentile:99 a2-aff-percentile:99; do
  expect_exit 0 "w8/$a eval + QDQ export" -- "$qbench" eval "$dir/mlp.onnx" --limit 500 --calib-limit 500 \
    --qconfig "w8-sym-channel/$a/static" --backend scalar --export-qdq "$dir/mlp_qdq_low.onnx"
  sim=$(sed -n 's/^top-1 simulated: *\([0-9.]*\)%.*/\1/p' <<<"$out")
  expect_exit 0 "w8/$a QDQ model evaluates" -- "$qbench" eval "$dir/mlp_qdq_low.onnx" --limit 500
  qdq=$(sed -n 's/^top-1 fp32: *\([0-9.]*\)%.*/\1/p' <<<"$out")
  expect_cmp "$qdq" "==" "$sim" "w8/$a QDQ file reproduces the simulated accuracy"
done
finish
