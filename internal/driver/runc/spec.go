package runc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/seccomp"
)

// In-sandbox paths of the guest.
const (
	guestBinaryPath = "/.paddock/bin/paddock"
	guestRunDir     = "/.paddock/run"
)

// writeConfig renders the bundle's config.json.
func (d *Driver) writeConfig(spec sandbox.InstanceSpec, p paths) error {
	s, err := d.buildSpec(spec)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(p.bundle(), "config.json"), b, 0o600)
}

// buildSpec turns an InstanceSpec into an OCI runtime spec.
func (d *Driver) buildSpec(in sandbox.InstanceSpec) (*specs.Spec, error) {
	sc, err := seccomp.OCI(in.Security.Seccomp)
	if err != nil {
		return nil, err
	}
	annotations := map[string]string{sandbox.LabelID: in.ID}
	for k, v := range in.Labels {
		annotations[k] = v
	}
	return &specs.Spec{
		Version:     specs.Version,
		Hostname:    in.Hostname,
		Root:        &specs.Root{Path: "rootfs", Readonly: in.Security.ReadOnlyRoot},
		Process:     process(in.Security),
		Mounts:      d.mounts(in),
		Annotations: annotations,
		Linux: &specs.Linux{
			CgroupsPath: d.cfg.CgroupParent + "/" + in.ID,
			Resources:   resources(in.Resources),
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.CgroupNamespace},
			},
			Seccomp:       sc,
			MaskedPaths:   maskedPaths,
			ReadonlyPaths: readonlyPaths,
		},
	}, nil
}

// Docker's masked and read-only /proc and /sys paths.
var (
	maskedPaths = []string{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

func process(sec sandbox.Security) *specs.Process {
	caps := append([]string{}, sec.Capabilities...)
	return &specs.Process{
		User: specs.User{UID: sec.UID, GID: sec.GID},
		Args: []string{guestBinaryPath, "guest"},
		Env: []string{
			guestenv.ListenFDEnv + "=3",
			fmt.Sprintf("%s=%d", guestenv.DefaultUIDEnv, sec.UID),
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		},
		Cwd:             "/",
		NoNewPrivileges: true,
		Capabilities: &specs.LinuxCapabilities{
			Bounding: caps, Effective: caps, Permitted: caps,
		},
	}
}

func (d *Driver) mounts(in sandbox.InstanceSpec) []specs.Mount {
	ms := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
			Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
	for _, b := range in.Image.Binds {
		ms = append(ms, specs.Mount{Destination: b.Destination, Type: "bind", Source: b.Source,
			Options: []string{"rbind", "ro", "nosuid", "nodev"}})
	}
	ms = append(ms,
		specs.Mount{Destination: guestBinaryPath, Type: "bind", Source: d.cfg.GuestBinary,
			Options: []string{"bind", "ro", "nosuid", "nodev"}},
		specs.Mount{Destination: guestRunDir, Type: "bind", Source: d.paths(in.ID).guestDir(),
			Options: []string{"bind", "ro", "nosuid", "nodev", "noexec"}},
	)
	if in.Security.TmpSizeMB > 0 {
		ms = append(ms, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "nodev", "noexec", "mode=1777", fmt.Sprintf("size=%dm", in.Security.TmpSizeMB)}})
	}
	return ms
}

func resources(r sandbox.Resources) *specs.LinuxResources {
	out := &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	}
	if r.MemoryMB > 0 {
		limit := r.MemoryMB << 20
		out.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &limit}
	}
	if r.VCPUs > 0 {
		period := uint64(100000)
		quota := int64(r.VCPUs * float64(period))
		out.CPU = &specs.LinuxCPU{Period: &period, Quota: &quota}
	}
	if r.Pids > 0 {
		pids := r.Pids
		out.Pids = &specs.LinuxPids{Limit: &pids}
	}
	return out
}
