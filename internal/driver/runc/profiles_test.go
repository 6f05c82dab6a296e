package runc_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

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
			return strings.TrimSpace(out.String()), strings.TrimSpace(errOut.String()), end.Code()
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
// promise beyond the engine's security tests: no io_uring, a read-only /sys/fs/cgroup.
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
