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
# shellcheck source=bench/upstreams.sh
source bench/upstreams.sh

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

# One run through Toolhub's REST call endpoint: via URL TOOL_ID CONNECTIONS [RATE]
via() {
  with_cpu "$bin/toolhub-loadgen" toolhub "$base/api/v1/toolservers/tools/$2/call" "$user" '{"message":"hello"}' "$3" "$seconds" ${4:-}
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
