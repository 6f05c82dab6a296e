package sandcaster

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
)

// WebhookPath receives E2B's sandbox lifecycle webhooks. It authenticates by signature,
// not by API key.
const WebhookPath = "/webhooks/e2b"

// AuditWebhook is the audit event of every accepted webhook (details: type, id, sandbox).
const AuditWebhook = "e2b_webhook"

// maxWebhookBytes is the largest webhook body read.
const maxWebhookBytes = 1 << 20

// e2bWebhook is the part of E2B's lifecycle payload Paddock reads.
type e2bWebhook struct {
	ID         string `json:"id"`
	Type       string `json:"type"`       // sandbox.lifecycle.created, .killed, .paused, ...
	EventLabel string `json:"eventLabel"` // kill, create, ... (older payloads)
	SandboxID  string `json:"sandboxId"`
	EventData  struct {
		Metadata map[string]string `json:"sandbox_metadata"`
	} `json:"eventData"`
}

func (e *e2bWebhook) killed() bool {
	return strings.HasSuffix(e.Type, ".killed") || e.EventLabel == "kill"
}

// webhook verifies, records and acts on one E2B lifecycle webhook: a killed sandbox that a
// live run or session uses ends it as an error.
func (a *API) webhook(w http.ResponseWriter, r *http.Request) error {
	if a.opts.WebhookSecret == "" {
		return errdefs.Unavailable("E2B webhooks are off: set e2b-webhook-secret (PADDOCK_E2B_WEBHOOK_SECRET) to the webhook's signature secret")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errdefs.New(errdefs.ErrTooLarge, "webhook body larger than %d bytes", maxWebhookBytes)
		}
		return errdefs.InvalidArgument("read webhook body: %v", err)
	}
	sig := r.Header.Get("e2b-signature")
	if sig == "" {
		return errdefs.New(errdefs.ErrUnauthenticated, "missing signature: e2b-signature is required")
	}
	if !validSignature(a.opts.WebhookSecret, body, sig) {
		return errdefs.New(errdefs.ErrUnauthenticated, "invalid signature")
	}
	var ev e2bWebhook
	if err := json.Unmarshal(body, &ev); err != nil {
		return errdefs.InvalidArgument("invalid JSON")
	}
	runID := ev.EventData.Metadata[LabelRun]
	_ = a.opts.Audit.Record(r.Context(), AuditWebhook, ev.SandboxID, map[string]any{"type": ev.Type, "id": ev.ID, "run": runID})
	if ev.killed() {
		a.sandboxKilled(r.Context(), ev.SandboxID, runID)
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// sandboxKilled ends the live runs and sessions whose sandbox is name (or whose run is
// runID): each run ends with an error event and is recorded as an error.
func (a *API) sandboxKilled(ctx context.Context, name, runID string) {
	runs := a.live.bySandbox(name)
	if lr := a.live.get(runID); runID != "" && lr != nil {
		runs = append(runs, lr)
	}
	for _, lr := range runs {
		lr.cancel(errSandboxKilled)
	}
	for _, ss := range a.sessions.all() {
		if sb := ss.sandbox(); sb != nil && (sb.Name == name || sb.ID == name) {
			a.endSession(context.WithoutCancel(ctx), ss, agentrun.SessionEnded, "its sandbox was killed from outside")
		}
	}
}

// validSignature accepts upstream Sandcaster's signature, the hex HMAC-SHA256 of the body
// keyed with the secret (optionally prefixed "sha256="), and E2B's own, the base64 SHA-256
// of the secret followed by the body (padded or not).
func validSignature(secret string, body []byte, sig string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	if got := strings.ToLower(strings.TrimPrefix(sig, "sha256=")); subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
		return true
	}
	sum := sha256.Sum256(append([]byte(secret), body...))
	e2b := base64.RawStdEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(strings.TrimRight(sig, "=")), []byte(e2b)) == 1
}
