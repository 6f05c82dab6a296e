package trinity

import (
	"github.com/paddock/paddock/internal/api/openapi"
	"github.com/paddock/paddock/internal/credential"
	"github.com/paddock/paddock/internal/fleet"
	"github.com/paddock/paddock/internal/schedule"
	"github.com/paddock/paddock/internal/sshgate"
)

// Operations documents the surface for the OpenAPI document (see docs/trinity.md).
func (a *API) Operations() []openapi.Operation {
	const tag = "trinity"
	const p = Prefix + "/{name}"
	name := "Another user's agent that is not shared with the caller is 404."
	own := "Owner or admin only (403 for a shared user). " + name
	return []openapi.Operation{
		{Pattern: "GET " + Prefix, Tag: tag, Summary: "The agents the caller may see (own, shared; all for admins)",
			Query:    []openapi.Param{{Name: "tags", Type: "string", Description: "comma-separated tags, OR filter"}},
			Response: []AgentStatus{}},
		{Pattern: "POST " + Prefix, Tag: tag, Request: fleet.CreateRequest{}, Required: []string{"name"}, Response: AgentStatus{},
			Summary:     "Create an agent: a workspace volume mounted at /home/developer and a running sandbox from its runtime",
			Description: "400 naming the field for a bad name, runtime or resources (cpu 1-16, memory 512m-64g); 409 for a taken name."},
		{Pattern: "GET " + Prefix + "/context-stats", Tag: tag, Response: contextStatsResponse{},
			Summary: "Context use of every visible agent, from the Sandcaster runs in its sandbox; source says where the numbers come from"},
		{Pattern: "GET " + Prefix + "/autonomy-status", Tag: tag, Response: map[string]autonomyEntry{},
			Summary: "Every visible agent's autonomy flag, by name"},
		{Pattern: "GET " + p, Tag: tag, Response: AgentDetail{}, Summary: "One agent with ownership and configuration", Description: name},
		{Pattern: "DELETE " + p, Tag: tag, Response: message{}, Summary: "Delete an agent: sandbox, volumes, schedules, shares, tags, log", Description: own},
		{Pattern: "POST " + p + "/start", Tag: tag, Response: startResponse{},
			Summary: "Start an agent (mounts recomputed: read-only mode, consumed folders); credentials are injected again"},
		{Pattern: "POST " + p + "/stop", Tag: tag, Response: message{}, Summary: "Stop an agent; its workspace and log stay"},
		{Pattern: "PUT " + p + "/rename", Tag: tag, Request: renameRequest{}, Required: []string{"new_name"}, Response: renameResponse{},
			Summary: "Rename an agent; everything is keyed by its ID and follows", Description: "409 for a taken name. " + own},
		{Pattern: "GET " + p + "/tags", Tag: tag, Response: tagList{}, Summary: "An agent's tags"},
		{Pattern: "PUT " + p + "/tags", Tag: tag, Request: tagList{}, Required: []string{"tags"}, Response: tagList{},
			Summary: "Replace an agent's tags (lowercased, deduplicated, letters, digits and '-', at most 100 of 50 characters)", Description: own},
		{Pattern: "GET " + p + "/info", Tag: tag, Response: fleet.Info{}, Summary: "The agent's runtime template metadata"},
		{Pattern: "GET " + p + "/files", Tag: tag, Response: map[string]any{}, // fleet.Tree: its entries nest, which the schema walker cannot
			Summary: "The workspace tree {base_path, requested_path, tree: [{name, path, type, size, modified, children, file_count}], total_files, truncated} (hidden entries left out, 6 levels, 5000 entries)",
			Query:   []openapi.Param{{Name: "path", Type: "string", Description: "a directory inside /home/developer"}}},
		{Pattern: "GET " + p + "/files/download", Tag: tag, Summary: "Stream one workspace file",
			Query: []openapi.Param{{Name: "path", Type: "string", Description: "absolute, or relative to /home/developer"}}},
		{Pattern: "GET " + p + "/logs", Tag: tag, Response: logsResponse{}, Summary: "The runtime's output, kept across restarts (bounded)",
			Query: []openapi.Param{{Name: "tail", Type: "integer", Description: "lines, 1-10000 (default 100)"}}},
		{Pattern: "GET " + p + "/stats", Tag: tag, Response: fleet.Stats{}, Summary: "Live CPU %, memory and network I/O from the driver"},
		{Pattern: "GET " + p + "/timeout", Tag: tag, Response: timeoutResponse{}, Summary: "The execution timeout"},
		{Pattern: "PUT " + p + "/timeout", Tag: tag, Request: timeoutResponse{}, Required: []string{"execution_timeout_seconds"},
			Response: timeoutResponse{}, Summary: "Set the execution timeout (60-7200 s; 400 outside)", Description: own},
		{Pattern: "GET " + p + "/autonomy", Tag: tag, Response: autonomyResponse{}, Summary: "Autonomy (the gate on the agent's schedules)"},
		{Pattern: "PUT " + p + "/autonomy", Tag: tag, Request: autonomyEntry{}, Response: autonomyResponse{},
			Summary: "Turn autonomy on or off; per-schedule flags stay", Description: own},
		{Pattern: "GET " + p + "/read-only", Tag: tag, Response: readOnlyResponse{}, Summary: "Read-only mode and its patterns"},
		{Pattern: "PUT " + p + "/read-only", Tag: tag, Response: readOnlyResponse{}, Required: []string{"enabled"},
			Summary:     "Set read-only mode, enforced by mounts: the workspace read-only, allowed directories writable",
			Description: "A running agent is stopped, re-mounted and started again. " + own},
		{Pattern: "POST " + p + "/share", Tag: tag, Required: []string{"email"}, Response: fleet.Share{},
			Summary: "Share an agent with a user by email (unknown email 404, already shared 409)", Description: own},
		{Pattern: "DELETE " + p + "/share/{email}", Tag: tag, Response: message{}, Summary: "Remove a share (the owner, an admin or that user)"},
		{Pattern: "GET " + p + "/shares", Tag: tag, Response: []fleet.Share{}, Summary: "Who an agent is shared with", Description: own},
		{Pattern: "GET " + p + "/folders", Tag: tag, Response: foldersResponse{}, Summary: "Shared-folder configuration and what is mounted"},
		{Pattern: "PUT " + p + "/folders", Tag: tag, Response: foldersResponse{},
			Summary: "Expose this agent's /home/developer/shared-out, consume others' at /home/developer/shared-in/<name> (next start)", Description: own},
		{Pattern: "GET " + p + "/folders/available", Tag: tag, Summary: "Folders this agent may mount (same owner, or shared with its owner)"},
		{Pattern: "GET " + p + "/folders/consumers", Tag: tag, Summary: "Consuming agents that may mount this agent's folder"},

		{Pattern: "GET " + p + "/schedules", Tag: tag, Response: []schedule.Response{}, Summary: "The agent's cron schedules"},
		{Pattern: "POST " + p + "/schedules", Tag: tag, Request: schedule.CreateRequest{}, Required: []string{"name", "cron_expression"},
			Response: schedule.Response{}, Summary: "Add a cron schedule that sends a message (prompt) or a command to the agent (201)",
			Description: "400 naming the field for a bad cron expression, timezone or timeout. " + own},
		{Pattern: "GET " + p + "/schedules/{id}", Tag: tag, Response: schedule.Response{}, Summary: "One schedule"},
		{Pattern: "PUT " + p + "/schedules/{id}", Tag: tag, Request: schedule.UpdateRequest{}, Response: schedule.Response{},
			Summary: "Change a schedule (fields left out keep their value)", Description: own},
		{Pattern: "DELETE " + p + "/schedules/{id}", Tag: tag, Response: message{}, Summary: "Delete a schedule", Description: own},
		{Pattern: "GET " + p + "/schedules/{id}/executions", Tag: tag, Response: []schedule.ExecutionResponse{},
			Summary: "A schedule's executions, newest first (autonomy off records none)",
			Query:   []openapi.Param{{Name: "limit", Type: "integer", Description: "1-500 (default 50)"}}},
		{Pattern: "GET " + p + "/executions", Tag: tag, Response: []schedule.ExecutionResponse{},
			Summary: "Every execution of the agent's schedules, newest first",
			Query:   []openapi.Param{{Name: "limit", Type: "integer", Description: "1-500 (default 50)"}}},
		{Pattern: "GET " + p + "/credentials/status", Tag: tag, Response: credential.StatusResponse{},
			Summary: "Which credential files exist in the workspace (.env, .mcp.json, injected ones); never their content", Description: own},
		{Pattern: "POST " + p + "/credentials/inject", Tag: tag, Request: credential.InjectRequest{}, Required: []string{"files"},
			Response: credential.InjectResponse{}, Summary: "Write credential files into the workspace (mode 600), again on every start",
			Description: "400 naming a path outside the workspace; 409 when the agent is not running. " + own},
		{Pattern: "POST " + p + "/credentials/export", Tag: tag, Response: credential.ExportResponse{},
			Summary: "Seal the credential files into .credentials.enc (AES-256-GCM under the server's key; safe to commit)", Description: own},
		{Pattern: "POST " + p + "/credentials/import", Tag: tag, Request: credential.ImportRequest{}, Response: credential.ImportResponse{},
			Summary: "Decrypt a bundle (the body's, else the workspace's .credentials.enc) and inject its files", Description: own},
		{Pattern: "POST " + p + "/ssh-access", Tag: tag, Request: sshgate.AccessRequest{}, Response: sshgate.Access{},
			Summary:     "A time-limited ED25519 key for the SSH gateway (ssh -p PORT <agent>@HOST); a generated private key is answered once",
			Description: "400 naming ttl_hours (0.1-24) or public_key; 503 without --ssh-listen. " + own},
	}
}
