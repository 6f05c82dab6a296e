# Shared by scripts/kube/{up,down,run}.sh: the names a cluster directory implies. Sourced, not run.
# Everything a cluster owns is derived from its directory, so that down.sh can find it all again
# from the directory alone, and two clusters (two directories) never share a name.

# kube_names DIR: sets dir (absolute), id, netns, netns_path, cgroup_root, node, sock.
kube_names() {
	dir=$(realpath -m "$1")
	# A short hash of the path: netns names, cgroup and CNI network names stay short and unique.
	id=$(printf %s "$dir" | sha256sum | cut -c1-10)
	netns="pdkube-$id"
	netns_path="/run/netns/$netns"
	cgroup_root="/$netns"   # kubelet's cgroupRoot: the pods' cgroups, apart from any other kubelet's
	node="$netns"
	sock="$dir/containerd/containerd.sock"
}

# Fixed addresses: they exist only inside the cluster's own network namespace.
node_ip=10.77.0.1                  # on the namespace's lo (kubelet refuses a loopback node IP)
pod_subnet=10.78.0.0/24            # the pods' bridge
pod_gateway=10.78.0.1
service_range=10.96.0.0/24         # ClusterIPs are allocated but nothing routes them (no kube-proxy)
service_ip=10.96.0.1               # the "kubernetes" Service, in the apiserver's certificate
bridge=pdbr0

kube_version=${PADDOCK_KUBE_VERSION:-v1.37.2}
kube_bin=${PADDOCK_KUBE_CACHE:-/var/cache/paddock/kube}/$kube_version/bin

# in_netns CMD...: runs CMD in the cluster's network namespace only. Not `ip netns exec`, which
# also remounts /sys and so hides /sys/fs/cgroup from kubelet and runc.
in_netns() { nsenter --net="$netns_path" -- "$@"; }
