package guestclient

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
)

// Terminate asks the guest to end every process of the sandbox but itself: SIGTERM, up to
// grace for them to exit, then SIGKILL (POST /terminate). It returns once they are gone and
// reports whether any had to be killed. ctx should allow for grace.
func (c *Client) Terminate(ctx context.Context, grace time.Duration) (forced bool, err error) {
	body, err := json.Marshal(guestproto.TerminateRequest{GraceMs: grace.Milliseconds()})
	if err != nil {
		return false, err
	}
	resp, err := c.do(ctx, http.MethodPost, "/terminate", strings.NewReader(string(body)),
		http.Header{"Content-Type": {"application/json"}})
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var out guestproto.TerminateResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&out); err != nil {
		return false, errdefs.Unavailable("decode guest /terminate: %v", err)
	}
	return out.Forced, nil
}
