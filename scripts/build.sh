#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release). Used by the
# top-level scripts; safe to rerun (incremental).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
jobs="$(nproc)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
