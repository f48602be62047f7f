# Sourced by bench/calls.sh and bench/mcp.sh: builds the release binaries, starts our fixture
# and npm server-everything over Streamable HTTP and a Toolhub on a fresh SQLite file, all on
# loopback, and defines `with_cpu` (a run, with Toolhub's CPU time per call). Sets bin, dir,
# base, admin, user, fixture_url, everything_url; everything started ends with the script.
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

cpu_ticks() { awk '{print $14 + $15}' "/proc/$toolhub_pid/stat"; }
ticks_per_second="$(getconf CLK_TCK)"

# Runs a toolhub-loadgen command (its arguments) and appends Toolhub's CPU time per call.
with_cpu() {
  local before after out calls
  before="$(cpu_ticks)"
  out="$("$@")"
  after="$(cpu_ticks)"
  calls="$(echo "$out" | sed -n 's/.*: \([0-9]*\) calls.*/\1/p')"
  echo "$out, Toolhub CPU $(python3 -c "
cpu = ($after - $before) / $ticks_per_second
print(f'{cpu * 1000 / max($calls, 1):.3f} ms/call, {cpu / $seconds:.2f} of $(nproc) cores')")"
}
