// Package fleet is Trinity's long-lived agents: a named sandbox made from a runtime template,
// with a persistent workspace volume, configuration (autonomy, read-only mode, timeout,
// shared folders, tags) and shares. Service does the work through the manager; Store keeps
// the records, keyed by a stable agent ID so that a rename changes nothing else.
package fleet

import (
	"context"
	"encoding/json"
	"time"
)

// Defaults of a new agent (upstream's).
const (
	DefaultType           = "business-assistant"
	DefaultRuntime        = "claude-code"
	DefaultCPU            = "2"
	DefaultMemory         = "4g"
	DefaultTimeoutSeconds = 900
	MinTimeoutSeconds     = 60
	MaxTimeoutSeconds     = 7200
)

// Paths inside an agent's sandbox.
const (
	Workspace = "/home/developer"
	SharedOut = Workspace + "/shared-out"
	SharedIn  = Workspace + "/shared-in"
)

// Agent is one long-lived agent.
type Agent struct {
	ID                 string    `json:"id"` // agt_..., never changes
	Name               string    `json:"name"`
	Owner              string    `json:"owner"` // user ID ("" on a server without users)
	Type               string    `json:"type"`
	Template           string    `json:"template,omitempty"` // upstream's agent template (recorded)
	Runtime            string    `json:"runtime"`            // the sandbox template it runs on
	RuntimeModel       string    `json:"runtime_model,omitempty"`
	Resources          Resources `json:"resources"`
	CustomInstructions string    `json:"custom_instructions,omitempty"`
	GithubRepo         string    `json:"github_repo,omitempty"`
	Tags               []string  `json:"tags"`
	SandboxID          string    `json:"sandbox_id"`
	WorkspaceVolume    string    `json:"workspace_volume"`
	AutonomyEnabled    bool      `json:"autonomy_enabled"`
	ReadOnly           ReadOnly  `json:"read_only"`
	// ExecutionTimeoutSeconds bounds each schedule run and task (60-7200).
	ExecutionTimeoutSeconds int       `json:"execution_timeout_seconds"`
	Folders                 Folders   `json:"folders"`
	CreatedAt               time.Time `json:"created_at"`
}

// Resources are upstream's limits: cpu "2", memory "4g".
type Resources struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
}

// ReadOnly is read-only mode: with Enabled, the workspace is mounted read-only and each
// allowed pattern that names a directory is mounted writable on top (see Mounts).
type ReadOnly struct {
	Enabled         bool     `json:"enabled"`
	BlockedPatterns []string `json:"blocked_patterns"`
	AllowedPatterns []string `json:"allowed_patterns"`
}

// Folders is the shared-folder configuration (upstream's expose_enabled, consume_enabled).
type Folders struct {
	Expose  bool `json:"expose_enabled"`
	Consume bool `json:"consume_enabled"`
}

// SharedVolume is the ID of the volume an exposing agent shares.
func (a *Agent) SharedVolume() string { return "sh-" + a.ID }

// DefaultBlockedPatterns and DefaultAllowedPatterns are upstream's read-only defaults.
var (
	DefaultBlockedPatterns = []string{"*.py", "*.js", "*.ts", "*.jsx", "*.tsx", "*.vue", "*.svelte",
		"*.go", "*.rs", "*.rb", "*.java", "*.c", "*.cpp", "*.h", "*.sh", "*.bash", "Makefile", "Dockerfile",
		"CLAUDE.md", "README.md", ".claude/*", ".env", ".env.*", "template.yaml", "*.yaml", "*.yml", "*.json", "*.toml"}
	DefaultAllowedPatterns = []string{"content/*", "output/*", "reports/*", "exports/*", "*.log", "*.txt",
		".trinity/operator-queue.json"}
)

// Store keeps agents. Safe for concurrent use. GetAgent of an unknown ID or name is
// ErrNotFound-class; CreateAgent of a taken ID or name and UpdateAgent to a taken name are
// ErrAlreadyExists-class; DeleteAgent of an unknown ID returns nil and removes its saved log.
type Store interface {
	CreateAgent(ctx context.Context, a *Agent) error
	// GetAgent looks an agent up by ID or by name.
	GetAgent(ctx context.Context, idOrName string) (*Agent, error)
	// ListAgents returns every agent, oldest first.
	ListAgents(ctx context.Context) ([]*Agent, error)
	// UpdateAgent replaces the record with the same ID; unknown IDs are ErrNotFound.
	UpdateAgent(ctx context.Context, a *Agent) error
	DeleteAgent(ctx context.Context, id string) error
	// AppendAgentLog adds data to the agent's saved log, keeping its last max bytes (cut at a
	// line start when one is in the kept part). Unknown IDs are ErrNotFound.
	AppendAgentLog(ctx context.Context, id string, data []byte, max int) error
	// AgentLog returns the saved log (empty when none).
	AgentLog(ctx context.Context, id string) ([]byte, error)
}

// Schedules is what the fleet asks of the schedules package: counts for autonomy answers and
// cleanup on delete. Safe for concurrent use; nil means no schedules (counts 0).
type Schedules interface {
	Counts(ctx context.Context, agentID string) (total, enabled int, err error)
	DeleteAgent(ctx context.Context, agentID string) error
}

// StartHook runs after every start of an agent's sandbox (credentials are injected again);
// its answer is upstream's credentials_injection ("success", "skipped", ...).
type StartHook func(ctx context.Context, a *Agent) (credentialsInjection string, err error)

// TrimLog keeps the last max bytes of b, starting at a line when a newline is in the kept
// part. Stores use it for AppendAgentLog.
func TrimLog(b []byte, max int) []byte {
	if max <= 0 || len(b) <= max {
		return b
	}
	b = b[len(b)-max:]
	for i, c := range b {
		if c == '\n' {
			if i+1 < len(b) {
				return append([]byte(nil), b[i+1:]...)
			}
			break
		}
	}
	return append([]byte(nil), b...)
}

// UnmarshalJSON accepts cpu and memory as strings ("2", "4g") or as numbers (2), as
// upstream's untyped dict does.
func (r *Resources) UnmarshalJSON(b []byte) error {
	var raw struct {
		CPU    json.RawMessage `json:"cpu"`
		Memory json.RawMessage `json:"memory"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fieldError("resources", "want an object like {\"cpu\": \"2\", \"memory\": \"4g\"}")
	}
	var err error
	if r.CPU, err = stringOrNumber("resources.cpu", raw.CPU); err != nil {
		return err
	}
	r.Memory, err = stringOrNumber("resources.memory", raw.Memory)
	return err
}

func stringOrNumber(field string, b json.RawMessage) (string, error) {
	if len(b) == 0 || string(b) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(b, &n) == nil {
		return n.String(), nil
	}
	return "", fieldError(field, "want a string like \"2\" or \"4g\"")
}
