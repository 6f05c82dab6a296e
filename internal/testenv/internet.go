package testenv

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/netns"
)

// Internet is a stand-in for a host on the internet: an HTTP server in a network namespace
// the test made, reached from the host over the test's own veth pair with an address from a
// documentation range. Nothing is sent anywhere else: StartInternet checks that the host
// routes the address through the veth before the first packet.
type Internet struct {
	// Addr is the server's address (the .10 of the subnet); HostAddr the host's end (.1).
	Addr, HostAddr netip.Addr
	// Requests counts the HTTP requests the server answered.
	Requests atomic.Int64
}

// StartInternet builds the namespace, the veth pair and the server on subnet (a /24 from a
// documentation range: 198.51.100.0/24 or 203.0.113.0/24; 192.0.2.0/24 is the real network
// of some machines, this project's CI among them, which the route check catches), all
// removed when t ends. Tests that use the same subnet take turns (a lock file), so their
// routes never clash.
// The server answers GET / with "hello from <Host>", and GET /bytes?n=N with N bytes.
func StartInternet(t testing.TB, subnet netip.Prefix) *Internet {
	t.Helper()
	if os.Geteuid() != 0 {
		Require(t, "runc", "network tests need root (network namespaces, veth pairs)")
	}
	lockSubnet(t, subnet)
	base := subnet.Masked().Addr().As4()
	in := &Internet{Addr: netip.AddrFrom4([4]byte{base[0], base[1], base[2], 10}),
		HostAddr: netip.AddrFrom4([4]byte{base[0], base[1], base[2], 1})}
	dir := TempDir(t)
	ns := filepath.Join(dir, "inet")
	if err := netns.Create(ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = netns.Remove(ns) })
	hostIf := fmt.Sprintf("pdi%d", os.Getpid()%100000)
	if l, err := netlink.LinkByName(hostIf); err == nil {
		_ = netlink.LinkDel(l) // left by a killed test process with the same pid
	}
	if err := makeVeth(ns, hostIf, in, subnet.Bits()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(hostIf); err == nil {
			_ = netlink.LinkDel(l)
		}
	})
	checkRoute(t, hostIf, in.Addr)
	in.serve(t, ns)
	return in
}

// URL is the server's base URL.
func (in *Internet) URL() string { return "http://" + in.Addr.String() }

// makeVeth creates hostIf in the host namespace and its peer eth0 in ns, with addresses.
func makeVeth(ns, hostIf string, in *Internet, bits int) error {
	f, err := os.Open(ns)
	if err != nil {
		return err
	}
	defer f.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: hostIf}, PeerName: "eth0",
		PeerNamespace: netlink.NsFd(int(f.Fd()))}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("add veth %s: %w", hostIf, err)
	}
	if err := addrUp(hostIf, in.HostAddr, bits); err != nil {
		return err
	}
	return netns.Do(ns, func() error { return addrUp("eth0", in.Addr, bits) })
}

func addrUp(name string, a netip.Addr, bits int) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	ipn := &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(bits, 32)}
	if err := netlink.AddrAdd(l, &netlink.Addr{IPNet: ipn}); err != nil {
		return fmt.Errorf("address %s on %s: %w", a, name, err)
	}
	return netlink.LinkSetUp(l)
}

// checkRoute fails t unless the host sends packets for addr out of hostIf.
func checkRoute(t testing.TB, hostIf string, addr netip.Addr) {
	t.Helper()
	l, err := netlink.LinkByName(hostIf)
	if err != nil {
		t.Fatal(err)
	}
	routes, err := netlink.RouteGet(addr.AsSlice())
	if err != nil || len(routes) == 0 || routes[0].LinkIndex != l.Attrs().Index {
		t.Fatalf("the host does not route %s through the test's veth %s (routes %v, %v): refusing to send anything", addr, hostIf, routes, err)
	}
}

func (in *Internet) serve(t testing.TB, ns string) {
	var ln net.Listener
	err := netns.Do(ns, func() error {
		var err error
		ln, err = net.Listen("tcp4", net.JoinHostPort(in.Addr.String(), "80"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		in.Requests.Add(1)
		io.WriteString(w, "hello from "+r.Host)
	})
	mux.HandleFunc("GET /bytes", func(w http.ResponseWriter, r *http.Request) {
		in.Requests.Add(1)
		n, _ := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		buf := make([]byte, 64<<10)
		for n > 0 {
			k := min(n, int64(len(buf)))
			if _, err := w.Write(buf[:k]); err != nil {
				return
			}
			n -= k
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// lockSubnet holds an exclusive lock on subnet until t ends.
func lockSubnet(t testing.TB, subnet netip.Prefix) {
	path := filepath.Join(os.TempDir(), "paddock-testnet-"+subnet.Masked().Addr().String()+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}
