#!/usr/bin/env bash
# Compares, side by side in one run, the wall time of:
#   paddock run -- true        (fresh sandbox: create, guest ready, exec, delete)
#   runc run of an equivalent bundle (host /usr read-only, same namespaces) running true
#   docker run --rm debian true (only when a Docker engine answers)
# Prints the median and p90 of each and the ratios against plain runc. Run as root.
# Usage: bench/compare.sh [iterations]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-30}
[ "$(id -u)" = 0 ] || { echo "compare.sh: run as root (runc needs it)" >&2; exit 1; }
source scripts/deps.sh
CGO_ENABLED=0 go build -o bin/paddock ./cmd/paddock

work=$(mktemp -d /tmp/pdcmp.XXXX)
data=$(mktemp -d /tmp/pdcmpdata.XXXX)
cleanup() {
  runc --root "$work/runc" delete -f pdcmp >/dev/null 2>&1 || true
  umount "$work/bundle/rootfs" 2>/dev/null || true
  rm -rf "$work" "$data"
}
trap cleanup EXIT

# An equivalent runc bundle: an overlay of a skeleton dir, host /usr bound read-only.
mkdir -p "$work/skel"/{usr,proc,sys,dev,tmp,etc} "$work/upper" "$work/work" "$work/bundle/rootfs" "$work/runc"
for d in bin sbin lib lib64; do [ -L /$d ] && ln -s "usr/$d" "$work/skel/$d"; done
(cd "$work/bundle" && runc spec && python3 - <<'PY'
import json
c = json.load(open("config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = ["/usr/bin/true"]
c["root"]["readonly"] = False
c["mounts"].append({"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]})
types = {n["type"] for n in c["linux"]["namespaces"]}
for t in ("network", "cgroup", "pid", "ipc", "uts", "mount"):
    if t not in types:
        c["linux"]["namespaces"].append({"type": t})
json.dump(c, open("config.json", "w"))
PY
)

time_ms() { # prints elapsed milliseconds of "$@"
  local s e
  s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
  echo $(( (e - s) / 1000000 ))
}
runc_once() {
  mount -t overlay overlay -o "lowerdir=$work/skel,upperdir=$work/upper,workdir=$work/work" "$work/bundle/rootfs"
  runc --root "$work/runc" run --bundle "$work/bundle" pdcmp
  umount "$work/bundle/rootfs"
}
stats() { # name, then samples on stdin
  sort -n | awk -v name="$1" '{a[NR]=$1} END {m=a[int((NR+1)/2)]; p=a[int(NR*0.9+0.5)]; printf "%-28s median %6d ms   p90 %6d ms   (n=%d)\n", name, m, p, NR; print m > "/dev/stderr"}'
}

./bin/paddock run --data-dir "$data" -- true >/dev/null   # warm the guest copy and base image
declare -A med
run_series() { # label, command...
  local label=$1; shift
  for _ in $(seq "$n"); do time_ms "$@"; done | stats "$label" 2>"$work/med"
  med[$label]=$(cat "$work/med")
}
# Interleave nothing fancy: run the series back to back in one invocation, same machine state.
run_series "runc run (baseline)" runc_once
run_series "paddock run -- true" ./bin/paddock run --data-dir "$data" -- true
if docker info >/dev/null 2>&1; then
  run_series "docker run --rm" docker run --rm debian:bookworm-slim true
else
  echo "docker run --rm             skipped: no Docker engine answers (docker info failed)"
fi
base=${med["runc run (baseline)"]}
for k in "${!med[@]}"; do
  [ "$k" = "runc run (baseline)" ] && continue
  awk -v k="$k" -v m="${med[$k]}" -v b="$base" 'BEGIN {printf "ratio %-22s %.2fx runc\n", k, (b>0 ? m/b : 0)}'
done
