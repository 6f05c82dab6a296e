package manager

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/paddock/paddock/internal/lifecycle"
	"github.com/paddock/paddock/internal/sandbox"
)

// LabelTemplate is the label the E2B surface keeps a sandbox's E2B template ID in.
const LabelTemplate = "e2b.template"

// TemplateID is a sandbox's E2B template ID: the one it was made with on the E2B surface;
// for a sandbox made on another surface, its Paddock template, else "base".
func TemplateID(sb *sandbox.Sandbox) string {
	if t := sb.Spec.Labels[LabelTemplate]; t != "" {
		return t
	}
	if sb.Spec.Template != "" {
		return sb.Spec.Template
	}
	return "base"
}

// emit hands a lifecycle event about sb to the configured publisher. Callers hold sb's lock
// (or, at create, the only reference to it), which keeps one sandbox's events in order.
func (m *Manager) emit(ctx context.Context, sb *sandbox.Sandbox, typ string, data map[string]any) {
	if m.cfg.Events == nil {
		return
	}
	m.cfg.Events.Publish(context.WithoutCancel(ctx), lifecycle.Event{ID: lifecycle.NewID(), Type: typ, SandboxID: sb.ID,
		Owner: sb.Owner, Template: TemplateID(sb), Build: sb.Instance.Image.Ref, Execution: executionID(sb),
		Data: data, Time: m.cfg.Now().UTC()})
}

// emitTimeout reports a new deadline as E2B does: an updated event with set_timeout.
func (m *Manager) emitTimeout(ctx context.Context, sb *sandbox.Sandbox) {
	data := map[string]any{"set_timeout": nil}
	if sb.ExpiresAt != nil {
		data["set_timeout"] = sb.ExpiresAt.UTC().Format(time.RFC3339)
	}
	m.emit(ctx, sb, lifecycle.Updated, data)
}

// executionID names one boot of a sandbox (E2B's sandboxExecutionId): it changes when a
// stopped sandbox boots again, and not across a pause.
func executionID(sb *sandbox.Sandbox) string {
	var at int64
	if sb.StartedAt != nil {
		at = sb.StartedAt.UnixNano()
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", sb.ID, at))
	return lifecycle.UUIDOf([16]byte(sum[:16]))
}
