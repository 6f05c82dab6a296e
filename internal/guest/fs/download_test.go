package fs_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/guestproto"
)

func TestDownload(t *testing.T) {
	e := newEnv(t, "")
	const content = "0123456789 some downloadable content"
	p := e.write(t, "dl/data.txt", content)
	fifo := e.path("fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, url      string
		hdr            map[string]string
		status         int
		encoding, body string
	}{
		{name: "plain", url: filesURL(p), status: 200, body: content},
		{name: "range", url: filesURL(p), hdr: map[string]string{"Range": "bytes=2-5"}, status: 206, body: "2345"},
		{name: "gzip", url: filesURL(p), hdr: map[string]string{"Accept-Encoding": "gzip"}, status: 200, encoding: "gzip", body: content},
		{name: "gzip with a weight", url: filesURL(p), hdr: map[string]string{"Accept-Encoding": "br;q=1.0, gzip;q=0.5"}, status: 200, encoding: "gzip", body: content},
		{name: "gzip refused", url: filesURL(p), hdr: map[string]string{"Accept-Encoding": "gzip;q=0"}, status: 200, body: content},
		{name: "unsupported only", url: filesURL(p), hdr: map[string]string{"Accept-Encoding": "br"}, status: 200, body: content},
		{name: "range prefers identity", url: filesURL(p), hdr: map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-3"}, status: 206, body: "0123"},
		{name: "nothing acceptable", url: filesURL(p), hdr: map[string]string{"Accept-Encoding": "br, identity;q=0"}, status: 406},
		{name: "wildcard refused", url: filesURL(p), hdr: map[string]string{"Accept-Encoding": "*;q=0"}, status: 406},
		{name: "relative to home", url: filesURL(strings.TrimPrefix(p, "/"), "username="+stranger), status: 200, body: content},
		{name: "missing", url: filesURL(e.path("nope")), status: 404},
		{name: "directory", url: filesURL(e.dir), status: 400},
		{name: "fifo", url: filesURL(fifo), status: 400},
		{name: "no path", url: "/files", status: 400},
		{name: "unknown user", url: filesURL(p, "username=no-such-user-here"), status: 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := e.do(t, "GET", tc.url, nil, tc.hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d body %q, want %d", resp.StatusCode, b, tc.status)
			}
			if tc.status >= 400 {
				if code := errorBody(t, b); code != tc.status {
					t.Errorf("body code %d, want %d", code, tc.status)
				}
				return
			}
			if got := resp.Header.Get("Content-Encoding"); got != tc.encoding {
				t.Errorf("Content-Encoding %q, want %q", got, tc.encoding)
			}
			if tc.encoding == "gzip" {
				zr, err := gzip.NewReader(strings.NewReader(string(b)))
				if err != nil {
					t.Fatal(err)
				}
				if b, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if string(b) != tc.body {
				t.Errorf("body %q, want %q", b, tc.body)
			}
			if resp.Header.Get("Content-Disposition") != "inline; filename=data.txt" || resp.Header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("headers %v", resp.Header)
			}
		})
	}
}

func TestDownloadConditionalAndHead(t *testing.T) {
	e := newEnv(t, "")
	p := e.write(t, "f.txt", "cached")
	resp, b := e.do(t, "HEAD", filesURL(p), nil, nil)
	if resp.StatusCode != 200 || len(b) != 0 || resp.ContentLength != 6 {
		t.Errorf("HEAD: status %d length %d body %q", resp.StatusCode, resp.ContentLength, b)
	}
	lastMod := resp.Header.Get("Last-Modified")
	resp, _ = e.do(t, "GET", filesURL(p), nil, map[string]string{"If-Modified-Since": lastMod})
	if resp.StatusCode != 304 {
		t.Errorf("If-Modified-Since the file's time: status %d, want 304", resp.StatusCode)
	}
}

// TestDownloadUnsizedFiles reads files whose stat size is 0 but which have content (/proc),
// and a really empty file. /proc files cannot seek to their end, which http.ServeContent needs.
func TestDownloadUnsizedFiles(t *testing.T) {
	e := newEnv(t, "")
	empty := e.write(t, "empty", "")
	for _, c := range []struct {
		path, want string
		gzip       bool
	}{
		{"/proc/self/maps", "[stack]", false},
		{"/proc/self/status", "VmRSS:", false},
		{"/proc/self/maps", "[stack]", true},
		{empty, "", false},
	} {
		hdr := map[string]string{}
		if c.gzip {
			hdr["Accept-Encoding"] = "gzip"
		}
		resp, b := e.do(t, "GET", filesURL(c.path), nil, hdr)
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d %s", c.path, resp.StatusCode, b)
			continue
		}
		if c.gzip {
			zr, err := gzip.NewReader(strings.NewReader(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if !strings.Contains(string(b), c.want) || (c.want == "" && len(b) != 0) {
			t.Errorf("%s (gzip %v): %d bytes without %q", c.path, c.gzip, len(b), c.want)
		}
	}
}

func TestFilesAuth(t *testing.T) {
	const token = "secret-token"
	e := newEnv(t, token)
	p := e.write(t, "s.txt", "signed")
	future := time.Now().Add(time.Hour).Unix()
	past := time.Now().Add(-time.Hour).Unix()
	sig := func(op, user string, exp int64) string {
		return url.QueryEscape(guestproto.Sign(p, op, user, token, exp))
	}
	cases := []struct {
		name, method, url string
		hdr               map[string]string
		want              int
	}{
		{"no token", "GET", filesURL(p), nil, 401},
		{"wrong token", "GET", filesURL(p), map[string]string{"X-Access-Token": "nope"}, 401},
		{"token", "GET", filesURL(p), map[string]string{"X-Access-Token": token}, 200},
		{"token upload", "POST", filesURL(p), map[string]string{"X-Access-Token": token}, 200},
		{"no token upload", "POST", filesURL(p), nil, 401},
		{"signature", "GET", filesURL(p, "signature="+sig("read", "", 0)), nil, 200},
		{"signature with expiration", "GET", filesURL(p, "signature="+sig("read", "", future), fmt.Sprintf("signature_expiration=%d", future)), nil, 200},
		{"signature with username", "GET", filesURL(p, "username=root", "signature="+sig("read", "root", 0)), nil, 200},
		{"write signature", "POST", filesURL(p, "signature="+sig("write", "", 0)), nil, 200},
		{"expired", "GET", filesURL(p, "signature="+sig("read", "", past), fmt.Sprintf("signature_expiration=%d", past)), nil, 401},
		{"expiration not signed", "GET", filesURL(p, "signature="+sig("read", "", 0), fmt.Sprintf("signature_expiration=%d", future)), nil, 401},
		{"bad expiration", "GET", filesURL(p, "signature="+sig("read", "", 0), "signature_expiration=soon"), nil, 401},
		{"read signature for upload", "POST", filesURL(p, "signature="+sig("read", "", 0)), nil, 401},
		{"write signature for download", "GET", filesURL(p, "signature="+sig("write", "", 0)), nil, 401},
		{"username not signed", "GET", filesURL(p, "username=root", "signature="+sig("read", "", 0)), nil, 401},
		{"other path", "GET", filesURL(p+"x", "signature="+sig("read", "", 0)), nil, 401},
		{"garbage signature", "GET", filesURL(p, "signature=v1_garbage"), nil, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			hdr := map[string]string{}
			for k, v := range tc.hdr {
				hdr[k] = v
			}
			if tc.method == "POST" {
				body = strings.NewReader("signed")
				hdr["Content-Type"] = "application/octet-stream"
			}
			resp, b := e.do(t, tc.method, tc.url, body, hdr)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d (%s), want %d", resp.StatusCode, b, tc.want)
			}
			if tc.want == 401 && errorBody(t, b) != 401 {
				t.Errorf("body %s", b)
			}
		})
	}
}
