package server

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/config"
)

// TestOpenAPICoversEveryRoute checks /openapi.json against the patterns the server really
// registered: every route documented, nothing documented that does not exist.
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
	braces := regexp.MustCompile(`\{([a-z]+)\.\.\.\}`)
	var registered []string
	for _, op := range s.srv.operations {
		registered = append(registered, braces.ReplaceAllString(op.Pattern, "{$1}"))
	}
	sort.Strings(documented)
	sort.Strings(registered)
	if strings.Join(documented, "\n") != strings.Join(registered, "\n") {
		t.Errorf("documented:\n%s\n\nregistered:\n%s", strings.Join(documented, "\n"), strings.Join(registered, "\n"))
	}
	// Every documented route is really served: without a key each answers 401 (or 200 when public).
	for _, r := range registered {
		method, path, _ := strings.Cut(r, " ")
		path = regexp.MustCompile(`\{[a-z]+\}`).ReplaceAllString(path, "x")
		req, _ := http.NewRequest(method, s.url+path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 && !(resp.StatusCode == 200 && (path == "/health" || path == "/docs")) {
			t.Errorf("%s %s without a key: %d", method, path, resp.StatusCode)
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
