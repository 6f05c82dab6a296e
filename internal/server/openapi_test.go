package server

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/config"
)

// noRoute is in the 404 the server answers for a path no pattern matches (routeErrors); the
// surfaces' own 404s (unknown sandbox, kernel, image) say what was not found.
const noRoute = `no route `

// TestOpenAPICoversEveryRoute checks /openapi.json against the patterns the surfaces really
// mount (each surface's Routes(), and the server's own routes): every one is documented,
// and every documented route is really served — with a valid key, none answers the mux's
// 404 or a 405. Without a key each answers 401 unless it is public.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	req, _ := http.NewRequest("GET", s.url+"/openapi.json", nil)
	req.Header.Set("X-API-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("document: %v %q", err, doc.OpenAPI)
	}
	resp.Body.Close()
	var documented []string
	for path, item := range doc.Paths {
		for method, op := range item {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			if op["summary"] == "" || op["responses"] == nil {
				t.Errorf("%s %s lacks a summary or responses", method, path)
			}
		}
	}
	sort.Strings(documented)
	// Registered patterns, in the document's spelling ({path...} → {path}).
	braces := regexp.MustCompile(`\{([a-zA-Z]+)\.\.\.\}`)
	if len(s.srv.patterns) < 50 {
		t.Fatalf("only %d registered patterns: %v", len(s.srv.patterns), s.srv.patterns)
	}
	for _, p := range s.srv.patterns {
		if p = braces.ReplaceAllString(p, "{$1}"); !slices.Contains(documented, p) {
			t.Errorf("%s is registered but not in /openapi.json", p)
		}
	}
	// Documented routes that no surface lists in Routes() (the ports proxy routes, which
	// take any method, and E2B's 501 answers) must still be served: the probes below.
	client := &http.Client{Timeout: 30 * time.Second}
	probe := func(route, key string) (int, string) {
		method, path, _ := strings.Cut(route, " ")
		// Placeholders: a name no sandbox, kernel or image has; ports are numbers.
		path = strings.ReplaceAll(path, "{port}", "8080")
		path = regexp.MustCompile(`\{[a-zA-Z]+\}`).ReplaceAllString(path, "x")
		req, _ := http.NewRequest(method, s.url+path, strings.NewReader("{}"))
		if key != "" {
			req.Header.Set("X-API-Key", key)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", route, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, string(b)
	}
	for _, route := range documented {
		code, body := probe(route, testKey)
		if code == http.StatusMethodNotAllowed || (code == http.StatusNotFound && strings.Contains(body, noRoute)) {
			t.Errorf("%s is documented but not served: %d %q", route, code, body)
		}
	}
	for _, route := range documented {
		public := route == "GET /health" || route == "GET /healthz" || route == "GET /docs" || strings.HasPrefix(route, "GET /redoc") ||
			route == "GET /ui/"
		login := route == "POST /api/token"      // public; an empty form is a bad request
		webhook := route == "POST /webhooks/e2b" // signed, not keyed; off without a secret
		if code, body := probe(route, ""); code != 401 && !(public && code == 200) && !(login && code == 400) && !(webhook && code == 503) {
			t.Errorf("%s without a key: %d %q", route, code, body)
		}
	}
	// The reference page is self-contained: no external scripts or styles.
	resp, _ = http.Get(s.url + "/docs")
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "/openapi.json") || regexp.MustCompile(`(src|href)="https?://`).Match(page) {
		t.Error("/docs is missing or loads assets from elsewhere")
	}
}
