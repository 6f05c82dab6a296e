package trinity

import (
	"fmt"
	"math"
	"net/http"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/fleet"
)

type tagList struct {
	AgentName string   `json:"agent_name"`
	Tags      []string `json:"tags"`
}

func (a *API) getTags(w http.ResponseWriter, r *http.Request) error {
	ag, _, err := a.svc.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, tagList{ag.Name, ag.Tags})
}

func (a *API) setTags(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Tags *[]string `json:"tags"`
	}
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	if req.Tags == nil {
		return errdefs.InvalidArgument("tags: is required")
	}
	ag, err := a.svc.SetTags(r.Context(), r.PathValue("name"), *req.Tags)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, tagList{ag.Name, ag.Tags})
}

type timeoutResponse struct {
	Message                 string `json:"message,omitempty"`
	AgentName               string `json:"agent_name"`
	ExecutionTimeoutSeconds int    `json:"execution_timeout_seconds"`
	ExecutionTimeoutMinutes int    `json:"execution_timeout_minutes"`
}

func (a *API) getTimeout(w http.ResponseWriter, r *http.Request) error {
	ag, _, err := a.svc.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, timeoutResponse{AgentName: ag.Name, ExecutionTimeoutSeconds: ag.ExecutionTimeoutSeconds,
		ExecutionTimeoutMinutes: ag.ExecutionTimeoutSeconds / 60})
}

func (a *API) setTimeout(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Seconds *float64 `json:"execution_timeout_seconds"`
	}
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	if req.Seconds == nil {
		return errdefs.InvalidArgument("execution_timeout_seconds: is required")
	}
	s := *req.Seconds
	if s != math.Trunc(s) || s < fleet.MinTimeoutSeconds || s > fleet.MaxTimeoutSeconds {
		return fleet.CheckTimeout(0)
	}
	ag, err := a.svc.SetTimeout(r.Context(), r.PathValue("name"), int(s))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, timeoutResponse{Message: "Timeout updated", AgentName: ag.Name,
		ExecutionTimeoutSeconds: ag.ExecutionTimeoutSeconds, ExecutionTimeoutMinutes: ag.ExecutionTimeoutSeconds / 60})
}

type autonomyResponse struct {
	Status           string `json:"status"`
	AgentName        string `json:"agent_name"`
	AutonomyEnabled  bool   `json:"autonomy_enabled"`
	TotalSchedules   int    `json:"total_schedules"`
	EnabledSchedules int    `json:"enabled_schedules"`
	Message          string `json:"message,omitempty"`
}

func (a *API) getAutonomy(w http.ResponseWriter, r *http.Request) error {
	ag, _, err := a.svc.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	total, enabled, err := a.svc.ScheduleCounts(r.Context(), ag)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, autonomyResponse{Status: a.svc.Status(r.Context(), ag), AgentName: ag.Name,
		AutonomyEnabled: ag.AutonomyEnabled, TotalSchedules: total, EnabledSchedules: enabled})
}

func (a *API) setAutonomy(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Enabled *bool `json:"enabled"`
	}
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	if req.Enabled == nil {
		return errdefs.InvalidArgument("enabled: is required")
	}
	ag, err := a.svc.SetAutonomy(r.Context(), r.PathValue("name"), *req.Enabled)
	if err != nil {
		return err
	}
	total, enabled, err := a.svc.ScheduleCounts(r.Context(), ag)
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, autonomyResponse{Status: "updated", AgentName: ag.Name, AutonomyEnabled: ag.AutonomyEnabled,
		TotalSchedules: total, EnabledSchedules: enabled, Message: autonomyMessage(ag.AutonomyEnabled, total, enabled)})
}

// autonomyMessage is upstream's wording of what the gate now means for the schedules.
func autonomyMessage(on bool, total, enabled int) string {
	switch {
	case on && total == 0:
		return "Autonomy enabled. This agent has no schedules."
	case on && enabled == 0:
		return fmt.Sprintf("Autonomy enabled, but all %d schedule(s) are disabled — nothing will run until you enable one.", total)
	case on:
		return fmt.Sprintf("Autonomy enabled. %d of %d schedule(s) will run; per-schedule settings unchanged.", enabled, total)
	case total == 0:
		return "Autonomy disabled. This agent has no schedules."
	}
	return fmt.Sprintf("Autonomy disabled. %d schedule(s) paused; per-schedule settings preserved.", total)
}

type autonomyEntry struct {
	AutonomyEnabled bool `json:"autonomy_enabled"`
}

// autonomyStatus maps every visible agent's name to its autonomy flag.
func (a *API) autonomyStatus(w http.ResponseWriter, r *http.Request) error {
	agents, err := a.svc.List(r.Context(), nil)
	if err != nil {
		return err
	}
	out := map[string]autonomyEntry{}
	for _, ag := range agents {
		out[ag.Name] = autonomyEntry{ag.AutonomyEnabled}
	}
	return ok(w, http.StatusOK, out)
}

type readOnlyConfig struct {
	BlockedPatterns []string `json:"blocked_patterns"`
	AllowedPatterns []string `json:"allowed_patterns"`
}

type readOnlyResponse struct {
	Status    string         `json:"status,omitempty"`
	AgentName string         `json:"agent_name"`
	Enabled   bool           `json:"enabled"`
	Config    readOnlyConfig `json:"config"`
	// WritableDirs are the workspace directories mounted writable in read-only mode.
	WritableDirs []string `json:"writable_dirs"`
	// HooksInjected is upstream's "applied to the running agent now".
	HooksInjected *bool  `json:"hooks_injected,omitempty"`
	Message       string `json:"message,omitempty"`
}

func readOnlyView(ag *fleet.Agent) readOnlyResponse {
	v := readOnlyResponse{AgentName: ag.Name, Enabled: ag.ReadOnly.Enabled, WritableDirs: []string{},
		Config: readOnlyConfig{ag.ReadOnly.BlockedPatterns, ag.ReadOnly.AllowedPatterns}}
	for _, p := range ag.ReadOnly.AllowedPatterns {
		if d, ok := fleet.WritableDir(p); ok {
			v.WritableDirs = append(v.WritableDirs, d)
		}
	}
	return v
}

func (a *API) getReadOnly(w http.ResponseWriter, r *http.Request) error {
	ag, _, err := a.svc.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return ok(w, http.StatusOK, readOnlyView(ag))
}

func (a *API) setReadOnly(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Enabled *bool           `json:"enabled"`
		Config  *readOnlyConfig `json:"config"`
	}
	if err := a.decode(w, r, &req); err != nil {
		return err
	}
	if req.Enabled == nil {
		return errdefs.InvalidArgument("enabled: is required")
	}
	var blocked, allowed []string
	if req.Config != nil {
		blocked, allowed = req.Config.BlockedPatterns, req.Config.AllowedPatterns
		if blocked == nil {
			blocked = fleet.DefaultBlockedPatterns
		}
		if allowed == nil {
			allowed = fleet.DefaultAllowedPatterns
		}
	}
	res, err := a.svc.SetReadOnly(r.Context(), r.PathValue("name"), *req.Enabled, blocked, allowed)
	if err != nil {
		return err
	}
	v := readOnlyView(res.Agent)
	v.Status, v.HooksInjected = "updated", &res.Remounted
	state := "disabled"
	if res.Agent.ReadOnly.Enabled {
		state = "enabled"
	}
	v.Message = "Read-only mode " + state + "."
	if res.Remounted {
		v.Message += " The agent was running: it was stopped, re-mounted and started again to apply it."
	} else {
		v.Message += " Applied at the agent's next start."
	}
	return ok(w, http.StatusOK, v)
}
