package sshgate_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/engine"
	"github.com/paddock/paddock/internal/engine/enginetest"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// runcFleet is one agent, "agent", in a runc sandbox made from the base image.
func runcFleet(t testing.TB) (*fleet, *engine.Engine) {
	t.Helper()
	eng := enginetest.Runc(t)
	if _, err := eng.Create(context.Background(), sandbox.Spec{Name: "sb-agent"}, ""); err != nil {
		t.Fatal(err)
	}
	return &fleet{m: eng, agents: map[string][2]string{"agent": {"agt_1", "sb-agent"}, "other": {"agt_2", "sb-agent"}}}, eng
}

// TestRuncSandbox logs in with OpenSSH's ssh to an agent whose sandbox is a real runc
// container: the command and the interactive shell run inside it (its own hostname and PID
// namespace, the guest as PID 1), and keys that are not granted are refused.
func TestRuncSandbox(t *testing.T) {
	needSSH(t)
	f, eng := runcFleet(t)
	g := startGateway(t, f, 0)
	ctx := context.Background()
	key, other, expired, revoked := newKey(t, g.dir, "k"), newKey(t, g.dir, "other"), newKey(t, g.dir, "expired"), newKey(t, g.dir, "revoked")
	mustGrant(t, g, "agt_1", key.line)
	mustGrant(t, g, "agt_2", other.line)
	exp := mustGrant(t, g, "agt_1", expired.line)
	exp.ExpiresAt = time.Now().Add(-time.Millisecond)
	if err := g.store.PutSSHGrant(ctx, exp); err != nil {
		t.Fatal(err)
	}

	if r := g.runSSH(t, key, "agent", "", "echo $((6*7))"); r.code != 0 || r.stdout != "42\n" {
		t.Fatalf("exec: %+v", r)
	}
	inside, err := eng.Exec(ctx, "sb-agent", manager.ExecRequest{Shell: "hostname; cat /proc/1/comm"})
	if err != nil {
		t.Fatal(err)
	}
	if r := g.runSSH(t, key, "agent", "", "hostname; cat /proc/1/comm"); r.code != 0 || r.stdout != string(inside.Stdout) {
		t.Errorf("ssh sees %q, the sandbox is %q", r.stdout, inside.Stdout)
	}
	host, _ := os.Hostname()
	if strings.HasPrefix(string(inside.Stdout), host+"\n") {
		t.Errorf("the sandbox has the host's hostname %q: the test proves nothing", host)
	}
	r := g.runSSH(t, key, "agent", "cd /tmp && echo made > f && echo tty=$(tty | cut -c1-8) $((6*7)) $(cat f); exit 7\n", "-tt", "")
	if r.code != 7 || !strings.Contains(r.stdout, "tty=/dev/pts 42 made") {
		t.Errorf("interactive shell: %+v", r)
	}
	if got, _ := eng.Exec(ctx, "sb-agent", manager.ExecRequest{Shell: "cat /tmp/f"}); got == nil || string(got.Stdout) != "made\n" {
		t.Errorf("the shell's file is not in the sandbox: %+v", got)
	}

	mustGrant(t, g, "agt_1", revoked.line)
	if r := g.runSSH(t, revoked, "agent", "", "true"); r.code != 0 {
		t.Fatalf("before revoke: %+v", r)
	}
	if err := g.keys.Revoke(ctx, "agt_2"); err != nil { // another agent's revoke changes nothing here
		t.Fatal(err)
	}
	if r := g.runSSH(t, revoked, "agent", "", "true"); r.code != 0 {
		t.Fatalf("after another agent's revoke: %+v", r)
	}
	if err := g.keys.Revoke(ctx, "agt_1"); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		key  keyPair
		user string
	}{"revoked": {revoked, "agent"}, "granted key revoked too": {key, "agent"}, "expired": {expired, "agent"},
		"another agent's key": {other, "agent"}, "wrong user": {key, "sb-agent"}} {
		if r := g.runSSH(t, c.key, c.user, "", "echo in"); r.code != 255 || r.stdout != "" || !strings.Contains(r.stderr, "Permission denied") {
			t.Errorf("%s: %+v, want permission denied", name, r)
		}
	}
}

// BenchmarkExecRoundTrip runs `true` in a runc sandbox: through the gateway on an open
// connection (a session per command, the Go client), through OpenSSH's ssh (a connection,
// handshake and login per command), and through manager.Exec directly.
func BenchmarkExecRoundTrip(b *testing.B) {
	f, eng := runcFleet(b)
	g := startGateway(b, f, 0)
	key := newKey(b, g.dir, "k")
	mustGrant(b, g, "agt_1", key.line)
	ctx := context.Background()
	b.Run("manager.Exec", func(b *testing.B) {
		for b.Loop() {
			if res, err := eng.Exec(ctx, "sb-agent", manager.ExecRequest{Shell: "true"}); err != nil || res.ExitCode != 0 {
				b.Fatal(res, err)
			}
		}
	})
	b.Run("gateway-session", func(b *testing.B) {
		c, err := g.dial(b, key, "agent")
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		for b.Loop() {
			s, err := c.NewSession()
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Run("true"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("openssh-client", func(b *testing.B) {
		needSSH(b)
		for b.Loop() {
			if r := g.runSSH(b, key, "agent", "", "true"); r.code != 0 {
				b.Fatal(r)
			}
		}
	})
}
