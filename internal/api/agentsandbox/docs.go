package agentsandbox

import "github.com/paddock/paddock/internal/api/openapi"

// envelopeNote is said of every route: the document's generic envelope is not this surface's.
const envelopeNote = `Answers {"code":"0","data":...}; errors {"code":<status>,"message":"..."}.`

// Operations documents the surface for the OpenAPI document.
func (a *API) Operations() []openapi.Operation {
	p, tag := Prefix, "agent-sandbox"
	names := []openapi.Param{{Name: "names", Type: "string", Description: "comma-separated sandbox names (GET)"}}
	path := func(what string) []openapi.Param {
		return []openapi.Param{{Name: "path", Type: "string", Description: what}}
	}
	ops := []openapi.Operation{
		{Pattern: "GET /healthz", Tag: tag, Summary: `Health: {"status":"ok","version":...} (no envelope)`, Response: health{}, Public: true},
		{Pattern: "POST " + p + "/sandbox", Tag: tag, Summary: "Create a sandbox: data is \"Sandbox <name> created successfully\"", Request: createRequest{}, Response: ""},
		{Pattern: "GET " + p + "/sandbox", Tag: tag, Summary: "List sandboxes", Response: []sandboxView{}},
		{Pattern: "GET " + p + "/sandbox/{name}", Tag: tag, Summary: "Describe a sandbox", Response: sandboxView{}},
		{Pattern: "DELETE " + p + "/sandbox/{name}", Tag: tag, Summary: "Delete a sandbox: data is \"Sandbox <name> deleted successfully\"", Response: ""},
		{Pattern: "POST " + p + "/sandbox/pause/{name}", Tag: tag, Summary: "Freeze a running sandbox (409 when not running)", Response: ""},
		{Pattern: "POST " + p + "/sandbox/resume/{name}", Tag: tag, Summary: "Thaw a paused sandbox, or boot a stopped one (409 when running)", Response: ""},
		{Pattern: "GET " + p + "/sandbox/metrics", Tag: tag, Summary: "CPU (millicores over 200 ms) and memory of running sandboxes", Query: names, Response: metricsAnswer{}},
		{Pattern: "POST " + p + "/sandbox/metrics", Tag: tag, Summary: "CPU and memory of the running sandboxes in names", Request: metricsRequest{}, Required: []string{"names"}, Response: metricsAnswer{}},
		{Pattern: "POST " + p + "/terminal/sandbox/{name}", Tag: tag, Summary: "Run a command through sh -lc to its end", Request: terminalRequest{}, Required: []string{"command"}, Response: terminalResult{}},
		{Pattern: "GET " + p + "/terminal/sandbox/{name}/ws", Tag: tag, Summary: "Interactive shell over a WebSocket: server ready/output/exit/error/closed, client init/resize/input/close"},
		{Pattern: "GET " + p + "/sandbox/files/{name}", Tag: tag, Summary: "List a directory", Query: path("directory (default /)"), Response: filesList{}},
		{Pattern: "POST " + p + "/sandbox/files/{name}/upload", Tag: tag, Summary: "Upload the multipart part \"file\" into a directory, streamed (413 past the file limit)", Query: path("directory (default /)"), Response: fileUploaded{}},
		{Pattern: "DELETE " + p + "/sandbox/files/{name}", Tag: tag, Summary: "Delete a file or directory", Query: path("what to delete (required)"), Response: fileDeleted{}},
		{Pattern: "GET " + p + "/sandbox/files/{name}/download", Tag: tag, Summary: "Download a file (application/octet-stream, streamed)", Query: path("the file (required)")},
		{Pattern: "GET " + p + "/logs/sandbox/{name}", Tag: tag, Summary: "The sandbox's log: the output of its start command, tail-able; follow=true streams it as text/plain until the client leaves (409 unless running)",
			Query: []openapi.Param{{Name: "tailLines", Type: "integer", Description: "last lines (default 200, at most 2000)"},
				{Name: "follow", Type: "boolean", Description: "stream the lines as text/plain, then new ones as they come"}}, Response: logsResult{}, Stream: true},
		{Pattern: "GET " + p + "/events", Tag: tag, Summary: "Sandbox lifecycle events, newest first",
			Query: []openapi.Param{{Name: "sandbox", Type: "string", Description: "one sandbox's"}, {Name: "limit", Type: "integer", Description: "default 100, at most 500"}}, Response: eventsResult{}},
		{Pattern: "GET " + p + "/config/templates", Tag: tag, Summary: "The templates, as Agent-Sandbox's templates.json"},
		{Pattern: "POST " + p + "/config/templates", Tag: tag, Summary: "Replace the templates file with a JSON array (validated as a whole) (admin role; a user gets 403)", Response: ""},
		{Pattern: "GET " + p + "/config/sandbox-template", Tag: tag, Summary: "The defaults sandboxes are made from (the base template)", Response: sandboxTemplate{}},
		{Pattern: "POST " + p + "/config/sandbox-template", Tag: tag, Summary: "Replace the defaults; ReplicaSet YAML and its fields are refused by name (admin role; a user gets 403)", Request: sandboxTemplate{}, Required: []string{"image"}, Response: ""},
		{Pattern: "GET " + p + "/pool", Tag: tag, Summary: "Templates with a warm pool, with pool.readySize", Response: []poolTemplate{}},
		{Pattern: "GET " + p + "/pool/sandbox/{name}", Tag: tag, Summary: "The warm sandboxes of a template's pool", Response: []warmSandbox{}},
		{Pattern: "DELETE " + p + "/pool/{name}", Tag: tag, Summary: "Drain a template's pool and refill it (admin role; a user gets 403)", Response: ""},
	}
	for i := range ops {
		ops[i].Description = envelopeNote
	}
	return ops
}
