package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/server/servertest"
)

// users makes alice and bob (role user) on s and returns their keys; the admin is
// servertest.Key.
func users(t *testing.T, s *servertest.Server) (alice, bob string) {
	t.Helper()
	keys := map[string]string{}
	for _, email := range []string{"alice@example.com", "bob@example.com"} {
		if code, _, msg := call[client.User](t, s, "POST", "/users", client.CreateUserRequest{Email: email}, servertest.Key); code != 201 {
			t.Fatalf("create %s: %d %s", email, code, msg)
		}
		code, k, msg := call[client.NewAPIKey](t, s, "POST", "/users/"+email+"/keys", client.CreateKeyRequest{}, servertest.Key)
		if code != 201 {
			t.Fatalf("key of %s: %d %s", email, code, msg)
		}
		keys[email] = k.Key
	}
	return keys["alice@example.com"], keys["bob@example.com"]
}

// raw sends a request with key and returns the status and body, decoded into out (unless nil).
func raw(t *testing.T, s *servertest.Server, method, path string, body any, key string, out any) (int, string) {
	t.Helper()
	resp, b := s.Do(servertest.Request{Method: method, Path: path, Body: body, Key: key})
	if out != nil && len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

// createAs makes a native sandbox called name for key and returns its ID.
func createAs(t *testing.T, s *servertest.Server, name, key string) string {
	t.Helper()
	code, sb, msg := call[struct{ ID string }](t, s, "POST", "/sandboxes", map[string]any{"name": name}, key)
	if code != 201 {
		t.Fatalf("create %s: %d %s", name, code, msg)
	}
	return sb.ID
}

// TestOwnersKernelBox: alice's kernel is 404 for bob on every KernelBox route (by ID and by
// name), absent from his list; the same session name is two kernels; the admin lists and
// reads it; a sessions quota of 1 makes bob's second kernel 429 in KernelBox's shape.
func TestOwnersKernelBox(t *testing.T) {
	s := accountsServer(t)
	alice, bob := users(t, s)
	admin := servertest.Key
	var k struct {
		ID string `json:"kernel_id"`
	}
	if code, body := raw(t, s, "POST", "/kernels", map[string]any{"name": "ak", "language": "bash"}, alice, &k); code != 201 {
		t.Fatalf("alice creates a kernel: %d %s", code, body)
	}
	exec := map[string]any{"code": "echo hi"}
	for _, ref := range []string{k.ID, "ak"} {
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/kernels/" + ref, nil},
			{"POST", "/kernels/" + ref + "/execute", exec},
			{"POST", "/kernels/" + ref + "/execute/retry", exec},
			{"POST", "/kernels/" + ref + "/restart", nil},
			{"DELETE", "/kernels/" + ref, nil},
		} {
			var e struct{ Detail string }
			if code, body := raw(t, s, c.method, c.path, c.body, bob, &e); code != 404 || e.Detail == "" {
				t.Errorf("bob %s %s: %d %s, want 404 {detail}", c.method, c.path, code, body)
			}
		}
	}
	var list struct{ Kernels []map[string]any }
	if code, _ := raw(t, s, "GET", "/kernels", nil, bob, &list); code != 200 || len(list.Kernels) != 0 {
		t.Errorf("bob lists %d: %v", code, list.Kernels)
	}
	// Sessions are named per user: bob's "ak" is a kernel of his own.
	var res struct{ Status, Output string }
	if code, body := raw(t, s, "POST", "/sessions/ak/execute", map[string]any{"code": "echo bob", "language": "bash"}, bob, &res); code != 200 || res.Output != "bob\n" {
		t.Fatalf("bob's session ak: %d %s", code, body)
	}
	if code, _ := raw(t, s, "GET", "/kernels", nil, admin, &list); code != 200 || len(list.Kernels) != 2 {
		t.Errorf("admin lists %d kernels, want 2", len(list.Kernels))
	}
	if code, body := raw(t, s, "POST", "/kernels/"+k.ID+"/execute", exec, admin, &res); code != 200 || res.Output != "hi\n" {
		t.Errorf("admin executes in alice's kernel: %d %s", code, body)
	}
	if code, body := raw(t, s, "GET", "/kernels/ak", nil, alice, nil); code != 200 {
		t.Errorf("alice reads her kernel: %d %s", code, body)
	}

	// Sessions quota: bob holds one kernel; with a quota of 1 the next is refused.
	if code, _, msg := call[any](t, s, "PUT", "/users/bob@example.com/quota", map[string]any{"sessions": 1}, admin); code != 200 {
		t.Fatalf("set quota: %d %s", code, msg)
	}
	var e struct{ Detail string }
	code, body := raw(t, s, "POST", "/kernels", map[string]any{"language": "bash"}, bob, &e)
	if code != 429 || e.Detail != "quota exceeded: at most 1 code sessions, 1 in use" {
		t.Errorf("over the sessions quota: %d %s", code, body)
	}
	if code, body := raw(t, s, "POST", "/sessions/other/execute", exec, bob, &e); code != 429 {
		t.Errorf("a new session over the quota: %d %s", code, body)
	}
	if code, body := raw(t, s, "POST", "/sessions/ak/execute", exec, bob, nil); code != 200 {
		t.Errorf("bob's existing session still runs: %d %s", code, body)
	}
	if code, me, _ := call[client.Me](t, s, "GET", "/me", nil, bob); code != 200 || me.Quota == nil || me.Quota.Sessions == nil || *me.Quota.Sessions != 1 || me.Usage.Sessions != 1 {
		t.Errorf("bob's /me: %d %+v", code, me)
	}
	if code, body := raw(t, s, "POST", "/kernels", map[string]any{"language": "bash"}, admin, nil); code != 201 {
		t.Errorf("the admin has no quota: %d %s", code, body)
	}
}

// eventSandboxes lists the sandboxes named by the events key reads natively and on
// Agent-Sandbox's /api/v1/events.
func eventSandboxes(t *testing.T, s *servertest.Server, key string) (native, agentSandbox map[string]bool) {
	t.Helper()
	code, evs, msg := call[[]apitype.AuditEvent](t, s, "GET", "/events", nil, key)
	if code != 200 {
		t.Fatalf("/events: %d %s", code, msg)
	}
	native = map[string]bool{}
	for _, e := range evs {
		native[e.Sandbox] = true
	}
	var as struct {
		Data struct {
			Items []struct{ InvolvedObject struct{ Name string } }
		}
	}
	if code, body := raw(t, s, "GET", "/api/v1/events", nil, key, &as); code != 200 {
		t.Fatalf("/api/v1/events: %d %s", code, body)
	}
	agentSandbox = map[string]bool{}
	for _, it := range as.Data.Items {
		agentSandbox[it.InvolvedObject.Name] = true
	}
	return native, agentSandbox
}

// TestOwnersEvents: a user's audit listing (native /events, a sandbox's logs, Agent-Sandbox's
// /api/v1/events) shows their sandboxes' events and their own actions, not another user's;
// a share adds the shared sandbox's; the admin sees everything.
func TestOwnersEvents(t *testing.T) {
	s := accountsServer(t)
	alice, bob := users(t, s)
	admin := servertest.Key
	createAs(t, s, "alices", alice)
	createAs(t, s, "bobs", bob)
	for _, c := range []struct {
		who, key      string
		sees, notSees []string
	}{
		{"alice", alice, []string{"alices"}, []string{"bobs"}},
		{"bob", bob, []string{"bobs"}, []string{"alices"}},
		{"admin", admin, []string{"alices", "bobs"}, nil},
	} {
		native, as := eventSandboxes(t, s, c.key)
		for _, n := range c.sees {
			if !native[n] || !as[n] {
				t.Errorf("%s does not see %s's events (native %v, agent-sandbox %v)", c.who, n, native[n], as[n])
			}
		}
		for _, n := range c.notSees {
			if native[n] || as[n] {
				t.Errorf("%s sees %s's events (native %v, agent-sandbox %v)", c.who, n, native[n], as[n])
			}
		}
	}
	if code, _, _ := call[any](t, s, "GET", "/events?sandbox=alices", nil, bob); code != 200 {
		t.Errorf("bob filters by alice's sandbox: %d", code)
	} else if _, evs, _ := call[[]apitype.AuditEvent](t, s, "GET", "/events?sandbox=alices", nil, bob); len(evs) != 0 {
		t.Errorf("bob reads %d events of alices", len(evs))
	}
	if code, _, _ := call[any](t, s, "GET", "/sandboxes/alices/logs", nil, bob); code != 404 {
		t.Errorf("bob reads alice's sandbox logs: %d, want 404", code)
	}
	// bob's own account actions are his events.
	if code, _, msg := call[any](t, s, "POST", "/me/keys", map[string]any{"name": "second"}, bob); code != 201 {
		t.Fatalf("bob makes a key: %d %s", code, msg)
	}
	if _, evs, _ := call[[]apitype.AuditEvent](t, s, "GET", "/events?type=key_created", nil, bob); len(evs) != 1 || evs[0].UserEmail != "bob@example.com" {
		t.Errorf("bob's key_created events: %+v, want his one", evs)
	}
	if code, _, msg := call[any](t, s, "POST", "/sandboxes/alices/shares", map[string]any{"email": "bob@example.com", "role": "viewer"}, alice); code != 201 {
		t.Fatalf("share: %d %s", code, msg)
	}
	if native, as := eventSandboxes(t, s, bob); !native["alices"] || !as["alices"] {
		t.Errorf("bob does not see the shared sandbox's events (native %v, agent-sandbox %v)", native["alices"], as["alices"])
	}
	if code, _, _ := call[any](t, s, "GET", "/sandboxes/alices/logs", nil, bob); code != 200 {
		t.Errorf("bob reads the shared sandbox's logs: %d", code)
	}
}

// TestAdminOnlyChanges: a user changing templates, pools or images is 403 in each surface's
// error shape and changes nothing; reads stay open; the admin may.
func TestAdminOnlyChanges(t *testing.T) {
	s := accountsServer(t)
	_, bob := users(t, s)
	templates := `[{"name":"mine","description":"a test template","image":"base"}]`
	for _, c := range []struct {
		method, path string
		body         any
		agentSandbox bool
	}{
		{"PUT", "/templates", templates, false},
		{"POST", "/images/pull", map[string]any{"ref": "alpine:3"}, false},
		{"DELETE", "/images/base", nil, false},
		{"POST", "/images/prune", nil, false},
		{"POST", "/images/import?name=mine", "not a tar", false},
		{"POST", "/api/v1/config/templates", templates, true},
		{"POST", "/api/v1/config/sandbox-template", map[string]any{"image": "base"}, true},
		{"DELETE", "/api/v1/pool/code-interpreter-v1", nil, true},
	} {
		var shape struct {
			Success *bool
			Error   string
			Code    any
			Message string
		}
		code, body := raw(t, s, c.method, c.path, c.body, bob, &shape)
		okShape := shape.Success != nil && !*shape.Success && strings.Contains(shape.Error, "admin")
		if c.agentSandbox {
			okShape = shape.Code == float64(403) && strings.Contains(shape.Message, "admin")
		}
		if code != 403 || !okShape {
			t.Errorf("bob %s %s: %d %s, want 403 in the surface's shape naming admins", c.method, c.path, code, body)
		}
	}
	for _, path := range []string{"/templates", "/images", "/api/v1/config/templates", "/api/v1/pool"} {
		if code, body := raw(t, s, "GET", path, nil, bob, nil); code != 200 {
			t.Errorf("bob GET %s: %d %s", path, code, body)
		}
	}
	if code, body := raw(t, s, "GET", "/templates/mine", nil, servertest.Key, nil); code != 404 {
		t.Errorf("a refused change left template mine: %d %s", code, body)
	}
	if code, body := raw(t, s, "PUT", "/templates", templates, servertest.Key, nil); code != 200 {
		t.Errorf("admin PUT /templates: %d %s", code, body)
	}
}

// TestOwnersOtherSurfaces: alice's native sandbox is found on E2B by her and the admin and is
// 404 for bob there, in lists too; bob's port routes to it (API key) and Agent-Sandbox's
// get, delete, terminal and file routes are 404 for him and work for her.
func TestOwnersOtherSurfaces(t *testing.T) {
	s := accountsServer(t)
	alice, bob := users(t, s)
	admin := servertest.Key
	id := createAs(t, s, "alices", alice)
	for _, c := range []struct {
		who, key string
		want     int
	}{{"alice", alice, 200}, {"admin", admin, 200}, {"bob", bob, 404}} {
		for _, ref := range []string{id, "alices"} {
			if code, body := raw(t, s, "GET", "/e2b/v1/sandboxes/"+ref, nil, c.key, nil); code != c.want {
				t.Errorf("%s E2B GET %s: %d %s, want %d", c.who, ref, code, body, c.want)
			}
		}
		var list []struct{ SandboxID string }
		if code, body := raw(t, s, "GET", "/e2b/v1/v2/sandboxes", nil, c.key, &list); code != 200 || (len(list) == 1 && list[0].SandboxID == id) != (c.want == 200) {
			t.Errorf("%s E2B list: %d %s", c.who, code, body)
		}
	}
	if code, body := raw(t, s, "POST", "/e2b/v1/sandboxes/"+id+"/connect", map[string]any{"timeout": 60}, bob, nil); code != 404 {
		t.Errorf("bob connects: %d %s", code, body)
	}
	if code, body := raw(t, s, "POST", "/e2b/v1/sandboxes/"+id+"/timeout", map[string]any{"timeout": 60}, bob, nil); code != 404 {
		t.Errorf("bob sets the timeout: %d %s", code, body)
	}
	if code, body := raw(t, s, "DELETE", "/e2b/v1/sandboxes/"+id, nil, bob, nil); code != 404 {
		t.Errorf("bob kills on E2B: %d %s", code, body)
	}

	if code, body := raw(t, s, "GET", "/sandboxes/alices/ports/8080/", nil, bob, nil); code != 404 {
		t.Errorf("bob's port route: %d %s, want 404", code, body)
	}
	if code, body := raw(t, s, "GET", "/sandboxes/"+id+"/ports/8080/", nil, bob, nil); code != 404 {
		t.Errorf("bob's port route by ID: %d %s, want 404", code, body)
	}
	if code, body := raw(t, s, "GET", "/sandboxes/alices/ports/8080/", nil, alice, nil); code == 404 || code == 401 {
		t.Errorf("alice's port route: %d %s", code, body)
	}

	p := "/api/v1"
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", p + "/sandbox/alices", nil},
		{"POST", p + "/terminal/sandbox/alices", map[string]any{"command": "echo hi"}},
		{"GET", p + "/sandbox/files/alices?path=/tmp", nil},
		{"GET", p + "/sandbox/files/alices/download?path=/etc/hostname", nil},
		{"DELETE", p + "/sandbox/files/alices?path=/tmp/x", nil},
		{"GET", p + "/logs/sandbox/alices", nil},
		{"DELETE", p + "/sandbox/alices", nil},
	} {
		var e struct {
			Code    any
			Message string
		}
		if code, body := raw(t, s, c.method, c.path, c.body, bob, &e); code != 404 || e.Code != float64(404) {
			t.Errorf("bob %s %s: %d %s, want 404 {code, message}", c.method, c.path, code, body)
		}
	}
	var list struct {
		Data []map[string]any
	}
	if code, body := raw(t, s, "GET", p+"/sandbox", nil, bob, &list); code != 200 || strings.Contains(body, id) {
		t.Errorf("bob's Agent-Sandbox list: %d %s", code, body)
	}
	if code, body := raw(t, s, "GET", p+"/sandbox/alices", nil, alice, nil); code != 200 {
		t.Errorf("alice's Agent-Sandbox get: %d %s", code, body)
	}
	if code, body := raw(t, s, "DELETE", p+"/sandbox/alices", nil, alice, nil); code != 200 {
		t.Errorf("alice's Agent-Sandbox delete: %d %s", code, body)
	}
}
