// Package client is the Go client of Paddock's native HTTP API (the agentkernel-compatible
// routes). The paddock CLI uses it; so can any Go program:
//
//	c := client.New("http://127.0.0.1:18888", os.Getenv("PADDOCK_API_KEY"))
//	res, err := c.Run(ctx, client.RunRequest{Command: []string{"echo", "hi"}})
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/paddock/paddock/apitype"
)

// Client talks to one Paddock server. Safe for concurrent use.
type Client struct {
	BaseURL string
	APIKey  string
	HTTP    *http.Client
}

// New returns a client for baseURL authenticating with apiKey ("" = none).
func New(baseURL, apiKey string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), APIKey: apiKey, HTTP: &http.Client{}}
}

// Error is a non-success answer of the server.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status) }

// IsNotFound reports whether err is a 404 from the server.
func IsNotFound(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Status == http.StatusNotFound
}

// The wire types are package apitype's; these aliases keep the client's own names.
type (
	// Sandbox is a sandbox as the server describes it.
	Sandbox = apitype.Sandbox
	// CreateRequest is what a new sandbox should be.
	CreateRequest = apitype.CreateRequest
	// ExecRequest is one command in an existing sandbox.
	ExecRequest = apitype.ExecRequest
	// RunRequest is one command in a fresh sandbox that is deleted afterwards.
	RunRequest = apitype.RunRequest
	// ExecResult is how a command ended.
	ExecResult = apitype.ExecResult
	// BatchResult is one command's outcome in a batch.
	BatchResult = apitype.BatchResult
	// AuditEvent is one audit log entry.
	AuditEvent = apitype.AuditEvent
)

// do sends a JSON request and decodes the envelope's data into out (when non-nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in, "application/json")
	if err != nil {
		return err
	}
	return decode(resp, out)
}

// decode reads an enveloped answer into out (when non-nil) and closes its body.
func decode(resp *http.Response, out any) error {
	defer resp.Body.Close()
	var env apitype.Envelope[json.RawMessage]
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&env); err != nil {
		return &Error{Status: resp.StatusCode, Message: fmt.Sprintf("unreadable answer: %v", err)}
	}
	if !env.Success || resp.StatusCode >= 300 {
		return &Error{Status: resp.StatusCode, Message: env.Error}
	}
	if out != nil && len(env.Data) > 0 {
		return json.Unmarshal(env.Data, out)
	}
	return nil
}

func (c *Client) send(ctx context.Context, method, path string, in any, accept string) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", accept)
	if c.APIKey != "" {
		req.Header.Set("X-API-Key", c.APIKey)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("paddock server at %s: %w", c.BaseURL, err)
	}
	return resp, nil
}

func esc(name string) string { return url.PathEscape(name) }

// filePath turns a sandbox path into the route suffix (each segment escaped).
func filePath(p string) string {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
