package guestclient_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/guest"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/guestproto"
)

// realGuest serves the real guest handler (not as PID 1: it signals its own processes) and
// returns a client holding its token.
func realGuest(t *testing.T) *guestclient.Client {
	t.Helper()
	h, svc := guest.NewHandler(guestenv.New(""), guest.DirectReaper(), nil)
	sock := filepath.Join(t.TempDir(), "g.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); svc.Shutdown(0) })
	dial := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}
	tok := "tok"
	if err := guestclient.New(dial, "").Init(context.Background(), guestproto.InitRequest{AccessToken: &tok}); err != nil {
		t.Fatal(err)
	}
	c := guestclient.New(dial, tok)
	t.Cleanup(c.Close)
	return c
}

// TestTerminate checks the client and the guest's POST /terminate together: a process that
// traps SIGTERM runs its trap and exits in time (not forced); one that ignores it is killed
// after the grace period (forced); both are gone when Terminate returns.
func TestTerminate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cases := []struct {
		name, script string
		grace        time.Duration
		forced       bool
	}{
		{"traps SIGTERM", `trap 'echo term > "$OUT"; exit 0' TERM; touch "$OUT.ready"; while :; do sleep 0.05; done`, time.Minute, false},
		{"ignores SIGTERM", `trap '' TERM; touch "$OUT.ready"; while :; do sleep 0.05; done`, 100 * time.Millisecond, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := realGuest(t)
			out := filepath.Join(t.TempDir(), "out")
			p, err := c.Start(ctx, guestclient.Command{Args: []string{"/bin/sh", "-c", tc.script}, Env: map[string]string{"OUT": out}})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			waitFile(t, out+".ready") // a SIGTERM before the trap is set would just kill the shell
			forced, err := c.Terminate(ctx, tc.grace)
			if err != nil || forced != tc.forced {
				t.Fatalf("Terminate = %v, %v; want forced=%v", forced, err, tc.forced)
			}
			for {
				_, end, err := p.Next()
				if err != nil {
					t.Fatalf("process stream: %v", err)
				}
				if end != nil {
					break
				}
			}
			_, err = os.Stat(out)
			if trapped := err == nil; trapped == tc.forced {
				t.Errorf("trap ran: %v; want %v", trapped, !tc.forced)
			}
		})
	}
	t.Run("bad grace", func(t *testing.T) {
		c := realGuest(t)
		if _, err := c.Terminate(ctx, -time.Second); err == nil {
			t.Error("a negative grace was accepted")
		}
	})
}

// waitFile polls for path (bounded).
func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s did not appear", path)
}
