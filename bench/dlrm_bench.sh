#!/usr/bin/env bash
# DLRM training throughput, checkpoint overhead and trainer<->store bytes
# for each placement and checkpoint mode, on one store (default dram), runs
# interleaved REPS times so machine load hits every configuration alike.
# Every configuration uses SGD for the embeddings, the only sparse optimizer
# the snapshot baselines can restore (docs/decisions.md D84).
#
#   BATCHES=400 REPS=3 HOT=1 STORE=dram EXTRA="..."   bash bench/dlrm_bench.sh
# Prints one row per configuration (medians) and writes results/dlrm_bench.json.
set -uo pipefail
cd "$(dirname "$0")/.."
BATCHES="${BATCHES:-400}"
REPS="${REPS:-3}"
HOT="${HOT:-1}"
STORE="${STORE:-dram}"
EXTRA="${EXTRA:-}"
bin=build/prescient
[ -x "$bin" ] || { echo "missing $bin: build first"; exit 2; }
out=results/dlrm_bench
mkdir -p "$out"
configs=(
  "near none"
  "host none"
  "near relaxed"
  "near strict"
  "near stop-the-world"
  "near differential"
  "host stop-the-world"
)
for rep in $(seq "$REPS"); do
  for c in "${configs[@]}"; do
    set -- $c
    ckdir=$(mktemp -d)
    # shellcheck disable=SC2086
    "$bin" dlrm train --store "$STORE" --batches "$BATCHES" --hot "$HOT" --sparse-opt sgd --sparse-lr 0.2 --placement "$1" --checkpoint "$2" \
      --checkpoint-every 50 --checkpoint-dir "$ckdir" --quiet $EXTRA 2>/dev/null | tail -1 > "$out/$1-$2-$rep.json"
    rm -rf "$ckdir"
  done
done
python3 - "$out" "$REPS" "${configs[@]}" <<'PY'
import json, statistics, sys
out, reps, configs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = []
print(f"{'placement':9} {'checkpoint':15} {'samples/s':>10} {'ckpt %':>7} {'ckpt MB':>8} {'link KB/batch':>13} {'AUC':>7}")
for c in configs:
    p, m = c.split()
    runs = [json.load(open(f"{out}/{p}-{m}-{r}.json")) for r in range(1, reps + 1)]
    med = lambda k: statistics.median(r[k] for r in runs)
    row = {"placement": p, "checkpoint": m, "samples_per_s": med("samples_per_s"), "checkpoint_overhead_pct": med("checkpoint_overhead_pct"),
           "checkpoint_bytes": med("checkpoint_bytes"), "link_bytes_per_batch": med("link_bytes_per_batch"), "auc": med("auc"), "runs": runs}
    rows.append(row)
    print(f"{p:9} {m:15} {row['samples_per_s']:10.0f} {row['checkpoint_overhead_pct']:7.2f} {row['checkpoint_bytes']/1e6:8.1f} "
          f"{row['link_bytes_per_batch']/1e3:13.1f} {row['auc']:7.4f}")
json.dump(rows, open("results/dlrm_bench.json", "w"), indent=1)
PY
