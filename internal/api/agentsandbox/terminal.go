package agentsandbox

import (
	"net/http"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/manager"
)

// terminalRequest is POST /api/v1/terminal/sandbox/{name}.
type terminalRequest struct {
	Command string `json:"command"`
}

// terminalResult is Agent-Sandbox's SandboxTerminalResult, plus the exit code. Pod is the
// sandbox's ID and container "sandbox" (Paddock has no pods).
type terminalResult struct {
	Sandbox     string    `json:"sandbox"`
	Pod         string    `json:"pod"`
	Container   string    `json:"container"`
	Command     string    `json:"command"`
	Output      string    `json:"output"`
	ErrorOutput string    `json:"errorOutput"`
	ExitCode    int       `json:"exitCode"`
	ExecutedAt  time.Time `json:"executedAt"`
}

// container is what the answers call the one container a Paddock sandbox is.
const container = "sandbox"

// terminal runs the command through sh -lc to its end and answers its output (each stream
// capped at the manager's output limit). A command that exits non-zero is still a 200: the
// exit code says how it ended.
func (a *API) terminal(w http.ResponseWriter, r *http.Request) error {
	sb, err := a.sandboxNamed(r)
	if err != nil {
		return err
	}
	var req terminalRequest
	if err := a.decode(w, r, &req, true); err != nil {
		return err
	}
	cmd := strings.TrimSpace(req.Command)
	if cmd == "" {
		return errdefs.InvalidArgument("command is required")
	}
	argv := []string{"sh", "-lc", cmd}
	res, err := a.m.Exec(r.Context(), sb.ID, manager.ExecRequest{Command: argv})
	if err != nil {
		return err
	}
	return ok(w, terminalResult{Sandbox: sb.Name, Pod: sb.ID, Container: container, Command: strings.Join(argv, " "),
		Output: string(res.Stdout), ErrorOutput: string(res.Stderr), ExitCode: res.ExitCode, ExecutedAt: time.Now().UTC()})
}
