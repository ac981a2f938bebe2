#!/usr/bin/env bash
# Fault injection with the real pool (issue 6, "What it must show"):
#
#   bench/dlrm_crash.sh [--runs N] [--batches B] [--seed S] [--max-gap G] [--modes "relaxed strict ..."] [--relaxed-auc-tolerance T]
#                       [--prescient PATH] [--work DIR] [--json FILE] [--trainer-flags "FLAGS"]
#
# One uninterrupted reference run in DRAM (one torch thread, so it is a
# deterministic replay) logs the digest of every embedding row + Adagrad
# accumulator and of the dense state (whole and per relaxed-checkpoint slice)
# at every batch boundary. Then each of N runs trains on a fresh pool, either
# local (--pool) or served by a memory node (--memnode), SIGKILLs the trainer
# or the memory node at a random moment, restarts the memory node on the same
# pool file if it was the one killed, resumes the trainer (--resume) to the
# end, and checks:
#   (a) the embedding digest at the recovered batch equals the reference's;
#   (b) each dense slice equals the reference's dense slice at the batch the
#       recovery says that slice is from (the gap it restored);
#   (c) the final AUC is within 0.001 of the reference's.
# Prints a summary and writes it as JSON. Needs only bash and the binary.
set -u
runs=10 batches=120 seed=7 max_gap=8 modes="relaxed strict stop-the-world differential" relaxed_tol=0.001
prescient="${PRESCIENT:-$(dirname "$0")/../build/prescient}" work="" json="" trainer_flags=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --max-gap) max_gap=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --relaxed-auc-tolerance) relaxed_tol=$2; shift 2 ;;
    --prescient) prescient=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    --trainer-flags) trainer_flags=$2; shift 2 ;;  # e.g. --no-catch-up, for every trainer run
    *) echo "dlrm_crash.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$prescient" ] || { echo "dlrm_crash.sh: no prescient binary at $prescient" >&2; exit 2; }
[ -n "$work" ] || work=$(mktemp -d /tmp/dlrm_crash.XXXXXX)
mkdir -p "$work"
[ -n "$json" ] || json="$work/summary.json"
read -r -a mode_list <<<"$modes"
read -r -a extra <<<"$trainer_flags"
base=(dlrm train --small --seed "$seed" --threads 1 --quiet --checkpoint-every 10 --full-every 3 --max-gap "$max_gap" --report-digests "${extra[@]}")
common=("${base[@]}" --batches "$batches")

# shellcheck source=bench/dlrm_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/dlrm_common.sh"
last_line() { tail -n 1 "$1"; }
now_ms() { date +%s%3N; }

# The reference.
t0=$(now_ms)
"$prescient" "${common[@]}" --checkpoint relaxed --checkpoint-dir "$work/ref.ckpt" --digest-log "$work/ref.digests" \
  >"$work/ref.out" 2>"$work/ref.err" || { echo "reference run failed:"; tail -5 "$work/ref.err"; exit 1; }
ref_ms=$(( $(now_ms) - t0 ))
ref=$(last_line "$work/ref.out")
ref_auc=$(jget "$ref" auc)
echo "reference: $batches batches in ${ref_ms} ms, AUC $ref_auc"
ref_field() { awk -v b="$1" -v f="$2" '$1 == b { print $f; exit }' "$work/ref.digests"; }

memnode_pid="" addr=""
start_memnode() { start_node "$prescient" "$2" --pool "$1"; }  # $1 pool file, $2 log
trap 'stop_node KILL' EXIT

failures=0 kills_trainer=0 kills_memnode=0 finished_early=0 fresh_restarts=0 max_diff=0 gap_max=0 gaps=""
for ((i = 0; i < runs; i++)); do
  mode=${mode_list[$((i % ${#mode_list[@]}))]}
  case $((RANDOM % 3)) in 0) kind=trainer-local ;; 1) kind=trainer-memnode ;; *) kind=memnode ;; esac
  dir="$work/run$i"; rm -rf "$dir"; mkdir -p "$dir"
  pool="$dir/pool" log="$dir/log"
  # Create the pool with the trainer's own tables (0 batches), so a memory node can serve it.
  "$prescient" "${base[@]}" --batches 0 --pool "$pool" --checkpoint none >/dev/null 2>>"$log"
  args=("${common[@]}" --checkpoint "$mode" --checkpoint-dir "$dir/ckpt")
  if [ "$kind" = trainer-local ]; then args+=(--pool "$pool"); else start_memnode "$pool" "$log" || { echo "run $i: memnode did not start"; failures=$((failures + 1)); continue; }; fi
  [ "$kind" = trainer-local ] || args+=(--memnode "$addr")
  "$prescient" "${args[@]}" >"$dir/first.out" 2>>"$log" &
  trainer=$!
  # A random moment between 0.3 s and 1.5x the DRAM reference run time (pool runs are slower).
  delay=$(( 300 + (RANDOM * 32768 + RANDOM) % (ref_ms * 3 / 2 > 400 ? ref_ms * 3 / 2 - 300 : 100) ))
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  if [ "$kind" = memnode ]; then
    stop_node KILL; kills_memnode=$((kills_memnode + 1))
    wait "$trainer" 2>/dev/null; rc=$?
    start_memnode "$pool" "$log" || { echo "run $i: memnode did not restart"; failures=$((failures + 1)); continue; }
    args=("${common[@]}" --checkpoint "$mode" --checkpoint-dir "$dir/ckpt" --memnode "$addr")
  else
    kill -9 "$trainer" 2>/dev/null; wait "$trainer" 2>/dev/null; rc=$?
    kills_trainer=$((kills_trainer + 1))
  fi
  [ "$rc" = 0 ] && finished_early=$((finished_early + 1))
  "$prescient" "${args[@]}" --resume >"$dir/resume.out" 2>>"$log"; rrc=$?
  stop_node KILL
  out=$(last_line "$dir/resume.out")
  problem=""
  if [ "$rrc" != 0 ] || [ -z "$out" ]; then
    problem="resume failed (exit $rrc): $(tail -1 "$log")"
  else
    rb=$(jget "$out" recovered_from_batch); [ "$rb" = null ] && { rb=0; fresh_restarts=$((fresh_restarts + 1)); }
    gap=$(jget "$out" recovered_gap); auc=$(jget "$out" auc)
    [ "$(jget "$out" batches_done)" = "$batches" ] || problem="finished at batch $(jget "$out" batches_done)"
    [ "$(jget "$out" start_emb_digest)" = "$(ref_field "$rb" 2)" ] || problem="$problem embeddings at batch $rb differ from the reference"
    if [ "$mode" = relaxed ] && [ "$(jget "$out" recovered_from_batch)" != null ]; then
      IFS=, read -r -a sb <<<"$(jget "$out" recovered_slice_batches)"
      IFS=, read -r -a sd <<<"$(jget "$out" start_slice_digests)"
      for ((s = 0; s < ${#sb[@]}; s++)); do
        IFS=, read -r -a want <<<"$(ref_field "${sb[$s]}" 4)"
        [ "${sd[$s]}" = "${want[$s]:-}" ] || problem="$problem dense slice $s (from batch ${sb[$s]}) differs from the reference"
      done
    else
      [ "$(jget "$out" start_dense_digest)" = "$(ref_field "$rb" 3)" ] || problem="$problem dense state at batch $rb differs from the reference"
    fi
    diff=$(awk -v a="$auc" -v b="$ref_auc" 'BEGIN { d = a - b; if (d < 0) d = -d; printf "%.6f", d }')
    # The exact modes must end at the reference's AUC within 0.001 (they end
    # equal); a relaxed resume trains on from an older dense state, so its
    # bound is a setting (the issue's goal is 0.001, the default).
    tol=0.001; [ "$mode" = relaxed ] && tol=$relaxed_tol
    awk -v d="$diff" -v t="$tol" 'BEGIN { exit !(d > t) }' && problem="$problem AUC $auc vs $ref_auc"
    max_diff=$(awk -v d="$diff" -v m="$max_diff" 'BEGIN { print (d > m ? d : m) }')
    [ "$gap" -gt "$gap_max" ] && gap_max=$gap
    gaps="$gaps${gaps:+,}$gap"
  fi
  if [ -n "$problem" ]; then failures=$((failures + 1)); echo "run $i ($kind, $mode, kill at ${delay} ms): FAIL:$problem (see $dir)";
  else echo "run $i ($kind, $mode, kill at ${delay} ms): recovered at batch $rb, dense gap $gap, AUC $auc"; fi
done

summary=$(printf '{"runs":%d,"batches":%d,"seed":%d,"kills_trainer":%d,"kills_memnode":%d,"finished_before_kill":%d,"fresh_restarts":%d,"failures":%d,"reference_auc":%s,"max_auc_diff":%s,"max_gap_restored":%d,"gaps_restored":[%s],"reference_ms":%d}' \
  "$runs" "$batches" "$seed" "$kills_trainer" "$kills_memnode" "$finished_early" "$fresh_restarts" "$failures" "$ref_auc" "$max_diff" "$gap_max" "$gaps" "$ref_ms")
echo "$summary" >"$json"
echo "summary: $runs runs ($kills_trainer trainer kills, $kills_memnode memnode kills, $finished_early finished before the kill), $failures failures, max AUC diff $max_diff, max dense gap restored $gap_max"
echo "$summary"
[ "$failures" = 0 ]
