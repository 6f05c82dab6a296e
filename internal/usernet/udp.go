package usernet

import (
	"net"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// udpIdle ends a UDP flow that has been silent this long.
const udpIdle = time.Minute

// handleUDP takes the first datagram of a new flow. It runs inline in the stack's packet
// path, so everything slow happens on a goroutine. Port 53 is DNS, whichever address it was
// sent to: answered by Paddock under the policy, so that a sandbox cannot use another
// resolver to learn denied names.
func (n *Network) handleUDP(r *udp.ForwarderRequest) {
	id := r.ID()
	dst := netip.AddrPortFrom(addrFrom(id.LocalAddress), id.LocalPort)
	if dst.Port() != 53 {
		if v := n.decide(dst.Addr(), ""); !v.Allow {
			n.viol.report(Violation{Proto: "udp", Dest: dst.String(), Rule: v.Rule, Reason: v.Reason})
			return
		}
	}
	if !n.enter() {
		return
	}
	var wq waiter.Queue
	ep, err := r.CreateEndpoint(&wq)
	if err != nil {
		n.leave()
		return
	}
	c := gonet.NewUDPConn(&wq, ep)
	go func() {
		defer n.leave()
		if dst.Port() == 53 {
			n.serveDNSPackets(c)
			return
		}
		n.relayUDP(c, dst)
	}()
}

// relayUDP forwards one flow's datagrams both ways until it is idle for udpIdle.
func (n *Network) relayUDP(in *gonet.UDPConn, dst netip.AddrPort) {
	out, err := n.cfg.Dial("udp", dst.String(), dialTimeout)
	if err != nil {
		in.Close()
		return
	}
	if !n.track(in, out) {
		return
	}
	defer n.untrack(in, out)
	defer in.Close()
	defer out.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		copyDatagrams(out, in)
		out.Close()
	}()
	copyDatagrams(in, out)
	in.Close()
	<-done
}

// copyDatagrams copies datagrams from src to dst until src is idle or either fails.
func copyDatagrams(dst, src net.Conn) {
	buf := make([]byte, 65535)
	for {
		_ = src.SetReadDeadline(time.Now().Add(udpIdle))
		k, err := src.Read(buf)
		if err != nil {
			return
		}
		if _, err := dst.Write(buf[:k]); err != nil {
			return
		}
	}
}
