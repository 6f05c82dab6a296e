package server_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/server/servertest"
	"github.com/paddock/paddock/internal/testenv"
)

// The web UI at /ui/ is public static content with a strict CSP; the API it calls needs the
// key, which a browser presents on WebSockets as a subprotocol.

func TestUIServedPublicly(t *testing.T) {
	s := servertest.New(t)
	for _, path := range []string{"/ui/", "/ui/sandboxes/box/terminal"} {
		resp, body := s.Do(servertest.Request{Method: "GET", Path: path, Key: servertest.NoKey})
		if resp.StatusCode != 200 || !strings.Contains(string(body), `<div id="app">`) {
			t.Fatalf("GET %s without a key: %d %.200s", path, resp.StatusCode, body)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, want)
			}
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("GET %s: headers %v", path, resp.Header)
		}
	}
	// The API behind it is not public.
	if resp, _ := s.Do(servertest.Request{Method: "GET", Path: "/sandboxes", Key: servertest.NoKey}); resp.StatusCode != 401 {
		t.Errorf("GET /sandboxes without a key: %d", resp.StatusCode)
	}
	// Nor is a write under /ui/.
	if resp, _ := s.Do(servertest.Request{Method: "POST", Path: "/ui/", Key: servertest.NoKey}); resp.StatusCode != 401 {
		t.Errorf("POST /ui/ without a key: %d", resp.StatusCode)
	}
}

func TestWebSocketKeyAsSubprotocol(t *testing.T) {
	s := servertest.New(t)
	if code, env := s.Native("POST", "/sandboxes", map[string]any{"name": "ws"}); code != 201 {
		t.Fatalf("create: %d %s", code, env.Error)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(s.URL, "http")
	keyProto := func(key string) string {
		return apitype.WebSocketKeyPrefix + base64.RawURLEncoding.EncodeToString([]byte(key))
	}
	for _, path := range []string{"/sandboxes/ws/exec/attach", "/api/v1/terminal/sandbox/ws/ws"} {
		t.Run(path, func(t *testing.T) {
			for name, protos := range map[string][]string{
				"wrong key":       {apitype.WebSocketProtocol, keyProto("e2b_wrong")},
				"no key":          {apitype.WebSocketProtocol},
				"not base64":      {apitype.WebSocketProtocol, apitype.WebSocketKeyPrefix + "%%%"},
				"key, no upgrade": nil, // a plain GET with the protocol header is not a WebSocket
			} {
				if protos == nil {
					resp, _ := s.Do(servertest.Request{Method: "GET", Path: path, Key: servertest.NoKey,
						Header: http.Header{"Sec-Websocket-Protocol": {keyProto(servertest.Key)}}})
					if resp.StatusCode != 401 {
						t.Errorf("%s: %d, want 401", name, resp.StatusCode)
					}
					continue
				}
				_, resp, err := websocket.Dial(ctx, wsURL+path, &websocket.DialOptions{Subprotocols: protos})
				if err == nil || resp == nil || resp.StatusCode != 401 {
					t.Errorf("%s: %v %v, want 401", name, err, resp)
				}
			}
			ws, resp, err := websocket.Dial(ctx, wsURL+path, &websocket.DialOptions{
				Subprotocols: []string{apitype.WebSocketProtocol, keyProto(servertest.Key)}})
			if err != nil {
				t.Fatalf("dial with the key as a subprotocol: %v", err)
			}
			defer ws.CloseNow()
			if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != apitype.WebSocketProtocol {
				t.Errorf("selected subprotocol %q, want %q (never the key)", got, apitype.WebSocketProtocol)
			}
			if strings.HasPrefix(path, "/sandboxes/") {
				if err := wsjson.Write(ctx, ws, apitype.AttachRequest{Command: []string{"sh", "-c", "echo via-$((6*7))"}}); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := wsjson.Write(ctx, ws, map[string]string{"type": "input", "data": "echo via-$((6*7))\n"}); err != nil {
					t.Fatal(err)
				}
			}
			var out strings.Builder
			for !strings.Contains(out.String(), "via-42") {
				var m struct {
					Type string `json:"type"`
					Data any    `json:"data"`
				}
				if err := wsjson.Read(ctx, ws, &m); err != nil {
					t.Fatalf("read: %v (so far %q)", err, out.String())
				}
				if str, ok := m.Data.(string); ok {
					if b, err := base64.StdEncoding.DecodeString(str); err == nil && strings.HasPrefix(path, "/sandboxes/") {
						str = string(b)
					}
					out.WriteString(str)
				}
			}
		})
	}
}

// TestUISandboxesPageTTI measures the sandboxes page with 200 sandboxes (fake driver) in
// headless Chromium: the time from navigation until all 200 rows are on screen, on loopback
// and on an emulated slow link. It reports; it asserts no time (docs/ui.md has the figures).
func TestUISandboxesPageTTI(t *testing.T) {
	testenv.Heavy(t)
	if _, err := exec.LookPath("chromium"); err != nil {
		testenv.Require(t, "browser", "chromium not in PATH: apt-get install chromium")
	}
	uiDir, _ := filepath.Abs("../../ui")
	if _, err := os.Stat(filepath.Join(uiDir, "node_modules", "playwright-core")); err != nil {
		testenv.Require(t, "browser", "playwright-core not installed: npm ci --prefix ui")
	}
	s := servertest.New(t)
	const n = 200
	for i := range n {
		if code, env := s.Native("POST", "/sandboxes", map[string]any{"name": fmt.Sprintf("sb-%03d", i), "ttl": "1h"}); code != 201 {
			t.Fatalf("create %d: %d %s", i, code, env.Error)
		}
	}
	cmd := exec.Command("node", filepath.Join("test", "tti.mjs"))
	cmd.Dir = uiDir
	cmd.Env = append(os.Environ(), "PADDOCK_URL="+s.URL, "PADDOCK_KEY="+servertest.Key, fmt.Sprintf("PADDOCK_EXPECT=%d", n))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tti.mjs: %v\n%s", err, out)
	}
	t.Logf("sandboxes page with %d sandboxes: %s", n, out)
}
