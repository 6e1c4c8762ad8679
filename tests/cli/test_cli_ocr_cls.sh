#!/bin/bash
# Smoke test of a real model from outside: PaddleOCR's text-line direction classifier
# (ch_ppocr_mobile_v2.0_cls, fetched by .ci/models into $QB_MODELS_CACHE) on 48 lines
# generated here (qbench ocr-data, seed 1): its fp32 top-1 on the orientation task, and
# the static int8 integer run end to end on the scalar backend (every layer on integer
# kernels, top-1 close to fp32). Skipped (exit 77) when the model cache is absent.
# Usage: test_cli_ocr_cls.sh QBENCH WORKDIR
qbench=$1
work=$2
source "$(dirname "$0")/test_cli_common.sh"
cache=${QB_MODELS_CACHE:-$HOME/.cache/qbench/models}/ocr-models-1.4.2
model=$cache/ch_ppocr_mobile_v2.0_cls_infer.onnx
if [[ ! -r "$model" ]]; then
  echo "skipped: $model is absent (run .ci/models)"
  exit 77
fi
if [[ ! -r /usr/share/dict/words || ! -d /usr/share/fonts/truetype/dejavu ]]; then
  echo "skipped: no word list or DejaVu fonts (run .ci/deps)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work" || exit 1
cd "$work" || exit 1

expect_exit 0 "generate 48 + 16 text lines" -- "$qbench" ocr-data --task ocr-cls --out set --count 48 --calibration 16
expect_exit 0 "fp32 and static int8 on scalar" -- "$qbench" eval "$model" --task ocr-cls \
  --data set/eval.npy --labels set/eval-labels.npy --calibration-data set/calib.npy \
  --qconfig w8-sym-channel-minmax/a8-aff-tensor-minmax/static --backend scalar --batch 16
expect_in "task:              ocr-cls" "the task is named"
expect_in "calibration:       set/calib.npy, 16 samples" "calibration on its own samples"
fp32=$(sed -n 's/^top-1 fp32: *\([0-9.]*\)%.*/\1/p' <<<"$out")
int=$(sed -n 's/^top-1 integer: *\([0-9.]*\)%.*/\1/p' <<<"$out")
layers=$(sed -n 's/^quantized layers: *\([0-9]*\) (\([0-9]*\) on integer kernels).*/\1 \2/p' <<<"$out")
expect_cmp "$fp32" ">=" 90 "fp32 orientation top-1 on generated lines"
expect_cmp "$int" ">=" "$(awk -v f="$fp32" 'BEGIN { print f - 5 }')" "integer top-1 within 5 points of fp32"
read -r nl ni <<<"$layers"
expect_cmp "${ni:-0}" "==" "${nl:--1}" "every quantized layer runs an integer kernel"
finish
