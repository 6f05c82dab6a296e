package server

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/agent/providertest"
	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/testenv"
)

// TestUIInBrowser drives the web UI at /ui/ in headless Chromium with Playwright
// (ui/test/e2e.mjs) against a real server on runc: wrong key, login, create, terminal,
// drag-and-drop upload, code cells (a matplotlib plot, a traceback), delete.
func TestUIInBrowser(t *testing.T) {
	node, uiDir := needBrowser(t)
	if _, err := exec.LookPath("python3"); err != nil {
		testenv.Require(t, "interpreters", "python3 not installed: apt-get install python3 python3-matplotlib")
	}
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	runBrowserScript(t, node, uiDir, "e2e.mjs", s)
}

// TestUIAgentsInBrowser drives the agents pages (ui/test/agents.mjs) against a real server on
// runc with an SSH gateway: create a shell agent, see it running, its logs and live stats, its
// workspace, add and delete a schedule, get SSH access (the key shown once), delete the agent.
func TestUIAgentsInBrowser(t *testing.T) {
	node, uiDir := needBrowser(t)
	ln, err := ListenSSH("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := newTestServerWith(t, Options{SSHListener: ln}, func(c *config.Config) { c.PoolSize = 0 })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s.srv.serveSSH(ctx)
	s.srv.runSchedules(ctx)
	runBrowserScript(t, node, uiDir, "agents.mjs", s)
}

// TestUIRunsInBrowser drives the runs page (ui/test/runs.mjs) against a real server on runc
// whose model is the Anthropic test double: a run streams its text, its tool call (a bash
// command in the sandbox) and its cost, lands in the history, and opens again from it; then a
// session started with options (a file, two tools, thinking, max turns) reads its file and
// takes a second message.
func TestUIRunsInBrowser(t *testing.T) {
	node, uiDir := needBrowser(t)
	anth := providertest.NewAnthropic(t,
		providertest.Turn{Text: "Let me compute it.", Calls: []providertest.Call{{ID: "t1", Name: "bash",
			Input: `{"command":"echo $((6*7))"}`}}},
		providertest.Turn{Text: "The answer is 42."},
		providertest.Turn{Text: "Reading it.", Calls: []providertest.Call{{ID: "t2", Name: "read_file",
			Input: `{"path":"notes.txt"}`}}},
		providertest.Turn{Text: "It says hello."},
		providertest.Turn{Text: "Still hello."},
	)
	t.Setenv("ANTHROPIC_API_KEY", "sk-ui-test-0123456789")
	t.Setenv("ANTHROPIC_BASE_URL", anth.URL())
	t.Setenv("PADDOCK_SANDCASTER_WORKDIR", "")
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	runBrowserScript(t, node, uiDir, "runs.mjs", s)

	// The session's first request carries the options the form set.
	reqs := anth.Requests()
	if len(reqs) != 5 {
		t.Fatalf("the model got %d requests, want 5", len(reqs))
	}
	var tools []string
	for _, x := range reqs[2].Body["tools"].([]any) {
		tools = append(tools, x.(map[string]any)["name"].(string))
	}
	if fmt.Sprint(tools) != "[bash read_file]" {
		t.Errorf("the session's tools = %v, want [bash read_file]", tools)
	}
	if th, _ := reqs[2].Body["thinking"].(map[string]any); th == nil || th["budget_tokens"] != float64(1024) {
		t.Errorf("the session's thinking = %v, want a budget of 1024 (low)", reqs[2].Body["thinking"])
	}
	if b, _ := json.Marshal(reqs[4].Body["messages"]); !strings.Contains(string(b), "It says hello.") {
		t.Errorf("the second message was sent without the conversation: %s", b)
	}
}

// TestUIUsersInBrowser drives the users and keys page (ui/test/users.mjs): an admin creates a
// user; the user logs in by email, makes a key (shown once, accepted by the API) and revokes it
// (then refused).
func TestUIUsersInBrowser(t *testing.T) {
	node, uiDir := needBrowser(t)
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	runBrowserScript(t, node, uiDir, "users.mjs", s)
}

// TestUIInFirefox runs the main path (ui/test/firefox.mjs: log in, create a sandbox, 42 in
// the terminal, delete it) in Debian's firefox-esr, driven over WebDriver BiDi by
// puppeteer-core, against a real server with real runc.
func TestUIInFirefox(t *testing.T) {
	node, uiDir := needBrowser(t)
	if _, err := exec.LookPath("firefox-esr"); err != nil {
		testenv.Require(t, "firefox", "firefox-esr not in PATH: apt-get install firefox-esr")
	}
	if _, err := os.Stat(filepath.Join(uiDir, "node_modules", "puppeteer-core")); err != nil {
		testenv.Require(t, "firefox", "puppeteer-core not installed: npm ci --prefix ui")
	}
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	runBrowserScript(t, node, uiDir, "firefox.mjs", s)
}

// needBrowser skips (or, under PADDOCK_TEST_REQUIRE=browser, fails) without chromium, node
// or ui/node_modules, and returns node's path and the ui directory.
func needBrowser(t *testing.T) (node, uiDir string) {
	t.Helper()
	if _, err := exec.LookPath("chromium"); err != nil {
		testenv.Require(t, "browser", "chromium not in PATH: apt-get install chromium")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Require(t, "browser", "node not in PATH: apt-get install nodejs")
	}
	uiDir, err = filepath.Abs("../../ui")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(uiDir, "node_modules", "playwright-core")); err != nil {
		testenv.Require(t, "browser", "playwright-core not installed: npm ci --prefix ui")
	}
	return node, uiDir
}

// runBrowserScript runs ui/test/<script> with node against s and fails the test with its
// output when it fails.
func runBrowserScript(t *testing.T, node, uiDir, script string, s *testServer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("test", script))
	cmd.Dir = uiDir
	cmd.Env = append(os.Environ(), "PADDOCK_URL="+s.url, "PADDOCK_KEY="+testKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("playwright: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
