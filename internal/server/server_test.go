package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/testenv"
)

const testKey = "e2b_0123456789abcdef0123456789abcdef01234567"

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// printErrors logs the server's error lines (the causes behind 500s, which answers never
// carry), at most the last 40, so that a failure in CI says why.
func printErrors(t testing.TB, logs string) {
	var errs []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			errs = append(errs, line)
		}
	}
	if n := len(errs); n > 40 {
		t.Logf("server: %d error lines; the last 40:", n)
		errs = errs[n-40:]
	}
	for _, line := range errs {
		t.Logf("server: %s", line)
	}
}

type testServer struct {
	t    testing.TB
	url  string
	logs *syncBuffer
	srv  *Server
}

func newTestServer(t testing.TB, mutate ...func(*config.Config)) *testServer {
	t.Helper()
	return newTestServerWith(t, Options{}, mutate...)
}

// newTestServerWith is newTestServer with server options (a listener for the SSH gateway).
func newTestServerWith(t testing.TB, opts Options, mutate ...func(*config.Config)) *testServer {
	t.Helper()
	testenv.NeedRunc(t)
	cfg := config.Default()
	cfg.DataDir = testenv.TempDir(t)
	cfg.APIKey = testKey
	cfg.PoolSize = 2
	cfg.ReapInterval = 50 * time.Millisecond
	cfg.EgressDNS = []string{testenv.NoDNS}
	for _, f := range mutate {
		f(&cfg)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Version, opts.GuestBinary = "test", testenv.PaddockBinary(t)
	srv, err := New(context.Background(), cfg, opts, log)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		if t.Failed() {
			printErrors(t, logs.String())
		}
		hs.Close()
		ctx := context.Background()
		srv.eng.WaitDiscards()
		// Remove what the test left running, while the engine is still open.
		sbs, err := srv.eng.List(ctx, noFilter)
		if err != nil {
			t.Errorf("cleanup: list sandboxes: %v", err)
		}
		for _, sb := range sbs {
			if err := srv.eng.Delete(ctx, sb.ID); err != nil {
				t.Errorf("cleanup: delete %s: %v", sb.Name, err)
			}
		}
		srv.close(ctx)
		if left := mountsUnder(cfg.DataDir); len(left) > 0 {
			t.Errorf("test left mounts behind: %v", left)
		}
	})
	return &testServer{t: t, url: hs.URL, logs: logs, srv: srv}
}

// envelope is the native surface's answer.
type envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   string          `json:"error"`
}

// call sends a request with the test key (unless key is "-") and decodes the envelope.
func (s *testServer) call(method, path string, body any, key string) (int, envelope) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	switch key {
	case "":
		req.Header.Set("X-API-Key", testKey)
	case "-":
	default:
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var env envelope
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &env); err != nil {
		s.t.Fatalf("%s %s: not an envelope: %s", method, path, raw)
	}
	return resp.StatusCode, env
}

// data decodes an envelope's data into v.
func data[T any](t testing.TB, env envelope) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(env.Data, &v); err != nil {
		t.Fatalf("data %s: %v", env.Data, err)
	}
	return v
}

// mountsUnder lists mount points below dir.
func mountsUnder(dir string) []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			out = append(out, f[4])
		}
	}
	return out
}
