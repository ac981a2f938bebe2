# Helpers of the DLRM benchmark drivers (dlrm_bench.sh, dlrm_paged.sh,
# dlrm_crash.sh), sourced by them: JSON fields without jq, medians, a scratch
# directory, and a memory node on a free loopback port.

# A JSON value from a report: a number, null, "string" or [array] (brackets
# and quotes dropped). Spaces after the colon are kept, which arithmetic ignores.
jget() { grep -o "\"$2\":\(\[[^]]*\]\|\"[^\"]*\"\|[^,}]*\)" <<<"$1" | head -1 | sed "s/^\"$2\"://; s/\"//g; s/^\[//; s/\]$//"; }

# The median of the numbers on stdin, one per line (0 for none).
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# scratch_dir DIR NAME: sets $work to a new directory in DIR, removed at exit
# together with any memory node still running.
scratch_dir() {
  work=$(mktemp -d "$1/$2.XXXXXX")
  memnode_pid=""
  trap 'stop_node; rm -rf "$work"' EXIT
}

# start_node BIN LOG FLAGS...: `BIN memnode` on a free loopback port, its
# output appended to LOG; sets $memnode_pid and $addr (HOST:PORT). Fails if
# the node wrote no port within 10 s.
start_node() {
  local bin=$1 log=$2
  shift 2
  rm -f "$work/port"
  "$bin" memnode --listen 127.0.0.1:0 --port-file "$work/port" "$@" >>"$log" 2>&1 &
  memnode_pid=$!
  for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
  addr="127.0.0.1:$(tr -d '\n' <"$work/port" 2>/dev/null)"
  [ "$addr" != "127.0.0.1:" ]
}

# stop_node [SIGNAL]: stops the node start_node started (TERM by default;
# the fault-injection driver kills it with KILL) and reaps it.
# shellcheck disable=SC2120  # the signal is optional
stop_node() {
  if [ -n "${memnode_pid:-}" ]; then
    kill -s "${1:-TERM}" "$memnode_pid" 2>/dev/null
    wait "$memnode_pid" 2>/dev/null
  fi
  memnode_pid=""
}
