package usernet_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/netns"
	"github.com/paddock/paddock/internal/netpolicy"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
	"github.com/paddock/paddock/internal/usernet"
)

// world is a sandbox namespace on a user-mode network whose "internet" is a loopback HTTP
// server: every allowed connection is dialled there instead of its real address, which the
// test records. No packet leaves loopback.
type world struct {
	ns      string
	net     *usernet.Network
	dns     *testenv.DNSServer // the upstream resolver
	mu      sync.Mutex
	dialled []string
	viol    []usernet.Violation
}

func newWorld(t *testing.T, p sandbox.EgressPolicy) *world {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Require(t, "runc", "user-mode network tests need root (network namespaces, /dev/net/tun)")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from "+r.Host)
	}))
	t.Cleanup(srv.Close)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tls hello")
	}))
	t.Cleanup(tlsSrv.Close)
	dns := testenv.StartDNS(t, map[string]netip.Addr{
		"allowed.example": netip.MustParseAddr("203.0.113.10"),
		"blocked.example": netip.MustParseAddr("203.0.113.20"),
		"other.example":   netip.MustParseAddr("203.0.113.10"),
	})
	w := &world{ns: filepath.Join(t.TempDir(), "ns"), dns: dns}
	if err := netns.Create(w.ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := netns.Remove(w.ns); err != nil {
			t.Error(err)
		}
	})
	fd, err := netns.OpenTUN(w.ns, netns.TUN{Name: "eth0", MTU: usernet.MTU,
		Addr: usernet.GuestAddr, Gateway: usernet.Gateway})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := netpolicy.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	w.net, err = usernet.Start(fd, pol, usernet.Config{
		DNS: []string{dns.Addr},
		Dial: func(network, addr string, timeout time.Duration) (net.Conn, error) {
			w.mu.Lock()
			w.dialled = append(w.dialled, addr)
			w.mu.Unlock()
			target := srv.Listener.Addr().String()
			if strings.HasSuffix(addr, ":443") {
				target = tlsSrv.Listener.Addr().String()
			}
			return net.DialTimeout(network, target, timeout)
		},
		OnViolation: func(v usernet.Violation) {
			w.mu.Lock()
			w.viol = append(w.viol, v)
			w.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.net.Close() })
	return w
}

// dial opens a connection from inside the sandbox namespace.
func (w *world) dial(network, addr string) (net.Conn, error) {
	var c net.Conn
	err := netns.Do(w.ns, func() error {
		var err error
		c, err = net.DialTimeout(network, addr, 5*time.Second)
		return err
	})
	return c, err
}

// client is an HTTP client whose connections and DNS lookups start inside the namespace and
// go to the gateway's resolver.
func (w *world) client() *http.Client {
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return w.dial(network, usernet.Gateway.String()+":53")
	}}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, _ := net.SplitHostPort(addr)
			ips, err := res.LookupNetIP(ctx, "ip4", host)
			if err != nil {
				return nil, err
			}
			return w.dial("tcp4", net.JoinHostPort(ips[0].String(), port))
		},
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func (w *world) violations() []usernet.Violation {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]usernet.Violation(nil), w.viol...)
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestEgressAllowedAndResolved(t *testing.T) {
	w := newWorld(t, sandbox.EgressPolicy{})
	body, err := get(w.client(), "http://allowed.example/")
	if err != nil || body != "hello from allowed.example" {
		t.Fatalf("GET = %q, %v", body, err)
	}
	if len(w.dialled) == 0 || w.dialled[0] != "203.0.113.10:80" {
		t.Errorf("dialled %v, want 203.0.113.10:80", w.dialled)
	}
	if body, err := get(w.client(), "https://allowed.example/"); err != nil || body != "tls hello" {
		t.Errorf("GET https = %q, %v", body, err)
	}
}

func TestEgressDeniedDestinations(t *testing.T) {
	w := newWorld(t, sandbox.EgressPolicy{DenyOut: []string{"198.51.100.0/24"}})
	for _, addr := range []string{
		"198.51.100.7:80",    // denied by the policy
		"10.1.2.3:80",        // private by default
		"169.254.169.254:80", // the metadata service
		"10.0.2.2:22",        // the gateway itself
	} {
		// Denied before the handshake completes: the sandbox sees a refused connection.
		c, err := w.dial("tcp4", addr)
		if err == nil {
			c.Close()
			t.Errorf("%s: connection allowed", addr)
		} else if !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: %v, want connection refused", addr, err)
		}
	}
	for _, d := range w.dialled {
		t.Errorf("host dialled %s for a denied destination", d)
	}
	vs := w.violations()
	if len(vs) != 4 || vs[0].Dest != "198.51.100.7:80" || vs[0].Rule != "198.51.100.0/24" || vs[1].Reason == "" {
		t.Errorf("violations = %+v", vs)
	}
}

func TestEgressDomainRules(t *testing.T) {
	w := newWorld(t, sandbox.EgressPolicy{DenyOut: []string{"blocked.example"}})
	c := w.client()
	if _, err := get(c, "http://blocked.example/"); err == nil || !strings.Contains(err.Error(), "no such host") {
		t.Errorf("GET blocked.example: %v, want no such host", err)
	}
	// The address of a denied name, reached directly with the name announced: cut.
	req, _ := http.NewRequest(http.MethodGet, "http://203.0.113.20/", nil)
	req.Host = "blocked.example"
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
		t.Error("GET with Host: blocked.example was allowed")
	}
	// TLS with the denied name as SNI, to an address the sandbox learnt for another name.
	tc := &http.Client{Transport: c.Transport.(*http.Transport).Clone(), Timeout: 10 * time.Second}
	tc.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true, ServerName: "blocked.example"}
	if _, err := get(tc, "https://allowed.example/"); err == nil {
		t.Error("TLS with SNI blocked.example was allowed")
	}
	// Other names on the same policy still work, through the sniffing path.
	if body, err := get(c, "http://other.example/"); err != nil || body != "hello from other.example" {
		t.Errorf("GET other.example = %q, %v", body, err)
	}
	var kinds []string
	for _, v := range w.violations() {
		kinds = append(kinds, v.Proto+":"+v.Name)
	}
	want := []string{"dns:blocked.example", "tcp:blocked.example", "tcp:blocked.example"}
	if strings.Join(kinds, ",") != strings.Join(want, ",") {
		t.Errorf("violations %v, want %v", kinds, want)
	}
}

func TestEgressAllowListAndRuntimeChange(t *testing.T) {
	w := newWorld(t, sandbox.EgressPolicy{AllowOut: []string{"allowed.example"}, DenyOut: []string{"0.0.0.0/0"}})
	c := w.client()
	if body, err := get(c, "http://allowed.example/"); err != nil || body != "hello from allowed.example" {
		t.Fatalf("allowed name: %q, %v", body, err)
	}
	if _, err := get(c, "http://other.example/"); err == nil {
		t.Error("a name outside the allow list was reachable")
	}
	open, err := netpolicy.Compile(sandbox.EgressPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	w.net.SetPolicy(open)
	if body, err := get(w.client(), "http://other.example/"); err != nil || body != "hello from other.example" {
		t.Errorf("after opening the policy: %q, %v", body, err)
	}
}

func TestCloseRemovesDevice(t *testing.T) {
	w := newWorld(t, sandbox.EgressPolicy{})
	c, err := w.dial("tcp4", "203.0.113.10:80")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := w.net.Close(); err != nil {
		t.Fatal(err)
	}
	// The relayed connection is cut and the TUN device is gone from the namespace.
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || os.IsTimeout(err) {
		t.Errorf("read after Close: %v, want the connection reset", err)
	}
	// The kernel unregisters the device shortly after Close; Released says when it has.
	select {
	case <-w.net.Released():
	case <-time.After(5 * time.Second):
		t.Fatal("Released not closed 5 s after Close")
	}
	if netns.Do(w.ns, func() error { _, err := net.InterfaceByName("eth0"); return err }) == nil {
		t.Error("eth0 still exists once Released is closed")
	}
	// So a new device may take its name in the same namespace (a restart after a crash).
	fd, err := netns.OpenTUN(w.ns, netns.TUN{Name: "eth0", MTU: usernet.MTU, Addr: usernet.GuestAddr, Gateway: usernet.Gateway})
	if err != nil {
		t.Fatalf("a new eth0 after Released: %v", err)
	}
	_ = unix.Close(fd)
}
