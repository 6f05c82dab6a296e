package fs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/fsnotify/fsnotify"

	"github.com/paddock/paddock/internal/guest/guestenv"
	pb "github.com/paddock/paddock/proto/filesystem"
)

// maxPolledEvents bounds what a polling watcher buffers between fetches.
const maxPolledEvents = 10000

// watcher turns fsnotify events under root into protocol events.
type watcher struct {
	root      string
	recursive bool
	entries   bool
	fsw       *fsnotify.Watcher
}

func newWatcher(root string, recursive, includeEntry bool) (*watcher, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fsError(err, root)
	}
	if !fi.IsDir() {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New(root+" is not a directory"))
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, connect.NewError(connect.CodeResourceExhausted, err)
	}
	w := &watcher{root: root, recursive: recursive, entries: includeEntry, fsw: fsw}
	if err := w.add(root); err != nil {
		fsw.Close()
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	return w, nil
}

// add watches dir and, when recursive, every directory below it.
func (w *watcher) add(dir string) error {
	if !w.recursive {
		return w.fsw.Add(dir)
	}
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = w.fsw.Add(p)
		}
		return nil
	})
}

// convert turns one fsnotify event into protocol events, in envd's order.
func (w *watcher) convert(ev fsnotify.Event) []*pb.FilesystemEvent {
	rel, err := filepath.Rel(w.root, ev.Name)
	if err != nil {
		return nil
	}
	var out []*pb.FilesystemEvent
	add := func(op fsnotify.Op, t pb.EventType, withEntry bool) {
		if !ev.Has(op) {
			return
		}
		fe := &pb.FilesystemEvent{Name: rel, Type: t}
		if withEntry && w.entries {
			if e, err := entryInfo(ev.Name); err == nil {
				fe.Entry = e
			}
		}
		out = append(out, fe)
	}
	add(fsnotify.Create, pb.EventType_EVENT_TYPE_CREATE, true)
	add(fsnotify.Rename, pb.EventType_EVENT_TYPE_RENAME, false)
	add(fsnotify.Chmod, pb.EventType_EVENT_TYPE_CHMOD, true)
	add(fsnotify.Write, pb.EventType_EVENT_TYPE_WRITE, true)
	add(fsnotify.Remove, pb.EventType_EVENT_TYPE_REMOVE, false)
	if w.recursive && ev.Has(fsnotify.Create) {
		if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
			_ = w.add(ev.Name)
		}
	}
	return out
}

func (w *watcher) close() { _ = w.fsw.Close() }

// WatchDir implements filesystemconnect.FilesystemHandler.
func (s *Service) WatchDir(ctx context.Context, req *connect.Request[pb.WatchDirRequest], stream *connect.ServerStream[pb.WatchDirResponse]) error {
	p, _, err := s.resolve(req.Header(), req.Msg.GetPath())
	if err != nil {
		return err
	}
	w, err := newWatcher(p, req.Msg.GetRecursive(), req.Msg.GetIncludeEntry())
	if err != nil {
		return err
	}
	defer w.close()
	if err := stream.Send(&pb.WatchDirResponse{Event: &pb.WatchDirResponse_Start{Start: &pb.WatchDirResponse_StartEvent{}}}); err != nil {
		return err
	}
	keepalive := guestenv.Keepalive(req.Header())
	tick := time.NewTicker(keepalive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return nil
			}
			for _, fe := range w.convert(ev) {
				if err := stream.Send(&pb.WatchDirResponse{Event: &pb.WatchDirResponse_Filesystem{Filesystem: fe}}); err != nil {
					return err
				}
			}
			tick.Reset(keepalive)
		case err := <-w.fsw.Errors:
			s.log.Warn("watch", "path", p, "err", err)
		case <-tick.C:
			if err := stream.Send(&pb.WatchDirResponse{Event: &pb.WatchDirResponse_Keepalive{Keepalive: &pb.WatchDirResponse_KeepAlive{}}}); err != nil {
				return err
			}
		}
	}
}

// pollWatcher buffers events for clients that fetch them with GetWatcherEvents.
type pollWatcher struct {
	w      *watcher
	mu     sync.Mutex
	events []*pb.FilesystemEvent
	done   chan struct{}
}

func (pw *pollWatcher) run() {
	for {
		select {
		case <-pw.done:
			return
		case ev, ok := <-pw.w.fsw.Events:
			if !ok {
				return
			}
			pw.mu.Lock()
			pw.events = append(pw.events, pw.w.convert(ev)...)
			if over := len(pw.events) - maxPolledEvents; over > 0 {
				pw.events = pw.events[over:]
			}
			pw.mu.Unlock()
		case <-pw.w.fsw.Errors:
		}
	}
}

func (pw *pollWatcher) stop() {
	close(pw.done)
	pw.w.close()
}

// CreateWatcher implements filesystemconnect.FilesystemHandler.
func (s *Service) CreateWatcher(_ context.Context, req *connect.Request[pb.CreateWatcherRequest]) (*connect.Response[pb.CreateWatcherResponse], error) {
	p, _, err := s.resolve(req.Header(), req.Msg.GetPath())
	if err != nil {
		return nil, err
	}
	w, err := newWatcher(p, req.Msg.GetRecursive(), req.Msg.GetIncludeEntry())
	if err != nil {
		return nil, err
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	pw := &pollWatcher{w: w, done: make(chan struct{})}
	s.mu.Lock()
	s.watchers[id] = pw
	s.mu.Unlock()
	go pw.run()
	return connect.NewResponse(&pb.CreateWatcherResponse{WatcherId: id}), nil
}

// GetWatcherEvents implements filesystemconnect.FilesystemHandler.
func (s *Service) GetWatcherEvents(_ context.Context, req *connect.Request[pb.GetWatcherEventsRequest]) (*connect.Response[pb.GetWatcherEventsResponse], error) {
	s.mu.Lock()
	pw, ok := s.watchers[req.Msg.GetWatcherId()]
	s.mu.Unlock()
	if !ok {
		return nil, connect.NewError(connect.CodeNotFound, errors.New("watcher "+req.Msg.GetWatcherId()+" not found"))
	}
	pw.mu.Lock()
	evs := pw.events
	pw.events = nil
	pw.mu.Unlock()
	return connect.NewResponse(&pb.GetWatcherEventsResponse{Events: evs}), nil
}

// RemoveWatcher implements filesystemconnect.FilesystemHandler.
func (s *Service) RemoveWatcher(_ context.Context, req *connect.Request[pb.RemoveWatcherRequest]) (*connect.Response[pb.RemoveWatcherResponse], error) {
	s.mu.Lock()
	pw, ok := s.watchers[req.Msg.GetWatcherId()]
	delete(s.watchers, req.Msg.GetWatcherId())
	s.mu.Unlock()
	if !ok {
		return nil, connect.NewError(connect.CodeNotFound, errors.New("watcher "+req.Msg.GetWatcherId()+" not found"))
	}
	pw.stop()
	return connect.NewResponse(&pb.RemoveWatcherResponse{}), nil
}
