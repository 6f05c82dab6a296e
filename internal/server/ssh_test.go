package server_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/server"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/sshgate"
	"github.com/paddock/paddock/internal/testenv"
)

// oneAgent is a fleet of one agent, "agent" (ID agt_1), in sandbox "sb" of srv.
type oneAgent struct{ srv *server.Server }

func (a *oneAgent) AgentID(_ context.Context, name string) (string, error) {
	if name != "agent" {
		return "", errdefs.NotFound("agent %q not found", name)
	}
	return "agt_1", nil
}

func (a *oneAgent) Open(ctx context.Context, name string, cmd manager.Command) (sshgate.Process, error) {
	if name != "agent" {
		return nil, errdefs.NotFound("agent %q not found", name)
	}
	cmd.User = servertest.User
	p, err := a.srv.Engine().StartProcess(ctx, "sb", cmd)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// TestServeSSHGateway: with an SSH listener, the server runs the gateway over its own
// database and a host key kept in the data dir; a key granted through SSHKeys logs in.
func TestServeSSHGateway(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg := config.Default()
	cfg.DataDir, cfg.APIKey, cfg.PoolSize = testenv.TempDir(t), servertest.Key, 0
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	sshLn, err := server.ListenSSH("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fleet := &oneAgent{}
	srv, err := server.New(ctx, cfg, server.Options{Version: "test", Driver: drv, Images: &servertest.Images{},
		SSHListener: sshLn, SSHAgents: fleet}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	fleet.srv = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		if sb, err := srv.Engine().Get(context.Background(), "sb"); err == nil {
			_ = srv.Engine().Delete(context.Background(), sb.ID)
		}
		cancel()
		<-served
	})
	if _, err := srv.Engine().Create(ctx, sandbox.Spec{Name: "sb"}, ""); err != nil {
		t.Fatal(err)
	}

	keys, addr := srv.SSHKeys()
	if keys == nil || addr != sshLn.Addr().String() {
		t.Fatalf("SSHKeys = %v, %q", keys, addr)
	}
	acc, err := keys.Access(ctx, "agt_1", "agent", addr, sshgate.NewAccessRequest())
	if err != nil {
		t.Fatal(err)
	}
	if acc.Connection.Port != sshLn.Addr().(*net.TCPAddr).Port {
		t.Errorf("connection = %+v", acc.Connection)
	}
	signer, err := ssh.ParsePrivateKey([]byte(acc.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	hkFile := filepath.Join(cfg.DataDir, sshgate.HostKeyFile)
	hk, err := sshgate.LoadOrCreateHostKey(hkFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(hkFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("host key file: %v %v", fi, err)
	}
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "agent", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(hk.PublicKey()), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("login (the host key must be the data dir's): %v", err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Output("echo $((6*7)) $(id -u)")
	if err != nil || string(out) != "42 "+strconv.Itoa(os.Geteuid())+"\n" {
		t.Errorf("exec: %q %v", out, err)
	}
	// Revoking the agent's grants (as deleting it does) refuses the next login.
	if err := keys.Revoke(ctx, "agt_1"); err != nil {
		t.Fatal(err)
	}
	if c2, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "agent", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(hk.PublicKey()), Timeout: 10 * time.Second}); err == nil {
		c2.Close()
		t.Error("login after revoke accepted")
	}
}
