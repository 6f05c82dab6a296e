package netpolicy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

func TestCompileRejects(t *testing.T) {
	cases := []struct {
		entry, want string
	}{
		{"", "empty"},
		{"10.0.0.0/33", "CIDR"},
		{"1.2.3/8", "CIDR"},
		{"exa mple.com", "domain"},
		{"*.", "domain"},
		{"a.*.com", "wildcard"},
		{"**.example.com", "wildcard"},
		{"-bad.example.com", "'-'"},
		{"localhost", "two labels"},
		{"ex..ample.com", "label"},
		{strings.Repeat("a", 64) + ".com", "label"},
		{"bücher.de", "xn--"},
	}
	for _, c := range cases {
		_, err := Compile(sandbox.EgressPolicy{DenyOut: []string{c.entry}})
		if err == nil || !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "denyOut") {
			t.Errorf("Compile(%q) = %v, want invalid argument naming denyOut and %q", c.entry, err, c.want)
		}
	}
	many := make([]string, MaxRules+1)
	for i := range many {
		many[i] = "1.2.3.4"
	}
	if _, err := Compile(sandbox.EgressPolicy{AllowOut: many}); err == nil {
		t.Error("Compile accepted more than MaxRules entries")
	}
}

func TestDecideConn(t *testing.T) {
	cases := []struct {
		name     string
		policy   sandbox.EgressPolicy
		addr     string
		resolved []string
		claimed  string
		allow    bool
	}{
		{"public by default", sandbox.EgressPolicy{}, "203.0.113.7", nil, "", true},
		{"test range counts as public", sandbox.EgressPolicy{}, "198.51.100.10", nil, "", true},
		{"private by default", sandbox.EgressPolicy{}, "10.1.2.3", nil, "", false},
		{"rfc1918 172", sandbox.EgressPolicy{}, "172.20.0.1", nil, "", false},
		{"metadata service", sandbox.EgressPolicy{}, "169.254.169.254", nil, "", false},
		{"shared range", sandbox.EgressPolicy{}, "100.64.0.1", nil, "", false},
		{"ula v6", sandbox.EgressPolicy{}, "fd00::1", nil, "", false},
		{"v4-mapped private", sandbox.EgressPolicy{}, "::ffff:10.0.0.1", nil, "", false},
		{"loopback never", sandbox.EgressPolicy{AllowOut: []string{"127.0.0.0/8"}}, "127.0.0.1", nil, "", false},
		{"v6 loopback never", sandbox.EgressPolicy{AllowOut: []string{"::/0"}}, "::1", nil, "", false},
		{"multicast never", sandbox.EgressPolicy{AllowOut: []string{"0.0.0.0/0"}}, "224.0.0.1", nil, "", false},
		{"private allowed by cidr", sandbox.EgressPolicy{AllowOut: []string{"10.0.0.0/8"}}, "10.1.2.3", nil, "", true},
		{"denied cidr", sandbox.EgressPolicy{DenyOut: []string{"203.0.113.0/24"}}, "203.0.113.7", nil, "", false},
		{"bare ip denied", sandbox.EgressPolicy{DenyOut: []string{"203.0.113.7"}}, "203.0.113.7", nil, "", false},
		{"deny wins a tie", sandbox.EgressPolicy{AllowOut: []string{"203.0.113.0/24"}, DenyOut: []string{"203.0.113.0/24"}}, "203.0.113.7", nil, "", false},
		{"more specific allow beats deny-all", sandbox.EgressPolicy{AllowOut: []string{"203.0.113.7/32"}, DenyOut: []string{"0.0.0.0/0"}}, "203.0.113.7", nil, "", true},
		{"deny-all denies others", sandbox.EgressPolicy{AllowOut: []string{"203.0.113.7/32"}, DenyOut: []string{"0.0.0.0/0"}}, "203.0.113.8", nil, "", false},
		{"resolved domain allowed past deny-all", sandbox.EgressPolicy{AllowOut: []string{"*.example.com"}, DenyOut: []string{"0.0.0.0/0"}}, "203.0.113.7", []string{"api.example.com."}, "", true},
		{"wildcard does not match apex", sandbox.EgressPolicy{AllowOut: []string{"*.example.com"}, DenyOut: []string{"0.0.0.0/0"}}, "203.0.113.7", []string{"example.com"}, "", false},
		{"unresolved address stays denied", sandbox.EgressPolicy{AllowOut: []string{"example.com"}, DenyOut: []string{"0.0.0.0/0"}}, "203.0.113.7", nil, "", false},
		{"claimed name never allows", sandbox.EgressPolicy{AllowOut: []string{"example.com"}, DenyOut: []string{"0.0.0.0/0"}}, "203.0.113.7", nil, "example.com", false},
		{"claimed name must agree", sandbox.EgressPolicy{AllowOut: []string{"example.com"}, DenyOut: []string{"0.0.0.0/0"}}, "203.0.113.7", []string{"example.com"}, "evil.test.org", false},
		{"claimed allowed name agrees", sandbox.EgressPolicy{AllowOut: []string{"*.example.com"}, DenyOut: []string{"0.0.0.0/0"}}, "203.0.113.7", []string{"a.example.com"}, "b.example.com", true},
		{"denied domain by resolution", sandbox.EgressPolicy{DenyOut: []string{"blocked.example"}}, "203.0.113.7", []string{"BLOCKED.example."}, "", false},
		{"denied domain by claimed name", sandbox.EgressPolicy{DenyOut: []string{"*.blocked.example"}}, "203.0.113.7", nil, "www.blocked.example", false},
		{"other claimed name passes", sandbox.EgressPolicy{DenyOut: []string{"blocked.example"}}, "203.0.113.7", nil, "fine.example", true},
		{"exact beats wildcard", sandbox.EgressPolicy{AllowOut: []string{"ok.blocked.example"}, DenyOut: []string{"*.blocked.example"}}, "203.0.113.7", []string{"ok.blocked.example"}, "", true},
		{"domain allow cannot open private ranges without resolution", sandbox.EgressPolicy{AllowOut: []string{"intranet.example"}}, "10.0.0.5", nil, "intranet.example", false},
		{"domain allow opens a private address it resolved to", sandbox.EgressPolicy{AllowOut: []string{"intranet.example"}}, "10.0.0.5", []string{"intranet.example"}, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile(c.policy)
			if err != nil {
				t.Fatal(err)
			}
			v := p.DecideConn(netip.MustParseAddr(c.addr), c.resolved, c.claimed)
			if v.Allow != c.allow || v.Reason == "" {
				t.Errorf("DecideConn(%s, %v, %q) = %+v, want allow=%v with a reason", c.addr, c.resolved, c.claimed, v, c.allow)
			}
		})
	}
}

func TestHasDomainRules(t *testing.T) {
	p, err := Compile(sandbox.EgressPolicy{AllowOut: []string{"ok.blocked.example"}, DenyOut: []string{"*.blocked.example", "0.0.0.0/0"}})
	if err != nil {
		t.Fatal(err)
	}
	if !p.HasDomainRules() {
		t.Error("HasDomainRules = false")
	}
	if q, _ := Compile(sandbox.EgressPolicy{DenyOut: []string{"10.0.0.0/8"}}); q.HasDomainRules() {
		t.Error("HasDomainRules = true for a CIDR-only policy")
	}
}

func TestNilPolicyAllowsPublicOnly(t *testing.T) {
	var p *Policy
	if !p.DecideConn(netip.MustParseAddr("203.0.113.1"), nil, "x.example").Allow {
		t.Error("nil policy denied a public address")
	}
	if p.DecideConn(netip.MustParseAddr("192.168.1.1"), nil, "").Allow {
		t.Error("nil policy allowed a private address")
	}
	if !p.DecideName("anything.example", IPv4).Allow {
		t.Error("nil policy denied a lookup")
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "*.example.com", "example.com", "::1", "1.2.3.4", "a-b.c_d.example", "*", ""} {
		f.Add(s, "203.0.113.5", "x.example.com")
	}
	f.Fuzz(func(t *testing.T, entry, addr, name string) {
		p, err := Compile(sandbox.EgressPolicy{AllowOut: []string{entry}, DenyOut: []string{entry}})
		if err != nil {
			return
		}
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return
		}
		// An entry in both lists is denied wherever it matches; and nothing is ever allowed
		// to a never-routable address.
		v := p.DecideConn(a, []string{name}, name)
		if v.Allow && !Routable(a) {
			t.Fatalf("allowed unroutable %s", a)
		}
		if v.Allow && v.Rule == entry {
			t.Fatalf("entry %q in both lists allowed %s", entry, a)
		}
	})
}
