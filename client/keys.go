package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

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

// keysPath is the caller's keys ("" email) or a user's (admins only).
func keysPath(email string) string {
	if email == "" {
		return "/me/keys"
	}
	return "/users/" + url.PathEscape(email) + "/keys"
}

// CreateKey makes a key for the user with email ("" = the caller).
func (c *Client) CreateKey(ctx context.Context, email string, req CreateKeyRequest) (*NewAPIKey, error) {
	var k NewAPIKey
	return &k, c.do(ctx, http.MethodPost, keysPath(email), req, &k)
}

// Keys lists the keys of the user with email ("" = the caller).
func (c *Client) Keys(ctx context.Context, email string) ([]APIKey, error) {
	var out []APIKey
	return out, c.do(ctx, http.MethodGet, keysPath(email), nil, &out)
}

// RevokeKey deletes a key of the user with email ("" = the caller); it stops working at once.
func (c *Client) RevokeKey(ctx context.Context, email, id string) error {
	return c.do(ctx, http.MethodDelete, keysPath(email)+"/"+url.PathEscape(id), nil, nil)
}
