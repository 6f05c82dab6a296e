package apitype

import "time"

// User is an account as the server describes it (see docs/accounts.md).
type User struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Role        string    `json:"role"` // admin or user
	Disabled    bool      `json:"disabled"`
	HasPassword bool      `json:"has_password"`
	CreatedAt   time.Time `json:"created_at"`
}

// Me is the caller: their user and the key (or "token-…" login token) they presented.
type Me struct {
	User
	KeyID string `json:"key_id,omitempty"`
	// Quota is the caller's quota (zero fields: no limit; absent for admins, who have none)
	// and Usage what they hold against it.
	Quota *Quota `json:"quota,omitempty"`
	Usage *Usage `json:"usage,omitempty"`
}

// Quota is a user's limits; 0 means no limit. In PUT /users/{email}/quota an absent field
// keeps its current value.
type Quota struct {
	Sandboxes        *int `json:"sandboxes,omitempty"`
	MemoryMB         *int `json:"memory_mb,omitempty"`
	VCPUs            *int `json:"vcpus,omitempty"`
	CreatesPerMinute *int `json:"creates_per_minute,omitempty"`
	Sessions         *int `json:"sessions,omitempty"`
}

// Usage is what a user holds against their quota.
type Usage struct {
	Sandboxes         int     `json:"sandboxes"`
	MemoryMB          int64   `json:"memory_mb"`
	VCPUs             float64 `json:"vcpus"`
	CreatesLastMinute int     `json:"creates_last_minute"`
	Sessions          int     `json:"sessions"`
}

// ShareRequest shares a sandbox with a user by email; Role is viewer or operator.
type ShareRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// Share is one user a sandbox is shared with.
type Share struct {
	UserID    string    `json:"user_id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateUserRequest is a new user; Role defaults to user, and without a Password the user
// authenticates with keys only.
type CreateUserRequest struct {
	Email    string `json:"email"`
	Name     string `json:"name,omitempty"`
	Role     string `json:"role,omitempty"`
	Password string `json:"password,omitempty"`
}

// UpdateUserRequest changes a user; nil fields stay as they are.
type UpdateUserRequest struct {
	Name     *string `json:"name,omitempty"`
	Role     *string `json:"role,omitempty"`
	Disabled *bool   `json:"disabled,omitempty"`
	Password *string `json:"password,omitempty"`
}

// PasswordRequest changes the caller's password; CurrentPassword is needed when they have one.
type PasswordRequest struct {
	CurrentPassword string `json:"current_password,omitempty"`
	Password        string `json:"password"`
}

// Token is the answer of a login (POST /api/token), in OAuth2's shape.
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in,omitempty"` // seconds
}

// APIKey is a key as the server describes it; the key itself is only in NewAPIKey.
type APIKey struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
}

// NewAPIKey is a key just made: Key is shown this once.
type NewAPIKey struct {
	APIKey
	Key string `json:"key"`
}

// CreateKeyRequest names a new key; ExpiresIn is in seconds (0 = never expires).
type CreateKeyRequest struct {
	Name      string  `json:"name,omitempty"`
	ExpiresIn float64 `json:"expires_in,omitempty"`
}
