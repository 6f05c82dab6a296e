#!/usr/bin/env bash
# The Kubernetes end-to-end tests, in one command (root): builds or reuses the Kubernetes
# binaries (scripts/kube/build.sh: ~20 min once per machine, then cached), installs what is
# missing, brings a real single-node cluster up in a private network namespace
# (scripts/kube/up.sh), checks deploy/kubernetes/ against it (server-side dry run), runs every
# TestKube… test of the packages that call kubetest.Require inside that namespace, and tears
# the cluster down (scripts/kube/down.sh) whatever happens. Exit status: the tests'.
#   scripts/kube-e2e.sh [go test flags...]     e.g. -v, -run '^TestKubeCluster$'
# PADDOCK_KUBE_KEEP=1 leaves the cluster up and prints how to use and remove it.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

log() { echo "kube-e2e: $*" >&2; }
[ "$(id -u)" = 0 ] || { log "needs root (network namespace, cgroups, mounts)"; exit 1; }

PADDOCK_WITH_KUBE_DEPS=1 source scripts/deps.sh
scripts/kube/build.sh

# The packages with TestKube tests, and their test binaries built now: inside the namespace
# there is no network, so nothing may need the module proxy there.
mapfile -t pkgs < <(grep -rl --include='*_test.go' 'kubetest\.Require' . | xargs -n1 dirname | sort -u)
[ ${#pkgs[@]} -gt 0 ] || { log "no package calls kubetest.Require"; exit 1; }
go test -race -count=1 -exec /bin/true "${pkgs[@]}" >/dev/null

dir=$(mktemp -d /tmp/pdkube.XXXXXX)
# finish: the teardown, whatever happened, then the times.
finish() {
	if [ "${PADDOCK_KUBE_KEEP:-0}" = 1 ]; then
		log "cluster kept: scripts/kube/run.sh $dir -- kubectl get pods -A; then scripts/kube/down.sh $dir"
	else
		scripts/kube/down.sh "$dir"
	fi
	log "total $(($(date +%s) - started))s"
}
trap finish EXIT
SECONDS=0
scripts/kube/up.sh "$dir"
log "cluster up in ${SECONDS}s"

# The namespaces for real (a dry run of a namespace does not let the objects in it be checked),
# then everything as the apiserver would take it: schemas, RBAC rules, defaults.
scripts/kube/run.sh "$dir" -- kubectl apply -f deploy/kubernetes/00-namespaces.yaml >/dev/null
scripts/kube/run.sh "$dir" -- kubectl apply --dry-run=server -f deploy/kubernetes/ >/dev/null
log "deploy/kubernetes/ passes a server-side dry run"

SECONDS=0
status=0
PADDOCK_TEST_REQUIRE=${PADDOCK_TEST_REQUIRE:+$PADDOCK_TEST_REQUIRE,}postgres,kube scripts/kube/run.sh "$dir" -- \
	go test -race -count=1 -timeout 20m -run '^TestKube' "$@" "${pkgs[@]}" || status=$?
log "tests: exit $status after ${SECONDS}s"
exit "$status"
