// Package trinity is Trinity's agents surface (/api/agents): long-lived named agents with
// persistent workspaces, over package fleet. Errors are FastAPI's shape {"detail": ...};
// the server's auth middleware has already put the caller's identity (JWT or API key) on
// the request.
package trinity

import (
	"log/slog"
	"net/http"

	"github.com/paddock/paddock/internal/api/httpx"
	"github.com/paddock/paddock/internal/credential"
	"github.com/paddock/paddock/internal/fleet"
	"github.com/paddock/paddock/internal/schedule"
	"github.com/paddock/paddock/internal/sshgate"
)

// Prefix is where the surface lives (the server's error writer answers it in this shape).
const Prefix = "/api/agents"

// API serves the surface. Safe for concurrent use.
type API struct {
	svc     *fleet.Service
	maxBody int64
	log     *slog.Logger
	// SSHPort is reported as each agent's port (the SSH gateway's; 0 when there is none).
	SSHPort int
	// Schedules, Credentials and SSH serve their routes (nil: those routes answer 503);
	// SSHAddr is the gateway's host:port that SSH access answers name.
	Schedules   *schedule.Service
	Credentials *credential.Service
	SSH         *sshgate.Keys
	SSHAddr     string
}

// New returns the surface.
func New(svc *fleet.Service, maxBody int64, log *slog.Logger) *API {
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{svc: svc, maxBody: maxBody, log: log}
}

// Routes lists every route of the surface.
func (a *API) Routes() map[string]httpx.HandlerFunc {
	const p = Prefix + "/{name}"
	return map[string]httpx.HandlerFunc{
		"GET " + Prefix:                      a.list,
		"POST " + Prefix:                     a.create,
		"GET " + Prefix + "/context-stats":   a.contextStats,
		"GET " + Prefix + "/autonomy-status": a.autonomyStatus,
		"GET " + p:                           a.get,
		"DELETE " + p:                        a.delete,
		"POST " + p + "/start":               a.start,
		"POST " + p + "/stop":                a.stop,
		"PUT " + p + "/rename":               a.rename,
		"GET " + p + "/tags":                 a.getTags,
		"PUT " + p + "/tags":                 a.setTags,
		"GET " + p + "/info":                 a.info,
		"GET " + p + "/files":                a.files,
		"GET " + p + "/files/download":       a.download,
		"GET " + p + "/logs":                 a.logs,
		"GET " + p + "/stats":                a.stats,
		"GET " + p + "/timeout":              a.getTimeout,
		"PUT " + p + "/timeout":              a.setTimeout,
		"GET " + p + "/autonomy":             a.getAutonomy,
		"PUT " + p + "/autonomy":             a.setAutonomy,
		"GET " + p + "/read-only":            a.getReadOnly,
		"PUT " + p + "/read-only":            a.setReadOnly,
		"POST " + p + "/share":               a.share,
		"DELETE " + p + "/share/{email}":     a.unshare,
		"GET " + p + "/shares":               a.shares,
		"GET " + p + "/folders":              a.getFolders,
		"PUT " + p + "/folders":              a.setFolders,
		"GET " + p + "/folders/available":    a.available,
		"GET " + p + "/folders/consumers":    a.consumers,

		"GET " + p + "/schedules":                 a.listSchedules,
		"POST " + p + "/schedules":                a.createSchedule,
		"GET " + p + "/schedules/{id}":            a.getSchedule,
		"PUT " + p + "/schedules/{id}":            a.updateSchedule,
		"DELETE " + p + "/schedules/{id}":         a.deleteSchedule,
		"GET " + p + "/schedules/{id}/executions": a.scheduleExecutions,
		"GET " + p + "/executions":                a.scheduleExecutions,
		"GET " + p + "/credentials/status":        a.credentialStatus,
		"POST " + p + "/credentials/inject":       a.injectCredentials,
		"POST " + p + "/credentials/export":       a.exportCredentials,
		"POST " + p + "/credentials/import":       a.importCredentials,
		"POST " + p + "/ssh-access":               a.sshAccess,
	}
}

// Register mounts every route on mux.
func (a *API) Register(mux *http.ServeMux) {
	ad := httpx.Adapter{Log: a.log, Write: WriteError}
	for pattern, h := range a.Routes() {
		mux.Handle(pattern, ad.Wrap(h))
	}
}

// errorBody is FastAPI's error shape.
type errorBody struct {
	Detail string `json:"detail"`
}

// WriteError answers {"detail": msg}; the server's key check and route errors use it for the
// surface's paths.
func WriteError(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	httpx.WriteJSON(w, status, errorBody{Detail: msg})
}

// decode reads a JSON body; unknown fields are ignored, as FastAPI's models do.
func (a *API) decode(w http.ResponseWriter, r *http.Request, v any) error {
	return httpx.Decode(w, r, v, a.maxBody, false, false)
}

// decodeOptional is decode for a body that may be empty (v keeps what it held).
func (a *API) decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	return httpx.Decode(w, r, v, a.maxBody, false, true)
}

func ok(w http.ResponseWriter, status int, v any) error {
	httpx.WriteJSON(w, status, v)
	return nil
}
