// Package fs is the guest's filesystem service and its /files endpoint, implementing E2B
// envd's filesystem.Filesystem and file transfer on the wire. The guest runs inside the
// sandbox, so every path here is a sandbox path.
package fs

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/guest/guestenv"
	pb "github.com/paddock/paddock/proto/filesystem"
	"github.com/paddock/paddock/proto/filesystem/filesystemconnect"
)

// Service implements filesystemconnect.FilesystemHandler. Safe for concurrent use.
type Service struct {
	settings *guestenv.Settings
	log      *slog.Logger

	mu       sync.Mutex
	watchers map[string]*pollWatcher
}

var _ filesystemconnect.FilesystemHandler = (*Service)(nil)

// NewService returns the filesystem service.
func NewService(settings *guestenv.Settings, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{settings: settings, log: logger, watchers: map[string]*pollWatcher{}}
}

// Close stops every polling watcher.
func (s *Service) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, w := range s.watchers {
		w.stop()
		delete(s.watchers, id)
	}
}

// resolve turns a request path into an absolute sandbox path for the caller.
func (s *Service) resolve(h http.Header, p string) (string, *guestenv.User, error) {
	u, err := s.settings.Caller(h)
	if err != nil {
		return "", nil, connect.NewError(connect.CodeUnauthenticated, err)
	}
	if p == "" {
		return "", nil, connect.NewError(connect.CodeInvalidArgument, errors.New("path is required"))
	}
	return guestenv.ResolvePath(p, u), u, nil
}

// Stat implements filesystemconnect.FilesystemHandler.
func (s *Service) Stat(_ context.Context, req *connect.Request[pb.StatRequest]) (*connect.Response[pb.StatResponse], error) {
	p, _, err := s.resolve(req.Header(), req.Msg.GetPath())
	if err != nil {
		return nil, err
	}
	e, err := entryInfo(p)
	if err != nil {
		return nil, fsError(err, p)
	}
	return connect.NewResponse(&pb.StatResponse{Entry: e}), nil
}

// MakeDir implements filesystemconnect.FilesystemHandler.
func (s *Service) MakeDir(_ context.Context, req *connect.Request[pb.MakeDirRequest]) (*connect.Response[pb.MakeDirResponse], error) {
	p, u, err := s.resolve(req.Header(), req.Msg.GetPath())
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(p); err == nil {
		if fi.IsDir() {
			return nil, connect.NewError(connect.CodeAlreadyExists, errors.New("directory "+p+" already exists"))
		}
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New(p+" exists and is not a directory"))
	}
	if err := mkdirAllAs(p, u); err != nil {
		return nil, fsError(err, p)
	}
	e, err := entryInfo(p)
	if err != nil {
		return nil, fsError(err, p)
	}
	return connect.NewResponse(&pb.MakeDirResponse{Entry: e}), nil
}

// Move implements filesystemconnect.FilesystemHandler.
func (s *Service) Move(_ context.Context, req *connect.Request[pb.MoveRequest]) (*connect.Response[pb.MoveResponse], error) {
	src, u, err := s.resolve(req.Header(), req.Msg.GetSource())
	if err != nil {
		return nil, err
	}
	dst, _, err := s.resolve(req.Header(), req.Msg.GetDestination())
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(src); err != nil {
		return nil, fsError(err, src)
	}
	if err := mkdirAllAs(filepath.Dir(dst), u); err != nil {
		return nil, fsError(err, dst)
	}
	if err := os.Rename(src, dst); err != nil {
		return nil, fsError(err, src)
	}
	e, err := entryInfo(dst)
	if err != nil {
		return nil, fsError(err, dst)
	}
	return connect.NewResponse(&pb.MoveResponse{Entry: e}), nil
}

// ListDir implements filesystemconnect.FilesystemHandler.
func (s *Service) ListDir(_ context.Context, req *connect.Request[pb.ListDirRequest]) (*connect.Response[pb.ListDirResponse], error) {
	p, _, err := s.resolve(req.Header(), req.Msg.GetPath())
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fsError(err, p)
	}
	if !fi.IsDir() {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New(p+" is not a directory"))
	}
	depth := max(req.Msg.GetDepth(), 1)
	ents, err := walk(p, depth)
	if err != nil {
		return nil, fsError(err, p)
	}
	return connect.NewResponse(&pb.ListDirResponse{Entries: ents}), nil
}

// Remove implements filesystemconnect.FilesystemHandler.
func (s *Service) Remove(_ context.Context, req *connect.Request[pb.RemoveRequest]) (*connect.Response[pb.RemoveResponse], error) {
	p, _, err := s.resolve(req.Header(), req.Msg.GetPath())
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(p); err != nil {
		return nil, fsError(err, p)
	}
	if err := os.RemoveAll(p); err != nil {
		return nil, fsError(err, p)
	}
	return connect.NewResponse(&pb.RemoveResponse{}), nil
}

// mkdirAllAs creates dir and missing parents (0755), owned by u.
func mkdirAllAs(dir string, u *guestenv.User) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return &os.PathError{Op: "mkdir", Path: dir, Err: errors.New("not a directory")}
		}
		return nil
	}
	if err := mkdirAllAs(filepath.Dir(dir), u); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	_ = os.Lchown(dir, int(u.UID), int(u.GID))
	return nil
}

// fsError maps an OS error to a connect error naming the path.
func fsError(err error, p string) error {
	switch {
	case os.IsNotExist(err):
		return connect.NewError(connect.CodeNotFound, errors.New("path "+p+" not found"))
	case os.IsPermission(err):
		return connect.NewError(connect.CodePermissionDenied, errors.New("permission denied: "+p))
	case os.IsExist(err):
		return connect.NewError(connect.CodeAlreadyExists, errors.New(p+" already exists"))
	}
	return connect.NewError(connect.CodeInternal, err)
}
