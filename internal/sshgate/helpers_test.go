package sshgate_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sshgate"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// starter is what the test fleet needs of a manager (an engine or a bare manager).
type starter interface {
	StartProcess(ctx context.Context, idOrName string, cmd manager.Command) (*manager.Process, error)
}

// fleet stands in for internal/fleet: agents by name, each with an ID and a sandbox.
type fleet struct {
	m      starter
	agents map[string][2]string // name → {agent ID, sandbox name}
	user   string               // the user sessions run as ("" = the sandbox's default)
}

func (f *fleet) agentID(_ context.Context, name string) (string, error) {
	a, ok := f.agents[name]
	if !ok {
		return "", errdefs.NotFound("agent %q not found", name)
	}
	return a[0], nil
}

// Open implements sshgate.Opener.
func (f *fleet) Open(ctx context.Context, agent string, cmd manager.Command) (sshgate.Process, error) {
	a, ok := f.agents[agent]
	if !ok {
		return nil, errdefs.NotFound("agent %q not found", agent)
	}
	cmd.User = f.user
	p, err := f.m.StartProcess(ctx, a[1], cmd)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// gateway is a running gateway for tests.
type gateway struct {
	addr       string
	port       int
	keys       *sshgate.Keys
	store      *memory.SSHGrants
	knownHosts string // a known_hosts file naming the gateway's host key
	dir        string
}

// startGateway serves a gateway over f on a loopback port until t ends.
func startGateway(t testing.TB, f *fleet, recheck time.Duration) *gateway {
	t.Helper()
	dir := testenv.TempDir(t)
	hk, err := sshgate.LoadOrCreateHostKey(filepath.Join(dir, sshgate.HostKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	g := &gateway{store: &memory.SSHGrants{}, dir: dir}
	g.keys = sshgate.NewKeys(g.store, f.agentID)
	srv, err := sshgate.New(sshgate.Config{HostKey: hk, Keys: g.keys, Opener: f, Recheck: recheck})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close gateway: %v", err)
		}
	})
	g.addr = ln.Addr().String()
	g.port = ln.Addr().(*net.TCPAddr).Port
	g.knownHosts = filepath.Join(dir, "known_hosts")
	line := fmt.Sprintf("[127.0.0.1]:%d %s", g.port, ssh.MarshalAuthorizedKey(hk.PublicKey()))
	if err := os.WriteFile(g.knownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return g
}

// keyPair is a client key: its private key file (for ssh -i), its authorized_keys line and
// a signer (for the Go client).
type keyPair struct {
	file   string
	line   string
	signer ssh.Signer
}

// newKey writes a fresh ED25519 key pair under dir.
func newKey(t testing.TB, dir, name string) keyPair {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, name)
	if err != nil {
		t.Fatal(err)
	}
	return writeKey(t, dir, name, pem.EncodeToMemory(block))
}

// writeKey writes a private key in OpenSSH PEM (mode 0600, as ssh insists).
func writeKey(t testing.TB, dir, name string, pemBytes []byte) keyPair {
	t.Helper()
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return keyPair{file: file, signer: signer,
		line: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " " + name + "@test"}
}

// needSSH skips (or fails under PADDOCK_TEST_REQUIRE=ssh) without OpenSSH's client.
func needSSH(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("ssh")
	if err != nil {
		testenv.Require(t, "ssh", "OpenSSH client not in PATH: apt-get install openssh-client")
	}
	return path
}

// sshResult is how one run of the ssh client ended.
type sshResult struct {
	stdout, stderr string
	code           int
}

// runSSH runs OpenSSH's client against the gateway as user with key, stdin fed from in.
func (g *gateway) runSSH(t testing.TB, key keyPair, user, in string, args ...string) sshResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"-F", "/dev/null", "-i", key.file, "-p", strconv.Itoa(g.port),
		"-o", "UserKnownHostsFile=" + g.knownHosts, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20"}
	cmd := exec.CommandContext(ctx, needSSH(t), append(append(base, args[:len(args)-1]...), user+"@127.0.0.1", args[len(args)-1])...)
	cmd.Stdin = strings.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := sshResult{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("ssh: %v", err)
	}
	return res
}

// dial logs in with the Go client.
func (g *gateway) dial(t testing.TB, key keyPair, user string) (*ssh.Client, error) {
	t.Helper()
	hostKeys, err := os.ReadFile(g.knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	_, _, hk, _, _, err := ssh.ParseKnownHosts(hostKeys)
	if err != nil {
		t.Fatal(err)
	}
	return ssh.Dial("tcp", g.addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(key.signer)},
		HostKeyCallback: ssh.FixedHostKey(hk), Timeout: 20 * time.Second})
}
