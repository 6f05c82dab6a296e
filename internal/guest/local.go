package guest

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// local serves a handler on in-memory connections: the guest's own services as a client
// sees them, for the in-sandbox MCP server's tools. Nothing outside the guest process can
// reach it, so it checks no access token.
type local struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	srv   *http.Server
}

// serveLocal starts serving h; close stops it.
func serveLocal(h http.Handler) *local {
	l := &local{conns: make(chan net.Conn), done: make(chan struct{})}
	l.srv = &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = l.srv.Serve(l) }() // ends when close closes the listener
	return l
}

// dial opens a connection to the local server.
func (l *local) dial(ctx context.Context) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
	case <-ctx.Done():
	}
	client.Close()
	server.Close()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, net.ErrClosed
}

// close stops the server and closes its connections.
func (l *local) close() {
	l.Close()
	_ = l.srv.Close()
}

// Accept, Close and Addr make local the server's net.Listener.
func (l *local) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *local) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *local) Addr() net.Addr { return localAddr{} }

type localAddr struct{}

func (localAddr) Network() string { return "pipe" }
func (localAddr) String() string  { return "guest-local" }
