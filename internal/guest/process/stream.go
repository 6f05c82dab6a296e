package process

import (
	"context"
	"errors"
	"time"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/guest/guestenv"
	pb "github.com/paddock/paddock/proto/process"
)

// Start implements processconnect.ProcessHandler: start event, output, keepalives, end.
func (s *Service) Start(ctx context.Context, req *connect.Request[pb.StartRequest], stream *connect.ServerStream[pb.StartResponse]) error {
	sb := newSub(s.subStall)
	defer close(sb.gone)
	p, err := s.start(ctx, req, sb)
	if err != nil {
		return s.fail("Start", err)
	}
	defer p.unsubscribe(sb)
	send := func(ev *pb.ProcessEvent) error { return stream.Send(&pb.StartResponse{Event: ev}) }
	return s.follow(ctx, p, sb, guestenv.Keepalive(req.Header()), send, "process timed out and was killed")
}

// Connect implements processconnect.ProcessHandler: start event, then live output from now
// on and the end, or the retained end of a process that already exited.
func (s *Service) Connect(ctx context.Context, req *connect.Request[pb.ConnectRequest], stream *connect.ServerStream[pb.ConnectResponse]) error {
	p, err := s.find(req.Msg.GetProcess())
	if err != nil {
		return s.fail("Connect", err)
	}
	sb := newSub(s.subStall)
	defer close(sb.gone)
	send := func(ev *pb.ProcessEvent) error { return stream.Send(&pb.ConnectResponse{Event: ev}) }
	if end := p.subscribe(sb); end != nil {
		if err := send(startEvent(p.pid)); err != nil {
			return err
		}
		return send(end)
	}
	defer p.unsubscribe(sb)
	return s.follow(ctx, p, sb, guestenv.Keepalive(req.Header()), send, "connection to the process timed out")
}

func startEvent(pid int) *pb.ProcessEvent {
	return &pb.ProcessEvent{Event: &pb.ProcessEvent_Start{Start: &pb.ProcessEvent_StartEvent{Pid: uint32(pid)}}}
}

func keepaliveEvent() *pb.ProcessEvent {
	return &pb.ProcessEvent{Event: &pb.ProcessEvent_Keepalive{Keepalive: &pb.ProcessEvent_KeepAlive{}}}
}

// follow sends the start event, then the process's events with keepalives in between, until
// the end event, the request's end or deadline (timeoutMsg), or the subscriber being dropped.
func (s *Service) follow(ctx context.Context, p *proc, sb *sub, keepalive time.Duration, send func(*pb.ProcessEvent) error, timeoutMsg string) error {
	if err := send(startEvent(p.pid)); err != nil {
		return err
	}
	tick := time.NewTicker(keepalive)
	defer tick.Stop()
	for {
		select {
		case ev := <-sb.ch:
			// The process is killed at the request's deadline by a timer of its own, so its end
			// event can arrive a moment before the context notices the deadline.
			if ctx.Err() != nil || ev.GetEnd() != nil && pastDeadline(ctx) {
				return streamEnded(ctx, timeoutMsg)
			}
			if err := send(ev); err != nil {
				return err
			}
			if ev.GetEnd() != nil {
				return nil
			}
			tick.Reset(keepalive)
		case <-tick.C:
			if err := send(keepaliveEvent()); err != nil {
				return err
			}
		case <-sb.dropped:
			return connect.NewError(connect.CodeResourceExhausted,
				errors.New("the client did not read the process's output in time: reconnect to the process"))
		case <-ctx.Done():
			return streamEnded(ctx, timeoutMsg)
		}
	}
}

// pastDeadline reports whether ctx has a deadline that has passed.
func pastDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// streamEnded is the error of a stream whose request context ended (or whose deadline
// passed).
func streamEnded(ctx context.Context, timeoutMsg string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || pastDeadline(ctx) {
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New(timeoutMsg))
	}
	return connect.NewError(connect.CodeCanceled, ctx.Err())
}
