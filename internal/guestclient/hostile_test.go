package guestclient

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// hostileGuest serves whatever handler on a unix socket and returns a client for it.
func hostileGuest(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	dir := t.TempDir()
	ln, err := net.Listen("unix", dir+"/g.sock")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	c := New(func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", dir+"/g.sock")
	}, "tok")
	t.Cleanup(c.Close)
	return c
}

func envelope(flags byte, body string) []byte {
	b := make([]byte, 5+len(body))
	b[0] = flags
	binary.BigEndian.PutUint32(b[1:], uint32(len(body)))
	copy(b[5:], body)
	return b
}

// TestHostileGuestCannotCrashHost feeds the client malformed, oversized and out-of-order
// guest answers: each must come back as an error, never a panic or a hang.
func TestHostileGuestCannotCrashHost(t *testing.T) {
	streamWith := func(frames ...[]byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/connect+proto")
			w.WriteHeader(http.StatusOK)
			for _, f := range frames {
				_, _ = w.Write(f)
			}
		}
	}
	huge := make([]byte, 5)
	huge[0] = 0
	binary.BigEndian.PutUint32(huge[1:], 0xFFFFFFFF)
	cases := map[string]http.HandlerFunc{
		"garbage body":        func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("\x00\x01garbage")) },
		"html error":          func(w http.ResponseWriter, r *http.Request) { http.Error(w, "<html>"+strings.Repeat("x", 1<<20), 500) },
		"frame claims 4 GiB":  streamWith(huge),
		"truncated frame":     streamWith(envelope(0, "abc")[:6]),
		"not protobuf":        streamWith(envelope(0, "\xff\xff\xff\xff")),
		"no start event":      streamWith(envelope(0, "\x0a\x04\x22\x00"), envelope(2, "{}")),
		"end stream only":     streamWith(envelope(2, "{}")),
		"bad end stream json": streamWith(envelope(2, "{not json")),
		"hang up": func(w http.ResponseWriter, r *http.Request) {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			c := hostileGuest(t, h)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			p, err := c.Start(ctx, Command{Args: []string{"true"}})
			if err == nil {
				// A process handle may exist only if a start event was sent; reading on must fail.
				_, end, err := p.Next()
				if err == nil && end == nil {
					t.Fatal("hostile stream produced neither an end nor an error")
				}
			}
			if err := c.Health(ctx); err == nil && name != "hang up" {
				t.Logf("health ok against %s", name)
			}
			if _, err := c.Envs(ctx); err == nil {
				t.Errorf("Envs accepted a hostile answer")
			}
		})
	}
}
