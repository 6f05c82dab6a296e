// Command fakeserve is a test-only `paddock serve`: the real server on the fake driver, in a
// directory that several fakeserve processes may share (fake.NewShared), so that tests can
// run two replicas as real processes on one database. Never deploy it: the fake driver runs
// sandboxes' processes on the host.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/driver/fake"
	"github.com/paddock/paddock/internal/server"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/template"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fakeserve:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	store := flag.String("store", "", "the store (a postgres:// URL to share with other replicas)")
	dataDir := flag.String("data-dir", "", "this replica's data dir (required)")
	fakeDir := flag.String("fake-dir", "", "the fake driver's directory, shared by the replicas (required; short: it holds unix sockets)")
	reap := flag.Duration("reap-interval", 100*time.Millisecond, "how often expired sandboxes are looked for")
	poolSize := flag.Int("pool-size", 0, "warm sandboxes of the base template (in the cluster, filled by the leader)")
	flag.Parse()
	if *dataDir == "" || *fakeDir == "" {
		return fmt.Errorf("--data-dir and --fake-dir are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg := config.Default()
	cfg.DataDir, cfg.Store, cfg.APIKey, cfg.PoolSize, cfg.ReapInterval = *dataDir, *store, servertest.Key, 0, *reap
	if err := servertest.WriteTemplates(cfg); err != nil {
		return err
	}
	if *poolSize > 0 {
		if err := setBasePool(filepath.Join(cfg.DataDir, "templates.json"), *poolSize); err != nil {
			return err
		}
	}
	drv, err := fake.NewShared(*fakeDir, log)
	if err != nil {
		return err
	}
	srv, err := server.New(ctx, cfg, server.Options{Version: "fakeserve", Driver: drv, Images: &servertest.Images{}}, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		srv.Close(context.WithoutCancel(ctx))
		return err
	}
	log.Info("serving", "addr", ln.Addr().String(), "pid", os.Getpid())
	return srv.Serve(ctx, ln)
}

// setBasePool gives the base template of the templates file a warm pool of size.
func setBasePool(path string, size int) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var ts []template.Template
	if err := json.Unmarshal(b, &ts); err != nil {
		return err
	}
	for i := range ts {
		if ts[i].Name == template.Base {
			ts[i].Pool = &template.Pool{Size: size}
		}
	}
	if b, err = json.Marshal(ts); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
