package native

import (
	"net/http"
	"time"

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
	if e.Timeout < 0 {
		return manager.ExecRequest{}, errdefs.InvalidArgument("timeout must not be negative")
	}
	req := manager.ExecRequest{Command: e.Command, Env: e.Env, Cwd: e.Cwd, User: e.User,
		Timeout: time.Duration(e.Timeout * float64(time.Second))}
	if e.Stdin != nil {
		req.Stdin = []byte(*e.Stdin)
	}
	return req, nil
}

// execResult is the answer of exec and run.
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

func result(res *manager.ExecResult) execResult {
	return execResult{Output: string(res.Output), Stdout: string(res.Stdout), Stderr: string(res.Stderr),
		ExitCode: res.ExitCode, DurationMS: res.Duration.Milliseconds(), Truncated: res.Truncated,
		TimedOut: res.TimedOut, OOMKilled: res.OOMKilled, Reason: res.Reason}
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
	return ok(w, http.StatusOK, result(res))
}
