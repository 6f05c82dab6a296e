// Package ui serves the web UI at /ui/: the assets built from ui/ (Vite), embedded in the
// binary, with caching and security headers. The UI talks only to the public HTTP API.
package ui

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// Prefix is where the UI is served.
const Prefix = "/ui/"

//go:embed all:dist
var dist embed.FS

// CSP is the UI's Content-Security-Policy: its own scripts only (no inline script), no
// framing. Styles allow 'unsafe-inline' because xterm.js writes its glyph metrics into a
// <style> element; images allow data: for the PNG results of code cells.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one file of the build, with its gzipped form when that is smaller.
type asset struct {
	body, gz []byte
	ctype    string
}

// Handler serves the UI. Safe for concurrent use.
type Handler struct {
	files fs.FS
	once  sync.Once
	byURL map[string]*asset // "index.html", "assets/index-3f2a.js", ...
}

// New returns the handler of the embedded build.
func New() *Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return NewFS(sub)
}

// NewFS returns a handler serving the build in files (tests).
func NewFS(files fs.FS) *Handler { return &Handler{files: files} }

// load reads and compresses the build once, on first use (the whole build is ~100 KB).
func (h *Handler) load() {
	h.byURL = map[string]*asset{}
	_ = fs.WalkDir(h.files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(h.files, p)
		if err != nil {
			return err
		}
		a := &asset{body: body, ctype: mime.TypeByExtension(path.Ext(p))}
		if a.ctype == "" {
			a.ctype = "application/octet-stream"
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		if buf.Len() < len(body) {
			a.gz = buf.Bytes()
		}
		h.byURL[p] = a
		return nil
	})
}

// ServeHTTP answers GET and HEAD under Prefix. A path that names no file is a client route
// of the single-page app and gets index.html, except under assets/ (a stale hashed name
// must be a 404, not HTML the browser would try to run as a script).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(h.load)
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", CSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	name := strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(Prefix, "/"))
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	a, ok := h.byURL[name]
	switch {
	case ok && strings.HasPrefix(name, "assets/"):
		// Vite puts a content hash in every asset's name: it never changes.
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	case strings.HasPrefix(name, "assets/"):
		http.Error(w, "not found", http.StatusNotFound)
		return
	case ok && name != "index.html":
		hdr.Set("Cache-Control", "no-cache")
	default:
		if a = h.byURL["index.html"]; a == nil {
			http.Error(w, "the UI was not built into this binary", http.StatusNotFound)
			return
		}
		hdr.Set("Cache-Control", "no-cache")
	}
	hdr.Set("Content-Type", a.ctype)
	hdr.Add("Vary", "Accept-Encoding")
	body := a.body
	if a.gz != nil && acceptsGzip(r) {
		hdr.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
