package client

import (
	"github.com/paddock/paddock/apitype"

	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Account wire types, declared in apitype (see docs/accounts.md).
type (
	User = apitype.User
	Me   = apitype.Me
	// Share is one user a sandbox is shared with.
	Share             = apitype.Share
	CreateUserRequest = apitype.CreateUserRequest
	UpdateUserRequest = apitype.UpdateUserRequest
	PasswordRequest   = apitype.PasswordRequest
	Token             = apitype.Token
)

func userPath(email string) string { return "/users/" + url.PathEscape(email) }

// CreateUser adds a user (admins only).
func (c *Client) CreateUser(ctx context.Context, req CreateUserRequest) (*User, error) {
	var u User
	return &u, c.do(ctx, http.MethodPost, "/users", req, &u)
}

// Users lists every user (admins only).
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var out []User
	return out, c.do(ctx, http.MethodGet, "/users", nil, &out)
}

// User describes the user with email (admins only).
func (c *Client) User(ctx context.Context, email string) (*User, error) {
	var u User
	return &u, c.do(ctx, http.MethodGet, userPath(email), nil, &u)
}

// UpdateUser changes the user with email (admins only).
func (c *Client) UpdateUser(ctx context.Context, email string, req UpdateUserRequest) (*User, error) {
	var u User
	return &u, c.do(ctx, http.MethodPatch, userPath(email), req, &u)
}

// DeleteUser removes the user with email and their keys (admins only).
func (c *Client) DeleteUser(ctx context.Context, email string) error {
	return c.do(ctx, http.MethodDelete, userPath(email), nil, nil)
}

// Me describes the caller.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var m Me
	return &m, c.do(ctx, http.MethodGet, "/me", nil, &m)
}

// ChangePassword sets the caller's password.
func (c *Client) ChangePassword(ctx context.Context, req PasswordRequest) error {
	return c.do(ctx, http.MethodPut, "/me/password", req, nil)
}

// Login exchanges an email and password for a login token (POST /api/token, a form as in
// OAuth2's password flow). Use the token as the client's APIKey.
func (c *Client) Login(ctx context.Context, email, password string) (*Token, error) {
	form := url.Values{"username": {email}, "password": {password}, "grant_type": {"password"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/api/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var t Token
	if err := c.doBare(req, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// doBare sends req and decodes a bare (not enveloped) JSON answer into out; errors carry
// FastAPI's {"detail": ...}.
func (c *Client) doBare(req *http.Request, out any) error {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("paddock server at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e struct {
			Detail string `json:"detail"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
		return &Error{Status: resp.StatusCode, Message: e.Detail}
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}
