#!/usr/bin/env bash
# For each workload: captures an access trace, replays it in the simulator
# under every policy at 30/50/80/90 % local memory, then runs the workload
# under the real runtime with `none` at each size and compares the demand
# fault counts (simulated / measured). Prints the sim tables and a fidelity
# table; writes results/workload_sim/{W.trace,W-sim.json,W-run-PCT.json,fidelity.json}.
#
#   WORKLOADS="xgboost mcf sssp pagerank"   SIZE=--small (default) or SIZE=""
#   CAPTURE=5%     the capture cache (D103: at most a sixth of the smallest size)
#   LOCALS=30,50,80,90   POLICIES=none,readahead,vma-readahead,leap,stride,oracle
#   INPUT=FAMILY   an input family (default: each workload's default)
#   THREADS=N      --threads for the graph workloads, OMP_NUM_THREADS for the others
set -uo pipefail
cd "$(dirname "$0")/.."
WORKLOADS="${WORKLOADS:-xgboost mcf sssp pagerank}"
SIZE="${SIZE---small}"
CAPTURE="${CAPTURE:-5%}"
LOCALS="${LOCALS:-30,50,80,90}"
POLICIES="${POLICIES:-none,readahead,vma-readahead,leap,stride,oracle}"
out=results/workload_sim
mkdir -p "$out"
fidelity="$out/fidelity.json"
echo "[" > "$fidelity"
first=1
for w in $WORKLOADS; do
  bin="build/workloads/$w"
  [ -x "$bin" ] || { echo "missing $bin: build first (bash scripts/build.sh)"; exit 2; }
  args=($SIZE)
  [ -n "${INPUT:-}" ] && args+=(--input "$INPUT")
  if [ -n "${THREADS:-}" ]; then
    case "$w" in pagerank|sssp) args+=(--threads "$THREADS") ;; *) export OMP_NUM_THREADS="$THREADS" ;; esac
  fi
  echo "=== $w ${args[*]}: capturing an access trace with a $CAPTURE cache"
  t0=$(date +%s)
  build/prescient trace --quiet --local "$CAPTURE" --out "$out/$w.trace" -- "$bin" "${args[@]}" > /dev/null || { echo "trace of $w failed"; exit 1; }
  echo "    captured in $(( $(date +%s) - t0 )) s"
  build/prescient sim --trace "$out/$w.trace" --local "$LOCALS" --prefetch "$POLICIES" --json "$out/$w-sim.json" || exit 1
  for pct in ${LOCALS//,/ }; do
    build/prescient run --quiet --local "$pct%" --report "$out/$w-run-$pct.json" -- "$bin" "${args[@]}" > /dev/null || { echo "run of $w at $pct% failed"; exit 1; }
    [ $first -eq 1 ] || echo "," >> "$fidelity"; first=0
    python3 - "$out/$w-sim.json" "$out/$w-run-$pct.json" "$w" "$pct" >> "$fidelity" <<'EOF'
import json, sys
sim = [r for r in json.load(open(sys.argv[1])) if r["policy"] == "none" and r["local_pct"] == float(sys.argv[4])][0]
run = json.load(open(sys.argv[2]))
print(json.dumps({"workload": sys.argv[3], "local_pct": int(sys.argv[4]), "sim_faults": sim["demand_faults"],
                  "runtime_faults": run["demand_faults"], "ratio": sim["demand_faults"] / max(1, run["demand_faults"])}), end="")
EOF
  done
done
echo "]" >> "$fidelity"
echo
echo "=== simulated vs measured demand faults under none"
python3 - "$fidelity" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
print("| workload | local % | simulated | runtime | sim / runtime |")
print("|---|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['workload']} | {r['local_pct']} | {r['sim_faults']} | {r['runtime_faults']} | {r['ratio']:.3f} |")
worst = max(abs(r["ratio"] - 1) for r in rows)
print(f"worst deviation {worst * 100:.1f} %")
EOF
