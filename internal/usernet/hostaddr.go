package usernet

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// hostAddrsTTL is how long the host's interface addresses are cached.
const hostAddrsTTL = 5 * time.Second

var hostAddrs struct {
	mu    sync.Mutex
	at    time.Time
	addrs map[netip.Addr]bool
}

// isHostAddr reports whether a is an address of one of the host's interfaces: a sandbox must
// not reach the host's services through its public or private addresses either.
func isHostAddr(a netip.Addr) bool {
	hostAddrs.mu.Lock()
	defer hostAddrs.mu.Unlock()
	if time.Since(hostAddrs.at) > hostAddrsTTL {
		hostAddrs.addrs = map[netip.Addr]bool{}
		ifAddrs, _ := net.InterfaceAddrs()
		for _, ia := range ifAddrs {
			if n, ok := ia.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok {
					hostAddrs.addrs[ip.Unmap()] = true
				}
			}
		}
		hostAddrs.at = time.Now()
	}
	return hostAddrs.addrs[a.Unmap()]
}
