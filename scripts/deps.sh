#!/usr/bin/env bash
# Installs what Paddock needs on a Debian/Ubuntu host, only when missing. Sourced by the
# quick-start scripts; safe to run repeatedly.
set -euo pipefail

need=()
command -v runc >/dev/null 2>&1 || need+=(runc)
# mkfs.ext4 formats the sandboxes' disk images (disk_mb); it lives in sbin, often not in PATH.
command -v mkfs.ext4 >/dev/null 2>&1 || [ -x /usr/sbin/mkfs.ext4 ] || [ -x /sbin/mkfs.ext4 ] || need+=(e2fsprogs)

if [ "${PADDOCK_WITH_TEST_DEPS:-0}" = 1 ]; then
  command -v python3 >/dev/null 2>&1 || need+=(python3)   # syscall probes in the isolation tests
  command -v pgrep >/dev/null 2>&1 || need+=(procps)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)   # the /docs page test
  command -v firefox-esr >/dev/null 2>&1 || need+=(firefox-esr) # the web UI test in Firefox (TestUIInFirefox)
  [ -x /bin/busybox ] || need+=(busybox-static)          # OCI image tests build images from it
  [ -x /usr/bin/docker-registry ] || need+=(docker-registry) # OCI image tests pull from a real registry
  command -v node >/dev/null 2>&1 || need+=(nodejs)       # javascript code contexts
  command -v npm >/dev/null 2>&1 || need+=(npm)           # runtime images install their CLI from the npm registry
  command -v ssh >/dev/null 2>&1 || need+=(openssh-client) # the SSH gateway's tests log in with OpenSSH's ssh
  /usr/bin/python3 -c "import matplotlib" 2>/dev/null || need+=(python3-matplotlib)
  # The Postgres store's tests start a throwaway server from these binaries (pgtest).
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
fi
# The Kubernetes end-to-end tests (scripts/kube-e2e.sh) run a real cluster from these, with
# the kube-* binaries that scripts/kube/build.sh builds.
if [ "${PADDOCK_WITH_TEST_DEPS:-0}" = 1 ] || [ "${PADDOCK_WITH_KUBE_DEPS:-0}" = 1 ]; then
  command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
  command -v containerd >/dev/null 2>&1 || need+=(containerd)
  command -v runc >/dev/null 2>&1 || need+=(runc)
  [ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
  [ -x /bin/busybox ] || need+=(busybox-static)          # the pause and base images
  command -v openssl >/dev/null 2>&1 || need+=(openssl)  # the cluster's PKI
  command -v jq >/dev/null 2>&1 || need+=(jq)
  command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
fi
if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | awk '!seen[$0]++')
  if [ "$(id -u)" != 0 ]; then
    echo "paddock: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
    exit 1
  fi
  echo "paddock: installing ${need[*]}" >&2
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH=/usr/local/go/bin:$PATH
fi
command -v go >/dev/null 2>&1 || { echo "paddock: Go 1.26+ is required (https://go.dev/dl)" >&2; exit 1; }
