#!/usr/bin/env bash
# The main job: installs dependencies, builds, then runs a bundled workload
# (sssp, delta-stepping shortest paths, --small, on an input family its
# checked-in model never saw) with half of its memory local and the rest in
# the embedded far-memory store, under each prefetch policy, and prints their
# comparison table. The learned policy uses models/sssp.model
# (scripts/train_models.sh reproduces it).
#
#   LOCAL=50%   local-memory share (default 50%)
#   POLICIES="none readahead vma-readahead leap stride farsight"   policies to compare
#   FAULT_PATH=auto   who serves faults: the signal path where the kernel offers
#                     it (the workload makes no raw system calls into its heap,
#                     so it is safe there); thread is `prescient run`'s default (D105)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh release

LOCAL="${LOCAL:-50%}"
POLICIES="${POLICIES:-none readahead vma-readahead leap stride farsight}"
FAULT_PATH="${FAULT_PATH:-auto}"
out="results/main"
mkdir -p "$out"
workload=(build/workloads/sssp --small --threads 1 --input rmat-skewed)

echo "=== native run: ${workload[*]}"
"${workload[@]}"
reports=()
for policy in $POLICIES; do
  flags=(--local "$LOCAL" --fault-path "$FAULT_PATH" --prefetch "$policy" --report "$out/$policy.json")
  [ "$policy" = farsight ] && flags+=(--model models/sssp.model)
  echo "=== ${workload[*]} at $LOCAL local memory, prefetch=$policy"
  build/prescient run "${flags[@]}" -- "${workload[@]}"
  reports+=("$out/$policy.json")
done
echo
echo "=== comparison ($LOCAL local, embedded store; reports in $out/)"
build/prescient compare "${reports[@]}"
