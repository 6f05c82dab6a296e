package netpolicy

import (
	"errors"
	"net/netip"
	"strings"
)

// parseRule reads one entry: a CIDR, a bare IP, a domain name or "*." and a domain name.
func parseRule(s string) (rule, error) {
	text := s
	s = strings.TrimSpace(s)
	if s == "" {
		return rule{}, errors.New("empty entry")
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return rule{}, errors.New("not a valid CIDR")
		}
		return prefixRule(text, p.Masked()), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return prefixRule(text, netip.PrefixFrom(a, a.BitLen())), nil
	}
	wildcard := strings.HasPrefix(s, "*.")
	name := CanonicalName(strings.TrimPrefix(s, "*."))
	if err := checkDomain(name, wildcard); err != nil {
		return rule{}, err
	}
	labels := strings.Count(name, ".") + 1
	if wildcard {
		return rule{text: text, domain: name, wildcard: true, score: scoreWildcard + labels}, nil
	}
	return rule{text: text, domain: name, score: scoreExact + labels}, nil
}

// prefixRule scores a CIDR by its prefix length, IPv4 counted as IPv4-mapped IPv6 so that
// both families share one scale.
func prefixRule(text string, p netip.Prefix) rule {
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	return rule{text: text, prefix: p, score: bits}
}

// checkDomain accepts ASCII host names (IDNs in their xn-- form): labels of letters, digits,
// '-' and '_', 1 to 63 bytes, not starting or ending with '-', at most 253 bytes in all. An
// exact name needs two labels; a wildcard's suffix may be a single one ("*.test").
func checkDomain(name string, wildcard bool) error {
	if name == "" || len(name) > 253 {
		return errors.New("not a CIDR, an IP address or a domain name")
	}
	if strings.Contains(name, "*") {
		return errors.New("a wildcard is only allowed as a leading \"*.\"")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("not a valid domain name (empty or over-long label)")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("not a valid domain name (label starts or ends with '-')")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return errors.New("not a valid domain name (use letters, digits, '-' and the xn-- form of international names)")
			}
		}
	}
	if !wildcard && !strings.Contains(name, ".") {
		return errors.New("a domain rule needs at least two labels (example.com)")
	}
	return nil
}

// neverRoutable are addresses a sandbox's traffic never goes to, whatever the policy: the
// unspecified, loopback, multicast and broadcast ranges. (Loopback inside the sandbox is its
// own; the host's is never reachable.)
var neverRoutable = mustPrefixes(
	"0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/4", "255.255.255.255/32",
	"::/128", "::1/128", "ff00::/8",
)

// private are the ranges that are not the public internet: allowed only when a policy says
// so. RFC 1918, shared address space, link-local (the cloud metadata service), IETF protocol
// assignments, benchmarking, reserved, unique local and link-local IPv6, and NAT64.
var private = mustPrefixes(
	"10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
	"192.168.0.0/16", "198.18.0.0/15", "240.0.0.0/4",
	"fc00::/7", "fe80::/10", "64:ff9b::/96", "64:ff9b:1::/48",
)

// Routable reports whether traffic to addr may ever leave a sandbox.
func Routable(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() {
		return false
	}
	for _, p := range neverRoutable {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// Private reports whether addr is outside the public internet (a policy must allow it).
func Private(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range private {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}
