package sandcaster_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/store/sqlite"
)

const webhookSecret = "whsec-test-0123456789"

func hmacHex(body string) string {
	m := hmac.New(sha256.New, []byte(webhookSecret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// POST /webhooks/e2b needs no API key but a valid signature: upstream's hex HMAC (with or
// without sha256=) or E2B's base64 SHA-256 of secret+body; anything else is 401. Accepted
// webhooks are audit events.
func TestWebhookSignatures(t *testing.T) {
	t.Setenv("PADDOCK_E2B_WEBHOOK_SECRET", "")
	s := servertest.New(t, func(c *config.Config) { c.E2BWebhookSecret = webhookSecret })
	body := `{"id":"evt1","type":"sandbox.lifecycle.created","sandboxId":"sb-x"}`
	sum := sha256.Sum256([]byte(webhookSecret + body))
	for _, c := range []struct {
		name, sig string
		want      int
	}{
		{"hmac", hmacHex(body), 200},
		{"hmac with prefix", "sha256=" + hmacHex(body), 200},
		{"e2b", base64.RawStdEncoding.EncodeToString(sum[:]), 200},
		{"e2b padded", base64.StdEncoding.EncodeToString(sum[:]), 200},
		{"missing", "", 401},
		{"wrong", hmacHex(body + " "), 401},
		{"garbage", "sha256=zz", 401},
	} {
		h := map[string][]string{}
		if c.sig != "" {
			h["E2b-Signature"] = []string{c.sig}
		}
		resp, b := s.Do(servertest.Request{Method: "POST", Path: "/webhooks/e2b", Body: body, Key: servertest.NoKey, Header: h})
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, b, c.want)
		}
	}
	var env servertest.Envelope
	s.JSON("GET", "/events?type=e2b_webhook", nil, &env)
	var evs []map[string]any
	json.Unmarshal(env.Data, &evs)
	if len(evs) != 4 {
		t.Errorf("%d e2b_webhook events, want 4: %s", len(evs), env.Data)
	}
}

// A killed-sandbox webhook for a live session's sandbox ends the session and the running
// turn as errors; without a secret the route is 503.
func TestWebhookKillEndsSession(t *testing.T) {
	anth := providertest.NewAnthropic(t, providertest.Turn{Text: "hello", InputTokens: 1, OutputTokens: 1})
	off := newServer(t, anth, nil)
	if resp, b := off.Do(servertest.Request{Method: "POST", Path: "/webhooks/e2b", Body: "{}", Key: servertest.NoKey}); resp.StatusCode != 503 ||
		!strings.Contains(string(b), "e2b-webhook-secret") {
		t.Errorf("no secret: %d %s", resp.StatusCode, b)
	}

	s := servertest.New(t, func(c *config.Config) { c.E2BWebhookSecret = webhookSecret })
	st, evs, raw := sse(t, s, "POST", "/sessions", "", map[string]any{"prompt": "hi"})
	if st != 200 {
		t.Fatalf("%d %s", st, raw)
	}
	var created struct{ SessionID string }
	json.Unmarshal([]byte(evs[0].Data), &created)
	var sb struct{ SandboxID string }
	json.Unmarshal([]byte(evs[1].Data), &sb)
	body := `{"id":"evt2","type":"sandbox.lifecycle.killed","sandboxId":"` + sb.SandboxID + `"}`
	resp, b := s.Do(servertest.Request{Method: "POST", Path: "/webhooks/e2b", Body: body, Key: servertest.NoKey,
		Header: map[string][]string{"E2b-Signature": {hmacHex(body)}}})
	if resp.StatusCode != 200 {
		t.Fatalf("webhook: %d %s", resp.StatusCode, b)
	}
	resp, b = s.Do(servertest.Request{Method: "POST", Path: "/sessions/" + created.SessionID + "/messages", Body: map[string]any{"prompt": "x"}})
	if resp.StatusCode != 410 || !strings.Contains(string(b), "killed from outside") {
		t.Errorf("message after the kill: %d %s", resp.StatusCode, b)
	}
	noSandboxes(t, s)
}

// A session live when the server stopped ends with "server restarted" when it comes back.
func TestSessionEndsOnRestart(t *testing.T) {
	s := newServer(t, providertest.NewAnthropic(t), nil)
	s.Srv.Close(context.Background())
	db, err := sqlite.Open(context.Background(), filepath.Join(s.DataDir, "paddock.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := db.PutAgentSession(context.Background(), &agentrun.Session{ID: "sess_old", Status: agentrun.SessionActive,
		SandboxProvider: "e2b", CreatedAt: now, LastActivityAt: now}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s2 := servertest.New(t, func(c *config.Config) { c.DataDir = s.DataDir })
	resp, b := s2.Do(servertest.Request{Method: "POST", Path: "/sessions/sess_old/messages", Body: map[string]any{"prompt": "x"}})
	if resp.StatusCode != 410 || !strings.Contains(string(b), "session ended: server restarted") {
		t.Errorf("message after restart: %d %s", resp.StatusCode, b)
	}
	if resp, b := s2.Do(servertest.Request{Method: "GET", Path: "/sessions/sess_old"}); !strings.Contains(string(b), `"endReason":"server restarted"`) {
		t.Errorf("detail after restart: %d %s", resp.StatusCode, b)
	}
}

// An idle session ends: its sandbox is deleted and it answers 410 naming the idle time.
func TestSessionIdleTimeout(t *testing.T) {
	anth := providertest.NewAnthropic(t, providertest.Turn{Text: "hello", InputTokens: 1, OutputTokens: 1})
	for _, v := range []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENROUTER_API_KEY"} {
		t.Setenv(v, "")
	}
	t.Setenv("PADDOCK_SANDCASTER_WORKDIR", servertest.Dir(t))
	t.Setenv("ANTHROPIC_API_KEY", serverKey)
	t.Setenv("ANTHROPIC_BASE_URL", anth.URL())
	s := servertest.New(t, func(c *config.Config) { c.SandcasterSessionIdle = 200 * time.Millisecond })
	st, evs, raw := sse(t, s, "POST", "/sessions", "", map[string]any{"prompt": "hi"})
	if st != 200 {
		t.Fatalf("%d %s", st, raw)
	}
	var created struct{ SessionID string }
	json.Unmarshal([]byte(evs[0].Data), &created)
	// The status changes first, then the sandbox is deleted.
	servertest.Eventually(t, "the idle session expired and its sandbox was deleted", func() bool {
		_, b := s.Do(servertest.Request{Method: "GET", Path: "/sessions/" + created.SessionID})
		return strings.Contains(string(b), `"status":"expired"`) && sandboxCount(t, s) == 0
	})
	resp, b := s.Do(servertest.Request{Method: "POST", Path: "/sessions/" + created.SessionID + "/messages", Body: map[string]any{"prompt": "x"}})
	if resp.StatusCode != 410 || !strings.Contains(string(b), "session expired: idle for 200ms") {
		t.Errorf("message after expiry: %d %s", resp.StatusCode, b)
	}
}
