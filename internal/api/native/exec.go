package native

import (
	"bufio"
	"encoding/json"
	"net/http"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

// execRequest is POST /sandboxes/{name}/exec.
type execRequest struct {
	Command []string          `json:"command"`
	Env     map[string]string `json:"env"`
	Cwd     string            `json:"cwd"`
	User    string            `json:"user"`
	Stdin   *string           `json:"stdin"`
	Timeout float64           `json:"timeout"` // seconds; 0 = none
}

// toExec validates and converts.
func (e execRequest) toExec() (manager.ExecRequest, error) {
	if len(e.Command) == 0 || e.Command[0] == "" {
		return manager.ExecRequest{}, errdefs.InvalidArgument("command is required: a non-empty array such as [\"ls\", \"-la\"]")
	}
	timeout, err := httpx.Seconds("timeout", e.Timeout, manager.MaxTimeout)
	if err != nil {
		return manager.ExecRequest{}, err
	}
	if err := manager.ValidateEnv(e.Env); err != nil {
		return manager.ExecRequest{}, err
	}
	req := manager.ExecRequest{Command: e.Command, Env: e.Env, Cwd: e.Cwd, User: e.User, Timeout: timeout}
	if e.Stdin != nil {
		req.Stdin = []byte(*e.Stdin)
	}
	return req, nil
}

// execResult is the answer of exec and run, as documented (writeResult encodes it).
type execResult struct {
	Sandbox    string `json:"sandbox,omitempty"`
	Output     string `json:"output"`
	Stdout     string `json:"stdout"`
	Stderr     string `json:"stderr"`
	ExitCode   int    `json:"exit_code"`
	DurationMS int64  `json:"duration_ms"`
	Truncated  bool   `json:"truncated,omitempty"`
	TimedOut   bool   `json:"timed_out,omitempty"`
	OOMKilled  bool   `json:"oom_killed,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// resultTail is what follows the outputs in an execResult.
type resultTail struct {
	ExitCode   int    `json:"exit_code"`
	DurationMS int64  `json:"duration_ms"`
	Truncated  bool   `json:"truncated,omitempty"`
	TimedOut   bool   `json:"timed_out,omitempty"`
	OOMKilled  bool   `json:"oom_killed,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// writeResult answers with one command's result. Outputs are encoded as they are written,
// never whole in memory: up to the output limit per stream, which JSON escaping can make six
// times larger (a NUL byte is \u0000).
func writeResult(w http.ResponseWriter, sandboxName string, res *manager.ExecResult) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	_, _ = bw.WriteString(`{"success":true,"data":`)
	encodeResult(bw, sandboxName, res)
	_, _ = bw.WriteString("}\n")
	_ = bw.Flush() // the status is out: an error here is the client going away
	return nil
}

// encodeResult writes res as an execResult object. bw keeps the first write error.
func encodeResult(bw *bufio.Writer, sandboxName string, res *manager.ExecResult) {
	_ = bw.WriteByte('{')
	if sandboxName != "" {
		_, _ = bw.WriteString(`"sandbox":`)
		_ = httpx.WriteJSONString(bw, []byte(sandboxName))
		_ = bw.WriteByte(',')
	}
	_, _ = bw.WriteString(`"output":`)
	_ = httpx.WriteJSONString(bw, res.Output()...)
	_, _ = bw.WriteString(`,"stdout":`)
	_ = httpx.WriteJSONString(bw, res.Stdout)
	_, _ = bw.WriteString(`,"stderr":`)
	_ = httpx.WriteJSONString(bw, res.Stderr)
	tail, _ := json.Marshal(resultTail{ExitCode: res.ExitCode, DurationMS: res.Duration.Milliseconds(),
		Truncated: res.Truncated, TimedOut: res.TimedOut, OOMKilled: res.OOMKilled, Reason: res.Reason})
	_ = bw.WriteByte(',')
	_, _ = bw.Write(tail[1:]) // the tail's fields and the closing brace
}

func (a *API) exec(w http.ResponseWriter, r *http.Request) error {
	var req execRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	er, err := req.toExec()
	if err != nil {
		return err
	}
	res, err := a.m.Exec(r.Context(), r.PathValue("name"), er)
	if err != nil {
		return err
	}
	return writeResult(w, "", res)
}
