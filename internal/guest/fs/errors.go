package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"net/http"
	"syscall"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/errdefs"
)

// osError classes an OS error on path. Classed errors carry a message fit for the client;
// anything else is wrapped as is and treated as internal.
func osError(op, path string, err error) error {
	switch {
	case errors.Is(err, iofs.ErrNotExist):
		return errdefs.NotFound("path %s not found", path)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return errdefs.New(errdefs.ErrResourceExhausted, "not enough space to write %s", path)
	case errors.Is(err, iofs.ErrPermission), errors.Is(err, syscall.EROFS):
		return errdefs.New(errdefs.ErrPermissionDenied, "permission denied: %s", path)
	case errors.Is(err, iofs.ErrExist):
		return errdefs.AlreadyExists("%s already exists", path)
	case errors.Is(err, syscall.ENOTDIR):
		return errdefs.InvalidArgument("%s: a path component is not a directory", path)
	case errors.Is(err, syscall.EISDIR):
		return errdefs.InvalidArgument("path %s is a directory", path)
	case errors.Is(err, syscall.EXDEV):
		return errdefs.FailedPrecondition("%s: cannot move across filesystems", path)
	case errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.EINVAL):
		return errdefs.InvalidArgument("invalid path %q", path)
	}
	return fmt.Errorf("%s %s: %w", op, path, err)
}

// lookupError is osError for finding an existing path, where a file in place of a parent
// directory means the path does not exist.
func lookupError(path string, err error) error {
	if errors.Is(err, syscall.ENOTDIR) {
		return errdefs.NotFound("path %s not found", path)
	}
	return osError("stat", path, err)
}

// connectCodes maps error classes to Connect codes; unclassed errors are internal.
var connectCodes = []struct {
	class error
	code  connect.Code
}{
	{errdefs.ErrNotFound, connect.CodeNotFound},
	{errdefs.ErrAlreadyExists, connect.CodeAlreadyExists},
	{errdefs.ErrInvalidArgument, connect.CodeInvalidArgument},
	{errdefs.ErrFailedPrecondition, connect.CodeFailedPrecondition},
	{errdefs.ErrUnauthenticated, connect.CodeUnauthenticated},
	{errdefs.ErrPermissionDenied, connect.CodePermissionDenied},
	{errdefs.ErrResourceExhausted, connect.CodeResourceExhausted},
	{errdefs.ErrTooLarge, connect.CodeResourceExhausted},
	{errdefs.ErrUnavailable, connect.CodeUnavailable},
}

// rpcError turns err into the Connect error the client sees. Internal errors are logged and
// answered with a message that names only the operation.
func (s *Service) rpcError(ctx context.Context, op string, err error) error {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce
	}
	for _, c := range connectCodes {
		if errors.Is(err, c.class) {
			return connect.NewError(c.code, err)
		}
	}
	s.log.LogAttrs(ctx, slog.LevelError, "filesystem request failed", slog.String("op", op), slog.Any("err", err))
	return connect.NewError(connect.CodeInternal, fmt.Errorf("%s failed", op))
}

// httpStatuses maps error classes to /files statuses; unclassed errors are 500.
var httpStatuses = []struct {
	class  error
	status int
}{
	{errdefs.ErrNotFound, http.StatusNotFound},
	{errdefs.ErrInvalidArgument, http.StatusBadRequest},
	{errdefs.ErrAlreadyExists, http.StatusBadRequest},
	{errdefs.ErrFailedPrecondition, http.StatusBadRequest},
	{errdefs.ErrUnauthenticated, http.StatusUnauthorized},
	{errdefs.ErrPermissionDenied, http.StatusForbidden},
	{errdefs.ErrResourceExhausted, http.StatusInsufficientStorage},
	{errdefs.ErrTooLarge, http.StatusRequestEntityTooLarge},
	{errdefs.ErrUnavailable, http.StatusServiceUnavailable},
}

// statusError is a /files answer with no error class of its own (405, 406).
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// httpStatus returns the status and public message for err; public is false for internal
// errors, whose text must not reach the client.
func httpStatus(err error) (status int, msg string, public bool) {
	var se *statusError
	if errors.As(err, &se) {
		return se.status, se.msg, true
	}
	for _, c := range httpStatuses {
		if errors.Is(err, c.class) {
			return c.status, err.Error(), true
		}
	}
	return http.StatusInternalServerError, "internal error", false
}
