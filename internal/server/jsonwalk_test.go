package server

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonWalker reads one JSON document without holding its big strings, so that tests can
// check answers of hundreds of megabytes in bounded memory. String values whose path is a key
// of sinks are written, unescaped, to that sink; every other scalar is kept in vals by path
// ("success" → "true", "data.size" → "60000000", "data.results.0.stdout" → "..."; strings
// are kept up to 4 KiB).
type jsonWalker struct {
	r     *bufio.Reader
	sinks map[string]io.Writer
	vals  map[string]string
	buf   []byte
}

// walkJSON reads one JSON value from r.
func walkJSON(r io.Reader, sinks map[string]io.Writer) (map[string]string, error) {
	w := &jsonWalker{r: bufio.NewReaderSize(r, 64<<10), sinks: sinks, vals: map[string]string{}}
	if err := w.value(""); err != nil {
		return w.vals, err
	}
	return w.vals, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (w *jsonWalker) next() (byte, error) {
	for {
		c, err := w.r.ReadByte()
		if err != nil {
			return 0, err
		}
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return c, nil
		}
	}
}

func (w *jsonWalker) value(path string) error {
	c, err := w.next()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		return w.object(path)
	case '[':
		return w.array(path)
	case '"':
		if sink, ok := w.sinks[path]; ok {
			return w.str(sink)
		}
		var b strings.Builder
		if err := w.str(&capped{b: &b, n: 4096}); err != nil {
			return err
		}
		w.vals[path] = b.String()
		return nil
	}
	lit := []byte{c}
	for {
		c, err := w.r.ReadByte()
		if err != nil {
			return err
		}
		if strings.IndexByte(",}] \n\r\t", c) >= 0 {
			_ = w.r.UnreadByte()
			w.vals[path] = string(lit)
			return nil
		}
		lit = append(lit, c)
	}
}

func (w *jsonWalker) object(path string) error {
	for i := 0; ; i++ {
		c, err := w.next()
		if err != nil {
			return err
		}
		if c == '}' && i == 0 {
			return nil
		}
		if c != '"' {
			return fmt.Errorf("object key expected at %s, got %q", path, c)
		}
		var key strings.Builder
		if err := w.str(&capped{b: &key, n: 1024}); err != nil {
			return err
		}
		if c, err = w.next(); err != nil || c != ':' {
			return fmt.Errorf("':' expected after %s.%s", path, key.String())
		}
		if err := w.value(join(path, key.String())); err != nil {
			return err
		}
		if c, err = w.next(); err != nil {
			return err
		}
		if c == '}' {
			return nil
		}
		if c != ',' {
			return fmt.Errorf("',' or '}' expected in %s, got %q", path, c)
		}
	}
}

func (w *jsonWalker) array(path string) error {
	for i := 0; ; i++ {
		c, err := w.next()
		if err != nil {
			return err
		}
		if c == ']' && i == 0 {
			return nil
		}
		_ = w.r.UnreadByte()
		if err := w.value(join(path, strconv.Itoa(i))); err != nil {
			return err
		}
		if c, err = w.next(); err != nil {
			return err
		}
		if c == ']' {
			return nil
		}
		if c != ',' {
			return fmt.Errorf("',' or ']' expected in %s, got %q", path, c)
		}
	}
}

// str unescapes a string (its opening quote already read) into sink, in chunks.
func (w *jsonWalker) str(sink io.Writer) error {
	out := w.buf[:0]
	flush := func() error {
		if len(out) == 0 {
			return nil
		}
		_, err := sink.Write(out)
		out = out[:0]
		return err
	}
	for {
		// Plain runs are copied in bulk; only quotes and escapes go byte by byte.
		if _, err := w.r.Peek(1); err != nil {
			return err
		}
		buf, _ := w.r.Peek(w.r.Buffered())
		i := plainRun(buf)
		out = append(out, buf[:i]...)
		_, _ = w.r.Discard(i)
		if i == len(buf) {
			if len(out) >= 32<<10 {
				if err := flush(); err != nil {
					return err
				}
			}
			continue
		}
		c, err := w.r.ReadByte()
		if err != nil {
			return err
		}
		switch {
		case c == '"':
			err := flush()
			w.buf = out
			return err
		case c == '\\':
			e, err := w.r.ReadByte()
			if err != nil {
				return err
			}
			switch e {
			case 'n':
				out = append(out, '\n')
			case 't':
				out = append(out, '\t')
			case 'r':
				out = append(out, '\r')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'u':
				r, err := w.hex4()
				if err != nil {
					return err
				}
				if utf16.IsSurrogate(r) {
					// A pair: \uD83D\uDE00.
					if b, _ := w.r.Peek(2); string(b) == `\u` {
						_, _ = w.r.Discard(2)
						r2, err := w.hex4()
						if err != nil {
							return err
						}
						r = utf16.DecodeRune(r, r2)
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				out = append(out, e) // \" \\ \/
			}
		default:
			out = append(out, c)
		}
		if len(out) >= 32<<10 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// plainRun is the length of the prefix of b without a quote or a backslash.
func plainRun(b []byte) int {
	i := len(b)
	if q := bytes.IndexByte(b, '"'); q >= 0 {
		i = q
	}
	if e := bytes.IndexByte(b[:i], '\\'); e >= 0 {
		i = e
	}
	return i
}

func (w *jsonWalker) hex4() (rune, error) {
	var b [4]byte
	if _, err := io.ReadFull(w.r, b[:]); err != nil {
		return 0, err
	}
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, fmt.Errorf("bad \\u escape %q", b[:])
		}
	}
	return r, nil
}

// capped keeps the first n bytes written to it.
type capped struct {
	b *strings.Builder
	n int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.n - c.b.Len(); room > 0 {
		c.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// base64Sink decodes standard base64 written to it in any split and passes the bytes on;
// Err reports invalid input.
type base64Sink struct {
	dst   io.Writer
	carry []byte
	err   error
}

func (b *base64Sink) Write(p []byte) (int, error) {
	if b.err != nil {
		return len(p), nil
	}
	data := append(b.carry, p...)
	n := len(data) / 4 * 4
	out := make([]byte, base64.StdEncoding.DecodedLen(n))
	k, err := base64.StdEncoding.Decode(out, data[:n])
	if err != nil {
		b.err = err
		return len(p), nil
	}
	if _, err := b.dst.Write(out[:k]); err != nil {
		return 0, err
	}
	b.carry = append(b.carry[:0], data[n:]...)
	return len(p), nil
}

// Err is why the input was not valid base64, if it was not.
func (b *base64Sink) Err() error {
	if b.err == nil && len(b.carry) > 0 {
		return errors.New("base64 input ends mid-group")
	}
	return b.err
}

// TestJSONWalker checks the walker against encoding/json.
func TestJSONWalker(t *testing.T) {
	big := strings.Repeat("a\x00\"\\é😀\u2028<", 20000)
	doc, _ := json.Marshal(map[string]any{"success": true, "data": map[string]any{"content": big, "size": 12,
		"list": []any{"x", 2, nil}, "empty": map[string]any{}}})
	var content strings.Builder
	vals, err := walkJSON(bytes.NewReader(doc), map[string]io.Writer{"data.content": &content})
	if err != nil || content.String() != big {
		t.Fatalf("content: %v, %d bytes of %d, equal %v", err, content.Len(), len(big), content.String() == big)
	}
	want := map[string]string{"success": "true", "data.size": "12", "data.list.0": "x", "data.list.1": "2", "data.list.2": "null"}
	for k, v := range want {
		if vals[k] != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, vals[k], v, vals)
		}
	}
}
