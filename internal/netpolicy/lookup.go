package netpolicy

import "net/netip"

// Family is a set of address families a sandbox network can reach.
type Family uint8

// Address families.
const (
	IPv4 Family = 1 << iota
	IPv6
)

// families are the address spaces the policy is searched over, and the prefix that does not
// belong to IPv6 although it is written as IPv6 (v4-mapped addresses are decided as IPv4).
var (
	allIPv4  = netip.MustParsePrefix("0.0.0.0/0")
	allIPv6  = netip.MustParsePrefix("::/0")
	v4Mapped = netip.MustParsePrefix("::ffff:0:0/96")
)

// DecideName decides whether a DNS query for name may leave the sandbox (be forwarded to
// the upstream resolvers), on a network that reaches the families in reach. A query is
// itself a channel out of the sandbox, so it leaves only when the policy could allow the
// name: a domain rule that denies it never, one that allows it always, and any other name
// only while some public address of a reachable family is allowed (so not under
// deny_out ["0.0.0.0/0"] on an IPv4 network, unless allow_out names public CIDRs).
func (p *Policy) DecideName(name string, reach Family) Verdict {
	best, ok := p.bestDomain([]string{name})
	switch {
	case ok && !best.allow:
		return Verdict{Rule: best.text, Reason: "domain denied by policy"}
	case ok:
		return Verdict{Allow: true, Rule: best.text, Reason: "domain allowed by policy"}
	case p.PublicAllowed(reach):
		return Verdict{Allow: true, Reason: "no rule for this name"}
	}
	return Verdict{Reason: "no public address is allowed (internet access off) and no domain rule allows this name"}
}

// PublicAllowed reports whether the policy allows some public address of a family in
// reach, by address alone (without a domain rule).
func (p *Policy) PublicAllowed(reach Family) bool {
	if p == nil {
		p = &Policy{}
	}
	return reach&IPv4 != 0 && !p.closedV4 || reach&IPv6 != 0 && !p.closedV6
}

// anyPublicAllowed searches within for a public address that decide allows with no names.
// Between the prefixes that matter (the policy's CIDRs and the fixed ranges), decisions
// are constant, so the search splits the address space only where one of them starts and
// tests one address of every piece: at most a few nodes per prefix bit, done once per
// Compile.
func (p *Policy) anyPublicAllowed(within netip.Prefix) bool {
	bounds := append(append(append([]netip.Prefix{}, neverRoutable...), private...), v4Mapped)
	for _, r := range p.rules {
		if !r.isDomain() {
			bounds = append(bounds, r.prefix)
		}
	}
	return p.search(within, bounds)
}

func (p *Policy) search(node netip.Prefix, bounds []netip.Prefix) bool {
	var inner []netip.Prefix
	for _, b := range bounds {
		if b.Addr().BitLen() == node.Addr().BitLen() && b.Bits() > node.Bits() && node.Contains(b.Addr()) {
			inner = append(inner, b)
		}
	}
	if len(inner) == 0 {
		a := node.Addr()
		if a.Is6() && v4Mapped.Contains(a) {
			return false // IPv4 in IPv6 clothing: searched with IPv4
		}
		return Routable(a) && !Private(a) && p.decide(a, nil).Allow
	}
	lo, hi := halves(node)
	return p.search(lo, inner) || p.search(hi, inner)
}

// halves splits a prefix into its two children.
func halves(p netip.Prefix) (netip.Prefix, netip.Prefix) {
	bits := p.Bits()
	b := p.Addr().As16()
	off := 0
	if p.Addr().Is4() {
		off = 96
	}
	i := off + bits
	b[i/8] |= 0x80 >> (i % 8)
	hi := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		hi = hi.Unmap()
	}
	return netip.PrefixFrom(p.Addr(), bits+1), netip.PrefixFrom(hi, bits+1)
}
