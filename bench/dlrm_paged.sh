#!/usr/bin/env bash
# Issue 6, item 7: the same DLRM with its embedding tables in far memory two
# ways, through the same loopback memory node:
#   pool    the design: tables in the node's persistent pool, which pools the
#           bags and applies the updates itself (near placement, undo log,
#           relaxed dense checkpoint), with and without PMEM-like latency;
#   paged   `prescient dlrm train --store dram`, unmodified, under
#           `prescient run --memnode --local L% --prefetch P`: every page of
#           the trainer's heap (tables and libtorch's tensors) beyond L % of
#           its footprint lives on the node and comes back on a fault. No
#           crash tolerance: the node's pages die with the trainer.
# plus the trainer with everything local (no node), the ceiling.
#
# farsight needs a model of this program: it is trained once (and kept in
# results/dlrm_paged/dlrm.bin) on `prescient trace` captures of training with
# TRAIN_SEEDS, and judged on a run with TEST_SEED, data it never saw. The
# simulator's table for the held-out capture is printed too.
#
#   BATCHES=100 REPS=1 LOCALS="30 50" POLICIES="none readahead leap farsight" bash bench/dlrm_paged.sh
#
# Writes results/dlrm_paged.json. Needs only bash and the prescient binary.
set -uo pipefail
cd "$(dirname "$0")/.."
BATCHES="${BATCHES:-100}" REPS="${REPS:-1}" HOT="${HOT:-8}" ROWS="${ROWS:-100000}" LOCALS="${LOCALS:-30 50}"
POLICIES="${POLICIES:-none readahead leap farsight}" TRAIN_SEEDS="${TRAIN_SEEDS:-2 3}" TEST_SEED="${TEST_SEED:-1}"
CAPTURE_BATCHES="${CAPTURE_BATCHES:-30}" POOL_DIR="${POOL_DIR:-/dev/shm}"
bin=build/prescient
[ -x "$bin" ] || { echo "missing $bin: build first"; exit 2; }
out=results/dlrm_paged
mkdir -p "$out"
# shellcheck source=bench/dlrm_common.sh
. bench/dlrm_common.sh
scratch_dir "$POOL_DIR" dlrm_paged
say() { echo "[dlrm_paged] $*" >&2; }

# shellcheck disable=SC2206
model=(--rows "$ROWS" --hot "$HOT" --threads 1 --quiet)
dram_train() {  # $1 seed, $2 batches
  echo "$bin" dlrm train "${model[@]}" --store dram --seed "$1" --batches "$2" --checkpoint none
}

# 1. The farsight model, from captures of other seeds.
model_file="$out/dlrm.bin"
if [ ! -s "$model_file" ] && [[ " $POLICIES " == *" farsight "* ]]; then
  traces=""
  for s in $TRAIN_SEEDS; do
    say "capturing seed $s ($CAPTURE_BATCHES batches at 10 % local)"
    # shellcheck disable=SC2046
    "$bin" trace --quiet --local 10% --out "$out/seed$s.trace" -- $(dram_train "$s" "$CAPTURE_BATCHES") >/dev/null 2>"$out/capture$s.err" ||
      { echo "capture of seed $s failed: see $out/capture$s.err"; exit 1; }
    traces="$traces${traces:+,}$out/seed$s.trace"
  done
  say "training the model on $traces"
  "$bin" train --traces "$traces" --local 30,50 --out "$model_file" 2>"$out/train.err" | tail -1 >"$out/train.json" ||
    { echo "training failed: see $out/train.err"; exit 1; }
fi

# 2. The simulator on the held-out seed.
if [ ! -s "$out/seed$TEST_SEED.trace" ]; then
  say "capturing held-out seed $TEST_SEED"
  # shellcheck disable=SC2046
  "$bin" trace --quiet --local 10% --out "$out/seed$TEST_SEED.trace" -- $(dram_train "$TEST_SEED" "$CAPTURE_BATCHES") >/dev/null 2>"$out/capture$TEST_SEED.err" ||
    { echo "capture of seed $TEST_SEED failed"; exit 1; }
fi
sim_policies=$(tr ' ' ',' <<<"$POLICIES"),oracle
sim_model=()
[[ " $POLICIES " == *" farsight "* ]] && sim_model=(--model "$model_file")
"$bin" sim --trace "$out/seed$TEST_SEED.trace" --local "$(tr ' ' ',' <<<"$LOCALS")" --prefetch "$sim_policies" "${sim_model[@]}" --json "$out/sim.json" 2>/dev/null >"$out/sim.md" ||
  { echo "prescient sim failed"; exit 1; }

# 3. The runs, interleaved REPS times, on the held-out seed.

configs=("local - -" "pool pmem -" "pool off -")
for l in $LOCALS; do for p in $POLICIES; do configs+=("paged $l $p"); done; done
for rep in $(seq "$REPS"); do
  for c in "${configs[@]}"; do
    set -- $c
    name="$1-$2-$3-$rep"
    say "$name"
    case "$1" in
      local)
        # shellcheck disable=SC2046
        $(dram_train "$TEST_SEED" "$BATCHES") 2>"$out/$name.err" | tail -1 >"$out/$name.json" ;;
      pool)
        pool="$work/tables.pool"
        rm -rf "$pool" "$pool.ckpt"
        "$bin" dlrm train "${model[@]}" --seed "$TEST_SEED" --batches 0 --pool "$pool" --checkpoint none >/dev/null 2>"$out/$name.err"
        start_node "$bin" "$out/$name.err" --pool "$pool" --pool-latency "$2" || { echo "$name: the memory node did not start"; exit 1; }
        "$bin" dlrm train "${model[@]}" --seed "$TEST_SEED" --batches "$BATCHES" --memnode "$addr" --placement near --checkpoint relaxed \
          --checkpoint-dir "$pool.ckpt" 2>>"$out/$name.err" | tail -1 >"$out/$name.json"
        stop_node
        rm -rf "$pool" "$pool.ckpt" ;;
      paged)
        start_node "$bin" "$out/$name.err" || { echo "$name: the memory node did not start"; exit 1; }
        flags=(--quiet --memnode "$addr" --local "$2%" --prefetch "$3" --report "$out/$name.report.json")
        [ "$3" = farsight ] && flags+=(--model "$model_file")
        # shellcheck disable=SC2046
        "$bin" run "${flags[@]}" -- $(dram_train "$TEST_SEED" "$BATCHES") 2>"$out/$name.err" | tail -1 >"$out/$name.json"
        stop_node ;;
    esac
    [ -n "$(jget "$(cat "$out/$name.json")" samples_per_s)" ] || { echo "$name failed: see $out/$name.err"; exit 1; }
  done
done

metric() {  # $1 config, $2 key
  for r in $(seq "$REPS"); do jget "$(cat "$out/$1-$r.json")" "$2"; done | median
}
faults() {  # $1 config: the runtime's demand faults that read the node (zero-fills are not reads)
  for r in $(seq "$REPS"); do
    j=$(cat "$out/$1-$r.report.json")
    echo $(($(jget "$j" demand_faults) - $(jget "$j" zero_fills)))
  done | median
}
pool_sps=$(metric "pool-pmem--" samples_per_s)
printf '%-6s %-9s %-10s %10s %9s %12s %8s\n' design local policy samples/s "vs pool" "swap-ins" AUC
json="["
for c in "${configs[@]}"; do
  set -- $c
  k="$1-$2-$3"
  sps=$(metric "$k" samples_per_s) auc=$(metric "$k" auc)
  f="-"
  [ "$1" = paged ] && f=$(faults "$k")
  ratio=$(awk -v a="$sps" -v b="$pool_sps" 'BEGIN { printf "%.2f", a / b }')
  label="$2"
  [ "$1" = pool ] && label="lat:$2"
  printf '%-6s %-9s %-10s %10.0f %9s %12s %8.4f\n' "$1" "$label" "$3" "$sps" "${ratio}x" "$f" "$auc"
  [ "$json" = "[" ] || json="$json,"
  json="$json{\"design\":\"$1\",\"local_pct\":\"$2\",\"policy\":\"$3\",\"samples_per_s\":$sps,\"over_pool\":$ratio,\"swap_ins\":\"$f\",\"auc\":$auc}"
done
json="$json]"
echo "simulator, held-out seed $TEST_SEED:"
cat "$out/sim.md"
printf '{"batches":%d,"reps":%d,"hot":%d,"rows":%d,"test_seed":%d,"train_seeds":"%s","runs":%s,"sim":%s}\n' \
  "$BATCHES" "$REPS" "$HOT" "$ROWS" "$TEST_SEED" "$TRAIN_SEEDS" "$json" "$(cat "$out/sim.json")" >results/dlrm_paged.json
echo "wrote results/dlrm_paged.json"
