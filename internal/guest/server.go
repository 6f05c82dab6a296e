// Package guest is the daemon that runs as PID 1 inside every sandbox. It serves the E2B envd
// wire protocol (Connect RPC process and filesystem services, plain HTTP /files, /health, /envs,
// /metrics) plus the internal /init and /terminate the host uses to configure it and to stop
// its processes, the port tunnel (CONNECT /ports/{port}) through which the host reaches
// servers listening in the sandbox, the in-sandbox MCP server (/mcp) and the log of the
// sandbox's own processes (/logs).
package guest

import (
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guest/mcpserver"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/proto/filesystem/filesystemconnect"
	"github.com/paddock/paddock/proto/process/processconnect"
)

// maxInitBody bounds POST /init.
const maxInitBody = 1 << 20

// Config wires the guest's services. Nil services are not mounted.
type Config struct {
	Settings   *guestenv.Settings
	Process    processconnect.ProcessHandler
	Filesystem filesystemconnect.FilesystemHandler
	Files      http.Handler
	// Code serves the code-interpreter protocol (/execute, /contexts).
	Code http.Handler
	// OnInit runs after each POST /init has been applied.
	OnInit func(guestproto.InitRequest)
	// Terminate serves POST /terminate, the host's graceful stop.
	Terminate http.Handler
	// MCP makes the in-sandbox MCP server (served at /mcp) from the guest's routes without
	// the access-token check around them, for its tools to call in-process.
	MCP func(routes http.Handler) http.Handler
	// Logs serves GET /logs, the output of the sandbox's own processes.
	Logs   http.Handler
	Logger *slog.Logger
}

// Handler returns the guest's HTTP handler. Requests other than GET /health, GET|POST /files
// (which check tokens and signatures themselves) need X-Access-Token once a token is set.
func Handler(cfg Config) http.Handler {
	mux := http.NewServeMux()
	opts := []connect.HandlerOption{}
	if cfg.Process != nil {
		mux.Handle(processconnect.NewProcessHandler(cfg.Process, opts...))
	}
	if cfg.Filesystem != nil {
		mux.Handle(filesystemconnect.NewFilesystemHandler(cfg.Filesystem, opts...))
	}
	if cfg.Files != nil {
		mux.Handle("GET /files", cfg.Files)
		mux.Handle("POST /files", cfg.Files)
	}
	if cfg.Code != nil {
		mux.Handle("/execute", cfg.Code)
		mux.Handle("/contexts", cfg.Code)
		mux.Handle("/contexts/", cfg.Code)
	}
	mux.HandleFunc("GET /health", handleHealth)
	mux.HandleFunc("POST /init", initHandler(cfg.Settings, cfg.OnInit))
	if cfg.Terminate != nil {
		mux.Handle("POST /terminate", cfg.Terminate)
	}
	mux.HandleFunc("GET /envs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, cfg.Settings.EnvVars())
	})
	mux.HandleFunc("GET /metrics", metricsHandler())
	mux.HandleFunc("CONNECT /ports/{port}", tunnelHandler(cfg.Logger))
	if cfg.Logs != nil {
		mux.Handle("GET /logs", cfg.Logs)
	}
	if cfg.MCP != nil {
		mux.Handle(mcpserver.Path, cfg.MCP(mux))
	}
	return withAccessToken(cfg.Settings, mux)
}

func handleHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func initHandler(s *guestenv.Settings, onInit func(guestproto.InitRequest)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req guestproto.InitRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxInitBody))
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "invalid init body: "+err.Error())
			return
		}
		s.Apply(req)
		if onInit != nil {
			onInit(req)
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// withAccessToken enforces the sandbox access token. /init is protected too once a token is
// set, so code inside the sandbox cannot reconfigure its own guest.
func withAccessToken(s *guestenv.Settings, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := s.AccessToken()
		if token == "" || exempt(r) || tokenEqual(r.Header.Get(guestproto.AccessTokenHeader), token) {
			next.ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusUnauthorized,
			"unauthorized access, please provide a valid access token or method signing if supported")
	})
}

func exempt(r *http.Request) bool {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/health":
		return true
	case r.URL.Path == "/files" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		return true
	}
	return false
}

func tokenEqual(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(want)) == 1
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"code": code, "message": msg})
}
