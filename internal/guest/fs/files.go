package fs

import (
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guestproto"
)

// unauthorizedMsg is envd's message for a request with neither token nor signature.
const unauthorizedMsg = "unauthorized access, please provide a valid access token or method signing if supported"

// filesHandler serves GET and POST /files.
type filesHandler struct {
	settings *guestenv.Settings
	log      *slog.Logger
}

// NewFilesHandler returns the /files handler: GET (and HEAD) downloads, POST uploads. It
// checks the access token or URL signature itself. A nil logger discards logs.
func NewFilesHandler(settings *guestenv.Settings, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &filesHandler{settings: settings, log: logger.With("svc", "files")}
}

func (h *filesHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var err error
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		err = h.download(w, r)
	case http.MethodPost:
		err = h.upload(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		err = &statusError{http.StatusMethodNotAllowed, "method " + r.Method + " not allowed"}
	}
	if err != nil {
		h.writeError(w, r, err)
	}
}

// writeError answers with envd's file error shape, {"message", "code"}.
func (h *filesHandler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg, public := httpStatus(err)
	if !public {
		h.log.LogAttrs(r.Context(), slog.LevelError, "files request failed",
			slog.String("op", r.Method+" /files"), slog.Any("err", err))
	}
	writeJSON(w, status, map[string]any{"message": msg, "code": status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// authorize checks the access token, or else the URL signature for operation, and returns
// the acting user: the username query parameter if set, else the request's caller.
func (h *filesHandler) authorize(r *http.Request, operation string) (*guestenv.User, error) {
	q := r.URL.Query()
	username := q.Get("username")
	if token := h.settings.AccessToken(); token != "" {
		got := strings.TrimSpace(r.Header.Get(guestproto.AccessTokenHeader))
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			if err := checkSignature(q.Get("path"), operation, username, token, q.Get("signature"), q.Get("signature_expiration")); err != nil {
				return nil, err
			}
		}
	}
	if username != "" {
		return guestenv.LookupUser(username)
	}
	return h.settings.Caller(r.Header)
}

// checkSignature verifies a presigned URL's signature and expiration (unix seconds).
func checkSignature(path, operation, user, token, sig, exp string) error {
	if sig == "" {
		return errdefs.New(errdefs.ErrUnauthenticated, unauthorizedMsg)
	}
	var expiration int64
	if exp != "" {
		n, err := strconv.ParseInt(exp, 10, 64)
		if err != nil {
			return errdefs.New(errdefs.ErrUnauthenticated, "invalid signature_expiration %q", exp)
		}
		if time.Now().Unix() > n {
			return errdefs.New(errdefs.ErrUnauthenticated, "signature is already expired")
		}
		expiration = n
	}
	want := guestproto.Sign(path, operation, user, token, expiration)
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return errdefs.New(errdefs.ErrUnauthenticated, "invalid signature")
	}
	return nil
}
