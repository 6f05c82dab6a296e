package kernelbox

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"net/http"
	"strings"
)

// The /redoc page and the ReDoc bundle it runs (see redoc/README.md), served from the
// binary: KernelBox serves ReDoc at /redoc, over the same OpenAPI document as /docs.
var (
	//go:embed redoc/index.html
	redocPage []byte
	//go:embed redoc/redoc.standalone.js.gz
	redocScript []byte
)

// redocCSP lets the page run its own script and ReDoc's, whose search runs in a worker made
// from a blob and whose styles are inline.
const redocCSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; " +
	"worker-src blob:; img-src 'self' data:; connect-src 'self'"

// Redoc serves GET /redoc (the page, which asks for the API key like /docs and loads
// /openapi.json with it) and GET /redoc/redoc.standalone.js. Both are public: they hold no
// API description.
func Redoc() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /redoc", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", redocCSP)
		_, _ = w.Write(redocPage)
	})
	mux.HandleFunc("GET /redoc/redoc.standalone.js", serveRedocScript)
	return mux
}

func serveRedocScript(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		_, _ = w.Write(redocScript)
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(redocScript))
	if err != nil {
		http.Error(w, "the ReDoc bundle is damaged", http.StatusInternalServerError)
		return
	}
	_, _ = io.Copy(w, zr)
}
