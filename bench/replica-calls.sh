#!/usr/bin/env bash
# Bounded benchmark of tool calls through one and through two Toolhub replicas sharing one
# throwaway PostgreSQL on this machine: calls per second, p50/p99 latency and the replicas' CPU
# time per call. The upstream is our fixture over Streamable HTTP (every replica connects to
# it); the caller's grant is unlimited, then limited (10^9 an hour: each call is counted in
# PostgreSQL's quota ledger). Two replicas get half the connections each, at the same time.
# Usage: bench/replica-calls.sh [SECONDS] [CONNECTIONS]   (defaults 10 s per run, 32; release builds)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
connections="${2:-32}"
cargo build --release -q -p toolhub -p toolhub-fixture-server -p toolhub-loadgen
bin=target/release
# shellcheck source=scripts/pg-throwaway.sh
source scripts/pg-throwaway.sh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
dir="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
  stop_throwaway_pg
}
trap cleanup EXIT

export DATABASE_URL="$TOOLHUB_TEST_PG_URL/postgres"
export TOOLHUB_SECRET_KEY="$(python3 -c 'import os,base64; print(base64.b64encode(os.urandom(32)).decode())')"
"$bin/toolhub-fixture-mcp" --http 127.0.0.1:0 >"$dir/fixture.out" &
pids+=($!)

start_replica() { # name -> sets <name>_pid and <name>_base
  local port
  port="$(free_port)"
  "$bin/toolhub" --data-dir "$dir/$1" serve --bind "127.0.0.1:$port" --children-dir "$dir/$1-children" \
    --rate-limit-per-minute 1000000000 --rate-limit-per-hour 1000000000 >"$dir/$1.out" 2>"$dir/$1.err" &
  pids+=($!)
  eval "$1_pid=$!; $1_base=http://127.0.0.1:$port"
  for _ in $(seq 300); do grep -q listening "$dir/$1.out" 2>/dev/null && return; sleep 0.1; done
  echo "replica $1 did not start" >&2; cat "$dir/$1.err" >&2; exit 1
}
start_replica a
for _ in $(seq 100); do grep -q listening "$dir/fixture.out" 2>/dev/null && break; sleep 0.1; done
fixture_url="$(sed -n 's/^listening on //p' "$dir/fixture.out")"
admin="$(sed -n 's/^admin API key: //p' "$dir/a.out")"

api() { # method path [json] -> answer
  python3 - "$a_base" "$admin" "$@" <<'PY'
import json, sys, urllib.request
base, key, method, path = sys.argv[1:5]
body = sys.argv[5].encode() if len(sys.argv) > 5 else None
req = urllib.request.Request(base + path, method=method, data=body,
    headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
print(json.dumps(json.load(urllib.request.urlopen(req))))
PY
}
server="$(api POST /api/v1/toolservers/servers "{\"name\":\"fixture\",\"display_name\":\"Fixture\",\"base_url\":\"$fixture_url\",\"timeout\":60}")"
server_id="$(echo "$server" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
tool="$(echo "$server" | python3 -c 'import json,sys; print(next(t["id"] for t in json.load(sys.stdin)["tools"] if t["name"] == "echo"))')"
user="$(api POST /api/v1/keys '{"principal_id":"bench","role":"user","name":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
grant_id="$(api POST /api/v1/grants "{\"subject\":\"user:bench\",\"server_id\":\"$server_id\",\"access_level\":\"execute\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"

ticks() { local total=0 p; for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$total"; }
hz="$(getconf CLK_TCK)"

# run LABEL "PID..." BASE... : loadgen against each base (connections split), summed
run() {
  local label="$1" replica_pids="$2"; shift 2
  local per=$((connections / $#)) before after i=0 loads=()
  before="$(ticks $replica_pids)"
  for base in "$@"; do
    "$bin/toolhub-loadgen" toolhub "$base/api/v1/toolservers/tools/$tool/call" "$user" '{"message":"hello"}' \
      "$per" "$seconds" >"$dir/load.$i" &
    loads+=($!)
    i=$((i + 1))
  done
  for load in "${loads[@]}"; do wait "$load"; done
  after="$(ticks $replica_pids)"
  python3 - "$label" "$seconds" "$hz" "$before" "$after" "$(nproc)" "$dir"/load.* <<'PY'
import re, sys
label, seconds, hz, before, after, cores = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
calls, p50s, p99s, errors = 0, [], [], 0
for path in sys.argv[7:]:
    text = open(path).read()
    calls += int(re.search(r"(\d+) calls", text).group(1))
    p50s.append(float(re.search(r"p50 ([\d.]+) ms", text).group(1)))
    p99s.append(float(re.search(r"p99 ([\d.]+) ms", text).group(1)))
    m = re.search(r"(\d+) errors", text)
    errors += int(m.group(1)) if m else 0
cpu = (after - before) / hz
print(f"{label}: {calls / seconds:.0f} calls/s, p50 {max(p50s):.2f} ms, p99 {max(p99s):.2f} ms, {errors} errors, "
      f"Toolhub CPU {cpu * 1000 / max(calls, 1):.3f} ms/call ({cpu / seconds:.2f} of {cores} cores)")
PY
  rm -f "$dir"/load.*
}

echo "tool calls through replicas on one PostgreSQL, ${seconds}s per run, $connections connections, release builds, loopback"
run "1 replica, unlimited grant" "$a_pid" "$a_base"
start_replica b
for _ in $(seq 100); do
  code="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $user" -H 'Content-Type: application/json' \
    -d '{"message":"x"}' "$b_base/api/v1/toolservers/tools/$tool/call")"
  [ "$code" = 200 ] && break; sleep 0.1
done
run "2 replicas, unlimited grant" "$a_pid $b_pid" "$a_base" "$b_base"
api DELETE "/api/v1/grants/$grant_id" >/dev/null 2>&1 || true
api POST /api/v1/grants "{\"subject\":\"user:bench\",\"server_id\":\"$server_id\",\"access_level\":\"execute\",\"rate_limit_per_hour\":1000000000}" >/dev/null
sleep 1
run "2 replicas, limited grant (shared ledger)" "$a_pid $b_pid" "$a_base" "$b_base"
kill "$b_pid"; wait "$b_pid" 2>/dev/null || true
run "1 replica, limited grant (shared ledger)" "$a_pid" "$a_base"
