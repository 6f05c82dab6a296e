#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, vets, and runs every Go test with the
# race detector. Sandbox tests need root and runc; set PADDOCK_TEST_REQUIRE=runc to make them
# fail instead of skip when either is missing (CI does).
set -euo pipefail
cd "$(dirname "$0")"
PADDOCK_WITH_TEST_DEPS=1 source scripts/deps.sh
gofmt_out=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$gofmt_out" ]; then echo "gofmt needed:"; echo "$gofmt_out"; exit 1; fi
if [ ! -d sdktest/node_modules/e2b ]; then   # the official E2B SDKs, pinned in sdktest/package-lock.json
  npm ci --prefix sdktest --no-audit --no-fund >/dev/null
fi
go vet ./...
go test -race -count=1 -timeout 25m "$@" ./...
