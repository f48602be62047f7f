#!/usr/bin/env bash
# Bounded HTTP load against POST /api/v1/toolservers/access-check on loopback: a release build
# of Toolhub on SQLite, GRANTS grants in the index, wrk at 16 and 64 connections for DURATION.
# Usage: bench/access-check.sh [GRANTS] [DURATION]      (defaults: 1000, 10s)
set -euo pipefail
cd "$(dirname "$0")/.."
grants="${1:-1000}"
duration="${2:-10s}"

bin="${TOOLHUB_BIN:-target/release/toolhub}"
[ -x "$bin" ] || cargo build --release -p toolhub
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" --data-dir "$dir" serve --bind "127.0.0.1:$port" \
  --rate-limit-per-minute 1000000000 --rate-limit-per-hour 1000000000 >"$dir/out" 2>"$dir/err" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q "listening" "$dir/out" 2>/dev/null && break; sleep 0.1; done
key="$(sed -n 's/^admin API key: //p' "$dir/out")"
base="http://127.0.0.1:$port"

# The built-in calculator is the tool checked; grants spread over many users, one for the checker.
tool=""
for _ in $(seq 100); do
  tool="$(curl -s "$base/api/v1/toolservers/tools/all" -H "Authorization: Bearer $key" \
    | python3 -c 'import json,sys; print(next((t["id"] for t in json.load(sys.stdin) if t["name"]=="calculator"), ""))')"
  [ -n "$tool" ] && break; sleep 0.1
done
python3 - "$base" "$key" "$tool" "$grants" <<'PY'
import json, sys, urllib.request
base, key, tool, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def post(body):
    req = urllib.request.Request(base + "/api/v1/grants", data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req).read()
for i in range(count):
    post({"subject": f"user:bench-{i}", "tool_id": tool, "access_level": "execute"})
PY
user_key="$("$bin" --data-dir "$dir" keys create --subject bench-7 --role user 2>/dev/null)"

echo "access-check, $grants grants, $duration per run, release build, SQLite"
for connections in 16 64; do
  echo "== $connections connections"
  TOOLHUB_KEY="$user_key" CHECK_USER=bench-7 wrk -t2 -c"$connections" -d"$duration" --latency \
    -s bench/access-check.lua "$base/api/v1/toolservers/access-check" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors"
done
