package runc

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/paddock/paddock/internal/sandbox"
)

// mounts lists the sandbox's mounts in order: the kernel filesystems, the image's read-only
// host binds, the guest binary, an egress sandbox's resolv.conf, /tmp when the profile asks
// for a tmpfs, then the volumes, in the spec's order (volumes_mount.go). The guest's socket directory is not among them: the guest gets its
// listener as fd 3, and the sandbox has no business seeing (or showing, in mountinfo) the
// host directory the host dials.
func mounts(in sandbox.InstanceSpec, guestBinary string, p paths) []specs.Mount {
	ms := kernelMounts()
	for _, b := range in.Image.Binds {
		ms = append(ms, specs.Mount{Destination: b.Destination, Type: "bind", Source: b.Source,
			Options: []string{"rbind", "ro", "nosuid", "nodev"}})
	}
	ms = append(ms, specs.Mount{Destination: guestBinaryPath, Type: "bind", Source: guestBinary,
		Options: []string{"bind", "ro", "nosuid", "nodev"}})
	if in.Network == sandbox.NetworkEgress {
		ms = append(ms, specs.Mount{Destination: "/etc/resolv.conf", Type: "bind", Source: p.resolvConf(),
			Options: []string{"bind", "ro", "nosuid", "nodev", "noexec"}})
	}
	if in.Security.TmpSizeMB > 0 {
		ms = append(ms, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "nodev", "noexec", "mode=1777", fmt.Sprintf("size=%dm", in.Security.TmpSizeMB),
				fmt.Sprintf("nr_inodes=%d", in.Security.TmpSizeMB*inodesPerMiB)}})
	}
	return append(ms, volumeMounts(in, p)...)
}

// kernelMounts are the pseudo-filesystems every container gets, as Docker sets them up.
func kernelMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
			Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}
