package e2b

import (
	"github.com/paddock/paddock/internal/api/openapi"
	"github.com/paddock/paddock/internal/lifecycle"
)

// eventQuery is the events API's paging.
var eventQuery = []openapi.Param{
	{Name: "offset", Type: "integer", Description: "events to skip (default 0)"},
	{Name: "limit", Type: "integer", Description: "events to return, 1–100 (default 10)"},
	{Name: "orderAsc", Type: "boolean", Description: "oldest first (default false: newest first)"},
}

// Operations documents the control plane for the OpenAPI document.
func (a *API) Operations() []openapi.Operation {
	p := Prefix
	var ops []openapi.Operation
	for pattern, what := range unsupportedRoutes {
		ops = append(ops, openapi.Operation{Pattern: pattern, Tag: "e2b", Summary: "Not supported yet (501): " + what})
	}
	return append(ops, []openapi.Operation{
		{Pattern: "POST " + p + "/sandboxes", Tag: "e2b", Summary: "Create a sandbox (E2B v1)", Status: 201, Request: newSandbox{}, Response: createdView{}},
		{Pattern: "POST " + p + "/v2/sandboxes", Tag: "e2b", Summary: "Create a sandbox (E2B v2; timeout defaults to 300 s)", Status: 201, Request: newSandbox{}, Response: createdView{}},
		{Pattern: "GET " + p + "/sandboxes", Tag: "e2b", Summary: "List running sandboxes (E2B v1)", Response: []sandboxView{}},
		{Pattern: "GET " + p + "/v2/sandboxes", Tag: "e2b", Summary: "List sandboxes: state, metadata, order, startedAfter, template, limit, nextToken (X-Next-Token)", Response: []sandboxView{}},
		{Pattern: "GET " + p + "/sandboxes/{id}", Tag: "e2b", Summary: "Describe a sandbox", Response: sandboxView{}},
		{Pattern: "DELETE " + p + "/sandboxes/{id}", Tag: "e2b", Summary: "Kill a sandbox (204)", Status: 204},
		{Pattern: "POST " + p + "/sandboxes/{id}/timeout", Tag: "e2b", Summary: "Set the sandbox to end timeout seconds from now (204)", Status: 204, Request: timeoutBody{}},
		{Pattern: "POST " + p + "/sandboxes/{id}/connect", Tag: "e2b", Summary: "Connect (201), resuming a paused sandbox (memory false: from its disk only); only extends the timeout", Status: 201, Request: connectBody{}, Response: createdView{}},
		{Pattern: "POST " + p + "/v2/sandboxes/{id}/connect", Tag: "e2b", Summary: "Connect (E2B v2)", Status: 201, Request: connectBody{}, Response: createdView{}},
		{Pattern: "POST " + p + "/sandboxes/{id}/pause", Tag: "e2b", Summary: "Freeze the sandbox's processes, keeping memory and disk; memory false stops them, keeping the disk (204; 409 when paused)", Status: 204, Request: pauseBody{}},
		{Pattern: "POST " + p + "/sandboxes/{id}/resume", Tag: "e2b", Summary: "Resume a paused sandbox (201; 409 when running)", Status: 201, Request: resumeBody{}, Response: createdView{}},
		{Pattern: "POST " + p + "/sandboxes/{id}/refreshes", Tag: "e2b", Summary: "Keep the sandbox alive duration seconds more (204)", Status: 204, Request: refreshBody{}},
		{Pattern: "GET " + p + "/sandboxes/{id}/metrics", Tag: "e2b", Summary: "CPU, memory and disk use: the guest's samples between start and end (unix seconds)", Response: []metricView{},
			Query: []openapi.Param{{Name: "start", Type: "integer", Description: "unix seconds (default: the oldest sample kept)"}, {Name: "end", Type: "integer", Description: "unix seconds (default: now)"}}},
		{Pattern: "GET " + p + "/events/sandboxes", Tag: "e2b", Summary: "Lifecycle events of your sandboxes (every sandbox's for admins), newest first: offset, limit (1–100, default 10), orderAsc", Response: []lifecycle.Wire{}, Query: eventQuery},
		{Pattern: "GET " + p + "/events/sandboxes/{id}", Tag: "e2b", Summary: "One sandbox's lifecycle events, also after it was killed (404 for another user's)", Response: []lifecycle.Wire{}, Query: eventQuery},
		{Pattern: "POST " + p + "/events/webhooks", Tag: "e2b", Summary: "Register a webhook for your sandboxes' lifecycle events, signed with signatureSecret (201; the secret is never shown again)", Status: 201, Request: webhookCreate{}, Response: webhookView{}},
		{Pattern: "GET " + p + "/events/webhooks", Tag: "e2b", Summary: "Your webhooks (every user's for admins)", Response: []webhookView{}},
		{Pattern: "GET " + p + "/events/webhooks/{id}", Tag: "e2b", Summary: "One webhook", Response: webhookView{}},
		{Pattern: "PATCH " + p + "/events/webhooks/{id}", Tag: "e2b", Summary: "Change a webhook: the fields given replace the old ones", Request: webhookUpdate{}, Response: webhookView{}},
		{Pattern: "DELETE " + p + "/events/webhooks/{id}", Tag: "e2b", Summary: "Delete a webhook (200); events still queued for it are not sent"},
		{Pattern: "PUT " + p + "/sandboxes/{id}/network", Tag: "e2b", Summary: "Replace the egress policy: allowOut, denyOut, allow_internet_access (204; 409 without a network)", Status: 204, Request: networkUpdate{}},
	}...)
}
