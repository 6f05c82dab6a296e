package ports

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/sandbox"
)

func TestSetsTokenCookie(t *testing.T) {
	for v, want := range map[string]bool{
		TokenCookie + "=x": true,
		TokenCookie + "=x; Path=/; Domain=paddock.test": true,
		" " + TokenCookie + "\t= x; HttpOnly":           true,
		"PADDOCK_Traffic_Token=x":                       true,
		TokenCookie:                                     true, // nameless, sent back as the bare name
		"=" + TokenCookie + "=evil; Path=/":             true, // nameless, sent back as paddock_traffic_token=evil
		" = " + TokenCookie + " =evil":                  true,
		TokenCookie + "x=1":                             false,
		"__Host-" + TokenCookie + "=1":                  false,
		"session=" + TokenCookie:                        false,
		"a=1; Path=/" + TokenCookie:                     false,
		"a=1, " + TokenCookie + "=2":                    false, // one cookie named a (browsers do not split on commas)
		"":                                              false,
	} {
		if got := setsTokenCookie(v); got != want {
			t.Errorf("setsTokenCookie(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestStripTokenCookies(t *testing.T) {
	h := http.Header{}
	h.Add("Set-Cookie", "app=1; Path=/")
	h.Add("Set-Cookie", TokenCookie+"=planted; Path=/")
	h.Add("Set-Cookie", "other=2")
	h.Add("Set-Cookie", "="+TokenCookie+"=planted")
	stripTokenCookies(h)
	if got := h.Values("Set-Cookie"); !slices.Equal(got, []string{"app=1; Path=/", "other=2"}) {
		t.Errorf("Set-Cookie after strip: %q", got)
	}
	h = http.Header{"Set-Cookie": {TokenCookie + "=x"}}
	stripTokenCookies(h)
	if _, ok := h["Set-Cookie"]; ok {
		t.Errorf("Set-Cookie left: %q", h)
	}
}

// FuzzStripTokenCookies: whatever an app sends, no cookie Go's own parser reads as the
// token cookie survives, and other cookies are kept.
func FuzzStripTokenCookies(f *testing.F) {
	for _, s := range []string{TokenCookie + "=x", "a=1", "=" + TokenCookie + "=1", " " + TokenCookie + " = 1 ; Path=/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{"Set-Cookie": {v, "keep=1"}}
		stripTokenCookies(h)
		resp := &http.Response{Header: h}
		for _, c := range resp.Cookies() {
			if strings.EqualFold(c.Name, TokenCookie) {
				t.Fatalf("%q kept: Go reads cookie %q", v, c.Name)
			}
		}
		if !slices.Contains(h.Values("Set-Cookie"), "keep=1") {
			t.Fatalf("other cookie dropped for %q", v)
		}
	})
}

// TestForwardStripsTokenCookies proxies to an app that tries to plant the token cookie in
// an early hint, a final answer and an upgrade answer.
func TestForwardStripsTokenCookies(t *testing.T) {
	planted := TokenCookie + "=planted; Path=/"
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/upgrade" {
			c, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n" +
				"Set-Cookie: " + planted + "\r\nSet-Cookie: app=up\r\n\r\n")
			brw.Flush()
			return
		}
		if r.URL.Path != "/plain" {
			w.Header().Add("Set-Cookie", planted)
			w.Header().Add("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Del("Link")
		}
		w.Header().Add("Set-Cookie", "app=1")
		w.Header().Add("Set-Cookie", "="+TokenCookie+"=planted")
		io.WriteString(w, "page")
	}))
	t.Cleanup(app.Close)
	a := &API{log: slog.New(slog.DiscardHandler), tr: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", app.Listener.Addr().String())
		}}}
	own := TokenCookie + "=own; Path=/plain; HttpOnly"
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/plain" {
			w.Header().Add("Set-Cookie", own) // as RememberToken does for a ?token=
		}
		a.Forward(w, r, Target{Sandbox: &sandbox.Sandbox{ID: "sb", Name: "sb"}, Port: 80, Isolate: true},
			func(w http.ResponseWriter, r *http.Request, f Failure) { http.Error(w, f.Message, f.Status) })
	}))
	t.Cleanup(proxy.Close)

	var early []string
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			early = append(early, h.Values("Set-Cookie")...)
			early = append(early, "status:"+http.StatusText(code))
			return nil
		}})
	req, _ := http.NewRequestWithContext(ctx, "GET", proxy.URL+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "page" || !slices.Equal(resp.Header.Values("Set-Cookie"), []string{"app=1"}) {
		t.Errorf("final answer: %q with Set-Cookie %q, want page with app=1 only", body, resp.Header.Values("Set-Cookie"))
	}
	if !slices.Equal(early, []string{"status:Early Hints"}) {
		t.Errorf("early hints carried %q, want no cookie", early)
	}

	// Paddock's own token cookie is kept.
	resp, err = http.Get(proxy.URL + "/plain")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Values("Set-Cookie"); !slices.Equal(got, []string{own, "app=1"}) {
		t.Errorf("with Paddock's cookie: Set-Cookie %q, want %q and app=1", got, own)
	}

	c, err := net.Dial("tcp", proxy.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	up, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if up.StatusCode != http.StatusSwitchingProtocols || !slices.Equal(up.Header.Values("Set-Cookie"), []string{"app=up"}) {
		t.Errorf("upgrade answer: %d with Set-Cookie %q, want 101 with app=up only", up.StatusCode, up.Header.Values("Set-Cookie"))
	}
}
