package server

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/testenv"
)

// TestE2BSDKs runs the official E2B JS SDKs (sdktest/, pinned in its lock file) against the
// server: E2B_API_URL points at /e2b/v1 and E2B_SANDBOX_URL at the server itself.
func TestE2BSDKs(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "sdktest")
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Require(t, "sdk", "node not in PATH: apt-get install nodejs")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "e2b")); err != nil {
		testenv.Require(t, "sdk", "E2B SDKs not installed: npm ci --prefix sdktest")
	}
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 2 })
	alice, bob := s.userKey("alice@example.com"), s.userKey("bob@example.com")
	run := func() ([]byte, error) {
		cmd := exec.Command(node, "--test", "--test-concurrency=1", "e2b.test.js")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "E2B_API_URL="+s.url+"/e2b/v1", "E2B_SANDBOX_URL="+s.url, "E2B_API_KEY="+testKey,
			"PADDOCK_ALICE_KEY="+alice, "PADDOCK_BOB_KEY="+bob)
		return cmd.CombinedOutput()
	}
	out, err := run()
	if err != nil {
		t.Fatalf("E2B SDK tests failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
