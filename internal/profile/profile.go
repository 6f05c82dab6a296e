// Package profile defines Paddock's security profiles (permissive, moderate, restrictive) and
// resolves a user's sandbox.Spec against one into the settings a driver applies.
package profile

import (
	"sort"
	"strconv"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/seccomp"
)

// Default is the profile used when a spec names none.
const Default = "moderate"

// Profile is one named set of defaults and confinement settings.
type Profile struct {
	Name string
	// Resources are the default limits. With a read-only root, Resources.DiskMB sizes the
	// /tmp tmpfs (the only writable place) instead of the writable layer.
	Resources    sandbox.Resources
	ReadOnlyRoot bool
	User         string // default user name inside the sandbox
	UID, GID     uint32
	Capabilities []string
	Seccomp      string
	Network      sandbox.NetworkMode // what the profile will allow once egress lands
}

// dockerDefaultCaps is Docker's default capability set.
var dockerDefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

var profiles = map[string]Profile{
	"permissive": {
		Name: "permissive", Resources: sandbox.Resources{Pids: 4096, DiskMB: 8192},
		User: "root", Capabilities: dockerDefaultCaps, Seccomp: seccomp.DockerDefault,
		Network: sandbox.NetworkEgress,
	},
	"moderate": {
		Name: "moderate", Resources: sandbox.Resources{MemoryMB: 512, VCPUs: 1, Pids: 1024, DiskMB: 2048},
		User: "root",
		Capabilities: []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
			"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE"},
		Seccomp: seccomp.Moderate, Network: sandbox.NetworkEgress,
	},
	"restrictive": {
		Name: "restrictive", Resources: sandbox.Resources{MemoryMB: 256, VCPUs: 0.5, Pids: 256, DiskMB: 64},
		ReadOnlyRoot: true, User: "user", UID: 1000, GID: 1000,
		Capabilities: []string{}, Seccomp: seccomp.Restrictive, Network: sandbox.NetworkNone,
	},
}

// Names lists the profiles in alphabetical order.
func Names() []string {
	out := make([]string, 0, len(profiles))
	for n := range profiles {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Get returns a profile by name ("" = Default).
func Get(name string) (Profile, error) {
	if name == "" {
		name = Default
	}
	p, ok := profiles[name]
	if !ok {
		return Profile{}, errdefs.InvalidArgument("unknown profile %q: choose one of %s", name, strings.Join(Names(), ", "))
	}
	p.Capabilities = append([]string(nil), p.Capabilities...)
	return p, nil
}

// Bounds on per-request overrides.
const (
	minMemoryMB = 16
	maxMemoryMB = 1 << 20 // 1 TiB
	minVCPUs    = 0.01
	maxVCPUs    = 1024
	minPids     = 16
	maxPids     = 4194304
	minDiskMB   = 32
	maxDiskMB   = 1 << 20 // 1 TiB
)

// Resolve applies the spec's profile and its per-field overrides (VCPUs, MemoryMB, Pids, DiskMB,
// User, Network) and returns what the driver enforces. With a read-only root, DiskMB also
// becomes the size of the /tmp tmpfs (Security.TmpSizeMB). User overrides "root", "user", "uid" and
// "uid:gid" set the identity the guest runs as; other names keep the profile's identity and
// are resolved by the guest when processes start.
func Resolve(spec sandbox.Spec) (sandbox.Security, sandbox.Resources, sandbox.NetworkMode, error) {
	p, err := Get(spec.Profile)
	if err != nil {
		return sandbox.Security{}, sandbox.Resources{}, "", err
	}
	res := p.Resources
	switch {
	case spec.MemoryMB < 0, spec.MemoryMB > 0 && (spec.MemoryMB < minMemoryMB || spec.MemoryMB > maxMemoryMB):
		return fail("memory_mb %d is out of range: use %d to %d MiB", spec.MemoryMB, minMemoryMB, maxMemoryMB)
	case spec.VCPUs < 0, spec.VCPUs > 0 && (spec.VCPUs < minVCPUs || spec.VCPUs > maxVCPUs):
		return fail("vcpus %g is out of range: use %g to %d", spec.VCPUs, minVCPUs, maxVCPUs)
	case spec.Pids < 0, spec.Pids > 0 && (spec.Pids < minPids || spec.Pids > maxPids):
		return fail("pids %d is out of range: use %d to %d", spec.Pids, minPids, maxPids)
	case spec.DiskMB < 0, spec.DiskMB > 0 && (spec.DiskMB < minDiskMB || spec.DiskMB > maxDiskMB):
		return fail("disk_mb %d is out of range: use %d to %d MiB", spec.DiskMB, minDiskMB, maxDiskMB)
	}
	if spec.MemoryMB > 0 {
		res.MemoryMB = spec.MemoryMB
	}
	if spec.VCPUs > 0 {
		res.VCPUs = spec.VCPUs
	}
	if spec.Pids > 0 {
		res.Pids = spec.Pids
	}
	if spec.DiskMB > 0 {
		res.DiskMB = spec.DiskMB
	}
	network := p.Network
	switch spec.Network {
	case "":
	case sandbox.NetworkNone, sandbox.NetworkEgress:
		network = spec.Network
	default:
		return fail("network %q is not a mode: use none or egress", spec.Network)
	}
	sec := sandbox.Security{
		Profile: p.Name, ReadOnlyRoot: p.ReadOnlyRoot,
		UID: p.UID, GID: p.GID, Capabilities: p.Capabilities, Seccomp: p.Seccomp,
		Rlimits: rlimits(p.Name, res.Pids),
	}
	if p.ReadOnlyRoot {
		sec.TmpSizeMB = res.DiskMB
	}
	if spec.User != "" {
		uid, gid, ok, err := parseIdentity(spec.User)
		if err != nil {
			return sandbox.Security{}, sandbox.Resources{}, "", err
		}
		if ok {
			sec.UID, sec.GID = uid, gid
		}
	}
	return sec, res, network, nil
}

func fail(format string, args ...any) (sandbox.Security, sandbox.Resources, sandbox.NetworkMode, error) {
	return sandbox.Security{}, sandbox.Resources{}, "", errdefs.InvalidArgument(format, args...)
}

// parseIdentity understands "root", "user", "uid" and "uid:gid"; ok is false for other names.
func parseIdentity(u string) (uid, gid uint32, ok bool, err error) {
	switch u {
	case "root":
		return 0, 0, true, nil
	case "user":
		return 1000, 1000, true, nil
	}
	us, gs, hasGID := strings.Cut(u, ":")
	n, perr := strconv.ParseUint(us, 10, 32)
	if perr != nil {
		if hasGID || strings.ContainsAny(u, " /\x00") {
			return 0, 0, false, errdefs.InvalidArgument("user %q is not a name, uid or uid:gid", u)
		}
		return 0, 0, false, nil
	}
	g := n
	if hasGID {
		if g, perr = strconv.ParseUint(gs, 10, 32); perr != nil {
			return 0, 0, false, errdefs.InvalidArgument("user %q: gid %q is not a number", u, gs)
		}
	}
	return uint32(n), uint32(g), true, nil
}
