package httpx

import (
	"io"
	"unicode/utf8"
)

// JSONString writes one JSON string value to an io.Writer in pieces, so that a big value
// (a file, a command's output) is encoded as it is written instead of in memory. Escaping
// follows encoding/json: control characters, '"' and '\' escaped, '<', '>', '&', U+2028
// and U+2029 as \u escapes, invalid UTF-8 as U+FFFD. A multi-byte character split across
// two Writes is kept until the next one. Open before the first Write; Close writes the
// closing quote.
type JSONString struct {
	w    io.Writer
	pend []byte // the start of a character split across Writes (≤ 3 bytes)
	buf  []byte
}

// chunk bounds how much input is escaped at once (the output buffer is up to 6× it).
const chunk = 8 << 10

// NewJSONString returns a writer of one string value to w.
func NewJSONString(w io.Writer) *JSONString { return &JSONString{w: w} }

// Open writes the opening quote.
func (s *JSONString) Open() error {
	_, err := io.WriteString(s.w, `"`)
	return err
}

// Write escapes p. It reports len(p) when everything was written or kept for the next call.
func (s *JSONString) Write(p []byte) (int, error) {
	n := len(p)
	for len(s.pend) > 0 && len(p) > 0 {
		// Complete the pending character with up to 3 more bytes, then go on from there.
		take := min(len(p), utf8.UTFMax-1)
		tmp := append(s.pend[:len(s.pend):len(s.pend)], p[:take]...)
		var used int
		s.buf, used = appendEscaped(s.buf[:0], tmp, false)
		if err := s.flush(); err != nil {
			return 0, err
		}
		if used == 0 { // still incomplete: p was shorter than the character
			s.pend = tmp
			return n, nil
		}
		if used >= len(s.pend) {
			p = p[used-len(s.pend):]
			s.pend = s.pend[:0]
		} else {
			s.pend = s.pend[used:]
		}
	}
	for len(p) > 0 {
		part := p[:min(len(p), chunk)]
		var used int
		s.buf, used = appendEscaped(s.buf[:0], part, false)
		if err := s.flush(); err != nil {
			return 0, err
		}
		if used < len(part) && len(part) == len(p) {
			s.pend = append(s.pend[:0], p[used:]...)
			return n, nil
		}
		p = p[used:]
	}
	return n, nil
}

// Close writes a pending incomplete character (as U+FFFD) and the closing quote.
func (s *JSONString) Close() error {
	s.buf, _ = appendEscaped(s.buf[:0], s.pend, true)
	s.pend = s.pend[:0]
	s.buf = append(s.buf, '"')
	return s.flush()
}

func (s *JSONString) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	_, err := s.w.Write(s.buf)
	return err
}

// WriteJSONString writes the string made of parts, one after the other, as one JSON value.
func WriteJSONString(w io.Writer, parts ...[]byte) error {
	s := NewJSONString(w)
	if err := s.Open(); err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := s.Write(p); err != nil {
			return err
		}
	}
	return s.Close()
}

const hexDigits = "0123456789abcdef"

// appendEscaped appends the JSON escaping of src to dst and says how many bytes of src it
// took: all of them when final, else all but an incomplete character at the end.
func appendEscaped(dst, src []byte, final bool) ([]byte, int) {
	start, i := 0, 0
	for i < len(src) {
		b := src[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		if !final && !utf8.FullRune(src[i:]) {
			break
		}
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(dst, src[start:i]...), i
}
