package mcpserver

import (
	"fmt"
	"unicode/utf8"
)

// capture keeps up to OutputLimit bytes of each stream of a command and counts the rest.
type capture struct {
	stdout, stderr []byte
	dropped        int
}

func (c *capture) add(stderr bool, b []byte) {
	dst := &c.stdout
	if stderr {
		dst = &c.stderr
	}
	room := OutputLimit - len(*dst)
	if len(b) > room {
		c.dropped += len(b) - max(room, 0)
		b = b[:max(room, 0)]
	}
	*dst = append(*dst, b...)
}

// result keeps OutputLimit bytes of both streams in all: stderr up to half when both are
// long, the rest for stdout; what was cut is said in the note.
func (c *capture) result() execResult {
	stdout, stderr := c.stdout, c.stderr
	if len(stdout)+len(stderr) > OutputLimit {
		errKeep := min(len(stderr), OutputLimit/2)
		if len(stdout) < OutputLimit-errKeep {
			errKeep = OutputLimit - len(stdout)
		}
		stdout, stderr = cut(stdout, OutputLimit-errKeep), cut(stderr, errKeep)
	}
	res := execResult{Stdout: string(stdout), Stderr: string(stderr)}
	if c.dropped > 0 || len(stdout) < len(c.stdout) || len(stderr) < len(c.stderr) {
		res.Truncated = true
		res.Note = fmt.Sprintf("output truncated: the tool answers at most %d bytes of stdout and stderr in all (kept: stdout %d bytes, stderr %d)",
			OutputLimit, len(stdout), len(stderr))
	}
	return res
}

// cut is b cut to at most n bytes, at a UTF-8 character boundary.
func cut(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[:n]
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

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
