package mcp_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/api/mcp"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/testenv"
)

// TestTypeScriptClient drives the server with the official TypeScript SDK's client
// (@modelcontextprotocol/sdk, pinned in testdata/tsclient/package-lock.json) in both
// session-based revisions: it lists the tools, calls each one and checks the answers, and
// is refused without a key. The SDK does not speak 2026-07-28 yet.
func TestTypeScriptClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Require(t, "sdk", "node not in PATH: apt-get install nodejs")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "tsclient"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk")); err != nil {
		testenv.Require(t, "sdk", "MCP TypeScript SDK not installed: npm ci --prefix internal/api/mcp/testdata/tsclient")
	}
	python := "0"
	if _, err := exec.LookPath("/usr/bin/python3"); err == nil {
		python = "1"
	}
	s := servertest.New(t)
	for _, rev := range []string{"2025-06-18", "2025-11-25"} {
		t.Run(rev, func(t *testing.T) {
			name := "ts-" + strings.ReplaceAll(rev, "-", "")
			cmd := exec.Command(node, "client.mjs", s.URL+mcp.Path, servertest.Key, rev, name, servertest.Dir(t), python)
			cmd.Dir = dir
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("client.mjs: %v\n%s%s", err, out, stderr.String())
			}
			var res struct {
				OK       bool
				Revision string
				Tools    []string
				RunCode  string `json:"run_code"`
				Refusal  string
			}
			if err := json.Unmarshal(out, &res); err != nil || !res.OK || res.Revision != rev || !slices.Equal(res.Tools, allTools) {
				t.Fatalf("client.mjs answered %s (%v)", out, err)
			}
			if !strings.Contains(res.Refusal, "missing or invalid API key") {
				t.Errorf("without a key: %s, want the 401 of the key check", res.Refusal)
			}
			t.Logf("run_code: %s", res.RunCode)
		})
	}
}
