#!/usr/bin/env bash
# Fuzzes the running binary with schemathesis (PyPI), from its own OpenAPI document, as a
# tenant administrator and as a user, with all its checks: no 5xx, no response outside the
# documented schema, no valid request rejected, no invalid one accepted, no
# panic in the log. Bounded in time: FUZZ_SECONDS per key (default 45).
# Usage: scripts/fuzz.sh            (run by .ci/run after the test suite)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-45}"

venv="$(pwd)/target/fuzz/venv"
if [ ! -x "$venv/bin/st" ]; then
  echo "installing schemathesis into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis>=4,<5" >&2
fi
cargo build -q -p toolhub
bin="target/debug/toolhub"

dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" --data-dir "$dir/data" serve --bind "127.0.0.1:$port" --children-dir "$dir/children" \
  --rate-limit-per-minute 100000000 --rate-limit-per-hour 1000000000 >"$dir/out" 2>"$dir/log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q "listening" "$dir/out" 2>/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"

# A tenant of its own: its administrator cannot run commands or reach the host's networks, so
# whatever the fuzzer registers stays harmless.
admin="$("$bin" --data-dir "$dir/data" keys create --subject fuzz-admin --role admin --tenant fuzz 2>/dev/null)"
user="$("$bin" --data-dir "$dir/data" keys create --subject fuzz-user --role user --tenant fuzz 2>/dev/null)"

status=0
for who in admin user; do
  key="$admin"; [ "$who" = user ] && key="$user"
  echo "== schemathesis as the tenant's $who, ${seconds}s" >&2
  timeout --signal=INT "$((seconds + 15))" "$venv/bin/st" --config-file scripts/schemathesis.toml run "$base/openapi.json" \
    --header "Authorization: Bearer $key" \
    --checks "${FUZZ_CHECKS:-all}" \
    --max-time "$seconds" --request-timeout 10 --generation-database none \
    --phases examples,coverage,fuzzing,stateful --no-color >"$dir/st-$who.txt" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then cat "$dir/st-$who.txt" >&2; else tail -n 25 "$dir/st-$who.txt" >&2; fi
  [ "$status" -eq 0 ] || break
done

if grep -q "panicked" "$dir/log"; then
  echo "Toolhub panicked while fuzzed:" >&2
  grep -B2 -A10 "panicked" "$dir/log" >&2
  status=1
fi
exit "$status"
