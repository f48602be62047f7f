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
# shellcheck source=bench/upstreams.sh
source bench/upstreams.sh

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

# One run through the gateway: via TOOL CONNECTIONS [RATE]
via() {
  with_cpu env LOADGEN_TOKEN="$user" "$bin/toolhub-loadgen" direct "$base/mcp" "$1" '{"message":"hello"}' "$2" "$seconds" ${3:-}
}

echo "MCP tools/call, ${seconds}s per run, release builds, loopback, Toolhub on SQLite"
# LIST_ONLY=1 measures tools/list alone.
for target in $([ -n "${LIST_ONLY:-}" ] || echo fixture everything); do
  if [ "$target" = fixture ]; then url="$fixture_url"; else url="$everything_url"; fi
  for connections in 16 64; do
    for pace in "" "$rate"; do
      "$bin/toolhub-loadgen" direct "$url" echo '{"message":"hello"}' "$connections" "$seconds" $pace | sed "s/^/$target /"
      via "${target}__echo" "$connections" $pace | sed "s/^/$target via \/mcp /"
    done
  done
done
"$bin/toolhub-loadgen" list "$base/mcp" "$lister" 200
