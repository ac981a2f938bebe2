#!/usr/bin/env bash
# What each fault path costs a whole program: every program runs natively,
# under `prescient run --fault-path thread` (a handler thread reads
# userfaultfd) and under `--fault-path signal` (the faulting thread serves
# its own fault from a SIGBUS handler), REPS times, the three in a shuffled
# order each repetition so that machine load hits them alike. Every run must
# print the native checksum. Prints the median wall seconds and the ratios
# (each configuration over native, and over the first) and writes
# results/fault_path_overhead.json; each run's output and report stay in
# results/fault_path_overhead/.
#
#   PROGRAMS="churn threads_update mcf xgboost pagerank sssp"   REPS=2
#   LOCAL=25%             local memory of churn and threads_update (build/bench/): far
#                         memory in use, so the runs measure faulting and evicting
#   WORKLOAD_LOCAL=100%   local memory of the workloads (build/workloads/W --small): all
#                         of it, so the runs measure the fixed costs (first touches, the
#                         system call wrappers), not eviction
#   PATHS="thread signal"  the configurations to run: a fault path, optionally with a
#                         dirty tracking after a "+" (signal+fault; default `run`'s, D109)
#   OLD=                  a `prescient` binary of an older build: adds the configuration
#                         "old", its default run, beside the new build's in the same run
#   CHURN_ARGS="--ops 8000"   THREADS_UPDATE_ARGS="--updates 500000"   WORKLOAD_ARGS="--small"
#                         the programs' own flags (default: theirs, and --small). At the
#                         defaults threads_update takes ~6.2 M demand faults a managed run,
#                         minutes each on a 2-core VM: most of the script's time.
#
# Needs bash, awk and the binaries: cmake --build build --target prescient churn
# threads_update mcf xgboost pagerank sssp
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
PROGRAMS="${PROGRAMS:-churn threads_update mcf xgboost pagerank sssp}" REPS="${REPS:-2}" LOCAL="${LOCAL:-25%}"
WORKLOAD_LOCAL="${WORKLOAD_LOCAL:-100%}" PATHS="${PATHS:-thread signal}" CHURN_ARGS="${CHURN_ARGS:-}" OLD="${OLD:-}"
THREADS_UPDATE_ARGS="${THREADS_UPDATE_ARGS:-}" WORKLOAD_ARGS="${WORKLOAD_ARGS:---small}"
command_line="$0${*:+ $*}"
bin=build/prescient
[ -x "$bin" ] || { echo "missing $bin: build first"; exit 2; }
if [ -n "$OLD" ]; then
  [ -x "$OLD" ] || { echo "OLD=$OLD is not an executable prescient"; exit 2; }
  PATHS="old $PATHS"
fi
# shellcheck source=bench/dlrm_common.sh
. bench/dlrm_common.sh
out=results/fault_path_overhead
mkdir -p "$out"
rows="$out/rows.txt"
: >"$rows"
say() { echo "[fault_path_overhead] $*" >&2; }
now() { date +%s.%N; }
field() { jget "$1" "$2" | tr -d ' \n'; }  # a report's field, without the spaces jget keeps
json_str() { if [ "$1" = - ]; then echo null; else echo "\"$1\""; fi; }  # "-" is what a run did not report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "null" && b > 0) printf "%.3f", a / b; else print "null" }'; }

# program_command NAME: sets $cmd (its command line) and $share (its local memory).
# shellcheck disable=SC2206  # the *_ARGS are lists
program_command() {
  case "$1" in
    churn) cmd=(build/bench/churn $CHURN_ARGS) share="$LOCAL" ;;
    threads_update) cmd=(build/bench/threads_update $THREADS_UPDATE_ARGS) share="$LOCAL" ;;
    *) cmd=("build/workloads/$1" $WORKLOAD_ARGS) share="$WORKLOAD_LOCAL" ;;
  esac
  [ -x "${cmd[0]}" ] || { echo "missing ${cmd[0]}: build it first (cmake --build build --target $1)"; exit 2; }
}

failures=0
for p in $PROGRAMS; do
  program_command "$p"
  say "$p: reference run (${cmd[*]})"
  native_sum=$("${cmd[@]}" 2>"$out/$p-reference.err" | tail -1)
  [[ "$native_sum" == checksum=* ]] || { echo "$p: the native run printed no checksum: see $out/$p-reference.err"; exit 1; }
  echo "$p ${native_sum#checksum=} $share ${cmd[*]}" >"$out/$p.program"
  for rep in $(seq "$REPS"); do
    # shellcheck disable=SC2086  # PATHS is a list
    mapfile -t order < <(printf '%s\n' native $PATHS | shuf --random-source=<(yes "$p$rep"))
    for cell in "${order[@]}"; do
      log="$out/$p-$cell-$rep"
      rm -f "$log.json"
      t0=$(now)
      if [ "$cell" = native ]; then
        "${cmd[@]}" >"$log.out" 2>"$log.err"
      elif [ "$cell" = old ]; then
        "$OLD" run --quiet --local "$share" --report "$log.json" -- "${cmd[@]}" >"$log.out" 2>"$log.err"
      else
        tracking=()
        [[ "$cell" == *+* ]] && tracking=(--dirty-tracking "${cell#*+}")
        "$bin" run --quiet --local "$share" --fault-path "${cell%%+*}" "${tracking[@]}" --report "$log.json" -- "${cmd[@]}" >"$log.out" 2>"$log.err"
      fi
      rc=$?
      t1=$(now)
      wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
      got=$(tail -1 "$log.out")
      ran=- faults=-
      if [ -s "$log.json" ]; then
        report=$(cat "$log.json")
        ran=$(field "$report" fault_path) faults=$(field "$report" demand_faults)
      fi
      ok=1
      if [ "$rc" -ne 0 ] || [ "$got" != "$native_sum" ]; then
        ok=0 failures=$((failures + 1))
        say "$p $cell rep $rep FAILED: exit $rc, last line '$got' (native $native_sum); see $log.err"
      fi
      echo "$p $cell $rep $wall $ok ${ran:--} ${faults:--}" >>"$rows"
      say "$p rep $rep/$REPS $cell: ${wall} s$([ "$cell" = native ] || echo ", ran ${ran:--}, ${faults:--} demand faults")"
    done
  done
done

# The median of the runs that printed the native checksum (null if none did).
med() {
  local walls
  walls=$(awk -v p="$1" -v c="$2" '$1 == p && $2 == c && $5 == 1 { print $4 }' "$rows")
  if [ -n "$walls" ]; then median <<<"$walls"; else echo null; fi
}
# What a configuration reported in its last run (the path that ran, faults).
last() { awk -v p="$1" -v c="$2" -v k="$3" '$1 == p && $2 == c { v = $k } END { print (v == "" ? "-" : v) }' "$rows"; }
# Every configuration is also compared with the first (the old build's, when OLD is set).
base="${PATHS%% *}"
printf '%-15s %6s %9s' program local native_s
for c in $PATHS; do
  printf ' %9s %8s' "${c}_s" "/native"
  [ "$c" = "$base" ] || printf ' %8s' "/$base"
done
printf '\n'
programs_json=""
for p in $PROGRAMS; do
  read -r _ sum share command <"$out/$p.program"
  native=$(med "$p" native)
  base_m=$(med "$p" "$base")
  printf "%-15s %6s %9s" "$p" "$share" "$native"
  medians="\"native\":$native" ratios="" ran_json="" runs_json=""
  for c in $PATHS; do
    m=$(med "$p" "$c")
    printf ' %9s %8s' "$m" "$(ratio "$m" "$native")"
    medians="$medians,\"$c\":$m"
    ratios="$ratios${ratios:+,}\"${c}_over_native\":$(ratio "$m" "$native")"
    if [ "$c" != "$base" ]; then
      printf ' %8s' "$(ratio "$m" "$base_m")"
      ratios="$ratios,\"${c}_over_${base}\":$(ratio "$m" "$base_m")"
    fi
    ran_json="$ran_json${ran_json:+,}\"$c\":$(json_str "$(last "$p" "$c" 6)")"
  done
  printf '\n'
  while read -r _ c rep wall ok ran faults; do
    [ "$faults" = - ] && faults=null
    runs_json="$runs_json${runs_json:+,}{\"config\":\"$c\",\"rep\":$rep,\"wall_s\":$wall,\"checksum_ok\":$([ "$ok" = 1 ] && echo true || echo false),\"fault_path\":$(json_str "$ran"),\"demand_faults\":$faults}"
  done < <(awk -v p="$p" '$1 == p' "$rows")
  programs_json="$programs_json${programs_json:+,}
  {\"program\":\"$p\",\"command\":\"$command\",\"local\":\"$share\",\"native_checksum\":\"$sum\",\"median_wall_s\":{$medians},\"ratios\":{$ratios},\"fault_path_ran\":{$ran_json},\"runs\":[$runs_json]}"
done

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=false
[ -n "$(git status --porcelain 2>/dev/null)" ] && dirty=true
cat >results/fault_path_overhead.json <<EOF
{"schema_version":1,
 "provenance":{"git_commit":"$commit","git_dirty":$dirty,"date":"$(date -u +%Y-%m-%dT%H:%M:%SZ)","host_nproc":$(nproc),"kernel_release":"$(uname -r)","command_line":"$command_line","reps":$REPS,"local":"$LOCAL","workload_local":"$WORKLOAD_LOCAL","paths":"$PATHS","old":"$OLD","churn_args":"$CHURN_ARGS","threads_update_args":"$THREADS_UPDATE_ARGS","workload_args":"$WORKLOAD_ARGS"},
 "programs":[$programs_json]}
EOF
echo "wrote results/fault_path_overhead.json"
[ "$failures" -eq 0 ] || { echo "$failures run(s) failed or printed another checksum than the native run"; exit 1; }
