#!/usr/bin/env bash
# Runs a command inside the network namespace of the cluster in DIR, with DIR/env loaded
# (PADDOCK_TEST_KUBECONFIG and the images, KUBECONFIG, kubectl in PATH):
#   scripts/kube/run.sh DIR -- CMD...
# Pod IPs and the apiserver (10.77.0.1:6443) are reachable only there.
set -euo pipefail

[ $# -ge 3 ] && [ "$2" = -- ] || { echo "usage: $0 DIR -- CMD..." >&2; exit 2; }
dir=$(realpath "$1")
shift 2
[ -f "$dir/env" ] || { echo "kube: no $dir/env: is the cluster up (scripts/kube/up.sh $dir)?" >&2; exit 1; }
source "$dir/env"
exec nsenter --net="$PADDOCK_KUBE_NETNS" -- "$@"
