package sandcaster

import "github.com/paddock/paddock/internal/api/openapi"

// Operations documents the surface for the OpenAPI document.
func (a *API) Operations() []openapi.Operation {
	const tag = "sandcaster"
	return []openapi.Operation{
		{Pattern: "POST " + QueryPath, Tag: tag, Stream: true, Request: queryRequest{}, Required: []string{"prompt"},
			Summary: "Run an agent (loop in the server, tools in a new sandbox) and stream its events as SSE",
			Description: "Events: system, assistant (delta, complete), thinking, tool_use, tool_result, file, stderr, warning, " +
				`result (structuredOutput with outputFormat), error. Errors before the stream: {"error", "details": [{"path", "message"}]}. See docs/sandcaster.md.`},
		{Pattern: "GET " + RunsPath, Tag: tag, Summary: "The caller's runs, newest first (kept in memory, the last 200)",
			Query:    []openapi.Param{{Name: "limit", Type: "integer", Description: "1 to 200 (default 20)"}},
			Response: []run{}},
	}
}
