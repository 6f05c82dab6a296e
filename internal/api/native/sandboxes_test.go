package native_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/api/native"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

type images struct{}

func (images) Resolve(_ context.Context, ref string) (*sandbox.Image, error) {
	if ref == "" || ref == "base" {
		return &sandbox.Image{Ref: "base"}, nil
	}
	return nil, errdefs.NotFound("image %q not found", ref)
}

// TestBackendIsTheDriversName serves the surface over the fake driver: the sandbox's
// backend is that driver's name, not a fixed "runc".
func TestBackendIsTheDriversName(t *testing.T) {
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: memory.New(), Images: images{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	api := native.New(m, &memory.Events{}, &memory.Runs{}, native.Options{}, nil)
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/sandboxes", "application/json", strings.NewReader(`{"name":"b1"}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		Data struct{ Backend string } `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != 201 || created.Data.Backend != drv.Name() {
		t.Fatalf("create: %d, backend %q, want %q", resp.StatusCode, created.Data.Backend, drv.Name())
	}
	resp, err = http.Get(srv.URL + "/sandboxes")
	if err != nil {
		t.Fatal(err)
	}
	var listed struct {
		Data []struct{ Backend string } `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&listed)
	resp.Body.Close()
	if len(listed.Data) != 1 || listed.Data[0].Backend != "fake" {
		t.Errorf("list: %+v", listed.Data)
	}
	if err := m.Delete(context.Background(), "b1"); err != nil {
		t.Error(err)
	}
}

// TestIdleTimeoutAndAutoResume: the native create takes E2B's lifecycle options by name,
// shows them back, and refuses what the manager cannot do, naming the field.
func TestIdleTimeoutAndAutoResume(t *testing.T) {
	s := newFakeSurface(t, native.Options{})
	code, body := s.do("POST", "/sandboxes", `{"name":"idle","idle_timeout":"10m","auto_resume":true}`, nil)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	t.Cleanup(func() { _ = s.m.Delete(context.Background(), "idle") })
	for _, path := range []string{"", "/idle"} {
		_, body = s.do("GET", "/sandboxes"+path, "", nil)
		if !strings.Contains(body, `"idle_timeout":"10m0s"`) || !strings.Contains(body, `"auto_resume":true`) {
			t.Errorf("GET /sandboxes%s lacks the options: %s", path, body)
		}
	}
	for _, c := range []struct{ body, want string }{
		{`{"name":"x1","idle_timeout":"soon"}`, "idle_timeout"},
		{`{"name":"x2","idle_timeout":"-1m"}`, "idle_timeout"},
		{`{"name":"x3","auto_resume":true}`, "auto"},
	} {
		code, body := s.do("POST", "/sandboxes", c.body, nil)
		if _, msg := envelope[any](t, body); code != 400 || !strings.Contains(strings.ToLower(msg), c.want) {
			t.Errorf("%s: %d %s, want 400 naming %s", c.body, code, body, c.want)
		}
	}
}
