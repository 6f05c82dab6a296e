// Package fs is the guest's filesystem service and its /files endpoint, implementing E2B
// envd's filesystem.Filesystem and file transfer on the wire. The guest runs inside the
// sandbox, so every path here is a sandbox path.
package fs

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	pb "github.com/paddock/paddock/proto/filesystem"
	"github.com/paddock/paddock/proto/filesystem/filesystemconnect"
)

// Service implements filesystemconnect.FilesystemHandler. Safe for concurrent use.
type Service struct {
	settings *guestenv.Settings
	log      *slog.Logger

	closed    chan struct{} // closed by Close; ends WatchDir streams
	closeOnce sync.Once

	mu       sync.Mutex
	watchers map[string]*pollWatcher // polling watchers by ID; each owns its run goroutine
}

var _ filesystemconnect.FilesystemHandler = (*Service)(nil)

// NewService returns the filesystem service. A nil logger discards logs.
func NewService(settings *guestenv.Settings, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		settings: settings,
		log:      logger.With("svc", "filesystem"),
		closed:   make(chan struct{}),
		watchers: map[string]*pollWatcher{},
	}
}

// Close stops every polling watcher and ends open WatchDir streams. Later watch requests
// fail with unavailable. Idempotent.
func (s *Service) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.mu.Lock()
	ws := s.watchers
	s.watchers = map[string]*pollWatcher{}
	s.mu.Unlock()
	for _, w := range ws {
		w.stop()
	}
}

// resolve turns a request path into an absolute sandbox path for the calling user.
func (s *Service) resolve(h http.Header, p string) (string, *guestenv.User, error) {
	u, err := s.settings.Caller(h)
	if err != nil {
		return "", nil, err
	}
	if p == "" {
		return "", nil, errdefs.InvalidArgument("path is required")
	}
	return guestenv.ResolvePath(p, u), u, nil
}

// Stat implements filesystemconnect.FilesystemHandler. A symlink is described itself, not
// its target.
func (s *Service) Stat(ctx context.Context, req *connect.Request[pb.StatRequest]) (*connect.Response[pb.StatResponse], error) {
	p, _, err := s.resolve(req.Header(), req.Msg.GetPath())
	if err != nil {
		return nil, s.rpcError(ctx, "stat", err)
	}
	e, err := entryInfo(p)
	if err != nil {
		return nil, s.rpcError(ctx, "stat", err)
	}
	return connect.NewResponse(&pb.StatResponse{Entry: e}), nil
}

// MakeDir implements filesystemconnect.FilesystemHandler: it creates the directory and its
// missing parents, owned by the caller.
func (s *Service) MakeDir(ctx context.Context, req *connect.Request[pb.MakeDirRequest]) (*connect.Response[pb.MakeDirResponse], error) {
	p, u, err := s.resolve(req.Header(), req.Msg.GetPath())
	if err != nil {
		return nil, s.rpcError(ctx, "make dir", err)
	}
	if fi, err := os.Stat(p); err == nil {
		if fi.IsDir() {
			return nil, s.rpcError(ctx, "make dir", errdefs.AlreadyExists("directory %s already exists", p))
		}
		return nil, s.rpcError(ctx, "make dir", errdefs.InvalidArgument("path %s exists and is not a directory", p))
	}
	if err := mkdirAllAs(p, u); err != nil {
		return nil, s.rpcError(ctx, "make dir", err)
	}
	e, err := entryInfo(p)
	if err != nil {
		return nil, s.rpcError(ctx, "make dir", err)
	}
	return connect.NewResponse(&pb.MakeDirResponse{Entry: e}), nil
}

// Move implements filesystemconnect.FilesystemHandler: it renames source to destination,
// creating the destination's parents.
func (s *Service) Move(ctx context.Context, req *connect.Request[pb.MoveRequest]) (*connect.Response[pb.MoveResponse], error) {
	src, u, err := s.resolve(req.Header(), req.Msg.GetSource())
	if err != nil {
		return nil, s.rpcError(ctx, "move", err)
	}
	dst, _, err := s.resolve(req.Header(), req.Msg.GetDestination())
	if err != nil {
		return nil, s.rpcError(ctx, "move", err)
	}
	if _, err := os.Lstat(src); err != nil {
		return nil, s.rpcError(ctx, "move", lookupError(src, err))
	}
	if err := mkdirAllAs(filepath.Dir(dst), u); err != nil {
		return nil, s.rpcError(ctx, "move", err)
	}
	if err := os.Rename(src, dst); err != nil {
		return nil, s.rpcError(ctx, "move", osError("rename", dst, err))
	}
	e, err := entryInfo(dst)
	if err != nil {
		return nil, s.rpcError(ctx, "move", err)
	}
	return connect.NewResponse(&pb.MoveResponse{Entry: e}), nil
}

// ListDir implements filesystemconnect.FilesystemHandler. Depth 0 means 1; deeper levels
// are listed with full paths, without descending into symlinked directories.
func (s *Service) ListDir(ctx context.Context, req *connect.Request[pb.ListDirRequest]) (*connect.Response[pb.ListDirResponse], error) {
	p, _, err := s.resolve(req.Header(), req.Msg.GetPath())
	if err != nil {
		return nil, s.rpcError(ctx, "list dir", err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, s.rpcError(ctx, "list dir", lookupError(p, err))
	}
	if !fi.IsDir() {
		return nil, s.rpcError(ctx, "list dir", errdefs.InvalidArgument("path %s is not a directory", p))
	}
	ents, err := walk(p, max(req.Msg.GetDepth(), 1), currentNames())
	if err != nil {
		return nil, s.rpcError(ctx, "list dir", err)
	}
	return connect.NewResponse(&pb.ListDirResponse{Entries: ents}), nil
}

// Remove implements filesystemconnect.FilesystemHandler: it removes a file, a symlink (not
// its target) or a whole directory tree. A path that does not exist is already removed, as
// envd answers.
func (s *Service) Remove(ctx context.Context, req *connect.Request[pb.RemoveRequest]) (*connect.Response[pb.RemoveResponse], error) {
	p, _, err := s.resolve(req.Header(), req.Msg.GetPath())
	if err != nil {
		return nil, s.rpcError(ctx, "remove", err)
	}
	if err := os.RemoveAll(p); err != nil {
		return nil, s.rpcError(ctx, "remove", osError("remove", p, err))
	}
	return connect.NewResponse(&pb.RemoveResponse{}), nil
}
