package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/testenv"
)

// TestDocsPageInBrowser loads /docs in headless Chromium with the API key in the URL fragment
// and checks that the page fetched /openapi.json and rendered every operation.
func TestDocsPageInBrowser(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Require(t, "browser", "chromium not in PATH: apt-get install chromium")
	}
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	profile := t.TempDir()
	shot := filepath.Join(t.TempDir(), "docs.png")
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile, "--virtual-time-budget=5000"}
	out, err := exec.CommandContext(ctx, browser, append(args, "--dump-dom", s.url+"/docs#key="+testKey)...).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	// The dump escapes text as HTML does (a summary may say "<name>").
	text := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	for _, op := range s.srv.operations {
		if !strings.Contains(dom, text.Replace(op.Summary)) {
			t.Errorf("rendered page lacks %q", op.Summary)
		}
	}
	if strings.Contains(dom, `<p class="err">`) {
		t.Error("the page could not load /openapi.json with the key")
	}
	if err := exec.CommandContext(ctx, browser, append(args, "--window-size=1200,900", "--screenshot="+shot, s.url+"/docs#key="+testKey)...).Run(); err == nil {
		if dst := os.Getenv("PADDOCK_TEST_SCREENSHOTS"); dst != "" {
			b, _ := os.ReadFile(shot)
			_ = os.WriteFile(filepath.Join(dst, "docs.png"), b, 0o644)
		}
	}
}
