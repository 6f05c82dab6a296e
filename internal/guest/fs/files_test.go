package fs_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"connectrpc.com/connect"
	"golang.org/x/sys/unix"

	pb "github.com/paddock/paddock/proto/filesystem"
)

// part is one part of a multipart upload; disposition is written verbatim.
type part struct{ disposition, content string }

func fileParts(content string, filenames ...string) []part {
	var ps []part
	for _, f := range filenames {
		ps = append(ps, part{fmt.Sprintf(`form-data; name="file"; filename=%q`, f), content + f})
	}
	return ps
}

func multipartBody(t *testing.T, parts []part) (io.Reader, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		w, err := mw.CreatePart(map[string][]string{"Content-Disposition": {p.disposition}})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, p.content)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &body, mw.FormDataContentType()
}

type uploadedEntry struct {
	Path     string            `json:"path"`
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Metadata map[string]string `json:"metadata"`
}

// errorBody checks the JSON error shape {"message", "code"} and returns the code.
func errorBody(t *testing.T, b []byte) int {
	t.Helper()
	var eb struct {
		Message string `json:"message"`
		Code    int    `json:"code"`
	}
	if err := json.Unmarshal(b, &eb); err != nil || eb.Message == "" {
		t.Errorf("error body %q is not {message, code}: %v", b, err)
	}
	return eb.Code
}

func filesURL(p string, extra ...string) string {
	return "/files?" + strings.Join(append([]string{"path=" + url.QueryEscape(p)}, extra...), "&")
}

func gzipped(t *testing.T, s string) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b
}

func TestUploadMultipart(t *testing.T) {
	e := newEnv(t, "")
	one, two := e.path("m/one.txt"), e.path("m/deep/two.txt")
	body, ctype := multipartBody(t, append(fileParts("content of ", one, two),
		part{`form-data; name="other"`, "ignored"}))
	resp, b := e.do(t, "POST", "/files?username="+stranger, body, map[string]string{"Content-Type": ctype})
	var out []uploadedEntry
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil {
		t.Fatalf("status %d body %s", resp.StatusCode, b)
	}
	want := []uploadedEntry{{Path: one, Name: "one.txt", Type: "file"}, {Path: two, Name: "two.txt", Type: "file"}}
	if fmt.Sprint(out) != fmt.Sprint(want) {
		t.Errorf("answer %+v, want %+v", out, want)
	}
	for _, p := range []string{one, two, e.path("m"), e.path("m/deep")} {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil || st.Uid != strangerUID {
			t.Errorf("%s: uid %d (%v), want the username %s", p, st.Uid, err, stranger)
		}
	}
	if got := readFile(t, two); got != "content of "+two {
		t.Errorf("two.txt holds %q", got)
	}
	if fi, err := os.Stat(e.path("m/deep")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("created parent mode %v (%v), want 0755", fi.Mode(), err)
	}
}

func TestUploadMultipartWithPath(t *testing.T) {
	e := newEnv(t, "")
	dst := e.path("single.txt")
	body, ctype := multipartBody(t, fileParts("x", "ignored-name.txt"))
	resp, b := e.do(t, "POST", filesURL(dst), body, map[string]string{"Content-Type": ctype})
	if resp.StatusCode != 200 || !strings.Contains(string(b), dst) {
		t.Fatalf("status %d body %s", resp.StatusCode, b)
	}
	if got := readFile(t, dst); got != "xignored-name.txt" {
		t.Errorf("file holds %q", got)
	}
}

func TestUploadRaw(t *testing.T) {
	e := newEnv(t, "")
	octet := map[string]string{"Content-Type": "application/octet-stream"}
	t.Run("octet-stream", func(t *testing.T) {
		p := e.path("raw/r.bin")
		resp, b := e.do(t, "POST", filesURL(p), strings.NewReader("raw bytes"), octet)
		if resp.StatusCode != 200 || readFile(t, p) != "raw bytes" {
			t.Fatalf("status %d body %s", resp.StatusCode, b)
		}
	})
	t.Run("gzip body", func(t *testing.T) {
		p := e.path("z.txt")
		hdr := map[string]string{"Content-Type": "application/octet-stream", "Content-Encoding": "gzip"}
		resp, b := e.do(t, "POST", filesURL(p), gzipped(t, "zipped payload"), hdr)
		if resp.StatusCode != 200 || readFile(t, p) != "zipped payload" {
			t.Fatalf("status %d body %s", resp.StatusCode, b)
		}
	})
	t.Run("overwrite truncates and keeps the mode", func(t *testing.T) {
		p := e.write(t, "script.sh", "a long original content")
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if resp, b := e.do(t, "POST", filesURL(p), strings.NewReader("short"), octet); resp.StatusCode != 200 {
			t.Fatalf("status %d body %s", resp.StatusCode, b)
		}
		fi, err := os.Stat(p)
		if got := readFile(t, p); got != "short" || err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("file %q mode %v (%v), want %q 0755", got, fi.Mode(), err, "short")
		}
	})
	t.Run("symlink is replaced, not followed", func(t *testing.T) {
		victim := e.write(t, "outside/victim", "original")
		link := e.path("link")
		if err := os.Symlink(victim, link); err != nil {
			t.Fatal(err)
		}
		if resp, b := e.do(t, "POST", filesURL(link), strings.NewReader("new"), octet); resp.StatusCode != 200 {
			t.Fatalf("status %d body %s", resp.StatusCode, b)
		}
		if got := readFile(t, victim); got != "original" {
			t.Errorf("upload wrote through the symlink: victim now %q", got)
		}
		if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() || readFile(t, link) != "new" {
			t.Errorf("link is now %v (%v), want a regular file holding the upload", fi.Mode(), err)
		}
	})
}

func TestUploadErrors(t *testing.T) {
	e := newEnv(t, "")
	file := e.write(t, "file", "x")
	fifo := e.path("fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	octet := map[string]string{"Content-Type": "application/octet-stream"}
	dup, dupType := multipartBody(t, fileParts("x", e.path("d.txt"), e.path("d.txt")))
	two, twoType := multipartBody(t, fileParts("x", "a", "b"))
	none, noneType := multipartBody(t, []part{{`form-data; name="other"`, "x"}})
	noName, noNameType := multipartBody(t, []part{{`form-data; name="file"`, "x"}})
	badDisp, badDispType := multipartBody(t, []part{{`form-data; name="file"; filename=`, "x"}})
	cases := []struct {
		name, url string
		body      io.Reader
		hdr       map[string]string
		want      int
	}{
		{"no path", "/files", strings.NewReader("x"), octet, 400},
		{"a directory", filesURL(e.dir), strings.NewReader("x"), octet, 400},
		{"below a file", filesURL(file + "/x"), strings.NewReader("x"), octet, 400},
		{"a fifo", filesURL(fifo), strings.NewReader("x"), octet, 400},
		{"duplicate filenames", "/files", dup, map[string]string{"Content-Type": dupType}, 400},
		{"two parts, one path", filesURL(e.path("one")), two, map[string]string{"Content-Type": twoType}, 400},
		{"no file part", "/files", none, map[string]string{"Content-Type": noneType}, 400},
		{"file part without filename", "/files", noName, map[string]string{"Content-Type": noNameType}, 400},
		{"malformed disposition", "/files", badDisp, map[string]string{"Content-Type": badDispType}, 400},
		{"multipart without boundary", "/files", strings.NewReader("x"), map[string]string{"Content-Type": "multipart/form-data"}, 400},
		{"unsupported content type", filesURL(e.path("t")), strings.NewReader("x"), map[string]string{"Content-Type": "text/plain"}, 400},
		{"invalid gzip", filesURL(e.path("g")), strings.NewReader("not gzip"), map[string]string{"Content-Type": "application/octet-stream", "Content-Encoding": "gzip"}, 400},
		{"truncated gzip", filesURL(e.path("g")), io.LimitReader(gzipped(t, strings.Repeat("abc", 1000)), 20), map[string]string{"Content-Type": "application/octet-stream", "Content-Encoding": "gzip"}, 400},
		{"unsupported encoding", filesURL(e.path("g")), strings.NewReader("x"), map[string]string{"Content-Type": "application/octet-stream", "Content-Encoding": "br"}, 400},
		{"method", filesURL(e.path("g")), nil, nil, 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := "POST"
			if tc.want == 405 {
				method = "PUT"
			}
			resp, b := e.do(t, method, tc.url, tc.body, tc.hdr)
			if resp.StatusCode != tc.want || errorBody(t, b) != tc.want {
				t.Errorf("status %d body %s, want %d", resp.StatusCode, b, tc.want)
			}
		})
	}
	if got := readFile(t, file); got != "x" {
		t.Errorf("a failed upload changed an unrelated file: %q", got)
	}
}

func TestUploadMetadata(t *testing.T) {
	e := newEnv(t, "")
	p := e.path("meta.txt")
	stat := func() map[string]string {
		res, err := e.client.Stat(context.Background(), connect.NewRequest(&pb.StatRequest{Path: p}))
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg.GetEntry().GetMetadata()
	}
	hdr := map[string]string{"Content-Type": "application/octet-stream", "X-Metadata-Owner": "Alice", "X-Metadata-Build-Id": "42"}
	resp, b := e.do(t, "POST", filesURL(p), strings.NewReader("x"), hdr)
	var out []uploadedEntry
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || len(out) != 1 || out[0].Metadata["owner"] != "Alice" {
		t.Fatalf("status %d body %s", resp.StatusCode, b)
	}
	if got := stat(); len(got) != 2 || got["owner"] != "Alice" || got["build-id"] != "42" {
		t.Errorf("metadata after upload %v", got)
	}
	hdr = map[string]string{"Content-Type": "application/octet-stream", "X-Metadata-Other": "v"}
	if resp, b := e.do(t, "POST", filesURL(p), strings.NewReader("y"), hdr); resp.StatusCode != 200 {
		t.Fatalf("status %d body %s", resp.StatusCode, b)
	}
	if got := stat(); len(got) != 1 || got["other"] != "v" {
		t.Errorf("metadata after a second upload %v, want only other=v", got)
	}
	many := map[string]string{"Content-Type": "application/octet-stream"}
	for i := range 5 {
		many[fmt.Sprintf("X-Metadata-K%d", i)] = strings.Repeat("v", 1000)
	}
	bad := []struct {
		name string
		hdr  map[string]string
	}{
		{"non-ASCII value", map[string]string{"X-Metadata-K": "caf\xc3\xa9"}},
		{"tab in value", map[string]string{"X-Metadata-K": "a\tb"}},
		{"key too long", map[string]string{"X-Metadata-" + strings.Repeat("k", 247): "v"}},
		{"total too large", many},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			tc.hdr["Content-Type"] = "application/octet-stream"
			resp, b := e.do(t, "POST", filesURL(p), strings.NewReader("z"), tc.hdr)
			if resp.StatusCode != 400 {
				t.Errorf("status %d body %s, want 400", resp.StatusCode, b)
			}
		})
	}
	if got := readFile(t, p); got != "y" {
		t.Errorf("a rejected upload changed the file to %q", got)
	}
}

// TestUploadNoSpace fills a tiny tmpfs mounted in a temp dir.
func TestUploadNoSpace(t *testing.T) {
	e := newEnv(t, "")
	small := e.path("small")
	if err := os.Mkdir(small, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", small, "tmpfs", 0, "size=16k"); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(small, unix.MNT_DETACH) })
	resp, b := e.do(t, "POST", filesURL(small+"/big"), bytes.NewReader(make([]byte, 1<<20)), map[string]string{"Content-Type": "application/octet-stream"})
	if resp.StatusCode != 507 || errorBody(t, b) != 507 {
		t.Errorf("status %d body %s, want 507", resp.StatusCode, b)
	}
}
