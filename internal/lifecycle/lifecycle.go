// Package lifecycle defines sandbox lifecycle events (E2B's sandbox.lifecycle.* events), the
// webhooks users register to receive them, and the Store that keeps both.
package lifecycle

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"
)

// Event types, as E2B names them.
const (
	Created = "sandbox.lifecycle.created"
	Updated = "sandbox.lifecycle.updated"
	Killed  = "sandbox.lifecycle.killed"
	Paused  = "sandbox.lifecycle.paused"
	Resumed = "sandbox.lifecycle.resumed"
)

// Types lists every event type.
var Types = []string{Created, Updated, Killed, Paused, Resumed}

// KnownType reports whether t is an event type.
func KnownType(t string) bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

// Event is one lifecycle change of one sandbox.
type Event struct {
	// ID is a UUID; Seq orders the events of one store (assigned by AppendLifecycleEvent).
	ID  string
	Seq int64
	// Type is one of the constants above.
	Type      string
	SandboxID string
	// Owner is the user who owned the sandbox when it happened (E2B's team).
	Owner string
	// Template is the sandbox's E2B template ID; Build the image it runs.
	Template string
	Build    string
	// Execution identifies one run of the sandbox: it changes when a stopped sandbox is
	// booted again.
	Execution string
	// Data is the event's details (E2B's eventData), nil when it has none.
	Data map[string]any
	Time time.Time
}

// Webhook is a user's registration to receive events by HTTP POST.
type Webhook struct {
	ID    string
	Owner string // the user who registered it ("" on a server without authentication)
	Name  string
	URL   string
	// Enabled false keeps the registration and delivers nothing.
	Enabled bool
	// Events are the types delivered.
	Events []string
	// Secret signs each delivery; it is never returned by the API after creation.
	Secret    string
	CreatedAt time.Time
}

// Wants reports whether w delivers events of type t.
func (w *Webhook) Wants(t string) bool {
	if !w.Enabled {
		return false
	}
	for _, e := range w.Events {
		if e == t {
			return true
		}
	}
	return false
}

// Filter narrows an event listing. Owner "" with All false matches nothing: callers say
// whose events they want.
type Filter struct {
	Owner     string
	All       bool   // every owner's events (admins and the system)
	SandboxID string // "" for every sandbox
	Offset    int
	Limit     int  // 0: 10
	Asc       bool // oldest first; by default newest first
}

// Store keeps events and webhooks. Safe for concurrent use. Get, update and delete of an
// unknown webhook ID are errdefs.ErrNotFound-class (delete included, as the API answers
// 404); events are append-only.
type Store interface {
	// AppendLifecycleEvent stores ev and sets its Seq.
	AppendLifecycleEvent(ctx context.Context, ev *Event) error
	ListLifecycleEvents(ctx context.Context, f Filter) ([]Event, error)
	// DeleteLifecycleEventsBefore removes events older than t and reports how many went.
	DeleteLifecycleEventsBefore(ctx context.Context, t time.Time) (int64, error)

	CreateWebhook(ctx context.Context, w *Webhook) error
	GetWebhook(ctx context.Context, id string) (*Webhook, error)
	// ListWebhooks returns owner's webhooks, oldest first; all is every owner's.
	ListWebhooks(ctx context.Context, owner string, all bool) ([]*Webhook, error)
	UpdateWebhook(ctx context.Context, w *Webhook) error
	DeleteWebhook(ctx context.Context, id string) error
}

// Publisher receives the events the manager records. Publish is called under the sandbox's
// lifecycle lock, so one sandbox's events arrive in order; it must not block on delivery.
type Publisher interface {
	Publish(ctx context.Context, ev Event)
}

// Wire is E2B's JSON shape of an event: what the events API lists and each webhook delivery
// carries.
type Wire struct {
	Version     string         `json:"version"`
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	EventData   map[string]any `json:"eventData"`
	BuildID     string         `json:"sandboxBuildId"`
	ExecutionID string         `json:"sandboxExecutionId"`
	SandboxID   string         `json:"sandboxId"`
	TeamID      string         `json:"sandboxTeamId"`
	TemplateID  string         `json:"sandboxTemplateId"`
	Timestamp   time.Time      `json:"timestamp"`
}

// ToWire is ev in E2B's shape.
func (ev Event) ToWire() Wire {
	return Wire{Version: "v1", ID: ev.ID, Type: ev.Type, EventData: ev.Data, BuildID: ev.Build,
		ExecutionID: ev.Execution, SandboxID: ev.SandboxID, TeamID: ev.Owner, TemplateID: ev.Template,
		Timestamp: ev.Time.UTC()}
}

// NewID returns a random version 4 UUID, the form of E2B's event, webhook and delivery IDs.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return UUIDOf(b)
}

// UUIDOf formats 16 bytes as a version 4 UUID.
func UUIDOf(b [16]byte) string {
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
