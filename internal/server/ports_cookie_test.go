package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/api/ports"
	"github.com/paddock/paddock/internal/config"
)

// TestPortRoutesStripTokenCookie: an app in a sandbox cannot plant Paddock's traffic-token
// cookie through any port route; its own cookies pass.
func TestPortRoutesStripTokenCookie(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	sb, err := client.New(s.url, testKey).CreateSandbox(context.Background(), client.CreateRequest{Name: "cookies"})
	if err != nil {
		t.Fatal(err)
	}
	s.startPortsrv("cookies", "8080")
	q := url.Values{"c": {
		ports.TokenCookie + "=planted; Path=/; Domain=paddock.test",
		"app=1; Path=/",
		"=" + ports.TokenCookie + "=planted",
	}}.Encode()
	for name, c := range map[string]struct{ path, host string }{
		"native":        {"/sandboxes/cookies/ports/8080/set-cookie?" + q, ""},
		"agent-sandbox": {"/sandbox/cookies/set-cookie?" + q, ""},
		"router":        {"/sandboxes/router/" + sb.ID + "/8080/set-cookie?" + q, ""},
		"e2b host":      {"/set-cookie?" + q, "8080-" + sb.ID + ".sandbox.paddock.test"},
	} {
		req, _ := http.NewRequest("GET", s.url+c.path, nil)
		req.Header.Set("X-API-Key", testKey)
		if c.host != "" {
			req.Host = c.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Values("Set-Cookie"); resp.StatusCode != 200 || !slices.Equal(got, []string{"app=1; Path=/"}) {
			t.Errorf("%s: %d with Set-Cookie %q, want 200 with the app's own cookie only", name, resp.StatusCode, got)
		}
	}
}
