package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/paddock/paddock/internal/config"
)

// The MCP server on real runc, driven by the official Go SDK client: exec in a sandbox in a
// session-based revision and in the stateless one, and a benchmark of sandboxExecutor's
// round trip beside the native /exec. The fake-driver tests in internal/api/mcp cover every
// tool, both SDK clients and the refusals.

// bearerTransport adds the test key to every request.
type bearerTransport struct{}

func (bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+testKey)
	return http.DefaultTransport.RoundTrip(r)
}

func mcpConnect(t testing.TB, s *testServer, revision string) *sdk.ClientSession {
	t.Helper()
	client := sdk.NewClient(&sdk.Implementation{Name: "paddock-server-test", Version: "1"}, nil)
	tr := &sdk.StreamableClientTransport{Endpoint: s.url + "/mcp", HTTPClient: &http.Client{Transport: bearerTransport{}},
		DisableStandaloneSSE: true}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := client.Connect(ctx, tr, &sdk.ClientSessionOptions{ProtocolVersion: revision})
	if err != nil {
		t.Fatalf("connect (%s): %v", revision, err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	if got := cs.InitializeResult().ProtocolVersion; got != revision {
		t.Fatalf("negotiated %s, want %s", got, revision)
	}
	return cs
}

// mcpCall calls a tool and returns its text, failing t when the tool failed.
func mcpCall(t testing.TB, cs *sdk.ClientSession, tool string, args map[string]any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	if res.IsError {
		t.Fatalf("%s(%v) failed: %s", tool, args, b.String())
	}
	return b.String()
}

type mcpExec struct {
	ExitCode int    `json:"exit_code"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

func TestMCPExecRunc(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	for _, rev := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(rev, func(t *testing.T) {
			cs := mcpConnect(t, s, rev)
			name := "mcp-runc-" + strings.ReplaceAll(rev, "-", "")
			mcpCall(t, cs, "createSandbox", map[string]any{"name": name})
			mcpCall(t, cs, "write_file", map[string]any{"sandbox": name, "path": "/tmp/in.txt", "content": "inside\n"})
			// PID 1 of the sandbox is its guest: the command runs in the sandbox's own PID
			// namespace, not on the host.
			var res mcpExec
			text := mcpCall(t, cs, "exec", map[string]any{"sandbox": name, "command": "echo $((6*7)); cat /tmp/in.txt; cat /proc/1/cmdline | tr '\\0' ' '; exit 5"})
			if err := json.Unmarshal([]byte(text), &res); err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != 5 || !strings.HasPrefix(res.Stdout, "42\ninside\n") || !strings.Contains(res.Stdout, "guest") {
				t.Errorf("exec: %+v", res)
			}
			mcpCall(t, cs, "deleteSandbox", map[string]any{"name": name})
		})
	}
}

// BenchmarkMCPSandboxExecutor measures sandboxExecutor's run_command round trip (`echo hi`
// in a running sandbox) in a session-based and in the stateless revision, beside the
// baseline: the same command through the native POST /sandboxes/{name}/exec.
func BenchmarkMCPSandboxExecutor(b *testing.B) {
	s := newTestServer(b, func(c *config.Config) { c.PoolSize = 0 })
	if code, env := s.call("POST", "/sandboxes", map[string]any{"name": "bench-mcp"}, ""); code != http.StatusCreated {
		b.Fatalf("create: %d %s", code, env.Error)
	}
	for _, rev := range []string{"2025-11-25", "2026-07-28"} {
		b.Run("mcp-"+rev, func(b *testing.B) {
			cs := mcpConnect(b, s, rev)
			args := map[string]any{"sandbox_name": "bench-mcp", "tool_name": "run_command", "arguments": map[string]any{"command": "echo hi"}}
			var ds []time.Duration
			for b.Loop() {
				start := time.Now()
				text := mcpCall(b, cs, "sandboxExecutor", args)
				ds = append(ds, time.Since(start))
				if !strings.Contains(text, `"stdout":"hi\n"`) {
					b.Fatalf("got %s", text)
				}
			}
			reportLatencies(b, ds)
		})
	}
	b.Run("native-exec", func(b *testing.B) {
		var ds []time.Duration
		for b.Loop() {
			start := time.Now()
			code, env := s.call("POST", "/sandboxes/bench-mcp/exec", map[string]any{"command": []string{"/bin/sh", "-c", "echo hi"}}, "")
			ds = append(ds, time.Since(start))
			if code != 200 || !strings.Contains(string(env.Data), `"stdout":"hi\n"`) {
				b.Fatalf("got %d %s %s", code, env.Data, env.Error)
			}
		}
		reportLatencies(b, ds)
	})
}

// TestMCPSandboxExecutorAnyImageRunc: sandboxExecutor reaches the MCP server of the guest
// (PID 1 of every sandbox) in a sandbox made from an image without any MCP software, a bare
// busybox, and runs run_command, write_file, read_file and list_files there.
func TestMCPSandboxExecutorAnyImageRunc(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	ref := pushBusybox(t)
	if code, env := s.call("POST", "/images/pull", map[string]any{"ref": ref}, ""); code != 200 {
		t.Fatalf("pull: %d %s", code, env.Error)
	}
	if code, env := s.call("POST", "/sandboxes", map[string]any{"name": "mcp-bb", "image": ref}, ""); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, env.Error)
	}
	cs := mcpConnect(t, s, "2025-11-25")
	run := func(tool string, args map[string]any) string {
		return mcpCall(t, cs, "sandboxExecutor", map[string]any{"sandbox_name": "mcp-bb", "tool_name": tool, "arguments": args})
	}
	var res mcpExec
	if err := json.Unmarshal([]byte(run("run_command", map[string]any{"command": "echo $((6*7)); busybox | head -1 >&2; exit 4"})), &res); err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 4 || res.Stdout != "42\n" || !strings.Contains(res.Stderr, "BusyBox") {
		t.Errorf("run_command: %+v", res)
	}
	run("write_file", map[string]any{"path": "/tmp/note.txt", "content": "written by MCP\n"})
	var f struct{ Content, Encoding string }
	if err := json.Unmarshal([]byte(run("read_file", map[string]any{"path": "/tmp/note.txt"})), &f); err != nil || f.Content != "written by MCP\n" {
		t.Errorf("read_file: %+v %v", f, err)
	}
	if err := json.Unmarshal([]byte(run("run_command", map[string]any{"command": "cat /tmp/note.txt"})), &res); err != nil || res.Stdout != "written by MCP\n" {
		t.Errorf("the file is not in the sandbox: %+v %v", res, err)
	}
	if list := run("list_files", map[string]any{"path": "/tmp"}); !strings.Contains(list, `"name":"note.txt"`) {
		t.Errorf("list_files: %s", list)
	}
}
