// Package audit defines Paddock's audit events, where they are kept (Store), and who caused
// them (the actor and request carried on a context).
package audit

import (
	"context"
	"time"
)

// Event types.
const (
	SandboxCreated  = "sandbox_created"
	SandboxStarted  = "sandbox_started"
	SandboxStopped  = "sandbox_stopped"
	SandboxRemoved  = "sandbox_removed"
	CommandExecuted = "command_executed"
	FileWritten     = "file_written"
	FileRead        = "file_read"
	FileDeleted     = "file_deleted"
	PolicyViolation = "policy_violation"
	AuthFailed      = "auth_failed"
	SandboxExpired  = "sandbox_expired"
	SessionCulled   = "session_culled"
	// StartCommandFailed: a template's start command could not start or exited non-zero.
	StartCommandFailed = "start_command_failed"
	// SandboxFailed: a running or paused sandbox's init died without being asked to (details:
	// id, reason); the sandbox is now failed.
	SandboxFailed = "sandbox_failed"
)

// Event is one audit record. Details hold type-specific fields (command, exit_code, path...).
type Event struct {
	ID        int64     `json:"id,omitempty"`
	Time      time.Time `json:"timestamp"`
	Type      string    `json:"event"`
	Sandbox   string    `json:"sandbox,omitempty"`
	Actor     string    `json:"actor,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	// UserID, UserEmail and KeyID are the acting user and the key or login token they
	// presented (empty for the server's own work and for a server without authentication).
	UserID    string         `json:"user_id,omitempty"`
	UserEmail string         `json:"user_email,omitempty"`
	KeyID     string         `json:"key_id,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
}

// Filter narrows a listing. Zero fields match everything; Limit 0 means the store's default.
type Filter struct {
	Sandbox string
	Type    string
	Since   time.Time
	Until   time.Time
	Limit   int
	// Scope, when not nil, keeps only what one user may see (applied by the store's query,
	// before Limit).
	Scope *Scope
}

// Scope is what one user sees of the audit log: the events they caused (UserID) and the
// events of the sandboxes they may see (by name).
type Scope struct {
	UserID    string
	Sandboxes []string
}

// Match reports whether e is within s; a nil scope holds everything.
func (s *Scope) Match(e Event) bool {
	if s == nil || (s.UserID != "" && e.UserID == s.UserID) {
		return true
	}
	if e.Sandbox == "" {
		return false
	}
	for _, n := range s.Sandboxes {
		if n == e.Sandbox {
			return true
		}
	}
	return false
}

// Store keeps audit events. Append returns only after the events are durable. Events are
// listed oldest first. Safe for concurrent use.
type Store interface {
	AppendEvents(ctx context.Context, evs ...Event) error
	ListEvents(ctx context.Context, f Filter) ([]Event, error)
	// DeleteEventsBefore removes events older than t and reports how many went.
	DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error)
}

type ctxKey struct{}

// Origin is who made a request: an actor (an API key's ID, never the key), the request ID,
// and the authenticated user with the ID of the key or login token they presented.
type Origin struct {
	Actor     string
	RequestID string
	UserID    string
	UserEmail string
	KeyID     string
}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, ctxKey{}, o)
}

// OriginFrom returns the origin carried by ctx (zero if none).
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(ctxKey{}).(Origin)
	return o
}

// Recorder stamps events with time and origin and appends them.
type Recorder struct {
	Store Store
	Now   func() time.Time
}

// Record appends one event of type typ about sandbox, with details.
func (r *Recorder) Record(ctx context.Context, typ, sandbox string, details map[string]any) error {
	if r == nil || r.Store == nil {
		return nil
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	o := OriginFrom(ctx)
	return r.Store.AppendEvents(context.WithoutCancel(ctx), Event{Time: now().UTC(), Type: typ, Sandbox: sandbox,
		Actor: o.Actor, RequestID: o.RequestID, UserID: o.UserID, UserEmail: o.UserEmail, KeyID: o.KeyID,
		Details: details})
}
