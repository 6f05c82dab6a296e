// Package schedule keeps the cron schedules of Trinity agents and fires them: a schedule sends
// a command or a prompt to its agent at the times its cron expression names, gated by the
// agent's autonomy flag and bounded by the agent's execution timeout.
package schedule

import (
	"context"
	"time"
)

// Execution statuses.
const (
	StatusSuccess = "success"
	StatusFailed  = "failed"
	StatusTimeout = "timeout"
)

// Timeout bounds, as Trinity's PUT /api/agents/{name}/timeout: an agent's execution timeout
// and a schedule's own timeout both lie in [MinTimeout, MaxTimeout].
const (
	MinTimeout = 60 * time.Second
	MaxTimeout = 7200 * time.Second
)

// MaxOutput is how much of a fire's output an Execution keeps: its last MaxOutput bytes.
const MaxOutput = 64 << 10

// Schedule is one cron schedule of an agent. Its JSON form is how stores keep it; the wire
// form is Response.
type Schedule struct {
	ID string `json:"id"`
	// AgentID is the agent's stable ID (agt_...), which survives renames.
	AgentID        string `json:"agent_id"`
	Name           string `json:"name"`
	CronExpression string `json:"cron_expression"`
	// Timezone is an IANA zone name the cron expression is read in ("UTC" by default).
	Timezone string `json:"timezone"`
	// Message is a prompt for the agent's runtime; Command a shell command run in the agent.
	// At least one is set; when both are, Command runs and Message is only its label.
	Message     string `json:"message,omitempty"`
	Command     string `json:"command,omitempty"`
	Enabled     bool   `json:"enabled"`
	Description string `json:"description,omitempty"`
	// TimeoutSeconds is the schedule's own timeout (nil = the agent's execution timeout);
	// never more than the agent's.
	TimeoutSeconds *int       `json:"timeout_seconds,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	LastRunAt      *time.Time `json:"last_run_at,omitempty"`
	// NextRunAt is the next time the cron expression names after the last fire, skip or
	// change; the runner fires enabled schedules whose NextRunAt has come.
	NextRunAt *time.Time `json:"next_run_at,omitempty"`
}

// Execution is the record of one fire of a schedule.
type Execution struct {
	ID         string    `json:"id"`
	ScheduleID string    `json:"schedule_id"`
	AgentID    string    `json:"agent_id"`
	Status     string    `json:"status"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Message is the schedule's message or command when it fired.
	Message string `json:"message"`
	// Output is the last MaxOutput bytes of what the fire produced.
	Output string `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
}

// ExecutionFilter selects executions; empty fields match everything.
type ExecutionFilter struct {
	AgentID    string
	ScheduleID string
	// Limit caps the answer (0 = 100), newest first.
	Limit int
}

// Store keeps schedules and their executions. Implementations are safe for concurrent use.
// Lookups of a missing schedule return an errdefs.ErrNotFound-class error; deletes of
// something already gone return nil.
type Store interface {
	// CreateSchedule stores a new schedule; a taken ID is errdefs.ErrAlreadyExists.
	CreateSchedule(ctx context.Context, s *Schedule) error
	GetSchedule(ctx context.Context, id string) (*Schedule, error)
	// ListSchedules returns an agent's schedules ("" = every agent's) oldest first.
	ListSchedules(ctx context.Context, agentID string) ([]Schedule, error)
	// UpdateSchedule replaces every field of a stored schedule except LastRunAt, which only
	// SetLastRun writes (a run that ends during an edit is not lost).
	UpdateSchedule(ctx context.Context, s *Schedule) error
	// AdvanceNextRun moves a schedule's next run from `from` to `to` (zero: none) only if it
	// still is `from`, and reports whether it did: of several runners (replicas) that find
	// one due time, exactly one moves it, and an edit made meanwhile wins. It writes nothing
	// else, so the runner never overwrites an edit.
	AdvanceNextRun(ctx context.Context, id string, from, to time.Time) (bool, error)
	// SetLastRun writes the schedule's last run and nothing else.
	SetLastRun(ctx context.Context, id string, at time.Time) error
	DeleteSchedule(ctx context.Context, id string) error
	// DeleteAgentSchedules removes an agent's schedules and their executions.
	DeleteAgentSchedules(ctx context.Context, agentID string) error
	// PutExecution stores an execution (replacing one with the same ID).
	PutExecution(ctx context.Context, e *Execution) error
	ListExecutions(ctx context.Context, f ExecutionFilter) ([]Execution, error)
}

// Gate tells the runner whether an agent may fire its schedules now (its autonomy flag) and
// the agent's execution timeout. An errdefs.ErrNotFound-class error means the agent is gone:
// the fire is skipped like any gate error.
type Gate func(ctx context.Context, agentID string) (enabled bool, timeout time.Duration, err error)

// Fire runs one fire of a schedule in its agent and returns the output. ctx carries the
// timeout; a Fire that outlives it should return promptly with ctx's error.
//
// The fleet implements it: for a schedule with a Command, it runs the command in the agent's
// sandbox through the manager (manager.Exec with Shell = Command, Cwd = the workspace,
// Timeout = the time left on ctx); for a Message, the runtime's prompt command (for
// claude-code, `claude -p <message>` as argv, never through a shell). The output is stdout
// and stderr interleaved; a non-zero exit is an error (its output still returned).
type Fire func(ctx context.Context, agentID string, s Schedule) (output string, err error)
