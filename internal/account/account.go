// Package account is Paddock's users, their API keys and their logins: the domain types, the
// Store that keeps them, and the Service that creates, checks and revokes them. Surfaces
// find who a request acts for with IdentityFrom.
package account

import (
	"context"
	"time"
)

// Role is what a user may do: admins manage users and (phase 2) see everything.
type Role string

// Roles.
const (
	RoleAdmin Role = "admin"
	RoleUser  Role = "user"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleUser }

// User is one account. Email is unique, compared case-insensitively (the Service stores it
// in lower case). PasswordHash is a bcrypt hash ("" = no password: keys only).
type User struct {
	ID           string
	Email        string
	Name         string
	Role         Role
	Disabled     bool
	PasswordHash string
	CreatedAt    time.Time
}

// Key is one API key of a user. Only the key's SHA-256 (hex) is kept; the key itself is
// shown once, when it is made.
type Key struct {
	ID         string
	UserID     string
	Name       string
	Hash       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time // nil = never
}

// Expired reports whether k has expired at now.
func (k *Key) Expired(now time.Time) bool { return k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) }

// Store keeps users, keys and a few named settings. Safe for concurrent use. Lookups of
// unknown records are errdefs.ErrNotFound; creating a taken ID, email (in any case) or key
// hash is errdefs.ErrAlreadyExists; deletes of what is already gone return nil. Records
// handed in or out are copies.
type Store interface {
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserByEmail matches email case-insensitively.
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	// ListUsers returns every user, oldest first (then by ID).
	ListUsers(ctx context.Context) ([]*User, error)
	// UpdateUser replaces the user with u.ID; a taken email is ErrAlreadyExists.
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser removes the user and every key, share and quota override of theirs.
	DeleteUser(ctx context.Context, id string) error

	CreateKey(ctx context.Context, k *Key) error
	// GetKeyByHash finds a key by the SHA-256 of its secret.
	GetKeyByHash(ctx context.Context, hash string) (*Key, error)
	// ListKeys returns a user's keys, oldest first (then by ID).
	ListKeys(ctx context.Context, userID string) ([]*Key, error)
	DeleteKey(ctx context.Context, id string) error
	// TouchKeys sets the last-used time of each key ID given; unknown IDs are skipped.
	TouchKeys(ctx context.Context, used map[string]time.Time) error

	// GetSetting reads a named value (ErrNotFound when unset); SetSetting writes it.
	GetSetting(ctx context.Context, name string) (string, error)
	SetSetting(ctx context.Context, name, value string) error

	ShareStore
	QuotaStore
}

// SettingFirstAdmin names the setting holding the ID of the admin made at first start, who
// owns what existed before there were users (phase 2 gives them today's sandboxes).
const SettingFirstAdmin = "first_admin"

// Identity is who a request acts for.
type Identity struct {
	UserID string
	Email  string
	Role   Role
	// KeyID is the API key's ID, or "token-" and a login token's ID for a JWT.
	KeyID string
}

// IsAdmin reports whether the identity has the admin role.
func (id Identity) IsAdmin() bool { return id.Role == RoleAdmin }

type ctxKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// IdentityFrom returns the identity ctx carries, and false when the request is anonymous
// (an open route, or a server without authentication).
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok
}
