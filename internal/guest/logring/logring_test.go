package logring

import (
	"fmt"
	"strings"
	"testing"
)

func texts(ls []Line) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Stream+":"+l.Text)
	}
	return out
}

func TestRingLinesAndBounds(t *testing.T) {
	r := New(0, 3)
	r.Write("s[1]", "stdout", []byte("one\ntw"))
	r.Write("s[1]", "stderr", []byte("err\r\n"))
	r.Write("s[1]", "stdout", []byte("o\nthree"))
	lines, next, _ := r.Tail(0)
	if got := strings.Join(texts(lines), ","); got != "stdout:one,stderr:err,stdout:two" || next != 3 {
		t.Errorf("lines %q, next %d", got, next)
	}
	r.End("s[1]")
	lines, _, _ = r.Tail(2)
	if got := strings.Join(texts(lines), ","); got != "stdout:two,stdout:three" {
		t.Errorf("tail 2 after End: %q", got)
	}
	for i := range 5 {
		r.Write("s[1]", "stdout", fmt.Appendf(nil, "l%d\n", i))
	}
	lines, next, _ = r.Since(0)
	if got := strings.Join(texts(lines), ","); got != "stdout:l2,stdout:l3,stdout:l4" || next != 9 {
		t.Errorf("after overflow: %q next %d", got, next)
	}
	if lines, _, _ = r.Since(8); len(lines) != 1 || lines[0].Text != "l4" {
		t.Errorf("since 8: %v", lines)
	}
	// Bytes bound, and a line that never ends is cut.
	r = New(MaxLineBytes+10, 100)
	r.Write("s", "stdout", []byte(strings.Repeat("x", MaxLineBytes+5)))
	r.Write("s", "stdout", []byte("\nabcdefghijkl\n"))
	lines, _, _ = r.Tail(0)
	if len(lines) != 2 || lines[0].Text != "xxxxx" || lines[1].Text != "abcdefghijkl" {
		t.Errorf("cut and bounded: %d lines, first %d bytes", len(lines), len(lines[0].Text))
	}
}

func TestRingWakesFollowers(t *testing.T) {
	r := New(0, 0)
	_, next, grew := r.Tail(10)
	select {
	case <-grew:
		t.Fatal("woke with nothing written")
	default:
	}
	r.Write("s", "stdout", []byte("partial"))
	select {
	case <-grew:
		t.Fatal("woke for a partial line")
	default:
	}
	r.Write("s", "stdout", []byte(" line\n"))
	<-grew
	if lines, _, _ := r.Since(next); len(lines) != 1 || lines[0].Text != "partial line" {
		t.Errorf("since: %v", lines)
	}
}

func FuzzRingWrite(f *testing.F) {
	f.Add([]byte("a\nb\r\nc"), 3)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		r := New(1<<12, 8)
		r.Write("s", "stdout", data)
		r.End("s")
		lines, _, _ := r.Tail(n)
		total := 0
		for _, l := range lines {
			total += len(l.Text)
			if strings.Contains(l.Text, "\n") || len(l.Text) > MaxLineBytes {
				t.Fatalf("bad line %q", l.Text)
			}
		}
		if len(lines) > 8 || (len(lines) > 1 && total > 1<<12) {
			t.Fatalf("bounds: %d lines, %d bytes", len(lines), total)
		}
	})
}
