package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/paddock/paddock/internal/config"
)

// Agent-Sandbox's /api/v1 on real runc: the interactive terminal over a real WebSocket and a
// 50 MB file through upload and download. The fake-driver tests in internal/api/agentsandbox
// cover every route's shapes and refusals.

// asCall sends an /api/v1 request with the bearer key and decodes the envelope's data.
func asCall(t *testing.T, s *testServer, method, path string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.url+"/api/v1"+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Code string          `json:"code"`
		Data json.RawMessage `json:"data"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(raw, &env) != nil || env.Code != "0" {
		t.Fatalf("%s %s: %d %.300s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			t.Fatal(err)
		}
	}
}

type termMsg struct {
	Type string `json:"type"`
	Data string `json:"data,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	Rows uint16 `json:"rows,omitempty"`
	Code int    `json:"code,omitempty"`
}

func TestAgentSandboxTerminalWS(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	asCall(t, s, "POST", "/sandbox", map[string]any{"name": "term"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http")+"/api/v1/terminal/sandbox/term/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + testKey}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	send := func(m termMsg) {
		if err := wsjson.Write(ctx, ws, m); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	// until reads until a message of type typ arrives, or output holding text.
	until := func(typ, text string) termMsg {
		for {
			var m termMsg
			if err := wsjson.Read(ctx, ws, &m); err != nil {
				t.Fatalf("read: %v (output so far %q)", err, out.String())
			}
			out.WriteString(m.Data)
			if m.Type == typ || (m.Type == "output" && text != "" && strings.Contains(out.String(), text)) {
				return m
			}
		}
	}
	if m := until("ready", ""); !strings.Contains(m.Data, "term") {
		t.Errorf("ready: %+v", m)
	}
	send(termMsg{Type: "init", Cols: 100, Rows: 30})
	send(termMsg{Type: "input", Data: "stty size; echo $((6*7))-seen\n"})
	until("", "42-seen")
	if !strings.Contains(out.String(), "30 100") {
		t.Errorf("size after init: %q", out.String())
	}
	send(termMsg{Type: "resize", Cols: 120, Rows: 50})
	send(termMsg{Type: "input", Data: "stty size; exit 3\n"})
	if m := until("exit", ""); m.Code != 3 || !strings.Contains(out.String(), "50 120") {
		t.Errorf("exit %+v, output %q", m, out.String())
	}
	until("closed", "")

	// close ends a shell that is still running.
	ws2, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http")+"/api/v1/terminal/sandbox/term/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + testKey}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.CloseNow()
	var m termMsg
	for m.Type != "ready" {
		if err := wsjson.Read(ctx, ws2, &m); err != nil {
			t.Fatal(err)
		}
	}
	if err := wsjson.Write(ctx, ws2, termMsg{Type: "close"}); err != nil {
		t.Fatal(err)
	}
	for m.Type != "closed" {
		if err := wsjson.Read(ctx, ws2, &m); err != nil {
			t.Fatalf("after close: %v", err)
		}
	}
}

// randomReader yields n bytes of a seeded stream, hashing what it gives.
type randomReader struct {
	rng  *rand.ChaCha8
	left int64
	sum  io.Writer
}

func (r *randomReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.left)]
	_, _ = r.rng.Read(p)
	r.left -= int64(len(p))
	r.sum.Write(p)
	return len(p), nil
}

// rss is the process's resident set (VmRSS), in bytes (0 when it cannot be read).
func rss() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// watchRSS samples rss every 10 ms until stop is called, which returns the largest sample.
func watchRSS() (stop func() int64) {
	done, peak := make(chan struct{}), make(chan int64)
	go func() {
		top := rss()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				peak <- top
				return
			case <-tick.C:
				top = max(top, rss())
			}
		}
	}()
	return func() int64 { close(done); return <-peak }
}

func TestAgentSandboxBigFile(t *testing.T) {
	const size = 50 << 20
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0; c.MaxFileBytes = 64 << 20 })
	asCall(t, s, "POST", "/sandbox", map[string]any{"name": "big"}, nil)
	var res struct{ Output, ErrorOutput string }
	asCall(t, s, "POST", "/terminal/sandbox/big", map[string]any{"command": "mkdir -p ~/up && cd ~/up && pwd"}, &res)
	dir := strings.TrimSpace(res.Output)
	if dir == "" {
		t.Fatalf("no upload directory: %+v", res)
	}
	before := rss()
	if before == 0 {
		t.Skip("no VmRSS in /proc/self/status: cannot measure the server's memory")
	}
	stop := watchRSS()

	// Upload from a stream: neither side holds the file.
	sent := sha256.New()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, err := mw.CreateFormFile("file", "blob.bin")
		if err == nil {
			_, err = io.Copy(fw, &randomReader{rng: rand.NewChaCha8([32]byte{7}), left: size, sum: sent})
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", s.url+"/api/v1/sandbox/files/big/upload?path="+dir, pr)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	began := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"size":52428800`) {
		t.Fatalf("upload: %d %s", resp.StatusCode, raw)
	}
	up := time.Since(began)

	req, _ = http.NewRequest("GET", s.url+"/api/v1/sandbox/files/big/download?path="+dir+"/blob.bin", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	began = time.Now()
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || n != size || resp.Header.Get("Content-Length") != strconv.Itoa(size) {
		t.Fatalf("download: %d, %d bytes, %v", resp.StatusCode, n, err)
	}
	if !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Error("the downloaded file's SHA-256 differs from the uploaded one's")
	}
	grew := stop() - before
	t.Logf("50 MB: upload %v, download %v; peak RSS grew %d MB", up, time.Since(began), grew>>20)
	// Holding the file once would grow the peak by 50 MB.
	if grew >= size {
		t.Errorf("peak RSS grew %d MB moving a 50 MB file: it is held in memory", grew>>20)
	}
}

// TestAgentSandboxLogsRunc: a template whose start command prints lines; /logs tails them
// and follow=true streams the ones printed later, on real runc.
func TestAgentSandboxLogsRunc(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	var ts []map[string]any
	asCall(t, s, "GET", "/config/templates", nil, &ts)
	ts = append(ts, map[string]any{"name": "talker", "image": "base", "description": "prints lines",
		"startCmd": "echo hello-1; echo hello-2; while :; do if [ -e /tmp/next ]; then rm /tmp/next; echo later-$((i=i+1)); fi; sleep 0.02; done"})
	asCall(t, s, "POST", "/config/templates", ts, nil)
	asCall(t, s, "POST", "/sandbox", map[string]any{"name": "talk", "template": "talker"}, nil)
	var logs struct{ Logs string }
	for deadline := time.Now().Add(20 * time.Second); logs.Logs != "hello-1\nhello-2\n" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		asCall(t, s, "GET", "/logs/sandbox/talk", nil, &logs)
	}
	if logs.Logs != "hello-1\nhello-2\n" {
		t.Fatalf("logs: %q", logs.Logs)
	}
	if asCall(t, s, "GET", "/logs/sandbox/talk?tailLines=1", nil, &logs); logs.Logs != "hello-2\n" {
		t.Errorf("tailLines=1: %q", logs.Logs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.url+"/api/v1/logs/sandbox/talk?tailLines=1&follow=true", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for i, want := range []string{"hello-2", "later-1", "later-2"} {
		if i > 0 {
			asCall(t, s, "POST", "/terminal/sandbox/talk", map[string]any{"command": "touch /tmp/next"}, nil)
		}
		if !lines.Scan() || lines.Text() != want {
			t.Fatalf("follow line %d: %q (%v), want %q", i, lines.Text(), lines.Err(), want)
		}
	}
}
