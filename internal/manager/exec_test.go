package manager_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
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
		_, err = m.StartProcess(ctx, "env", manager.Command{Args: []string{"true"}, Env: c.env})
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
	if err := manager.ProcessLost(m, ctx, "kept", broken); err != broken {
		t.Errorf("running sandbox: %v, want the error itself", err)
	}
	if _, err := m.Stop(ctx, "stopped"); err != nil {
		t.Fatal(err)
	}
	if err := manager.ProcessLost(m, ctx, "stopped", broken); !errors.Is(err, errdefs.ErrFailedPrecondition) || err.Error() != "the sandbox is stopped: the command ended with it" {
		t.Errorf("stopped sandbox: %v", err)
	}
	if err := m.Delete(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	if err := manager.ProcessLost(m, ctx, "doomed", broken); !errors.Is(err, errdefs.ErrFailedPrecondition) || err.Error() != "the sandbox was deleted while the command ran" {
		t.Errorf("deleted sandbox: %v", err)
	}
	if err := manager.ProcessLost(m, ctx, "kept", context.DeadlineExceeded); err != context.DeadlineExceeded {
		t.Errorf("a timeout is not blamed on the sandbox: %v", err)
	}
}

// slowGuest delays what the guests answer, as a loaded host does.
type slowGuest struct {
	*fake.Driver
	delay atomic.Int64 // nanoseconds each read from a guest connection takes to return
}

func (d *slowGuest) Dial(ctx context.Context, id string) (net.Conn, error) {
	c, err := d.Driver.Dial(ctx, id)
	if err != nil {
		return nil, err
	}
	return &slowConn{Conn: c, delay: &d.delay}, nil
}

type slowConn struct {
	net.Conn
	delay *atomic.Int64
}

// Read delays what it read rather than the read: an idle connection's read is under way
// already, undelayed, when the delay is set.
func (c *slowConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	time.Sleep(time.Duration(c.delay.Load()))
	return n, err
}

// TestTimeoutBeforeStart: a command whose timeout runs out before the guest reports it
// started (a loaded host, a slow guest) ends timed out like one that ran too long — exit
// 124, not an error; the caller's own deadline stays an error.
func TestTimeoutBeforeStart(t *testing.T) {
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	slow := &slowGuest{Driver: drv}
	ctx := context.Background()
	m, err := manager.New(ctx, manager.Config{Driver: slow, Store: memory.New(), Images: images{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(ctx) })
	sb, err := m.Create(ctx, sandbox.Spec{Name: "slow"}, "")
	if err != nil {
		t.Fatal(err)
	}
	slow.delay.Store(int64(300 * time.Millisecond))
	defer slow.delay.Store(0)
	const timeout = 100 * time.Millisecond
	res, err := m.Exec(ctx, sb.ID, manager.ExecRequest{Shell: "true", Timeout: timeout})
	if err != nil || !res.TimedOut || res.ExitCode != manager.ExitTimedOut || !strings.Contains(res.Reason, "timed out") {
		t.Errorf("exec: %+v, %v; want a timed-out result", res, err)
	}
	p, err := m.StartProcess(ctx, sb.ID, manager.Command{Args: []string{"true"}, Timeout: timeout})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if _, x, err := p.Next(); err != nil || x == nil || !x.TimedOut || x.Code != manager.ExitTimedOut {
		t.Errorf("stream: %+v, %v; want a timed-out end", x, err)
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if res, err := m.Exec(cctx, sb.ID, manager.ExecRequest{Shell: "true", Timeout: time.Minute}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the caller's deadline: %+v, %v; want its error", res, err)
	}
}
