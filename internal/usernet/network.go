// Package usernet is a sandbox's user-mode network: a TCP/IP stack (gVisor's netstack) in
// the Paddock process, attached to a TUN device inside the sandbox's network namespace. Every
// connection the sandbox opens ends in this stack and is re-opened from the host by Paddock,
// after the sandbox's egress policy allowed it; DNS is answered by Paddock too. Nothing on
// the host changes: no routes, no firewall rules, no forwarding sysctl.
package usernet

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"github.com/paddock/paddock/internal/netpolicy"
)

// The sandbox side of every user-mode network looks the same: one interface with a fixed
// address, and a gateway that is also the DNS server. Nothing else answers on this subnet.
var (
	Subnet    = netip.MustParsePrefix("10.0.2.0/24")
	Gateway   = netip.MustParseAddr("10.0.2.2")
	GuestAddr = netip.PrefixFrom(netip.MustParseAddr("10.0.2.100"), 24)
)

// MTU is the TUN device's MTU. Large packets cut per-packet work in both stacks, as
// slirp4netns and pasta do.
const MTU = 65520

const nicID tcpip.NICID = 1

// Config is what every network of one engine shares.
type Config struct {
	// DNS are the upstream resolvers ("ip:port"); empty means the host's /etc/resolv.conf.
	DNS []string
	// OnViolation receives blocked connections and lookups, at most ViolationRate per
	// second per network (the rest are counted in the next one). May be nil.
	OnViolation func(Violation)
	// Dial opens the host side of an allowed connection (default: net.Dialer).
	Dial func(network, addr string, timeout time.Duration) (net.Conn, error)
	Log  *slog.Logger
}

// Network is one sandbox's running stack. Safe for concurrent use.
type Network struct {
	cfg    Config
	stack  *stack.Stack
	link   *tunLink
	log    *slog.Logger
	policy atomic.Pointer[netpolicy.Policy]
	names  *nameCache
	dns    *resolver
	viol   *violations

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // open relayed connections (both sides), closed by Close
	closed bool
	active int        // flow goroutines (connection and DNS handlers) still running
	idle   *sync.Cond // signalled when active drops to 0; Close waits on it
}

// Start runs a stack on the TUN device fd (the Network owns it from now on) under policy.
func Start(fd int, policy *netpolicy.Policy, cfg Config) (*Network, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Dial == nil {
		cfg.Dial = func(network, addr string, timeout time.Duration) (net.Conn, error) {
			return net.DialTimeout(network, addr, timeout)
		}
	}
	upstreams := cfg.DNS
	if len(upstreams) == 0 {
		upstreams = hostResolvers("/etc/resolv.conf")
	}
	n := &Network{cfg: cfg, log: cfg.Log, names: newNameCache(),
		dns: &resolver{upstreams: upstreams}, conns: map[net.Conn]struct{}{}}
	n.idle = sync.NewCond(&n.mu)
	n.viol = newViolations(cfg.OnViolation)
	n.policy.Store(policy)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tun: %w", err)
	}
	n.link = newTunLink(fd)
	s, err := n.newStack(n.link.ep)
	if err != nil {
		n.link.close()
		return nil, err
	}
	n.stack = s
	n.link.start()
	return n, nil
}

// newStack builds an IPv4 stack whose one NIC is link, and that accepts packets for every
// address, so that each connection reaches a forwarder.
func (n *Network) newStack(link stack.LinkEndpoint) (*stack.Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol},
	})
	sack := tcpip.TCPSACKEnabled(true)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack)
	// Handlers first: packets flow as soon as the NIC exists.
	s.SetTransportProtocolHandler(tcp.ProtocolNumber, tcp.NewForwarder(s, 0, 1024, n.handleTCP).HandlePacket)
	s.SetTransportProtocolHandler(udp.ProtocolNumber, udp.NewForwarder(s, n.handleUDP).HandlePacket)
	if terr := s.CreateNIC(nicID, link); terr != nil {
		s.Destroy()
		return nil, fmt.Errorf("netstack NIC: %v", terr)
	}
	if err := configureNIC(s); err != nil {
		s.Destroy()
		return nil, err
	}
	return s, nil
}

// configureNIC gives the NIC the gateway's address, lets it take packets for any address
// and send from any, and routes everything through it.
func configureNIC(s *stack.Stack) error {
	addr := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{
		Address: tcpip.AddrFrom4(Gateway.As4()), PrefixLen: Subnet.Bits()}}
	if terr := s.AddProtocolAddress(nicID, addr, stack.AddressProperties{}); terr != nil {
		return fmt.Errorf("netstack address: %v", terr)
	}
	if terr := s.SetPromiscuousMode(nicID, true); terr != nil {
		return fmt.Errorf("netstack promiscuous mode: %v", terr)
	}
	if terr := s.SetSpoofing(nicID, true); terr != nil {
		return fmt.Errorf("netstack spoofing: %v", terr)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: nicID}})
	return nil
}

// SetPolicy replaces the policy; connections already open are not cut.
func (n *Network) SetPolicy(p *netpolicy.Policy) { n.policy.Store(p) }

// Close cuts every relayed connection (with a reset, so that the sandbox does not wait on a
// dead peer), waits for the flows to end, stops the stack and closes the TUN device, which
// removes it from the sandbox's namespace.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	for c := range n.conns {
		closeConn(c)
	}
	for n.active > 0 {
		n.idle.Wait()
	}
	n.mu.Unlock()
	n.stack.Destroy()
	return n.link.close()
}

// Released is closed once Close has removed the TUN device from the sandbox's namespace,
// which Close itself does not wait for.
func (n *Network) Released() <-chan struct{} { return n.link.released }

// enter registers a flow goroutine; false once the network is closing. Every true must be
// followed by leave.
func (n *Network) enter() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return false
	}
	n.active++
	return true
}

func (n *Network) leave() {
	n.mu.Lock()
	n.active--
	if n.active == 0 {
		n.idle.Broadcast()
	}
	n.mu.Unlock()
}

// track registers connections for Close to cut; once the network is closing it cuts them
// at once and returns false.
func (n *Network) track(cs ...net.Conn) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		for _, c := range cs {
			closeConn(c)
		}
		return false
	}
	for _, c := range cs {
		n.conns[c] = struct{}{}
	}
	return true
}

func (n *Network) untrack(cs ...net.Conn) {
	n.mu.Lock()
	for _, c := range cs {
		delete(n.conns, c)
	}
	n.mu.Unlock()
}

func closeConn(c net.Conn) {
	if sc, ok := c.(*sandboxConn); ok {
		abort(sc)
		return
	}
	c.Close()
}

// decide applies the policy and the addresses no sandbox may reach (its own subnet and the
// host's own addresses) to a connection.
func (n *Network) decide(dst netip.Addr, claimed string) netpolicy.Verdict {
	dst = dst.Unmap()
	if Subnet.Contains(dst) || isHostAddr(dst) {
		return netpolicy.Verdict{Reason: "the host and the sandbox network are never reachable"}
	}
	return n.policy.Load().DecideConn(dst, n.names.lookup(dst), claimed)
}

func addrFrom(a tcpip.Address) netip.Addr {
	ip, _ := netip.AddrFromSlice(a.AsSlice())
	return ip.Unmap()
}

// errClosed is returned once the network is closed.
var errClosed = errors.New("network closed")
