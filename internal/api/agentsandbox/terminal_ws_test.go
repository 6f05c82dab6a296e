package agentsandbox_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/paddock/paddock/internal/server/servertest"
)

type wsMsg struct {
	Type string `json:"type"`
	Data string `json:"data,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	Rows uint16 `json:"rows,omitempty"`
	Code int    `json:"code,omitempty"`
}

// TestTerminalWS drives the shell on the fake driver (whose processes run on the host): the
// message protocol, an unknown message type, exit.
func TestTerminalWS(t *testing.T) {
	s := servertest.New(t)
	create(t, s, "ws")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+v1+"/terminal/sandbox/ws/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + servertest.Key}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	var got []wsMsg
	var out strings.Builder
	read := func(until string) {
		for {
			var m wsMsg
			if err := wsjson.Read(ctx, ws, &m); err != nil {
				t.Fatalf("read: %v (after %+v)", err, got)
			}
			got = append(got, m)
			out.WriteString(m.Data)
			if m.Type == until {
				return
			}
		}
	}
	read("ready")
	for _, m := range []wsMsg{{Type: "init", Cols: 90, Rows: 20}, {Type: "bogus"}, {Type: "input", Data: "stty size; exit 7\n"}} {
		if err := wsjson.Write(ctx, ws, m); err != nil {
			t.Fatal(err)
		}
	}
	read("closed")
	var exit, unsupported bool
	for _, m := range got {
		exit = exit || (m.Type == "exit" && m.Code == 7)
		unsupported = unsupported || (m.Type == "error" && m.Data == "unsupported message type: bogus")
	}
	if !exit || !unsupported || !strings.Contains(out.String(), "20 90") || got[len(got)-1].Type != "closed" {
		t.Errorf("messages %+v", got)
	}
	// Not a WebSocket request, or a paused sandbox: answered before any upgrade.
	ok(t, s, "POST", v1+"/sandbox/pause/ws", nil, nil)
	fails(t, s, "GET", v1+"/terminal/sandbox/ws/ws", nil, 409, "not running")
}
