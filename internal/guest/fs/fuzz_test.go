package fs

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/guest/guestenv"
)

// fuzzUser has home "/", so relative names resolve outside any test directory and are
// only parsed, never written.
var fuzzUser = &guestenv.User{Name: "fuzz", UID: 0, GID: 0, Home: "/"}

// FuzzPartTarget checks that any part header and path query yield either an error or a
// clean absolute destination, without panicking.
func FuzzPartTarget(f *testing.F) {
	for _, s := range []string{
		`form-data; name="file"; filename="a.txt"`,
		`form-data; name="file"; filename="/home/user/dir/a.txt"`,
		`form-data; name="file"; filename="../../etc/x"`,
		`form-data; name="file"; filename*=UTF-8''%E2%82%AC%20rates.txt`,
		`form-data; name="file"; filename="a\"b"`,
		`form-data; name="file"; filename="C:\\fake\\x"`,
		`form-data; name="other"`,
		`form-data; name="file"; filename=`,
		`form-data; name="file"; filename="~/x"; filename="y"`,
		"form-data; name=\"file\"; filename=\"a\x00b\"",
	} {
		f.Add(s, "")
		f.Add(s, "/q/path")
	}
	f.Fuzz(func(t *testing.T, disposition, query string) {
		dest, isFile, err := partTarget(disposition, query, fuzzUser)
		if err != nil || !isFile {
			if dest != "" {
				t.Fatalf("no destination expected, got %q", dest)
			}
			return
		}
		if !filepath.IsAbs(dest) || filepath.Clean(dest) != dest || strings.IndexByte(dest, 0) >= 0 {
			t.Fatalf("destination %q is not a clean absolute path", dest)
		}
	})
}

// FuzzUploadFilename posts multipart bodies whose part header carries an arbitrary
// filename, written raw (quotes, backslashes, CR and LF included). Only bodies whose
// destination stays inside a scratch directory are posted; the handler must answer them
// without panicking, and a 200 means the file is there.
func FuzzUploadFilename(f *testing.F) {
	if os.Geteuid() != 0 {
		f.Skip("needs root like the guest: run go test as root")
	}
	base := f.TempDir()
	for _, s := range []string{"a.txt", "dir/b.txt", "../escape", "x/../y", "", "\"", "a\\\"b", "a\r\nb", "dir/", "~/x", strings.Repeat("d/", 100) + "f"} {
		f.Add(s)
	}
	h := NewFilesHandler(guestenv.New("0"), nil)
	f.Fuzz(func(t *testing.T, name string) {
		const boundary = "fuzzboundary"
		body := "--" + boundary + "\r\n" +
			`Content-Disposition: form-data; name="file"; filename="` + base + "/" + name + "\"\r\n\r\n" +
			"payload\r\n--" + boundary + "--\r\n"
		dest, ok := firstTarget(body, boundary)
		if !ok || !strings.HasPrefix(dest, base+"/") {
			return // would write outside the scratch directory, or is no upload at all
		}
		req := httptest.NewRequest(http.MethodPost, "/files", strings.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusOK:
			if got, err := os.ReadFile(dest); err != nil || string(got) != "payload" {
				t.Fatalf("200 for %q but the file holds %q (%v)", dest, got, err)
			}
		case rec.Code >= 500:
			t.Fatalf("status %d for %q: %s", rec.Code, dest, rec.Body)
		}
	})
}

// firstTarget parses body as the handler does and returns the first file part's
// destination.
func firstTarget(body, boundary string) (string, bool) {
	mr := multipart.NewReader(bytes.NewReader([]byte(body)), boundary)
	for {
		part, err := mr.NextRawPart()
		if err != nil {
			return "", false
		}
		dest, isFile, err := partTarget(part.Header.Get("Content-Disposition"), "", fuzzUser)
		_, _ = io.Copy(io.Discard, part)
		if err != nil {
			return "", false
		}
		if isFile {
			return dest, true
		}
	}
}

// FuzzNegotiateEncoding checks that any Accept-Encoding yields gzip, identity or refusal.
func FuzzNegotiateEncoding(f *testing.F) {
	for _, s := range []string{"", "gzip", "gzip;q=0", "br, identity;q=0", "*;q=0", "gzip;q=NaN", "x-gzip;q=0.001", ";;,,q="} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, header string, preferIdentity bool) {
		enc, ok := negotiateEncoding([]string{header}, preferIdentity)
		if ok != (enc == "gzip" || enc == "identity") || (!ok && enc != "") {
			t.Fatalf("negotiateEncoding(%q) = %q, %v", header, enc, ok)
		}
	})
}
