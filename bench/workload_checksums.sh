#!/usr/bin/env bash
# Runs every workload natively and under `prescient run --local 30%` with
# each classic prefetch policy, at the default size (~1 GiB footprint), and
# checks that every run prints the native checksum. Prints one row per run
# with its wall time and writes results/workload_checksums.json.
#
#   SIZE=--small  for the CI-sized inputs instead
#   LOCAL=30%     local memory share
#   WORKLOADS="pagerank sssp mcf xgboost"   POLICIES="none readahead vma-readahead leap stride"
set -uo pipefail
cd "$(dirname "$0")/.."
SIZE="${SIZE:-}"
LOCAL="${LOCAL:-30%}"
WORKLOADS="${WORKLOADS:-pagerank sssp mcf xgboost}"
POLICIES="${POLICIES:-none readahead vma-readahead leap stride}"
out=results/workload_checksums
mkdir -p "$out"
json="$out/results.json"
echo "[" > "$json"
first=1
failures=0
now() { date +%s.%N; }
printf "%-9s %-14s %-14s %10s %s\n" workload policy checksum wall_s verdict
for w in $WORKLOADS; do
  bin="build/workloads/$w"
  [ -x "$bin" ] || { echo "missing $bin: build first (bash scripts/build.sh)"; exit 2; }
  t0=$(now); native=$("$bin" $SIZE | tail -1); t1=$(now)
  printf "%-9s %-14s %-14s %10.1f %s\n" "$w" native "${native#checksum=}" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" reference
  for p in $POLICIES; do
    t0=$(now)
    got=$(build/prescient run --quiet --local "$LOCAL" --prefetch "$p" --report "$out/$w-$p.json" -- "$bin" $SIZE | tail -1)
    t1=$(now)
    verdict=same; [ "$got" = "$native" ] || { verdict=DIFFERENT; failures=$((failures + 1)); }
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
    printf "%-9s %-14s %-14s %10.1f %s\n" "$w" "$p" "${got#checksum=}" "$wall" "$verdict"
    [ $first -eq 1 ] || echo "," >> "$json"; first=0
    printf '{"workload":"%s","policy":"%s","local":"%s","native":"%s","managed":"%s","wall_s":%s,"same":%s}' \
      "$w" "$p" "$LOCAL" "$native" "$got" "$wall" "$([ "$verdict" = same ] && echo true || echo false)" >> "$json"
  done
done
echo "]" >> "$json"
echo "$failures run(s) differed from the native checksum; details in $json"
[ "$failures" -eq 0 ]
