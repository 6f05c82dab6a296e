package netpolicy

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/sandbox"
)

func TestPublicAllowed(t *testing.T) {
	cases := []struct {
		name       string
		allow      []string
		deny       []string
		ipv4, ipv6 bool
	}{
		{"default", nil, nil, true, true},
		{"E2B internet off on IPv4", nil, []string{"0.0.0.0/0"}, false, true},
		{"both families off", nil, []string{"0.0.0.0/0", "::/0"}, false, false},
		{"halves of the space", nil, []string{"0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1"}, false, false},
		{"off but one public CIDR", []string{"203.0.113.0/24"}, []string{"0.0.0.0/0"}, true, true},
		{"off but one public address", []string{"198.51.100.7"}, []string{"0.0.0.0/0", "::/0"}, true, false},
		{"off but one public IPv6 range", []string{"2001:db8::/32"}, []string{"0.0.0.0/0", "::/0"}, false, true},
		{"off but a private range", []string{"10.0.0.0/8", "fd00::/8"}, []string{"0.0.0.0/0", "::/0"}, false, false},
		{"off but loopback (never routable)", []string{"127.0.0.0/8"}, []string{"0.0.0.0/0"}, false, true},
		{"allow and deny the same range: deny wins", []string{"0.0.0.0/0"}, []string{"0.0.0.0/0"}, false, true},
		{"deny every public /8 but one", nil, append(publicEights(), "0.0.0.0/0"), false, true},
		{"v4-mapped allow does not open IPv4", []string{"::ffff:203.0.113.0/120"}, []string{"0.0.0.0/0", "::/0"}, false, false},
		{"domains alone do not count", []string{"*.example.com"}, []string{"0.0.0.0/0", "::/0"}, false, false},
		{"a deny list leaves the rest", nil, []string{"203.0.113.0/24", "*.example.com"}, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile(sandbox.EgressPolicy{AllowOut: c.allow, DenyOut: c.deny})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.PublicAllowed(IPv4); got != c.ipv4 {
				t.Errorf("PublicAllowed(IPv4) = %v, want %v", got, c.ipv4)
			}
			if got := p.PublicAllowed(IPv6); got != c.ipv6 {
				t.Errorf("PublicAllowed(IPv6) = %v, want %v", got, c.ipv6)
			}
			if got := p.PublicAllowed(IPv4 | IPv6); got != (c.ipv4 || c.ipv6) {
				t.Errorf("PublicAllowed(both) = %v", got)
			}
			for _, v4 := range []bool{true, false} {
				if w, ok := p.publicWitness(v4); ok && (!p.DecideConn(w, nil, "").Allow || Private(w)) {
					t.Errorf("witness %s is not an allowed public address", w)
				}
			}
		})
	}
	var nilPolicy *Policy
	if !nilPolicy.PublicAllowed(IPv4) || !(&Policy{}).PublicAllowed(IPv6) {
		t.Error("nil and zero policies must allow public addresses")
	}
}

// publicEights denies every /8 that holds public addresses, except 1.0.0.0/8 which the
// catch-all then closes: the search must look past many pieces.
func publicEights() []string {
	var out []string
	for i := 2; i < 224; i++ {
		switch i {
		case 10, 127, 100, 169, 172, 192, 198:
			continue
		}
		out = append(out, netip.AddrFrom4([4]byte{byte(i), 0, 0, 0}).String()+"/8")
	}
	return out
}

func TestDecideNameForLookups(t *testing.T) {
	internetOff := sandbox.EgressPolicy{AllowOut: []string{"ok.blocked.example", "*.pypi.example"}, DenyOut: []string{"*.blocked.example", "0.0.0.0/0"}}
	denyList := sandbox.EgressPolicy{DenyOut: []string{"*.blocked.example", "exact.example"}}
	cases := []struct {
		policy sandbox.EgressPolicy
		name   string
		reach  Family
		allow  bool
		rule   string
	}{
		{denyList, "www.blocked.example", IPv4, false, "*.blocked.example"},
		{denyList, "A.BLOCKED.EXAMPLE.", IPv4, false, "*.blocked.example"},
		{denyList, "blocked.example", IPv4, true, ""},
		{denyList, "exact.example", IPv4, false, "exact.example"},
		{denyList, "sub.exact.example", IPv4, true, ""},
		{denyList, "anything.test", IPv4, true, ""},
		{internetOff, "anything.test", IPv4, false, ""},
		{internetOff, "7.113.0.203.in-addr.arpa", IPv4, false, ""},
		{internetOff, "www.blocked.example", IPv4, false, "*.blocked.example"},
		{internetOff, "ok.blocked.example.", IPv4, true, "ok.blocked.example"},
		{internetOff, "files.pypi.example", IPv4, true, "*.pypi.example"},
		{internetOff, "pypi.example", IPv4, false, ""},
		// IPv6 stays open under 0.0.0.0/0 alone: a network that reaches IPv6 still resolves.
		{internetOff, "anything.test", IPv4 | IPv6, true, ""},
		{sandbox.EgressPolicy{DenyOut: []string{"0.0.0.0/0", "::/0"}}, "anything.test", IPv4 | IPv6, false, ""},
		{sandbox.EgressPolicy{AllowOut: []string{"203.0.113.0/24"}, DenyOut: []string{"0.0.0.0/0"}}, "anything.test", IPv4, true, ""},
		{sandbox.EgressPolicy{AllowOut: []string{"10.0.0.0/8"}, DenyOut: []string{"0.0.0.0/0"}}, "intranet.test", IPv4, false, ""},
		{sandbox.EgressPolicy{AllowOut: []string{"intranet.test"}, DenyOut: []string{"0.0.0.0/0"}}, "intranet.test", IPv4, true, "intranet.test"},
	}
	for _, c := range cases {
		p, err := Compile(c.policy)
		if err != nil {
			t.Fatal(err)
		}
		v := p.DecideName(c.name, c.reach)
		if v.Allow != c.allow || v.Rule != c.rule || v.Reason == "" {
			t.Errorf("%+v: DecideName(%q, %d) = %+v, want allow=%v rule=%q with a reason", c.policy, c.name, c.reach, v, c.allow, c.rule)
		}
	}
}

// FuzzDecideName checks that a lookup is never refused when an answer to it could have
// been used: whenever a connection to a public address resolved for name is allowed, the
// lookup of name is too (and the other way round, a refused lookup means every such
// connection is denied).
func FuzzDecideName(f *testing.F) {
	f.Add("0.0.0.0/0", "*.example.com 203.0.113.0/24", "api.example.com", "203.0.113.9", true)
	f.Add("0.0.0.0/0 ::/0", "", "x.test", "2001:db8::1", false)
	f.Add("*.example.com", "ok.example.com", "ok.example.com", "198.51.100.1", true)
	f.Add("0.0.0.0/1 128.0.0.0/1", "", "a.b", "1.1.1.1", true)
	f.Fuzz(func(t *testing.T, deny, allow, name, addr string, v6 bool) {
		p, err := Compile(sandbox.EgressPolicy{AllowOut: fields(allow), DenyOut: fields(deny)})
		if err != nil {
			return
		}
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return
		}
		a = a.Unmap()
		reach := IPv4
		if v6 {
			reach = IPv4 | IPv6
		}
		if !Routable(a) || Private(a) || a.Is6() && !v6 {
			return
		}
		conn := p.DecideConn(a, []string{name}, "")
		look := p.DecideName(name, reach)
		if conn.Allow && !look.Allow {
			t.Fatalf("connection to %s for %q allowed (%+v) but its lookup refused (%+v)", a, name, conn, look)
		}
		if plain := p.DecideConn(a, nil, ""); plain.Allow && !p.PublicAllowed(reach) {
			t.Fatalf("%s allowed (%+v) while PublicAllowed(%d) = false", a, plain, reach)
		}
		// And PublicAllowed is never true without a public address the rules allow.
		for _, v4 := range []bool{true, false} {
			if w, ok := p.publicWitness(v4); ok {
				if w.Is4() != v4 || !Routable(w) || Private(w) || v4Mapped.Contains(w) || !p.DecideConn(w, nil, "").Allow {
					t.Fatalf("witness %s (v4=%v) is not an allowed public address: %+v", w, v4, p.DecideConn(w, nil, ""))
				}
			}
		}
	})
}

func fields(s string) []string {
	f := strings.Fields(s)
	if len(f) > 8 {
		f = f[:8]
	}
	return f
}

// BenchmarkCompile measures Compile with the search for an allowed public address: a
// typical policy, and both lists full of scattered public addresses (the search's worst
// case: every prefix splits the space down to its last bit).
func BenchmarkCompile(b *testing.B) {
	full := sandbox.EgressPolicy{}
	for i := range MaxRules {
		full.AllowOut = append(full.AllowOut, netip.AddrFrom4([4]byte{byte(11 + i%200), byte(i), 7, 9}).String())
		full.DenyOut = append(full.DenyOut, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 4: byte(i), 15: byte(i)}).String()+"/128")
	}
	full.DenyOut[0], full.DenyOut[1] = "0.0.0.0/0", "::/0"
	for name, p := range map[string]sandbox.EgressPolicy{
		"typical":      {AllowOut: []string{"*.github.com", "pypi.org", "203.0.113.0/24"}, DenyOut: []string{"0.0.0.0/0"}},
		"full-scatter": full,
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Compile(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecideName(b *testing.B) {
	p, err := Compile(sandbox.EgressPolicy{AllowOut: []string{"*.github.com", "pypi.org"}, DenyOut: []string{"0.0.0.0/0", "*.evil.test"}})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		p.DecideName("api.github.com.", IPv4)
		p.DecideName("x.attacker.test.", IPv4)
	}
}
