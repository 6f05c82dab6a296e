// Package process is the guest's process service: it starts, streams, signals and lists
// processes inside the sandbox, implementing E2B envd's process.Process on the wire.
package process

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	pb "github.com/paddock/paddock/proto/process"
	"github.com/paddock/paddock/proto/process/processconnect"
)

// retainEnded is how long an exited process's end event stays available to Connect.
const retainEnded = 60 * time.Second

// Options configures a Service.
type Options struct {
	Settings *guestenv.Settings
	Reaper   Reaper
	Logger   *slog.Logger
}

// Service implements processconnect.ProcessHandler. Safe for concurrent use.
type Service struct {
	settings *guestenv.Settings
	reaper   Reaper
	log      *slog.Logger

	mu    sync.Mutex
	procs map[int]*proc
}

var _ processconnect.ProcessHandler = (*Service)(nil)

// New returns a process service.
func New(opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Reaper == nil {
		opts.Reaper = NewDirectReaper()
	}
	return &Service{settings: opts.Settings, reaper: opts.Reaper, log: opts.Logger, procs: map[int]*proc{}}
}

// KillAll sends sig to every running process group.
func (s *Service) KillAll(sig syscall.Signal) {
	for _, p := range s.running() {
		_ = p.signal(sig)
	}
}

// Running reports how many processes have not exited yet.
func (s *Service) Running() int { return len(s.running()) }

func (s *Service) running() []*proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*proc, 0, len(s.procs))
	for _, p := range s.procs {
		select {
		case <-p.done:
		default:
			out = append(out, p)
		}
	}
	return out
}

// find resolves a selector to a known process.
func (s *Service) find(sel *pb.ProcessSelector) (*proc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch v := sel.GetSelector().(type) {
	case *pb.ProcessSelector_Pid:
		if p, ok := s.procs[int(v.Pid)]; ok {
			return p, nil
		}
		return nil, connect.NewError(connect.CodeNotFound, errdefs.NotFound("process with pid %d not found", v.Pid))
	case *pb.ProcessSelector_Tag:
		for _, p := range s.procs {
			if p.tag != nil && *p.tag == v.Tag {
				return p, nil
			}
		}
		return nil, connect.NewError(connect.CodeNotFound, errdefs.NotFound("process with tag %s not found", v.Tag))
	}
	return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("process selector is required"))
}

// List implements processconnect.ProcessHandler.
func (s *Service) List(context.Context, *connect.Request[pb.ListRequest]) (*connect.Response[pb.ListResponse], error) {
	resp := &pb.ListResponse{}
	for _, p := range s.running() {
		resp.Processes = append(resp.Processes, &pb.ProcessInfo{Config: p.cfg, Pid: uint32(p.pid), Tag: p.tag})
	}
	return connect.NewResponse(resp), nil
}

// Start implements processconnect.ProcessHandler.
func (s *Service) Start(ctx context.Context, req *connect.Request[pb.StartRequest], stream *connect.ServerStream[pb.StartResponse]) error {
	sb := newSub()
	defer close(sb.gone)
	p, err := s.start(ctx, req, sb)
	if err != nil {
		return err
	}
	defer p.unsubscribe(sb)
	send := func(ev *pb.ProcessEvent) error { return stream.Send(&pb.StartResponse{Event: ev}) }
	return s.follow(ctx, p, sb, guestenv.Keepalive(req.Header()), send)
}

// Connect implements processconnect.ProcessHandler.
func (s *Service) Connect(ctx context.Context, req *connect.Request[pb.ConnectRequest], stream *connect.ServerStream[pb.ConnectResponse]) error {
	p, err := s.find(req.Msg.GetProcess())
	if err != nil {
		return err
	}
	sb := newSub()
	defer close(sb.gone)
	send := func(ev *pb.ProcessEvent) error { return stream.Send(&pb.ConnectResponse{Event: ev}) }
	if end := p.subscribe(sb); end != nil {
		if err := send(startEvent(p.pid)); err != nil {
			return err
		}
		return send(end)
	}
	defer p.unsubscribe(sb)
	return s.follow(ctx, p, sb, guestenv.Keepalive(req.Header()), send)
}

func startEvent(pid int) *pb.ProcessEvent {
	return &pb.ProcessEvent{Event: &pb.ProcessEvent_Start{Start: &pb.ProcessEvent_StartEvent{Pid: uint32(pid)}}}
}

// follow sends the start event, then the process's events with keepalives in between, until
// the end event, the request's end, or its deadline.
func (s *Service) follow(ctx context.Context, p *proc, sb *sub, keepalive time.Duration, send func(*pb.ProcessEvent) error) error {
	if err := send(startEvent(p.pid)); err != nil {
		return err
	}
	tick := time.NewTicker(keepalive)
	defer tick.Stop()
	for {
		select {
		case ev := <-sb.ch:
			if err := send(ev); err != nil {
				return err
			}
			if ev.GetEnd() != nil {
				return nil
			}
			tick.Reset(keepalive)
		case <-tick.C:
			if err := send(&pb.ProcessEvent{Event: &pb.ProcessEvent_Keepalive{Keepalive: &pb.ProcessEvent_KeepAlive{}}}); err != nil {
				return err
			}
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return connect.NewError(connect.CodeDeadlineExceeded, errors.New("process timed out and was killed"))
			}
			return connect.NewError(connect.CodeCanceled, ctx.Err())
		}
	}
}

// SendInput implements processconnect.ProcessHandler.
func (s *Service) SendInput(_ context.Context, req *connect.Request[pb.SendInputRequest]) (*connect.Response[pb.SendInputResponse], error) {
	p, err := s.find(req.Msg.GetProcess())
	if err != nil {
		return nil, err
	}
	in := req.Msg.GetInput()
	var werr error
	switch {
	case in.GetPty() != nil:
		werr = p.write(in.GetPty(), true)
	default:
		werr = p.write(in.GetStdin(), false)
	}
	if werr != nil {
		return nil, connect.NewError(connect.CodeFailedPrecondition, werr)
	}
	return connect.NewResponse(&pb.SendInputResponse{}), nil
}

// StreamInput implements processconnect.ProcessHandler (no SDK uses it).
func (s *Service) StreamInput(_ context.Context, stream *connect.ClientStream[pb.StreamInputRequest]) (*connect.Response[pb.StreamInputResponse], error) {
	var p *proc
	for stream.Receive() {
		msg := stream.Msg()
		switch {
		case msg.GetStart() != nil:
			found, err := s.find(msg.GetStart().GetProcess())
			if err != nil {
				return nil, err
			}
			p = found
		case msg.GetData() != nil:
			if p == nil {
				return nil, connect.NewError(connect.CodeFailedPrecondition, errors.New("start event must come first"))
			}
			in := msg.GetData().GetInput()
			if err := p.write(append(in.GetStdin(), in.GetPty()...), in.GetPty() != nil); err != nil {
				return nil, connect.NewError(connect.CodeFailedPrecondition, err)
			}
		}
	}
	if err := stream.Err(); err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.StreamInputResponse{}), nil
}

// SendSignal implements processconnect.ProcessHandler.
func (s *Service) SendSignal(_ context.Context, req *connect.Request[pb.SendSignalRequest]) (*connect.Response[pb.SendSignalResponse], error) {
	p, err := s.find(req.Msg.GetProcess())
	if err != nil {
		return nil, err
	}
	var sig syscall.Signal
	switch req.Msg.GetSignal() {
	case pb.Signal_SIGNAL_SIGKILL:
		sig = syscall.SIGKILL
	case pb.Signal_SIGNAL_SIGTERM:
		sig = syscall.SIGTERM
	default:
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("signal must be SIGNAL_SIGTERM or SIGNAL_SIGKILL"))
	}
	if err := p.signal(sig); err != nil {
		return nil, connect.NewError(connect.CodeNotFound, errdefs.NotFound("process with pid %d not found", p.pid))
	}
	return connect.NewResponse(&pb.SendSignalResponse{}), nil
}

// CloseStdin implements processconnect.ProcessHandler.
func (s *Service) CloseStdin(_ context.Context, req *connect.Request[pb.CloseStdinRequest]) (*connect.Response[pb.CloseStdinResponse], error) {
	p, err := s.find(req.Msg.GetProcess())
	if err != nil {
		return nil, err
	}
	if err := p.closeStdin(); err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	return connect.NewResponse(&pb.CloseStdinResponse{}), nil
}

// Update implements processconnect.ProcessHandler: it resizes a process's terminal.
func (s *Service) Update(_ context.Context, req *connect.Request[pb.UpdateRequest]) (*connect.Response[pb.UpdateResponse], error) {
	p, err := s.find(req.Msg.GetProcess())
	if err != nil {
		return nil, err
	}
	if size := req.Msg.GetPty().GetSize(); size != nil {
		if err := p.resize(size); err != nil {
			return nil, connect.NewError(connect.CodeInvalidArgument, err)
		}
	}
	return connect.NewResponse(&pb.UpdateResponse{}), nil
}

// forget drops an ended process after the retention period.
func (s *Service) forget(p *proc) {
	<-p.done
	time.AfterFunc(retainEnded, func() {
		s.mu.Lock()
		if s.procs[p.pid] == p {
			delete(s.procs, p.pid)
		}
		s.mu.Unlock()
	})
}
