#!/bin/bash
# qbench compare / report / recommend / history / hardware end to end on synthetic
# runs (written by test_report --write-run and test_history --write-db): exit codes,
# the regression gate on a planted slowdown, report and plot files, the recommended
# config accepted by qbench sweep --dry-run.
# Usage: test_cli_report.sh QBENCH TEST_REPORT TEST_HISTORY WORKDIR
qbench=$1
write_run=$2
write_db=$3
work=$4
source "$(dirname "$0")/test_cli_common.sh"
rm -rf "$work" && mkdir -p "$work" || exit 1
cd "$work" || exit 1
have_gnuplot=0
command -v gnuplot >/dev/null && have_gnuplot=1

for c in compare report recommend history hardware; do
  expect_exit 0 "$c --help" -- "$qbench" "$c" --help
  expect_in "usage: qbench $c" "$c help text"
done

"$write_run" --write-run base >/dev/null 2>&1 || { echo "FAIL: cannot write the synthetic run"; exit 1; }
cp -r base same
# slow: every latency 30 % higher (column 18 is value, 17 metric).
mkdir -p slow && cp base/run.json slow/
awk -F, -v OFS=, 'NR > 1 && $17 == "latency_sample" { $18 = $18 * 1.3 } { print }' base/results.csv >slow/results.csv

# ---- compare ----
expect_exit 0 "compare a run with itself" -- "$qbench" compare base same
expect_in "**OK**: 0 regressions" "no regression on identical runs"
expect_exit 1 "compare a 30 % slowdown" -- "$qbench" compare base slow --json cmp.json --md cmp.md
md=$(cat cmp.md)
[[ "$md" == *"**REGRESSION**: 33 regressions"* ]] && pass "33 latency series regressed (11 qconfigs x 3 backends)" || fail "regression count: $md"
[[ "$(cat cmp.json)" == *'"status": "regressed"'* ]] && pass "JSON names the regression" || fail "JSON status"
expect_exit 0 "the same slowdown under a 50 % threshold" -- "$qbench" compare base slow --speed-threshold 50
# short: 3 repetitions per latency series (smallest U-test p 0.1): the gate refuses.
mkdir -p short && cp base/run.json short/
awk -F, 'NR == 1 || $17 != "latency_sample" || ++n[$2 FS $4 FS $16] <= 3' base/results.csv >short/results.csv
expect_exit 2 "compare series too short to reach alpha" -- "$qbench" compare short short
expect_in "too short to judge at alpha 0.05: 3 vs 3 repetitions" "the refusal names the reason"
expect_exit 0 "the same series at an alpha they can reach" -- "$qbench" compare short short --alpha 0.2
expect_exit 2 "compare a missing run" -- "$qbench" compare base nothere
expect_in "nothere: no such run folder" "missing run named"
expect_exit 2 "compare with one run" -- "$qbench" compare base
expect_exit 2 "compare with a bad alpha" -- "$qbench" compare base same --alpha 2
expect_in "--alpha '2'" "bad alpha named"
mkdir -p empty
expect_exit 2 "compare a folder that is not a run" -- "$qbench" compare base empty
expect_in "not a run folder" "not-a-run message"
mkdir -p norows && head -n 1 base/results.csv >norows/results.csv
expect_exit 2 "compare against a run without rows" -- "$qbench" compare base norows
expect_in "no rows in common" "an empty run does not pass the gate"
mkdir -p cut && printf '{"benchmarks": [ {"name": "x", "run_type": "iteration"' >cut/gbench.json
expect_exit 2 "a truncated gbench.json" -- "$qbench" compare base cut
expect_in "cut/gbench.json: truncated" "truncation named"

# ---- report ----
if [[ $have_gnuplot -eq 1 ]]; then
  expect_exit 0 "report" -- "$qbench" report base
  expect_in "base/report.md" "report path printed"
  for p in pareto_latency_mlp pareto_bytes_mlp layer_sqnr_mlp sensitivity_mlp backends_mlp; do
    size=$(stat -c %s "base/plots/$p.png" 2>/dev/null || echo 0)
    expect_cmp "$size" ">" 10000 "$p.png is a real image"
    head -c 200 "base/plots/$p.svg" 2>/dev/null | grep -q "<svg" && pass "$p.svg is SVG" || fail "$p.svg is not SVG"
  done
else
  expect_exit 0 "report without plots" -- "$qbench" report base --no-plots
fi
rep=$(cat base/report.md)
[[ "$rep" == *"## Model mlp"* && "$rep" == *"## Worth a look"* ]] && pass "report sections" || fail "report sections"
[[ "$rep" == *"give identical accuracy and per-layer SQNR"* ]] && pass "identical ranges flagged" || fail "identical ranges not flagged"
expect_exit 0 "report into another folder" -- "$qbench" report base --out elsewhere --no-plots
[[ -s elsewhere/report.md && -s elsewhere/plots/pareto_latency_mlp.dat ]] && pass "--out writes there" || fail "--out"
expect_exit 2 "report of a missing run" -- "$qbench" report nothere

# ---- recommend ----
expect_exit 0 "recommend within 1 pp" -- "$qbench" recommend base --model mlp --max-drop 1 --config rec.yaml
# Within budget = the upper end of the drop's 95 % interval: w4 group:32 (0.90 pp,
# upper 1.08) is faster but not within 1 pp; w8 channel min-max (0.20, upper 0.37) is.
expect_in "  1    0.20      0.37       40.0" "the fastest within budget (interval upper end) is ranked first"
expect_in "  3    0.90      1.08 " "the faster qconfig whose interval exceeds the budget is on the Pareto front only"
expect_in "w4-sym-group:32-minmax/weight-only" "its eval qconfig"
expect_in "VERIFICATION PENDING" "the mixed plan says it is not verified"
grep -q "^backends: \[avx512vnni\]" rec.yaml && pass "the run's backend is recommended" || fail "rec.yaml backends: $(grep backends rec.yaml)"
expect_exit 0 "the recommended config is a valid sweep" -- "$qbench" sweep rec.yaml --dry-run
# The synthetic run was measured on avx512vnni: a machine without it plans the item
# and skips it by the backend rule.
if [[ ",$(usable_backends "$qbench")," == *",avx512vnni,"* ]]; then
  expect_in "1 items, 0 skipped" "one plan item"
else
  expect_in "0 items, 1 skipped" "the item is skipped here"
  expect_in "backend-not-usable              1" "by the backend rule"
fi
expect_exit 0 "recommend by size" -- "$qbench" recommend base --model mlp --max-drop 1 --objective size
expect_exit 1 "recommend with an impossible budget" -- "$qbench" recommend base --model mlp --max-drop 0.1
expect_in "none: no measured qconfig meets the budget" "impossible budget message"
expect_exit 2 "recommend without --model" -- "$qbench" recommend base --max-drop 1
expect_exit 2 "recommend an unknown model" -- "$qbench" recommend base --model nope --max-drop 1
expect_exit 2 "recommend a bad objective" -- "$qbench" recommend base --model mlp --max-drop 1 --objective speed

# ---- history (and compare by run id) ----
"$write_db" --write-db h.db >/dev/null 2>&1 || { echo "FAIL: cannot write the history"; exit 1; }
expect_exit 0 "history of latency on m1" -- "$qbench" history --db h.db --metric latency_sample --machine m1
expect_in "nightly-20261130T020000Z" "the third run is listed"
expect_in "1212" "its median"
if [[ $have_gnuplot -eq 1 ]]; then
  expect_exit 0 "history plot" -- "$qbench" history --db h.db --metric accuracy --plot hist.png
  size=$(stat -c %s hist.png 2>/dev/null || echo 0)
  expect_cmp "$size" ">" 10000 "history plot is a real image"
fi
expect_exit 1 "history of an unknown metric" -- "$qbench" history --db h.db --metric frobs
expect_exit 2 "history without --metric" -- "$qbench" history --db h.db
expect_exit 2 "history of a missing database" -- "$qbench" history --db nothere.db --metric accuracy
# Three repetitions per side cannot reach p < 0.05 (smallest exact p = 0.1): no gate.
# 3 repetitions per side: refused at alpha 0.05 (smallest p 0.1), judged at 0.2.
expect_exit 2 "compare 3 vs 3 repetitions by id in the history" -- "$qbench" compare nightly-20261128T020000Z nightly-20261130T020000Z --db h.db
expect_exit 1 "compare runs by id in the history" -- "$qbench" compare nightly-20261128T020000Z nightly-20261130T020000Z --db h.db --all --alpha 0.2
expect_in "| 0.1 |" "exact p of a fully separated 3 vs 3"

# ---- hardware ----
expect_exit 0 "hardware of two runs" -- "$qbench" hardware base slow --out hw --no-plots
hwmd=$(cat hw/hardware.md)
[[ "$hwmd" == *"## Machines"* && "$hwmd" == *"0.77x"* ]] && pass "hardware tables (slow run at 1/1.3 = 0.77x)" || fail "hardware tables: $hwmd"
expect_exit 2 "hardware of one run" -- "$qbench" hardware base
expect_exit 0 "hardware into nested folders" -- "$qbench" hardware base slow --out hw2/a/b/c --no-plots
[[ -s hw2/a/b/c/hardware.md ]] && pass "hardware --out a/b/c" || fail "no hw2/a/b/c/hardware.md"

# ---- hostile run folders, write errors, exit codes (issue 12) ----
expect_exit 2 "compare --md to a full disk" -- "$qbench" compare base same --md /dev/full
expect_in "/dev/full: write failed" "the failed write is named"
mkdir -p fiforun && cp base/results.csv fiforun/ && mkfifo fiforun/run.json
expect_exit 0 "a FIFO as run.json does not block compare" -- timeout 60 "$qbench" compare base fiforun
mkdir -p zerorun && ln -s /dev/zero zerorun/results.csv
expect_exit 2 "/dev/zero as results.csv is refused by merge" -- timeout 60 "$qbench" merge --out merged0 zerorun
expect_in "not a regular file" "the device is named"
mkdir -p oddrun && cp base/results.csv oddrun/ &&
  sed 's/"cores": [0-9]*/"cores": 1e300/; s/"pus": [0-9]*/"pus": -1e300/' base/run.json >oddrun/run.json
expect_exit 0 "run.json counts out of int range" -- "$qbench" compare base oddrun
expect_exit 2 "history --qconfig garbage" -- "$qbench" history --db h.db --metric accuracy --qconfig garbage
expect_in "--qconfig 'garbage'" "the bad qconfig is named"
python3 -c 'import sqlite3; c = sqlite3.connect("foreign.db"); c.execute("create table notes(x)"); c.commit()'
expect_exit 2 "history in an SQLite file that is not a qbench history" -- "$qbench" history --db foreign.db --metric accuracy
expect_in "not a qbench history" "refusal explained"
tables=$(python3 -c 'import sqlite3; print(",".join(r[0] for r in sqlite3.connect("foreign.db").execute("select name from sqlite_master where type = \"table\" order by name")))')
expect_cmp "$([[ $tables == notes ]] && echo 1 || echo 0)" "==" 1 "no table created in it ($tables)"

# ---- merge ----
expect_exit 0 "merge into nested folders" -- "$qbench" merge --out m/a/b base
[[ -s m/a/b/results.csv && -s m/a/b/run.json ]] && pass "merge --out a/b/c" || fail "merge --out a/b/c"
mkdir -p badgb && cp base/results.csv base/run.json badgb/ && printf '{"benchmarks": [ {"name": "x", "run_type": "iteration"' >badgb/gbench.json
expect_exit 2 "merge of a shard with a malformed gbench.json" -- "$qbench" merge --out m2 badgb
expect_in "badgb/gbench.json: truncated" "the malformed shard is named"
[[ ! -e m2/gbench.json ]] && pass "no merged gbench.json" || fail "m2/gbench.json written"
expect_exit 2 "merge of overlapping shards" -- "$qbench" merge --out m3 base same
expect_in "also in an earlier shard" "overlap named"
finish
