# Toolhub tasks. `just --list` shows them.

# Run Toolhub on SQLite in ./data.
run *ARGS:
    cargo run -p toolhub -- {{ARGS}}

# The whole test suite, on SQLite and a throwaway PostgreSQL.
test *ARGS:
    scripts/test.sh {{ARGS}}

# Formatting and lints, as CI checks them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Regenerate docs/openapi.json and the error table of docs/api-guide.md from the code.
openapi:
    UPDATE_OPENAPI=1 cargo test -p toolhub-http --test http openapi::

# Benchmarks: access decisions per second, the bounded HTTP access-check load, proxied tool calls.
bench:
    cargo bench -p toolhub-domain --bench decisions
    bench/access-check.sh 10000 10s
    bench/calls.sh 10 1000
