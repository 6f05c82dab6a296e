package native_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/api/native"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/testenv"
)

// noDiskLimits is a driver that cannot bound disks.
type noDiskLimits struct{ sandbox.Driver }

func serveNative(t *testing.T, drv sandbox.Driver) string {
	t.Helper()
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: memory.New(), Images: images{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	api := native.New(m, &memory.Events{}, &memory.Runs{}, native.Options{}, nil)
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDiskMBField checks that POST /sandboxes and POST /run take disk_mb, that sandboxes
// show it, that a bad size is a 400, and that a server that cannot enforce it says so with a
// 400 instead of ignoring it.
func TestDiskMBField(t *testing.T) {
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	url := serveNative(t, drv)
	if code, body := post(t, url+"/sandboxes", `{"name":"d1","disk_mb":100}`); code != 201 || !strings.Contains(body, `"disk_mb":100`) {
		t.Errorf("create with disk_mb 100: %d %s", code, body)
	}
	if code, body := post(t, url+"/sandboxes", `{"name":"d2"}`); code != 201 || !strings.Contains(body, `"disk_mb":2048`) {
		t.Errorf("create with the default: %d %s, want the profile's 2048", code, body)
	}
	if code, body := post(t, url+"/sandboxes", `{"name":"d3","disk_mb":1}`); code != 400 || !strings.Contains(body, "disk_mb") {
		t.Errorf("create with disk_mb 1: %d %s, want 400 naming disk_mb", code, body)
	}
	if code, body := post(t, url+"/run", `{"command":["true"],"disk_mb":64}`); code != 200 {
		t.Errorf("run with disk_mb 64: %d %s", code, body)
	}
	if code, body := post(t, url+"/run", `{"command":["true"],"disk_mb":-5}`); code != 400 || !strings.Contains(body, "disk_mb") {
		t.Errorf("run with disk_mb -5: %d %s, want 400 naming disk_mb", code, body)
	}

	drv2, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	url = serveNative(t, noDiskLimits{drv2})
	if code, body := post(t, url+"/sandboxes", `{"name":"n1","disk_mb":100}`); code != 400 || !strings.Contains(body, "disk_mb cannot be enforced") {
		t.Errorf("disk_mb where it cannot be enforced: %d %s, want 400 saying so", code, body)
	}
	if code, body := post(t, url+"/sandboxes", `{"name":"n2"}`); code != 201 || strings.Contains(body, "disk_mb") {
		t.Errorf("create without disk_mb where it cannot be enforced: %d %s, want 201 without disk_mb", code, body)
	}
}
