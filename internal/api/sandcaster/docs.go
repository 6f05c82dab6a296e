package sandcaster

import (
	"github.com/paddock/paddock/internal/agentrun"
	"github.com/paddock/paddock/internal/api/openapi"
)

// Operations documents the surface for the OpenAPI document.
func (a *API) Operations() []openapi.Operation {
	const tag = "sandcaster"
	return []openapi.Operation{
		{Pattern: "POST " + QueryPath, Tag: tag, Stream: true, Request: queryRequest{}, Required: []string{"prompt"},
			Summary: "Run an agent (loop in the server, tools in a new sandbox) and stream its events as SSE",
			Description: "Events: system, assistant (delta, complete), thinking, tool_use, tool_result, file, stderr, warning, " +
				`result (structuredOutput with outputFormat), error. Errors before the stream: {"error", "details": [{"path", "message"}]}. See docs/sandcaster.md.`},
		{Pattern: "GET " + RunsPath, Tag: tag, Summary: "The caller's runs (an admin's: everyone's), newest first",
			Query:    []openapi.Param{{Name: "limit", Type: "integer", Description: "1 to 200 (default 20)"}},
			Response: []agentrun.Run{}},
		{Pattern: "GET " + RunsPath + "/{id}", Tag: tag, Summary: "One run with its event log (the newest 1000 events, at most 1 MiB)",
			Description: "Another user's run is 404.", Response: runDetail{}},
		{Pattern: "POST " + SessionsPath, Tag: tag, Stream: true, Request: sessionCreateRequest{}, Required: []string{"prompt"},
			Summary: "Start a session: its sandbox is kept for the next messages; streams session_created, then the first turn's events",
			Description: "Body: POST /query's plus sessionConfig {idleTimeoutSecs 30-86400 (default 900), name, maxHistoryTurns 1-500 (default 50)}. " +
				`At most 100 live sessions: 503 {"error", "code": "SESSION_CAPACITY_EXCEEDED"}. See docs/sandcaster.md.`},
		{Pattern: "GET " + SessionsPath, Tag: tag, Summary: "The caller's sessions (an admin's: everyone's), newest first",
			Query:    []openapi.Param{{Name: "limit", Type: "integer", Description: "1 to 200 (default 50)"}},
			Response: []agentrun.Session{}},
		{Pattern: "GET " + SessionsPath + "/{id}", Tag: tag, Summary: "A session with its runs (another user's: 404 SESSION_NOT_FOUND)",
			Response: sessionDetail{}},
		{Pattern: "DELETE " + SessionsPath + "/{id}", Tag: tag, Status: 204,
			Summary: "End a session: its running turn is cancelled and its sandbox deleted (204, also when it had ended)"},
		{Pattern: "POST " + SessionsPath + "/{id}/messages", Tag: tag, Stream: true, Request: sessionMessageRequest{}, Required: []string{"prompt"},
			Summary: "The next turn, in the session's sandbox with its conversation; streams its events",
			Description: "404 SESSION_NOT_FOUND, 409 SESSION_BUSY (a turn is running), 410 SESSION_EXPIRED (ended: idle, deleted, " +
				"its sandbox killed, or the server restarted: the error says which)."},
		{Pattern: "GET " + SessionsPath + "/{id}/events", Tag: tag, Stream: true,
			Summary: "Attach to a live session: the events of its turns from now on, ping every 15 s, session_expired when it ends"},
		{Pattern: "POST " + WebhookPath, Tag: tag, Public: true, Response: map[string]string{},
			Summary: "E2B lifecycle webhooks, signed with e2b-webhook-secret (e2b-signature); a killed sandbox ends its run or session as an error",
			Description: "Authenticated by signature, not API key: the hex HMAC-SHA256 of the raw body (optionally sha256=...) or E2B's " +
				"base64 SHA-256 of secret+body. 401 on a bad or missing signature, 503 when no secret is configured. Recorded as audit event e2b_webhook."},
	}
}
