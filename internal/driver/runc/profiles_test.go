package runc_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/driver/drivertest"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/profile"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

// profileSandbox runs a sandbox of the named profile without a network.
func (e *env) profileSandbox(t *testing.T, name string) (sandbox.InstanceSpec, *guestclient.Client) {
	t.Helper()
	spec := drivertest.NewSpec(t, e.img)
	var err error
	spec.Security, spec.Resources, _, err = profile.Resolve(sandbox.Spec{Profile: name})
	if err != nil {
		t.Fatal(err)
	}
	spec.Network = sandbox.NetworkNone
	e.runSpec(t, spec)
	return spec, e.client(t, spec.ID)
}

// sh runs script with sh -c as the sandbox's default user and returns its trimmed stdout
// and stderr and its exit code.
func sh(t *testing.T, c *guestclient.Client, script string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := c.Start(ctx, guestclient.Command{Args: []string{"sh", "-c", script}, Timeout: 50 * time.Second})
	if err != nil {
		t.Fatalf("start %q: %v", script, err)
	}
	var out, errOut strings.Builder
	for {
		o, end, err := p.Next()
		if err != nil {
			t.Fatalf("%q: %v", script, err)
		}
		if end != nil {
			return strings.TrimSpace(out.String()), strings.TrimSpace(errOut.String()), end.ExitCode
		}
		if o.Stream == "stderr" {
			errOut.Write(o.Data)
		} else {
			out.Write(o.Data)
		}
	}
}

func needPython(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		testenv.Require(t, "interpreters", "python3 not installed: apt-get install python3")
	}
}

// ioUringProbe calls io_uring_setup(1, &params) (425 on every architecture) and prints
// "ok" or the errno name; a ring it got is closed at exit.
const ioUringProbe = `python3 -c '
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)
r = libc.syscall(425, 1, params)
print("ok" if r >= 0 else errno.errorcode[ctypes.get_errno()])'`

// TestProfileConfinement checks, in a real sandbox of every profile, what the profiles
// promise beyond the engine's security tests: no io_uring, rlimits, a read-only
// /sys/fs/cgroup.
func TestProfileConfinement(t *testing.T) {
	e := newEnv(t)
	for _, name := range profile.Names() {
		t.Run(name, func(t *testing.T) {
			_, c := e.profileSandbox(t, name)
			t.Run("io_uring", func(t *testing.T) {
				needPython(t)
				out, stderr, _ := sh(t, c, ioUringProbe)
				if out != "EPERM" {
					t.Errorf("io_uring_setup = %q (%s), want EPERM as under Docker 25+", out, stderr)
				}
			})
			t.Run("rlimits", func(t *testing.T) { testRlimits(t, c, name) })
			t.Run("cgroupfs", func(t *testing.T) {
				// Root in permissive and moderate: only a read-only mount stops these.
				for _, cmd := range []string{"mkdir /sys/fs/cgroup/x", "touch /sys/fs/cgroup/f",
					"ln -s / /sys/fs/cgroup/l", "mount -o remount,rw /sys/fs/cgroup"} {
					if out, stderr, code := sh(t, c, cmd); code == 0 {
						t.Errorf("%s succeeded (%s %s)", cmd, out, stderr)
					}
				}
				if out, _, _ := sh(t, c, "ls /sys/fs/cgroup"); out == "" {
					t.Error("/sys/fs/cgroup is empty: the hierarchies must stay readable")
				}
			})
		})
	}
}

// nofileProbe opens /dev/null until it fails and prints the errno name and how many
// descriptors the process then held; with an argument it first raises its soft limit to
// that value.
const nofileProbe = `python3 -c '
import errno, os, resource, sys
if len(sys.argv) > 1:
    n = int(sys.argv[1])
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    except (OSError, ValueError) as e:
        print("setrlimit", type(e).__name__); sys.exit()
fds = []
try:
    while True:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    os.close(fds.pop())
    print(errno.errorcode[e.errno], len(os.listdir("/proc/self/fd")))' `

// wantNofileHard pins the documented hard limits on open files (README, docs/engine.md).
var wantNofileHard = map[string]uint64{"permissive": 524288, "moderate": 8192, "restrictive": 2048}

// nofileCeiling is the highest NOFILE hard limit a runtime started by this process can set:
// without CAP_SYS_RESOURCE, this process's own (the driver lowers the profile's to it).
func nofileCeiling(t *testing.T) uint64 {
	var own unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &own); err != nil {
		t.Fatal(err)
	}
	if in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, unix.CAP_SYS_RESOURCE, 0, 0, 0); err == nil && in == 1 {
		return 1 << 20
	}
	t.Logf("no CAP_SYS_RESOURCE: NOFILE hard limits above this process's %d are lowered to it", own.Max)
	return own.Max
}

func testRlimits(t *testing.T, c *guestclient.Client, name string) {
	needPython(t)
	hard := strconv.FormatUint(min(wantNofileHard[name], nofileCeiling(t)), 10)
	if out, _, _ := sh(t, c, "ulimit -Sn; ulimit -Hn; ulimit -Sc; ulimit -Hc"); out != "1024\n"+hard+"\n0\n0" {
		t.Errorf("ulimit -Sn -Hn -Sc -Hc = %q, want 1024, %s, 0, 0", out, hard)
	}
	// Past the soft limit: EMFILE with 1024 descriptors open.
	if out, stderr, _ := sh(t, c, nofileProbe); out != "EMFILE 1024" {
		t.Errorf("opening files past the soft limit: %q (%s), want EMFILE 1024", out, stderr)
	}
	// The soft limit may be raised to the hard one, not past it.
	if out, _, _ := sh(t, c, nofileProbe+" "+hard+"1"); out != "setrlimit ValueError" {
		t.Errorf("raising NOFILE past %s: %q, want refused", hard, out)
	}
	if hard != "524288" { // half a million open files is not worth a test's time
		if out, stderr, _ := sh(t, c, nofileProbe+" "+hard); out != "EMFILE "+hard {
			t.Errorf("opening files past the hard limit: %q (%s), want EMFILE %s", out, stderr, hard)
		}
	}
	want := map[string]string{
		"Max core file size": "0 0", "Max realtime priority": "0 0", "Max nice priority": "0 0",
		"Max pending signals": "4096 4096", "Max msgqueue size": "819200 819200",
		"Max locked memory": map[string]string{"restrictive": "65536 65536"}[name],
	}
	if want["Max locked memory"] == "" {
		want["Max locked memory"] = "8388608 8388608"
	}
	limits, _, _ := sh(t, c, "cat /proc/self/limits")
	for _, line := range strings.Split(limits, "\n") {
		for k, v := range want {
			if strings.HasPrefix(line, k) {
				if f := strings.Fields(strings.TrimPrefix(line, k)); len(f) < 2 || f[0]+" "+f[1] != v {
					t.Errorf("%s = %q, want %s", k, line, v)
				}
				delete(want, k)
			}
		}
	}
	for k := range want {
		t.Errorf("%s missing from /proc/self/limits", k)
	}
	// The guest shares the hard limit and, being a Go program, raises its soft limit to
	// (nearly) it, while the processes it starts get the profile's 1024 back.
	guest, _, _ := sh(t, c, "grep 'Max open files' /proc/1/limits")
	if f := strings.Fields(guest); len(f) != 6 || f[4] != hard || f[3] == "1024" {
		t.Errorf("guest: %q, want its soft limit raised towards the hard limit %s", guest, hard)
	}
}

// TestMountinfoHidesDataDir reads /proc/self/mountinfo in a default (moderate, egress)
// sandbox: the data dir's path appears only where a bind mount's root must name a path in
// its filesystem (the guest binary, the egress resolv.conf), as docs/engine.md documents.
func TestMountinfoHidesDataDir(t *testing.T) {
	e := newEnv(t)
	spec := e.run(t)
	if spec.Network != sandbox.NetworkEgress {
		t.Fatalf("default sandbox network = %q, want egress", spec.Network)
	}
	dataDir := filepath.Dir(e.stateDir)
	info, _, code := sh(t, e.client(t, spec.ID), "cat /proc/self/mountinfo")
	if code != 0 || !strings.Contains(info, " / / ") {
		t.Fatalf("mountinfo: %d %q", code, info)
	}
	var showing []string
	for _, line := range strings.Split(info, "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.Contains(line, dataDir) {
			showing = append(showing, f[4])
		}
	}
	if want := []string{"/.paddock/bin/paddock", "/etc/resolv.conf"}; !slices.Equal(showing, want) {
		t.Errorf("mount points whose line shows the data dir %s: %q, want only %q\n%s", dataDir, showing, want, info)
	}
	// The overlay's relative lower dirs, read on the host against the mount point as image
	// pruning reads them, are the image's layers.
	host, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	rootfs := filepath.Join(e.stateDir, spec.ID, "bundle", "rootfs")
	var lower []string
	for _, line := range strings.Split(string(host), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == rootfs {
			_, opts, _ := strings.Cut(line, ",lowerdir=")
			rel, _, _ := strings.Cut(opts, ",")
			for _, d := range strings.Split(rel, ":") {
				lower = append([]string{filepath.Join(rootfs, d)}, lower...)
			}
		}
	}
	if !slices.Equal(lower, spec.Image.Layers) {
		t.Errorf("lower dirs resolved against %s: %q, want the layers %q", rootfs, lower, spec.Image.Layers)
	}
}
