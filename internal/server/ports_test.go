package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/config"
	"github.com/paddock/paddock/internal/testenv"
)

var (
	portsrvOnce sync.Once
	portsrvPath string
	portsrvErr  error
)

// portsrv builds testdata/portsrv statically (it runs inside sandboxes) once per test binary.
func portsrv(t testing.TB) string {
	t.Helper()
	// Beside the paddock binary, whose directory testenv.Main removes.
	dir := filepath.Dir(testenv.PaddockBinary(t))
	portsrvOnce.Do(func() {
		portsrvPath = filepath.Join(dir, "portsrv")
		cmd := exec.Command("go", "build", "-o", portsrvPath, "./testdata/portsrv")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			portsrvErr = fmt.Errorf("build portsrv: %v\n%s", err, out)
		}
	})
	if portsrvErr != nil {
		t.Fatal(portsrvErr)
	}
	return portsrvPath
}

// startPortsrv uploads portsrv into a running sandbox, starts it on ports and waits until the
// first one answers through the server.
func (s *testServer) startPortsrv(name string, ports ...string) {
	s.t.Helper()
	bin, err := os.ReadFile(portsrv(s.t))
	if err != nil {
		s.t.Fatal(err)
	}
	c := client.New(s.url, testKey)
	ctx := context.Background()
	if err := c.WriteFile(ctx, name, "/tmp/portsrv", bin); err != nil {
		s.t.Fatal(err)
	}
	res, err := c.Exec(ctx, name, client.ExecRequest{Command: []string{"sh", "-c",
		"chmod +x /tmp/portsrv && setsid /tmp/portsrv " + strings.Join(ports, " ") + " >/tmp/portsrv.log 2>&1 &"}})
	if err != nil || res.ExitCode != 0 {
		s.t.Fatalf("start portsrv: %v %+v", err, res)
	}
	for i := 0; ; i++ {
		code, _ := s.portGet("/sandboxes/"+name+"/ports/"+ports[0]+"/", map[string]string{"X-API-Key": testKey})
		if code == 200 {
			return
		}
		if i == 500 {
			s.t.Fatalf("portsrv never answered on port %s (last status %d)", ports[0], code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// portGet sends GET path with headers and returns the status and body.
func (s *testServer) portGet(path string, hdr map[string]string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.url+path, nil)
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// seen is portsrv's description of the request it received.
type seen struct {
	Local, Method, Path, Query, Host, Prefix, Traffic, Cookie string
	APIKey                                                    string `json:"api_key"`
	Authorization                                             string
}

func decodeSeen(t *testing.T, body string) seen {
	t.Helper()
	var v seen
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("not portsrv's answer: %s", body)
	}
	return v
}

// wsEcho opens a WebSocket at path with hdr and checks that a message comes back.
func (s *testServer) wsEcho(t *testing.T, path string, hdr http.Header) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http")+path, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("websocket %s: %v (HTTP %d)", path, err, status)
	}
	defer c.CloseNow()
	for i := 0; i < 3; i++ {
		msg := fmt.Sprintf("ping %d through %s", i, path)
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.Read(ctx)
		if err != nil || typ != websocket.MessageText || string(got) != msg {
			t.Fatalf("websocket %s: got %q (%v), want %q", path, got, err, msg)
		}
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
}

// TestPortRoutes starts a web server in a sandbox and reaches it through every route, over
// HTTP and WebSocket, checking what the server saw.
func TestPortRoutes(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	c := client.New(s.url, testKey)
	sb, err := c.CreateSandbox(context.Background(), client.CreateRequest{Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if sb.TrafficToken == "" || sb.Port != 8080 {
		t.Fatalf("created sandbox: traffic token %q, port %d", sb.TrafficToken, sb.Port)
	}
	s.startPortsrv("web", "8080", "3000")
	key := map[string]string{"X-API-Key": testKey}
	e2b := func(port string) map[string]string {
		return map[string]string{"E2b-Sandbox-Id": sb.ID, "E2b-Sandbox-Port": port, "X-API-Key": testKey}
	}
	cases := []struct {
		name, path string
		hdr        map[string]string
		port       string // where the server must have received it
		wantPath   string
		wantQuery  string
		wantPrefix string
	}{
		{"native", "/sandboxes/web/ports/3000/a/b%2Fc?x=1&y=2", key, "3000", "/a/b/c", "x=1&y=2", "/sandboxes/web/ports/3000"},
		{"agent-sandbox default port", "/sandbox/web/hello?x=1", key, "8080", "/hello", "x=1", "/sandbox/web"},
		{"agent-sandbox ?port=", "/sandbox/web/hello?port=3000&x=1", key, "3000", "/hello", "x=1", "/sandbox/web"},
		{"agent-sandbox router by ID", "/sandboxes/router/" + sb.ID + "/3000/r?x=1", key, "3000", "/r", "x=1", "/sandboxes/router/" + sb.ID + "/3000"},
		{"agent-sandbox router by name", "/sandboxes/router/web/8080/", key, "8080", "/", "", "/sandboxes/router/web/8080"},
		{"e2b headers", "/e2b/path?x=1", e2b("3000"), "3000", "/e2b/path", "x=1", ""},
		{"e2b host", "/h", map[string]string{"Host": "8080-" + sb.ID + ".sandbox.paddock.test", "X-API-Key": testKey}, "8080", "/h", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := s.portGet(tc.path, tc.hdr)
			if code != 200 {
				t.Fatalf("GET %s: %d %s", tc.path, code, body)
			}
			v := decodeSeen(t, body)
			if !strings.HasSuffix(v.Local, ":"+tc.port) || v.Path != tc.wantPath || v.Query != tc.wantQuery || v.Prefix != tc.wantPrefix {
				t.Errorf("GET %s reached %+v; want port %s path %s query %q prefix %q", tc.path, v, tc.port, tc.wantPath, tc.wantQuery, tc.wantPrefix)
			}
			if v.APIKey != "" || v.Traffic != "" {
				t.Errorf("GET %s: Paddock's credentials reached the sandbox: %+v", tc.path, v)
			}
		})
	}
	// Pages served on Paddock's own origin run in an opaque origin of their own, so that a
	// sandbox's page cannot read /docs's stored key or another sandbox's cookies; the host
	// router gives each port its own origin and needs no such policy.
	for path, host := range map[string]string{"/sandboxes/web/ports/3000/": "", "/sandbox/web/": "",
		"/sandboxes/router/web/8080/": "", "/h": "8080-" + sb.ID + ".sandbox.paddock.test"} {
		req, _ := http.NewRequest("GET", s.url+path, nil)
		req.Header.Set("X-API-Key", testKey)
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		// Without allow-same-origin: a sandbox's page cannot read the web UI's sessionStorage.
		if isolated := strings.HasPrefix(csp, "sandbox allow-scripts"); isolated != (host == "") || strings.Contains(csp, "allow-same-origin") {
			t.Errorf("GET %s (host %q): Content-Security-Policy %q", path, host, csp)
		}
	}
	hdr := http.Header{"X-Api-Key": {testKey}}
	e2bHdr := http.Header{"X-Api-Key": {testKey}, "E2b-Sandbox-Id": {sb.ID}, "E2b-Sandbox-Port": {"3000"}}
	t.Run("websocket native", func(t *testing.T) { s.wsEcho(t, "/sandboxes/web/ports/3000/echo", hdr) })
	t.Run("websocket agent-sandbox", func(t *testing.T) { s.wsEcho(t, "/sandbox/web/echo", hdr) })
	t.Run("websocket router", func(t *testing.T) { s.wsEcho(t, "/sandboxes/router/"+sb.ID+"/3000/echo", hdr) })
	t.Run("websocket e2b", func(t *testing.T) { s.wsEcho(t, "/echo", e2bHdr) })
	t.Run("websocket with ?token=", func(t *testing.T) { s.wsEcho(t, "/sandboxes/web/ports/3000/echo?token="+sb.TrafficToken, nil) })

	// A POST with a body goes through as it came.
	req, _ := http.NewRequest("POST", s.url+"/sandboxes/web/ports/8080/form", strings.NewReader("a=1"))
	req.Header.Set("X-API-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if v := decodeSeen(t, string(b)); resp.StatusCode != 200 || v.Method != "POST" || v.Path != "/form" {
		t.Errorf("POST: %d %s", resp.StatusCode, b)
	}
}

// TestPortAccessAndBadInput checks who may reach a port (API key, traffic token in a header,
// ?token= and the cookie it sets, public ports) and the error answers.
func TestPortAccessAndBadInput(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	c := client.New(s.url, testKey)
	ctx := context.Background()
	sb, err := c.CreateSandbox(ctx, client.CreateRequest{Name: "acl", PublicPorts: []int{3000}})
	if err != nil {
		t.Fatal(err)
	}
	s.startPortsrv("acl", "8080", "3000")
	path := "/sandboxes/acl/ports/8080/x"
	none := map[string]string{}
	for name, tc := range map[string]struct {
		path string
		hdr  map[string]string
		want int
	}{
		"no credential":                {path, none, 401},
		"wrong API key":                {path, map[string]string{"X-API-Key": "e2b_0000"}, 401},
		"wrong traffic token":          {path, map[string]string{"X-Paddock-Traffic-Token": "nope"}, 401},
		"another sandbox unknown":      {"/sandboxes/ghost/ports/8080/", none, 401},
		"traffic token header":         {path, map[string]string{"X-Paddock-Traffic-Token": sb.TrafficToken}, 200},
		"e2b traffic token header":     {path, map[string]string{"E2B-Traffic-Access-Token": sb.TrafficToken}, 200},
		"bearer API key":               {path, map[string]string{"Authorization": "Bearer " + testKey}, 200},
		"public port, no credential":   {"/sandboxes/acl/ports/3000/x", none, 200},
		"agent-sandbox ?port= public":  {"/sandbox/acl/x?port=3000", none, 200},
		"agent-sandbox default closed": {"/sandbox/acl/x", none, 401},
	} {
		t.Run(name, func(t *testing.T) {
			if code, body := s.portGet(tc.path, tc.hdr); code != tc.want {
				t.Errorf("GET %s: %d %s, want %d", tc.path, code, body, tc.want)
			}
		})
	}

	// ?token= works and leaves a cookie, scoped to the route, that opens the page's other URLs.
	resp, err := http.Get(s.url + path + "?token=" + sb.TrafficToken + "&keep=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	v := decodeSeen(t, string(b))
	if resp.StatusCode != 200 || v.Query != "keep=1" {
		t.Errorf("?token=: %d, server saw query %q (the token must not reach it)", resp.StatusCode, v.Query)
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "paddock_traffic_token" {
			cookie = ck
		}
	}
	if cookie == nil || cookie.Path != "/sandboxes/acl/ports/8080/" || !cookie.HttpOnly {
		t.Fatalf("?token= set cookie %+v", cookie)
	}
	code, body := s.portGet("/sandboxes/acl/ports/8080/app.js", map[string]string{"Cookie": cookie.Name + "=" + cookie.Value + "; theirs=1"})
	if v := decodeSeen(t, body); code != 200 || v.Cookie != "theirs=1" {
		t.Errorf("with the cookie: %d, server saw cookies %q (want only the app's)", code, v.Cookie)
	}

	// Marking a port public at runtime opens it to everyone; private closes it again.
	if pv, err := c.SetPortPublic(ctx, "acl", 8080, true); err != nil || !pv.Public {
		t.Fatalf("make 8080 public: %+v %v", pv, err)
	}
	if code, body := s.portGet(path, none); code != 200 {
		t.Errorf("public 8080 without credential: %d %s", code, body)
	}
	if pv, err := c.SetPortPublic(ctx, "acl", 8080, false); err != nil || pv.Public {
		t.Fatalf("make 8080 private: %+v %v", pv, err)
	}
	if code, _ := s.portGet(path, none); code != 401 {
		t.Errorf("private 8080 without credential: %d", code)
	}
	if got, err := c.GetSandbox(ctx, "acl"); err != nil || got.TrafficToken != sb.TrafficToken || fmt.Sprint(got.PublicPorts) != "[3000]" {
		t.Errorf("GET /sandboxes/acl: %+v %v", got, err)
	}

	// Bad input, with the key: the answer says what is wrong.
	key := map[string]string{"X-API-Key": testKey}
	for _, tc := range []struct {
		path, contains string
		want           int
	}{
		{"/sandboxes/acl/ports/0/", "port 0", 400},
		{"/sandboxes/acl/ports/70000/", "port 70000", 400},
		{"/sandboxes/acl/ports/http/", "port \\\"http\\\"", 400},
		{"/sandbox/acl/?port=70000", "port 70000", 400},
		{"/sandboxes/router/acl/0/", "port 0", 400},
		{"/sandboxes/acl/ports/9999/", "port 9999", 502},
		{"/sandboxes/ghost/ports/8080/", "ghost", 404},
	} {
		code, body := s.portGet(tc.path, key)
		if code != tc.want || !strings.Contains(body, tc.contains) || !strings.Contains(body, `"success":false`) {
			t.Errorf("GET %s: %d %s, want %d naming %s", tc.path, code, body, tc.want, tc.contains)
		}
	}
	for _, p := range []string{"0", "70000"} {
		if code, env := s.call("PUT", "/sandboxes/acl/public-ports/"+p, nil, ""); p == "70000" && code != 400 || p == "0" && code != 200 {
			t.Errorf("PUT public-ports/%s: %d %+v", p, code, env)
		}
	}
	if code, env := s.call("POST", "/sandboxes", map[string]any{"name": "badports", "public_ports": []int{65536}}, ""); code != 400 || !strings.Contains(env.Error, "65536") {
		t.Errorf("create with public port 65536: %d %+v", code, env)
	}
	// A stopped sandbox answers 409; deleted, 404.
	if _, err := c.StopSandbox(ctx, "acl"); err != nil {
		t.Fatal(err)
	}
	if code, body := s.portGet(path, key); code != 409 {
		t.Errorf("stopped sandbox: %d %s, want 409", code, body)
	}
}

// TestE2BPorts checks E2B's semantics on the data plane: ports are public unless the sandbox
// was created with network.allowPublicTraffic false, which returns the traffic token to send
// as e2b-traffic-access-token.
func TestE2BPorts(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.PoolSize = 0 })
	create := func(body map[string]any) (int, map[string]any) {
		code, raw, _ := s.e2bCall("POST", "/e2b/v1/v2/sandboxes", body, nil)
		var v map[string]any
		_ = json.Unmarshal(raw, &v)
		return code, v
	}
	code, private := create(map[string]any{"templateID": "base", "network": map[string]any{"allowPublicTraffic": false}})
	token, _ := private["trafficAccessToken"].(string)
	if code != 201 || token == "" {
		t.Fatalf("create with allowPublicTraffic false: %d %v", code, private)
	}
	code, public := create(map[string]any{"templateID": "base"})
	if code != 201 || public["trafficAccessToken"] != nil {
		t.Fatalf("create with public traffic: %d %v (no trafficAccessToken expected)", code, public)
	}
	if code, raw, _ := s.e2bCall("POST", "/e2b/v1/sandboxes", map[string]any{"templateID": "base", "secure": false,
		"network": map[string]any{"allowPublicTraffic": false}}, nil); code != 400 {
		t.Errorf("allowPublicTraffic false without secure: %d %s, want 400", code, raw)
	}
	privID, pubID := private["sandboxID"].(string), public["sandboxID"].(string)
	s.startPortsrv(privID, "8080")
	s.startPortsrv(pubID, "8080")
	at := func(id, port string, extra ...string) map[string]string {
		h := map[string]string{"E2b-Sandbox-Id": id, "E2b-Sandbox-Port": port}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i]] = extra[i+1]
		}
		return h
	}
	for name, tc := range map[string]struct {
		hdr      map[string]string
		want     int
		contains string
	}{
		"private without token":     {at(privID, "8080"), 403, "traffic access token"},
		"private wrong token":       {at(privID, "8080", "e2b-traffic-access-token", "nope"), 403, `"code":403`},
		"private with token":        {at(privID, "8080", "e2b-traffic-access-token", token), 200, `"path":"/p"`},
		"private host-routed":       {map[string]string{"Host": "8080-" + privID + ".e2b.test", "e2b-traffic-access-token": token}, 200, `"path":"/p"`},
		"public without token":      {at(pubID, "8080"), 200, `"path":"/p"`},
		"public host-routed":        {map[string]string{"Host": "8080-" + pubID + ".e2b.test"}, 200, `"path":"/p"`},
		"envd token kept back":      {at(pubID, "8080", "X-Access-Token", public["envdAccessToken"].(string)), 200, `"access_token":""`},
		"closed port":               {at(pubID, "9999"), 502, `"port":9999`},
		"port 0":                    {at(pubID, "0"), 400, "port 0"},
		"port 70000":                {at(pubID, "70000"), 400, "port 70000"},
		"unknown sandbox":           {at("ighost", "8080"), 502, "The sandbox was not found"},
		"envd port keeps its token": {at(privID, "49983"), 401, "access token"},
	} {
		t.Run(name, func(t *testing.T) {
			code, body := s.portGet("/p", tc.hdr)
			if name == "envd port keeps its token" {
				code, body = s.portGet("/envs", tc.hdr)
			}
			if code != tc.want || !strings.Contains(body, tc.contains) {
				t.Errorf("%d %s, want %d containing %s", code, body, tc.want, tc.contains)
			}
		})
	}
	s.wsEcho(t, "/echo", http.Header{"E2b-Sandbox-Id": {privID}, "E2b-Sandbox-Port": {"8080"}, "E2b-Traffic-Access-Token": {token}})

	// A browser on the host router opens ?token= once; the cookie (its own origin) does the rest.
	req, _ := http.NewRequest("GET", s.url+"/page?token="+token, nil)
	req.Host = "8080-" + privID + ".e2b.test"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != 200 || len(cookies) != 1 || cookies[0].Path != "/" || cookies[0].Value != token {
		t.Fatalf("host-routed ?token=: %d, cookies %v", resp.StatusCode, cookies)
	}
	code, body := s.portGet("/app.js", map[string]string{"Host": req.Host, "Cookie": cookies[0].Name + "=" + token})
	if code != 200 || !strings.Contains(body, `"cookie":""`) {
		t.Errorf("host-routed with the cookie: %d %s", code, body)
	}
}
