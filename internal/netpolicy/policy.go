// Package netpolicy decides what an egress sandbox may reach: a compiled allow/deny policy
// over CIDRs and domain names, plus the address ranges that are private by default.
package netpolicy

import (
	"net/netip"
	"strings"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// MaxRules bounds each of a policy's lists.
const MaxRules = 256

// Scores order rules by how specific they are: the most specific matching rule decides, and
// deny wins between equals. Any domain rule is more specific than any CIDR, and an exact name
// more than a wildcard.
const (
	scoreWildcard = 200 // + labels of the suffix
	scoreExact    = 300 // + labels of the name
)

// rule is one compiled allowOut or denyOut entry.
type rule struct {
	allow    bool
	text     string       // the entry as the user wrote it
	prefix   netip.Prefix // valid for CIDR rules
	domain   string       // lower case, no trailing dot; for wildcards the suffix without "*."
	wildcard bool
	score    int
}

func (r rule) isDomain() bool { return r.domain != "" }

// Policy is a compiled sandbox.EgressPolicy. The zero value allows public addresses only.
// Safe for concurrent use: it is never modified after Compile.
type Policy struct {
	rules   []rule
	domains bool // some rule names a domain
	// closedV4 and closedV6: no public address of the family is allowed by address alone
	// (inverted, so that the zero value stays open).
	closedV4, closedV6 bool
}

// Compile validates p and compiles it. An invalid entry is an ErrInvalidArgument-class error
// naming the entry and its list.
func Compile(p sandbox.EgressPolicy) (*Policy, error) {
	out := &Policy{}
	for _, list := range []struct {
		name    string
		allow   bool
		entries []string
	}{{"allowOut", true, p.AllowOut}, {"denyOut", false, p.DenyOut}} {
		if len(list.entries) > MaxRules {
			return nil, errdefs.InvalidArgument("%s has %d entries: at most %d", list.name, len(list.entries), MaxRules)
		}
		for _, e := range list.entries {
			r, err := parseRule(e)
			if err != nil {
				return nil, errdefs.InvalidArgument("%s entry %q: %v", list.name, e, err)
			}
			r.allow = list.allow
			out.rules = append(out.rules, r)
			out.domains = out.domains || r.isDomain()
		}
	}
	_, openV4 := out.publicWitness(true)
	_, openV6 := out.publicWitness(false)
	out.closedV4, out.closedV6 = !openV4, !openV6
	return out, nil
}

// Validate reports whether p compiles.
func Validate(p sandbox.EgressPolicy) error {
	_, err := Compile(p)
	return err
}

// HasDomainRules reports whether any rule names a domain: only then is it worth learning
// which names a connection is for.
func (p *Policy) HasDomainRules() bool { return p != nil && p.domains }

// Verdict is a decision and what made it.
type Verdict struct {
	Allow bool
	// Rule is the entry that decided, or "" when the default did.
	Rule string
	// Reason says why, in a few words, for audit events and logs.
	Reason string
}

// DecideConn decides a connection to addr. resolved are the names this sandbox looked up and
// got addr for (proof that addr belongs to them); claimed is a name the connection itself
// announced (TLS SNI, HTTP Host), which the sandbox controls: it can deny a connection but
// never allow one.
func (p *Policy) DecideConn(addr netip.Addr, resolved []string, claimed string) Verdict {
	addr = addr.Unmap()
	if !Routable(addr) {
		return Verdict{Reason: "address is never reachable from a sandbox"}
	}
	v := p.decide(addr, resolved)
	if !v.Allow || claimed == "" || p == nil {
		return v
	}
	// The announced name must not be denied, and when only a domain rule let the connection
	// through, the announced name must be allowed by a domain rule too (else one allowed
	// name on a shared address would open every name hosted there).
	nameBest, ok := p.bestDomain([]string{claimed})
	switch {
	case ok && !nameBest.allow:
		return Verdict{Rule: nameBest.text, Reason: "announced name " + claimed + " denied by policy"}
	case p.decidedByDomain(v) && !ok:
		return Verdict{Reason: "announced name " + claimed + " is not an allowed domain"}
	}
	return v
}

// decide is DecideConn without the announced name.
func (p *Policy) decide(addr netip.Addr, names []string) Verdict {
	var best rule
	found := false
	if p != nil {
		for _, r := range p.rules {
			if !r.matches(addr, names) {
				continue
			}
			if !found || r.score > best.score || r.score == best.score && !r.allow {
				best, found = r, true
			}
		}
	}
	switch {
	case found && best.allow:
		return Verdict{Allow: true, Rule: best.text, Reason: "allowed by policy"}
	case found:
		return Verdict{Rule: best.text, Reason: "denied by policy"}
	case Private(addr):
		return Verdict{Reason: "private address (allow it with allowOut)"}
	}
	return Verdict{Allow: true, Reason: "public address"}
}

func (p *Policy) decidedByDomain(v Verdict) bool {
	for _, r := range p.rules {
		if r.text == v.Rule && r.allow && r.isDomain() {
			return true
		}
	}
	return false
}

// bestDomain returns the most specific domain rule matching any of names.
func (p *Policy) bestDomain(names []string) (rule, bool) {
	var best rule
	found := false
	if p == nil {
		return best, false
	}
	for _, r := range p.rules {
		if !r.isDomain() || !r.matches(netip.Addr{}, names) {
			continue
		}
		if !found || r.score > best.score || r.score == best.score && !r.allow {
			best, found = r, true
		}
	}
	return best, found
}

func (r rule) matches(addr netip.Addr, names []string) bool {
	if !r.isDomain() {
		return addr.IsValid() && r.prefix.Contains(addr)
	}
	for _, n := range names {
		n = CanonicalName(n)
		if r.wildcard && strings.HasSuffix(n, "."+r.domain) || !r.wildcard && n == r.domain {
			return true
		}
	}
	return false
}

// CanonicalName lower-cases a DNS name and drops its trailing dot.
func CanonicalName(n string) string {
	return strings.TrimSuffix(strings.ToLower(n), ".")
}
