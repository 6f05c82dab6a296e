package session

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestCollectCapsStreamOutputs feeds stream events past the limit: output, stderr and the
// stream items of outputs[] all stop at the limit with the marker, and a cut never splits a
// character.
func TestCollectCapsStreamOutputs(t *testing.T) {
	const limit = 100
	res := &Result{Outputs: []Output{}}
	out, stderr := capped{limit: limit}, capped{limit: limit}
	send := func(typ, text string) { collect(res, &out, &stderr, map[string]any{"type": typ, "text": text}) }
	send("stdout", strings.Repeat("a", 60))
	send("stderr", "warning\n")
	send("stdout", strings.Repeat("é", 100)) // 2 bytes each: the cut falls inside one at byte 40
	send("stdout", "after the limit")
	send("stdout", strings.Repeat("b", 200000))
	collect(res, &out, &stderr, map[string]any{"type": "result", "is_main_result": true, "text": "42"})

	streams := map[string]string{}
	for _, o := range res.Outputs {
		if o.Kind == "stream" {
			streams[o.Name] += o.Text
		}
	}
	if streams["stdout"] != out.String() || streams["stderr"] != stderr.String() {
		t.Errorf("outputs[] streams differ from output/stderr:\n%q\n%q", streams["stdout"], out.String())
	}
	want := strings.Repeat("a", 60) + strings.Repeat("é", 20) + TruncationMarker
	if out.String() != want || !out.truncated {
		t.Errorf("stdout = %q (truncated %v), want %q", out.String(), out.truncated, want)
	}
	if stderr.String() != "warning\n" || stderr.truncated {
		t.Errorf("stderr = %q (truncated %v)", stderr.String(), stderr.truncated)
	}
	if n := len(res.Outputs); n != 4 || res.Outputs[3].Kind != "execute_result" {
		t.Errorf("outputs[] has %d items, want 2 stdout, 1 stderr, 1 result: %+v", n, res.Outputs)
	}
	for _, o := range res.Outputs {
		if !utf8.ValidString(o.Text) {
			t.Errorf("item %q is not valid UTF-8", o.Text)
		}
	}
}
