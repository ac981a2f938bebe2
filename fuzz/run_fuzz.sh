#!/usr/bin/env bash
# run_fuzz.sh TARGET CORPUS SECONDS: runs a libFuzzer target for SECONDS from
# the checked-in CORPUS, which it only reads: new inputs go to a scratch
# directory beside the binary, and a crash, leak or time-out is saved there
# (its path printed) and fails the run.
set -uo pipefail
target="$1" corpus="$2" seconds="$3"
work="$(dirname "$target")/$(basename "$target")-work"
mkdir -p "$work/new" "$work/findings"
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$work/findings/" "$work/new" "$corpus" 2>"$work/log"
rc=$?
grep -E "^(stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb)|INFO: (Loaded|seed corpus)" "$work/log"
if [ "$rc" -ne 0 ]; then
  tail -60 "$work/log"
  echo "run_fuzz: $(basename "$target") failed (exit $rc); the input is in $work/findings/"
fi
exit "$rc"
