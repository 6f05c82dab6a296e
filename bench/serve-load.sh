#!/usr/bin/env bash
# Load test of POST /run (echo hi through the warm pool): starts a server on loopback, drives
# it with bench/load for DURATION with CONCURRENCY clients, and checks that goroutines, open
# files and mounts return to their baseline afterwards. Side by side with `docker run --rm`
# when a Docker engine answers. Run as root.
# Usage: bench/serve-load.sh [DURATION=60s] [CONCURRENCY=4] [POOL=8]
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-60s}; conc=${2:-4}; pool=${3:-8}
source scripts/deps.sh
CGO_ENABLED=0 go build -o bin/paddock ./cmd/paddock
go build -o bin/load ./bench/load
data=$(mktemp -d /tmp/pdload.XXXX)
addr=127.0.0.1:18977
./bin/paddock serve --data-dir "$data" --listen "$addr" --pool-size "$pool" --log-level warn --stop-sandboxes-on-exit &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "http://$addr/health" >/dev/null && break; sleep 0.1; done
key=$(cat "$data/api-key")
metric() { curl -sf -H "X-API-Key: $key" "http://$addr/metrics" | awk -v m="$1" '$1==m {print $2}'; }
mounts() { grep -c "$data" /proc/self/mountinfo || true; }
sleep 3   # let the pool fill
g0=$(metric go_goroutines); f0=$(metric process_open_fds); m0=$(mounts)
echo "baseline: goroutines $g0, open fds $f0, mounts $m0"
./bin/load -url "http://$addr" -key "$key" -c "$conc" -d "$dur"
sleep 5   # pool refills, idle connections close
g1=$(metric go_goroutines); f1=$(metric process_open_fds); m1=$(mounts)
echo "after:    goroutines $g1, open fds $f1, mounts $m1"
# A leak is what does not come back: mounts exactly, goroutines and fds within what idle
# keep-alive connections and background fillers account for.
leak=0
[ "$m1" -le "$m0" ] || { echo "LEAK: mounts $m0 -> $m1"; leak=1; }
[ "${g1%.*}" -le $(( ${g0%.*} + 20 )) ] || { echo "LEAK: goroutines $g0 -> $g1"; leak=1; }
[ "${f1%.*}" -le $(( ${f0%.*} + 10 )) ] || { echo "LEAK: open fds $f0 -> $f1"; leak=1; }
[ "$leak" = 0 ] && echo "no leak: goroutines, open fds and mounts back to baseline"
if docker info >/dev/null 2>&1; then
  echo "docker run --rm, same command:"
  ./bin/load -docker -c "$conc" -d "$dur"
else
  echo "docker run --rm: skipped (no Docker engine answers)"
fi
exit "$leak"
