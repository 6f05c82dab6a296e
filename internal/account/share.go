package account

import (
	"context"
	"time"
)

// ShareRole is what a user a sandbox is shared with may do with it.
type ShareRole string

// Share roles: a viewer reads and lists; an operator also runs commands, uses files and
// starts and stops. Deleting and sharing stay with the owner (and admins).
const (
	ShareViewer   ShareRole = "viewer"
	ShareOperator ShareRole = "operator"
)

// Valid reports whether r is a known share role.
func (r ShareRole) Valid() bool { return r == ShareViewer || r == ShareOperator }

// Share gives UserID a role on the sandbox with ID SandboxID.
type Share struct {
	SandboxID string
	UserID    string
	Role      ShareRole
	CreatedAt time.Time
}

// ShareStore keeps shares. Safe for concurrent use. PutShare creates or replaces the share of
// (SandboxID, UserID); deleting one that is gone returns nil; a user's shares go with them.
type ShareStore interface {
	PutShare(ctx context.Context, s *Share) error
	// GetShare is ErrNotFound when the user has no share of the sandbox.
	GetShare(ctx context.Context, sandboxID, userID string) (*Share, error)
	// ListShares returns a sandbox's shares, oldest first (then by user ID).
	ListShares(ctx context.Context, sandboxID string) ([]*Share, error)
	// ListSharesOf returns the shares given to a user, oldest first (then by sandbox ID).
	ListSharesOf(ctx context.Context, userID string) ([]*Share, error)
	DeleteShare(ctx context.Context, sandboxID, userID string) error
	// DeleteSandboxShares removes every share of a sandbox (when it is deleted).
	DeleteSandboxShares(ctx context.Context, sandboxID string) error
}

// Quota limits what one user may hold at once. Zero in a field means no limit.
type Quota struct {
	// Sandboxes is the number of sandboxes that are not deleted (running, paused, stopped).
	Sandboxes int `json:"sandboxes"`
	// MemoryMB and VCPUs bound the sum over the user's running sandboxes.
	MemoryMB int `json:"memory_mb"`
	VCPUs    int `json:"vcpus"`
	// CreatesPerMinute bounds sandbox creations (pool claims included) in any minute.
	CreatesPerMinute int `json:"creates_per_minute"`
	// Sessions is the number of code sessions (KernelBox kernels) at once.
	Sessions int `json:"sessions"`
}

// QuotaStore keeps per-user quota overrides. Safe for concurrent use. GetQuota is
// ErrNotFound when the user has none (the configured defaults apply); an override goes with
// its user.
type QuotaStore interface {
	GetQuota(ctx context.Context, userID string) (*Quota, error)
	SetQuota(ctx context.Context, userID string, q Quota) error
}
