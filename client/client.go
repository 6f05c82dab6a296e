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
	"time"
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

// Sandbox is a sandbox as the server describes it.
type Sandbox struct {
	Name     string  `json:"name"`
	ID       string  `json:"id"`
	Status   string  `json:"status"`
	Backend  string  `json:"backend"`
	Image    string  `json:"image,omitempty"`
	Profile  string  `json:"profile,omitempty"`
	VCPUs    float64 `json:"vcpus,omitempty"`
	MemoryMB int64   `json:"memory_mb,omitempty"`
	Pids     int64   `json:"pids,omitempty"`
	DiskMB   int64   `json:"disk_mb,omitempty"`
	Network  string  `json:"network,omitempty"`
	// AllowOut and DenyOut are the egress policy (see SetNetwork).
	AllowOut  []string          `json:"allow_out,omitempty"`
	DenyOut   []string          `json:"deny_out,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	StartedAt *time.Time        `json:"started_at,omitempty"`
	ExpiresAt *time.Time        `json:"expires_at,omitempty"`
	OnExpire  string            `json:"on_expire,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	Reason    string            `json:"reason,omitempty"`
	// Port is the application port (/sandbox/{name}/ goes there); PublicPorts need no
	// credential (0 = every port); TrafficToken opens the other ports without the API key.
	Port         int    `json:"port,omitempty"`
	PublicPorts  []int  `json:"public_ports,omitempty"`
	TrafficToken string `json:"traffic_token,omitempty"`
	// Template is the template the sandbox was made from.
	Template string `json:"template,omitempty"`
}

// CreateRequest is what a new sandbox should be.
type CreateRequest struct {
	Name     string            `json:"name"`
	Image    string            `json:"image,omitempty"`
	Profile  string            `json:"profile,omitempty"`
	VCPUs    float64           `json:"vcpus,omitempty"`
	MemoryMB int64             `json:"memory_mb,omitempty"`
	Pids     int64             `json:"pids,omitempty"`
	DiskMB   int64             `json:"disk_mb,omitempty"`
	Env      map[string]string `json:"env,omitempty"`
	Workdir  string            `json:"workdir,omitempty"`
	User     string            `json:"user,omitempty"`
	TTL      string            `json:"ttl,omitempty"`
	OnExpire string            `json:"on_expire,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	// Network is "none" or "egress" (default: the profile's); AllowOut and DenyOut are the
	// egress policy.
	Network  string   `json:"network,omitempty"`
	AllowOut []string `json:"allow_out,omitempty"`
	DenyOut  []string `json:"deny_out,omitempty"`
	// Port is the application port (default 8080); PublicPorts are reachable through the
	// server without credentials.
	Port        int   `json:"port,omitempty"`
	PublicPorts []int `json:"public_ports,omitempty"`
	// Template supplies defaults (image, profile, env, limits, port, start command); the
	// request's own fields win.
	Template string `json:"template,omitempty"`
}

// ExecRequest is one command in an existing sandbox.
type ExecRequest struct {
	Command []string          `json:"command"`
	Env     map[string]string `json:"env,omitempty"`
	Cwd     string            `json:"cwd,omitempty"`
	User    string            `json:"user,omitempty"`
	Stdin   *string           `json:"stdin,omitempty"`
	Timeout float64           `json:"timeout,omitempty"` // seconds
}

// RunRequest is one command in a fresh sandbox that is deleted afterwards.
type RunRequest struct {
	ExecRequest
	Image    string  `json:"image,omitempty"`
	Profile  string  `json:"profile,omitempty"`
	Fast     *bool   `json:"fast,omitempty"`
	VCPUs    float64 `json:"vcpus,omitempty"`
	MemoryMB int64   `json:"memory_mb,omitempty"`
	Pids     int64   `json:"pids,omitempty"`
	DiskMB   int64   `json:"disk_mb,omitempty"`
	Template string  `json:"template,omitempty"` // defaults for the sandbox
	// Network is "none" or "egress"; AllowOut and DenyOut are the egress policy.
	Network  string   `json:"network,omitempty"`
	AllowOut []string `json:"allow_out,omitempty"`
	DenyOut  []string `json:"deny_out,omitempty"`
}

// ExecResult is how a command ended.
type ExecResult struct {
	Sandbox    string `json:"sandbox,omitempty"`
	Output     string `json:"output"`
	Stdout     string `json:"stdout"`
	Stderr     string `json:"stderr"`
	ExitCode   int    `json:"exit_code"`
	DurationMS int64  `json:"duration_ms"`
	Truncated  bool   `json:"truncated,omitempty"`
	TimedOut   bool   `json:"timed_out,omitempty"`
	OOMKilled  bool   `json:"oom_killed,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// AuditEvent is one audit log entry.
type AuditEvent struct {
	Time      time.Time      `json:"timestamp"`
	Event     string         `json:"event"`
	Sandbox   string         `json:"sandbox,omitempty"`
	Actor     string         `json:"actor,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
}

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
	var env struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
		Error   string          `json:"error"`
	}
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
