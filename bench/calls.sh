#!/usr/bin/env bash
# Bounded benchmark of proxied tool calls on loopback: calls per second, p50/p99 latency and
# Toolhub's CPU time per call, for our fixture's `echo` and server-everything's `echo` over
# Streamable HTTP, each through Toolhub and straight to the upstream, at 16 and 64 connections;
# first as fast as answers come (capacity), then at a fixed RATE of calls per second (latency
# added by Toolhub when the cores are not saturated).
# Usage: bench/calls.sh [SECONDS] [RATE]      (defaults 10 s per run, 1000 calls/s; release builds)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
rate="${2:-1000}"
cargo build --release -q -p toolhub -p toolhub-fixture-server -p toolhub-loadgen
# shellcheck source=scripts/test-deps.sh
source scripts/test-deps.sh
bin=target/release
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
dir="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

"$bin/toolhub-fixture-mcp" --http 127.0.0.1:0 >"$dir/fixture.out" &
pids+=($!)
everything_port="$(free_port)"
PORT="$everything_port" "$TOOLHUB_TEST_DEPS/node_modules/.bin/mcp-server-everything" streamableHttp >/dev/null 2>&1 &
pids+=($!)
toolhub_port="$(free_port)"
"$bin/toolhub" --data-dir "$dir/data" serve --bind "127.0.0.1:$toolhub_port" \
  --rate-limit-per-minute 1000000000 --rate-limit-per-hour 1000000000 >"$dir/toolhub.out" 2>"$dir/toolhub.err" &
toolhub_pid=$!
pids+=($toolhub_pid)
for _ in $(seq 200); do
  grep -q listening "$dir/fixture.out" 2>/dev/null && grep -q listening "$dir/toolhub.out" 2>/dev/null \
    && (exec 3<>"/dev/tcp/127.0.0.1/$everything_port") 2>/dev/null && break
  sleep 0.1
done
fixture_url="$(sed -n 's/^listening on //p' "$dir/fixture.out")"
everything_url="http://127.0.0.1:$everything_port/mcp"
base="http://127.0.0.1:$toolhub_port"
admin="$(sed -n 's/^admin API key: //p' "$dir/toolhub.out")"
user="$("$bin/toolhub" --data-dir "$dir/data" keys create --subject bench --role user 2>/dev/null)"

register() { # name url -> id of its echo tool, with an execute grant for the bench user
  python3 - "$base" "$admin" "$1" "$2" <<'PY'
import json, sys, urllib.request
base, key, name, url = sys.argv[1:]
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
server = call("POST", "/api/v1/toolservers/servers", {"name": name, "display_name": name, "base_url": url, "timeout": 60})
assert server["status"] == "enabled", server
call("POST", "/api/v1/grants", {"subject": "user:bench", "server_id": server["id"], "access_level": "execute"})
print(next(t["id"] for t in server["tools"] if t["name"] == "echo"))
PY
}
fixture_echo="$(register fixture "$fixture_url")"
everything_echo="$(register everything "$everything_url")"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$toolhub_pid/stat"; }
ticks_per_second="$(getconf CLK_TCK)"

# One run through Toolhub, with Toolhub's CPU time per call: via URL TOOL_ID CONNECTIONS [RATE]
via() {
  local before after out calls
  before="$(cpu_ticks)"
  out="$("$bin/toolhub-loadgen" toolhub "$base/api/v1/toolservers/tools/$2/call" "$user" '{"message":"hello"}' "$3" "$seconds" ${4:-})"
  after="$(cpu_ticks)"
  calls="$(echo "$out" | sed -n 's/.*: \([0-9]*\) calls.*/\1/p')"
  echo "$out, Toolhub CPU $(python3 -c "
cpu = ($after - $before) / $ticks_per_second
print(f'{cpu * 1000 / max($calls, 1):.3f} ms/call, {cpu / $seconds:.2f} of $(nproc) cores')")"
}

echo "tool calls, ${seconds}s per run, release builds, loopback, Toolhub on SQLite"
for target in fixture everything; do
  if [ "$target" = fixture ]; then url="$fixture_url"; tool="$fixture_echo"; else url="$everything_url"; tool="$everything_echo"; fi
  for connections in 16 64; do
    for pace in "" "$rate"; do
      "$bin/toolhub-loadgen" direct "$url" echo '{"message":"hello"}' "$connections" "$seconds" $pace | sed "s/^/$target /"
      via "$url" "$tool" "$connections" $pace | sed "s/^/$target via /"
    done
  done
done
