#!/usr/bin/env bash
# qbench sweep --shard I/N + qbench merge: the merged shards hold exactly the rows of
# the unsharded run (timings and RSS aside, which vary run to run), and bad shard
# arguments / overlapping shards are usage errors. Runs the mlp reference model on
# 200 images (a few seconds).
# usage: test_cli_sweep_shard.sh QBENCH SOURCE_DIR WORK_DIR
qbench=$1 src=$2 work=$3
source "$(dirname "$0")/test_cli_common.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
if [[ ! -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]]; then
  echo "Fashion-MNIST not installed: skipped"; exit 77
fi
simd=$(exact_simd_backend "$qbench")
backends="scalar${simd:+, $simd}"
cat >t.yaml <<YAML
name: t
output: out
seed: 1
models:
  - {name: mlp}
eval: {limit: 200, calibration: 100}
weights:
  bits: [8, 4]
  scheme: [symmetric]
  granularity: [channel]
  range: [minmax]
activations:
  bits: [8]
  scheme: [affine]
  granularity: [tensor]
  range: [minmax]
workflow: [weight-only, static]
backends: [$backends]
measure: [accuracy, per-layer, speed, memory]
repetitions: 2
threads: [1]
YAML
export QB_MODELS_DIR="$src/harness/models/reference"
expect_exit 2 "--shard 0/2" -- "$qbench" sweep t.yaml --shard 0/2
expect_in "expected I/N" "bad shard message"
expect_exit 2 "--shard 3/2" -- "$qbench" sweep t.yaml --shard 3/2
expect_exit 0 "dry run of shard 1/2" -- "$qbench" sweep t.yaml --shard 1/2 --dry-run
n1=$(grep -c '^  mlp/' <<<"$out")
expect_exit 0 "dry run of shard 2/2" -- "$qbench" sweep t.yaml --shard 2/2 --dry-run
n2=$(grep -c '^  mlp/' <<<"$out")
expect_exit 0 "dry run, unsharded" -- "$qbench" sweep t.yaml --dry-run
n=$(grep -c '^  mlp/' <<<"$out")
expect_cmp "$((n1 + n2))" == "$n" "shards partition the plan"

expect_exit 0 "unsharded run" -- "$qbench" sweep t.yaml --output full
expect_in "progress" "progress lines on stderr"
expect_in "ETA" "progress shows the ETA"
# Google Benchmark timed each item x thread count: one benchmark each, named after
# the item, `repetitions` iteration entries each, the CSV's samples = its times
# (the fp32 baseline's model-fp32/<model>/threads:T benchmarks aside).
full_gb=$(ls full/t-*/gbench.json)
gb=$(python3 - "$full_gb" "$(ls full/t-*/results.csv)" <<'PY'
import csv, json, sys
d = json.load(open(sys.argv[1]))
runs = [b for b in d["benchmarks"] if b["run_type"] == "iteration" and b["run_name"].startswith("model/")]
names = {b["run_name"].split("/threads:")[0] + "/threads:" + b["run_name"].split("/threads:")[1].split("/")[0] for b in runs}
per = {n: sum(1 for b in runs if b["run_name"].startswith(n + "/")) for n in names}
csv_ns = sorted(float(r["value"]) for r in csv.DictReader(open(sys.argv[2]))
                if r["metric"] == "latency_sample" and r["layer"] == r["model"])
gb_ns = sorted(b["real_time"] for b in runs)
same = len(csv_ns) == len(gb_ns) and all(abs(a - b) <= 1e-9 * b for a, b in zip(csv_ns, gb_ns))
print(len(names), min(per.values()), max(per.values()), int(same))
PY
)
read -r gb_names gb_min gb_max gb_same <<<"$gb"
expect_cmp "${gb_names:-0}" == "$n" "gbench.json: one benchmark per item x thread count"
if [[ "$gb_min" == 2 && "$gb_max" == 2 ]]; then pass "gbench.json: 2 repetitions each"; else fail "gbench.json repetitions: $gb"; fi
expect_cmp "${gb_same:-0}" == 1 "end-to-end latency_sample rows are Google Benchmark's repetition times"
expect_exit 0 "report of the unsharded run (reads its gbench.json)" -- "$qbench" report "$(dirname "$full_gb")" --no-plots
if grep -q 'model/' "$(dirname "$full_gb")/report.md"; then fail "model latencies listed as kernel benchmarks"; else pass "model latencies kept out of the kernel table"; fi
expect_exit 0 "shard 1/2" -- "$qbench" sweep t.yaml --shard 1/2 --output shards
expect_exit 0 "shard 2/2" -- "$qbench" sweep t.yaml --shard 2/2 --output shards
s1=$(ls -d shards/t-*-shard1of2) s2=$(ls -d shards/t-*-shard2of2)
expect_exit 0 "merge" -- "$qbench" merge --out merged "$s1" "$s2"
expect_exit 2 "merge of overlapping shards" -- "$qbench" merge --out merged2 "$s1" "$s1"
expect_in "also in an earlier shard" "overlap message"
expect_exit 2 "merge into a run folder" -- "$qbench" merge --out merged "$s1" "$s2"
expect_exit 2 "merge without --out" -- "$qbench" merge "$s1"

# Rows without run_id (column 1), timings (and the speed-up over fp32 derived from
# them) and RSS, sorted: identical.
strip() { grep -v -e ',latency_' -e ',peak_rss,' -e ',speedup_over_fp32,' "$1" | cut -d, -f2- | sort; }
full_csv=$(ls full/t-*/results.csv)
if diff <(strip "$full_csv") <(strip merged/results.csv) >/dev/null; then
  pass "merged shards == unsharded run ($(strip merged/results.csv | wc -l) rows)"
else
  fail "merged shards differ from the unsharded run"
fi
# gbench.json: the shards' benchmark entries together == the unsharded run's names
# (as a set: each shard times the fp32 baseline of its models itself).
names() { python3 -c 'import json,sys; print("\n".join(sorted(set(b["name"] for b in json.load(open(sys.argv[1]))["benchmarks"]))))' "$1"; }
if [[ -s merged/gbench.json ]] && diff <(names "$full_gb") <(names merged/gbench.json) >/dev/null; then
  pass "merged gbench.json holds the unsharded run's $(names merged/gbench.json | wc -l) benchmark entries"
else
  fail "merged gbench.json differs from the unsharded run's benchmark entries"
fi
if grep -q "\"run_id\": \"merged\"" merged/run.json && [[ -f merged/results.json ]]; then pass "merged run.json (run_id merged) and results.json"; else fail "merged folder incomplete"; fi
expect_exit 0 "report of the merged run" -- "$qbench" report merged --no-plots
# Per-sample predictions: one file per accuracy item plus the model's fp32 and labels,
# the same bytes in the merged shards as in the unsharded run.
full_dir=$(dirname "$full_gb")
npred=$(ls "$full_dir/predictions" | wc -l)
expect_cmp "$npred" == "$((n + 2))" "predictions/: one file per item, plus mlp+fp32 and mlp+labels"
if diff -r "$full_dir/predictions" merged/predictions >/dev/null; then
  pass "merged predictions/ == the unsharded run's"
else
  fail "merged predictions/ differ from the unsharded run's"
fi
# The gate reads them from the folder and from the history: the same run compared with
# itself has bit-identical predictions in every accuracy entry.
run_id=$(basename "$full_dir")
expect_exit 0 "compare the run folder with its history record" -- \
  "$qbench" compare "$full_dir" "$run_id" --db full/qbench.db --json cmp.json
nacc=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=[x for x in d["entries"] if x["kind"]=="accuracy"]; print(len(e), sum(1 for x in e if x.get("identical_predictions")), d["identical_predictions"])' cmp.json)
read -r nacc_all nacc_ident nacc_total <<<"$nacc"
expect_cmp "${nacc_all:-0}" == "$((3 * n))" "accuracy, agreement, drop compared per item"
expect_cmp "${nacc_ident:-0}" == "$((3 * n))" "each with bit-identical predictions (folder vs history blobs)"
expect_in "bit-identical per-sample predictions" "the Markdown says so"

# An interrupted shard prints the command that continues it: following it must resume
# into the same history (--db) with the same shard, not start over elsewhere. SIGINT
# after 1 s; on a machine fast enough to finish first there is nothing to check.
out=$(timeout -s INT 1 "$qbench" sweep t.yaml --shard 1/2 --output intr --db intr/h.db 2>&1)
if [[ "$out" == *"interrupted; continue with: "* ]]; then
  hint=$(sed -n 's/.*interrupted; continue with: //p' <<<"$out")
  [[ "$hint" == *"--db intr/h.db"* && "$hint" == *"--output intr"* && "$hint" == *"--shard 1/2"* ]] &&
    pass "the hint carries --db, --output and --shard" || fail "hint: $hint"
  expect_exit 0 "following the hint" -- "$qbench" ${hint#qbench }
  expect_in "done before" "the resumed run keeps the finished items"
  [[ ! -e intr/qbench.db ]] && pass "no second history" || fail "intr/qbench.db created"
  # The resumed shard has the predictions of every item: those finished before the
  # interruption kept theirs, the rest wrote theirs (the same bytes as the shard's).
  intr_dir=$(ls -d intr/t-*-shard1of2)
  if diff -r "$s1/predictions" "$intr_dir/predictions" >/dev/null; then
    pass "resumed shard: predictions/ complete and equal to the uninterrupted shard's"
  else
    fail "resumed shard: predictions/ differ from the uninterrupted shard's"
  fi
else
  pass "the shard finished within 1 s (no interruption to check)"
fi
finish
