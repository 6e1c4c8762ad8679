#!/usr/bin/env bash
# qbench tensor end to end: tables, JSON, lists, metrics ordering, bad input.
qbench=$1 make_fixtures=$2 dir=$3
source "$(dirname "$0")/test_cli_common.sh"
rm -rf "$dir" && mkdir -p "$dir" && "$make_fixtures" "$dir" || { echo "fixtures failed"; exit 1; }
f=$dir/weight.npy

expect_exit 0 "help" -- "$qbench" tensor --help
expect_in "--granularity" "help lists options"
expect_exit 0 "top-level help" -- "$qbench" --help
expect_in "tensor" "top-level help lists tensor"
expect_exit 2 "unknown command" -- "$qbench" frobnicate
expect_in "unknown command" "unknown command named"

expect_exit 0 "default table" -- "$qbench" tensor "$f"
expect_in "SQNR(dB)" "table header"
expect_in "[16, 32]" "shape printed"
expect_in "scale/zero_point:" "qparams printed"

expect_exit 0 "json single" -- "$qbench" tensor "$f" --json
for key in '"scale":[' '"zero_point":[' '"sqnr_db":' '"mse":' '"cosine":' '"max_abs_err":' \
           '"norm_l2":' '"median_abs_err":' '"p95_abs_err":' '"clipped":'; do
  expect_in "$key" "json has $key"
done
[[ $(wc -l <<<"$out") -eq 1 ]] && pass "one combination, one JSON line" || fail "expected one JSON line: $out"

expect_exit 0 "json per-channel" -- "$qbench" tensor "$f" --granularity channel --scheme symmetric --json
scales=$(sed -n 's/.*"scale":\[\([^]]*\)\].*/\1/p' <<<"$out" | tr ',' '\n' | wc -l)
[[ $scales -eq 16 ]] && pass "16 per-channel scales" || fail "expected 16 scales, got $scales"
zps=$(sed -n 's/.*"zero_point":\[\([^]]*\)\].*/\1/p' <<<"$out")
[[ "$zps" =~ ^(0,){15}0$ ]] && pass "symmetric signed zero points are all 0" || fail "zero points: $zps"
sqnr_channel=$(json_num sqnr_db)
expect_exit 0 "json per-tensor symmetric" -- "$qbench" tensor "$f" --scheme symmetric --json
sqnr_tensor=$(json_num sqnr_db)
expect_cmp "$sqnr_channel" ">" "$sqnr_tensor" "per-channel SQNR beats per-tensor on channel-skewed data"

expect_exit 0 "json per-group" -- "$qbench" tensor "$f" --granularity group:5 --scheme symmetric --json
units=$(json_num units)
[[ $units -eq 112 ]] && pass "group:5 over 32 columns x 16 rows = 7 groups x 16 = 112 units" || fail "units $units"

expect_exit 0 "bits x ranges" -- "$qbench" tensor "$f" --bits 8,4,2 --range minmax,percentile:99,mse --json
[[ $(wc -l <<<"$out") -eq 9 ]] && pass "9 combinations -> 9 lines" || fail "expected 9 lines"
s8=$(sed -n 's/.*"bits":8,.*"range":"minmax".*"sqnr_db":\([-0-9.e+]*\).*/\1/p' <<<"$out")
s4=$(sed -n 's/.*"bits":4,.*"range":"minmax".*"sqnr_db":\([-0-9.e+]*\).*/\1/p' <<<"$out")
s2=$(sed -n 's/.*"bits":2,.*"range":"minmax".*"sqnr_db":\([-0-9.e+]*\).*/\1/p' <<<"$out")
expect_cmp "$s8" ">" "$s4" "8-bit SQNR above 4-bit"
expect_cmp "$s4" ">" "$s2" "4-bit SQNR above 2-bit"
# each extra bit buys about 6 dB: 8-bit vs 4-bit differ by roughly 24 dB
expect_cmp "$(awk -v a="$s8" -v b="$s4" 'BEGIN{print a-b}')" ">" 18 "8-bit vs 4-bit gap near 6 dB/bit"
m4=$(sed -n 's/.*"bits":4,.*"range":"mse".*"mse":\([-0-9.e+]*\).*/\1/p' <<<"$out")
mm4=$(sed -n 's/.*"bits":4,.*"range":"minmax".*"mse":\([-0-9.e+]*\).*/\1/p' <<<"$out")
expect_cmp "$m4" "<=" "$mm4" "mse range has MSE <= min-max at 4 bits"

expect_exit 0 "all range strategies" -- "$qbench" tensor "$dir/logits.npy" --range minmax,movavg,percentile:99.9,mse,entropy,crossentropy --bits 4
expect_in "crossentropy" "crossentropy row"
expect_in "entropy" "entropy row"

# The rounding convention is selectable and visible: amax = 1 at 8-bit symmetric
# puts +-1 on the tie +-127.5; both conventions must report themselves.
expect_exit 0 "rounding div" -- "$qbench" tensor "$dir/ties.npy" --scheme symmetric --json
expect_in '"rounding":"div"' "rounding div reported"
expect_exit 0 "rounding mul-recip" -- "$qbench" tensor "$dir/ties.npy" --scheme symmetric --rounding mul-recip --json
expect_in '"rounding":"mul-recip"' "rounding mul-recip reported"

expect_exit 0 "out-dequant" -- "$qbench" tensor "$f" --bits 4 --out-dequant "$dir/dq.npy"
expect_exit 0 "dequantized file reads back" -- "$qbench" tensor "$dir/dq.npy"
expect_in "[16, 32]" "dequantized shape preserved"
expect_exit 1 "out-dequant to a full disk" -- "$qbench" tensor "$f" --bits 4 --out-dequant /dev/full
expect_in "/dev/full: write failed" "the failed write is named"
# An affine range of +-3e38 overflows the float scale (inf), so the values dequantize
# to NaN: the JSON stays valid (null + a note) and never claims cosine 1 / error 0.
python3 - "$dir" <<'PY'
import struct, sys
def npy(path, values):
    h = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % len(values)
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    open(path, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode()
                           + struct.pack("<%df" % len(values), *values))
npy(sys.argv[1] + "/huge.npy", [-3e38, 3e38, 1.0, -1.0])
PY
for t in huge; do
  "$qbench" tensor "$dir/$t.npy" --scheme affine --json >"$dir/$t.jsonl" 2>&1
  if python3 -c 'import json, sys
for line in open(sys.argv[1]):
    json.loads(line, parse_constant=lambda c: sys.exit("bare " + c))' "$dir/$t.jsonl"; then
    pass "$t.npy: --json is valid JSON"
  else
    fail "$t.npy: --json is not valid JSON: $(head -c 600 "$dir/$t.jsonl")"
  fi
done
out=$(cat "$dir/huge.jsonl")
expect_in '"note":"a scale or range overflows float32 (null)' "the null scale explained"
expect_in '"cosine":null' "NaN dequantized values: no cosine 1"
expect_in '"max_abs_err":null' "NaN dequantized values: no max error 0"
expect_exit 2 "out-dequant with several combinations" -- "$qbench" tensor "$f" --bits 4,8 --out-dequant "$dir/x.npy"

# Bad input: a clear message and exit 2, never a crash.
expect_exit 2 "missing file" -- "$qbench" tensor "$dir/nope.npy"
expect_in "cannot read" "missing file message"
expect_exit 2 "truncated npy" -- "$qbench" tensor "$dir/truncated.npy"
expect_in "truncated" "truncated message"
expect_exit 2 "float64 npy" -- "$qbench" tensor "$dir/f64.npy"
expect_in "float64" "float64 named"
expect_exit 2 "NaN" -- "$qbench" tensor "$dir/nan.npy"
expect_in "element 5 is NaN" "NaN index named"
expect_exit 2 "Inf" -- "$qbench" tensor "$dir/inf.npy"
expect_in "element 2 is infinite" "Inf index named"
expect_exit 2 "empty tensor" -- "$qbench" tensor "$dir/empty.npy"
expect_in "empty" "empty named"
expect_exit 2 "fortran order" -- "$qbench" tensor "$dir/fortran.npy"
expect_in "Fortran" "fortran named"
expect_exit 2 "not npy" -- "$qbench" tensor "$dir/badmagic.npy"
expect_in "not a .npy" "bad magic named"
expect_exit 2 "unknown option" -- "$qbench" tensor "$f" --frobnicate
expect_in "unknown option" "unknown option named"
expect_exit 2 "bits 9" -- "$qbench" tensor "$f" --bits 9
expect_in "2..8 or 16" "bits range named"
expect_exit 2 "bad percentile" -- "$qbench" tensor "$f" --range percentile:abc
expect_exit 2 "bad group" -- "$qbench" tensor "$f" --granularity group:0
expect_exit 2 "crossentropy over split rows" -- "$qbench" tensor "$dir/logits.npy" --granularity group:4 --range crossentropy
expect_in "crossentropy" "crossentropy error explains"
expect_exit 2 "axis out of range" -- "$qbench" tensor "$f" --granularity channel --axis 5
expect_exit 2 "no file" -- "$qbench" tensor
expect_exit 2 "option without value" -- "$qbench" tensor "$f" --bits

# An initializer of a committed reference model, read straight from the ONNX file.
cnn=$(dirname "$0")/../../harness/models/reference/cnn.onnx
expect_exit 0 "onnx initializer" -- "$qbench" tensor "$cnn:conv2.weight" --granularity channel --json
expect_in '"shape":[32,16,3,3]' "conv weight shape"
# Model weights default to the runtime's [out, reduction] view: conv2 [32,16,3,3] is
# [32, 144], so group:32 makes 32 x 5 groups along the reduction (not 1,536 of 3 along
# kw); --axis quantizes the raw tensor.
expect_in '"view":[32,144]' "conv weight viewed as [out, reduction]"
expect_cmp "$(json_num units)" "==" 32 "per channel: one unit per output channel"
expect_exit 0 "onnx conv weight per group" -- "$qbench" tensor "$cnn:conv2.weight" --granularity group:32 --json
expect_cmp "$(json_num units)" "==" 160 "group:32 along the conv reduction (32 x ceil(144/32))"
expect_exit 0 "onnx conv weight per group, raw axis" -- "$qbench" tensor "$cnn:conv2.weight" --granularity group:32 --axis -1 --json
expect_cmp "$(json_num units)" "==" 1536 "--axis -1: groups along the raw kw axis"
expect_exit 0 "onnx conv weight table" -- "$qbench" tensor "$cnn:conv2.weight" --granularity group:32
expect_in "[out, reduction] = [32, 144]" "table names the runtime view"

# A weight held in a Constant node (Paddle2ONNX) is an initializer too.
expect_exit 0 "constant-node weight" -- "$qbench" tensor "$dir/constw.onnx:conv2d_0.w_0" --granularity channel --json
expect_in '"shape":[4,2,3,3]' "constant-node weight shape"
expect_in '"view":[4,18]' "constant-node conv weight in the runtime view"
# A MatMul weight is stored [K, N]: channels along axis 1, groups along axis 0.
vit=$(dirname "$0")/../../harness/models/reference/vit.onnx
expect_exit 0 "onnx matmul weight per channel" -- "$qbench" tensor "$vit:encoder0.mlp.fc1.weight" --granularity channel --json
expect_in '"shape":[64,128],"view":[128,64]' "matmul weight viewed as [out, reduction]"
expect_cmp "$(json_num units)" "==" 128 "per channel: 128 outputs"
expect_exit 0 "onnx matmul weight per group" -- "$qbench" tensor "$vit:encoder0.mlp.fc1.weight" --granularity group:32 --json
expect_cmp "$(json_num units)" "==" 256 "group:32 along K = 64: 128 x 2"
expect_exit 2 "unknown initializer" -- "$qbench" tensor "$cnn:nope"
expect_in "no initializer named 'nope'" "missing initializer named"
expect_exit 2 "not a model" -- "$qbench" tensor "$f.onnx:x"
finish
