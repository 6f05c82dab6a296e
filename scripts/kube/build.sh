#!/usr/bin/env bash
# Builds the Kubernetes binaries that scripts/kube-e2e.sh runs (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kubectl) from the k8s.io/kubernetes module
# on the Go module proxy, once per version, into a machine-local cache:
#   ${PADDOCK_KUBE_CACHE:-/var/cache/paddock/kube}/<version>/bin
# A cold build costs ~35 CPU-minutes (~20 min on an idle 2-core machine); later runs find the
# cache and return at once. Nothing here goes into git.
set -euo pipefail

version=${PADDOCK_KUBE_VERSION:-v1.37.2}
cache=${PADDOCK_KUBE_CACHE:-/var/cache/paddock/kube}
out="$cache/$version/bin"
bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)

complete=1
for b in "${bins[@]}"; do [ -x "$out/$b" ] || complete=0; done
if [ "$complete" = 1 ]; then
	echo "kube: $version binaries cached in $out"
	exit 0
fi

mkdir -p "$cache"
# One build at a time per machine: a second caller waits for the first to finish.
exec 9>"$cache/.build.lock"
flock 9
complete=1
for b in "${bins[@]}"; do [ -x "$out/$b" ] || complete=0; done
[ "$complete" = 1 ] && { echo "kube: $version binaries cached in $out"; exit 0; }

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
staging=${version/#v1./v0.}
echo "kube: building $version (staging modules $staging) in $work; this takes ~20 minutes once"

cd "$work"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
export GOCACHE="$work/gocache"
go mod init paddock.local/kubebuild >/dev/null 2>&1
# k8s.io/kubernetes replaces its staging modules with paths inside its own tree; a module that
# requires it must point each of them at the published copy of the same release.
gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
mapfile -t mods < <(awk '/^replace \(/{r=1;next} r&&/^\)/{r=0} r&&/=> \.\/staging/{print $1}' "$gomod")
[ "${#mods[@]}" -gt 0 ] || { echo "kube: found no staging replacements in $gomod" >&2; exit 1; }
args=(-require="k8s.io/kubernetes@$version")
for m in "${mods[@]}"; do args+=(-replace="$m=$m@$staging"); done
go mod edit "${args[@]}"
printf 'package main\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n)\n\nfunc main() {}\n' > main.go
go mod tidy >/dev/null
mkdir -p "$out.tmp"
for b in "${bins[@]}"; do
	pkg="k8s.io/kubernetes/cmd/$b"
	echo "kube: go build $pkg"
	go build -trimpath -ldflags="-s -w" -o "$out.tmp/$b" "$pkg"
done
rm -rf "$out"
mv "$out.tmp" "$out"
echo "kube: $version binaries in $out ($(du -sh "$out" | cut -f1))"
