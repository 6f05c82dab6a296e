// Package httpx holds what every HTTP surface shares: error-returning handlers, the one table
// mapping error classes to status codes, strict JSON decoding, request IDs and SSE.
package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
)

// ErrTooLarge is the class of a request body over its limit (413).
var ErrTooLarge = errdefs.ErrTooLarge

// Status maps an error class to an HTTP status code. Unclassed errors are 500.
func Status(err error) int {
	switch {
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errdefs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errdefs.ErrAlreadyExists), errors.Is(err, errdefs.ErrFailedPrecondition):
		return http.StatusConflict
	case errors.Is(err, errdefs.ErrInvalidArgument):
		return http.StatusBadRequest
	case errors.Is(err, errdefs.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, errdefs.ErrPermissionDenied):
		return http.StatusForbidden
	case errors.Is(err, errdefs.ErrResourceExhausted):
		return http.StatusTooManyRequests
	case errors.Is(err, errdefs.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// PublicMessage is what a client may see of err: its own message for classed errors (the
// public part of one made by errdefs.Hide), a generic one (with the request ID to quote) for
// internal failures.
func PublicMessage(err error, reqID string) string {
	if Status(err) == http.StatusInternalServerError {
		return "internal error (request " + reqID + ")"
	}
	if msg, ok := errdefs.PublicMessage(err); ok {
		return msg
	}
	return err.Error()
}

// ErrorWriter writes a surface's error shape.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, status int, msg string)

// HandlerFunc is a handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Adapter turns HandlerFuncs into http.Handlers that log internal errors once, with the
// request ID, and answer with the surface's error shape.
type Adapter struct {
	Log   *slog.Logger
	Write ErrorWriter
}

// Wrap adapts h.
func (a Adapter) Wrap(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		status := Status(err)
		id := RequestID(r.Context())
		if status >= 500 {
			a.Log.Error("request failed", "req", id, "method", r.Method, "path", r.URL.Path, "err", err)
		}
		a.Write(w, r, status, PublicMessage(err, id))
	})
}

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Decode reads a JSON body of at most limit bytes into v, rejecting unknown fields (strict
// surfaces) and trailing data. An empty body decodes to v's zero value when allowEmpty.
func Decode(w http.ResponseWriter, r *http.Request, v any, limit int64, strict, allowEmpty bool) error {
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return fmt.Errorf("body exceeds %d bytes: %w", limit, ErrTooLarge)
		case errors.Is(err, io.EOF) && allowEmpty:
			return nil
		case errors.Is(err, io.EOF):
			return errdefs.InvalidArgument("request body is empty: a JSON object is required")
		case errors.As(err, &syn):
			return errdefs.InvalidArgument("invalid JSON at byte %d: %v", syn.Offset, err)
		case errors.As(err, &typ):
			return errdefs.InvalidArgument("field %q: expected %s, got %s", typ.Field, typ.Type, typ.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return errdefs.InvalidArgument("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return errdefs.InvalidArgument("invalid JSON body: %v", err)
	}
	if dec.More() {
		return errdefs.InvalidArgument("invalid JSON body: unexpected data after the object")
	}
	return nil
}

type reqIDKey struct{}

// RequestID returns the request's ID ("" outside WithRequestID).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(reqIDKey{}).(string)
	return id
}

// WithRequestID gives every request an ID (the caller's X-Request-Id when sane), echoes it in
// the response, and logs the request when it ends.
func WithRequestID(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 || strings.ContainsAny(id, " \t\r\n\"") {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), reqIDKey{}, id)))
	})
}

// Seconds converts a duration given in seconds (a JSON number) for field, refusing negative
// values and values above max, which could also overflow a time.Duration.
func Seconds(field string, s float64, max time.Duration) (time.Duration, error) {
	switch {
	case s < 0:
		return 0, errdefs.InvalidArgument("%s must not be negative", field)
	case s > max.Seconds():
		return 0, errdefs.InvalidArgument("%s %s is too large (max %s seconds)", field,
			strconv.FormatFloat(s, 'f', -1, 64), strconv.FormatFloat(max.Seconds(), 'f', -1, 64))
	}
	return time.Duration(s * float64(time.Second)), nil
}
