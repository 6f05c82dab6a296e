package manager_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

func TestBadEnvIsRefusedByName(t *testing.T) {
	m, _, _ := newManager(t)
	ctx := context.Background()
	if _, err := m.Create(ctx, sandbox.Spec{Name: "env"}, ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"A=B": "x"}, `"A=B"`},
		{map[string]string{"A\x00B": "x"}, `"A\x00B"`},
		{map[string]string{"": "x"}, "empty"},
		{map[string]string{"OK": "a\x00b"}, "value of OK"},
	} {
		_, err := m.Exec(ctx, "env", manager.ExecRequest{Command: []string{"true"}, Env: c.env})
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("exec with env %q: %v, want an invalid argument naming %s", c.env, err, c.want)
		}
		_, err = m.StartProcess(ctx, "env", guestclient.Command{Args: []string{"true"}, Env: c.env})
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("start with env %q: %v", c.env, err)
		}
		_, err = m.Create(ctx, sandbox.Spec{Env: c.env}, "")
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("create with env %q: %v, want an invalid argument naming %s", c.env, err, c.want)
		}
	}
}

func TestTimeoutTooLarge(t *testing.T) {
	m, _, _ := newManager(t)
	ctx := context.Background()
	if _, err := m.Create(ctx, sandbox.Spec{Name: "slow"}, ""); err != nil {
		t.Fatal(err)
	}
	_, err := m.Exec(ctx, "slow", manager.ExecRequest{Command: []string{"true"}, Timeout: manager.MaxTimeout + time.Second})
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "too large") {
		t.Errorf("exec with a timeout past the maximum: %v", err)
	}
}

func TestExecOutputIsCappedPerStream(t *testing.T) {
	m, _, _ := newManager(t)
	ctx := context.Background()
	if _, err := m.Create(ctx, sandbox.Spec{Name: "loud"}, ""); err != nil {
		t.Fatal(err)
	}
	res, err := m.Exec(ctx, "loud", manager.ExecRequest{Shell: "head -c 3000000 /dev/zero; echo oops >&2", OutputLimit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	out := bytes.Join(res.Output(), nil)
	if len(res.Stdout) != 1<<20 || string(res.Stderr) != "oops\n" || !res.Truncated || len(out) != 1<<20+5 || res.ExitCode != 0 {
		t.Errorf("stdout %d bytes, stderr %q, output %d bytes, truncated %v, exit %d", len(res.Stdout), res.Stderr, len(out), res.Truncated, res.ExitCode)
	}
	if !bytes.HasSuffix(out, []byte("oops\n")) {
		t.Errorf("output does not end with stderr: %q", out[len(out)-10:])
	}
}

// TestProcessLost checks what a broken process stream is blamed on. (On the fake driver a
// deleted sandbox's processes end normally; the runc tests in internal/server break real
// streams.)
func TestProcessLost(t *testing.T) {
	m, _, _ := newManager(t)
	ctx := context.Background()
	for _, name := range []string{"kept", "stopped", "doomed"} {
		if _, err := m.Create(ctx, sandbox.Spec{Name: name}, ""); err != nil {
			t.Fatal(err)
		}
	}
	broken := errdefs.Unavailable("protocol error: incomplete envelope")
	if err := m.ProcessLost(ctx, "kept", broken); err != broken {
		t.Errorf("running sandbox: %v, want the error itself", err)
	}
	if _, err := m.Stop(ctx, "stopped"); err != nil {
		t.Fatal(err)
	}
	if err := m.ProcessLost(ctx, "stopped", broken); !errors.Is(err, errdefs.ErrFailedPrecondition) || err.Error() != "the sandbox is stopped: the command ended with it" {
		t.Errorf("stopped sandbox: %v", err)
	}
	if err := m.Delete(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	if err := m.ProcessLost(ctx, "doomed", broken); !errors.Is(err, errdefs.ErrFailedPrecondition) || err.Error() != "the sandbox was deleted while the command ran" {
		t.Errorf("deleted sandbox: %v", err)
	}
	if err := m.ProcessLost(ctx, "kept", context.DeadlineExceeded); err != context.DeadlineExceeded {
		t.Errorf("a timeout is not blamed on the sandbox: %v", err)
	}
}
