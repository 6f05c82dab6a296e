package usernet

import (
	"crypto/tls"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/paddock/paddock/internal/netpolicy"
	"github.com/paddock/paddock/internal/sandbox"
)

// clientHello returns the first bytes a TLS client sends for serverName.
func clientHello(t testing.TB, serverName string) []byte {
	c, s := net.Pipe()
	defer s.Close()
	go func() {
		_ = tls.Client(c, &tls.Config{ServerName: serverName, InsecureSkipVerify: true}).Handshake()
		c.Close()
	}()
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16<<10)
	n, err := s.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

func TestAnnouncedName(t *testing.T) {
	hello := clientHello(t, "api.example.com")
	cases := []struct {
		in   string
		name string
		done bool
	}{
		{"GET / HTTP/1.1\r\nHost: Example.COM:8080\r\nAccept: */*\r\n\r\n", "Example.COM", true},
		{"POST /x HTTP/1.1\r\nhost:[2001:db8::1]:80\r\n\r\n", "2001:db8::1", true},
		{"GET / HTTP/1.1\r\nHost: a.example", "", false}, // head not complete yet
		{"GE", "", false},
		{"SSH-2.0-OpenSSH\r\n", "", true},
		{"GET / HTTP/1.0\r\n\r\n", "", true},
		{string(hello), "api.example.com", true},
		{string(hello[:20]), "", false},
		{"\x16\x03\x01\x00\x05garbage-after", "", true},
	}
	for _, c := range cases {
		name, done := announcedName([]byte(c.in))
		if name != c.name || done != c.done {
			t.Errorf("announcedName(%q) = %q, %v; want %q, %v", c.in, name, done, c.name, c.done)
		}
	}
}

// FuzzAnnouncedName: whatever a sandbox sends first, the sniffer neither panics nor claims a
// name that is not in the bytes.
func FuzzAnnouncedName(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"))
	f.Add(clientHello(f, "fuzz.example"))
	f.Add([]byte{0x16, 0x03, 0x01, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		name, _ := announcedName(b)
		if name != "" && !strings.Contains(strings.ToLower(string(b)), strings.ToLower(name)) {
			t.Fatalf("announced %q, which the bytes do not hold", name)
		}
	})
}

// FuzzDNSAnswer: any datagram a sandbox sends to port 53 is answered without panicking and
// without reaching an upstream when the name is denied.
func FuzzDNSAnswer(f *testing.F) {
	q := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 7, RecursionDesired: true})
	_ = q.StartQuestions()
	_ = q.Question(dnsmessage.Question{Name: dnsmessage.MustNewName("denied.example."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET})
	seed, _ := q.Finish()
	f.Add(seed)
	f.Add([]byte{0, 1, 0, 0, 0, 1})
	pol, err := netpolicy.Compile(sandbox.EgressPolicy{DenyOut: []string{"*.example", "denied.example"}})
	if err != nil {
		f.Fatal(err)
	}
	n := &Network{names: newNameCache(), dns: &resolver{}, viol: newViolations(nil), log: slog.New(slog.DiscardHandler)}
	n.policy.Store(pol)
	f.Fuzz(func(t *testing.T, b []byte) {
		resp := n.answer(b, false)
		if resp == nil {
			return
		}
		var p dnsmessage.Parser
		if _, err := p.Start(resp); err != nil {
			t.Fatalf("answer is not a DNS message: %v", err)
		}
	})
}
