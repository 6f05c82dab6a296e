package native_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/api/native"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// fakeSurface serves the native surface over the fake driver (processes and files of its
// sandboxes are the host's) with one running sandbox called "box".
type fakeSurface struct {
	t   *testing.T
	url string
	m   *manager.Manager
}

func newFakeSurface(t *testing.T, opts native.Options) *fakeSurface {
	t.Helper()
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: memory.New(), Images: images{}})
	if err != nil {
		t.Fatal(err)
	}
	api := native.New(m, &memory.Events{}, &memory.Runs{}, opts, nil)
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		_ = m.Close(context.Background())
	})
	s := &fakeSurface{t: t, url: srv.URL, m: m}
	if code, body := s.do("POST", "/sandboxes", `{"name":"box"}`, nil); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	t.Cleanup(func() { _ = m.Delete(context.Background(), "box") })
	return s
}

// do sends a request and returns the status and body.
func (s *fakeSurface) do(method, path, body string, hdr map[string]string) (int, string) {
	s.t.Helper()
	resp := s.send(method, path, strings.NewReader(body), hdr)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (s *fakeSurface) send(method, path string, body io.Reader, hdr map[string]string) *http.Response {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.url+path, body)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp
}

// envelope decodes an answer of the surface.
func envelope[T any](t *testing.T, body string) (T, string) {
	t.Helper()
	var env struct {
		Success bool   `json:"success"`
		Data    T      `json:"data"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("not an envelope: %v: %.300s", err, body)
	}
	return env.Data, env.Error
}
