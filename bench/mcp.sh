#!/usr/bin/env bash
# Bounded benchmark of the MCP gateway on loopback: `tools/call` through Toolhub's `/mcp` (one
# MCP session per load connection) against the same upstream called directly, for our fixture's
# `echo` and server-everything's `echo` over Streamable HTTP, at 16 and 64 connections, flat out
# and at a fixed RATE; Toolhub's CPU time per call. Then `tools/list` latency for a principal
# who may call 1,000 of 10,000 tools.
# Usage: bench/mcp.sh [SECONDS] [RATE]      (defaults 10 s per run, 1000 calls/s; release builds)
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
"$bin/toolhub" --data-dir "$dir/data" serve --bind "127.0.0.1:$toolhub_port" --children-dir "$dir/children" \
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
lister="$("$bin/toolhub" --data-dir "$dir/data" keys create --subject lister --role user 2>/dev/null)"

# The two upstreams over HTTP, with execute for the bench user; ten stdio fixtures of 1,000
# tools each, one of them granted to the lister.
python3 - "$base" "$admin" "$fixture_url" "$everything_url" "$(pwd)/$bin/toolhub-fixture-mcp" <<'PY'
import json, sys, time, urllib.request
base, key, fixture_url, everything_url, fixture_bin = sys.argv[1:]
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
for name, url in [("fixture", fixture_url), ("everything", everything_url)]:
    server = call("POST", "/api/v1/toolservers/servers", {"name": name, "display_name": name, "base_url": url, "timeout": 60})
    assert server["status"] == "enabled", server
    call("POST", "/api/v1/grants", {"subject": "user:bench", "server_id": server["id"], "access_level": "execute"})
for n in range(10):
    server = call("POST", "/api/v1/toolservers/servers", {"name": f"many{n}", "display_name": f"many{n}",
        "transport_type": "stdio", "command": fixture_bin, "timeout": 60})
    set_tools = next(t["id"] for t in server["tools"] if t["name"] == "set_tools")
    call("POST", f"/api/v1/toolservers/tools/{set_tools}/call", {"arguments": {"names": [f"tool{n}_{i}" for i in range(990)]}})
    if n == 0:
        call("POST", "/api/v1/grants", {"subject": "user:lister", "server_id": server["id"], "access_level": "execute"})
for _ in range(600):
    if len(call("GET", "/api/v1/toolservers/tools/all")) >= 10_000:
        break
    time.sleep(0.1)
PY

cpu_ticks() { awk '{print $14 + $15}' "/proc/$toolhub_pid/stat"; }
ticks_per_second="$(getconf CLK_TCK)"

# One run through the gateway, with Toolhub's CPU time per call: via TOOL CONNECTIONS [RATE]
via() {
  local before after out calls
  before="$(cpu_ticks)"
  out="$(LOADGEN_TOKEN="$user" "$bin/toolhub-loadgen" direct "$base/mcp" "$1" '{"message":"hello"}' "$2" "$seconds" ${3:-})"
  after="$(cpu_ticks)"
  calls="$(echo "$out" | sed -n 's/.*: \([0-9]*\) calls.*/\1/p')"
  echo "$out, Toolhub CPU $(python3 -c "
cpu = ($after - $before) / $ticks_per_second
print(f'{cpu * 1000 / max($calls, 1):.3f} ms/call, {cpu / $seconds:.2f} of $(nproc) cores')")"
}

echo "MCP tools/call, ${seconds}s per run, release builds, loopback, Toolhub on SQLite"
for target in fixture everything; do
  if [ "$target" = fixture ]; then url="$fixture_url"; else url="$everything_url"; fi
  for connections in 16 64; do
    for pace in "" "$rate"; do
      "$bin/toolhub-loadgen" direct "$url" echo '{"message":"hello"}' "$connections" "$seconds" $pace | sed "s/^/$target /"
      via "${target}__echo" "$connections" $pace | sed "s/^/$target via \/mcp /"
    done
  done
done
"$bin/toolhub-loadgen" list "$base/mcp" "$lister" 200
