package openapi

import (
	_ "embed"
	"encoding/json"
	"net/http"
)

//go:embed docs.html
var docsPage []byte

// JSONHandler serves the document.
func JSONHandler(doc map[string]any) http.Handler {
	b, _ := json.MarshalIndent(doc, "", "  ")
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
}

// DocsHandler serves the interactive reference: one self-contained page (no CDN) that loads
// /openapi.json with the API key the reader types in and can send requests.
func DocsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
		_, _ = w.Write(docsPage)
	})
}
