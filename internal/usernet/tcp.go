package usernet

import (
	"io"
	"net"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Timeouts of the TCP path.
const (
	dialTimeout = 10 * time.Second
	// sniffTimeout bounds how long a connection may stay silent before its destination is
	// decided without a name (protocols where the server speaks first).
	sniffTimeout = 500 * time.Millisecond
)

// handleTCP decides a new connection from the sandbox and relays it when allowed. It runs on
// its own goroutine (the forwarder starts one per SYN).
func (n *Network) handleTCP(r *tcp.ForwarderRequest) {
	if !n.enter() {
		r.Complete(true)
		return
	}
	defer n.leave()
	id := r.ID()
	dst := netip.AddrPortFrom(addrFrom(id.LocalAddress), id.LocalPort)
	if dst.Addr() == Gateway && dst.Port() == 53 {
		if c := n.accept(r); c != nil {
			n.serveDNSStream(c)
		}
		return
	}
	v := n.decide(dst.Addr(), "")
	if !v.Allow {
		r.Complete(true)
		n.viol.report(Violation{Proto: "tcp", Dest: dst.String(), Rule: v.Rule, Reason: v.Reason})
		return
	}
	if !n.policy.Load().HasDomainRules() {
		// Dial first, so that a refused or unreachable destination looks the same to the
		// sandbox as it would without Paddock: a reset.
		up, err := n.cfg.Dial("tcp", dst.String(), dialTimeout)
		if err != nil {
			r.Complete(true)
			return
		}
		c := n.accept(r)
		if c == nil {
			up.Close()
			return
		}
		n.relay(c, up, nil)
		return
	}
	c := n.accept(r)
	if c == nil {
		return
	}
	name, head := sniff(c, sniffTimeout)
	if v := n.decide(dst.Addr(), name); !v.Allow {
		n.untrack(c)
		abort(c)
		n.viol.report(Violation{Proto: "tcp", Dest: dst.String(), Name: name, Rule: v.Rule, Reason: v.Reason})
		return
	}
	up, err := n.cfg.Dial("tcp", dst.String(), dialTimeout)
	if err != nil {
		n.untrack(c)
		abort(c)
		return
	}
	n.relay(c, up, head)
}

// sandboxConn is the sandbox's end of a relayed connection.
type sandboxConn struct {
	*gonet.TCPConn
	ep tcpip.Endpoint
}

// accept completes the handshake with the sandbox and tracks the connection, so that Close
// cuts it; nil when it could not, or the network is closed.
func (n *Network) accept(r *tcp.ForwarderRequest) *sandboxConn {
	var wq waiter.Queue
	ep, err := r.CreateEndpoint(&wq)
	r.Complete(err != nil)
	if err != nil {
		return nil
	}
	c := &sandboxConn{TCPConn: gonet.NewTCPConn(&wq, ep), ep: ep}
	if !n.track(c) {
		return nil
	}
	return c
}

// abort ends c with a reset rather than an orderly close: the sandbox sees "connection
// reset", not an empty answer.
func abort(c *sandboxConn) {
	c.ep.Abort()
	c.Close()
}

// relay copies both ways between the sandbox's (tracked) connection and the host's until
// both sides are done, passing half-closes on. head is what was already read from the
// sandbox.
func (n *Network) relay(in *sandboxConn, out net.Conn, head []byte) {
	if !n.track(out) {
		abort(in)
		return
	}
	defer n.untrack(in, out)
	defer in.Close()
	defer out.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if len(head) > 0 {
			if _, err := out.Write(head); err != nil {
				return
			}
		}
		_, _ = io.Copy(out, in)
		closeWrite(out)
	}()
	_, _ = io.Copy(in, out)
	_ = in.CloseWrite()
	<-done
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}
