// Package toolout shapes what an MCP tool answers so that it fits in a model's context: text
// cut to a byte budget at UTF-8 boundaries, and a note saying what was cut and how to get the
// rest. Both MCP servers (the server's /mcp and the guest's in-sandbox one) answer through it.
package toolout

import (
	"encoding/base64"
	"fmt"
	"io"
	"unicode/utf8"
)

// Limit is the bytes of text one tool answer carries.
const Limit = 64 << 10

// Cut is b cut to at most n bytes, at a UTF-8 character boundary.
func Cut(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[:max(n, 0)]
	// Drop a character the cut split (at most 3 bytes of one).
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		r, size := utf8.DecodeLastRune(b)
		if r != utf8.RuneError || size != 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return b
}

// CutString is Cut for a string; CutString(s, n) != s says it was cut.
func CutString(s string, n int) string { return string(Cut([]byte(s), n)) }

// JoinNote joins two notes with "; ", either of which may be empty.
func JoinNote(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// Streams keeps limit bytes of a command's stdout and stderr in all: stderr up to half when
// both are long, the rest for stdout. note says what was cut ("" when nothing was); dropped
// counts bytes the caller already dropped before (they make the answer truncated too).
func Streams(stdout, stderr []byte, limit, dropped int) (so, se []byte, note string) {
	so, se = stdout, stderr
	if len(so)+len(se) > limit {
		errKeep := min(len(se), limit/2)
		if len(so) < limit-errKeep {
			errKeep = limit - len(so)
		}
		so, se = Cut(so, limit-errKeep), Cut(se, errKeep)
	}
	if dropped > 0 || len(so) < len(stdout) || len(se) < len(stderr) {
		note = fmt.Sprintf("output truncated: the tool answers at most %d bytes of stdout and stderr in all (kept: stdout %d bytes, stderr %d)",
			limit, len(so), len(se))
	}
	return so, se, note
}

// Capture keeps up to limit bytes of each stream of a command as it comes and counts the
// rest. The zero value keeps nothing: set Limit.
type Capture struct {
	Limit          int
	stdout, stderr []byte
	dropped        int
}

// Add keeps what fits of b in stdout, or stderr.
func (c *Capture) Add(stderr bool, b []byte) {
	dst := &c.stdout
	if stderr {
		dst = &c.stderr
	}
	room := max(c.Limit-len(*dst), 0)
	if len(b) > room {
		c.dropped += len(b) - room
		b = b[:room]
	}
	*dst = append(*dst, b...)
}

// Result is Streams over what was kept.
func (c *Capture) Result() (stdout, stderr []byte, note string) {
	return Streams(c.stdout, c.stderr, c.Limit, c.dropped)
}

// Text is the start of a file as a tool answers it.
type Text struct {
	Content   string
	Encoding  string // "utf-8", or "base64" for bytes that are not UTF-8 text
	Truncated bool
	Note      string
}

// ReadText reads at most limit bytes of r as text; bytes that are not UTF-8 become base64 of
// three quarters as many (base64 is a third longer). restHint names the tool that reads the
// rest ("run_command", "exec") in the note of a truncated answer.
func ReadText(r io.Reader, limit int, restHint string) (Text, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return Text{}, err
	}
	out := Text{Encoding: "utf-8"}
	kept := Cut(b, limit)
	if utf8.Valid(kept) {
		out.Content = string(kept)
	} else {
		kept = b[:min(len(b), limit/4*3)]
		out.Encoding, out.Content = "base64", base64.StdEncoding.EncodeToString(kept)
	}
	if len(kept) < len(b) {
		out.Truncated = true
		out.Note = fmt.Sprintf("file truncated after %d bytes: the tool answers at most %d; read the rest with %s (e.g. tail -c +%d)",
			len(kept), limit, restHint, len(kept)+1)
	}
	return out, nil
}
