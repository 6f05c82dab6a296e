package auth

import (
	"encoding/base64"
	"net/http"
	"testing"
)

func TestFromWebSocketProtocol(t *testing.T) {
	enc := func(s string) string { return "paddock.key." + base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name    string
		upgrade string
		protos  []string
		want    string
	}{
		{"key second", "websocket", []string{"paddock.v1, " + enc("e2b_abc")}, "e2b_abc"},
		{"key in its own header line", "WebSocket", []string{"paddock.v1", enc("jwt.a-b_c")}, "jwt.a-b_c"},
		{"no key", "websocket", []string{"paddock.v1"}, ""},
		{"not an upgrade", "", []string{enc("e2b_abc")}, ""},
		{"bad base64", "websocket", []string{"paddock.key.***"}, ""},
		{"padded base64 is refused", "websocket", []string{"paddock.key." + base64.URLEncoding.EncodeToString([]byte("e2b_a"))}, ""},
		{"bytes that need escaping", "websocket", []string{enc("k/+? é")}, "k/+? é"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.upgrade != "" {
				h.Set("Upgrade", tc.upgrade)
			}
			for _, p := range tc.protos {
				h.Add("Sec-WebSocket-Protocol", p)
			}
			if got := FromWebSocketProtocol(h); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzFromWebSocketProtocol(f *testing.F) {
	f.Add("paddock.v1, paddock.key.ZTJiX2FiYw")
	f.Add("paddock.key.")
	f.Add(",,,paddock.key.%%")
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{"Upgrade": {"websocket"}, "Sec-Websocket-Protocol": {v}}
		_ = FromWebSocketProtocol(h) // must not panic
	})
}
