package mcp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/paddock/paddock/internal/api/mcp"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/testenv"
)

// The MCP server on the fake driver (no root), driven by the official Go SDK's client over
// its Streamable HTTP transport, in each protocol revision the server serves.

// revisions are the protocol revisions served: two session-based, one stateless.
var revisions = []string{"2025-06-18", "2025-11-25", "2026-07-28"}

// keyTransport adds a header to every request.
type keyTransport struct{ name, value string }

func (k keyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if k.name != "" {
		r.Header.Set(k.name, k.value)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// connect opens a client session in revision with the given auth header ("" sends none).
func connect(t testing.TB, s *servertest.Server, revision, header, value string) (*sdk.ClientSession, error) {
	t.Helper()
	client := sdk.NewClient(&sdk.Implementation{Name: "paddock-test", Version: "1"}, nil)
	tr := &sdk.StreamableClientTransport{Endpoint: s.URL + mcp.Path, HTTPClient: &http.Client{Transport: keyTransport{header, value}},
		DisableStandaloneSSE: true}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, tr, &sdk.ClientSessionOptions{ProtocolVersion: revision})
	if err == nil {
		t.Cleanup(func() { _ = cs.Close() })
	}
	return cs, err
}

func mustConnect(t testing.TB, s *servertest.Server, revision string) *sdk.ClientSession {
	t.Helper()
	cs, err := connect(t, s, revision, "Authorization", "Bearer "+servertest.Key)
	if err != nil {
		t.Fatalf("connect (%s): %v", revision, err)
	}
	if got := cs.InitializeResult().ProtocolVersion; got != revision {
		t.Fatalf("negotiated %s, want %s", got, revision)
	}
	// The session-based revisions get an Mcp-Session-Id; the stateless one none.
	if stateless := revision >= "2026-07-28"; (cs.ID() == "") != stateless {
		t.Fatalf("%s: session ID %q", revision, cs.ID())
	}
	return cs
}

// call calls a tool and returns its text, failing the test when the tool failed.
func call(t testing.TB, cs *sdk.ClientSession, tool string, args map[string]any) string {
	t.Helper()
	text, isErr := callRaw(t, cs, tool, args)
	if isErr {
		t.Fatalf("%s(%v) failed: %s", tool, args, text)
	}
	return text
}

// callRaw calls a tool and returns its text and whether it reported an error.
func callRaw(t testing.TB, cs *sdk.ClientSession, tool string, args map[string]any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
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
	return b.String(), res.IsError
}

// decode unmarshals a tool's JSON text.
func decode[T any](t testing.TB, text string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("decode %.300s: %v", text, err)
	}
	return v
}

type execResult struct {
	Sandbox   string `json:"sandbox"`
	ExitCode  int    `json:"exit_code"`
	Stdout    string `json:"stdout"`
	Stderr    string `json:"stderr"`
	Truncated bool   `json:"truncated"`
	Note      string `json:"note"`
}

var allTools = []string{"createSandbox", "deleteSandbox", "exec", "getSandbox", "listSandbox", "read_file", "run",
	"run_code", "sandboxExecutor", "write_file"}

func TestToolsInEveryRevision(t *testing.T) {
	s := servertest.New(t)
	for _, rev := range revisions {
		t.Run(rev, func(t *testing.T) {
			cs := mustConnect(t, s, rev)
			listTools(t, cs)
			sandboxTools(t, cs, "mcp-"+strings.ReplaceAll(rev, "-", ""))
		})
	}
}

func listTools(t *testing.T, cs *sdk.ClientSession) {
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if tool.Name == "createSandbox" && !strings.Contains(tool.Description, "base, as the test's user") {
			t.Errorf("createSandbox's description lists no template description: %s", tool.Description)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, allTools) {
		t.Errorf("tools %v, want %v", names, allTools)
	}
}

// sandboxTools calls every tool on a sandbox called name, deleted at the end.
func sandboxTools(t *testing.T, cs *sdk.ClientSession, name string) {
	if text := call(t, cs, "createSandbox", map[string]any{"name": name, "environment": "base"}); !strings.Contains(text, "Sandbox name:"+name) ||
		!strings.Contains(text, `"run_command"`) {
		t.Errorf("createSandbox: %.300s", text)
	}
	if text := call(t, cs, "getSandbox", map[string]any{"name": name}); !strings.Contains(text, `"name":"`+name+`"`) || !strings.Contains(text, `"status":"running"`) {
		t.Errorf("getSandbox: %.300s", text)
	}
	if text := call(t, cs, "listSandbox", nil); !strings.Contains(text, `"name": "`+name+`"`) {
		t.Errorf("listSandbox: %.300s", text)
	}
	res := decode[execResult](t, call(t, cs, "exec", map[string]any{"sandbox": name, "command": "echo $((6*7)); echo oops >&2; exit 3"}))
	if res.Stdout != "42\n" || res.Stderr != "oops\n" || res.ExitCode != 3 || res.Truncated {
		t.Errorf("exec: %+v", res)
	}
	path := filepath.Join(servertest.Dir(t), "note.txt")
	call(t, cs, "write_file", map[string]any{"sandbox": name, "path": path, "content": "héllo\n"})
	if f := decode[struct{ Content, Encoding string }](t, call(t, cs, "read_file", map[string]any{"sandbox": name, "path": path})); f.Content != "héllo\n" || f.Encoding != "utf-8" {
		t.Errorf("read_file: %+v", f)
	}
	executor(t, cs, name, path)
	res = decode[execResult](t, call(t, cs, "run", map[string]any{"command": "echo one-shot"}))
	if res.Stdout != "one-shot\n" || !strings.HasPrefix(res.Sandbox, "run-") {
		t.Errorf("run: %+v", res)
	}
	if text := call(t, cs, "deleteSandbox", map[string]any{"name": name}); text != "Sandbox "+name+" deleted successfully" {
		t.Errorf("deleteSandbox: %s", text)
	}
	if text, isErr := callRaw(t, cs, "getSandbox", map[string]any{"name": name}); !isErr || text != "sandbox "+name+" not found" {
		t.Errorf("getSandbox after delete: error %v, %q", isErr, text)
	}
}

// executor calls each tool of sandboxExecutor in the sandbox called name.
func executor(t *testing.T, cs *sdk.ClientSession, name, file string) {
	run := func(tool string, args map[string]any) string {
		return call(t, cs, "sandboxExecutor", map[string]any{"sandbox_name": name, "tool_name": tool, "arguments": args})
	}
	if res := decode[execResult](t, run("run_command", map[string]any{"command": "printf inner"})); res.Stdout != "inner" || res.ExitCode != 0 {
		t.Errorf("run_command: %+v", res)
	}
	run("write_file", map[string]any{"path": file, "content": "AAEC/w==", "encoding": "base64"})
	if f := decode[struct{ Content, Encoding string }](t, run("read_file", map[string]any{"path": file})); f.Content != "AAEC/w==" || f.Encoding != "base64" {
		t.Errorf("read_file of binary: %+v", f)
	}
	list := decode[struct{ Entries []struct{ Name, Type string } }](t, run("list_files", map[string]any{"path": filepath.Dir(file)}))
	if len(list.Entries) != 1 || list.Entries[0].Name != "note.txt" || list.Entries[0].Type != "file" {
		t.Errorf("list_files: %+v", list)
	}
	if text, isErr := callRaw(t, cs, "sandboxExecutor", map[string]any{"sandbox_name": name, "tool_name": "run_command",
		"arguments": map[string]any{"cmd": "ls"}}); !isErr || !strings.Contains(text, `unknown field "cmd"`) {
		t.Errorf("misspelt argument: error %v, %q", isErr, text)
	}
	if text, isErr := callRaw(t, cs, "sandboxExecutor", map[string]any{"sandbox_name": name, "tool_name": "nope"}); !isErr ||
		!strings.Contains(text, `unknown tool "nope"`) {
		t.Errorf("unknown tool: error %v, %q", isErr, text)
	}
}

func TestRunCode(t *testing.T) {
	needPython(t)
	s := servertest.New(t)
	for _, rev := range []string{"2025-11-25", "2026-07-28"} {
		t.Run(rev, func(t *testing.T) {
			cs := mustConnect(t, s, rev)
			sess := "s" + strings.ReplaceAll(rev, "-", "")
			call(t, cs, "run_code", map[string]any{"code": "x = 6 * 7", "session": sess})
			res := decode[struct{ Status, Output, Session string }](t, call(t, cs, "run_code", map[string]any{"code": "print(x)", "session": sess}))
			if res.Status != "success" || res.Output != "42\n" || res.Session != sess {
				t.Errorf("run_code kept no state: %+v", res)
			}
			call(t, cs, "createSandbox", map[string]any{"name": sess})
			run := func(code string) string {
				return call(t, cs, "sandboxExecutor", map[string]any{"sandbox_name": sess, "tool_name": "run_code",
					"arguments": map[string]any{"code": code}})
			}
			run("y = 'in sandbox'")
			if res := decode[struct{ Status, Output string }](t, run("print(y)")); res.Output != "in sandbox\n" {
				t.Errorf("sandboxExecutor run_code kept no state: %+v", res)
			}
		})
	}
}

// needPython skips unless python3 is where the fake driver's sandboxes look for it.
func needPython(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("/usr/bin/python3"); err != nil {
		testenv.Require(t, "interpreters", "python3 not in /usr/bin: apt-get install python3")
	}
}

func TestOutputIsCapped(t *testing.T) {
	s := servertest.New(t)
	cs := mustConnect(t, s, "2025-11-25")
	res := decode[execResult](t, call(t, cs, "run", map[string]any{"command": "head -c 100000 /dev/zero | tr '\\0' a; echo tail >&2"}))
	if !res.Truncated || len(res.Stdout)+len(res.Stderr) != mcp.OutputLimit || res.Stderr != "tail\n" ||
		!strings.Contains(res.Note, "output truncated") || !strings.Contains(res.Note, "kept: stdout 65531 bytes, stderr 5") {
		t.Errorf("capped run: truncated %v, stdout %d bytes, stderr %q, note %q", res.Truncated, len(res.Stdout), res.Stderr, res.Note)
	}
}

func TestAuth(t *testing.T) {
	s := servertest.New(t)
	for _, rev := range revisions {
		if _, err := connect(t, s, rev, "", ""); err == nil || !strings.Contains(err.Error(), "401") && !strings.Contains(strings.ToLower(err.Error()), "unauthorized") {
			t.Errorf("%s without a key: %v, want 401", rev, err)
		}
		if _, err := connect(t, s, rev, "Authorization", "Bearer wrong"); err == nil {
			t.Errorf("%s with a wrong key: connected", rev)
		}
		// The key in X-API-Key, as the rest of the API takes it, works too.
		cs, err := connect(t, s, rev, "X-API-Key", servertest.Key)
		if err != nil {
			t.Fatalf("%s with X-API-Key: %v", rev, err)
		}
		call(t, cs, "listSandbox", nil)
	}
	resp, raw := s.Do(servertest.Request{Method: "POST", Path: mcp.Path, Key: servertest.NoKey, Body: map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /mcp without a key: %d %s", resp.StatusCode, raw)
	}
}

// TestProxyHost: with keys, a request naming another host (a reverse proxy's) is served; the
// SDK's DNS-rebinding guard is only for servers without authentication.
func TestProxyHost(t *testing.T) {
	s := servertest.New(t)
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	req, err := http.NewRequest("POST", s.URL+mcp.Path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "paddock.example"
	req.Header = http.Header{"Authorization": {"Bearer " + servertest.Key}, "Content-Type": {"application/json"},
		"Accept": {"application/json, text/event-stream"}}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), `"protocolVersion":"2025-11-25"`) {
		t.Errorf("initialize via a proxy's Host: %d %s", resp.StatusCode, raw)
	}
}
