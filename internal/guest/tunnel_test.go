package guest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/guestproto"
)

// tunnelGuest serves the guest handler (token "s3cret") on a unix socket, as the driver does,
// and returns the socket path.
func tunnelGuest(t *testing.T) string {
	t.Helper()
	settings := guestenv.New("0")
	tok := "s3cret"
	settings.Apply(guestproto.InitRequest{AccessToken: &tok})
	h := Handler(Config{Settings: settings, Logger: discard()})
	sock := t.TempDir() + "/g.sock"
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = Serve(ctx, ln, h, discard()) }()
	t.Cleanup(func() { cancel(); <-done })
	return sock
}

func guestClient(sock, token string) *guestclient.Client {
	return guestclient.New(func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}, token)
}

// echoServer listens on 127.0.0.1 and echoes; each connection's end is reported on closed.
func echoServer(t *testing.T) (port int, closed <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_, _ = io.Copy(c, c)
				c.Close()
				ch <- struct{}{}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, ch
}

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

func waitFor(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not happen", what)
	}
}

func TestTunnelSplicesAndClosesBothSides(t *testing.T) {
	sock := tunnelGuest(t)
	port, closed := echoServer(t)
	c := guestClient(sock, "s3cret")
	defer c.Close()
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		conn, err := c.DialPort(context.Background(), port)
		if err != nil {
			t.Fatal(err)
		}
		msg := "hello " + strconv.Itoa(i) + strings.Repeat("x", 100_000)
		go func() { _, _ = io.WriteString(conn, msg) }()
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(conn, got); err != nil || string(got) != msg {
			t.Fatalf("echo %d: %v (%d bytes)", i, err, len(got))
		}
		conn.Close()
		// Closing the host's end must close the connection to the sandbox's server.
		waitFor(t, "server side close after client close", closed)
	}
	// Every tunnel's goroutines are gone once both sides closed.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Errorf("goroutines: %d before the tunnels, %d after they closed", before, n)
	}
}

func TestTunnelServerCloseEndsClient(t *testing.T) {
	sock := tunnelGuest(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = io.WriteString(c, "bye")
			c.Close()
		}
	}()
	conn, err := guestClient(sock, "s3cret").DialPort(context.Background(), ln.Addr().(*net.TCPAddr).Port)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	b, err := io.ReadAll(conn) // ends with EOF once the server closed
	if err != nil || string(b) != "bye" {
		t.Fatalf("read %q, %v", b, err)
	}
}

func TestTunnelErrors(t *testing.T) {
	sock := tunnelGuest(t)
	port, _ := echoServer(t)
	closedPort := freePort(t)
	_, err := guestClient(sock, "s3cret").DialPort(context.Background(), closedPort)
	var pc *guestclient.PortClosedError
	if !errors.As(err, &pc) || pc.Port != closedPort || !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("closed port: %v, want PortClosedError for %d", err, closedPort)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(closedPort)) {
		t.Errorf("closed-port error does not name the port: %v", err)
	}
	// A refused guest token is Paddock's own failure, never the caller's 401.
	if _, err := guestClient(sock, "wrong").DialPort(context.Background(), port); err == nil ||
		errors.Is(err, errdefs.ErrUnauthenticated) || !strings.Contains(err.Error(), "refused paddock's credentials") {
		t.Errorf("wrong token: %v, want a refusal of paddock's credentials that is not unauthenticated", err)
	}
	for _, p := range []int{0, -1, 65536} {
		if _, err := guestClient(sock, "s3cret").DialPort(context.Background(), p); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("port %d: %v, want invalid argument", p, err)
		}
	}
	// The guest itself refuses bad ports and answers a closed one with JSON naming it.
	for path, want := range map[string]int{"/ports/0": 400, "/ports/70000": 400, "/ports/x": 400,
		"/ports/" + strconv.Itoa(closedPort): 502} {
		status, body := rawConnect(t, sock, path, "")
		if status != want {
			t.Errorf("CONNECT %s: %d %s, want %d", path, status, body, want)
		}
		if want == 502 && !strings.Contains(body, `"port":`+strconv.Itoa(closedPort)) {
			t.Errorf("CONNECT %s: body %s does not name the port", path, body)
		}
	}
}

// TestTunnelEarlyData sends bytes in the same write as the CONNECT request: they must reach
// the server, not be lost in the guest's read buffer.
func TestTunnelEarlyData(t *testing.T) {
	sock := tunnelGuest(t)
	port, _ := echoServer(t)
	status, body := rawConnect(t, sock, "/ports/"+strconv.Itoa(port), "early bytes")
	if status != 200 || body != "early bytes" {
		t.Errorf("early data: %d %q", status, body)
	}
}

// rawConnect sends CONNECT path (plus early bytes) on a raw guest connection and returns the
// status and what follows the headers (the JSON body, or len(early) echoed bytes).
func rawConnect(t *testing.T, sock, path, early string) (int, string) {
	t.Helper()
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	_, _ = io.WriteString(conn, "CONNECT "+path+" HTTP/1.1\r\nHost: guest\r\nX-Access-Token: s3cret\r\n\r\n"+early)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	b := make([]byte, len(early))
	if _, err := io.ReadFull(br, b); err != nil {
		t.Fatal(err)
	}
	return 200, string(b)
}
