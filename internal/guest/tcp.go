package guest

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/paddock/paddock/internal/guestproto"
)

// preambleTimeout is how long a connection to a guest in TCP mode has to present its token.
const preambleTimeout = 5 * time.Second

// TokenListener wraps ln, a TCP listener that other tenants of the network can reach: Accept
// returns only connections that opened with guestproto.TokenPreamble(token), read under a
// short deadline and compared in constant time. Others are closed unanswered. Checks run
// concurrently, so that a slow or silent peer delays nobody else.
func TokenListener(ln net.Listener, token string) (net.Listener, error) {
	if len(token) < 16 {
		return nil, errors.New("guest token too short: want at least 16 characters")
	}
	t := &tokenListener{Listener: ln, want: guestproto.TokenPreamble(token), conns: make(chan net.Conn),
		errc: make(chan error, 1), done: make(chan struct{})}
	go t.acceptLoop()
	return t, nil
}

type tokenListener struct {
	net.Listener
	want  []byte
	conns chan net.Conn // checked connections, handed to Accept
	errc  chan error    // the inner listener's final error
	done  chan struct{} // closed by Close; acceptLoop and the checks end with it
	once  sync.Once
}

func (t *tokenListener) acceptLoop() {
	for {
		c, err := t.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			t.errc <- err
			return
		}
		go t.check(c)
	}
}

// check hands c to Accept when it presents the token, and closes it otherwise.
func (t *tokenListener) check(c net.Conn) {
	got := make([]byte, len(t.want))
	_ = c.SetReadDeadline(time.Now().Add(preambleTimeout))
	_, err := io.ReadFull(c, got)
	if err != nil || subtle.ConstantTimeCompare(got, t.want) != 1 {
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	select {
	case t.conns <- c:
	case <-t.done:
		c.Close()
	}
}

// Accept returns the next connection that presented the token.
func (t *tokenListener) Accept() (net.Conn, error) {
	select {
	case c := <-t.conns:
		return c, nil
	case err := <-t.errc:
		t.errc <- err // later calls fail alike
		return nil, err
	case <-t.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting.
func (t *tokenListener) Close() error {
	t.once.Do(func() { close(t.done) })
	return t.Listener.Close()
}

// CopySelf copies the running executable to dst (mode 0555), for an init container that
// installs the guest into a volume the sandbox's container mounts: the guest image holds
// nothing but this binary, not even cp.
func CopySelf(dst string) error {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return err
	}
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o555)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Close()
		return fmt.Errorf("copy the guest to %s: %w", dst, err)
	}
	return out.Close()
}
