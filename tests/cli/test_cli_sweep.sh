#!/bin/bash
# qbench sweep end to end: help, the shipped configs' dry runs, config errors with
# FILE:LINE:COL and exit 2, a run whose models are missing (exit 1, nothing
# recorded, run.json written), and --resume of that run and of a non-run folder.
# Usage: test_cli_sweep.sh QBENCH SOURCE_DIR WORKDIR
qbench=$1
src=$2
work=$3
source "$(dirname "$0")/test_cli_common.sh"
rm -rf "$work" && mkdir -p "$work" || exit 1
cd "$work" || exit 1

expect_exit 0 "sweep --help" -- "$qbench" sweep --help
expect_in "usage: qbench sweep CONFIG.yaml" "help text"
expect_exit 0 "help sweep" -- "$qbench" help sweep
expect_exit 2 "sweep without a config" -- "$qbench" sweep
expect_in "missing CONFIG.yaml" "missing config message"
expect_exit 2 "unknown option" -- "$qbench" sweep "$src/configs/quick.yaml" --frobnicate
expect_exit 2 "--resume with --dry-run" -- "$qbench" sweep "$src/configs/quick.yaml" --dry-run --resume x

for c in quick nightly hardware; do
  expect_exit 0 "dry run of $c.yaml" -- "$qbench" sweep "$src/configs/$c.yaml" --dry-run
  expect_in "plan $src/configs/$c.yaml: " "$c plan header"
done
expect_exit 0 "quick dry run" -- "$qbench" sweep "$src/configs/quick.yaml" --dry-run --list-skips
expect_in "  mlp/static/w8-sym-channel-minmax/a8-sym-tensor-minmax/scalar" "quick plans the int8 scalar item"
expect_in "weight-only-activations" "skips are counted by rule"
expect_in "  skip mlp/weight-only/w8-sym-channel-minmax/a8-sym-tensor-percentile99/scalar  (weight-only-activations)" "--list-skips lists each skip"

printf 'models: [{name: mlp}]\nweights: {range: [minmax, movavg]}\nactivations: {range: [minmax, crossentropy]}\nbackends: [scalar]\n' >roles.yaml
expect_exit 0 "range strategies without meaning for a role" -- "$qbench" sweep roles.yaml --dry-run --list-skips
expect_in "  skip mlp/static/w8-sym-channel-minmax/a8-aff-tensor-crossentropy/scalar  (crossentropy-activations)" "crossentropy on activations skipped by its rule"
expect_in "  skip mlp/static/w8-sym-channel-movavg/a8-aff-tensor-minmax/scalar  (movavg-weights)" "movavg on weights skipped by its rule"

printf 'models: [{name: mlp}]\nweights: {rounding: [div, mulrecip], restricted: [false, true]}\nactivations: {storage: [unsigned, signed]}\nbackends: [scalar]\n' >grid.yaml
expect_exit 0 "storage, restricted and rounding axes" -- "$qbench" sweep grid.yaml --dry-run
expect_in "  mlp/static/w8-sym-channel-minmax/a8-aff-tensor-minmax/scalar" "default grid keeps its id"
expect_in "  mlp/static/w8-sym-channel-minmax-restricted-mulrecip/a8-aff-tensor-minmax-signed/scalar" "non-default grid named in the id"
printf 'models: [{name: mlp}]\nweights: {rounding: [div, mul]}\n' >badround.yaml
expect_exit 2 "bad rounding" -- "$qbench" sweep badround.yaml --dry-run
expect_in "badround.yaml:2:27: weights.rounding: expected div or mulrecip, got 'mul'" "rounding error names line and column"

printf 'models: [{name: mlp}]\nweights:\n  bits: [8, 9]\n' >bad.yaml
expect_exit 2 "bits out of range" -- "$qbench" sweep bad.yaml --dry-run
expect_in "bad.yaml:3:13: weights.bits: expected bits in 2..8 or 16, got '9'" "error names line and column"
printf 'models: [{name: mlp}]\nsed: 1\n' >typo.yaml
expect_exit 2 "unknown key" -- "$qbench" sweep typo.yaml --dry-run
expect_in "typo.yaml:2:1: expected one of the keys" "unknown key position"
expect_exit 2 "missing config file" -- "$qbench" sweep nothere.yaml
expect_in "nothere.yaml: cannot read" "unreadable config message"
printf 'models: [{name: mlp}]\nworkflow: [static]\nweights: {bits: [16]}\nbackends: [scalar]\n' >empty.yaml
expect_exit 2 "a plan with nothing to run" -- "$qbench" sweep empty.yaml --output out
expect_in "every combination is skipped" "empty plan message"

# A run whose reference models do not exist: every item fails, nothing is recorded.
mkdir -p nomodels
printf 'name: t\nmodels: [{name: mlp}]\nbackends: [scalar]\n' >t.yaml
expect_exit 1 "run with missing models" -- \
  env QB_MODELS_DIR="$work/nomodels" "$qbench" sweep t.yaml --output out
expect_in "t.yaml:2:10: model $work/nomodels/mlp.onnx not found" "missing model names config position and file"
expect_in "0 items done now, 0 done before, 1 failed, 0 rows" "summary line"
run=$(ls -d out/t-*T*Z 2>/dev/null | head -n 1)
if [[ -n "$run" && -f "$run/run.json" ]]; then pass "run folder with run.json"; else fail "no run folder in out/"; fi
out=$(cat "$run/run.json" 2>/dev/null)
expect_in '"git_revision": ' "run.json has the git revision"
expect_in '"fingerprint": ' "run.json has the machine fingerprint"
expect_in '"config_text": "name: t\nmodels: [{name: mlp}]\nbackends: [scalar]\n"' "run.json has the config text"
out=$(cat "$run/results.json" 2>/dev/null)
expect_in "[]" "results.json is an empty array"
if [[ -f out/qbench.db ]]; then pass "history database created"; else fail "no out/qbench.db"; fi

expect_exit 1 "resume of the run" -- env QB_MODELS_DIR="$work/nomodels" "$qbench" sweep t.yaml --output out --resume "$run"
expect_in "0 items done now, 0 done before, 1 failed" "resume retries the failed item"
mkdir -p notarun
expect_exit 1 "resume of a folder that is not a run" -- "$qbench" sweep t.yaml --output out --resume notarun
expect_in "notarun: not a run folder (no run.json)" "not-a-run message"

finish
