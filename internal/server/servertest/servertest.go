// Package servertest serves the whole Paddock HTTP layer on the fake driver, without root, for
// the surfaces' package tests: a temporary data dir, an API key and an httptest server. The
// fake driver's sandboxes are real guests served in-process whose processes run on the host,
// unisolated; the real-runc tests in internal/server are the integration layer above these.
package servertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/server"
	"github.com/paddock/paddock/internal/template"
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
	writeTemplates(t, cfg)
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &Logs{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.New(context.Background(), cfg, server.Options{Version: "test", Driver: drv, Images: &Images{}}, log)
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

// User is who processes in the fake driver's sandboxes run as: the test's own user (the
// guest runs on the host, where it cannot switch users unless it is root, and where E2B's
// default user "user" does not exist).
var User = strconv.Itoa(os.Geteuid())

// writeTemplates overrides the built-in templates' default user with User, unless the test
// brought its own templates file.
func writeTemplates(t testing.TB, cfg config.Config) {
	t.Helper()
	if err := WriteTemplates(cfg); err != nil {
		t.Fatal(err)
	}
}

// WriteTemplates is writeTemplates for a process that is not a test (fakeserve).
func WriteTemplates(cfg config.Config) error {
	path := cfg.TemplatesFile
	if path == "" {
		path = filepath.Join(cfg.DataDir, "templates.json")
	}
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	ts := []template.Template{
		{Name: template.Base, Image: "base", Description: "base, as the test's user", User: User},
		{Name: template.CodeInterpreter, Image: "base", Description: "code interpreter, as the test's user", User: User, Port: 49999},
	}
	b, err := json.Marshal(ts)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// Images is an in-memory image store: "base" (and "") is built in, imports are kept by
// reference with one pretend layer, and every image resolves to no layers at all, which is
// all the fake driver needs. Safe for concurrent use.
type Images struct {
	mu       sync.Mutex
	imported map[string]sandbox.ImageInfo
}

var (
	_ sandbox.ImageResolver = (*Images)(nil)
	_ sandbox.ImageManager  = (*Images)(nil)
)

// baseConfig runs processes as User in the temporary directory (a user such as nobody may
// have no home).
var baseConfig = sandbox.ImageConfig{Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin"}, User: User, WorkingDir: os.TempDir()}

// Resolve implements sandbox.ImageResolver; unknown references are not found.
func (im *Images) Resolve(_ context.Context, ref string) (*sandbox.Image, error) {
	if ref == "" || ref == "base" {
		return &sandbox.Image{Ref: "base", Config: baseConfig}, nil
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	if _, ok := im.imported[ref]; ok {
		return &sandbox.Image{Ref: ref, Config: baseConfig}, nil
	}
	return nil, errdefs.NotFound("image %q not found", ref)
}

// ListImages implements sandbox.ImageManager.
func (im *Images) ListImages(context.Context) ([]sandbox.ImageInfo, error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	out := []sandbox.ImageInfo{{Ref: "base"}}
	for _, info := range im.imported {
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}

// RemoveImage implements sandbox.ImageManager.
func (im *Images) RemoveImage(_ context.Context, ref string, _ map[string]bool) error {
	im.mu.Lock()
	defer im.mu.Unlock()
	if _, ok := im.imported[ref]; !ok {
		return errdefs.NotFound("image %q not found", ref)
	}
	delete(im.imported, ref)
	return nil
}

// PruneImages implements sandbox.ImageManager: there are no loose layers to remove.
func (im *Images) PruneImages(context.Context, map[string]bool) (sandbox.PruneReport, error) {
	return sandbox.PruneReport{Layers: []string{}}, nil
}

// ImportImage implements sandbox.ImageManager: the archive's digest is its SHA-256.
func (im *Images) ImportImage(_ context.Context, ref string, archive io.Reader) (*sandbox.ImageInfo, error) {
	h := sha256.New()
	n, err := io.Copy(h, archive)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errdefs.InvalidArgument("the archive is empty")
	}
	info := sandbox.ImageInfo{Ref: ref, Digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), Layers: []string{"layer"}}
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.imported == nil {
		im.imported = map[string]sandbox.ImageInfo{}
	}
	im.imported[ref] = info
	return &info, nil
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

// Envelope is the native surface's answer.
type Envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   string          `json:"error"`
}

// Native sends a request with the test key and decodes the answer as a native envelope,
// failing the test when it is not one. It returns the status.
func (s *Server) Native(method, path string, body any) (int, Envelope) {
	s.t.Helper()
	return s.NativeKey(method, path, body, "")
}

// NativeKey is Native with a key ("" = the test key, NoKey = none).
func (s *Server) NativeKey(method, path string, body any, key string) (int, Envelope) {
	s.t.Helper()
	resp, raw := s.Do(Request{Method: method, Path: path, Body: body, Key: key})
	var env Envelope
	if err := json.Unmarshal(raw, &env); err != nil || (env.Success && env.Error != "") || (!env.Success && env.Error == "") {
		s.t.Fatalf("%s %s: not a native envelope (%d): %.300s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, env
}

// Data decodes an envelope's data.
func Data[T any](t testing.TB, env Envelope) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(env.Data, &v); err != nil {
		t.Fatalf("data %.300s: %v", env.Data, err)
	}
	return v
}

// Dir returns a directory for a test's files that the fake driver's guests (which run on the
// host) can use as a sandbox path, removed when the test ends.
func Dir(t testing.TB) string {
	t.Helper()
	dir := testenv.TempDir(t)
	// Processes of sandboxes may run as another user than the test.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Eventually polls cond until it holds, failing t (naming what it waited for) after 10 s.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
