package usernet

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/paddock/paddock/internal/netpolicy"
)

// DNS limits.
const (
	dnsTimeout  = 3 * time.Second
	dnsIdle     = 30 * time.Second
	maxDNSQuery = 4096
)

// resolver forwards the sandbox's allowed queries to the upstream resolvers.
type resolver struct {
	upstreams []string
}

// serveDNSPackets answers the queries of one UDP flow to port 53.
func (n *Network) serveDNSPackets(c net.Conn) {
	if !n.track(c) {
		return
	}
	defer n.untrack(c)
	defer c.Close()
	buf := make([]byte, maxDNSQuery)
	for {
		_ = c.SetReadDeadline(time.Now().Add(dnsIdle))
		k, err := c.Read(buf)
		if err != nil {
			return
		}
		if resp := n.answer(buf[:k], false); resp != nil {
			_, _ = c.Write(resp)
		}
	}
}

// serveDNSStream answers queries over one TCP connection (length-prefixed messages), which
// resolvers use when a UDP answer was truncated.
func (n *Network) serveDNSStream(c net.Conn) {
	if !n.track(c) {
		return
	}
	defer n.untrack(c)
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(dnsIdle))
		var size uint16
		if err := binary.Read(r, binary.BigEndian, &size); err != nil {
			return
		}
		q := make([]byte, size)
		if _, err := io.ReadFull(r, q); err != nil {
			return
		}
		resp := n.answer(q, true)
		if resp == nil {
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

// answer handles one query: a name the policy could not allow gets NXDOMAIN (and a
// violation) without anything leaving the sandbox, AAAA gets an empty answer (sandbox
// networks are IPv4 only), the rest goes upstream and the addresses in the answer are
// remembered as belonging to the name asked for. nil means drop.
func (n *Network) answer(query []byte, stream bool) []byte {
	var p dnsmessage.Parser
	hdr, err := p.Start(query)
	if err != nil || hdr.Response {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return reply(hdr, nil, dnsmessage.RCodeFormatError)
	}
	if _, err := p.Question(); !errors.Is(err, dnsmessage.ErrSectionDone) {
		// Only the first question is checked, so no query with more leaves.
		return reply(hdr, nil, dnsmessage.RCodeFormatError)
	}
	name := netpolicy.CanonicalName(q.Name.String())
	if v := n.policy.Load().DecideName(name, netpolicy.IPv4); !v.Allow {
		n.viol.report(Violation{Proto: "dns", Name: name, Rule: v.Rule, Reason: v.Reason})
		return reply(hdr, &q, dnsmessage.RCodeNameError)
	}
	if q.Type == dnsmessage.TypeAAAA {
		return reply(hdr, &q, dnsmessage.RCodeSuccess)
	}
	resp, err := n.dns.forward(query, stream)
	if err != nil {
		n.log.Debug("dns upstream", "name", name, "err", err)
		return reply(hdr, &q, dnsmessage.RCodeServerFailure)
	}
	n.learn(name, resp)
	return resp
}

// learn records the A records of resp as addresses of name.
func (n *Network) learn(name string, resp []byte) {
	var p dnsmessage.Parser
	if _, err := p.Start(resp); err != nil {
		return
	}
	if err := p.SkipAllQuestions(); err != nil {
		return
	}
	for {
		h, err := p.AnswerHeader()
		if err != nil {
			return
		}
		if h.Type != dnsmessage.TypeA {
			if err := p.SkipAnswer(); err != nil {
				return
			}
			continue
		}
		a, err := p.AResource()
		if err != nil {
			return
		}
		n.names.add(netip.AddrFrom4(a.A), name, time.Duration(h.TTL)*time.Second)
	}
}

// reply builds an answer without records to the query hdr/q.
func reply(hdr dnsmessage.Header, q *dnsmessage.Question, rcode dnsmessage.RCode) []byte {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: hdr.ID, Response: true, OpCode: hdr.OpCode,
		RecursionDesired: hdr.RecursionDesired, RecursionAvailable: true, RCode: rcode})
	if q != nil {
		_ = b.StartQuestions()
		_ = b.Question(*q)
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}

// forward asks each upstream in turn, over UDP (or TCP for stream queries).
func (r *resolver) forward(query []byte, stream bool) ([]byte, error) {
	if len(r.upstreams) == 0 {
		return nil, errors.New("no upstream resolver configured")
	}
	var last error
	for _, up := range r.upstreams {
		resp, err := exchange(up, query, stream)
		if err == nil {
			return resp, nil
		}
		last = err
	}
	return nil, last
}

func exchange(upstream string, query []byte, stream bool) ([]byte, error) {
	network := "udp"
	if stream {
		network = "tcp"
	}
	c, err := net.DialTimeout(network, upstream, dnsTimeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(dnsTimeout))
	if !stream {
		if _, err := c.Write(query); err != nil {
			return nil, err
		}
		buf := make([]byte, 65535)
		k, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		return buf[:k], nil
	}
	msg := binary.BigEndian.AppendUint16(nil, uint16(len(query)))
	if _, err := c.Write(append(msg, query...)); err != nil {
		return nil, err
	}
	var size uint16
	if err := binary.Read(c, binary.BigEndian, &size); err != nil {
		return nil, err
	}
	resp := make([]byte, size)
	_, err = io.ReadFull(c, resp)
	return resp, err
}

// hostResolvers reads the nameservers of a resolv.conf as ip:53 addresses.
func hostResolvers(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err == nil {
				out = append(out, netip.AddrPortFrom(a, 53).String())
			}
		}
	}
	return out
}

// ParseResolvers reads a comma-separated list of resolvers, each an IP address with an
// optional port ("192.0.2.53", "[2001:db8::53]:5353"), into ip:port strings.
func ParseResolvers(list string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if ap, err := netip.ParseAddrPort(s); err == nil {
			out = append(out, ap.String())
			continue
		}
		a, err := netip.ParseAddr(strings.Trim(s, "[]"))
		if err != nil {
			return nil, fmt.Errorf("resolver %q: want an IP address with an optional :port", s)
		}
		out = append(out, netip.AddrPortFrom(a, 53).String())
	}
	return out, nil
}
