#!/usr/bin/env bash
# qat items of qbench sweep: one fine-tuning per (model, grid, seed), shared by every
# backend and cached across runs; the drop is against the original model's fp32
# accuracy; exact backends agree; the fine-tuning is deterministic (a deleted cache
# retrains to the same accuracy) and a new seed trains a new model. mlp on 200 test
# images, fine-tuned on 1,000 training images (a few seconds).
# usage: test_cli_sweep_qat.sh QBENCH SOURCE_DIR WORK_DIR
qbench=$1 src=$2 work=$3
source "$(dirname "$0")/test_cli_common.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
if [[ ! -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]]; then
  echo "Fashion-MNIST not installed: skipped"; exit 77
fi
write_config() { # SEED
  cat >q.yaml <<YAML
name: q
output: out
seed: $1
models:
  - {name: mlp}
eval: {limit: 200, calibration: 100}
weights: {bits: [4], scheme: [symmetric], granularity: [channel], range: [minmax]}
activations: {bits: [4], scheme: [affine], granularity: [tensor], range: [movavg]}
workflow: [static, qat]
backends: [$backends]
measure: [accuracy]
qat: {epochs: 1, limit: 1000}
YAML
}
export QB_MODELS_DIR="$src/harness/models/reference"
# scalar and an exact SIMD backend when the machine has one (cross-backend checks
# are skipped, and say so, on a scalar-only host).
simd=$(exact_simd_backend "$qbench")
backends="scalar${simd:+, $simd}"
# value ITEM_PATTERN METRIC CSV: the value column of the first matching row.
value() { grep "$1" "$3" | grep ",$2," | head -n 1 | cut -d, -f18; }

write_config 1
expect_exit 0 "sweep with qat items" -- "$qbench" sweep q.yaml
expect_in "qat: fine-tuning model mlp" "fine-tuning is logged"
if [[ $(grep -c "qat: fine-tuning" <<<"$out") == 1 ]]; then pass "one fine-tuning for [$backends]"; else fail "fine-tuned $(grep -c 'qat: fine-tuning' <<<"$out") times"; fi
if [[ $(ls out/cache/qat/*.onnx | wc -l) == 1 && $(ls out/cache/qat/*.json | wc -l) == 1 ]]; then pass "one cached model + sidecar"; else fail "cache: $(ls out/cache/qat)"; fi
if ls out/cache/qat/ | grep -q tmp; then fail "temporary file left in the cache"; else pass "no temporary file left"; fi
csv1=$(ls out/q-*/results.csv | head -n 1)
s_fp32=$(value "mlp/static/" accuracy_fp32 "$csv1") q_fp32=$(value "mlp/qat/" accuracy_fp32 "$csv1")
expect_cmp "$q_fp32" == "$s_fp32" "qat drop is against the original model's fp32 accuracy"
q_scalar=$(value "mlp/qat/.*/scalar" accuracy "$csv1")
if [[ -n "$simd" ]]; then
  expect_cmp "$q_scalar" == "$(value "mlp/qat/.*/$simd," accuracy "$csv1")" "exact backends agree on the qat model (scalar, $simd)"
else
  echo "SKIP: no exact SIMD backend usable here; scalar only"
fi
s_acc=$(value "mlp/static/.*/scalar" accuracy "$csv1")
if [[ -n "$q_scalar" && "$q_scalar" != "$s_acc" ]]; then pass "the fine-tuned model differs from PTQ ($q_scalar vs $s_acc %)"; else fail "qat accuracy $q_scalar == static $s_acc: not fine-tuned?"; fi

sleep 1 # a new run folder (UTC seconds in its name)
expect_exit 0 "second sweep" -- "$qbench" sweep q.yaml
if grep -q "qat: fine-tuning" <<<"$out"; then fail "second sweep fine-tuned again"; else pass "second sweep takes the cached model"; fi
csv2=$(ls out/q-*/results.csv | tail -n 1)
expect_cmp "$(value "mlp/qat/.*/scalar" accuracy "$csv2")" == "$q_scalar" "cached model, same accuracy"

rm -rf out/cache/qat
sleep 1
expect_exit 0 "sweep after the cache was deleted" -- "$qbench" sweep q.yaml
expect_in "qat: fine-tuning" "retrained"
csv3=$(ls out/q-*/results.csv | tail -n 1)
expect_cmp "$(value "mlp/qat/.*/scalar" accuracy "$csv3")" == "$q_scalar" "fine-tuning is deterministic for a seed"

write_config 2
sleep 1
expect_exit 0 "sweep with another seed" -- "$qbench" sweep q.yaml
expect_in "seed 2" "the seed is part of the key"
if [[ $(ls out/cache/qat/*.onnx | wc -l) == 2 ]]; then pass "a second cached model for seed 2"; else fail "cache after seed 2: $(ls out/cache/qat)"; fi
finish
