package server

import (
	"encoding/json"
	"testing"

	"github.com/paddock/paddock/internal/config"
)

// userKey makes a user with role user and returns a key of theirs.
func (s *testServer) userKey(email string) string {
	s.t.Helper()
	if code, env := s.call("POST", "/users", map[string]any{"email": email}, ""); code != 201 {
		s.t.Fatalf("create %s: %d %s", email, code, env.Error)
	}
	code, env := s.call("POST", "/users/"+email+"/keys", map[string]any{}, "")
	var k struct{ Key string }
	if code != 201 || json.Unmarshal(env.Data, &k) != nil || k.Key == "" {
		s.t.Fatalf("key of %s: %d %s", email, code, env.Error)
	}
	return k.Key
}

// TestE2BConnectOtherUser (real runc): bob's E2B connect, timeout and kill on alice's sandbox
// answer 404 and leave it running; alice's own connect and the admin's work.
func TestE2BConnectOtherUser(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	alice, bob := s.userKey("alice@example.com"), s.userKey("bob@example.com")
	as := func(key string) map[string]string { return map[string]string{"X-API-KEY": key} }
	code, raw, _ := s.e2bCall("POST", "/e2b/v1/v2/sandboxes", map[string]any{"templateID": "base", "timeout": 120}, as(alice))
	var sb e2bSandbox
	if code != 201 || json.Unmarshal(raw, &sb) != nil {
		t.Fatalf("alice creates: %d %s", code, raw)
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/e2b/v1/sandboxes/" + sb.SandboxID + "/connect"},
		{"POST", "/e2b/v1/v2/sandboxes/" + sb.SandboxID + "/connect"},
		{"POST", "/e2b/v1/sandboxes/" + sb.SandboxID + "/timeout"},
		{"GET", "/e2b/v1/sandboxes/" + sb.SandboxID},
		{"DELETE", "/e2b/v1/sandboxes/" + sb.SandboxID},
	} {
		if code, raw, _ := s.e2bCall(c.method, c.path, map[string]any{"timeout": 60}, as(bob)); code != 404 {
			t.Errorf("bob %s %s: %d %s, want 404", c.method, c.path, code, raw)
		}
	}
	for who, key := range map[string]string{"alice": alice, "admin": testKey} {
		code, raw, _ := s.e2bCall("POST", "/e2b/v1/sandboxes/"+sb.SandboxID+"/connect", map[string]any{"timeout": 60}, as(key))
		var got e2bSandbox
		if (code != 200 && code != 201) || json.Unmarshal(raw, &got) != nil || got.SandboxID != sb.SandboxID || got.EnvdAccessToken == "" {
			t.Errorf("%s connects: %d %s", who, code, raw)
		}
	}
	// The guest still answers alice's commands: bob's attempts changed nothing.
	if code, out := s.dataPlane(sb.SandboxID, 49983, "GET", "/health", sb.EnvdAccessToken, "", nil); code >= 300 {
		t.Errorf("guest health after bob's attempts: %d %s", code, out)
	}
}
