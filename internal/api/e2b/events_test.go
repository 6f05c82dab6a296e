package e2b_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/server/servertest"
)

// userKeys makes users with role user and returns a key of each.
func userKeys(t *testing.T, s *servertest.Server, emails ...string) []string {
	t.Helper()
	var keys []string
	for _, email := range emails {
		if resp, b := s.Do(servertest.Request{Method: "POST", Path: "/users", Body: map[string]any{"email": email}}); resp.StatusCode != 201 {
			t.Fatalf("create %s: %d %s", email, resp.StatusCode, b)
		}
		resp, b := s.Do(servertest.Request{Method: "POST", Path: "/users/" + email + "/keys", Body: map[string]any{}})
		var env struct{ Data struct{ Key string } }
		if err := json.Unmarshal(b, &env); err != nil || resp.StatusCode != 201 || env.Data.Key == "" {
			t.Fatalf("key of %s: %d %s", email, resp.StatusCode, b)
		}
		keys = append(keys, env.Data.Key)
	}
	return keys
}

type wireEvent struct {
	Version, ID, Type string
	EventData         map[string]any
	SandboxID         string `json:"sandboxId"`
	TeamID            string `json:"sandboxTeamId"`
	TemplateID        string `json:"sandboxTemplateId"`
	ExecutionID       string `json:"sandboxExecutionId"`
	BuildID           string `json:"sandboxBuildId"`
	Timestamp         time.Time
}

func listEvents(t *testing.T, s *servertest.Server, path, key string) (int, []wireEvent) {
	t.Helper()
	code, raw := call(t, s, "GET", path, nil, key)
	var evs []wireEvent
	if code == 200 {
		if err := json.Unmarshal(raw, &evs); err != nil {
			t.Fatalf("%s: %s", path, raw)
		}
	}
	return code, evs
}

func typesOf(evs []wireEvent) string {
	var out []string
	for _, ev := range evs {
		out = append(out, strings.TrimPrefix(ev.Type, "sandbox.lifecycle."))
	}
	return strings.Join(out, " ")
}

// TestEventsAPI: a sandbox's lifecycle, whatever route caused each step, is listed in E2B's
// shape, pages with offset, limit and orderAsc, stays listed after the kill, and is the
// owner's alone: another user gets 404 for it and an empty team listing.
func TestEventsAPI(t *testing.T) {
	s := servertest.New(t)
	keys := userKeys(t, s, "alice@example.com", "bob@example.com")
	alice, bob := keys[0], keys[1]
	code, raw := call(t, s, "POST", "/v2/sandboxes", map[string]any{"templateID": "base", "timeout": 300}, alice)
	var sb created
	if code != 201 || json.Unmarshal(raw, &sb) != nil {
		t.Fatalf("create: %d %s", code, raw)
	}
	id := sb.SandboxID
	timeout := map[string]any{"timeout": 60}
	steps := []struct {
		method, path string
		body         any
	}{
		{"POST", "/sandboxes/" + id + "/timeout", timeout},
		{"POST", "/sandboxes/" + id + "/pause", nil},
		{"POST", "/sandboxes/" + id + "/connect", timeout},
		{"DELETE", "/sandboxes/" + id, nil},
	}
	for _, st := range steps {
		if code, raw := call(t, s, st.method, st.path, st.body, alice); code >= 300 {
			t.Fatalf("%s %s: %d %s", st.method, st.path, code, raw)
		}
	}
	code, evs := listEvents(t, s, "/events/sandboxes/"+id+"?orderAsc=true&limit=100", alice)
	if want := "created updated paused updated resumed killed"; code != 200 || typesOf(evs) != want {
		t.Fatalf("events: %d %q, want %q", code, typesOf(evs), want)
	}
	first := evs[0]
	if first.Version != "v1" || first.SandboxID != id || first.TemplateID != "base" || first.TeamID == "" || first.ExecutionID == "" || len(first.ID) != 36 {
		t.Errorf("created event: %+v", first)
	}
	if evs[1].EventData["set_timeout"] == nil {
		t.Errorf("updated event without set_timeout: %+v", evs[1])
	}
	if _, page := listEvents(t, s, "/events/sandboxes/"+id+"?offset=1&limit=2", alice); typesOf(page) != "resumed updated" {
		t.Errorf("newest first, offset 1, limit 2: %q", typesOf(page))
	}
	if _, team := listEvents(t, s, "/events/sandboxes?limit=1", alice); typesOf(team) != "killed" {
		t.Errorf("alice's latest event: %q", typesOf(team))
	}
	if code, _ := listEvents(t, s, "/events/sandboxes/"+id, bob); code != 404 {
		t.Errorf("bob reads alice's sandbox's events: %d, want 404", code)
	}
	if code, team := listEvents(t, s, "/events/sandboxes", bob); code != 200 || len(team) != 0 {
		t.Errorf("bob's team events: %d %v, want none", code, team)
	}
	if _, all := listEvents(t, s, "/events/sandboxes?limit=100", ""); len(all) != 6 {
		t.Errorf("the admin sees %d events, want 6", len(all))
	}
	for _, q := range []string{"limit=0", "limit=101", "offset=-1", "orderAsc=maybe"} {
		code, raw := call(t, s, "GET", "/events/sandboxes?"+q, nil, alice)
		wantError(t, q, code, raw, 400, strings.Split(q, "=")[0])
	}
}

type webhookView struct {
	ID, TeamID, Name, URL string
	Enabled               bool
	Events                []string
	CreatedAt             time.Time
}

// TestWebhooksAPI: register, list, get, update and delete in E2B's shapes; the secret is never
// shown again; bad registrations are refused; another user's webhook is not found.
func TestWebhooksAPI(t *testing.T) {
	s := servertest.New(t)
	keys := userKeys(t, s, "alice@example.com", "bob@example.com")
	alice, bob := keys[0], keys[1]
	body := map[string]any{"name": "My Sandbox Webhook", "url": "http://127.0.0.1:9/hook", "enabled": true,
		"events": []string{"sandbox.lifecycle.created", "sandbox.lifecycle.killed"}, "signatureSecret": "top-secret-value"}
	code, raw := call(t, s, "POST", "/events/webhooks", body, alice)
	var w webhookView
	if code != 201 || json.Unmarshal(raw, &w) != nil || w.ID == "" || w.TeamID == "" || !w.Enabled || len(w.Events) != 2 || w.CreatedAt.IsZero() {
		t.Fatalf("register: %d %s", code, raw)
	}
	if strings.Contains(string(raw), "top-secret-value") {
		t.Errorf("the registration answer shows the secret: %s", raw)
	}
	code, raw = call(t, s, "GET", "/events/webhooks", nil, alice)
	if code != 200 || strings.Contains(string(raw), "top-secret") || !strings.Contains(string(raw), w.ID) {
		t.Errorf("list: %d %s", code, raw)
	}
	code, raw = call(t, s, "PATCH", "/events/webhooks/"+w.ID, map[string]any{"enabled": false, "events": []string{"sandbox.lifecycle.paused"}}, alice)
	var upd webhookView
	if code != 200 || json.Unmarshal(raw, &upd) != nil || upd.Enabled || len(upd.Events) != 1 || upd.URL != w.URL || upd.Name != w.Name {
		t.Errorf("update: %d %s", code, raw)
	}
	for _, c := range []struct{ method, path string }{{"GET", "/events/webhooks/" + w.ID}, {"PATCH", "/events/webhooks/" + w.ID}, {"DELETE", "/events/webhooks/" + w.ID}} {
		code, raw := call(t, s, c.method, c.path, map[string]any{"enabled": true}, bob)
		wantError(t, "bob "+c.method, code, raw, 404, "not found")
	}
	if code, raw := call(t, s, "GET", "/events/webhooks", nil, bob); code != 200 || string(raw) != "[]\n" && string(raw) != "[]" {
		t.Errorf("bob's list: %d %s", code, raw)
	}
	for _, c := range []struct {
		body map[string]any
		says string
	}{
		{map[string]any{"url": "http://127.0.0.1:9/h", "events": []string{"sandbox.lifecycle.created"}}, "signatureSecret"},
		{map[string]any{"url": "ftp://x/h", "signatureSecret": "s"}, "url"},
		{map[string]any{"url": "http://u:p@127.0.0.1/h", "signatureSecret": "s"}, "credentials"},
		{map[string]any{"url": "http://127.0.0.1:9/h", "signatureSecret": "s", "events": []string{"sandbox.exploded"}}, "sandbox.exploded"},
		{map[string]any{"url": "http://127.0.0.1:9/h", "signatureSecret": "s", "bogus": 1}, "bogus"},
	} {
		code, raw := call(t, s, "POST", "/events/webhooks", c.body, alice)
		wantError(t, c.says, code, raw, 400, c.says)
	}
	if code, raw := call(t, s, "DELETE", "/events/webhooks/"+w.ID, nil, alice); code != 200 {
		t.Errorf("delete: %d %s", code, raw)
	}
	code, raw = call(t, s, "GET", "/events/webhooks/"+w.ID, nil, alice)
	wantError(t, "after delete", code, raw, 404, "not found")
	if strings.Contains(s.Logs.String(), "top-secret-value") {
		t.Error("the secret reached the log")
	}
}

// verify is E2B's documented receiver check, written out apart from the server's code.
func verify(secret string, body []byte, sig string) bool {
	sum := sha256.Sum256(append([]byte(secret), body...))
	want := strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(sum[:])), "=")
	return want == sig
}

// TestWebhookReceiversDoNotSlowCreates: with one receiver that is down (a closed port) and
// one that holds every delivery until the test lets it go, creates return 201 while the
// slow receiver still holds the first delivery; released, it sees created then killed,
// signed.
func TestWebhookReceiversDoNotSlowCreates(t *testing.T) {
	s := servertest.New(t)
	alice := userKeys(t, s, "alice@example.com")[0]
	type got struct {
		body []byte
		sig  string
	}
	arrived, release := make(chan got, 16), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		arrived <- got{b, r.Header.Get("e2b-signature")}
		<-release
	}))
	defer slow.Close()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String() + "/hook"
	l.Close()
	// A create before any webhook, for comparison.
	start := time.Now()
	createSandboxAs(t, s, alice)
	without := time.Since(start)
	for url, secret := range map[string]string{slow.URL + "/hook": "slow-secret", down: "down-secret"} {
		if code, raw := call(t, s, "POST", "/events/webhooks", map[string]any{"url": url, "signatureSecret": secret,
			"events": []string{"sandbox.lifecycle.created", "sandbox.lifecycle.killed"}}, alice); code != 201 {
			t.Fatalf("register %s: %d %s", url, code, raw)
		}
	}
	start = time.Now()
	id := createSandboxAs(t, s, alice) // returns with no receiver having answered
	with := time.Since(start)
	t.Logf("create without webhooks %s; with a down and a held receiver %s", without, with)
	next := func() got {
		select {
		case g := <-arrived:
			return g
		case <-time.After(30 * time.Second):
			t.Fatal("no delivery reached the receiver")
			return got{}
		}
	}
	first := next() // held by the receiver, which answers only after release
	if code, raw := call(t, s, "DELETE", "/sandboxes/"+id, nil, alice); code != 204 {
		t.Fatalf("kill: %d %s", code, raw)
	}
	close(release)
	released = true
	second := next()
	for i, g := range []got{first, second} {
		var ev wireEvent
		if err := json.Unmarshal(g.body, &ev); err != nil || !verify("slow-secret", g.body, g.sig) || ev.SandboxID != id {
			t.Errorf("delivery %d: %s (signature %q)", i, g.body, g.sig)
		}
		if want := []string{"sandbox.lifecycle.created", "sandbox.lifecycle.killed"}[i]; ev.Type != want {
			t.Errorf("delivery %d is %s, want %s", i, ev.Type, want)
		}
	}
}

func createSandboxAs(t *testing.T, s *servertest.Server, key string) string {
	t.Helper()
	code, raw := call(t, s, "POST", "/v2/sandboxes", map[string]any{"templateID": "base", "timeout": 300}, key)
	var c created
	if code != 201 || json.Unmarshal(raw, &c) != nil {
		t.Fatalf("create: %d %s", code, raw)
	}
	return c.SandboxID
}

type lifecycleDetail struct {
	State     string
	Lifecycle struct {
		AutoResume bool
		OnTimeout  string
	}
}

func detailOf(t *testing.T, s *servertest.Server, id string) lifecycleDetail {
	t.Helper()
	code, raw := call(t, s, "GET", "/sandboxes/"+id, nil, "")
	var d lifecycleDetail
	if code != 200 || json.Unmarshal(raw, &d) != nil {
		t.Fatalf("detail: %d %s", code, raw)
	}
	return d
}

// TestAutoPauseAndAutoResume: a sandbox created with autoPause and autoResume reports its
// lifecycle, pauses at its timeout instead of dying (the reaper runs every 50 ms here), and
// the next request the data plane proxies to it resumes it and is answered.
func TestAutoPauseAndAutoResume(t *testing.T) {
	s := servertest.New(t)
	sb := createSandbox(t, s, map[string]any{"templateID": "base", "timeout": 1, "autoPause": true, "autoResume": map[string]any{"enabled": true}})
	if d := detailOf(t, s, sb.SandboxID); !d.Lifecycle.AutoResume || d.Lifecycle.OnTimeout != "pause" {
		t.Errorf("lifecycle: %+v", d.Lifecycle)
	}
	servertest.Eventually(t, "the sandbox to pause at its timeout", func() bool { return detailOf(t, s, sb.SandboxID).State == "paused" })
	code, raw := dataPlane(t, s, sb.SandboxID, 49983, "GET", "/health", sb.EnvdAccessToken, "", nil)
	if code >= 300 {
		t.Fatalf("request to the paused sandbox: %d %s", code, raw)
	}
	if d := detailOf(t, s, sb.SandboxID); d.State != "running" {
		t.Errorf("after a request: %s, want running", d.State)
	}
	plain := createSandbox(t, s, map[string]any{"templateID": "base"})
	if d := detailOf(t, s, plain.SandboxID); d.Lifecycle.AutoResume || d.Lifecycle.OnTimeout != "kill" {
		t.Errorf("default lifecycle: %+v", d.Lifecycle)
	}
}
