// Package enginetest opens real engines for tests of the packages built on them: real runc,
// a fresh data dir, no DNS upstream, and everything the test made deleted when it ends.
package enginetest

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/engine"
	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/testenv"
)

// Runc opens a server-mode engine with real runc on a fresh data dir (it skips, or fails
// under PADDOCK_TEST_REQUIRE=runc, without root and runc). mutate may change the
// configuration first (a logger, pools). When t ends, every sandbox is deleted and the
// engine closed.
func Runc(t testing.TB, mutate ...func(*engine.Config)) *engine.Engine {
	t.Helper()
	testenv.NeedRunc(t)
	cfg := engine.Config{DataDir: testenv.TempDir(t), GuestBinary: testenv.PaddockBinary(t), DNS: []string{testenv.NoDNS},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	for _, f := range mutate {
		f(&cfg)
	}
	eng, err := engine.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sbs, _ := eng.List(ctx, sandbox.ListFilter{})
		for _, sb := range sbs {
			_ = eng.Delete(ctx, sb.ID)
		}
		_ = eng.Close(ctx)
	})
	return eng
}
