package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/testenv"
)

// TestUIInBrowser drives the web UI at /ui/ in headless Chromium with Playwright
// (ui/test/e2e.mjs) against a real server on runc: wrong key, login, create, terminal,
// drag-and-drop upload, code cells (a matplotlib plot, a traceback), delete.
func TestUIInBrowser(t *testing.T) {
	if _, err := exec.LookPath("chromium"); err != nil {
		testenv.Require(t, "browser", "chromium not in PATH: apt-get install chromium")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Require(t, "browser", "node not in PATH: apt-get install nodejs")
	}
	uiDir, err := filepath.Abs("../../ui")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(uiDir, "node_modules", "playwright-core")); err != nil {
		testenv.Require(t, "browser", "playwright-core not installed: npm ci --prefix ui")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		testenv.Require(t, "interpreters", "python3 not installed: apt-get install python3 python3-matplotlib")
	}
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("test", "e2e.mjs"))
	cmd.Dir = uiDir
	cmd.Env = append(os.Environ(), "PADDOCK_URL="+s.url, "PADDOCK_KEY="+testKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("playwright: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
