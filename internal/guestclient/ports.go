package guestclient

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
)

// tunnelHandshake bounds the CONNECT exchange with the guest (the guest itself gives up
// dialling the port after the guest's TunnelDialTimeout).
const tunnelHandshake = 15 * time.Second

// PortClosedError is DialPort's answer when nothing in the sandbox accepts connections on
// Port. Its class is errdefs.ErrUnavailable; surfaces answer it with 502 naming the port.
type PortClosedError struct{ Port int }

func (e *PortClosedError) Error() string {
	return fmt.Sprintf("nothing is listening on port %d in the sandbox", e.Port)
}

// Unwrap gives the error its class.
func (e *PortClosedError) Unwrap() error { return errdefs.ErrUnavailable }

// DialPort opens a TCP connection to port on the sandbox's loopback, tunnelled by the guest
// over a fresh guest connection (HTTP CONNECT /ports/{port}). The returned conn carries the
// raw byte stream; closing it closes the guest's side too.
func (c *Client) DialPort(ctx context.Context, port int) (net.Conn, error) {
	if port < 1 || port > 65535 {
		return nil, errdefs.InvalidArgument("port %d: use a number from 1 to 65535", port)
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, transportError(ctx, "dial guest", err)
	}
	br, err := c.connect(ctx, conn, port)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

// connect sends the CONNECT request on conn and reads the guest's answer, within ctx and
// the handshake bound.
func (c *Client) connect(ctx context.Context, conn net.Conn, port int) (*bufio.Reader, error) {
	ctx, cancel := context.WithTimeout(ctx, tunnelHandshake)
	defer cancel()
	dl, _ := ctx.Deadline()
	_ = conn.SetDeadline(dl)
	// Cancelling ctx unblocks the read below by moving the deadline into the past.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	path := "/ports/" + strconv.Itoa(port)
	req := "CONNECT " + path + " HTTP/1.1\r\nHost: guest\r\n"
	if c.token != "" {
		req += guestproto.AccessTokenHeader + ": " + c.token + "\r\n"
	}
	br := bufio.NewReader(conn)
	_, err := conn.Write([]byte(req + "\r\n"))
	var resp *http.Response
	if err == nil {
		resp, err = http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	}
	if !stop() || ctx.Err() != nil {
		return nil, errdefs.Unavailable("open tunnel to port %d: %v", port, context.Cause(ctx))
	}
	if err != nil {
		return nil, transportError(ctx, fmt.Sprintf("open tunnel to port %d", port), err)
	}
	_ = conn.SetDeadline(time.Time{})
	if resp.StatusCode == http.StatusOK {
		return br, nil
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusBadGateway {
		return nil, &PortClosedError{Port: port}
	}
	return nil, httpError(http.MethodConnect, path, resp)
}

// bufferedConn is a conn whose first bytes were read ahead while parsing the CONNECT answer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }
