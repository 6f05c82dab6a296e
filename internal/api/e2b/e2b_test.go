package e2b_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/paddock/paddock/internal/api/e2b"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/memory"
	"github.com/paddock/paddock/internal/template"
	"github.com/paddock/paddock/internal/testenv"
)

type images struct{}

func (images) Resolve(_ context.Context, ref string) (*sandbox.Image, error) {
	if ref == "" || ref == "base" {
		return &sandbox.Image{Ref: "base"}, nil
	}
	return nil, errdefs.NotFound("image %q not found", ref)
}

// plane is the E2B control plane served over the fake driver: real guests in-process, no
// root, no runc.
type plane struct {
	t     *testing.T
	url   string
	m     *manager.Manager
	store sandbox.Store
}

func newPlane(t *testing.T) *plane {
	t.Helper()
	drv, err := fake.New(testenv.TempDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	m, err := manager.New(context.Background(), manager.Config{Driver: drv, Store: store, Images: images{}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tmpls, err := template.Open(filepath.Join(dir, "templates.yaml"), template.Builtins(0, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e2b.New(m, tmpls, 1<<20, nil).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		sbs, _ := m.List(context.Background(), sandbox.ListFilter{})
		for _, sb := range sbs {
			_ = m.Delete(context.Background(), sb.ID)
		}
		_ = m.Close(context.Background())
		_ = tmpls.Close()
	})
	return &plane{t: t, url: srv.URL + e2b.Prefix, m: m, store: store}
}

// call sends a control-plane request and decodes a JSON object or array answer into out.
func (p *plane) call(method, path string, body any, out any) int {
	p.t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = bytes.NewReader([]byte(s))
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			p.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

// create makes a sandbox through the v2 route and returns its ID.
func (p *plane) create(body map[string]any) string {
	p.t.Helper()
	var got struct {
		SandboxID string `json:"sandboxID"`
	}
	if code := p.call("POST", "/v2/sandboxes", body, &got); code != 201 {
		p.t.Fatalf("create %v: %d", body, code)
	}
	return got.SandboxID
}

// edit changes a sandbox's record in the store, as the engine would.
func (p *plane) edit(id string, f func(*sandbox.Sandbox)) {
	p.t.Helper()
	sb, err := p.store.GetSandbox(context.Background(), id)
	if err != nil {
		p.t.Fatal(err)
	}
	f(sb)
	if err := p.store.UpdateSandbox(context.Background(), sb); err != nil {
		p.t.Fatal(err)
	}
}

func (p *plane) state(id string) sandbox.State {
	p.t.Helper()
	sb, err := p.m.Get(context.Background(), id)
	if err != nil {
		p.t.Fatal(err)
	}
	return sb.State
}
