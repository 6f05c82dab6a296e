package process

import (
	"context"
	"errors"
	"os"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/errdefs"
	pb "github.com/paddock/paddock/proto/process"
)

// inputError classes a failed write, close or resize of process p.
func inputError(p *proc, err error) error {
	switch {
	case errors.Is(err, errExited), errors.Is(err, os.ErrClosed) && !p.running():
		return notFound(p)
	case errors.Is(err, errNoTerminal), errors.Is(err, errPTYStdin):
		return errdefs.InvalidArgument("%v", err)
	case errors.Is(err, errStdinClosed):
		return errdefs.FailedPrecondition("%v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("the process did not read its input in time"))
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, err)
	}
	return err
}

// writeInput sends one ProcessInput (stdin or pty bytes) to p.
func writeInput(ctx context.Context, p *proc, in *pb.ProcessInput) error {
	var err error
	switch v := in.GetInput().(type) {
	case *pb.ProcessInput_Pty:
		err = p.write(ctx, v.Pty, true)
	case *pb.ProcessInput_Stdin:
		err = p.write(ctx, v.Stdin, false)
	default:
		return errdefs.InvalidArgument("input must carry stdin or pty bytes")
	}
	if err != nil {
		return inputError(p, err)
	}
	return nil
}

// SendInput implements processconnect.ProcessHandler.
func (s *Service) SendInput(ctx context.Context, req *connect.Request[pb.SendInputRequest]) (*connect.Response[pb.SendInputResponse], error) {
	p, err := s.findRunning(req.Msg.GetProcess())
	if err == nil {
		err = writeInput(ctx, p, req.Msg.GetInput())
	}
	if err != nil {
		return nil, s.fail("SendInput", err)
	}
	return connect.NewResponse(&pb.SendInputResponse{}), nil
}

// StreamInput implements processconnect.ProcessHandler (no SDK uses it): a start event
// selects the process, data events are written to it in order.
func (s *Service) StreamInput(ctx context.Context, stream *connect.ClientStream[pb.StreamInputRequest]) (*connect.Response[pb.StreamInputResponse], error) {
	var p *proc
	for stream.Receive() {
		var err error
		switch ev := stream.Msg().GetEvent().(type) {
		case *pb.StreamInputRequest_Start:
			p, err = s.findRunning(ev.Start.GetProcess())
		case *pb.StreamInputRequest_Data:
			if p == nil {
				err = errdefs.InvalidArgument("the start event must come first")
				break
			}
			err = writeInput(ctx, p, ev.Data.GetInput())
		}
		if err != nil {
			return nil, s.fail("StreamInput", err)
		}
	}
	if err := stream.Err(); err != nil {
		return nil, err
	}
	return connect.NewResponse(&pb.StreamInputResponse{}), nil
}

// CloseStdin implements processconnect.ProcessHandler. A terminal process has no separate
// stdin: closing it is invalid_argument, as in envd.
func (s *Service) CloseStdin(_ context.Context, req *connect.Request[pb.CloseStdinRequest]) (*connect.Response[pb.CloseStdinResponse], error) {
	p, err := s.findRunning(req.Msg.GetProcess())
	if err == nil {
		if cerr := p.closeStdin(); cerr != nil {
			err = inputError(p, cerr)
		}
	}
	if err != nil {
		return nil, s.fail("CloseStdin", err)
	}
	return connect.NewResponse(&pb.CloseStdinResponse{}), nil
}

// Update implements processconnect.ProcessHandler: it resizes a process's terminal.
func (s *Service) Update(_ context.Context, req *connect.Request[pb.UpdateRequest]) (*connect.Response[pb.UpdateResponse], error) {
	p, err := s.findRunning(req.Msg.GetProcess())
	if err == nil && req.Msg.GetPty().GetSize() != nil {
		if rerr := p.resize(req.Msg.GetPty().GetSize()); rerr != nil {
			err = inputError(p, rerr)
		}
	}
	if err != nil {
		return nil, s.fail("Update", err)
	}
	return connect.NewResponse(&pb.UpdateResponse{}), nil
}
