package guest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"

	"golang.org/x/net/http2"

	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/process"
)

// serveGuest runs the guest handler the way Serve does (HTTP/1.1 + h2c) on a test listener.
func serveGuest(t *testing.T) string {
	t.Helper()
	h, svc := NewHandler(guestenv.New("0"), process.NewDirectReaper(), nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = Serve(ctx, ln, h, discard()); close(done) }()
	t.Cleanup(func() { cancel(); <-done; svc.Shutdown(0) })
	return "http://" + ln.Addr().String()
}

// frames splits a connect streaming body into (flags, payload) envelopes.
func frames(t *testing.T, body []byte) (flags []byte, payloads [][]byte) {
	t.Helper()
	for len(body) >= 5 {
		n := binary.BigEndian.Uint32(body[1:5])
		if int(n) > len(body)-5 {
			t.Fatalf("truncated envelope")
		}
		flags = append(flags, body[0])
		payloads = append(payloads, body[5:5+n])
		body = body[5+n:]
	}
	return flags, payloads
}

// TestConnectJSONOnTheWire speaks Connect JSON as the E2B JS SDK does (HTTP/1.1, unary
// application/json and streaming application/connect+json) and checks the exact JSON names.
func TestConnectJSONOnTheWire(t *testing.T) {
	base := serveGuest(t)
	req := []byte(`{"process":{"cmd":"/bin/sh","args":["-c","printf hi; exit 3"]},"stdin":false}`)
	env := make([]byte, 5)
	binary.BigEndian.PutUint32(env[1:], uint32(len(req)))
	r, _ := http.NewRequest("POST", base+"/process.Process/Start", bytes.NewReader(append(env, req...)))
	r.Header.Set("Content-Type", "application/connect+json")
	r.Header.Set("Connect-Protocol-Version", "1")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/connect+json" || resp.Proto != "HTTP/1.1" {
		t.Fatalf("status %d, content type %q, proto %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Proto)
	}
	flags, payloads := frames(t, body)
	var events []map[string]map[string]map[string]any
	for i, p := range payloads {
		if flags[i] == 2 { // end of stream
			if string(p) != "{}" {
				t.Errorf("end-stream frame %s", p)
			}
			continue
		}
		var ev map[string]map[string]map[string]any
		if err := json.Unmarshal(p, &ev); err != nil {
			t.Fatalf("frame %d %s: %v", i, p, err)
		}
		events = append(events, ev)
	}
	if _, ok := events[0]["event"]["start"]["pid"]; !ok {
		t.Fatalf("first event %v, want event.start.pid", events[0])
	}
	if got := events[1]["event"]["data"]["stdout"]; got != "aGk=" { // base64("hi")
		t.Errorf("data event %v, want stdout aGk=", events[1])
	}
	end := events[len(events)-1]["event"]["end"]
	if end["exitCode"] != float64(3) || end["exited"] != true || end["status"] != "exit status 3" {
		t.Errorf("end event %v, want exitCode 3 (camelCase), exited, status", end)
	}

	// Unary JSON, with an error in connect's JSON shape.
	r, _ = http.NewRequest("POST", base+"/process.Process/SendSignal", bytes.NewReader([]byte(`{"process":{"pid":999999},"signal":"SIGNAL_SIGKILL"}`)))
	r.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var cerr struct{ Code, Message string }
	if resp.StatusCode != 404 || json.Unmarshal(body, &cerr) != nil || cerr.Code != "not_found" {
		t.Errorf("unknown pid: %d %s", resp.StatusCode, body)
	}
}

// TestH2C checks that the guest also speaks HTTP/2 without TLS.
func TestH2C(t *testing.T) {
	base := serveGuest(t)
	c := &http.Client{Transport: &http2.Transport{AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}}
	resp, err := c.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.ProtoMajor != 2 {
		t.Errorf("h2c health: %d over %s", resp.StatusCode, resp.Proto)
	}
}
