// Package registrytest runs Debian's docker-registry (the CNCF distribution registry) on
// loopback for tests, with its configuration and storage in the test's temp dir, and builds
// the small images the tests push to it.
package registrytest

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/paddock/paddock/internal/testenv"
)

// Binary is where Debian's docker-registry package installs the registry.
const Binary = "/usr/bin/docker-registry"

// User and Password are the credentials of a registry started WithAuth. The hash below is
// bcrypt of Password (the registry's htpasswd accepts only bcrypt).
const (
	User         = "paddock"
	Password     = "paddock-test-pw"
	passwordHash = "$2b$04$sjmJSjXO/64LQjUcP.Md9uIBRoJFaOHDC13zUTMEru/ELAkARl4dq"
)

// Options change how the registry is started.
type Options struct {
	Auth bool // require User/Password (htpasswd)
}

// Registry is one running docker-registry.
type Registry struct {
	Host string // 127.0.0.1:port
	Dir  string // config and storage
	opts Options
	cmd  *exec.Cmd
	done chan struct{}

	mu       sync.Mutex
	requests []Request
	stopped  bool
}

// Request is one request the registry answered, from its own log.
type Request struct {
	Method, URI string
	Status      int
}

// Start runs a registry for t on a free loopback port and stops it (by PID) when t ends.
// It skips t (or fails it, when CI requires the component) without the package.
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		testenv.Require(t, "registry", "docker-registry not installed: apt-get install docker-registry")
	}
	r := &Registry{Dir: t.TempDir(), opts: opts, done: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.Host = ln.Addr().String()
	ln.Close()
	if err := r.writeConfig(); err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(Binary, "serve", filepath.Join(r.Dir, "config.yml"))
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stdout = io.Discard
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go r.readLog(stderr)
	t.Cleanup(r.Stop)
	if err := r.waitReady(10 * time.Second); err != nil {
		t.Fatalf("docker-registry on %s: %v", r.Host, err)
	}
	return r
}

func (r *Registry) writeConfig() error {
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
  formatter: json
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: paddock-test-secret
`, filepath.Join(r.Dir, "storage"), r.Host)
	if r.opts.Auth {
		htpasswd := filepath.Join(r.Dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(User+":"+passwordHash+"\n"), 0o600); err != nil {
			return err
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: paddock-test\n    path: %s\n", htpasswd)
	}
	return os.WriteFile(filepath.Join(r.Dir, "config.yml"), []byte(cfg), 0o600)
}

// readLog records the requests the registry logs: "response completed" entries, and
// "error authorizing context" ones for requests refused with an authentication challenge.
func (r *Registry) readLog(rd io.Reader) {
	defer close(r.done)
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e struct {
			Msg    string `json:"msg"`
			Method string `json:"http.request.method"`
			URI    string `json:"http.request.uri"`
			Status int    `json:"http.response.status"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		switch {
		case strings.HasPrefix(e.Msg, "response completed"):
		case strings.HasPrefix(e.Msg, "error authorizing context"):
			e.Status = http.StatusUnauthorized // answered with a challenge, logged only like this
		default:
			continue
		}
		r.mu.Lock()
		r.requests = append(r.requests, Request{Method: e.Method, URI: e.URI, Status: e.Status})
		r.mu.Unlock()
	}
}

func (r *Registry) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get("http://" + r.Host + "/v2/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the registry (by its PID) and waits for it; later requests find nothing
// listening. Safe to call more than once.
func (r *Registry) Stop() {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.stopped = true
	r.mu.Unlock()
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	<-r.done
}

// Requests returns the requests answered so far, in order. The registry logs a request
// once it has answered it, so callers wait for what they expect with WaitRequests.
func (r *Registry) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Settle waits until the registry has logged the requests answered before it was called:
// it sends a marker request and waits for its log entry (the registry logs a request just
// after answering it).
func (r *Registry) Settle(t testing.TB) {
	t.Helper()
	marker := fmt.Sprintf("/v2/?settle=%d", time.Now().UnixNano())
	resp, err := http.Get("http://" + r.Host + marker)
	if err != nil {
		t.Fatalf("settle: %v", err)
	}
	resp.Body.Close()
	for deadline := time.Now().Add(5 * time.Second); r.Count("", marker) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("settle: the registry did not log the marker request")
		}
	}
	time.Sleep(20 * time.Millisecond) // entries of requests answered just before the marker
}

// Count returns how many answered requests match method and contain uriPart.
func (r *Registry) Count(method, uriPart string) int {
	n := 0
	for _, q := range r.Requests() {
		if (method == "" || q.Method == method) && strings.Contains(q.URI, uriPart) {
			n++
		}
	}
	return n
}

// Push writes img to the registry as repo:tag ("test/busybox:1") and returns the
// reference to pull it by.
func (r *Registry) Push(t testing.TB, repoTag string, img v1.Image) string {
	t.Helper()
	ref := r.Host + "/" + repoTag
	parsed, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{remote.WithContext(context.Background())}
	if r.opts.Auth {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: User, Password: Password}))
	}
	if err := remote.Write(parsed, img, opts...); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}

// BlobPath is where the registry keeps a blob.
func (r *Registry) BlobPath(d v1.Hash) string {
	return filepath.Join(r.Dir, "storage", "docker", "registry", "v2", "blobs", d.Algorithm, d.Hex[:2], d.Hex, "data")
}

// DockerConfig writes a Docker config file holding this registry's credentials into a temp
// dir and points DOCKER_CONFIG at it for the rest of t.
func (r *Registry) DockerConfig(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(User + ":" + Password))
	b, _ := json.Marshal(map[string]any{"auths": map[string]any{r.Host: map[string]string{"auth": auth}}})
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}
