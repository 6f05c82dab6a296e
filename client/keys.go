package client

import (
	"github.com/paddock/paddock/apitype"

	"context"
	"net/http"
	"net/url"
)

// Key wire types, declared in apitype.
type (
	APIKey           = apitype.APIKey
	NewAPIKey        = apitype.NewAPIKey
	CreateKeyRequest = apitype.CreateKeyRequest
)

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
