package client

import (
	"context"
	"net/url"
	"time"

	"github.com/paddock/paddock/apitype"
)

// Health is GET /health.
func (c *Client) Health(ctx context.Context) (status, version string, err error) {
	var h apitype.Health
	err = c.do(ctx, "GET", "/health", nil, &h)
	return h.Status, h.Version, err
}

// ListSandboxes returns every sandbox.
func (c *Client) ListSandboxes(ctx context.Context) ([]Sandbox, error) {
	var out []Sandbox
	err := c.do(ctx, "GET", "/sandboxes", nil, &out)
	return out, err
}

// CreateSandbox creates a running sandbox.
func (c *Client) CreateSandbox(ctx context.Context, req CreateRequest) (*Sandbox, error) {
	var out Sandbox
	return &out, c.do(ctx, "POST", "/sandboxes", req, &out)
}

// GetSandbox describes one sandbox.
func (c *Client) GetSandbox(ctx context.Context, name string) (*Sandbox, error) {
	var out Sandbox
	return &out, c.do(ctx, "GET", "/sandboxes/"+esc(name), nil, &out)
}

// DeleteSandbox removes a sandbox and everything in it.
func (c *Client) DeleteSandbox(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/sandboxes/"+esc(name), nil, nil)
}

// StopSandbox stops a sandbox, keeping its filesystem.
func (c *Client) StopSandbox(ctx context.Context, name string) (*Sandbox, error) {
	var out Sandbox
	return &out, c.do(ctx, "POST", "/sandboxes/"+esc(name)+"/stop", nil, &out)
}

// StartSandbox starts a stopped sandbox.
func (c *Client) StartSandbox(ctx context.Context, name string) (*Sandbox, error) {
	var out Sandbox
	return &out, c.do(ctx, "POST", "/sandboxes/"+esc(name)+"/start", nil, &out)
}

// ExtendSandbox moves a sandbox's expiry by d.
func (c *Client) ExtendSandbox(ctx context.Context, name string, d time.Duration) (*Sandbox, error) {
	var out Sandbox
	return &out, c.do(ctx, "POST", "/sandboxes/"+esc(name)+"/extend", apitype.ExtendRequest{By: d.String()}, &out)
}

// Exec runs a command in a sandbox and waits for it.
func (c *Client) Exec(ctx context.Context, name string, req ExecRequest) (*ExecResult, error) {
	var out ExecResult
	return &out, c.do(ctx, "POST", "/sandboxes/"+esc(name)+"/exec", req, &out)
}

// Run runs a command in a fresh sandbox that is deleted afterwards.
func (c *Client) Run(ctx context.Context, req RunRequest) (*ExecResult, error) {
	var out ExecResult
	return &out, c.do(ctx, "POST", "/run", req, &out)
}

// RunBatch runs commands in parallel, each in a fresh sandbox, and returns their results in
// input order. A command that cannot run has Error set and does not fail the others.
func (c *Client) RunBatch(ctx context.Context, reqs []RunRequest) ([]BatchResult, error) {
	var out apitype.BatchResponse
	if err := c.do(ctx, "POST", "/batch/run", apitype.BatchRequest{Commands: reqs}, &out); err != nil {
		return nil, err
	}
	return out.Results, nil
}

// DeleteFile removes a file or directory in a sandbox.
func (c *Client) DeleteFile(ctx context.Context, name, path string) error {
	return c.do(ctx, "DELETE", "/sandboxes/"+esc(name)+"/files/"+filePath(path), nil, nil)
}

// Logs returns a sandbox's audit events, oldest first.
func (c *Client) Logs(ctx context.Context, name string) ([]AuditEvent, error) {
	var out []AuditEvent
	err := c.do(ctx, "GET", "/sandboxes/"+esc(name)+"/logs", nil, &out)
	return out, err
}

// Events returns audit events matching the query (sandbox, type, since, until, limit).
func (c *Client) Events(ctx context.Context, q url.Values) ([]AuditEvent, error) {
	var out []AuditEvent
	err := c.do(ctx, "GET", "/events?"+q.Encode(), nil, &out)
	return out, err
}
