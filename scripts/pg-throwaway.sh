# Sourced by scripts/test.sh: starts a throwaway PostgreSQL cluster on loopback, exports
# TOOLHUB_TEST_PG_URL, and stops and removes the cluster when the calling shell exits.

pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$pg_bin" ] && command -v pg_config >/dev/null; then pg_bin="$(pg_config --bindir)"; fi
if [ ! -x "$pg_bin/initdb" ]; then
  echo "PostgreSQL server binaries not found: install them (apt-get install postgresql)" >&2
  exit 1
fi

pg_dir="$(mktemp -d /tmp/toolhub-pg.XXXXXX)"
pg_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# initdb refuses to run as root; use the postgres account the package creates.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" = 0 ]; then chown postgres "$pg_dir"; fi

as_pg "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres >"$pg_dir/initdb.log" 2>&1 \
  || { cat "$pg_dir/initdb.log" >&2; exit 1; }
as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w start \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off" \
  >/dev/null || { cat "$pg_dir/server.log" >&2; exit 1; }

stop_throwaway_pg() {
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_throwaway_pg EXIT

export TOOLHUB_TEST_PG_URL="postgres://postgres@127.0.0.1:$pg_port"
echo "throwaway PostgreSQL on 127.0.0.1:$pg_port" >&2
