package fs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	pb "github.com/paddock/paddock/proto/filesystem"
)

// maxPolledEvents bounds what a polling watcher buffers between fetches; the oldest events
// are dropped first.
const maxPolledEvents = 10000

// openWatch resolves a watch request and starts its watcher, unless the service is closed.
func (s *Service) openWatch(h http.Header, opts watchOptions) (*watcher, error) {
	select {
	case <-s.closed:
		return nil, errdefs.Unavailable("the filesystem service is shutting down")
	default:
	}
	p, _, err := s.resolve(h, opts.GetPath())
	if err != nil {
		return nil, err
	}
	return openWatcher(p, opts)
}

// WatchDir implements filesystemconnect.FilesystemHandler. The stream starts with a start
// event, then carries filesystem events and, after Keepalive-Ping-Interval seconds without
// any, keepalives. It ends with the request or when the service closes.
func (s *Service) WatchDir(ctx context.Context, req *connect.Request[pb.WatchDirRequest], stream *connect.ServerStream[pb.WatchDirResponse]) error {
	w, err := s.openWatch(req.Header(), req.Msg)
	if err != nil {
		return s.rpcError(ctx, "watch dir", err)
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
		case <-s.closed:
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
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return nil
			}
			s.log.LogAttrs(ctx, slog.LevelWarn, "watch", slog.String("path", w.root), slog.Any("err", err))
		case <-tick.C:
			if err := stream.Send(&pb.WatchDirResponse{Event: &pb.WatchDirResponse_Keepalive{Keepalive: &pb.WatchDirResponse_KeepAlive{}}}); err != nil {
				return err
			}
		}
	}
}

// pollWatcher buffers events for clients that fetch them with GetWatcherEvents.
type pollWatcher struct {
	w    *watcher
	log  *slog.Logger
	done chan struct{} // closed by stop; ends run
	once sync.Once

	mu     sync.Mutex
	events []*pb.FilesystemEvent // guarded by mu
}

// run collects events until stop.
func (pw *pollWatcher) run() {
	for {
		select {
		case <-pw.done:
			return
		case ev, ok := <-pw.w.fsw.Events:
			if !ok {
				return
			}
			pw.add(pw.w.convert(ev))
		case err, ok := <-pw.w.fsw.Errors:
			if !ok {
				return
			}
			pw.log.Warn("watch", "path", pw.w.root, "err", err)
		}
	}
}

// add buffers evs, dropping the oldest events beyond maxPolledEvents.
func (pw *pollWatcher) add(evs []*pb.FilesystemEvent) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	pw.events = append(pw.events, evs...)
	if over := len(pw.events) - maxPolledEvents; over > 0 {
		pw.events = append(pw.events[:0:0], pw.events[over:]...)
	}
}

// take returns and forgets the buffered events.
func (pw *pollWatcher) take() []*pb.FilesystemEvent {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	evs := pw.events
	pw.events = nil
	return evs
}

// stop ends run and releases the watcher. Idempotent.
func (pw *pollWatcher) stop() {
	pw.once.Do(func() {
		close(pw.done)
		pw.w.close()
	})
}

// CreateWatcher implements filesystemconnect.FilesystemHandler. The watcher buffers events
// until RemoveWatcher or Close.
func (s *Service) CreateWatcher(ctx context.Context, req *connect.Request[pb.CreateWatcherRequest]) (*connect.Response[pb.CreateWatcherResponse], error) {
	w, err := s.openWatch(req.Header(), req.Msg)
	if err != nil {
		return nil, s.rpcError(ctx, "create watcher", err)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	pw := &pollWatcher{w: w, log: s.log, done: make(chan struct{})}
	s.mu.Lock()
	select {
	case <-s.closed: // Close ran since openWatch
		s.mu.Unlock()
		w.close()
		return nil, s.rpcError(ctx, "create watcher", errdefs.Unavailable("the filesystem service is shutting down"))
	default:
	}
	s.watchers[id] = pw
	s.mu.Unlock()
	go pw.run()
	return connect.NewResponse(&pb.CreateWatcherResponse{WatcherId: id}), nil
}

// watcher returns the polling watcher id, or ErrNotFound.
func (s *Service) watcher(id string) (*pollWatcher, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pw, ok := s.watchers[id]
	if !ok {
		return nil, errdefs.NotFound("watcher %s not found", id)
	}
	return pw, nil
}

// GetWatcherEvents implements filesystemconnect.FilesystemHandler: it returns the events
// buffered since the last call.
func (s *Service) GetWatcherEvents(ctx context.Context, req *connect.Request[pb.GetWatcherEventsRequest]) (*connect.Response[pb.GetWatcherEventsResponse], error) {
	pw, err := s.watcher(req.Msg.GetWatcherId())
	if err != nil {
		return nil, s.rpcError(ctx, "get watcher events", err)
	}
	return connect.NewResponse(&pb.GetWatcherEventsResponse{Events: pw.take()}), nil
}

// RemoveWatcher implements filesystemconnect.FilesystemHandler. An unknown ID is not_found.
func (s *Service) RemoveWatcher(ctx context.Context, req *connect.Request[pb.RemoveWatcherRequest]) (*connect.Response[pb.RemoveWatcherResponse], error) {
	id := req.Msg.GetWatcherId()
	s.mu.Lock()
	pw, ok := s.watchers[id]
	delete(s.watchers, id)
	s.mu.Unlock()
	if !ok {
		return nil, s.rpcError(ctx, "remove watcher", errdefs.NotFound("watcher %s not found", id))
	}
	pw.stop()
	return connect.NewResponse(&pb.RemoveWatcherResponse{}), nil
}
