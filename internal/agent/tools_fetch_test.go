package agent

import (
	"strings"
	"testing"
)

// fetchOutcome reads curl's and wget's reports, and says so when the image has neither.
func TestFetchOutcome(t *testing.T) {
	cases := []struct {
		name          string
		res           ExecResult
		isErr         bool
		want, notWant string
	}{
		{"curl", ExecResult{Stdout: []byte("body"), Stderr: []byte("status: 200\ncontent-type: text/html\nexit: 0\n")}, false, "status: 200\ncontent-type: text/html\n\nbody", "error"},
		{"wget", ExecResult{Stdout: []byte("body"), Stderr: []byte("  HTTP/1.1 200 OK\n  Content-Type: text/plain\nexit: 0\n")}, false, "status: 200\ncontent-type: text/plain", "error"},
		{"wget 404", ExecResult{Stderr: []byte("  HTTP/1.1 404 Not Found\nwget: server returned error: HTTP/1.1 404 Not Found\nexit: 8\n")}, true, "status: 404", ""},
		{"refused", ExecResult{Stderr: []byte("curl: (7) Failed to connect to 10.0.0.1 port 80\nstatus: 000\ncontent-type: \nexit: 7\n")}, true, "error: curl: (7) Failed to connect", "status:"},
		{"no tool", ExecResult{Stderr: []byte("web_fetch: neither curl nor wget is installed in this sandbox's image\nexit: 127\n")}, true, "neither curl nor wget", ""},
		{"timeout", ExecResult{TimedOut: true}, true, "timed out", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := fetchOutcome("http://x/", c.res)
			if out.IsError != c.isErr || !strings.Contains(out.Content, c.want) || (c.notWant != "" && strings.Contains(out.Content, c.notWant)) {
				t.Errorf("%+v", out)
			}
		})
	}
}

func FuzzCheckFetchURL(f *testing.F) {
	for _, s := range []string{"http://a/b?c=d", "https://x", "ftp://x", "http://x/'; rm -rf /", "http:///x", "javascript:alert(1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := checkFetchURL(raw)
		if err != nil {
			return
		}
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") || strings.ContainsAny(u, " \t\n\x00") {
			t.Fatalf("%q accepted as %q", raw, u)
		}
	})
}
