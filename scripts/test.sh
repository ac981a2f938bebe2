#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite: every test in
# release, every test again under ASan+UBSan, the runtime's concurrency
# tests under TSan, and the memory node's two fuzz targets for 60 s each
# (libFuzzer, fuzz/). Exits non-zero if any run fails.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh || exit 1

passed=0
failed=0
status=0
run_suite() {  # preset, [ctest args...]
  local preset="$1"; shift
  echo "=== building $preset"
  if ! bash scripts/build.sh "$preset"; then
    echo "=== build of $preset FAILED"; status=1; failed=$((failed + 1)); return
  fi
  echo "=== testing $preset"
  local log; log="$(mktemp)"
  ctest --preset "$preset" "$@" 2>&1 | tee "$log"
  local rc="${PIPESTATUS[0]}"
  # ctest's summary: "NN% tests passed, F tests failed out of T"
  local line; line="$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)"
  if [ -n "$line" ]; then
    local f t
    f="$(echo "$line" | sed -E 's/.*passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/')"
    t="$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')"
    passed=$((passed + t - f)); failed=$((failed + f))
  fi
  [ "$rc" -eq 0 ] || status=1
  rm -f "$log"
}

run_suite release
run_suite asan
run_suite tsan
run_suite fuzz

echo
echo "total: $passed passed, $failed failed"
exit "$status"
