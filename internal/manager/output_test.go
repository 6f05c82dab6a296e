package manager

import (
	"bytes"
	"strings"
	"testing"
)

func joined(parts [][]byte) string { return string(bytes.Join(parts, nil)) }

func TestCaptureInterleavesWithoutACopy(t *testing.T) {
	c := &capture{limit: 10}
	c.add(false, []byte("ab"))
	c.add(false, []byte("c"))
	c.add(true, []byte("XY"))
	c.add(false, []byte("d"))
	c.add(true, []byte("Z"))
	if got := joined(c.interleaved()); got != "abcXYdZ" || string(c.stdout) != "abcd" || string(c.stderr) != "XYZ" {
		t.Errorf("interleaved %q, stdout %q, stderr %q", got, c.stdout, c.stderr)
	}
	if len(c.runs) != 4 || c.truncated {
		t.Errorf("runs %v, truncated %v: consecutive chunks of one stream are one run", c.runs, c.truncated)
	}
	// The parts are slices of the streams' own bytes.
	if p := c.interleaved()[0]; &p[0] != &c.stdout[0] {
		t.Error("the interleaved output copies stdout")
	}
}

func TestCaptureLimitEachStream(t *testing.T) {
	c := &capture{limit: 4}
	c.add(false, []byte("123"))
	c.add(true, []byte("abcdef"))
	c.add(false, []byte("45"))
	c.add(false, []byte("6"))
	if string(c.stdout) != "1234" || string(c.stderr) != "abcd" || !c.truncated {
		t.Errorf("stdout %q stderr %q truncated %v", c.stdout, c.stderr, c.truncated)
	}
	if got := joined(c.interleaved()); got != "123abcd4" {
		t.Errorf("interleaved %q", got)
	}
	if cap(c.stdout) > 4 || cap(c.stderr) > 4 {
		t.Errorf("capacity %d/%d past the limit of 4", cap(c.stdout), cap(c.stderr))
	}
}

func TestCaptureGrowsWithinTheLimit(t *testing.T) {
	const limit = 1 << 20
	c := &capture{limit: limit}
	chunk := bytes.Repeat([]byte{'x'}, 3000)
	for len(c.stdout) < limit {
		c.add(false, chunk)
	}
	if len(c.stdout) != limit || cap(c.stdout) != limit || !c.truncated {
		t.Errorf("len %d cap %d truncated %v, want both %d", len(c.stdout), cap(c.stdout), c.truncated, limit)
	}
}

func TestCaptureBoundsAlternations(t *testing.T) {
	c := &capture{limit: 4 * maxOutputRuns}
	for i := 0; i < maxOutputRuns+10; i++ {
		c.add(i%2 == 1, []byte("x"))
	}
	if len(c.runs) != maxOutputRuns || !c.truncated {
		t.Errorf("%d runs (truncated %v), want at most %d", len(c.runs), c.truncated, maxOutputRuns)
	}
	if got := joined(c.interleaved()); len(got) != maxOutputRuns || got != strings.Repeat("x", maxOutputRuns) {
		t.Errorf("interleaved output of %d bytes", len(got))
	}
	if len(c.stdout)+len(c.stderr) != maxOutputRuns+10 {
		t.Errorf("streams keep %d bytes, want all %d", len(c.stdout)+len(c.stderr), maxOutputRuns+10)
	}
}
