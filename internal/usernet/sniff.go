package usernet

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"time"
)

// maxSniff bounds how much of a connection is read before its destination is decided.
const maxSniff = 16 << 10

// sniff reads the start of a connection until it holds a TLS ClientHello or an HTTP request
// head, and returns the name it announces (SNI or Host; "" when none) and every byte read,
// which the caller must pass on. It gives up after timeout (server-speaks-first protocols).
func sniff(c net.Conn, timeout time.Duration) (string, []byte) {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	defer c.SetReadDeadline(time.Time{})
	var buf []byte
	chunk := make([]byte, 4096)
	for len(buf) < maxSniff {
		k, err := c.Read(chunk)
		buf = append(buf, chunk[:k]...)
		if name, done := announcedName(buf); done {
			return name, buf
		}
		if err != nil {
			break
		}
	}
	return "", buf
}

// announcedName finds the name in the start of a stream; done is false while more bytes
// could still reveal it.
func announcedName(b []byte) (name string, done bool) {
	switch {
	case len(b) == 0:
		return "", false
	case b[0] == 0x16: // TLS handshake record
		return tlsServerName(b)
	case looksLikeHTTP(b):
		return httpHost(b)
	}
	return "", true
}

var errSniffed = errors.New("sniffed")

// tlsServerName lets crypto/tls parse the ClientHello in b and keeps its server name.
func tlsServerName(b []byte) (string, bool) {
	var name string
	seen := false
	srv := tls.Server(&replayConn{r: bytes.NewReader(b)}, &tls.Config{
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			name, seen = h.ServerName, true
			return nil, errSniffed
		},
	})
	err := srv.Handshake()
	if seen {
		return name, true
	}
	// Out of bytes: the hello is not complete yet. Anything else: not a hello we can read.
	return "", !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF)
}

var httpMethods = []string{"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "}

// looksLikeHTTP reports whether b starts (or may start) an HTTP/1 request line.
func looksLikeHTTP(b []byte) bool {
	for _, m := range httpMethods {
		n := min(len(b), len(m))
		if string(b[:n]) == m[:n] {
			return true
		}
	}
	return false
}

// httpHost returns the Host header of the request head in b.
func httpHost(b []byte) (string, bool) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return "", len(b) >= maxSniff
	}
	lines := strings.Split(string(b[:end]), "\r\n")
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), "host") {
			return stripPort(strings.TrimSpace(v)), true
		}
	}
	return "", true
}

func stripPort(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// replayConn feeds recorded bytes to crypto/tls and swallows what it writes (alerts).
type replayConn struct {
	r *bytes.Reader
	net.Conn
}

func (c *replayConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *replayConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *replayConn) Close() error                     { return nil }
func (c *replayConn) SetDeadline(time.Time) error      { return nil }
func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }
func (c *replayConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *replayConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
