package runc

import (
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/profile"
	"github.com/paddock/paddock/internal/sandbox"
)

// specDriver is a driver for the pure spec builders: nothing is run or checked on disk.
func specDriver() *Driver {
	return &Driver{cfg: Config{StateDir: "/state", GuestBinary: "/bin/guest", CgroupParent: "/paddock"},
		log: slog.New(slog.DiscardHandler)}
}

// instance resolves a spec against a profile, as the manager does.
func instance(t *testing.T, prof string) sandbox.InstanceSpec {
	t.Helper()
	sec, res, nw, err := profile.Resolve(sandbox.Spec{Profile: prof})
	if err != nil {
		t.Fatal(err)
	}
	return sandbox.InstanceSpec{ID: "abc123", Hostname: "sandbox", Resources: res, Security: sec, Network: nw,
		Image: sandbox.Image{Layers: []string{"/layers/0", "/layers/1"},
			Binds: []sandbox.Bind{{Source: "/usr", Destination: "/usr"}}},
		Labels: map[string]string{"owner": "alice", sandbox.LabelID: "forged"}}
}

func build(t *testing.T, in sandbox.InstanceSpec) *specs.Spec {
	t.Helper()
	s, err := specDriver().buildSpec(in)
	if err != nil {
		t.Fatal(err)
	}
	// The runtime reads JSON: what we check must survive encoding.
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out specs.Spec
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func mountAt(s *specs.Spec, dst string) (specs.Mount, bool) {
	for _, m := range s.Mounts {
		if m.Destination == dst {
			return m, true
		}
	}
	return specs.Mount{}, false
}

func TestSpecProcess(t *testing.T) {
	for _, prof := range profile.Names() {
		t.Run(prof, func(t *testing.T) {
			in := instance(t, prof)
			p := build(t, in).Process
			if !slices.Equal(p.Args, []string{"/.paddock/bin/paddock", "guest"}) || p.Cwd != "/" || p.Terminal {
				t.Errorf("args %q cwd %q terminal %v", p.Args, p.Cwd, p.Terminal)
			}
			if p.User.UID != in.Security.UID || p.User.GID != in.Security.GID {
				t.Errorf("user = %+v, want %d:%d", p.User, in.Security.UID, in.Security.GID)
			}
			for _, kv := range []string{"PADDOCK_GUEST_LISTEN_FD=3", "PADDOCK_GUEST_UID=" + strconv.FormatUint(uint64(in.Security.UID), 10)} {
				if !slices.Contains(p.Env, kv) {
					t.Errorf("env %q lacks %s", p.Env, kv)
				}
			}
			if !p.NoNewPrivileges {
				t.Error("NoNewPrivileges is off")
			}
			c := p.Capabilities
			for name, set := range map[string][]string{"bounding": c.Bounding, "effective": c.Effective, "permitted": c.Permitted} {
				if !slices.Equal(set, in.Security.Capabilities) {
					t.Errorf("%s = %q, want %q", name, set, in.Security.Capabilities)
				}
			}
			if len(c.Inheritable) > 0 || len(c.Ambient) > 0 {
				t.Errorf("inheritable %q, ambient %q: want empty", c.Inheritable, c.Ambient)
			}
		})
	}
}

func TestSpecRootAndTmp(t *testing.T) {
	cases := []struct {
		prof     string
		readOnly bool
		tmp      string // size option of the /tmp tmpfs, "" for none
	}{
		{"permissive", false, ""},
		{"moderate", false, ""},
		{"restrictive", true, "size=64m"},
	}
	for _, c := range cases {
		t.Run(c.prof, func(t *testing.T) {
			s := build(t, instance(t, c.prof))
			if s.Root.Path != "rootfs" || s.Root.Readonly != c.readOnly {
				t.Errorf("root = %+v, want rootfs read-only=%v", s.Root, c.readOnly)
			}
			m, ok := mountAt(s, "/tmp")
			if c.tmp == "" {
				if ok {
					t.Errorf("unexpected /tmp mount %+v", m)
				}
				return
			}
			if !ok || m.Type != "tmpfs" || !hasAll(m.Options, "noexec", "nosuid", "nodev", "mode=1777", c.tmp) {
				t.Errorf("/tmp = %+v (found %v), want a noexec tmpfs with %s", m, ok, c.tmp)
			}
		})
	}
}

func TestSpecMounts(t *testing.T) {
	s := build(t, instance(t, "moderate"))
	cases := []struct {
		dst, typ, src string
		opts          []string
	}{
		{"/proc", "proc", "proc", nil},
		{"/dev", "tmpfs", "tmpfs", nil},
		{"/dev/pts", "devpts", "devpts", []string{"newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{"/dev/shm", "tmpfs", "shm", nil},
		{"/dev/mqueue", "mqueue", "mqueue", nil},
		{"/sys", "sysfs", "sysfs", []string{"ro", "nosuid", "noexec", "nodev"}},
		{"/sys/fs/cgroup", "cgroup", "cgroup", []string{"ro"}},
		{"/usr", "bind", "/usr", []string{"rbind", "ro", "nosuid", "nodev"}},
		{"/.paddock/bin/paddock", "bind", "/bin/guest", []string{"bind", "ro"}},
	}
	for _, c := range cases {
		t.Run(c.dst, func(t *testing.T) {
			m, ok := mountAt(s, c.dst)
			if !ok || m.Type != c.typ || m.Source != c.src || !hasAll(m.Options, c.opts...) {
				t.Errorf("mount = %+v (found %v), want %s from %s with %q", m, ok, c.typ, c.src, c.opts)
			}
		})
	}
	// A mount must come after the one it sits on.
	order := func(dst string) int {
		return slices.IndexFunc(s.Mounts, func(m specs.Mount) bool { return m.Destination == dst })
	}
	if order("/dev") > order("/dev/pts") || order("/sys") > order("/sys/fs/cgroup") {
		t.Errorf("mounts out of order: %+v", s.Mounts)
	}
	for _, p := range []string{"/proc/kcore", "/proc/keys", "/sys/firmware", "/sys/devices/virtual/powercap"} {
		if !slices.Contains(s.Linux.MaskedPaths, p) {
			t.Errorf("%s not masked", p)
		}
	}
	if _, ok := mountAt(s, "/.paddock/run"); ok {
		t.Error("the guest's socket directory is mounted into the sandbox (the guest gets its listener as fd 3)")
	}
	for _, p := range []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/bus", "/proc/fs", "/proc/irq", "/sys/fs/cgroup"} {
		if !slices.Contains(s.Linux.ReadonlyPaths, p) {
			t.Errorf("%s not read-only", p)
		}
	}
}

func TestSpecResources(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	cases := []struct {
		name   string
		in     sandbox.Resources
		memory *int64
		quota  *int64
		pids   *int64
	}{
		{"unlimited", sandbox.Resources{}, nil, nil, nil},
		{"memory", sandbox.Resources{MemoryMB: 512}, i64(512 << 20), nil, nil},
		{"half a cpu", sandbox.Resources{VCPUs: 0.5}, nil, i64(50000), nil},
		{"two cpus", sandbox.Resources{VCPUs: 2}, nil, i64(200000), nil},
		{"pids", sandbox.Resources{Pids: 64}, nil, nil, i64(64)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := instance(t, "moderate")
			in.Resources = c.in
			r := build(t, in).Linux.Resources
			if got := r.Memory; (got == nil) != (c.memory == nil) ||
				got != nil && (*got.Limit != *c.memory || got.Swap == nil || *got.Swap != *c.memory) {
				t.Errorf("memory = %+v, want limit and swap %v", got, c.memory)
			}
			if got := r.CPU; (got == nil) != (c.quota == nil) ||
				got != nil && (*got.Quota != *c.quota || *got.Period != 100000) {
				t.Errorf("cpu = %+v, want quota %v per 100000", got, c.quota)
			}
			if got := r.Pids; (got == nil) != (c.pids == nil) || got != nil && *got.Limit != *c.pids {
				t.Errorf("pids = %+v, want %v", got, c.pids)
			}
			if len(r.Devices) != 1 || r.Devices[0].Allow || r.Devices[0].Access != "rwm" {
				t.Errorf("devices = %+v, want one deny-all rule", r.Devices)
			}
		})
	}
}

func TestSpecIdentity(t *testing.T) {
	s := build(t, instance(t, "moderate"))
	if s.Annotations[sandbox.LabelID] != "abc123" || s.Annotations["owner"] != "alice" {
		t.Errorf("annotations = %v, want the labels and the real ID", s.Annotations)
	}
	if s.Hostname != "sandbox" || s.Linux.CgroupsPath != "/paddock/abc123" {
		t.Errorf("hostname %q, cgroups path %q", s.Hostname, s.Linux.CgroupsPath)
	}
	if s.Linux.Seccomp == nil {
		t.Error("no seccomp filter")
	}
}

// TestSpecNamespaces: every namespace is new, except that an egress sandbox joins the
// network namespace the driver pinned (where its TUN device lives) and gets the gateway as its
// resolver.
func TestSpecNamespaces(t *testing.T) {
	for prof, joined := range map[string]string{"moderate": "/state/abc123/netns", "restrictive": ""} {
		t.Run(prof, func(t *testing.T) {
			s := build(t, instance(t, prof))
			var ns []string
			for _, n := range s.Linux.Namespaces {
				want := ""
				if n.Type == specs.NetworkNamespace {
					want = joined
				}
				if n.Path != want {
					t.Errorf("namespace %s joins %q, want %q", n.Type, n.Path, want)
				}
				ns = append(ns, string(n.Type))
			}
			slices.Sort(ns)
			if want := []string{"cgroup", "ipc", "mount", "network", "pid", "uts"}; !slices.Equal(ns, want) {
				t.Errorf("namespaces = %q, want %q", ns, want)
			}
			resolv := slices.ContainsFunc(s.Mounts, func(m specs.Mount) bool {
				return m.Destination == "/etc/resolv.conf" && m.Source == "/state/abc123/resolv.conf" && hasAll(m.Options, "ro")
			})
			if resolv != (joined != "") {
				t.Errorf("resolv.conf bind = %v, want %v", resolv, joined != "")
			}
		})
	}
}

func TestSpecUnknownSeccomp(t *testing.T) {
	in := instance(t, "moderate")
	in.Security.Seccomp = "nope"
	if _, err := specDriver().buildSpec(in); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("buildSpec: %v, want invalid argument", err)
	}
}

func hasAll(opts []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(opts, w) {
			return false
		}
	}
	return true
}
