// Package agentrun holds the records of Sandcaster's agent runs and sessions, as the stores
// keep them: the sandcaster surface declares the store interface it uses, and
// internal/store/sqlite and internal/store/memory implement it over these types.
package agentrun

import (
	"context"
	"encoding/json"
	"time"
)

// Run statuses.
const (
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusError     = "error"
)

// Limits of a run's event log: the newest MaxEvents events, at most MaxLogBytes of JSON.
const (
	MaxEvents   = 1000
	MaxLogBytes = 1 << 20
)

// Run is one agent run (a /query or one turn of a session). Its JSON is GET /runs' shape.
type Run struct {
	ID           string     `json:"id"` // the request ID
	Prompt       string     `json:"prompt"`
	Model        string     `json:"model,omitempty"`
	Status       string     `json:"status"`
	StartedAt    time.Time  `json:"startedAt"`
	CompletedAt  *time.Time `json:"completedAt,omitempty"`
	CostUSD      float64    `json:"costUsd"`
	InputTokens  int64      `json:"inputTokens"`
	OutputTokens int64      `json:"outputTokens"`
	NumTurns     int        `json:"numTurns"`
	DurationSecs float64    `json:"durationSecs"`
	Error        string     `json:"error,omitempty"`
	FilesCount   int        `json:"filesCount"`
	SessionID    string     `json:"sessionId,omitempty"` // the session the run is a turn of

	Owner   string `json:"-"` // the user ID (manager.OwnerOf)
	Sandbox string `json:"-"` // the sandbox's name
}

// Filter selects runs: Owner "" is every owner's, Session "" every run; Limit ≤ 0 is 100.
type Filter struct {
	Owner, Session string
	Limit          int
}

// Session statuses (upstream's).
const (
	SessionInitializing = "initializing"
	SessionActive       = "active"
	SessionRunning      = "running"
	SessionExpired      = "expired" // idle timeout
	SessionEnded        = "ended"   // deleted, or the server restarted (EndReason says which)
	SessionFailed       = "failed"  // its sandbox could not be made
)

// Session is a conversation whose turns share one sandbox. Its JSON is GET /sessions' shape
// (upstream's SessionRecord plus idleTimeoutMs and endReason).
type Session struct {
	ID              string    `json:"id"`
	Status          string    `json:"status"`
	SandboxProvider string    `json:"sandboxProvider"`
	SandboxID       *string   `json:"sandboxId"` // the sandbox's name; null until made
	CreatedAt       time.Time `json:"createdAt"`
	LastActivityAt  time.Time `json:"lastActivityAt"`
	IdleTimeoutMs   int64     `json:"idleTimeoutMs"`
	RunsCount       int       `json:"runsCount"`
	TotalCostUSD    float64   `json:"totalCostUsd"`
	TotalTurns      int       `json:"totalTurns"`
	Name            string    `json:"name,omitempty"`
	EndReason       string    `json:"endReason,omitempty"`

	Owner string `json:"-"`
}

// Live reports whether the session may still take messages.
func (s *Session) Live() bool {
	return s.Status == SessionInitializing || s.Status == SessionActive || s.Status == SessionRunning
}

// Bound keeps the newest events that fit MaxEvents and MaxLogBytes, and says how many it
// dropped.
func Bound(evs []json.RawMessage) ([]json.RawMessage, int) {
	n, size := 0, 0
	for i := len(evs) - 1; i >= 0 && n < MaxEvents; i-- {
		if size+len(evs[i]) > MaxLogBytes {
			break
		}
		size += len(evs[i])
		n++
	}
	return evs[len(evs)-n:], len(evs) - n
}

// Store keeps runs and sessions. Implementations are safe for concurrent use; records are
// copies (changing one changes nothing stored). Get methods of unknown IDs return an
// errdefs not-found error.
type Store interface {
	// PutAgentRun records r, replacing the run of the same ID.
	PutAgentRun(ctx context.Context, r *Run) error
	// SetAgentRunEvents replaces a recorded run's event log (already bounded by the caller).
	SetAgentRunEvents(ctx context.Context, id string, evs []json.RawMessage) error
	GetAgentRun(ctx context.Context, id string) (*Run, error)
	// AgentRunEvents returns a run's event log, oldest first.
	AgentRunEvents(ctx context.Context, id string) ([]json.RawMessage, error)
	// ListAgentRuns returns the runs f selects, newest first.
	ListAgentRuns(ctx context.Context, f Filter) ([]Run, error)
	// FailRunningAgentRuns marks every run still running as an error with msg, ended at at,
	// and returns how many it marked (for start-up, after a restart).
	FailRunningAgentRuns(ctx context.Context, msg string, at time.Time) (int, error)

	// PutAgentSession records s, replacing the session of the same ID.
	PutAgentSession(ctx context.Context, s *Session) error
	GetAgentSession(ctx context.Context, id string) (*Session, error)
	// ListAgentSessions returns owner's sessions ("" = everyone's), newest first; live only
	// keeps those that are Live. Limit ≤ 0 is every one.
	ListAgentSessions(ctx context.Context, owner string, live bool, limit int) ([]Session, error)
}
