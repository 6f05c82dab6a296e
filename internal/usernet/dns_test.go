package usernet_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/usernet"
)

// query sends one DNS question from inside the sandbox to server ("ip:53") over network
// ("udp4" or "tcp4") and returns the answer's code.
func (w *world) query(t *testing.T, network, server, name string, typ dnsmessage.Type) dnsmessage.RCode {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 42, RecursionDesired: true})
	_ = b.StartQuestions()
	_ = b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET})
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.dial(network, server)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var resp []byte
	if network == "tcp4" {
		if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)); err != nil {
			t.Fatal(err)
		}
		var size uint16
		if err := binary.Read(c, binary.BigEndian, &size); err != nil {
			t.Fatalf("%s %s over tcp: %v", name, typ, err)
		}
		resp = make([]byte, size)
		if _, err := io.ReadFull(c, resp); err != nil {
			t.Fatal(err)
		}
	} else {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		k, err := c.Read(buf)
		if err != nil {
			t.Fatalf("%s %s over udp: %v", name, typ, err)
		}
		resp = buf[:k]
	}
	var p dnsmessage.Parser
	h, err := p.Start(resp)
	if err != nil || h.ID != 42 || !h.Response {
		t.Fatalf("answer to %s: %+v, %v", name, h, err)
	}
	return h.RCode
}

// lookup resolves name through the sandbox's resolver as a program would.
func (w *world) lookup(name string) error {
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return w.dial(network, usernet.Gateway.String()+":53")
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := res.LookupNetIP(ctx, "ip4", name)
	return err
}

// TestDNSInternetOff is E2B's allow_internet_access: false: no query leaves the sandbox,
// whatever the name, type, transport or server address, except for names allow_out names.
func TestDNSInternetOff(t *testing.T) {
	w := newWorld(t, sandbox.EgressPolicy{AllowOut: []string{"allowed.example"}, DenyOut: []string{"0.0.0.0/0"}})
	gw := usernet.Gateway.String() + ":53"
	for _, c := range []struct {
		network, server, name string
		typ                   dnsmessage.Type
	}{
		{"udp4", gw, "other.example.", dnsmessage.TypeA},
		{"udp4", gw, "secret-data.attacker.test.", dnsmessage.TypeTXT},
		{"udp4", gw, "secret-data.attacker.test.", dnsmessage.TypeAAAA},
		{"udp4", gw, "10.113.0.203.in-addr.arpa.", dnsmessage.TypePTR},
		{"tcp4", gw, "over-tcp.attacker.test.", dnsmessage.TypeA},
		{"udp4", "203.0.113.53:53", "other-server.attacker.test.", dnsmessage.TypeA},
	} {
		if rc := w.query(t, c.network, c.server, c.name, c.typ); rc != dnsmessage.RCodeNameError {
			t.Errorf("%s %s via %s %s: %v, want NXDOMAIN", c.name, c.typ, c.network, c.server, rc)
		}
	}
	if err := w.lookup("blocked.example"); err == nil || !strings.Contains(err.Error(), "no such host") {
		t.Errorf("lookup blocked.example: %v, want no such host", err)
	}
	if n := w.dns.Queries.Load(); n != 0 {
		t.Fatalf("the upstream resolver got %d queries from a sandbox with the internet off", n)
	}
	for _, d := range w.dialled {
		t.Errorf("host dialled %s", d)
	}
	var names []string
	for _, v := range w.violations() {
		if v.Proto != "dns" || v.Reason == "" || v.Rule != "" {
			t.Errorf("violation %+v, want a dns one decided by the default", v)
		}
		names = append(names, v.Name)
	}
	want := "other.example secret-data.attacker.test secret-data.attacker.test 10.113.0.203.in-addr.arpa over-tcp.attacker.test other-server.attacker.test blocked.example"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("violations for %s, want %s", got, want)
	}
	// The name allow_out names still resolves, upstream.
	if err := w.lookup("allowed.example"); err != nil {
		t.Fatalf("lookup allowed.example: %v", err)
	}
	if n := w.dns.Queries.Load(); n != 1 {
		t.Errorf("upstream queries after the allowed lookup: %d, want 1", n)
	}
}

// TestDNSDeniedNameNeverLeaves: with the internet on, a name a domain rule denies is
// answered without asking upstream; other names are forwarded.
func TestDNSDeniedNameNeverLeaves(t *testing.T) {
	w := newWorld(t, sandbox.EgressPolicy{DenyOut: []string{"*.blocked.example", "blocked.example"}})
	for _, name := range []string{"blocked.example.", "www.blocked.example.", "Deep.Sub.BLOCKED.example."} {
		if rc := w.query(t, "udp4", usernet.Gateway.String()+":53", name, dnsmessage.TypeA); rc != dnsmessage.RCodeNameError {
			t.Errorf("%s: %v, want NXDOMAIN", name, rc)
		}
	}
	if n := w.dns.Queries.Load(); n != 0 {
		t.Fatalf("the upstream resolver got %d queries for denied names", n)
	}
	if err := w.lookup("other.example"); err != nil {
		t.Fatalf("lookup other.example: %v", err)
	}
	if n := w.dns.Queries.Load(); n != 1 {
		t.Errorf("upstream queries after an allowed lookup: %d, want 1", n)
	}
	if rc := w.query(t, "udp4", usernet.Gateway.String()+":53", "unknown.example.", dnsmessage.TypeTXT); rc != dnsmessage.RCodeNameError {
		t.Errorf("unknown.example: %v, want the upstream's NXDOMAIN", rc)
	}
	if n := w.dns.Queries.Load(); n != 2 {
		t.Errorf("upstream queries: %d, want 2 (names no rule denies are forwarded)", n)
	}
	vs := w.violations()
	if len(vs) != 3 || vs[0].Rule != "blocked.example" || vs[1].Rule != "*.blocked.example" {
		t.Errorf("violations = %+v", vs)
	}
}

// TestDNSPublicCIDRKeepsLookups: an allowed public range leaves room for any name, since
// its addresses may be what a name resolves to.
func TestDNSPublicCIDRKeepsLookups(t *testing.T) {
	w := newWorld(t, sandbox.EgressPolicy{AllowOut: []string{"203.0.113.0/24"}, DenyOut: []string{"0.0.0.0/0"}})
	body, err := get(w.client(), "http://other.example/")
	if err != nil || body != "hello from other.example" {
		t.Fatalf("GET other.example = %q, %v", body, err)
	}
	if w.dns.Queries.Load() == 0 {
		t.Error("the lookup did not reach the upstream resolver")
	}
}
