#!/usr/bin/env bash
# DLRM training through a memory node, embedding-dominated (issue 6,
# "Benchmark"): each configuration trains on its own pool file in /dev/shm
# (tmpfs, with PMEM-like latency injected: reads 3x, writes 7x DRAM), served
# by `prescient memnode --pool` over loopback. Configurations run
# interleaved REPS times so machine load hits them alike; medians reported.
#
#   BATCHES=200 REPS=1 HOT=8 ROWS=100000 LATENCY=pmem POOL_DIR=/dev/shm EXTRA="..." bash bench/dlrm_bench.sh
#
# Configurations (placement / checkpoint / the node's undo log):
#   near relaxed  undo    the design: near-memory ops, undo log, relaxed dense checkpoint
#   near relaxed  sync-undo  the same with each batch's undo log written inside its
#                         PREPARE instead of beside its lookups (what the log-ahead buys)
#   near none     undo    the same without dense checkpointing (checkpoint overhead base)
#   host relaxed  undo    host placement under the same undo log and checkpoint: splits
#                         the placement's cost from the checkpointing design's
#   host stw      no-undo the baseline: rows to the trainer and back, stop-the-world
#   host none     no-undo host placement without checkpoints
# Row-wise Adagrad everywhere (every mode restores it since D86).
# Prints a table with the ratios and writes results/dlrm_bench.json. Needs
# only bash and the prescient binary (its JSON report line).
set -uo pipefail
cd "$(dirname "$0")/.."
BATCHES="${BATCHES:-200}" REPS="${REPS:-1}" HOT="${HOT:-8}" ROWS="${ROWS:-100000}" LATENCY="${LATENCY:-pmem}"
POOL_DIR="${POOL_DIR:-/dev/shm}" EXTRA="${EXTRA:-}" CKPT_EVERY="${CKPT_EVERY:-50}"
bin=build/prescient
[ -x "$bin" ] || { echo "missing $bin: build first"; exit 2; }
out=results/dlrm_bench
mkdir -p "$out"
# shellcheck source=bench/dlrm_common.sh
. bench/dlrm_common.sh
scratch_dir "$POOL_DIR" dlrm_bench

configs=("near relaxed undo" "near relaxed sync-undo" "near none undo" "host relaxed undo" "host stop-the-world no-undo" "host none no-undo")
# shellcheck disable=SC2206
model=(--rows "$ROWS" --hot "$HOT" --seed 1 --threads 1 --quiet $EXTRA)
for rep in $(seq "$REPS"); do
  for c in "${configs[@]}"; do
    set -- $c
    name="$1-$2-$3-$rep" pool="$work/$1-$2-$3.pool"
    rm -rf "$pool" "$pool.ckpt"
    "$bin" dlrm train "${model[@]}" --batches 0 --pool "$pool" --checkpoint none >/dev/null 2>"$out/$name.err" || { echo "creating $pool failed"; exit 1; }
    node=(--pool "$pool" --pool-latency "$LATENCY")
    [ "$3" = no-undo ] && node+=(--pool-no-undo-log)
    [ "$3" = sync-undo ] && node+=(--pool-sync-undo-log)
    start_node "$bin" "$out/$name.err" "${node[@]}" || { echo "$name: the memory node did not start"; exit 1; }
    "$bin" dlrm train "${model[@]}" --batches "$BATCHES" --memnode "$addr" --placement "$1" \
      --checkpoint "$2" --checkpoint-every "$CKPT_EVERY" --checkpoint-dir "$pool.ckpt" 2>>"$out/$name.err" | tail -1 >"$out/$name.json"
    stop_node
    rm -rf "$pool" "$pool.ckpt"
  done
done

metric() {  # $1 placement-checkpoint-undo, $2 key
  for r in $(seq "$REPS"); do jget "$(cat "$out/$1-$r.json")" "$2"; done | median
}
printf '%-9s %-15s %-8s %10s %8s %13s %8s\n' placement checkpoint undo samples/s ckpt% "link KB/batch" AUC
json="["
for c in "${configs[@]}"; do
  set -- $c
  k="$1-$2-$3"
  sps=$(metric "$k" samples_per_s) pct=$(metric "$k" checkpoint_overhead_pct) link=$(metric "$k" link_bytes_per_batch) auc=$(metric "$k" auc)
  printf '%-9s %-15s %-8s %10.0f %8.2f %13.1f %8.4f\n' "$1" "$2" "$3" "$sps" "$pct" "$(awk -v l="$link" 'BEGIN { print l / 1000 }')" "$auc"
  [ "$json" = "[" ] || json="$json,"
  json="$json{\"placement\":\"$1\",\"checkpoint\":\"$2\",\"undo_log\":\"$3\",\"samples_per_s\":$sps,\"checkpoint_overhead_pct\":$pct,\"link_bytes_per_batch\":$link,\"auc\":$auc}"
  v="${1}_${2//-/_}_${3//-/_}"
  eval "sps_$v=$sps link_$v=$link pct_$v=$pct"
done
json="$json]"
speedup=$(awk -v a="$sps_near_relaxed_undo" -v b="$sps_host_stop_the_world_no_undo" 'BEGIN { printf "%.2f", a / b }')
bytes=$(awk -v a="$link_host_stop_the_world_no_undo" -v b="$link_near_relaxed_undo" 'BEGIN { printf "%.2f", a / b }')
tput_cost=$(awk -v a="$sps_near_relaxed_undo" -v b="$sps_near_none_undo" 'BEGIN { printf "%.2f", 100 * (1 - a / b) }')
placement=$(awk -v a="$sps_near_relaxed_undo" -v b="$sps_host_relaxed_undo" 'BEGIN { printf "%.2f", a / b }')
log_ahead=$(awk -v a="$sps_near_relaxed_undo" -v b="$sps_near_relaxed_sync_undo" 'BEGIN { printf "%.2f", a / b }')
design=$(awk -v a="$sps_host_relaxed_undo" -v b="$sps_host_stop_the_world_no_undo" 'BEGIN { printf "%.2f", a / b }')
echo "near+undo+relaxed vs host+stop-the-world: ${speedup}x samples/s; host moves ${bytes}x the bytes per batch"
echo "  of which placement (near vs host, both undo+relaxed): ${placement}x; checkpointing (host undo+relaxed vs host stop-the-world): ${design}x"
echo "undo log written beside the lookups vs inside PREPARE (near, relaxed): ${log_ahead}x"
printf 'relaxed checkpoint: %.2f%% of training time on the training thread; throughput cost vs no checkpoint %s%%\n' "$pct_near_relaxed_undo" "$tput_cost"
printf '{"batches":%d,"reps":%d,"hot":%d,"rows":%d,"latency":"%s","configs":%s,"speedup_near_relaxed_vs_host_stw":%s,"host_over_near_bytes":%s,"relaxed_checkpoint_overhead_pct":%s,"relaxed_throughput_cost_pct":%s,"near_over_host_both_relaxed":%s,"host_relaxed_over_host_stw":%s,"log_ahead_over_sync":%s}\n' \
  "$BATCHES" "$REPS" "$HOT" "$ROWS" "$LATENCY" "$json" "$speedup" "$bytes" "$pct_near_relaxed_undo" "$tput_cost" "$placement" "$design" "$log_ahead" >results/dlrm_bench.json
echo "wrote results/dlrm_bench.json"
