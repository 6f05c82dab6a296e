#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, vets, and runs every Go test with the
# race detector. Sandbox tests need root and runc; set PADDOCK_TEST_REQUIRE=runc to make them
# fail instead of skip when either is missing (CI does). Heavy tests (benchmark-grade or slow,
# marked with testenv.Heavy) skip unless PADDOCK_TEST_HEAVY=1, which runs them with the rest;
# PADDOCK_TEST_HEAVY=only runs just them (CI's second step). As root, the Kubernetes tests
# (TestKube…) then run against a real cluster brought up for them (scripts/kube-e2e.sh; the
# first run on a machine builds Kubernetes, ~20 min); PADDOCK_TEST_KUBE=0 skips them.
set -euo pipefail
cd "$(dirname "$0")"
PADDOCK_WITH_TEST_DEPS=1 source scripts/deps.sh
if [ "${PADDOCK_TEST_HEAVY:-}" = only ]; then
  status=0
  for dir in $(grep -rlE --include='*_test.go' 'testenv\.Heavy(On)?\(' . | xargs -n1 dirname | sort -u); do
    # The Test functions of the package that call testenv.Heavy or testenv.HeavyOn.
    names=$(awk '/^func /{fn=""} /^func Test[A-Za-z0-9_]*\(/{split($2, a, "("); fn=a[1]}
                 /testenv\.Heavy(On)?\(/ && fn != "" {print fn}' "$dir"/*_test.go | sort -u | paste -sd'|' -)
    echo "heavy tests in $dir: $names"
    PADDOCK_TEST_HEAVY=1 go test -race -count=1 -timeout 60m -run "^($names)\$" "$@" "$dir" || status=1
  done
  exit "$status"
fi
gofmt_out=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$gofmt_out" ]; then echo "gofmt needed:"; echo "$gofmt_out"; exit 1; fi
if [ ! -d sdktest/node_modules/e2b ]; then   # the official E2B SDKs, pinned in sdktest/package-lock.json
  npm ci --prefix sdktest --no-audit --no-fund >/dev/null
fi
if [ ! -d internal/api/mcp/testdata/tsclient/node_modules/@modelcontextprotocol/sdk ]; then   # the official MCP TypeScript SDK, pinned in its package-lock.json
  npm ci --prefix internal/api/mcp/testdata/tsclient --no-audit --no-fund >/dev/null
fi
if [ ! -d ui/node_modules/playwright-core ] || [ ! -d ui/node_modules/puppeteer-core ]; then   # the web UI's toolchain (Vite, Vitest), Playwright and puppeteer-core, pinned in ui/package-lock.json
  npm ci --prefix ui --no-audit --no-fund >/dev/null
fi
npm test --prefix ui --silent   # the UI's unit tests (Vitest)
go vet ./...
# TestKube… tests run only inside the cluster's network namespace, below.
status=0
go test -race -count=1 -timeout 25m -skip '^TestKube' "$@" ./... || status=$?
if [ "${PADDOCK_TEST_KUBE:-1}" = 0 ]; then
  echo "Kubernetes tests skipped (PADDOCK_TEST_KUBE=0)"
elif [ "$(id -u)" != 0 ]; then
  echo "Kubernetes tests skipped: scripts/kube-e2e.sh needs root"
else
  scripts/kube-e2e.sh || status=$?
fi
exit "$status"
