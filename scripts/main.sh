#!/usr/bin/env bash
# The main job: installs dependencies, builds, then runs a bundled workload
# with half of its memory local (the rest in the embedded far-memory store)
# under each prefetch policy, and prints their comparison table.
#
#   LOCAL=50%   local-memory share (default 50%)
#   POLICIES="none readahead vma-readahead leap stride"   policies to compare
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh release

LOCAL="${LOCAL:-50%}"
POLICIES="${POLICIES:-none readahead vma-readahead leap stride}"
out="results/main"
mkdir -p "$out"
workload=(build/tests/transparent_demo)

echo "=== native run"
"${workload[@]}"
reports=()
for policy in $POLICIES; do
  echo "=== ${workload[*]} at $LOCAL local memory, prefetch=$policy"
  build/prescient run --local "$LOCAL" --prefetch "$policy" --report "$out/$policy.json" -- "${workload[@]}"
  reports+=("$out/$policy.json")
done
echo
echo "=== comparison ($LOCAL local, embedded store; reports in $out/)"
build/prescient compare "${reports[@]}"
