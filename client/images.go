package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/paddock/paddock/apitype"
)

type (
	// Image is an image the server holds.
	Image = apitype.Image
	// PullProgress is one update of a pull: how far one layer's download has come. Layer is
	// empty on the first update, which only says how many layers there are.
	PullProgress = apitype.PullProgress
	// PruneResult is what PruneImages removed.
	PruneResult = apitype.PruneResult
)

// ListImages returns the server's images.
func (c *Client) ListImages(ctx context.Context) ([]Image, error) {
	var out []Image
	err := c.do(ctx, "GET", "/images", nil, &out)
	return out, err
}

// PullImage makes the server pull ref.
func (c *Client) PullImage(ctx context.Context, ref string) (*Image, error) {
	var out Image
	return &out, c.do(ctx, "POST", "/images/pull", apitype.PullRequest{Ref: ref}, &out)
}

// PullImageStream makes the server pull ref, calling fn (when non-nil) with every progress
// update as it arrives.
func (c *Client) PullImageStream(ctx context.Context, ref string, fn func(PullProgress)) (*Image, error) {
	var img *Image
	err := c.stream(ctx, "/images/pull", apitype.PullRequest{Ref: ref}, func(ev Event) error {
		switch ev.Type {
		case "progress":
			if p, ok := ev.PullProgress(); ok && fn != nil {
				fn(p)
			}
		case "done":
			img = &Image{}
			return json.Unmarshal(ev.Data, img)
		case "error":
			return &Error{Status: http.StatusOK, Message: ev.Message}
		}
		return nil
	})
	return img, err
}

// RemoveImage removes ref and the layers only it used.
func (c *Client) RemoveImage(ctx context.Context, ref string) error {
	return c.do(ctx, "DELETE", "/images/"+ref, nil, nil)
}

// ImportImage sends an image archive (a docker save tarball, an OCI image layout tar or a
// root filesystem tar, optionally gzipped) for the server to store as ref. The archive is
// streamed, never held in memory.
func (c *Client) ImportImage(ctx context.Context, ref string, archive io.Reader) (*Image, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.BaseURL+"/images/import?name="+url.QueryEscape(ref), archive)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-tar")
	req.Header.Set("Accept", "application/json")
	if c.APIKey != "" {
		req.Header.Set("X-API-Key", c.APIKey)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("paddock server at %s: %w", c.BaseURL, err)
	}
	var out Image
	return &out, decode(resp, &out)
}

// PruneImages removes the layers no image references (never layers a sandbox uses).
func (c *Client) PruneImages(ctx context.Context) (*PruneResult, error) {
	var out PruneResult
	return &out, c.do(ctx, "POST", "/images/prune", nil, &out)
}
