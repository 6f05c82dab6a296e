package toolout

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCutKeepsCharacters(t *testing.T) {
	s := []byte("aé€😀")
	for n := 0; n <= len(s)+1; n++ {
		got := Cut(s, n)
		if len(got) > n || !utf8.Valid(got) || !bytes.HasPrefix(s, got) {
			t.Fatalf("Cut(%q, %d) = %q", s, n, got)
		}
	}
	if got := Cut(s, -1); len(got) != 0 {
		t.Fatalf("Cut(-1) = %q", got)
	}
}

func TestStreams(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 100)
	cases := []struct {
		name           string
		stdout, stderr []byte
		dropped        int
		wantOut        int
		wantErr        int
		truncated      bool
	}{
		{"fits", long[:10], long[:10], 0, 10, 10, false},
		{"stderr keeps half", long, long, 0, 25, 25, true},
		{"short stdout leaves room", long[:5], long, 0, 5, 45, true},
		{"short stderr leaves room", long, long[:5], 0, 45, 5, true},
		{"dropped earlier", long[:5], nil, 3, 5, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			so, se, note := Streams(c.stdout, c.stderr, 50, c.dropped)
			if len(so) != c.wantOut || len(se) != c.wantErr || (note != "") != c.truncated {
				t.Fatalf("got stdout %d stderr %d note %q", len(so), len(se), note)
			}
		})
	}
}

func TestCapture(t *testing.T) {
	c := Capture{Limit: 8}
	c.Add(false, []byte("0123456789"))
	c.Add(true, []byte("ab"))
	so, se, note := c.Result()
	if string(so) != "012345" || string(se) != "ab" || !strings.Contains(note, "truncated") {
		t.Fatalf("got %q %q %q", so, se, note)
	}
}

func TestReadText(t *testing.T) {
	txt, err := ReadText(strings.NewReader("hello"), 10, "exec")
	if err != nil || txt.Content != "hello" || txt.Encoding != "utf-8" || txt.Truncated {
		t.Fatalf("short text: %+v %v", txt, err)
	}
	txt, _ = ReadText(strings.NewReader(strings.Repeat("a", 20)), 10, "exec")
	if txt.Content != strings.Repeat("a", 10) || !txt.Truncated || !strings.Contains(txt.Note, "tail -c +11") {
		t.Fatalf("long text: %+v", txt)
	}
	txt, _ = ReadText(bytes.NewReader([]byte{0xff, 0xfe, 0, 1, 2, 3, 4, 5, 6, 7, 8}), 8, "exec")
	if txt.Encoding != "base64" || txt.Content != "//4AAQID" || !txt.Truncated {
		t.Fatalf("binary: %+v", txt)
	}
}

func TestJoinNote(t *testing.T) {
	if JoinNote("", "b") != "b" || JoinNote("a", "") != "a" || JoinNote("a", "b") != "a; b" {
		t.Fatal("JoinNote")
	}
}
