package netpolicy

import (
	"net/netip"
	"slices"
)

// Family is a set of address families a sandbox network can reach.
type Family uint8

// Address families.
const (
	IPv4 Family = 1 << iota
	IPv6
)

// The address spaces of the two families, and the prefix that is no IPv6 address space
// although it is written as IPv6 (v4-mapped addresses are decided as IPv4).
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

// publicWitness finds an address of one family (IPv4 when v4) that is public and that the
// CIDR rules and the default allow, and reports whether there is one. Without names, an
// address is decided by the most specific rule prefix containing it (allowed when that
// prefix has an allow rule and no deny rule), or by the default when none does. So such an
// address exists when some allowing prefix is not covered by the more specific prefixes
// inside it plus the non-public ranges, or when the rule prefixes plus the non-public
// ranges do not cover the whole family. O(n²) in the number of rules, once per Compile.
func (p *Policy) publicWitness(v4 bool) (netip.Addr, bool) {
	inFamily := func(q netip.Prefix) bool { return q.Addr().Is4() == v4 }
	var nonpublic []netip.Prefix
	for _, q := range append(append(append([]netip.Prefix{}, neverRoutable...), private...), v4Mapped) {
		if inFamily(q) {
			nonpublic = append(nonpublic, q)
		}
	}
	allows := map[netip.Prefix]bool{} // distinct rule prefixes: allowed when no deny names it
	for _, r := range p.rules {
		if r.isDomain() || !inFamily(r.prefix) {
			continue
		}
		allow, seen := allows[r.prefix]
		allows[r.prefix] = r.allow && (allow || !seen)
	}
	for q, allow := range allows {
		if !allow {
			continue
		}
		inside := append([]netip.Prefix{}, nonpublic...)
		for o := range allows {
			if o.Bits() > q.Bits() && q.Contains(o.Addr()) {
				inside = append(inside, o)
			}
		}
		if a, ok := uncovered(q, inside); ok {
			return a, true
		}
	}
	universe := allIPv6
	if v4 {
		universe = allIPv4
	}
	all := nonpublic
	for q := range allows {
		all = append(all, q)
	}
	return uncovered(universe, all)
}

// uncovered returns the first address of within that none of ps contains, if any. All
// prefixes are of within's family.
func uncovered(within netip.Prefix, ps []netip.Prefix) (netip.Addr, bool) {
	type span struct{ first, last netip.Addr }
	spans := make([]span, 0, len(ps))
	for _, q := range ps {
		if within.Overlaps(q) {
			q = q.Masked()
			if q.Bits() < within.Bits() {
				q = within
			}
			spans = append(spans, span{q.Addr(), lastAddr(q)})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.first.Compare(b.first) })
	cur, last := within.Masked().Addr(), lastAddr(within)
	for _, sp := range spans {
		if cur.Less(sp.first) {
			return cur, true
		}
		if !sp.last.Less(cur) {
			if !sp.last.Less(last) {
				return netip.Addr{}, false
			}
			cur = sp.last.Next()
		}
	}
	return cur, true
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	p = p.Masked()
	b := p.Addr().As16()
	from := p.Bits()
	if p.Addr().Is4() {
		from += 96
	}
	for i := from; i < 128; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		a = a.Unmap()
	}
	return a
}
