package sshgate_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/sshgate"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// images resolves "base" to an empty image; processes of the fake driver run on the host.
type images struct{}

func (images) Resolve(_ context.Context, ref string) (*sandbox.Image, error) {
	if ref == "" || ref == "base" {
		return &sandbox.Image{Ref: "base"}, nil
	}
	return nil, errdefs.NotFound("image %q not found", ref)
}

// fakeFleet is two agents, alpha and beta, on the fake driver (processes on the host).
func fakeFleet(t testing.TB) *fleet {
	t.Helper()
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: memory.New(), Images: images{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	for _, n := range []string{"sb-alpha", "sb-beta"} {
		if _, err := m.Create(context.Background(), sandbox.Spec{Name: n}, ""); err != nil {
			t.Fatal(err)
		}
	}
	return &fleet{m: m, agents: map[string][2]string{"alpha": {"agt_alpha", "sb-alpha"}, "beta": {"agt_beta", "sb-beta"}}}
}

// TestOpenSSHClient logs in with OpenSSH's ssh: a command, its stdin, stderr and exit
// status, and an interactive shell on a terminal (ssh -tt fed by stdin).
func TestOpenSSHClient(t *testing.T) {
	needSSH(t)
	g := startGateway(t, fakeFleet(t), 0)
	key := newKey(t, g.dir, "id_alpha")
	if _, err := g.keys.Grant(context.Background(), "agt_alpha", key.line, 1); err != nil {
		t.Fatal(err)
	}
	if r := g.runSSH(t, key, "alpha", "", "echo $((6*7))"); r.code != 0 || r.stdout != "42\n" {
		t.Errorf("exec: %+v", r)
	}
	if r := g.runSSH(t, key, "alpha", "", "echo out; echo err >&2; exit 3"); r.code != 3 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Errorf("streams and status: %+v", r)
	}
	if r := g.runSSH(t, key, "alpha", "piped\n", "tr a-z A-Z"); r.code != 0 || r.stdout != "PIPED\n" {
		t.Errorf("stdin: %+v", r)
	}
	r := g.runSSH(t, key, "alpha", "echo tty=$(tty | cut -c1-8) $((6*7)); exit 5\n", "-tt", "")
	if r.code != 5 || !strings.Contains(r.stdout, "tty=/dev/pts 42") {
		t.Errorf("interactive shell on a terminal: %+v", r)
	}
}

// TestLoginRefused: every login that a grant does not cover is refused before a session.
func TestLoginRefused(t *testing.T) {
	needSSH(t)
	g := startGateway(t, fakeFleet(t), 0)
	ctx := context.Background()
	granted, other, expired, revoked := newKey(t, g.dir, "granted"), newKey(t, g.dir, "other"),
		newKey(t, g.dir, "expired"), newKey(t, g.dir, "revoked")
	if _, err := g.keys.Grant(ctx, "agt_beta", granted.line, 1); err != nil {
		t.Fatal(err)
	}
	exp := mustGrant(t, g, "agt_alpha", expired.line)
	exp.ExpiresAt = time.Now().Add(-time.Second)
	if err := g.store.PutSSHGrant(ctx, exp); err != nil {
		t.Fatal(err)
	}
	mustGrant(t, g, "agt_alpha", revoked.line)
	if err := g.keys.Revoke(ctx, "agt_alpha"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		key  keyPair
		user string
	}{
		{"key for another agent", granted, "alpha"},
		{"key never granted", other, "beta"},
		{"expired key", expired, "alpha"},
		{"revoked key", revoked, "alpha"},
		{"wrong user", granted, "nobody"},
		{"root", granted, "root"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := g.runSSH(t, c.key, c.user, "", "echo in")
			if r.code != 255 || strings.Contains(r.stdout, "in") || !strings.Contains(r.stderr, "Permission denied (publickey)") {
				t.Errorf("got %+v, want ssh's permission denied (255)", r)
			}
		})
	}
	if r := g.runSSH(t, granted, "beta", "", "echo in"); r.code != 0 || r.stdout != "in\n" {
		t.Errorf("the granted key itself: %+v", r)
	}
}

func mustGrant(t testing.TB, g *gateway, agentID, line string) *sshgate.Grant {
	t.Helper()
	iss, err := g.keys.Grant(context.Background(), agentID, line, 1)
	if err != nil {
		t.Fatal(err)
	}
	return &iss.Grant
}

// TestGeneratedKeyLogsIn: with no public key, the grant's private key (returned once) is a
// key OpenSSH's client logs in with, and nothing of it is stored.
func TestGeneratedKeyLogsIn(t *testing.T) {
	needSSH(t)
	g := startGateway(t, fakeFleet(t), 0)
	acc, err := g.keys.Access(context.Background(), "agt_alpha", "alpha", "127.0.0.1:18822", sshgate.NewAccessRequest())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(acc.PrivateKey, "-----BEGIN OPENSSH PRIVATE KEY-----") || acc.ExpiresInHours != 4 ||
		acc.Connection.User != "alpha" || acc.Connection.Port != 18822 || acc.Connection.Host != "127.0.0.1" ||
		!strings.Contains(acc.Connection.Command, "-p 18822 alpha@127.0.0.1") || len(acc.Instructions) == 0 {
		t.Errorf("access = %+v", acc)
	}
	if d := time.Until(acc.ExpiresAt); d < 3*time.Hour || d > 4*time.Hour {
		t.Errorf("expires in %s, want 4h", d)
	}
	key := writeKey(t, g.dir, "generated", []byte(acc.PrivateKey))
	if r := g.runSSH(t, key, "alpha", "", "echo $((6*7))"); r.code != 0 || r.stdout != "42\n" {
		t.Errorf("login with the generated key: %+v", r)
	}
	list, _ := g.store.ListSSHGrants(context.Background(), "agt_alpha")
	if len(list) != 1 || strings.Contains(list[0].PublicKey, "PRIVATE") {
		t.Errorf("stored grants = %+v", list)
	}
}

// TestSessionCutWhenGrantEnds: an open session ends at its key's expiry, and within the
// recheck interval of a revoke.
func TestSessionCutWhenGrantEnds(t *testing.T) {
	g := startGateway(t, fakeFleet(t), 100*time.Millisecond)
	ctx := context.Background()
	for _, end := range []string{"expiry", "revoke"} {
		t.Run(end, func(t *testing.T) {
			key := newKey(t, g.dir, "k-"+end)
			gr := mustGrant(t, g, "agt_alpha", key.line)
			c, err := g.dial(t, key, "alpha")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			s, err := c.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			out, _ := s.StdoutPipe()
			if err := s.Start("echo started; sleep 120"); err != nil {
				t.Fatal(err)
			}
			if line, _ := bufio.NewReader(out).ReadString('\n'); line != "started\n" {
				t.Fatalf("first line %q", line)
			}
			switch end {
			case "revoke":
				if err := g.keys.Revoke(ctx, "agt_alpha"); err != nil {
					t.Fatal(err)
				}
			case "expiry": // the grant is cut short once the session runs, whatever the load
				gr.ExpiresAt = time.Now().Add(300 * time.Millisecond)
				if err := g.store.PutSSHGrant(ctx, gr); err != nil {
					t.Fatal(err)
				}
			}
			// Wait returns once the gateway cuts the connection, long before sleep ends.
			var exitErr *ssh.ExitError
			if err := s.Wait(); err == nil || errors.As(err, &exitErr) {
				t.Errorf("wait = %v, want the connection cut", err)
			}
		})
	}
}

// TestTerminalResize: pty-req sets the terminal's size and window-change changes it (seen by
// stty in the session).
func TestTerminalResize(t *testing.T) {
	g := startGateway(t, fakeFleet(t), 0)
	key := newKey(t, g.dir, "k")
	mustGrant(t, g, "agt_alpha", key.line)
	c, err := g.dial(t, key, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPty("xterm", 40, 100, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	say := func(cmd, want string) {
		t.Helper()
		if _, err := io.WriteString(in, cmd+"\n"); err != nil {
			t.Fatal(err)
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %q: %v", want, err)
			}
			if strings.HasSuffix(strings.TrimSpace(line), want) { // after the prompt's escapes
				return
			}
		}
	}
	say("echo size=$(stty size)", "size=40 100")
	if err := s.WindowChange(50, 120); err != nil {
		t.Fatal(err)
	}
	// Requests are handled in order: the reply to this one means the resize is done.
	if _, err := s.SendRequest("sync@paddock", true, nil); err != nil {
		t.Fatal(err)
	}
	say("echo size=$(stty size)", "size=50 120")
	say("echo term=$TERM", "term=xterm")
	_, _ = io.WriteString(in, "exit 4\n")
	var exitErr *ssh.ExitError
	if err := s.Wait(); !errors.As(err, &exitErr) || exitErr.ExitStatus() != 4 {
		t.Errorf("wait = %v, want exit 4", err)
	}
}

// TestSessionStartFails: a stopped or vanished agent's session ends with a message and 255.
func TestSessionStartFails(t *testing.T) {
	f := fakeFleet(t)
	g := startGateway(t, f, 0)
	key := newKey(t, g.dir, "k")
	mustGrant(t, g, "agt_alpha", key.line)
	if _, err := f.m.(*manager.Manager).Stop(context.Background(), "sb-alpha"); err != nil {
		t.Fatal(err)
	}
	c, err := g.dial(t, key, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, _ := c.NewSession()
	out, err := s.CombinedOutput("true")
	var exitErr *ssh.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 255 || !strings.Contains(string(out), "agent is not running") {
		t.Errorf("stopped agent: %q %v", out, err)
	}
	// Only session channels: port forwarding is refused.
	if _, err := c.Dial("tcp", "127.0.0.1:22"); err == nil {
		t.Error("direct-tcpip accepted")
	}
}

func TestGrantBadInput(t *testing.T) {
	keys := sshgate.NewKeys(&memory.SSHGrants{}, nil)
	rsa := "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDDHr/jh2Jy4yALcK4JyWbVkPRaWmhck3IgCoeOO3z1e2dBowLh64QAM+Qb72pcdO8Ea7lJA6ap5ceXZAHm8x+EHDWF35UrtYrJG2NKrTNt8yyKEQuzZ5mCW0BeFZEFIHuvWVNgfCnZFQ1G4wWX+54p+Rx9fH4sLn+ykTl8qw== x"
	ed := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host"
	cases := []struct {
		name, key string
		ttl       float64
		field     string
	}{
		{"ttl too small", ed, 0.05, "ttl_hours"},
		{"ttl zero", ed, 0, "ttl_hours"},
		{"ttl too large", ed, 24.5, "ttl_hours"},
		{"rsa key", rsa, 1, "public_key"},
		{"garbage", "hello", 1, "public_key"},
		{"bad base64", "ssh-ed25519 AAAA!!!", 1, "public_key"},
		{"two lines", ed + "\n" + ed, 1, "public_key"},
		{"private key", "-----BEGIN OPENSSH PRIVATE KEY-----", 1, "public_key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := keys.Grant(context.Background(), "agt_x", c.key, c.ttl)
			if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), c.field) {
				t.Errorf("err = %v, want invalid argument naming %s", err, c.field)
			}
		})
	}
	if _, err := keys.Access(context.Background(), "agt_x", "x", "127.0.0.1:1", sshgate.AccessRequest{TTLHours: 1, AuthMethod: "password"}); !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "auth_method") {
		t.Errorf("password auth: %v", err)
	}
	for _, ttl := range []float64{0.1, 24} {
		if _, err := keys.Grant(context.Background(), "agt_x", ed, ttl); err != nil {
			t.Errorf("ttl %g: %v", ttl, err)
		}
	}
}

func TestHostKeyKept(t *testing.T) {
	path := testenv.TempDir(t) + "/" + sshgate.HostKeyFile
	a, err := sshgate.LoadOrCreateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sshgate.LoadOrCreateHostKey(path)
	if err != nil || string(a.PublicKey().Marshal()) != string(b.PublicKey().Marshal()) || a.PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Fatalf("second load: %v, same key %v", err, err == nil && string(a.PublicKey().Marshal()) == string(b.PublicKey().Marshal()))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("host key file: %v %v", fi, err)
	}
}

func FuzzParseAuthorizedKey(f *testing.F) {
	f.Add("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host")
	f.Add(`command="ls" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl`)
	f.Add("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDD x")
	f.Add("")
	f.Add("ssh-ed25519 AAAA\nssh-ed25519 AAAA")
	f.Fuzz(func(t *testing.T, line string) {
		pub, err := sshgate.ParseAuthorizedKey(line)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "public_key") {
				t.Fatalf("error %v is not an invalid argument naming public_key", err)
			}
			return
		}
		if pub.Type() != ssh.KeyAlgoED25519 {
			t.Fatalf("accepted a %s key", pub.Type())
		}
		// What is accepted round-trips through the stored form.
		again, err := sshgate.ParseAuthorizedKey(string(ssh.MarshalAuthorizedKey(pub)))
		if err != nil || string(again.Marshal()) != string(pub.Marshal()) {
			t.Fatalf("stored form of %q does not parse back: %v", line, err)
		}
	})
}

// TestClientLeavingKillsSession: when the client goes away, its session's process is killed
// (as sshd hangs up a session), not left running in the agent.
func TestClientLeavingKillsSession(t *testing.T) {
	g := startGateway(t, fakeFleet(t), 0)
	key := newKey(t, g.dir, "k")
	mustGrant(t, g, "agt_alpha", key.line)
	c, err := g.dial(t, key, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := c.NewSession()
	out, _ := s.StdoutPipe()
	if err := s.Start("echo $$; exec sleep 300"); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("pid line %q", line)
	}
	c.Close()
	// The fake driver's processes are the host's: wait for this one to be gone.
	deadline := time.Now().Add(20 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs 20s after its client left", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
