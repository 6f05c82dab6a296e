package guest

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/process"
)

func TestAccessTokenInitEnvsMetrics(t *testing.T) {
	settings := guestenv.New("0")
	h, svc := NewHandler(settings, process.NewDirectReaper(), nil)
	defer svc.Shutdown(0)
	srv := httptest.NewServer(h)
	defer srv.Close()
	do := func(method, path, body, token string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("X-Access-Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Before init: no token required; the first init sets one.
	if code, _ := do("POST", "/init", `{"accessToken":"s3cret","envVars":{"A":"1"},"defaultUser":"root"}`, ""); code != 204 {
		t.Fatalf("init: %d", code)
	}
	cases := []struct {
		method, path, body, token string
		want                      int
	}{
		{"GET", "/health", "", "", 204},
		{"GET", "/envs", "", "", 401},
		{"GET", "/envs", "", "wrong", 401},
		{"GET", "/envs", "", "s3cret", 200},
		{"GET", "/metrics", "", "s3cret", 200},
		{"POST", "/init", `{"accessToken":"mine"}`, "", 401}, // code in the sandbox cannot take over
		{"POST", "/init", `{not json`, "s3cret", 400},
		{"POST", "/process.Process/List", "{}", "", 401},
	}
	for _, c := range cases {
		if code, body := do(c.method, c.path, c.body, c.token); code != c.want {
			t.Errorf("%s %s (token %q): %d %s, want %d", c.method, c.path, c.token, code, body, c.want)
		}
	}
	_, body := do("GET", "/envs", "", "s3cret")
	var envs map[string]string
	if json.Unmarshal([]byte(body), &envs) != nil || envs["A"] != "1" {
		t.Errorf("envs = %s", body)
	}
	_, body = do("GET", "/metrics", "", "s3cret")
	var m map[string]any
	if json.Unmarshal([]byte(body), &m) != nil || m["cpu_count"] == nil || m["mem_total"] == nil || m["disk_total"] == nil {
		t.Errorf("metrics = %s", body)
	}
	_, body = do("GET", "/health", "", "")
	if body != "" {
		t.Errorf("health has a body: %q", body)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
