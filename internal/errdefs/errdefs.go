// Package errdefs declares the error classes shared by every Paddock layer. Drivers and stores
// translate native errors into these at their edge; surfaces map them to status codes once.
package errdefs

import (
	"errors"
	"fmt"
)

// Error classes. Wrap them with %w and context; test with errors.Is.
var (
	ErrNotFound           = errors.New("not found")
	ErrAlreadyExists      = errors.New("already exists")
	ErrInvalidArgument    = errors.New("invalid argument")
	ErrFailedPrecondition = errors.New("failed precondition")
	ErrUnavailable        = errors.New("unavailable")
	ErrUnauthenticated    = errors.New("unauthenticated")
	ErrPermissionDenied   = errors.New("permission denied")
	ErrResourceExhausted  = errors.New("resource exhausted")
	// ErrTooLarge is a request or payload over its size limit (413).
	ErrTooLarge = errors.New("too large")
)

// classed is an error whose message is exactly what the caller wrote, while errors.Is still
// finds the class. It keeps "invalid argument: " prefixes out of user-facing messages.
type classed struct {
	class error
	msg   string
}

func (e *classed) Error() string { return e.msg }
func (e *classed) Unwrap() error { return e.class }

// New returns an error of class with the formatted message and no class prefix.
func New(class error, format string, args ...any) error {
	return &classed{class: class, msg: fmt.Sprintf(format, args...)}
}

// NotFound returns an ErrNotFound-class error with the formatted message.
func NotFound(format string, args ...any) error { return New(ErrNotFound, format, args...) }

// AlreadyExists returns an ErrAlreadyExists-class error with the formatted message.
func AlreadyExists(format string, args ...any) error {
	return New(ErrAlreadyExists, format, args...)
}

// InvalidArgument returns an ErrInvalidArgument-class error with the formatted message.
func InvalidArgument(format string, args ...any) error {
	return New(ErrInvalidArgument, format, args...)
}

// FailedPrecondition returns an ErrFailedPrecondition-class error with the formatted message.
func FailedPrecondition(format string, args ...any) error {
	return New(ErrFailedPrecondition, format, args...)
}

// Unavailable returns an ErrUnavailable-class error with the formatted message.
func Unavailable(format string, args ...any) error { return New(ErrUnavailable, format, args...) }

// IsNotFound reports whether err is of class ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// hidden is an error whose message for clients is public, while its cause (which may carry
// host paths, internal names or a driver's raw error) is kept for the log.
type hidden struct {
	class  error
	public string
	cause  error
}

// Error is the full text, for the log: the public message and the cause.
func (e *hidden) Error() string { return e.public + ": " + e.cause.Error() }

// Unwrap gives the error its class, and only its class: a class somewhere in the cause does
// not change how the error is answered.
func (e *hidden) Unwrap() error { return e.class }

// Cause is the error the public message stands for.
func (e *hidden) Cause() error { return e.cause }

// Hide returns an error of class whose message for clients is public; cause stays in the
// error's full text (Error) for the log. A nil cause yields a plain classed error.
func Hide(class error, public string, cause error) error {
	if cause == nil {
		return New(class, "%s", public)
	}
	return &hidden{class: class, public: public, cause: cause}
}

// PublicMessage returns the public message of the outermost error made by Hide in err's
// chain, and whether there is one.
func PublicMessage(err error) (string, bool) {
	var h *hidden
	if errors.As(err, &h) {
		return h.public, true
	}
	return "", false
}
