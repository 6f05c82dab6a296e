#!/usr/bin/env bash
# Makes a one-layer OCI image from a directory and imports it into the containerd of the
# cluster that scripts/kube/up.sh brought up in DIR (namespace k8s.io, where kubelet looks):
#   scripts/kube/image.sh DIR NAME:TAG ROOTFS_DIR [ENTRYPOINT...]
# There is no registry here, so images reach the node as OCI image-layout tarballs (blobs,
# index.json whose io.containerd.image.name annotation gives the name); pods use
# imagePullPolicy Never or IfNotPresent. The same directory gives the same digests.
set -euo pipefail

usage() { echo "usage: $0 DIR NAME:TAG ROOTFS_DIR [ENTRYPOINT...]" >&2; exit 2; }
[ $# -ge 3 ] || usage
dir=$(realpath "$1") name=$2 rootfs=$3
shift 3
[ -d "$rootfs" ] || { echo "image: $rootfs is not a directory" >&2; exit 1; }
sock="$dir/containerd/containerd.sock"
[ -S "$sock" ] || { echo "image: no containerd socket at $sock (run scripts/kube/up.sh $dir)" >&2; exit 1; }

work=$(mktemp -d "$dir/image.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/blobs/sha256"

# put FILE: stores FILE as a blob and prints "DIGEST SIZE".
put() {
	local sum size
	sum=$(sha256sum "$1" | cut -d' ' -f1)
	size=$(stat -c %s "$1")
	mv "$1" "$work/blobs/sha256/$sum"
	echo "sha256:$sum $size"
}

# The layer: numeric owners (the image's users are its own, not this host's names), sorted
# and with fixed times so that one directory always makes one digest.
tar --create --file "$work/layer.tar" --directory "$rootfs" --numeric-owner --sort=name \
	--mtime=@0 --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime .
read -r layer layer_size < <(put "$work/layer.tar")

entrypoint=$(jq -cn '$ARGS.positional' --args -- "$@")
jq -cn --arg diff "$layer" --argjson ep "$entrypoint" '{
	architecture: "amd64", os: "linux",
	config: ({Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], WorkingDir: "/"}
		+ (if ($ep | length) > 0 then {Entrypoint: $ep} else {} end)),
	rootfs: {type: "layers", diff_ids: [$diff]}
}' > "$work/config.json"
read -r config config_size < <(put "$work/config.json")

jq -cn --arg c "$config" --argjson cs "$config_size" --arg l "$layer" --argjson ls "$layer_size" '{
	schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
	config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
	layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]
}' > "$work/manifest.json"
read -r manifest manifest_size < <(put "$work/manifest.json")

jq -cn --arg m "$manifest" --argjson ms "$manifest_size" --arg name "$name" '{
	schemaVersion: 2,
	manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
		platform: {architecture: "amd64", os: "linux"},
		annotations: {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": ($name | sub(".*:"; ""))}}]
}' > "$work/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$work/oci-layout"

tar --create --file "$work/image.tar" --directory "$work" oci-layout index.json blobs
# ctr unpacks into the default (overlayfs) snapshotter, so the first pod starts without a pull.
ctr --address "$sock" --namespace k8s.io images import "$work/image.tar" >/dev/null
echo "image: $name ($manifest, $((layer_size / 1024)) KiB)"
