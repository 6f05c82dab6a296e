package native

import (
	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/api/openapi"
)

// Operations documents every route of Routes for the OpenAPI document.
func (a *API) Operations() []openapi.Operation {
	q := func(name, desc, typ string) openapi.Param {
		return openapi.Param{Name: name, Description: desc, Type: typ}
	}
	eventQuery := []openapi.Param{q("sandbox", "only this sandbox's events", "string"), q("type", "only this event type", "string"),
		q("since", "RFC 3339 time, inclusive", "string"), q("until", "RFC 3339 time, exclusive", "string"),
		q("limit", "1-10000 (default 1000)", "integer")}
	return []openapi.Operation{
		{Pattern: "GET /health", Tag: "health", Summary: "Server health and version", Public: true,
			Response: apitype.Health{}},
		{Pattern: "POST /run", Tag: "run", Summary: "Run a command in a fresh sandbox, then delete it",
			Description: "fast (default true) takes a warm sandbox matching image and profile; fast:false creates a dedicated one.",
			Request:     apitype.RunRequest{}, Required: []string{"command"}, Response: apitype.ExecResult{}},
		{Pattern: "POST /run/stream", Tag: "run", Summary: "Run a command, streaming server-sent events", Stream: true,
			Description: "Events: started {sandbox}, progress {stage: pulling (with ref, layer, index, layers, current, total, done, cached; only while the image is pulled)|creating|starting|executing}, output {content, stream}, done {exit_code}, error {message}.",
			Request:     apitype.RunRequest{}, Required: []string{"command"}},
		{Pattern: "POST /batch/run", Tag: "run", Summary: "Run many commands in parallel, results in input order",
			Request: apitype.BatchRequest{}, Required: []string{"commands"}, Response: apitype.BatchResponse{}},
		{Pattern: "GET /sandboxes", Tag: "sandboxes", Summary: "List sandboxes", Response: []apitype.Sandbox{}},
		{Pattern: "POST /sandboxes", Tag: "sandboxes", Summary: "Create a sandbox", Status: 201,
			Request: apitype.CreateRequest{}, Required: []string{"name"}, Response: apitype.Sandbox{}},
		{Pattern: "GET /sandboxes/{name}", Tag: "sandboxes", Summary: "Describe a sandbox (by name or ID)", Response: apitype.Sandbox{}},
		{Pattern: "DELETE /sandboxes/{name}", Tag: "sandboxes", Summary: "Delete a sandbox and everything in it", Response: apitype.Deleted{}},
		{Pattern: "POST /sandboxes/{name}/stop", Tag: "sandboxes", Summary: "Stop a sandbox, keeping its filesystem", Response: apitype.Sandbox{}},
		{Pattern: "POST /sandboxes/{name}/start", Tag: "sandboxes", Summary: "Start a stopped sandbox", Response: apitype.Sandbox{}},
		{Pattern: "POST /sandboxes/{name}/extend", Tag: "sandboxes", Summary: "Move the sandbox's expiry", Request: apitype.ExtendRequest{}, Required: []string{"by"}, Response: apitype.Sandbox{}},
		{Pattern: "POST /sandboxes/{name}/exec", Tag: "exec", Summary: "Run a command in a running sandbox",
			Request: apitype.ExecRequest{}, Required: []string{"command"}, Response: apitype.ExecResult{}},
		{Pattern: "POST /sandboxes/{name}/exec/stream", Tag: "exec", Summary: "Run a command, streaming server-sent events (Paddock extension)",
			Request: apitype.ExecRequest{}, Required: []string{"command"}, Stream: true},
		{Pattern: "GET /sandboxes/{name}/exec/attach", Tag: "exec", Summary: "Interactive process over a WebSocket (Paddock extension)",
			Description: "Upgrade to a WebSocket; send AttachStart {command, env, cwd, user, tty, rows, cols} first, then " +
				"messages {type: stdin|resize|eof|signal}; receive {type: output|exit|error}. data fields are base64."},
		{Pattern: "PUT /sandboxes/{name}/files/{path...}", Tag: "files", Summary: "Write a file (utf8 or base64 content)",
			Description: "JSON content is at most max-file-bytes. With Content-Type: application/octet-stream the body is the file's bytes, streamed, any size.",
			Request:     apitype.FileWrite{}, Required: []string{"content"}, Response: apitype.FileWritten{}},
		{Pattern: "GET /sandboxes/{name}/files/{path...}", Tag: "files", Summary: "Read a file (binary content comes back base64)",
			Description: "413 past max-file-bytes. With Accept: application/octet-stream or ?raw=1 the answer is the file's bytes, streamed, any size.",
			Query: []openapi.Param{q("raw", "1: answer the file's bytes instead of JSON", "string"),
				q("download", "a download URL's token (from POST /sandboxes/{name}/download-url): the request needs no key", "string")},
			Response: apitype.File{}},
		{Pattern: "POST /sandboxes/{name}/download-url", Tag: "files", Summary: "A short-lived URL that downloads a file without the key (Paddock extension)",
			Description: "The URL (relative to the server) answers GET with the file's bytes, streamed, as the caller who asked, for expires_in seconds (default 60, at most 300); " +
				"it names one file of one sandbox. 404 when the caller cannot read the file now; 503 on a server without login tokens.",
			Request: apitype.DownloadURLRequest{}, Required: []string{"path"}, Response: apitype.DownloadURL{}},
		{Pattern: "DELETE /sandboxes/{name}/files/{path...}", Tag: "files", Summary: "Delete a file or directory", Response: apitype.Deleted{}},
		{Pattern: "PUT /sandboxes/{name}/network", Tag: "sandboxes", Summary: "Replace the egress policy (allow_out, deny_out)",
			Description: "Entries are CIDRs, IP addresses, domain names or *.wildcards; the most specific rule wins, deny wins ties; " +
				"without a match public addresses are allowed and private ones denied. Applies at once to a running sandbox " +
				"(open connections are kept) and at the next start of a stopped one; 409 for a sandbox with network none.",
			Request: apitype.NetworkPolicy{}, Response: apitype.Sandbox{}},
		{Pattern: "GET /sandboxes/{name}/logs", Tag: "audit", Summary: "The sandbox's audit events, oldest first", Response: []apitype.AuditEvent{}},
		{Pattern: "GET /images", Tag: "images", Summary: "List images (built-in and pulled)", Response: []apitype.Image{}},
		{Pattern: "POST /images/pull", Tag: "images", Summary: "Pull an OCI image (no-op when present) (admin role; a user gets 403)",
			Description: "With Accept: text/event-stream: progress {stage: pulling, ref, layer, index, layers, current, total, done, cached} events, then done {ref, layers} or error {message}.",
			Request:     apitype.PullRequest{}, Required: []string{"ref"}, Response: apitype.Image{}},
		{Pattern: "DELETE /images/{ref...}", Tag: "images", Summary: "Remove an image and the layers only it used (never layers a sandbox uses) (admin role; a user gets 403)",
			Response: apitype.Deleted{}},
		{Pattern: "POST /images/import", Tag: "images", Summary: "Import an image archive sent as the body (admin role; a user gets 403)",
			Description: "Body: a docker save tarball, an OCI image layout tar or a root filesystem tar, optionally gzipped; streamed to disk, at most max-import-bytes (413 beyond).",
			Query:       []openapi.Param{q("name", "reference to store the image as, e.g. myimage:1 (required)", "string")}, Response: apitype.Image{}},
		{Pattern: "POST /images/prune", Tag: "images", Summary: "Remove layers no image references (never layers a sandbox uses) (admin role; a user gets 403)", Response: apitype.PruneResult{}},
		{Pattern: "GET /events", Tag: "audit", Summary: "All audit events, filtered", Query: eventQuery, Response: []apitype.AuditEvent{}},
		{Pattern: "GET /templates", Tag: "templates", Summary: "List sandbox templates (built-in and from the templates file)",
			Response: []apitype.Template{}},
		{Pattern: "GET /templates/{name}", Tag: "templates", Summary: "Describe one template", Response: apitype.Template{}},
		{Pattern: "PUT /templates", Tag: "templates", Summary: "Replace the templates file with a list of templates (admin role; a user gets 403)",
			Description: "The list is validated as a whole (400 names the template and field) and written atomically; " +
				"built-ins it leaves out stay, entries identical to a built-in are not written, source is ignored. " +
				"Warm pools follow the new templates.",
			Request: []apitype.Template{}, Response: []apitype.Template{}},
	}
}

// Envelope wraps a data schema in the surface's envelope, for the OpenAPI document.
func Envelope(data map[string]any) map[string]any {
	return map[string]any{"type": "object", "properties": map[string]any{
		"success": map[string]any{"type": "boolean"}, "data": data, "error": map[string]any{"type": "string"}}}
}
