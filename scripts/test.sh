#!/usr/bin/env bash
# Runs the whole test suite on SQLite and PostgreSQL, against real MCP servers. Installs the
# published servers the tests use (once, into target/test-deps) and starts a throwaway
# PostgreSQL on loopback unless TOOLHUB_TEST_PG_URL names a server already.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/test-deps.sh
source scripts/test-deps.sh

if [ -z "${TOOLHUB_TEST_PG_URL:-}" ]; then
  # shellcheck source=scripts/pg-throwaway.sh
  source scripts/pg-throwaway.sh
fi

# The fixture MCP server is a binary of a package without tests: build it so it is current.
cargo build -p toolhub-fixture-server

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
