package native_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock/paddock/internal/api/native"
)

type fileData struct {
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	Encoding string `json:"encoding"`
	Content  string `json:"content"`
}

// TestReadFileJSONAndRaw reads files below and above the one-read size, text and binary,
// through the JSON answer and raw.
func TestReadFileJSONAndRaw(t *testing.T) {
	s := newFakeSurface(t, native.Options{MaxFileBytes: 8 << 20})
	dir := t.TempDir()
	random := make([]byte, 3<<20+7)
	_, _ = rand.Read(random)
	text := []byte(strings.Repeat("héllo wörld \x00 \"quoted\" <tag>\n", 120_000)) // 3.8 MB, valid UTF-8
	splitRune := append(bytes.Repeat([]byte{'a'}, 1<<20-1), "€"...)                // a character across the 1 MiB mark
	files := map[string][]byte{"small.txt": []byte("hi\n"), "empty": nil, "small.bin": random[:1000],
		"big.bin": random, "big.txt": text, "split.txt": splitRune}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			code, body := s.do("GET", "/sandboxes/box/files"+filepath.Join(dir, name), "", nil)
			got, msg := envelope[fileData](t, body)
			if code != 200 {
				t.Fatalf("JSON: %d %s", code, msg)
			}
			data := []byte(got.Content)
			wantEnc := "utf8"
			if name == "big.bin" || name == "small.bin" {
				wantEnc = "base64"
				data, _ = base64.StdEncoding.DecodeString(got.Content)
			}
			if got.Encoding != wantEnc || got.Size != int64(len(content)) || !bytes.Equal(data, content) || got.Path != filepath.Join(dir, name) {
				t.Errorf("JSON: encoding %s size %d path %s, content equal %v", got.Encoding, got.Size, got.Path, bytes.Equal(data, content))
			}
			for _, how := range []map[string]string{{"Accept": "application/octet-stream"}, nil} {
				path := "/sandboxes/box/files" + filepath.Join(dir, name)
				if how == nil {
					path += "?raw=1"
				}
				resp := s.send("GET", path, nil, how)
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.Equal(raw, content) || resp.ContentLength != int64(len(content)) && len(content) > 0 ||
					resp.Header.Get("Content-Type") != "application/octet-stream" {
					t.Errorf("raw (%v): %d, %d bytes, Content-Length %d, type %s", how, resp.StatusCode, len(raw), resp.ContentLength, resp.Header.Get("Content-Type"))
				}
			}
		})
	}
}

// TestReadProcFiles reads files whose stat size is 0 but which have content.
func TestReadProcFiles(t *testing.T) {
	s := newFakeSurface(t, native.Options{})
	code, body := s.do("GET", "/sandboxes/box/files/proc/self/maps", "", nil)
	got, msg := envelope[fileData](t, body)
	if code != 200 || got.Size == 0 || !strings.Contains(got.Content, "[stack]") || int(got.Size) != len(got.Content) {
		t.Errorf("/proc/self/maps: %d %s size %d", code, msg, got.Size)
	}
	code, body = s.do("GET", "/sandboxes/box/files/proc/self/status?raw=1", "", nil)
	if code != 200 || !strings.Contains(body, "VmRSS") {
		t.Errorf("raw /proc/self/status: %d %.200s", code, body)
	}
}

func TestReadFileLimits(t *testing.T) {
	s := newFakeSurface(t, native.Options{MaxFileBytes: 1 << 20})
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), 1<<20+1), 0o644); err != nil {
		t.Fatal(err)
	}
	code, body := s.do("GET", "/sandboxes/box/files"+big, "", nil)
	if _, msg := envelope[fileData](t, body); code != 413 || !strings.Contains(msg, "1048577 bytes") || !strings.Contains(msg, "raw") {
		t.Errorf("JSON read over the limit: %d %s", code, msg)
	}
	if code, body := s.do("GET", "/sandboxes/box/files"+big+"?raw=1", "", nil); code != 200 || len(body) != 1<<20+1 {
		t.Errorf("raw read over the JSON limit: %d, %d bytes", code, len(body))
	}
	for path, want := range map[string]int{dir: 400, dir + "/nope": 404} {
		if code, body := s.do("GET", "/sandboxes/box/files"+path, "", nil); code != want {
			t.Errorf("%s: %d %s, want %d", path, code, body, want)
		}
	}
}

func TestWriteFileJSONAndRaw(t *testing.T) {
	s := newFakeSurface(t, native.Options{MaxFileBytes: 1 << 20})
	dir := t.TempDir()
	blob := make([]byte, 5000)
	_, _ = rand.Read(blob)
	big := bytes.Repeat([]byte{0, 1, 2}, 1<<20) // 3 MiB: past the JSON limit, fine raw
	cases := []struct {
		name, body string
		hdr        map[string]string
		code       int
		want       []byte
	}{
		{"utf8", `{"content":"héllo"}`, nil, 200, []byte("héllo")},
		{"base64", fmt.Sprintf(`{"content":%q,"encoding":"base64"}`, base64.StdEncoding.EncodeToString(blob)), nil, 200, blob},
		{"bad base64", `{"content":"!!","encoding":"base64"}`, nil, 400, nil},
		{"base64 over the limit", fmt.Sprintf(`{"content":%q,"encoding":"base64"}`, base64.StdEncoding.EncodeToString(big[:1<<20+1])), nil, 413, nil},
		{"raw", string(big), map[string]string{"Content-Type": "application/octet-stream"}, 200, big},
		{"raw empty", "", map[string]string{"Content-Type": "application/octet-stream"}, 200, []byte{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
			code, body := s.do("PUT", "/sandboxes/box/files"+p, c.body, c.hdr)
			got, msg := envelope[fileData](t, body)
			if code != c.code {
				t.Fatalf("%d %s, want %d", code, msg, c.code)
			}
			if c.want == nil {
				if _, err := os.Stat(p); err == nil {
					t.Error("a refused write created the file")
				}
				return
			}
			disk, _ := os.ReadFile(p)
			if !bytes.Equal(disk, c.want) || got.Size != int64(len(c.want)) || got.Path != p {
				t.Errorf("wrote %d bytes (equal %v), answer size %d path %s", len(disk), bytes.Equal(disk, c.want), got.Size, got.Path)
			}
		})
	}
}
