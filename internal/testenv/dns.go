package testenv

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// DNSServer is an authoritative DNS server on loopback for tests: it answers A queries for
// the names it was given (over UDP and TCP) and NXDOMAIN for everything else.
type DNSServer struct {
	// Addr is "127.0.0.1:port", for UDP and TCP alike.
	Addr string
	// Queries counts the questions received.
	Queries atomic.Int64
	records map[string]netip.Addr
}

// StartDNS starts a DNS server answering records (name → IPv4 address), stopped when t ends.
func StartDNS(t testing.TB, records map[string]netip.Addr) *DNSServer {
	t.Helper()
	s := &DNSServer{records: map[string]netip.Addr{}}
	for k, v := range records {
		s.records[strings.ToLower(strings.TrimSuffix(k, "."))] = v
	}
	pc, ln, err := listenUDPAndTCP()
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = pc.LocalAddr().String()
	t.Cleanup(func() { pc.Close(); ln.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := s.answer(buf[:k]); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serveStream(c)
		}
	}()
	return s
}

func (s *DNSServer) serveStream(c net.Conn) {
	defer c.Close()
	for {
		var size uint16
		if err := binary.Read(c, binary.BigEndian, &size); err != nil {
			return
		}
		q := make([]byte, size)
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		resp := s.answer(q)
		if resp == nil {
			return
		}
		if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...)); err != nil {
			return
		}
	}
}

func (s *DNSServer) answer(query []byte) []byte {
	var p dnsmessage.Parser
	hdr, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	s.Queries.Add(1)
	addr, ok := s.records[strings.ToLower(strings.TrimSuffix(q.Name.String(), "."))]
	rcode := dnsmessage.RCodeSuccess
	if !ok {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: hdr.ID, Response: true, Authoritative: true,
		RecursionDesired: hdr.RecursionDesired, RCode: rcode})
	_ = b.StartQuestions()
	_ = b.Question(q)
	if ok && q.Type == dnsmessage.TypeA {
		_ = b.StartAnswers()
		_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60},
			dnsmessage.AResource{A: addr.As4()})
	}
	out, _ := b.Finish()
	return out
}

// NoDNS is an upstream resolver address for engines under test whose sandboxes must not
// resolve anything: nothing answers on the discard port of loopback, so lookups fail at once
// and no query leaves the machine.
const NoDNS = "127.0.0.1:9"

// listenUDPAndTCP binds one free loopback port for both UDP and TCP. The kernel picks the UDP
// port; its TCP twin may be taken by someone else, so a few ports are tried.
func listenUDPAndTCP() (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("tcp4", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("no loopback port free for both UDP and TCP: %w", lastErr)
}
