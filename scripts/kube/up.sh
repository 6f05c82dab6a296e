#!/usr/bin/env bash
# Brings up a real single-node Kubernetes whose whole state lives under DIR, in a network
# namespace of its own (pdkube-<hash of DIR>), and writes DIR/env for the tests:
#   scripts/kube/up.sh DIR
# Components: Debian's etcd and containerd (+ runc, CNI bridge/host-local), and the upstream
# kube-apiserver, kube-controller-manager, kube-scheduler and kubelet that scripts/kube/build.sh
# caches. Nothing listens outside the namespace and nothing in it can reach the host: the
# namespace has its lo (node IP 10.77.0.1) and the pods' bridge (10.78.0.0/24), no route out.
# No kube-proxy, no CoreDNS, no storage provisioner, no NetworkPolicy enforcement: tests dial
# pod IPs from inside the namespace (scripts/kube/run.sh). Tear down with scripts/kube/down.sh
# DIR, also after a failed up (every PID, mount and name is recorded or derived from DIR).
# Facts behind each setting: /work/shared/reference/kubernetes-ci.md, docs/scale-out.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "kube: up.sh needs root (namespaces, cgroups, mounts)" >&2; exit 1; }
kube_names "$1"
timeout_s=${PADDOCK_KUBE_UP_TIMEOUT:-120}
SECONDS=0

log() { echo "kube: $*" >&2; }
die() { log "$*"; exit 1; }

preflight() {
	local b
	for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do
		[ -x "$kube_bin/$b" ] || die "$kube_bin/$b missing: run scripts/kube/build.sh"
	done
	for b in etcd containerd containerd-shim-runc-v2 ctr runc nsenter openssl jq ip busybox; do
		command -v "$b" >/dev/null || die "$b not in PATH: apt-get install etcd-server containerd runc containernetworking-plugins busybox-static openssl jq iproute2"
	done
	[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] || die "no CNI plugins in /usr/lib/cni: apt-get install containernetworking-plugins"
	[ ! -e "$netns_path" ] || die "network namespace $netns already exists: scripts/kube/down.sh $dir first"
	if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then die "$dir is not empty"; fi
	mkdir -p "$dir"/{pki,etcd,containerd,cni/net.d,cni/ipam,kubelet,pod-logs,logs,pids,rootfs}
	# down.sh removes DIR only when it finds this mark: it never deletes a directory up.sh did not make.
	echo "$netns" > "$dir/.pdkube"
}

# make_netns: the namespace, the node IP on its lo, and the bridge CNI attaches pods to, made
# beforehand with the gateway address so that the namespace itself reaches every pod.
make_netns() {
	ip netns add "$netns"
	in_netns ip link set lo up
	in_netns ip addr add "$node_ip/32" dev lo
	in_netns ip link add "$bridge" type bridge
	in_netns ip addr add "$pod_gateway/24" dev "$bridge"
	in_netns ip link set "$bridge" up
}

# cert NAME CN O EXT: a key and a certificate signed by the cluster's CA. EC keys: instant to make.
cert() {
	local name=$1 cn=$2 o=$3 ext=$4 subj="/CN=$2"
	[ -n "$o" ] && subj="/O=$o/CN=$cn"
	openssl ecparam -name prime256v1 -genkey -noout -out "$dir/pki/$name.key" 2>/dev/null
	openssl req -new -key "$dir/pki/$name.key" -subj "$subj" -out "$dir/pki/$name.csr"
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%s\n' "$ext" > "$dir/pki/$name.ext"
	openssl x509 -req -in "$dir/pki/$name.csr" -CA "$dir/pki/ca.crt" -CAkey "$dir/pki/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$dir/pki/$name.ext" -out "$dir/pki/$name.crt" 2>/dev/null
	rm -f "$dir/pki/$name.csr" "$dir/pki/$name.ext"
}

make_pki() {
	local p=$dir/pki client='extendedKeyUsage=clientAuth'
	openssl ecparam -name prime256v1 -genkey -noout -out "$p/ca.key" 2>/dev/null
	openssl req -x509 -new -key "$p/ca.key" -subj "/CN=paddock-test-kube-ca" -days 30 -out "$p/ca.crt" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
	cert apiserver kube-apiserver "" "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$node_ip,IP:$service_ip,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
	cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters "$client"
	cert admin paddock-test-admin system:masters "$client"
	cert controller-manager system:kube-controller-manager "" "$client"
	cert scheduler system:kube-scheduler "" "$client"
	# One certificate for the kubelet's client and its server (apiserver → kubelet for logs, exec).
	cert kubelet "system:node:$node" system:nodes "extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:$node_ip,DNS:$node"
	openssl ecparam -name prime256v1 -genkey -noout -out "$p/sa.key" 2>/dev/null
	openssl ec -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
	chmod 600 "$p"/*.key
}

# kubeconfig NAME: DIR/NAME.kubeconfig with the certificate pki/NAME.crt, everything embedded so
# that the file works wherever it is copied.
kubeconfig() {
	local name=$1
	cat > "$dir/$name.kubeconfig" <<-KC
	apiVersion: v1
	kind: Config
	clusters:
	- name: pdkube
	  cluster:
	    server: https://$node_ip:6443
	    certificate-authority-data: $(base64 -w0 "$dir/pki/ca.crt")
	users:
	- name: $name
	  user:
	    client-certificate-data: $(base64 -w0 "$dir/pki/$name.crt")
	    client-key-data: $(base64 -w0 "$dir/pki/$name.key")
	contexts:
	- name: pdkube
	  context: {cluster: pdkube, user: $name}
	current-context: pdkube
	KC
	chmod 600 "$dir/$name.kubeconfig"
}

write_configs() {
	local d=$dir
	cat > "$d/containerd/config.toml" <<-TOML
	version = 2
	root = "$d/containerd/root"
	state = "$d/containerd/state"
	disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
	[grpc]
	  address = "$sock"
	[plugins."io.containerd.internal.v1.opt"]
	  path = "$d/containerd/opt"
	[plugins."io.containerd.grpc.v1.cri"]
	  sandbox_image = "paddock.local/pause:test"
	  # root here lacks CAP_SYS_RESOURCE: runc cannot lower a pause container's oom_score_adj,
	  # and every pod fails ("can't get final child's PID from pipe") unless this is set.
	  restrict_oom_score_adj = true
	  # Pods' network namespaces under DIR, not in the host's /run/netns.
	  netns_mounts_under_state_dir = true
	  stream_server_address = "127.0.0.1"
	  [plugins."io.containerd.grpc.v1.cri".containerd]
	    snapshotter = "overlayfs"
	    default_runtime_name = "runc"
	    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
	      runtime_type = "io.containerd.runc.v2"
	      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
	        # runc's state under DIR, not in the host's /run/containerd/runc.
	        Root = "$d/containerd/runc"
	        SystemdCgroup = false
	  [plugins."io.containerd.grpc.v1.cri".cni]
	    bin_dir = "/usr/lib/cni"
	    conf_dir = "$d/cni/net.d"
	TOML
	# isGateway false: the bridge already has the gateway address; ipMasq false: nothing leaves.
	jq -n --arg name "$netns" --arg br "$bridge" --arg subnet "$pod_subnet" --arg gw "$pod_gateway" --arg ipam "$d/cni/ipam" '{
		cniVersion: "1.0.0", name: $name,
		plugins: [{type: "bridge", bridge: $br, isGateway: false, ipMasq: false, hairpinMode: false,
			ipam: {type: "host-local", dataDir: $ipam, ranges: [[{subnet: $subnet, gateway: $gw}]],
				routes: [{dst: "0.0.0.0/0"}]}}]
	}' > "$d/cni/net.d/10-pdkube.conflist"
	cat > "$d/kubelet/config.yaml" <<-YAML
	apiVersion: kubelet.config.k8s.io/v1beta1
	kind: KubeletConfiguration
	# cgroup v1 hybrid machines: cgroupfs, and v1 is still allowed.
	cgroupDriver: cgroupfs
	failCgroupV1: false
	# Pods' cgroups under a root of this cluster's own: a kubelet removes pod cgroups it does not
	# know under its root, so two clusters on one machine must not share one.
	cgroupRoot: $cgroup_root
	failSwapOn: false
	resolvConf: ""
	containerRuntimeEndpoint: unix://$sock
	address: $node_ip
	readOnlyPort: 0
	healthzBindAddress: 127.0.0.1
	tlsCertFile: $d/pki/kubelet.crt
	tlsPrivateKeyFile: $d/pki/kubelet.key
	authentication:
	  anonymous: {enabled: false}
	  webhook: {enabled: true}
	  x509: {clientCAFile: $d/pki/ca.crt}
	authorization: {mode: Webhook}
	podLogsDir: $d/pod-logs
	volumePluginDir: $d/kubelet/volume-plugins
	# The test images exist only in this containerd: never collect them, and a shared machine's
	# disk at 80% must not evict pods or taint the node.
	imageGCHighThresholdPercent: 100
	imageGCLowThresholdPercent: 99
	evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
	serializeImagePulls: false
	nodeStatusUpdateFrequency: 4s
	YAML
}

# cgroup_dirs: kubelet checks that its cgroupRoot exists in every v1 hierarchy; cpuset needs
# its cpus and mems copied from the parent before a process may join.
cgroup_dirs() {
	local h
	for h in /sys/fs/cgroup/*/; do
		h=${h%/}
		[ -e "$h/cgroup.procs" ] || continue
		mkdir -p "$h$cgroup_root"
		if [ -e "$h/cpuset.cpus" ]; then
			cat "$h/cpuset.cpus" > "$h$cgroup_root/cpuset.cpus"
			cat "$h/cpuset.mems" > "$h$cgroup_root/cpuset.mems"
		fi
	done
}

# start NAME CMD...: runs CMD in the namespace, detached, logging to DIR/logs/NAME.log, and
# records its PID in DIR/pids/NAME for down.sh (setsid and nsenter exec: $! is CMD's PID).
start() {
	local name=$1
	shift
	setsid nsenter --net="$netns_path" -- "$@" > "$dir/logs/$name.log" 2>&1 < /dev/null &
	echo $! > "$dir/pids/$name"
}

# check_alive: fails with a component's log when one has exited.
check_alive() {
	local f name
	for f in "$dir"/pids/*; do
		name=$(basename "$f")
		if ! kill -0 "$(cat "$f")" 2>/dev/null; then
			log "$name exited; the end of $dir/logs/$name.log:"
			tail -n 20 "$dir/logs/$name.log" >&2
			exit 1
		fi
	done
}

# wait_until DESC CMD...: polls CMD until it succeeds, failing past the bring-up bound.
wait_until() {
	local desc=$1
	shift
	until "$@" >/dev/null 2>&1; do
		check_alive
		[ "$SECONDS" -lt "$timeout_s" ] || die "no $desc after ${SECONDS}s (logs in $dir/logs)"
		sleep 0.2
	done
	log "$desc after ${SECONDS}s"
}

start_etcd() {
	start etcd etcd --name pdkube --data-dir "$dir/etcd" \
		--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster pdkube=http://127.0.0.1:2380
}

start_apiserver() {
	local p=$dir/pki
	start kube-apiserver "$kube_bin/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
		--advertise-address="$node_ip" --secure-port=6443 --service-cluster-ip-range="$service_range" \
		--client-ca-file="$p/ca.crt" --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
		--kubelet-client-certificate="$p/apiserver-kubelet-client.crt" --kubelet-client-key="$p/apiserver-kubelet-client.key" \
		--kubelet-preferred-address-types=InternalIP \
		--service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$p/sa.pub" \
		--service-account-signing-key-file="$p/sa.key" \
		--authorization-mode=Node,RBAC --allow-privileged=true --profiling=false
}

start_control_plane() {
	local p=$dir/pki
	# --use-service-account-credentials: each controller acts as its own service account (as
	# kubeadm sets); without it the node lifecycle controller never lifts the not-ready taint.
	start kube-controller-manager "$kube_bin/kube-controller-manager" --kubeconfig="$dir/controller-manager.kubeconfig" \
		--authentication-kubeconfig="$dir/controller-manager.kubeconfig" --authorization-kubeconfig="$dir/controller-manager.kubeconfig" \
		--use-service-account-credentials=true --service-account-private-key-file="$p/sa.key" --root-ca-file="$p/ca.crt" \
		--cluster-signing-cert-file="$p/ca.crt" --cluster-signing-key-file="$p/ca.key" \
		--leader-elect=false --bind-address=127.0.0.1 --profiling=false
	start kube-scheduler "$kube_bin/kube-scheduler" --kubeconfig="$dir/scheduler.kubeconfig" \
		--authentication-kubeconfig="$dir/scheduler.kubeconfig" --authorization-kubeconfig="$dir/scheduler.kubeconfig" \
		--leader-elect=false --bind-address=127.0.0.1 --profiling=false
	start kubelet "$kube_bin/kubelet" --config="$dir/kubelet/config.yaml" --kubeconfig="$dir/kubelet.kubeconfig" \
		--root-dir="$dir/kubelet" --cert-dir="$dir/kubelet/pki" --hostname-override="$node" --node-ip="$node_ip"
}

# rootfs_base ROOT: a busybox-static system: /bin/sh and every applet, /bin/bash running
# busybox sh, /tmp, root and user 1000.
rootfs_base() {
	local r=$1 a
	mkdir -p "$r"/{bin,etc,tmp,root,home/user,proc,sys,dev}
	cp /bin/busybox "$r/bin/busybox"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
	# E2B's SDKs run every command as `/bin/bash -l -c CMD`; busybox has no bash applet.
	printf '#!/bin/sh\nexec /bin/sh "$@"\n' > "$r/bin/bash"
	chmod 755 "$r/bin/bash"
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' > "$r/etc/passwd"
	printf 'root:x:0:\nuser:x:1000:\n' > "$r/etc/group"
	chmod 1777 "$r/tmp"
	chown 1000:1000 "$r/home/user"
}

# import_images: the pause image (busybox sleeping; containerd stops sandboxes with SIGKILL)
# and the base image now; the guest image once its build (started first) is done.
import_images() {
	local r=$dir/rootfs
	mkdir -p "$r/pause/bin"
	cp /bin/busybox "$r/pause/bin/busybox"
	ln -s busybox "$r/pause/bin/sleep"
	"$here/image.sh" "$dir" paddock.local/pause:test "$r/pause" /bin/sleep 2147483647
	rootfs_base "$r/base"
	"$here/image.sh" "$dir" paddock.local/base:test "$r/base" /bin/sh
}

# build_guest: the guest image holds only /paddock, built from this checkout so that the guest
# always matches the code under test.
build_guest() {
	mkdir -p "$dir/rootfs/guest"
	(cd "$repo" && CGO_ENABLED=0 go build -o "$dir/rootfs/guest/paddock" ./cmd/paddock)
}

node_ready() {
	local out
	out=$(kctl get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.spec.taints}')
	[ "$out" = "True " ]
}

kctl() { in_netns "$kube_bin/kubectl" --kubeconfig="$dir/admin.kubeconfig" "$@"; }

write_env() {
	cat > "$dir/env" <<-ENV
	export PADDOCK_TEST_KUBECONFIG=$dir/admin.kubeconfig
	export PADDOCK_TEST_KUBE_GUEST_IMAGE=paddock.local/guest:test
	export PADDOCK_TEST_KUBE_BASE_IMAGE=paddock.local/base:test
	export PADDOCK_KUBE_NETNS=$netns_path
	export PADDOCK_KUBE_DIR=$dir
	export KUBECONFIG=$dir/admin.kubeconfig
	export PATH=$kube_bin:\$PATH
	ENV
}

main() {
	preflight
	# The guest builds while the cluster comes up, in a process group of its own so that a
	# failed up stops the whole build (go and its compilers).
	repo=$repo dir=$dir setsid bash -c "$(declare -f build_guest); build_guest" > "$dir/logs/guest-build.log" 2>&1 < /dev/null &
	guest=$!
	trap 'kill -- -$guest 2>/dev/null || true' EXIT
	make_netns
	make_pki
	local k
	for k in admin controller-manager scheduler kubelet; do kubeconfig "$k"; done
	write_configs
	cgroup_dirs
	start_etcd
	start containerd containerd --config "$dir/containerd/config.toml"
	start_apiserver
	wait_until "containerd" ctr --address "$sock" version
	import_images
	wait_until "apiserver ready" kctl get --raw /readyz
	start_control_plane
	wait "$guest" || die "go build ./cmd/paddock failed: $(cat "$dir/logs/guest-build.log")"
	trap - EXIT
	"$here/image.sh" "$dir" paddock.local/guest:test "$dir/rootfs/guest" /paddock
	wait_until "Ready, untainted node $node" node_ready
	write_env
	log "cluster up in ${SECONDS}s: node $node, netns $netns, env in $dir/env"
}

main
