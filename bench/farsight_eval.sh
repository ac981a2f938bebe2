#!/usr/bin/env bash
# Held-out evaluation of the learned prefetcher in the simulator: for each
# workload, captures access traces of its first three input families, trains
# a model on the first two, and replays the third (never seen in training)
# under every policy at 30/50/80/90 % local memory. Prints the tables and
# writes results/farsight_eval/{W-FAMILY.trace,W.model,W-heldout.json}.
#
#   WORKLOADS="xgboost mcf sssp pagerank"   SIZE=--small (default) or SIZE=""
#   CAPTURE=5%     the capture cache (D103: at most a sixth of the smallest size)
#   LOCALS=30,50,80,90   EPOCHS=4   THREADS=N (as in workload_sim.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
WORKLOADS="${WORKLOADS:-xgboost mcf sssp pagerank}"
SIZE="${SIZE---small}"
CAPTURE="${CAPTURE:-5%}"
LOCALS="${LOCALS:-30,50,80,90}"
EPOCHS="${EPOCHS:-4}"
out=results/farsight_eval
mkdir -p "$out"
for w in $WORKLOADS; do
  bin="build/workloads/$w"
  [ -x "$bin" ] || { echo "missing $bin: build first (bash scripts/build.sh)"; exit 2; }
  extra=()
  if [ -n "${THREADS:-}" ]; then
    case "$w" in pagerank|sssp) extra+=(--threads "$THREADS") ;; *) export OMP_NUM_THREADS="$THREADS" ;; esac
  fi
  mapfile -t families < <("$bin" --list-inputs)
  families=("${families[@]:0:3}")
  heldout="${families[2]}"
  train=()
  for f in "${families[@]}"; do
    trace="$out/$w-$f.trace"
    if [ ! -s "$trace" ]; then
      echo "=== $w --input $f: capturing with a $CAPTURE cache"
      build/prescient trace --quiet --local "$CAPTURE" --out "$trace" -- "$bin" $SIZE --input "$f" "${extra[@]}" > /dev/null || { echo "trace of $w $f failed"; exit 1; }
    fi
    [ "$f" = "$heldout" ] || train+=("$trace")
  done
  echo "=== $w: training on ${train[*]}"
  build/prescient train --traces "$(IFS=,; echo "${train[*]}")" --local "$LOCALS" --epochs "$EPOCHS" --out "$out/$w.model" || exit 1
  echo "=== $w: held-out family $heldout"
  build/prescient sim --trace "$out/$w-$heldout.trace" --local "$LOCALS" --prefetch none,readahead,vma-readahead,leap,stride,farsight,oracle \
    --model "$out/$w.model" --json "$out/$w-heldout.json" || exit 1
done
