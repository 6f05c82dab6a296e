package guest_test

import (
	"bufio"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/guest"
	"github.com/paddock/paddock/internal/guestproto"
)

// TestTokenListener checks that only connections opening with the right token are served:
// a wrong, absent or too slow token is closed unanswered, and does not hold up others.
func TestTokenListener(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := guest.TokenListener(inner, token)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	addr := inner.Addr().String()

	// A silent peer, connected first, must not delay the others.
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	cases := []struct {
		name     string
		preamble []byte
		served   bool
	}{
		{"right token", guestproto.TokenPreamble(token), true},
		{"wrong token", guestproto.TokenPreamble("fedcba9876543210fedcba9876543210"), false},
		{"no token", nil, false},
		{"short token", guestproto.TokenPreamble(token[:8]), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := health(t, addr, c.preamble); got != c.served {
				t.Errorf("served = %v, want %v", got, c.served)
			}
		})
	}
	if _, err := guest.TokenListener(inner, "short"); err == nil {
		t.Error("a short token was accepted")
	}
}

// health sends preamble, then GET /health, and reports whether a 204 came back.
func health(t *testing.T, addr string, preamble []byte) bool {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(append(preamble, "GET /health HTTP/1.1\r\nHost: guest\r\n\r\n"...)); err != nil {
		return false
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusNoContent
}
