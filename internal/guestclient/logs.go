package guestclient

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
)

// maxLogLine bounds one NDJSON line of GET /logs (a log line is at most 16 KiB of text,
// which JSON escaping can make up to six times longer).
const maxLogLine = 128 << 10

// LogStream reads the lines of a sandbox's log. Close it when done.
type LogStream struct {
	body io.ReadCloser
	sc   *bufio.Scanner
}

// Logs opens the sandbox's log (the output of its start command): the last tail lines (all
// the guest keeps when 0) and, with follow, every line after them until ctx ends or the
// stream is closed.
func (c *Client) Logs(ctx context.Context, tail int, follow bool) (*LogStream, error) {
	q := url.Values{}
	if tail > 0 {
		q.Set("tail", strconv.Itoa(tail))
	}
	if follow {
		q.Set("follow", "true")
	}
	resp, err := c.do(ctx, http.MethodGet, "/logs?"+q.Encode(), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("logs: %w", err)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 16<<10), maxLogLine)
	return &LogStream{body: resp.Body, sc: sc}, nil
}

// Next returns the next line, or io.EOF at the end of the stream.
func (s *LogStream) Next() (*guestproto.LogLine, error) {
	if !s.sc.Scan() {
		if err := s.sc.Err(); err != nil {
			return nil, errdefs.Unavailable("logs: %v", err)
		}
		return nil, io.EOF
	}
	var l guestproto.LogLine
	if err := json.Unmarshal(s.sc.Bytes(), &l); err != nil {
		return nil, errdefs.Unavailable("logs: bad line from the guest: %v", err)
	}
	return &l, nil
}

// Close ends the stream.
func (s *LogStream) Close() error { return s.body.Close() }
