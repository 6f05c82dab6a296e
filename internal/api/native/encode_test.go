package native

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/audit"
	"github.com/paddock/paddock/internal/image"
	"github.com/paddock/paddock/internal/manager"
)

// The answers that stream their outputs are written field by field: byte for byte, they are
// what encoding/json makes of the apitype value.

func TestEncodeResultIsAPIType(t *testing.T) {
	for _, c := range []struct {
		sandbox string
		res     manager.ExecResult
	}{
		{"", manager.ExecResult{}},
		{"run-0123456789", manager.ExecResult{ExitCode: 3, Stdout: []byte("out \"q\" <x> & é\n"), Stderr: []byte("err\t\x00"),
			Duration: 1500 * time.Millisecond}},
		{"", manager.ExecResult{ExitCode: 124, Duration: time.Second, Truncated: true, TimedOut: true, OOMKilled: true,
			Reason: `killed "after" <1s> & more`}},
	} {
		var buf bytes.Buffer
		bw := bufio.NewWriter(&buf)
		encodeResult(bw, c.sandbox, &c.res)
		_ = bw.Flush()
		want, _ := json.Marshal(apitype.ExecResult{Sandbox: c.sandbox, Output: string(c.res.Stdout) + string(c.res.Stderr),
			Stdout: string(c.res.Stdout), Stderr: string(c.res.Stderr), ExitCode: c.res.ExitCode,
			DurationMS: c.res.Duration.Milliseconds(), Truncated: c.res.Truncated, TimedOut: c.res.TimedOut,
			OOMKilled: c.res.OOMKilled, Reason: c.res.Reason})
		if buf.String() != string(want) {
			t.Errorf("streamed\n %s\nencoding/json\n %s", buf.String(), want)
		}
	}
}

func TestEncodeBatchEntryIsAPIType(t *testing.T) {
	msg := `unknown profile "yolo" <here>`
	zero, four := 0, 4
	for _, c := range []struct {
		entry batchEntry
		want  apitype.BatchResult
	}{
		{batchEntry{err: &msg}, apitype.BatchResult{Error: &msg}},
		{batchEntry{res: &manager.ExecResult{Stdout: []byte("a&b\n"), Duration: 2 * time.Millisecond}},
			apitype.BatchResult{Output: "a&b\n", ExitCode: &zero, Stdout: "a&b\n", DurationMS: 2}},
		{batchEntry{res: &manager.ExecResult{ExitCode: 4, Stderr: []byte("e\x01"), Truncated: true}},
			apitype.BatchResult{Output: "e\x01", ExitCode: &four, Stderr: "e\x01", Truncated: true}},
	} {
		var buf bytes.Buffer
		bw := bufio.NewWriter(&buf)
		encodeBatchEntry(bw, c.entry)
		_ = bw.Flush()
		if want, _ := json.Marshal(c.want); buf.String() != string(want) {
			t.Errorf("streamed\n %s\nencoding/json\n %s", buf.String(), want)
		}
	}
}

func TestWriteFileJSONIsAPIType(t *testing.T) {
	for _, c := range []struct{ path, enc, content string }{
		{"/tmp/a \"b\" <c>.txt", "utf8", "héllo\n\x00 & <tag>"},
		{"/bin/data", "base64", "\xff\xfe\x00"},
		{"/empty", "utf8", ""},
	} {
		w := httptest.NewRecorder()
		if !writeFileJSON(w, c.path, int64(len(c.content)), c.enc, strings.NewReader(c.content)) {
			t.Fatalf("%s: short read", c.path)
		}
		f := apitype.File{Path: c.path, Size: int64(len(c.content)), Encoding: c.enc, Content: c.content}
		if c.enc == "base64" {
			f.Content = base64.StdEncoding.EncodeToString([]byte(c.content))
		}
		want, _ := json.Marshal(apitype.Envelope[any]{Success: true, Data: f})
		if got := strings.TrimSuffix(w.Body.String(), "\n"); got != string(want) {
			t.Errorf("streamed\n %s\nencoding/json\n %s", got, want)
		}
	}
}

// TestConversionsEncodeAlike: the domain values this surface converts (audit events, pull
// progress) encode exactly as their apitype counterparts, so a field added to either side
// without the other fails here.
func TestConversionsEncodeAlike(t *testing.T) {
	var ev audit.Event
	fillAll(reflect.ValueOf(&ev).Elem())
	ev.Details = map[string]any{"k": "v"}
	domain, _ := json.Marshal([]audit.Event{ev})
	wire, _ := json.Marshal(toEvents([]audit.Event{ev}))
	if string(domain) != string(wire) {
		t.Errorf("audit event:\n  domain %s\n apitype %s", domain, wire)
	}
	var p image.Progress
	fillAll(reflect.ValueOf(&p).Elem())
	domain, _ = json.Marshal(p)
	wire, _ = json.Marshal(pullEvent(p).PullProgress)
	if string(domain) != string(wire) {
		t.Errorf("pull progress:\n  domain %s\n apitype %s", domain, wire)
	}
}
