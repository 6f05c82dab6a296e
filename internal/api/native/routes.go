// Package native is Paddock's own HTTP surface at the root: the agentkernel API (runs,
// sandboxes, exec, files, audit logs, batch). It translates requests into manager calls and
// answers with the {"success","data","error"} envelope.
package native

import (
	"net/http"

	"github.com/paddock/paddock/internal/api/httpx"
)

// Routes lists every route of this surface; the OpenAPI test checks the document against it.
func (a *API) Routes() map[string]httpx.HandlerFunc {
	return map[string]httpx.HandlerFunc{
		"GET /health":                              a.health,
		"POST /run":                                a.run,
		"POST /run/stream":                         a.runStream,
		"POST /batch/run":                          a.batchRun,
		"GET /sandboxes":                           a.listSandboxes,
		"POST /sandboxes":                          a.createSandbox,
		"GET /sandboxes/{name}":                    a.getSandbox,
		"DELETE /sandboxes/{name}":                 a.deleteSandbox,
		"POST /sandboxes/{name}/stop":              a.stopSandbox,
		"POST /sandboxes/{name}/start":             a.startSandbox,
		"POST /sandboxes/{name}/extend":            a.extendSandbox,
		"POST /sandboxes/{name}/exec":              a.exec,
		"POST /sandboxes/{name}/exec/stream":       a.execStream,
		"GET /sandboxes/{name}/exec/attach":        a.attach,
		"PUT /sandboxes/{name}/files/{path...}":    a.writeFile,
		"GET /sandboxes/{name}/files/{path...}":    a.readFile,
		"DELETE /sandboxes/{name}/files/{path...}": a.deleteFile,
		"POST /sandboxes/{name}/download-url":      a.downloadURL,
		"GET /sandboxes/{name}/logs":               a.sandboxLogs,
		"PUT /sandboxes/{name}/network":            a.setNetwork,
		"GET /images":                              a.listImages,
		"POST /images/pull":                        a.pullImage,
		"DELETE /images/{ref...}":                  a.removeImage,
		"POST /images/import":                      a.importImage,
		"POST /images/prune":                       a.pruneImages,
		"GET /events":                              a.listEvents,
		"GET /templates":                           a.listTemplates,
		"GET /templates/{name}":                    a.getTemplate,
		"PUT /templates":                           a.putTemplates,
	}
}

// heavyRoutes move files or buffer outputs: they run under Options.Heavy.
var heavyRoutes = map[string]bool{
	"POST /run": true, "POST /batch/run": true, "POST /sandboxes/{name}/exec": true,
	"PUT /sandboxes/{name}/files/{path...}": true, "GET /sandboxes/{name}/files/{path...}": true,
}

// Register mounts every route on mux.
func (a *API) Register(mux *http.ServeMux) {
	ad := httpx.Adapter{Log: a.log, Write: writeError}
	for pattern, h := range a.Routes() {
		if heavyRoutes[pattern] && a.opts.Heavy != nil {
			h = a.opts.Heavy.Wrap(h)
		}
		mux.Handle(pattern, ad.Wrap(h))
	}
}
