#!/usr/bin/env bash
# Where a prefetched page should wait for its first touch (D67): mapped at
# once (the touch is free and invisible) or staged unmapped (the touch is a
# fault the policy sees). Runs each workload natively and under
# `prescient run` with each policy x install mode, interleaved in shuffled
# order per repetition, and prints median wall time, normalized performance
# (native / managed), demand faults and prefetch hits seen, checking every
# checksum. Writes results/prefetch_install/results.json.
#
#   WORKLOADS="mcf xgboost pagerank sssp"   LOCAL=50%   REPS=3
#   POLICIES="readahead leap farsight"      INSTALLS="map stage"
#   MEMNODE=1   far memory on a loopback memory node instead of the embedded store
#   farsight uses models/W.model on the held-out input (the third family).
set -uo pipefail
cd "$(dirname "$0")/.."
far=()
if [ -n "${MEMNODE:-}" ]; then
  portfile=$(mktemp)
  build/prescient memnode --listen 127.0.0.1:0 --port-file "$portfile" > /dev/null 2>&1 &
  node=$!
  trap 'kill $node 2>/dev/null' EXIT
  for _ in $(seq 50); do [ -s "$portfile" ] && break; sleep 0.1; done
  far=(--memnode "127.0.0.1:$(cat "$portfile")")
fi
WORKLOADS="${WORKLOADS:-mcf xgboost pagerank sssp}"
LOCAL="${LOCAL:-50%}"
REPS="${REPS:-3}"
POLICIES="${POLICIES:-readahead leap farsight}"
INSTALLS="${INSTALLS:-map stage}"
out=results/prefetch_install${MEMNODE:+-memnode}
mkdir -p "$out"
rows="$out/rows.txt"
: > "$rows"
now() { date +%s.%N; }
for w in $WORKLOADS; do
  bin="build/workloads/$w"
  [ -x "$bin" ] || { echo "missing $bin: build first (bash scripts/build.sh)"; exit 2; }
  mapfile -t families < <("$bin" --list-inputs)
  input="${families[2]}"
  # One thread, as in the evaluation (D64).
  args=(--small --input "$input" --threads 1)
  native_sum=$("$bin" "${args[@]}" | tail -1)
  cells=(native)
  for p in $POLICIES; do for i in $INSTALLS; do cells+=("$p:$i"); done; done
  for rep in $(seq 1 "$REPS"); do
    mapfile -t order < <(printf '%s\n' "${cells[@]}" | shuf --random-source=<(yes "$rep"))
    for cell in "${order[@]}"; do
      report="$out/$w-${cell/:/-}-$rep.json"
      t0=$(now)
      if [ "$cell" = native ]; then
        got=$("$bin" "${args[@]}" | tail -1)
      else
        p="${cell%%:*}"; i="${cell##*:}"
        model=(); [ "$p" = farsight ] && model=(--model "models/$w.model")
        got=$(build/prescient run --quiet --local "$LOCAL" "${far[@]}" --prefetch "$p" "${model[@]}" --prefetch-install "$i" --report "$report" -- "$bin" "${args[@]}" | tail -1)
      fi
      t1=$(now)
      [ "$got" = "$native_sum" ] || { echo "$w $cell: checksum $got, native $native_sum"; exit 1; }
      wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
      faults=0; used=0; issued=0
      if [ "$cell" != native ]; then
        faults=$(sed -n 's/.*"demand_faults": \([0-9]*\).*/\1/p' "$report" | head -1)
        used=$(sed -n 's/.*"prefetch_used": \([0-9]*\).*/\1/p' "$report" | head -1)
        issued=$(sed -n 's/.*"prefetch_issued": \([0-9]*\).*/\1/p' "$report" | head -1)
      fi
      echo "$w $cell $rep $wall $faults $used $issued" >> "$rows"
      echo "$w $cell rep $rep: ${wall}s faults $faults used $used of $issued"
    done
  done
done
python3 - "$rows" "$out/results.json" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
cells = {}
for w, cell, rep, wall, faults, used, issued in rows:
    cells.setdefault((w, cell), []).append((float(wall), int(faults), int(used), int(issued)))
out = []
print(f"{'workload':9} {'policy:install':20} {'wall_s':>8} {'norm':>6} {'faults':>8} {'seen_used':>9} {'issued':>8}")
for (w, cell), runs in sorted(cells.items()):
    if cell == 'native':
        continue
    native = statistics.median(r[0] for r in cells[(w, 'native')])
    wall = statistics.median(r[0] for r in runs)
    med = lambda i: int(statistics.median(r[i] for r in runs))
    out.append({'workload': w, 'policy': cell.split(':')[0], 'install': cell.split(':')[1], 'wall_s': wall,
                'native_s': native, 'normalized_perf': native / wall, 'demand_faults': med(1), 'prefetch_seen_used': med(2),
                'prefetch_issued': med(3), 'reps': len(runs)})
    print(f"{w:9} {cell:20} {wall:8.2f} {native / wall:6.3f} {med(1):8} {med(2):9} {med(3):8}")
json.dump(out, open(sys.argv[2], 'w'), indent=1)
PY
