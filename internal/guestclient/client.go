// Package guestclient is the host side of the guest protocol: typed access to a sandbox's
// guest (processes, files, settings) over a connection obtained from Driver.Dial.
package guestclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/proto/filesystem/filesystemconnect"
	"github.com/paddock/paddock/proto/process/processconnect"
)

// DialFunc opens a fresh connection to one sandbox's guest.
type DialFunc func(ctx context.Context) (net.Conn, error)

// baseURL is a placeholder origin: every connection goes through DialFunc.
const baseURL = "http://guest"

// maxMessage bounds one RPC message from the guest.
const maxMessage = 32 << 20

// maxErrorBody bounds how much of a guest error body is read; the guest is untrusted.
const maxErrorBody = 4096

// Client talks to one sandbox's guest. Safe for concurrent use.
type Client struct {
	http    *http.Client
	dial    DialFunc
	token   string
	Process processconnect.ProcessClient
	FS      filesystemconnect.FilesystemClient

	mcpMu sync.Mutex
	mcp   *sdk.ClientSession // the kept session with the guest's MCP server; Close ends it
}

// New returns a client that dials with dial and authenticates with token ("" = none).
func New(dial DialFunc, token string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dial(ctx)
		},
		MaxIdleConnsPerHost:    64,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true,
	}
	c := &Client{http: &http.Client{Transport: tr}, dial: dial, token: token}
	opts := []connect.ClientOption{
		connect.WithInterceptors(tokenInterceptor(token)),
		// The guest is untrusted: cap what one message may make us allocate.
		connect.WithReadMaxBytes(maxMessage),
	}
	c.Process = processconnect.NewProcessClient(c.http, baseURL, opts...)
	c.FS = filesystemconnect.NewFilesystemClient(c.http, baseURL, opts...)
	return c
}

// Close ends the kept MCP session and releases idle connections.
func (c *Client) Close() {
	c.closeMCP()
	c.http.CloseIdleConnections()
}

// Health reports whether the guest answers GET /health with 204.
func (c *Client) Health(ctx context.Context) error {
	resp, err := c.do(ctx, http.MethodGet, "/health", nil, nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// WaitReady polls Health until it succeeds or ctx ends.
func (c *Client) WaitReady(ctx context.Context) error {
	delay := time.Millisecond
	for {
		hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := c.Health(hctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("guest not ready: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(delay):
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// Init configures the guest's sandbox-wide settings.
func (c *Client) Init(ctx context.Context, req guestproto.InitRequest) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, http.MethodPost, "/init", strings.NewReader(string(body)),
		http.Header{"Content-Type": {"application/json"}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// do sends a plain HTTP request and turns a non-2xx answer into a classed error.
func (c *Client) do(ctx context.Context, method, path string, body io.Reader, h http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, baseURL+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if c.token != "" {
		req.Header.Set(guestproto.AccessTokenHeader, c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(ctx, fmt.Sprintf("guest %s %s", method, path), err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, httpError(method, path, resp)
}

// transportError classes a failure to exchange a request with the guest: ErrUnavailable,
// with a public message that does not carry err's (a connection's errors name the guest's
// socket, a host path).
func transportError(ctx context.Context, op string, err error) error {
	switch _, hidden := errdefs.PublicMessage(err); {
	case ctx.Err() != nil:
		return errdefs.Unavailable("%s: %v", op, ctx.Err())
	case hidden: // the driver's Dial said it already
		return fmt.Errorf("%s: %w", op, err)
	}
	return sandbox.GuestUnreachable(fmt.Errorf("%s: %w", op, err))
}

// httpError classes a guest error response; the body is bounded and only its message is kept.
func httpError(method, path string, resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var e struct {
		Message string `json:"message"`
	}
	msg := strings.TrimSpace(string(raw))
	if json.Unmarshal(raw, &e) == nil && e.Message != "" {
		msg = e.Message
	}
	if msg == "" {
		msg = resp.Status
	}
	var class error
	switch resp.StatusCode {
	case http.StatusNotFound:
		class = errdefs.ErrNotFound
	case http.StatusBadRequest:
		class = errdefs.ErrInvalidArgument
	case http.StatusUnauthorized:
		return unauthenticated(msg)
	case http.StatusForbidden:
		class = errdefs.ErrPermissionDenied
	case http.StatusInsufficientStorage, http.StatusRequestEntityTooLarge:
		class = errdefs.ErrResourceExhausted
	case http.StatusConflict:
		class = errdefs.ErrAlreadyExists
	default:
		class = errdefs.ErrUnavailable
	}
	return errdefs.New(class, "%s", msg)
}

func tokenInterceptor(token string) connect.Interceptor {
	return &headerInterceptor{token: token}
}

// Envs returns the sandbox-wide environment (GET /envs, token-protected).
func (c *Client) Envs(ctx context.Context) (map[string]string, error) {
	resp, err := c.do(ctx, http.MethodGet, "/envs", nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]string{}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return nil, errdefs.Unavailable("decode guest /envs: %v", err)
	}
	return out, nil
}

// Metrics reads the sandbox's resource use as its guest sees it.
func (c *Client) Metrics(ctx context.Context) (*guestproto.Metrics, error) {
	resp, err := c.do(ctx, http.MethodGet, "/metrics", nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var m guestproto.Metrics
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&m); err != nil {
		return nil, errdefs.Unavailable("decode guest /metrics: %v", err)
	}
	return &m, nil
}

// MetricsRange reads the samples the guest took between start and end (unix seconds,
// inclusive), oldest first, with a current reading when the range holds the present.
func (c *Client) MetricsRange(ctx context.Context, start, end int64) ([]guestproto.Metrics, error) {
	resp, err := c.do(ctx, http.MethodGet, fmt.Sprintf("/metrics?start=%d&end=%d", start, end), nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var ms []guestproto.Metrics
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&ms); err != nil {
		return nil, errdefs.Unavailable("decode guest /metrics: %v", err)
	}
	return ms, nil
}

// Transport is the round tripper that reaches this sandbox's guest (for proxies).
func (c *Client) Transport() http.RoundTripper { return c.http.Transport }
