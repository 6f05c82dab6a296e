// Package servertest serves the whole Paddock HTTP layer on the fake driver, without root, for
// the surfaces' package tests: a temporary data dir, an API key and an httptest server. The
// fake driver's sandboxes are real guests served in-process whose processes run on the host,
// unisolated; the real-runc tests in internal/server are the integration layer above these.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/server"
	"github.com/paddock/paddock/internal/testenv"
)

// Key is the API key every test server accepts.
const Key = "e2b_0123456789abcdef0123456789abcdef01234567"

// NoKey, as the key of a request, sends none.
const NoKey = "-"

// Server is a Paddock server on the fake driver, closed when the test ends.
type Server struct {
	URL     string
	DataDir string
	Srv     *server.Server
	Driver  *fake.Driver
	Logs    *Logs

	t testing.TB
}

// New starts a server with the test key, no warm pools and a fast reaper; mutate changes
// the configuration before it starts.
func New(t testing.TB, mutate ...func(*config.Config)) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = testenv.TempDir(t)
	cfg.APIKey = Key
	cfg.PoolSize = 0
	cfg.ReapInterval = 50 * time.Millisecond
	for _, f := range mutate {
		f(&cfg)
	}
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &Logs{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.New(context.Background(), cfg, server.Options{Version: "test", Driver: drv, Images: Images{}}, log)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx := context.Background()
		// Delete what the test left, by ID, while the engine is still open: the fake
		// driver's guests serve from this process and their processes run on the host.
		if sbs, err := srv.Engine().List(ctx, sandbox.ListFilter{}); err == nil {
			for _, sb := range sbs {
				if err := srv.Engine().Delete(ctx, sb.ID); err != nil {
					t.Errorf("cleanup: delete %s: %v", sb.Name, err)
				}
			}
		}
		srv.Close(ctx)
	})
	return &Server{URL: hs.URL, DataDir: cfg.DataDir, Srv: srv, Driver: drv, Logs: logs, t: t}
}

// Images resolves the built-in "base" (and "") to an image without layers, which is all
// the fake driver needs; anything else is not found.
type Images struct{}

var _ sandbox.ImageResolver = Images{}

// Resolve implements sandbox.ImageResolver.
func (Images) Resolve(_ context.Context, ref string) (*sandbox.Image, error) {
	if ref == "" || ref == "base" {
		return &sandbox.Image{Ref: "base", Config: sandbox.ImageConfig{Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin"}}}, nil
	}
	return nil, errdefs.NotFound("image %q not found", ref)
}

// Request is one request to the server.
type Request struct {
	Method, Path string
	Body         any    // nil, a string (sent as is), []byte, or a value sent as JSON
	Key          string // "" = the test key, NoKey = none, otherwise this key
	Header       http.Header
}

// Do sends r and returns the response with its body read.
func (s *Server) Do(r Request) (*http.Response, []byte) {
	s.t.Helper()
	var rd io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(r.Method, s.URL+r.Path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	switch r.Key {
	case "":
		req.Header.Set("X-API-Key", Key)
	case NoKey:
	default:
		req.Header.Set("X-API-Key", r.Key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: read body: %v", r.Method, r.Path, err)
	}
	return resp, body
}

// JSON sends a request with the test key and decodes the answer into out (unless nil),
// failing the test when the answer is not JSON. It returns the status.
func (s *Server) JSON(method, path string, body, out any) int {
	s.t.Helper()
	resp, raw := s.Do(Request{Method: method, Path: path, Body: body})
	Decode(s.t, raw, out)
	return resp.StatusCode
}

// Decode unmarshals raw into out (unless nil), failing t when raw is not JSON.
func Decode(t testing.TB, raw []byte, out any) {
	t.Helper()
	if out == nil {
		out = new(any)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("not JSON (%v): %.300s", err, raw)
	}
}

// Logs is the server's log, safe for concurrent writes.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
