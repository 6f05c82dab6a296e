package server

import (
	"encoding/json"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/testenv"
)

// serverSubnet is the documentation range this package's test internet uses.
var serverSubnet = netip.MustParsePrefix("203.0.113.0/24")

// fetchScript prints the body of argv[1], or "ERR ..." when the request fails.
const fetchScript = `
import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())
except Exception as e:
    print("ERR", type(e).__name__, e)
`

// networkServer is a test server whose egress sandboxes resolve site.test to a test
// internet host.
func networkServer(t *testing.T) (*testServer, *testenv.Internet) {
	testenv.NeedRunc(t)
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		testenv.Require(t, "interpreters", "python3 not installed: apt-get install python3")
	}
	inet := testenv.StartInternet(t, serverSubnet)
	dns := testenv.StartDNS(t, map[string]netip.Addr{"site.test": inet.Addr})
	return newTestServer(t, func(c *config.Config) { c.EgressDNS = []string{dns.Addr} }), inet
}

// fetchIn runs fetchScript in a sandbox through the native exec API.
func (s *testServer) fetchIn(name, url string) string {
	s.t.Helper()
	code, env := s.call("POST", "/sandboxes/"+name+"/exec", map[string]any{"command": []string{"python3", "-c", fetchScript, url}}, "")
	if code != 200 {
		s.t.Fatalf("exec in %s: %d %s", name, code, env.Error)
	}
	return strings.TrimSpace(data[execOut](s.t, env).Stdout)
}

func TestNativeNetworkAPI(t *testing.T) {
	s, _ := networkServer(t)
	code, env := s.call("POST", "/sandboxes", map[string]any{"name": "web", "deny_out": []string{"site.test"}}, "")
	if code != 201 {
		t.Fatalf("create: %d %s", code, env.Error)
	}
	var v struct {
		Network string   `json:"network"`
		DenyOut []string `json:"deny_out"`
	}
	_ = json.Unmarshal(env.Data, &v)
	if v.Network != "egress" || len(v.DenyOut) != 1 {
		t.Errorf("created sandbox: %s", env.Data)
	}
	if got := s.fetchIn("web", "http://site.test/"); !strings.HasPrefix(got, "ERR") {
		t.Errorf("denied domain reachable: %q", got)
	}
	if code, env := s.call("PUT", "/sandboxes/web/network", map[string]any{"allow_out": []string{}}, ""); code != 200 {
		t.Fatalf("PUT network: %d %s", code, env.Error)
	}
	if got := s.fetchIn("web", "http://site.test/"); got != "hello from site.test" {
		t.Errorf("after opening the policy: %q", got)
	}
	// Run with a policy, in a throwaway sandbox.
	code, env = s.call("POST", "/run", map[string]any{"command": []string{"python3", "-c", fetchScript, "http://site.test/"},
		"deny_out": []string{"203.0.113.0/24"}}, "")
	if out := data[execOut](t, env).Stdout; code != 200 || !strings.HasPrefix(out, "ERR") {
		t.Errorf("run with deny_out: %d %q", code, out)
	}
	// Bad input names the entry or the problem.
	for _, c := range []struct {
		method, path string
		body         map[string]any
		want         int
		msg          string
	}{
		{"PUT", "/sandboxes/web/network", map[string]any{"deny_out": []string{"10.0.0.0/33"}}, 400, "10.0.0.0/33"},
		{"PUT", "/sandboxes/web/network", map[string]any{"allow_out": []string{"*.*.example.com"}}, 400, "*.*.example.com"},
		{"PUT", "/sandboxes/nope/network", map[string]any{}, 404, "nope"},
		{"POST", "/sandboxes", map[string]any{"name": "bad", "network": "none", "allow_out": []string{"example.com"}}, 400, "egress"},
		{"POST", "/sandboxes", map[string]any{"name": "bad", "network": "internet"}, 400, "network"},
	} {
		if code, env := s.call(c.method, c.path, c.body, ""); code != c.want || !strings.Contains(env.Error, c.msg) {
			t.Errorf("%s %s %v: %d %q, want %d naming %q", c.method, c.path, c.body, code, env.Error, c.want, c.msg)
		}
	}
	if code, _ := s.call("POST", "/sandboxes", map[string]any{"name": "quiet", "network": "none"}, ""); code != 201 {
		t.Fatal("create with network none failed")
	}
	if code, env := s.call("PUT", "/sandboxes/quiet/network", map[string]any{"deny_out": []string{"1.2.3.4"}}, ""); code != 409 {
		t.Errorf("policy on a sandbox without a network: %d %s, want 409", code, env.Error)
	}
	code, env = s.call("GET", "/events?type=policy_violation&sandbox=web", nil, "")
	if code != 200 || !strings.Contains(string(env.Data), "site.test") {
		t.Errorf("policy_violation events: %d %s", code, env.Data)
	}
}

func TestE2BNetworkSettings(t *testing.T) {
	s, _ := networkServer(t)
	code, body, _ := s.e2bCall("POST", "/e2b/v1/sandboxes", map[string]any{"templateID": "base", "allow_internet_access": false}, nil)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	var sb struct {
		SandboxID string `json:"sandboxID"`
	}
	_ = json.Unmarshal(body, &sb)
	if got := s.fetchIn(sb.SandboxID, "http://site.test/"); !strings.HasPrefix(got, "ERR") {
		t.Errorf("allow_internet_access false, yet: %q", got)
	}
	_, body, _ = s.e2bCall("GET", "/e2b/v1/sandboxes/"+sb.SandboxID, nil, nil)
	var d struct {
		AllowInternetAccess *bool `json:"allowInternetAccess"`
		Network             struct {
			DenyOut []string `json:"denyOut"`
		} `json:"network"`
	}
	_ = json.Unmarshal(body, &d)
	if d.AllowInternetAccess == nil || *d.AllowInternetAccess || len(d.Network.DenyOut) != 1 {
		t.Errorf("detail: %s", body)
	}
	// allowOut beats the deny-all entry for what it names.
	if code, body, _ := s.e2bCall("PUT", "/e2b/v1/sandboxes/"+sb.SandboxID+"/network",
		map[string]any{"allowOut": []string{"site.test"}, "allow_internet_access": false}, nil); code != 204 {
		t.Fatalf("PUT network: %d %s", code, body)
	}
	if got := s.fetchIn(sb.SandboxID, "http://site.test/"); got != "hello from site.test" {
		t.Errorf("allowOut site.test: %q", got)
	}
	code, body, _ = s.e2bCall("POST", "/e2b/v1/sandboxes", map[string]any{"templateID": "base", "network": map[string]any{"denyOut": []string{"203.0.113.0/24"}}}, nil)
	if code != 201 {
		t.Fatalf("create with denyOut: %d %s", code, body)
	}
	_ = json.Unmarshal(body, &sb)
	if got := s.fetchIn(sb.SandboxID, "http://site.test/"); !strings.HasPrefix(got, "ERR") {
		t.Errorf("denyOut ignored: %q", got)
	}
}
