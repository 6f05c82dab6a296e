package manager_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
	"github.com/paddock/paddock/internal/sandbox"
)

// TestTrafficTokensAndPublicPorts checks that every sandbox, pooled or not, gets its own
// traffic token, and the rules of public ports.
func TestTrafficTokensAndPublicPorts(t *testing.T) {
	m, _, store := newManager(t, manager.PoolConfig{Image: "base", Profile: "moderate", Size: 1})
	ctx := context.Background()
	waitReady(t, m, 1)
	pooled, err := m.Create(ctx, sandbox.Spec{Name: "pooled"}, "")
	if err != nil {
		t.Fatal(err)
	}
	cold, err := m.CreateDedicated(ctx, sandbox.Spec{Name: "cold", Port: 3000, PublicPorts: []int{5000}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if pooled.TrafficToken == "" || cold.TrafficToken == "" || pooled.TrafficToken == cold.TrafficToken ||
		pooled.TrafficToken == pooled.GuestToken {
		t.Fatalf("traffic tokens: pooled %q, cold %q", pooled.TrafficToken, cold.TrafficToken)
	}
	if manager.AppPort(pooled) != manager.DefaultPort || manager.AppPort(cold) != 3000 {
		t.Errorf("app ports %d %d", manager.AppPort(pooled), manager.AppPort(cold))
	}
	for _, c := range []struct {
		sb    *sandbox.Sandbox
		port  int
		token string
		want  bool
	}{
		{cold, 5000, "", true},
		{cold, 3000, "", false},
		{cold, 3000, cold.TrafficToken, true},
		{cold, 3000, pooled.TrafficToken, false}, // another sandbox's token
		{cold, 3000, cold.TrafficToken + "x", false},
		{&sandbox.Sandbox{}, 3000, "", false}, // a record without a token accepts none
	} {
		if got := manager.TrafficAllowed(c.sb, c.port, c.token); got != c.want {
			t.Errorf("TrafficAllowed(%s, %d, %q) = %v", c.sb.Name, c.port, c.token, got)
		}
	}

	steps := []struct {
		port   int
		public bool
		want   string // public ports after the step, or the error class
	}{
		{3000, true, "[3000 5000]"},
		{3000, true, "[3000 5000]"}, // idempotent
		{manager.AllPorts, true, "[0 3000 5000]"},
		{3000, false, errdefs.ErrFailedPrecondition.Error()},
		{manager.AllPorts, false, "[3000 5000]"},
		{5000, false, "[3000]"},
		{3000, false, "[]"},
		{70000, true, errdefs.ErrInvalidArgument.Error()},
		{-1, true, errdefs.ErrInvalidArgument.Error()},
	}
	for _, s := range steps {
		sb, err := m.SetPortPublic(ctx, "cold", s.port, s.public)
		got := ""
		switch {
		case errors.Is(err, errdefs.ErrFailedPrecondition):
			got = errdefs.ErrFailedPrecondition.Error()
		case errors.Is(err, errdefs.ErrInvalidArgument):
			got = errdefs.ErrInvalidArgument.Error()
		case err != nil:
			t.Fatal(err)
		default:
			got = fmt.Sprint(sb.Spec.PublicPorts)
			stored, _ := store.GetSandbox(ctx, "cold")
			if fmt.Sprint(stored.Spec.PublicPorts) != got {
				t.Errorf("port %d: stored %v, returned %v", s.port, stored.Spec.PublicPorts, got)
			}
		}
		if got != s.want {
			t.Errorf("SetPortPublic(%d, %v): %s, want %s", s.port, s.public, got, s.want)
		}
	}
	if _, err := m.SetPortPublic(ctx, "ghost", 80, true); !errdefs.IsNotFound(err) {
		t.Errorf("unknown sandbox: %v", err)
	}
	for _, spec := range []sandbox.Spec{{PublicPorts: []int{70000}}, {PublicPorts: []int{-5}}, {Port: 65536}, {Port: -1}} {
		if _, err := m.Create(ctx, spec, ""); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("create %+v: %v, want invalid argument", spec, err)
		}
	}
}

// TestDialPort reaches a TCP server through the guest tunnel (the fake driver's guest runs on
// the host, so its loopback is the host's).
func TestDialPort(t *testing.T) {
	m, _, _ := newManager(t)
	ctx := context.Background()
	if _, err := m.Create(ctx, sandbox.Spec{Name: "dial"}, ""); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	conn, err := m.DialPort(ctx, "dial", port)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(conn, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "ping" {
		t.Errorf("echo: %q %v", buf, err)
	}
	conn.Close()

	free, _ := net.Listen("tcp4", "127.0.0.1:0")
	closed := free.Addr().(*net.TCPAddr).Port
	free.Close()
	var pc *manager.PortClosedError
	if _, err := m.DialPort(ctx, "dial", closed); !errors.As(err, &pc) || pc.Port != closed {
		t.Errorf("closed port: %v", err)
	}
	if _, err := m.DialPort(ctx, "dial", 0); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("port 0: %v", err)
	}
	if _, err := m.DialPort(ctx, "ghost", port); !errdefs.IsNotFound(err) {
		t.Errorf("unknown sandbox: %v", err)
	}
	if _, err := m.Stop(ctx, "dial"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.DialPort(ctx, "dial", port); !errors.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("stopped sandbox: %v", err)
	}
}
