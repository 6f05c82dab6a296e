package schedule

import "time"

// CreateRequest is the body of POST /api/agents/{name}/schedules (Trinity's ScheduleCreate,
// plus Paddock's command).
type CreateRequest struct {
	Name           string  `json:"name"`
	CronExpression string  `json:"cron_expression"`
	Message        string  `json:"message,omitempty"`
	Command        string  `json:"command,omitempty"`
	Enabled        *bool   `json:"enabled,omitempty"`  // default true
	Timezone       string  `json:"timezone,omitempty"` // default UTC
	Description    *string `json:"description,omitempty"`
	TimeoutSeconds *int    `json:"timeout_seconds,omitempty"`
}

// UpdateRequest is the body of PUT /api/agents/{name}/schedules/{id}: fields left out (null)
// keep their value; timeout_seconds 0 goes back to the agent's execution timeout.
type UpdateRequest struct {
	Name           *string `json:"name,omitempty"`
	CronExpression *string `json:"cron_expression,omitempty"`
	Message        *string `json:"message,omitempty"`
	Command        *string `json:"command,omitempty"`
	Enabled        *bool   `json:"enabled,omitempty"`
	Timezone       *string `json:"timezone,omitempty"`
	Description    *string `json:"description,omitempty"`
	TimeoutSeconds *int    `json:"timeout_seconds,omitempty"`
}

// Response is a schedule on the wire (Trinity's ScheduleResponse, plus command).
type Response struct {
	ID             string     `json:"id"`
	AgentName      string     `json:"agent_name"`
	Name           string     `json:"name"`
	CronExpression string     `json:"cron_expression"`
	Message        string     `json:"message"`
	Command        string     `json:"command,omitempty"`
	Enabled        bool       `json:"enabled"`
	Timezone       string     `json:"timezone"`
	Description    *string    `json:"description"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	LastRunAt      *time.Time `json:"last_run_at"`
	NextRunAt      *time.Time `json:"next_run_at"`
	// TimeoutSeconds null means the agent's execution timeout applies.
	TimeoutSeconds *int `json:"timeout_seconds"`
}

// ToResponse is s as Trinity answers it; agentName is the agent's current name.
func ToResponse(s Schedule, agentName string) Response {
	r := Response{ID: s.ID, AgentName: agentName, Name: s.Name, CronExpression: s.CronExpression, Message: s.Message,
		Command: s.Command, Enabled: s.Enabled, Timezone: s.Timezone, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		LastRunAt: s.LastRunAt, NextRunAt: s.NextRunAt, TimeoutSeconds: s.TimeoutSeconds}
	if s.Description != "" {
		d := s.Description
		r.Description = &d
	}
	return r
}

// ExecutionResponse is an execution on the wire (Trinity's ExecutionResponse; the fields of
// its LLM observability are left out).
type ExecutionResponse struct {
	ID          string     `json:"id"`
	ScheduleID  string     `json:"schedule_id"`
	AgentName   string     `json:"agent_name"`
	Status      string     `json:"status"`
	StartedAt   time.Time  `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at"`
	DurationMS  *int64     `json:"duration_ms"`
	Message     string     `json:"message"`
	Response    *string    `json:"response"`
	Error       *string    `json:"error"`
	// TriggeredBy is always "schedule": Paddock has no manual trigger yet.
	TriggeredBy string `json:"triggered_by"`
}

// ToExecutionResponse is e as Trinity answers it; agentName is the agent's current name.
func ToExecutionResponse(e Execution, agentName string) ExecutionResponse {
	r := ExecutionResponse{ID: e.ID, ScheduleID: e.ScheduleID, AgentName: agentName, Status: e.Status,
		StartedAt: e.StartedAt, Message: e.Message, TriggeredBy: "schedule"}
	if !e.FinishedAt.IsZero() {
		done, ms := e.FinishedAt, e.FinishedAt.Sub(e.StartedAt).Milliseconds()
		r.CompletedAt, r.DurationMS = &done, &ms
	}
	if e.Output != "" {
		out := e.Output
		r.Response = &out
	}
	if e.Error != "" {
		msg := e.Error
		r.Error = &msg
	}
	return r
}
