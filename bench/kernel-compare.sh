#!/usr/bin/env bash
# Code sessions side by side in one run: Paddock's HTTP API (warm session execute, and a new
# session's first result from a warm pool with a prewarmed interpreter) against a Jupyter
# kernel driven directly with jupyter_client. Run as root.
# Usage: bench/kernel-compare.sh [N=200]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
source scripts/deps.sh
if ! /usr/bin/python3 -c 'import jupyter_client, ipykernel' 2>/dev/null; then
  apt-get install -y -qq python3-ipykernel python3-jupyter-client >/dev/null
fi
go test -run '^$' -bench 'SessionExecute|NewSessionFirstResult' -benchtime "${n}x" ./internal/server | grep Benchmark
/usr/bin/python3 -Xfrozen_modules=off bench/jupyter_loop.py "$n" 2>/dev/null
