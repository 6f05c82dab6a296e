package server

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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

func (w *jsonWalker) hex4() (rune, error) {
	var b [4]byte
	if _, err := io.ReadFull(w.r, b[:]); err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(b[:]), 16, 32)
	return rune(n), err
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
