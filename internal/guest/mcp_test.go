package guest

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/mcpserver"
	"github.com/paddock/paddock/internal/guest/process"
	"github.com/paddock/paddock/internal/guestclient"
	"github.com/paddock/paddock/internal/guestproto"
)

// mcpGuest serves the full guest (token "s3cret") on a unix socket, as the driver does.
func mcpGuest(t *testing.T) string {
	t.Helper()
	settings := guestenv.New("0")
	tok := "s3cret"
	settings.Apply(guestproto.InitRequest{AccessToken: &tok})
	h, svc := NewHandler(settings, process.NewDirectReaper(), discard())
	sock := t.TempDir() + "/g.sock"
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = Serve(ctx, ln, h, discard()) }()
	t.Cleanup(func() { cancel(); <-done; svc.Shutdown(0) })
	return sock
}

func callTool(t *testing.T, c *guestclient.Client, name string, args map[string]any) *guestclient.ToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := c.CallTool(ctx, name, args)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func decodeTool[T any](t *testing.T, res *guestclient.ToolResult) T {
	t.Helper()
	var v T
	if res.IsError {
		t.Fatalf("tool failed: %s", res.Text)
	}
	if err := json.Unmarshal([]byte(res.Text), &v); err != nil {
		t.Fatalf("decode %q: %v", res.Text, err)
	}
	return v
}

type toolExec struct {
	ExitCode  int    `json:"exit_code"`
	Stdout    string `json:"stdout"`
	Stderr    string `json:"stderr"`
	TimedOut  bool   `json:"timed_out"`
	Truncated bool   `json:"truncated"`
	Note      string `json:"note"`
}

// TestMCPServerTools calls every tool of the in-sandbox MCP server through the guest
// connection with the official Go SDK client (guestclient.CallTool), with the refusals.
func TestMCPServerTools(t *testing.T) {
	c := guestClient(mcpGuest(t), "s3cret")
	defer c.Close()

	res := decodeTool[toolExec](t, callTool(t, c, "run_command", map[string]any{"command": "echo $((6*7)); echo oops >&2; exit 3"}))
	if res.ExitCode != 3 || res.Stdout != "42\n" || res.Stderr != "oops\n" || res.Truncated {
		t.Errorf("run_command: %+v", res)
	}
	res = decodeTool[toolExec](t, callTool(t, c, "run_command", map[string]any{"command": "head -c 200000 /dev/zero | tr '\\0' a"}))
	if !res.Truncated || len(res.Stdout) != mcpserver.OutputLimit || !strings.Contains(res.Note, "output truncated") {
		t.Errorf("long output: truncated %v, %d bytes, note %q", res.Truncated, len(res.Stdout), res.Note)
	}
	res = decodeTool[toolExec](t, callTool(t, c, "run_command", map[string]any{"command": "sleep 5", "timeout": 0.3}))
	if res.ExitCode != 124 || !res.TimedOut {
		t.Errorf("timeout: %+v", res)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "note.bin")
	decodeTool[map[string]any](t, callTool(t, c, "write_file", map[string]any{"path": file, "content": "AAEC/w==", "encoding": "base64"}))
	if f := decodeTool[struct{ Content, Encoding string }](t, callTool(t, c, "read_file", map[string]any{"path": file})); f.Content != "AAEC/w==" || f.Encoding != "base64" {
		t.Errorf("read_file of binary: %+v", f)
	}
	decodeTool[map[string]any](t, callTool(t, c, "write_file", map[string]any{"path": file, "content": "héllo\n"}))
	if f := decodeTool[struct{ Content, Encoding string }](t, callTool(t, c, "read_file", map[string]any{"path": file})); f.Content != "héllo\n" || f.Encoding != "utf-8" {
		t.Errorf("read_file of text: %+v", f)
	}
	list := decodeTool[struct{ Entries []struct{ Name, Type string } }](t, callTool(t, c, "list_files", map[string]any{"path": dir}))
	if len(list.Entries) != 1 || list.Entries[0].Name != "note.bin" || list.Entries[0].Type != "file" {
		t.Errorf("list_files: %+v", list)
	}

	refusals := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"run_command", map[string]any{"cmd": "ls"}, `unknown field "cmd"`},
		{"run_command", map[string]any{}, "command is required"},
		{"read_file", map[string]any{"path": filepath.Join(dir, "missing")}, "not"},
		{"write_file", map[string]any{"path": file, "content": "!", "encoding": "base64"}, "not valid base64"},
		{"list_files", map[string]any{"depth": 9}, "depth must be between 1 and 5"},
	}
	for _, r := range refusals {
		if got := callTool(t, c, r.tool, r.args); !got.IsError || !strings.Contains(got.Text, r.want) {
			t.Errorf("%s(%v): error %v, %q; want an error with %q", r.tool, r.args, got.IsError, got.Text, r.want)
		}
	}
	_, err := c.CallTool(context.Background(), "nope", nil)
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), `unknown tool "nope"`) {
		t.Errorf("unknown tool: %v", err)
	}
}

// TestMCPServerRevisionsAndToken: the server answers the session-based revision's client
// too (statelessly), lists the five tools, and refuses a client without the access token.
func TestMCPServerRevisionsAndToken(t *testing.T) {
	sock := mcpGuest(t)
	dial := func(token string) *http.Client {
		return &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			}}}
	}
	connect := func(token, revision string) (*sdk.ClientSession, error) {
		hc := dial(token)
		hc.Transport = headerRT{base: hc.Transport, token: token}
		client := sdk.NewClient(&sdk.Implementation{Name: "guest-test", Version: "1"}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return client.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: "http://guest" + mcpserver.Path, HTTPClient: hc,
			DisableStandaloneSSE: true, MaxRetries: -1}, &sdk.ClientSessionOptions{ProtocolVersion: revision})
	}
	for _, rev := range []string{"2025-06-18", "2025-11-25", "2026-07-28"} {
		cs, err := connect("s3cret", rev)
		if err != nil {
			t.Fatalf("%s: %v", rev, err)
		}
		tools, err := cs.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatalf("%s: list tools: %v", rev, err)
		}
		var names []string
		for _, tl := range tools.Tools {
			names = append(names, tl.Name)
		}
		slices.Sort(names)
		if want := []string{"list_files", "read_file", "run_code", "run_command", "write_file"}; !slices.Equal(names, want) {
			t.Errorf("%s: tools %v, want %v", rev, names, want)
		}
		cs.Close()
	}
	if cs, err := connect("wrong", "2026-07-28"); err == nil {
		cs.Close()
		t.Error("a client without the access token connected")
	}
}

type headerRT struct {
	base  http.RoundTripper
	token string
}

func (h headerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(guestproto.AccessTokenHeader, h.token)
	return h.base.RoundTrip(r)
}

// TestMCPServerRunCode: run_code keeps one context per language between calls.
func TestMCPServerRunCode(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not in PATH: apt-get install python3")
	}
	c := guestClient(mcpGuest(t), "s3cret")
	defer c.Close()
	decodeTool[map[string]any](t, callTool(t, c, "run_code", map[string]any{"code": "x = 6 * 7"}))
	got := decodeTool[struct {
		Status, Output string
		ReturnValue    *string `json:"return_value"`
	}](t, callTool(t, c, "run_code", map[string]any{"code": "print(x)\nx + 1"}))
	if got.Status != "success" || got.Output != "42\n" || got.ReturnValue == nil || *got.ReturnValue != "43" {
		t.Errorf("run_code kept no state: %+v", got)
	}
	e := decodeTool[struct {
		Status string
		Error  *struct{ Ename string }
	}](t, callTool(t, c, "run_code", map[string]any{"code": "1/0"}))
	if e.Status != "error" || e.Error == nil || e.Error.Ename != "ZeroDivisionError" {
		t.Errorf("run_code error: %+v", e)
	}
}
