package apitype

import "time"

// AuditEvent is one audit log entry (GET /events, GET /sandboxes/{name}/logs).
type AuditEvent struct {
	ID        int64     `json:"id,omitempty"`
	Time      time.Time `json:"timestamp"`
	Event     string    `json:"event"`
	Sandbox   string    `json:"sandbox,omitempty"`
	Actor     string    `json:"actor,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	// UserID, UserEmail and KeyID are the acting user and the key or login token they
	// presented (empty for the server's own work).
	UserID    string         `json:"user_id,omitempty"`
	UserEmail string         `json:"user_email,omitempty"`
	KeyID     string         `json:"key_id,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
}
