package guestclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/paddock/paddock/internal/guestproto"
)

// Execute runs a cell and calls fn with every NDJSON event (stdout, stderr, result, error,
// number_of_executions, keepalive, end_of_execution) as it arrives. Cancelling ctx
// interrupts the cell; the context keeps its state.
func (c *Client) Execute(ctx context.Context, req guestproto.ExecuteRequest, fn func(map[string]any) error) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, http.MethodPost, "/execute", bytes.NewReader(body),
		http.Header{"Content-Type": {"application/json"}})
	if err != nil {
		return fmt.Errorf("execute: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxMessage)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("execute: bad event from the guest: %w", err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	return sc.Err()
}

// CreateContext starts a code context for language in cwd ("" = the default) and returns its ID.
func (c *Client) CreateContext(ctx context.Context, language, cwd string) (string, error) {
	body, _ := json.Marshal(map[string]string{"language": language, "cwd": cwd})
	resp, err := c.do(ctx, http.MethodPost, "/contexts", bytes.NewReader(body), http.Header{"Content-Type": {"application/json"}})
	if err != nil {
		return "", fmt.Errorf("create %s context: %w", language, err)
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.ID == "" {
		return "", fmt.Errorf("create %s context: bad answer from the guest", language)
	}
	return out.ID, nil
}

// RestartContext replaces a context's interpreter (its state is cleared).
func (c *Client) RestartContext(ctx context.Context, id string) error {
	resp, err := c.do(ctx, http.MethodPost, "/contexts/"+id+"/restart", nil, nil)
	if err != nil {
		return fmt.Errorf("restart context %s: %w", id, err)
	}
	resp.Body.Close()
	return nil
}

// DeleteContext ends a context.
func (c *Client) DeleteContext(ctx context.Context, id string) error {
	resp, err := c.do(ctx, http.MethodDelete, "/contexts/"+id, nil, nil)
	if err != nil {
		return fmt.Errorf("delete context %s: %w", id, err)
	}
	resp.Body.Close()
	return nil
}
