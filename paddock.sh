#!/usr/bin/env bash
# Quick start: installs what is missing, builds the static paddock binary into bin/, and runs
# it with your arguments, e.g. `./paddock.sh run -- echo hello`.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
CGO_ENABLED=0 go build -trimpath -ldflags "-X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" -o bin/paddock ./cmd/paddock
exec ./bin/paddock "$@"
