#!/usr/bin/env bash
# Bounded benchmark of two replicas on one throwaway PostgreSQL: how long a grant and its
# revocation made through one replica take to apply on the other (p50, p99, max of 50 each,
# from the write's request to the first call through the other replica that shows it, polled
# every 2 ms). Debug builds, as the test suite's.
# Usage: bench/replicas.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test.sh -E 'test(/replica_propagation_figures/)' --run-ignored ignored-only --no-capture 2>&1 |
  grep '^replicas:'
