package apitype

// ExecRequest is the body of POST /sandboxes/{name}/exec and /exec/stream: one command in a
// running sandbox.
type ExecRequest struct {
	Command []string          `json:"command"`
	Env     map[string]string `json:"env,omitempty"`
	Cwd     string            `json:"cwd,omitempty"`
	User    string            `json:"user,omitempty"`
	// Stdin is the process's whole standard input (nil = none).
	Stdin *string `json:"stdin,omitempty"`
	// Timeout is in seconds (0 = none, at most 86400).
	Timeout float64 `json:"timeout,omitempty"`
}

// RunRequest is the body of POST /run and /run/stream, and each command of /batch/run: one
// command in a fresh sandbox that is deleted afterwards.
type RunRequest struct {
	ExecRequest
	Image   string `json:"image,omitempty"`
	Profile string `json:"profile,omitempty"`
	// Fast (nil = true) takes a warm sandbox when one matches; false creates a dedicated one.
	Fast     *bool   `json:"fast,omitempty"`
	VCPUs    float64 `json:"vcpus,omitempty"`
	MemoryMB int64   `json:"memory_mb,omitempty"`
	Pids     int64   `json:"pids,omitempty"`
	DiskMB   int64   `json:"disk_mb,omitempty"`
	// Network is "none" or "egress"; AllowOut and DenyOut are the egress policy.
	Network  string   `json:"network,omitempty"`
	AllowOut []string `json:"allow_out,omitempty"`
	DenyOut  []string `json:"deny_out,omitempty"`
	// Template supplies defaults for the sandbox, as on POST /sandboxes.
	Template string `json:"template,omitempty"`
}

// ExecResult is how a command ended: the answer of exec and run. Sandbox is set by run only.
// The server writes it field by field as the outputs stream, in this order.
type ExecResult struct {
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

// BatchRequest is the body of POST /batch/run: commands run in parallel, each in its own
// fresh sandbox.
type BatchRequest struct {
	Commands []RunRequest `json:"commands"`
}

// BatchResponse is the data of /batch/run's answer: one result per command, in input order.
type BatchResponse struct {
	Results []BatchResult `json:"results"`
}

// BatchResult is one command's outcome in a batch: Error (a public message) when it could not
// run, which does not fail the others; ExitCode otherwise.
type BatchResult struct {
	Output     string  `json:"output"`
	Error      *string `json:"error"`
	ExitCode   *int    `json:"exit_code,omitempty"`
	Stdout     string  `json:"stdout"`
	Stderr     string  `json:"stderr"`
	DurationMS int64   `json:"duration_ms"`
	Truncated  bool    `json:"truncated,omitempty"`
}

// The data of the server-sent events of /run/stream and /exec/stream, by event name. A stream
// ends with done or error.
type (
	// StreamStarted is "started": the sandbox the command runs in.
	StreamStarted struct {
		Sandbox string `json:"sandbox"`
	}
	// StreamProgress is "progress": stage creating, starting or executing (a PullEvent while
	// the image is pulled).
	StreamProgress struct {
		Stage string `json:"stage"`
	}
	// StreamOutput is "output": a chunk of stdout or stderr.
	StreamOutput struct {
		Content string `json:"content"`
		Stream  string `json:"stream"`
	}
	// StreamDone is "done": the exit code, and why when the command did not exit normally.
	StreamDone struct {
		ExitCode int    `json:"exit_code"`
		Reason   string `json:"reason,omitempty"`
	}
	// StreamError is "error": the public message of what went wrong.
	StreamError struct {
		Message string `json:"message"`
	}
)
