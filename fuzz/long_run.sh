#!/usr/bin/env bash
# long_run.sh [SECONDS]: runs both fuzz targets for SECONDS each (default
# 1800) from their seed corpora and writes what they did, with provenance,
# to docs/results/fuzz_long.txt. Builds the `fuzz` preset first.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-1800}"
bash scripts/build.sh fuzz >/dev/null
out=docs/results/fuzz_long.txt
{
  echo "# schema: prescient-fuzz-long/1"
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty')  host: $(nproc) cpus"
  echo "# command: bash fuzz/long_run.sh $seconds"
  for target in page_protocol_fuzz pool_protocol_fuzz; do
    echo "## $target, $seconds s"
    if bash fuzz/run_fuzz.sh "build-fuzz/fuzz/$target" "fuzz/corpus/$target" "$seconds"; then
      echo "result: no crash, leak, sanitizer report or time-out"
    else
      echo "result: FINDING (see build-fuzz/fuzz/$target-work/findings/)"
    fi
  done
} | tee "$out"
