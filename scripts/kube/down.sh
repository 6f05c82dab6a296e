#!/usr/bin/env bash
# Tears down the cluster scripts/kube/up.sh brought up in DIR, by PID and by path only:
#   scripts/kube/down.sh DIR
# Stops the components whose PIDs up.sh recorded (SIGTERM, then SIGKILL after a bound), kills
# the pods' processes (members of the cluster's own cgroup root) and containerd's shims (their
# command lines name DIR's socket), unmounts everything under DIR, removes the cgroups, the
# network namespace (its bridge and the pods' veth ends go with it) and DIR. Idempotent, and
# safe after a half-failed up: each step does what is left to do.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "kube: down.sh needs root" >&2; exit 1; }
kube_names "$1"
netns_ino=$(stat -L -c %i "$netns_path" 2>/dev/null || true)
SECONDS=0
grace=${PADDOCK_KUBE_DOWN_GRACE:-10}   # seconds a component gets between SIGTERM and SIGKILL

log() { echo "kube: $*" >&2; }
# step NAME CMD...: runs CMD and says how long it took when PADDOCK_KUBE_DEBUG=1.
step() {
	local t=$(date +%s%N) name=$1
	shift
	"$@"
	[ "${PADDOCK_KUBE_DEBUG:-0}" != 1 ] || log "$name: $(( ($(date +%s%N) - t) / 1000000 )) ms"
}

# ours PID: whether PID is still a process of this cluster: in its network namespace with a
# command line naming DIR (every component and shim), or in its cgroups (the pods' processes).
# Guards against a recorded PID since reused by something else, and spares this script.
ours() {
	local pid=$1 cmd
	[ "$pid" != $$ ] && [ "$pid" != "$BASHPID" ] || return 1
	grep -q ":$cgroup_root/" "/proc/$pid/cgroup" 2>/dev/null && return 0
	cmd=$( { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null) || return 1
	[[ "$cmd" == *"$dir/"* ]] || return 1
	[ -z "$netns_ino" ] || [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" = "net:[$netns_ino]" ]
}

# stop PID...: SIGTERM, wait up to $grace s, then SIGKILL what is left; waits until gone.
stop() {
	local pids=() p deadline
	for p in "$@"; do ours "$p" && pids+=("$p"); done
	[ ${#pids[@]} -gt 0 ] || return 0
	kill -TERM "${pids[@]}" 2>/dev/null || true
	deadline=$((SECONDS + grace))
	while [ "$SECONDS" -lt "$deadline" ]; do
		alive "${pids[@]}" || return 0
		sleep 0.1
	done
	log "still running ${grace}s after SIGTERM, killing: $(for p in "${pids[@]}"; do tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | cut -c1-60; echo; done)"
	kill -KILL "${pids[@]}" 2>/dev/null || true
	deadline=$((SECONDS + 5))
	while alive "${pids[@]}" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
}

alive() {
	local p
	for p in "$@"; do [ -d "/proc/$p" ] && [ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" != Z ] && return 0; done
	return 1
}

recorded() { [ -f "$dir/pids/$1" ] && cat "$dir/pids/$1" || true; }

# cluster_pids: every process of this cluster still running, found by path and cgroup.
cluster_pids() {
	local f pid
	for f in /proc/[0-9]*; do
		pid=${f#/proc/}
		ours "$pid" && echo "$pid"
	done
	return 0
}

# kill_pods: the pods' processes get SIGKILL (they are test sandboxes), until none is left.
kill_pods() {
	local deadline=$((SECONDS + 10)) pids
	while :; do
		mapfile -t pids < <(find /sys/fs/cgroup/*"$cgroup_root" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
		[ ${#pids[@]} -gt 0 ] || return 0
		kill -KILL "${pids[@]}" 2>/dev/null || true
		[ "$SECONDS" -lt "$deadline" ] || { log "pods' processes still alive: ${pids[*]}"; return 0; }
		sleep 0.1
	done
}

# leftovers: host files that killed shims and pods leave behind. containerd 1.6 puts each
# shim's socket in the host's /run/containerd/s, named by the sha256 of "<containerd
# address>/<namespace>/<id>"; CNI caches results in /var/lib/cni/results, per network and
# sandbox (the pods' network is named after the cluster; "cni-loopback" is containerd's).
# Paths only: nothing of another cluster matches.
leftovers() {
	local b ns id
	for b in "$dir"/containerd/state/io.containerd.runtime.v2.task/*/*; do
		[ -d "$b" ] || continue
		id=$(basename "$b") ns=$(basename "$(dirname "$b")")
		echo "/run/containerd/s/$(printf %s "$sock/$ns/$id" | sha256sum | cut -d' ' -f1)"
		echo "/var/lib/cni/results/cni-loopback-$id-lo"
	done
	compgen -G "/var/lib/cni/results/$netns-*" || true
	# kubelet links each container's log in the host's /var/log/containers (not configurable).
	find /var/log/containers -maxdepth 1 -type l -lname "$dir/*" 2>/dev/null || true
}

# unmount_all: everything mounted under DIR (overlay roots, tmpfs secrets, shm, pods' netns
# files), deepest last-mounted first; lazily when busy.
unmount_all() {
	local m
	while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "cannot unmount $m"
	done < <(awk -v d="$dir/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | tac)
}

remove_cgroups() {
	local h
	for h in /sys/fs/cgroup/*"$cgroup_root"; do
		[ -d "$h" ] || continue
		find "$h" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[ ! -d "$h" ] || log "cgroup $h still has processes"
	done
}

main() {
	local files
	mapfile -t files < <(leftovers)
	# kubelet first, so that nothing restarts the pods being killed.
	step kubelet stop $(recorded kubelet)
	step pods kill_pods
	# The shims, then what else names DIR in its command line but the control plane (nothing
	# else should be left; a half-failed up may have lost a PID file).
	step shims stop $(cluster_pids | grep -vxF -f <(cat "$dir"/pids/* 2>/dev/null || true) || true)
	step controllers stop $(recorded kube-controller-manager) $(recorded kube-scheduler) $(recorded containerd)
	step apiserver stop $(recorded kube-apiserver)
	step etcd stop $(recorded etcd)
	step rest stop $(cluster_pids)
	step unmount unmount_all
	step cgroups remove_cgroups
	[ ${#files[@]} -eq 0 ] || rm -f "${files[@]}"
	[ ! -e "$netns_path" ] || ip netns delete "$netns"
	if [ -e "$dir" ]; then
		if [ -f "$dir/.pdkube" ]; then
			rm -rf --one-file-system "$dir"
		else
			log "$dir has no .pdkube mark: not made by up.sh, left alone"
		fi
	fi
	log "cluster $netns down in ${SECONDS}s"
}

main
