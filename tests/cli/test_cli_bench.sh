#!/usr/bin/env bash
# qbench bench: bad input exits 2 naming the problem; --list and --filter select by
# name; --list names every kernel family (GEMMs, fused GEMM, quantize, dequantize,
# requantize) for every usable backend; a --quick run on one tiny shape writes Google
# Benchmark JSON whose structure (not timings) is checked: context keys, one
# benchmark per usable kernel entry x thread count (int8 GEMM families and int4
# weight GEMM families, and per peer when built), counters present and consistent;
# a quick run of the fused and elementwise families checks their counters.
qbench=$1 dir=$2
source "$(dirname "$0")/test_cli_common.sh"
rm -rf "$dir" && mkdir -p "$dir"

expect_exit 0 "bench --help" -- "$qbench" bench --help
expect_in "--shapes SET" "help lists --shapes"
expect_exit 2 "threads 0" -- "$qbench" bench --threads 0
expect_in "'0' is not a thread count" "bad thread count named"
expect_exit 2 "shape with two dims" -- "$qbench" bench --shapes "1,2"
expect_in "'1,2' is not M,N,K" "bad shape named"
expect_exit 2 "K too large" -- "$qbench" bench --shapes "1,2,40000"
expect_in "K = '40000'" "K range named"
expect_exit 2 "min-time not a number" -- "$qbench" bench --min-time abc
expect_exit 2 "unknown backend" -- "$qbench" bench --isa nope
expect_in "unknown backend 'nope'" "unknown backend named"
expect_exit 2 "unwritable JSON" -- "$qbench" bench --quick --json /nonexistent/dir/x.json
expect_in "/nonexistent/dir/x.json" "JSON path named"
expect_exit 2 "stray argument" -- "$qbench" bench extra
expect_exit 2 "unknown kernel group" -- "$qbench" bench --kernels gemm,nope
expect_in "unknown group 'nope'" "bad kernel group named"

# --list: names only, nothing runs; --filter narrows; scalar-only mask.
expect_exit 0 "list models shapes" -- "$qbench" bench --list --shapes models --threads 1
expect_in "gemm/qb_qu8_qs8_qs32_gemm__scalar/M:64/N:256/K:784/threads:1" "models shape B=64 layer 1 listed"
expect_in "gemm/qb_qu8_qs8_qs32_gemm__scalar/M:1/N:10/K:128/threads:1" "models shape B=1 layer 3 listed"
expect_exit 0 "list with filter" -- "$qbench" bench --list --threads 1 --filter 'qu8_qs8_qs32_gemm__scalar.*M:16/'
n=$(grep -c '^gemm/' <<<"$out")
[[ $n -eq 1 ]] && expect_in "gemm/qb_qu8_qs8_qs32_gemm__scalar/M:16/N:4096/K:4096/threads:1" "filter keeps one" || fail "filter kept $n names: $out"
expect_exit 1 "filter matching nothing" -- "$qbench" bench --list --filter 'no-such-benchmark'
expect_in "no benchmark matches" "empty filter reported"
QB_ISA_MASK=scalar expect_exit 0 "list under QB_ISA_MASK=scalar" -- "$qbench" bench --list --no-peers --shapes "2,3,4"
names=$(grep -v '__scalar/' <<<"$out" | tr '\n' ' ')
[[ -z "$names" ]] && pass "only scalar kernels when masked" || fail "non-scalar kernels under mask: $names"

# --conv: depthwise (fused and int32) and im2col benchmarks on the models' layers; a
# quick run of one layer reports OPS for the depthwise kernels.
expect_exit 0 "list conv" -- "$qbench" bench --list --conv --threads 1
expect_in "dwconv/qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__scalar/C:128/H:14/W:14/k:3/s:1/threads:1" "fused depthwise listed"
expect_in "dwconv/qb_qu8_qs8_qs32_dwconv2d__scalar/C:32/H:14/W:14/k:3/s:2/threads:1" "int32 depthwise listed"
expect_in "im2col/qb_qu8_im2col_rows__scalar/C:16/H:14/W:14/k:3/s:1/threads:1" "im2col listed"
[[ "$out" != *"gemm/"* ]] && pass "--conv alone lists no GEMM" || fail "--conv listed GEMM shapes"
expect_exit 0 "quick conv run" -- "$qbench" bench --quick --conv --threads 1,2 --filter 'C:16/H:14/W:14/k:3/s:1/' --json "$dir/conv.json"
out=$(python3 - "$dir/conv.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = [b["name"] for b in d["benchmarks"] if b["name"].startswith("dwconv/") and not b.get("OPS", 0) > 0]
n = sum(b["name"].startswith("dwconv/") for b in d["benchmarks"])
print(f"{n} depthwise benchmarks, without OPS: {bad}")
sys.exit(1 if bad or n < 4 else 0)
PY
) && pass "conv JSON ($out)" || fail "conv JSON: $out"

# Every family of every usable backend is listed by default: the entries `qbench
# info` picks per backend (run with the same mask, so QB_ISA_MASK=scalar lists scalar).
"$qbench" info --json >"$dir/info.json"
expect_exit 0 "list every family" -- "$qbench" bench --quick --list --no-peers --threads 1
printf '%s\n' "$out" >"$dir/list.txt"
out=$(python3 - "$dir/list.txt" "$dir/info.json" <<'PY'
import json, sys
names = open(sys.argv[1]).read().split()
info = json.load(open(sys.argv[2]))
want = {"qu8_qs8_qs32_gemm": ["gemm/{}/M:", "gemm-fused/{}/rule:fp32/M:", "gemm-fused/{}/rule:gemmlowp/M:"],
        "qs8_qs8_qs32_gemm": ["gemm/{}/M:"], "qu8_qu8_qs32_gemm": ["gemm/{}/M:"],
        "f32_gemm": ["gemm/{}/M:"], "f32_q8_quantize": ["quantize/{}/n:"],
        "q8_f32_dequantize": ["dequantize/{}/n:"],
        "qs32_q8_requantize_fp32": ["requantize/{}/rule:fp32/n:"],
        "qs32_q8_requantize_gemmlowp": ["requantize/{}/rule:gemmlowp/n:"]}
missing = [p.format(fams[f]["name"]) for be, fams in info["kernels"].items()
           for f, pats in want.items() if f in fams for p in pats
           if not any(n.startswith(p.format(fams[f]["name"])) for n in names)]
print(f"missing: {missing}" if missing else f"ok: {len(names)} names")
sys.exit(1 if missing else 0)
PY
) && pass "every family listed per backend ($out)" || fail "list: $out"

# The new families on a quick run: the fused GEMM at batch 1, the elementwise kernels
# at the cache size (1 and 2 threads) and the scalar dequantize at the DRAM size.
expect_exit 0 "quick run, fused and elementwise" -- "$qbench" bench --quick --kernels fused,elementwise --threads 1,2 \
  --filter 'gemm-fused/.*/M:1/|/n:16384/|dequantize__scalar/n:[0-9]{8,}/threads:1' --json "$dir/elem.json"
out=$(python3 - "$dir/elem.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
have_dram = any(k == "roofline_read_dram" for k in d["context"])
problems, seen = [], set()
for b in d["benchmarks"]:
    name, fam = b["name"], b["name"].split("/")[0]
    seen.add(fam)
    if b.get("error_occurred"): problems.append(f"{name}: {b.get('error_message')}"); continue
    for c in ("OPS", "bytes_per_second", "bytes_per_call"):
        if not b.get(c, 0) > 0: problems.append(f"{name}: {c} missing")
    if fam == "gemm-fused" and b.get("label") != "scalar" and have_dram and not b.get("pct_of_peak", 0) > 0:
        problems.append(f"{name}: pct_of_peak missing")
    if "/n:16384/" not in name and fam != "gemm-fused" and have_dram and not b.get("pct_of_dram_bw", 0) > 0:
        problems.append(f"{name}: pct_of_dram_bw missing")
    if "/n:16384/" in name and "pct_of_dram_bw" in b: problems.append(f"{name}: pct_of_dram_bw at the cache size")
for fam in ("gemm-fused", "quantize", "dequantize", "requantize"):
    if fam not in seen: problems.append(f"no {fam} benchmark ran")
print("; ".join(problems) or f"ok: {len(d['benchmarks'])} benchmarks")
sys.exit(1 if problems else 0)
PY
) && pass "fused and elementwise JSON ($out)" || fail "fused and elementwise JSON: $out"

# A quick run on two tiny shapes (a GEMM and a GEMV), 1 and 2 threads.
expect_exit 0 "quick run" -- "$qbench" bench --quick --kernels gemm --shapes "3,40,20;1,40,20" --threads 1,2 --json "$dir/bench.json"
if python3 -m json.tool "$dir/bench.json" >/dev/null; then pass "bench JSON parses"; else fail "bench JSON does not parse"; fi
# A full disk (/dev/full): Google Benchmark's write fails silently; bench must not exit 0.
expect_exit 1 "JSON to a full disk" -- "$qbench" bench --quick --shapes "3,40,20" --threads 1 --isa scalar --json /dev/full
expect_in "/dev/full: write failed" "the failed write is named"
out=$(python3 - "$dir/bench.json" "$dir/info.json" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
info = json.load(open(sys.argv[2]))
problems = []
ctx = d["context"]
for k in ["cpu_brand", "cpu_vendor", "machine_fingerprint", "isa_mask", "isa_usable",
          "compiler", "c_flags", "git_revision", "peers", "build_type"]:
    if not ctx.get(k): problems.append(f"context lacks {k}")
if ctx.get("isa_usable") != ",".join(info["backends"]["usable"]):
    problems.append(f"context isa_usable {ctx.get('isa_usable')} != info {info['backends']['usable']}")
names = {}
for b in d["benchmarks"]:
    m = re.fullmatch(r"gemm/([a-z0-9_]+)/M:([13])/N:40/K:20/threads:([12])(/real_time)?", b["name"])
    if not m: problems.append(f"odd name {b['name']}"); continue
    M, T = int(m.group(2)), int(m.group(3))
    names[(m.group(1), M, T)] = b
    if b.get("error_occurred"): problems.append(f"{b['name']}: {b.get('error_message')}"); continue
    if not b.get("OPS", 0) > 0: problems.append(f"{b['name']}: OPS missing")
    if b.get("kernel_threads") != T: problems.append(f"{b['name']}: kernel_threads")
    # weights (>= N*K bytes; N*K/2 for int4) + A (M*K) + C (4*M*N) at least
    wmin = 40 * 20 // (2 if "_q4_" in m.group(1) else 1)
    if not b.get("bytes_per_call", 0) >= wmin + M * 20 + 4 * M * 40: problems.append(f"{b['name']}: bytes_per_call")
    if not b.get("weight_copies", 0) >= 1: problems.append(f"{b['name']}: weight_copies")
    if b.get("iterations", 0) < 1: problems.append(f"{b['name']}: no iterations")
    if b.get("label") != "scalar" and "pct_of_peak" in b and not b["pct_of_peak"] > 0:
        problems.append(f"{b['name']}: pct_of_peak not positive")
# Every GEMM kernel info chose for a usable backend is benchmarked, on both thread
# counts (the int4 families too, when the table has them).
for be, fams in info["kernels"].items():
    for fam in ("qu8_qs8_qs32_gemm", "qs8_qs8_qs32_gemm", "qu8_qu8_qs32_gemm", "qs8_q4_f32_wgemm",
                "f32_q4_f32_wgemm", "f32_gemm"):
        if fam not in fams: continue
        k = fams[fam]["name"]
        for M in (1, 3):
            for t in (1, 2):
                if (k, M, t) not in names: problems.append(f"{k} M:{M} threads:{t} not benchmarked")
# Ours only from usable backends; peers as listed in the context.
for (impl, M, t) in names:
    if impl.startswith("qb_"):
        be = impl.rsplit("__", 1)[1] if "__" in impl else "scalar"
        be = "avx2-sat" if impl.endswith("_sat__avx2") else be
        if be not in info["backends"]["usable"]: problems.append(f"{impl}: backend {be} not usable")
peers = [] if ctx["peers"] == "none" else ctx["peers"].split(",")
# weight_read (the GEMV's memory ceiling) runs on M = 1 shapes only.
for p in peers:
    for M in (1, 3):
        for t in (1, 2):
            if (p, M, t) not in names and (p != "weight_read" or M == 1):
                problems.append(f"peer {p} M:{M} threads:{t} missing")
            if (p, M, t) in names and p == "weight_read" and M != 1:
                problems.append(f"weight_read ran at M = {M}")
print("; ".join(problems) or f"ok: {len(names)} benchmarks, peers {peers}")
sys.exit(1 if problems else 0)
PY
) && pass "bench JSON structure ($out)" || fail "bench JSON: $out"
finish
