package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
)

// octetStream is the media type of raw file bodies.
const octetStream = "application/octet-stream"

// Download streams a file out of a sandbox (the raw route: any size, nothing held in
// memory). size is the file's length, or -1 when the server does not know it in advance
// (files in /proc). The caller closes the reader; a body cut short reads as an error.
func (c *Client) Download(ctx context.Context, name, path string) (rc io.ReadCloser, size int64, err error) {
	resp, err := c.raw(ctx, http.MethodGet, "/sandboxes/"+esc(name)+"/files/"+filePath(path), nil, -1)
	if err != nil {
		return nil, 0, err
	}
	return resp.Body, resp.ContentLength, nil
}

// Upload streams r into a file in a sandbox, creating or replacing it (the raw route: any
// size). size is r's length when known (-1 otherwise).
func (c *Client) Upload(ctx context.Context, name, path string, r io.Reader, size int64) error {
	resp, err := c.raw(ctx, http.MethodPut, "/sandboxes/"+esc(name)+"/files/"+filePath(path), r, size)
	if err != nil {
		return err
	}
	return decode(resp, nil)
}

// ReadFile returns a file's content, held in memory: use Download for large files.
func (c *Client) ReadFile(ctx context.Context, name, path string) ([]byte, error) {
	rc, _, err := c.Download(ctx, name, path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// WriteFile creates or replaces a file in a sandbox with data.
func (c *Client) WriteFile(ctx context.Context, name, path string, data []byte) error {
	return c.Upload(ctx, name, path, bytes.NewReader(data), int64(len(data)))
}

// raw sends a request whose body (when body is non-nil) or answer is a file's bytes. An
// answer that is not 2xx is returned as an *Error.
func (c *Client) raw(ctx context.Context, method, path string, body io.Reader, size int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", octetStream)
		if size >= 0 {
			req.ContentLength = size
		}
		req.Header.Set("Accept", "application/json")
	} else {
		req.Header.Set("Accept", octetStream)
	}
	if c.APIKey != "" {
		req.Header.Set("X-API-Key", c.APIKey)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("paddock server at %s: %w", c.BaseURL, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, decode(resp, nil)
	}
	return resp, nil
}
