#!/usr/bin/env bash
# Bounded benchmark of HTTP tools on loopback: a REST endpoint (the fixture's `--rest` echo)
# called straight, as an OpenAPI tool server's operation through Toolhub, and as a toolkit's
# custom api-request tool through Toolhub; calls per second, p50/p99 and Toolhub's CPU time per
# call, at 16 and 64 connections, flat out and at a fixed RATE.
# Usage: bench/http-tools.sh [SECONDS] [RATE]      (defaults 10 s per run, 1000 calls/s; release builds)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
rate="${2:-1000}"
# shellcheck source=bench/upstreams.sh
source bench/upstreams.sh

"$bin/toolhub-fixture-mcp" --rest 127.0.0.1:0 >"$dir/rest.out" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$dir/rest.out" 2>/dev/null && break; sleep 0.1; done
rest_url="$(sed -n 's/^listening on //p' "$dir/rest.out")"

# Registers the echo as an OpenAPI server and as a custom tool; prints the OpenAPI tool's id.
openapi_echo="$(python3 - "$base" "$admin" "$rest_url" <<'PY'
import json, sys, urllib.request
base, key, rest = sys.argv[1:]
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
message = {"type": "object", "properties": {"message": {"type": "string"}}}
spec = {"openapi": "3.1.0", "info": {"title": "echo", "version": "1"}, "paths": {"/echo": {"post": {
    "operationId": "echo", "requestBody": {"content": {"application/json": {"schema": message}}},
    "responses": {"200": {"description": "the body", "content": {"application/json": {"schema": message}}}}}}}}
server = call("POST", "/api/v1/toolservers/servers", {"name": "rest", "display_name": "REST echo",
    "transport_type": "openapi", "base_url": rest, "openapi_spec": json.dumps(spec), "timeout": 60})
assert server["status"] == "enabled", server
call("POST", "/api/v1/grants", {"subject": "user:bench", "server_id": server["id"], "access_level": "execute"})
kit = call("POST", "/api/v1/toolkits", {"name": "bench"})
call("POST", "/api/toolkits/bench/tools", {"name": "echo", "parameters": message,
    "config": {"method": "POST", "url": rest + "/echo", "arguments_as_body": True}})
call("POST", "/api/v1/grants", {"subject": "user:bench", "toolkit_id": kit["id"], "access_level": "execute"})
print(server["tools"][0]["id"])
PY
)"

args='{"message":"hello"}'
echo "HTTP tools, ${seconds}s per run, release builds, loopback, Toolhub on SQLite"
for connections in 16 64; do
  for pace in "" "$rate"; do
    # Straight: the same POST a tool makes (the echo answers with the body it gets).
    "$bin/toolhub-loadgen" toolhub "$rest_url/echo" none "$args" "$connections" "$seconds" $pace | sed "s/^toolhub/direct/"
    with_cpu "$bin/toolhub-loadgen" toolhub "$base/api/v1/toolservers/tools/$openapi_echo/call" "$user" "$args" \
      "$connections" "$seconds" $pace | sed "s/^toolhub/openapi via toolhub/"
    with_cpu "$bin/toolhub-loadgen" toolhub "$base/api/v1/toolkits/bench/tools/echo/call" "$user" "$args" \
      "$connections" "$seconds" $pace | sed "s/^toolhub/custom via toolhub/"
  done
done
