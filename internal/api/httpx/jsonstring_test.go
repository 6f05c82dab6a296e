package httpx

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"testing/iotest"
)

// stdlib is what encoding/json writes for s, with its \b and \f spelled as \u escapes.
func stdlib(t testing.TB, s []byte) string {
	b, err := json.Marshal(string(s))
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(`\b`, `\u0008`, `\f`, `\u000c`).Replace(string(b))
}

// split cuts data at the given offsets (taken modulo its length).
func split(data []byte, cuts []byte) [][]byte {
	var parts [][]byte
	for _, c := range cuts {
		if len(data) == 0 {
			break
		}
		n := int(c) % (len(data) + 1)
		parts, data = append(parts, data[:n]), data[n:]
	}
	return append(parts, data)
}

func TestJSONStringMatchesEncodingJSON(t *testing.T) {
	cases := []struct {
		name string
		data string
		cuts []byte
	}{
		{"empty", "", nil},
		{"ascii", "hello world", []byte{3, 2}},
		{"controls and quotes", "a\x00b\n\"c\\d\t\r\x1f\x7f<&>", []byte{1, 1, 1, 1}},
		{"multibyte split everywhere", "é€😀ö", []byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"split 4-byte rune 3+1", "x😀y", []byte{3}},
		{"split 4-byte rune 1+1+1+1", "😀", []byte{1, 1, 1}},
		{"invalid bytes", "\xff\xfe ok \xc3", []byte{2, 5}},
		{"truncated rune at the end", "abc\xe2\x82", []byte{4}},
		{"line separators", "a\u2028b\u2029c", []byte{2}},
		{"NULs past one chunk", strings.Repeat("\x00", 3*chunk+5), []byte{200, 17}},
		{"runes across chunk bounds", strings.Repeat("€", chunk), []byte{255, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteJSONString(&b, split([]byte(c.data), c.cuts)...); err != nil {
				t.Fatal(err)
			}
			if want := stdlib(t, []byte(c.data)); b.String() != want {
				t.Errorf("got  %q\nwant %q", b.String(), want)
			}
		})
	}
}

// TestJSONStringOneByteWrites writes through a writer that takes one byte at a time and
// feeds the input one byte at a time.
func TestJSONStringOneByteWrites(t *testing.T) {
	data := []byte("a€b😀\xffc\x00")
	var b bytes.Buffer
	s := NewJSONString(iotest.TruncateWriter(&b, 1<<20))
	_ = s.Open()
	for i := range data {
		if n, err := s.Write(data[i : i+1]); n != 1 || err != nil {
			t.Fatalf("write %d: %d %v", i, n, err)
		}
	}
	_ = s.Close()
	if want := stdlib(t, data); b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func FuzzJSONString(f *testing.F) {
	f.Add([]byte("héllo\x00"), []byte{2, 1})
	f.Add([]byte("\xf0\x9f\x98\x80\xff"), []byte{1, 2, 1})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		var b bytes.Buffer
		if err := WriteJSONString(&b, split(data, cuts)...); err != nil {
			t.Fatal(err)
		}
		if want := stdlib(t, data); b.String() != want {
			t.Errorf("%q split at %v:\ngot  %q\nwant %q", data, cuts, b.String(), want)
		}
	})
}
