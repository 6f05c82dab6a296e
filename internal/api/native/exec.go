package native

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

// toExec validates and converts the command of exec and run requests.
func toExec(e apitype.ExecRequest) (manager.ExecRequest, error) {
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

// emptyOutputs is how an apitype.ExecResult without sandbox and outputs begins.
const emptyOutputs = `{"output":"","stdout":"","stderr":""`

// encodeResult writes res as an apitype.ExecResult. bw keeps the first write error.
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
	// The fields after the outputs, as encoding/json writes them with empty outputs.
	tail, _ := json.Marshal(apitype.ExecResult{ExitCode: res.ExitCode, DurationMS: res.Duration.Milliseconds(),
		Truncated: res.Truncated, TimedOut: res.TimedOut, OOMKilled: res.OOMKilled, Reason: res.Reason})
	_, _ = bw.Write(bytes.TrimPrefix(tail, []byte(emptyOutputs)))
}

func (a *API) exec(w http.ResponseWriter, r *http.Request) error {
	var req apitype.ExecRequest
	if err := a.decode(w, r, &req, false); err != nil {
		return err
	}
	er, err := toExec(req)
	if err != nil {
		return err
	}
	res, err := a.m.Exec(r.Context(), r.PathValue("name"), er)
	if err != nil {
		return err
	}
	return writeResult(w, "", res)
}
