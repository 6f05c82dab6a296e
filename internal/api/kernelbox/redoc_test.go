package kernelbox_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/api/kernelbox"
	"github.com/paddock/paddock/internal/testenv"
)

// redocServer serves /redoc and, behind the key "k", a small OpenAPI document.
func redocServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /redoc", kernelbox.Redoc())
	mux.Handle("GET /redoc/redoc.standalone.js", kernelbox.Redoc())
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != "k" {
			http.Error(w, "no key", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"openapi": "3.1.0", "info": map[string]any{"title": "Paddock", "version": "test"},
			"paths": map[string]any{"/kernels": map[string]any{"get": map[string]any{"summary": "List kernels: the ReDoc probe",
				"responses": map[string]any{"200": map[string]any{"description": "success"}}}}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestRedocServesItsOwnScript: the page loads ReDoc from this server (no CDN), gzipped or not.
func TestRedocServesItsOwnScript(t *testing.T) {
	srv := redocServer(t)
	resp, err := http.Get(srv.URL + "/redoc")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `src="/redoc/redoc.standalone.js"`) || strings.Contains(string(page), "https://") {
		t.Errorf("/redoc: %d, page loads something from elsewhere or not the script", resp.StatusCode)
	}
	for _, gz := range []bool{true, false} {
		req, _ := http.NewRequest("GET", srv.URL+"/redoc/redoc.standalone.js", nil)
		tr := &http.Transport{DisableCompression: true}
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			if body, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatal(err)
			}
		}
		js, _ := io.ReadAll(body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(js), `"2.5.0"`) || (resp.Header.Get("Content-Encoding") == "gzip") != gz {
			t.Errorf("script (gzip %v): %d, %d bytes, encoding %q", gz, resp.StatusCode, len(js), resp.Header.Get("Content-Encoding"))
		}
	}
}

// TestRedocPageInBrowser renders /redoc in headless Chromium with the key in the fragment:
// ReDoc fetched the document with it and rendered its operations.
func TestRedocPageInBrowser(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Require(t, "browser", "chromium not in PATH: apt-get install chromium")
	}
	srv := redocServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", srv.URL+"/redoc#key=k").Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	if !strings.Contains(dom, "List kernels: the ReDoc probe") || !strings.Contains(dom, "redoc-wrap") || strings.Contains(dom, `class="err"`) {
		t.Errorf("ReDoc did not render the document: %.3000s", dom[strings.Index(dom, "<body"):])
	}
}
