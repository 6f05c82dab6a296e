package guestproto

// InitRequest is the body of the guest's POST /init.
type InitRequest struct {
	EnvVars        map[string]string `json:"envVars,omitempty"`
	DefaultUser    string            `json:"defaultUser,omitempty"`
	DefaultWorkdir string            `json:"defaultWorkdir,omitempty"`
	AccessToken    *string           `json:"accessToken,omitempty"`
	// Prewarm asks the guest to keep an interpreter of each language already running, so
	// that a new code context starts at once.
	Prewarm []string `json:"prewarm,omitempty"`
}

// TerminateRequest is the body of POST /terminate.
type TerminateRequest struct {
	// GraceMs is how long processes get between SIGTERM and SIGKILL, in milliseconds.
	GraceMs int64 `json:"graceMs"`
}

// TerminateResponse answers POST /terminate.
type TerminateResponse struct {
	// Forced is true when processes were still running after the grace period and were
	// killed.
	Forced bool `json:"forced"`
}

// ExecuteRequest is one cell for the code interpreter (POST /execute).
type ExecuteRequest struct {
	Code      string            `json:"code"`
	ContextID string            `json:"context_id,omitempty"`
	Language  string            `json:"language,omitempty"`
	EnvVars   map[string]string `json:"env_vars,omitempty"`
	// KeepQuotes leaves a string result's text as the interpreter wrote it ('value'), as
	// Jupyter's text/plain is; E2B's code interpreter strips the quotes (value). Paddock's
	// KernelBox sessions ask for it.
	KeepQuotes bool `json:"keep_quotes,omitempty"`
}

// Metrics is one sample of GET /metrics (envd's body, with a list of them for
// ?start=&end=).
type Metrics struct {
	TS          int64   `json:"ts"`
	CPUCount    int     `json:"cpu_count"`
	CPUUsedPct  float64 `json:"cpu_used_pct"`
	MemTotal    uint64  `json:"mem_total"`
	MemUsed     uint64  `json:"mem_used"`
	MemCache    uint64  `json:"mem_cache"`
	MemTotalMiB uint64  `json:"mem_total_mib"`
	MemUsedMiB  uint64  `json:"mem_used_mib"`
	DiskUsed    uint64  `json:"disk_used"`
	DiskTotal   uint64  `json:"disk_total"`
}
