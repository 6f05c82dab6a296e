#!/usr/bin/env bash
# E2B JS SDK benchmark: starts a server on loopback, then runs sdktest/bench.js
# (create → commands.run('echo hi') → kill; N sequential, C concurrent). Run as root.
# Usage: bench/e2b-sdk.sh [N=100] [C=20] [POOL=8]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}; c=${2:-20}; pool=${3:-8}
source scripts/deps.sh
[ -d sdktest/node_modules/e2b ] || npm ci --prefix sdktest --no-audit --no-fund >/dev/null
CGO_ENABLED=0 go build -o bin/paddock ./cmd/paddock
data=$(mktemp -d /tmp/pde2b.XXXX)
addr=127.0.0.1:18978
./bin/paddock serve --data-dir "$data" --listen "$addr" --pool-size "$pool" --log-level warn --stop-sandboxes-on-exit &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "http://$addr/health" >/dev/null && break; sleep 0.1; done
sleep 3 # let the pool fill
E2B_API_URL="http://$addr/e2b/v1" E2B_SANDBOX_URL="http://$addr" E2B_API_KEY="$(cat "$data/api-key")" \
  node sdktest/bench.js "$n" "$c"
