package ui

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/paddock/paddock/internal/testenv"
)

func testHandler() *Handler {
	big := strings.Repeat("console.log('paddock');\n", 200)
	return NewFS(fstest.MapFS{
		"index.html":          {Data: []byte(`<!doctype html><script type="module" src="/ui/assets/app-1a2b.js"></script>`)},
		"assets/app-1a2b.js":  {Data: []byte(big)},
		"assets/app-1a2b.css": {Data: []byte("body{}")},
		"favicon.svg":         {Data: []byte("<svg/>")},
	})
}

func TestServe(t *testing.T) {
	h := testHandler()
	for _, tc := range []struct {
		path, wantType, wantCache string
		wantCode                  int
		wantBody                  string
	}{
		{"/ui/", "text/html; charset=utf-8", "no-cache", 200, "<!doctype html>"},
		{"/ui/index.html", "text/html; charset=utf-8", "no-cache", 200, "<!doctype html>"},
		{"/ui/sandboxes/box/terminal", "text/html; charset=utf-8", "no-cache", 200, "<!doctype html>"}, // a client route
		{"/ui/assets/app-1a2b.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", 200, "console.log"},
		{"/ui/assets/app-1a2b.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable", 200, "body{}"},
		{"/ui/favicon.svg", "image/svg+xml", "no-cache", 200, "<svg/>"},
		{"/ui/assets/app-old.js", "", "", 404, ""}, // a stale hash is not the page
		{"/ui/../../etc/passwd", "text/html; charset=utf-8", "no-cache", 200, "<!doctype html>"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			if rec.Code != tc.wantCode {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantCode)
			}
			hdr := rec.Header()
			if got := hdr.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'self'") ||
				!strings.Contains(got, "script-src 'self';") || !strings.Contains(got, "frame-ancestors 'none'") {
				t.Errorf("CSP %q", got)
			}
			if hdr.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
			if tc.wantCode != 200 {
				return
			}
			if got := hdr.Get("Content-Type"); got != tc.wantType {
				t.Errorf("Content-Type %q, want %q", got, tc.wantType)
			}
			if got := hdr.Get("Cache-Control"); got != tc.wantCache {
				t.Errorf("Cache-Control %q, want %q", got, tc.wantCache)
			}
			if !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Errorf("body %.80q lacks %q", rec.Body.String(), tc.wantBody)
			}
		})
	}
}

func TestGzip(t *testing.T) {
	h := testHandler()
	req := httptest.NewRequest("GET", "/ui/assets/app-1a2b.js", nil)
	req.Header.Set("Accept-Encoding", "br, gzip;q=0.8")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.HasPrefix(plain, []byte("console.log")) || rec.Body.Len() >= len(plain) {
		t.Errorf("gzip body: %d bytes for %d", rec.Body.Len(), len(plain))
	}
	// gzip;q=0 refuses it; a tiny file is not worth compressing.
	for _, tc := range []struct{ path, enc string }{{"/ui/assets/app-1a2b.js", "gzip;q=0"}, {"/ui/favicon.svg", "gzip"}} {
		req := httptest.NewRequest("GET", tc.path, nil)
		req.Header.Set("Accept-Encoding", tc.enc)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Header().Get("Content-Encoding") != "" {
			t.Errorf("%s with %q: compressed", tc.path, tc.enc)
		}
	}
}

// TestEmbeddedBuild checks that the binary carries a real build: index.html loads a hashed
// script that is served.
func TestEmbeddedBuild(t *testing.T) {
	h := New()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/ui/", nil))
	body := rec.Body.String()
	i := strings.Index(body, `src="/ui/assets/`)
	if rec.Code != http.StatusOK || i < 0 {
		t.Fatalf("index.html: %d %.200s", rec.Code, body)
	}
	src := body[i+5:]
	src = src[:strings.IndexByte(src, '"')]
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", src, nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("%s: %d %s", src, rec.Code, rec.Header().Get("Content-Type"))
	}
}

// TestDistMatchesSources rebuilds the UI from ui/ into a temporary directory and checks
// that the committed internal/ui/dist is exactly that build (the build is deterministic).
func TestDistMatchesSources(t *testing.T) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		testenv.Require(t, "npm", "npm not in PATH: apt-get install npm")
	}
	src, _ := filepath.Abs("../../ui")
	if _, err := os.Stat(filepath.Join(src, "node_modules", "vite")); err != nil {
		testenv.Require(t, "npm", "the UI's packages are not installed: npm ci --prefix ui")
	}
	out := t.TempDir()
	cmd := exec.Command(npm, "run", "build")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "OUT_DIR="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm run build: %v\n%s", err, b)
	}
	want := map[string][]byte{}
	_ = filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			want[rel], _ = os.ReadFile(p)
		}
		return err
	})
	got := map[string][]byte{}
	_ = filepath.WalkDir("dist", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel("dist", p)
			got[rel], _ = os.ReadFile(p)
		}
		return err
	})
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("internal/ui/dist/%s differs from a fresh build: run npm run build --prefix ui and commit", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("internal/ui/dist/%s is not in a fresh build: run npm run build --prefix ui and commit", name)
		}
	}
}
