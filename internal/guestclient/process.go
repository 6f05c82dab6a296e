package guestclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
	pb "github.com/paddock/paddock/proto/process"
)

// Command describes a process to start in the sandbox.
type Command struct {
	Args  []string          // argv; Args[0] is looked up in the sandbox's PATH
	Env   map[string]string // added to the sandbox-wide environment
	Cwd   string            // "" = the sandbox default (the user's home)
	User  string            // "" = the sandbox default user
	Tag   string            // optional tag to find the process by
	Stdin bool              // keep stdin open for SendStdin; false = /dev/null
	// TTY, when set, runs the process on a pseudo-terminal of this size.
	TTY *TTYSize
	// Timeout bounds the process's lifetime: the guest kills it when it expires (0 = none).
	Timeout time.Duration
}

// TTYSize is a terminal size.
type TTYSize struct{ Rows, Cols uint32 }

// End is how a process finished.
type End struct {
	ExitCode int    // the guest's exit code: -1 when killed by a signal (the manager makes it shell-style)
	Exited   bool   // exited normally rather than by a signal
	Status   string // "exit status 1", "signal: killed"
	Error    string // wait error, or guestproto.OOMKilledError
}

// OOMKilled reports whether the sandbox's memory limit killed the process.
func (e *End) OOMKilled() bool { return e.Error == guestproto.OOMKilledError }

// Signal is the signal that killed the process, or 0.
func (e *End) Signal() syscall.Signal {
	if e.Exited {
		return 0
	}
	name, ok := strings.CutPrefix(e.Status, "signal: ")
	if !ok {
		return 0
	}
	for s := syscall.Signal(1); s < 65; s++ {
		if s.String() == name {
			return s
		}
	}
	return 0
}

// Output is one chunk of process output.
type Output struct {
	Stream string // "stdout", "stderr" or "pty"
	Data   []byte
}

// Process is a started process. Next must be called until it returns an End or an error.
type Process struct {
	PID    uint32
	client *Client
	stream *connect.ServerStreamForClient[pb.StartResponse]
	cancel context.CancelFunc
}

// Start launches cmd and returns once the guest reports its pid. A command that is not
// found in the sandbox is an errdefs.ErrNotFound-class error.
func (c *Client) Start(ctx context.Context, cmd Command) (*Process, error) {
	if len(cmd.Args) == 0 {
		return nil, errdefs.InvalidArgument("command is empty")
	}
	sctx, cancel := context.WithCancel(ctx)
	if cmd.Timeout > 0 {
		// connect-go sends the deadline as Connect-Timeout-Ms, which bounds the process.
		sctx, cancel = context.WithTimeout(ctx, cmd.Timeout)
	}
	stdin := cmd.Stdin
	cwd := cmd.Cwd
	req := connect.NewRequest(&pb.StartRequest{
		Process: &pb.ProcessConfig{Cmd: cmd.Args[0], Args: cmd.Args[1:], Envs: cmd.Env},
		Stdin:   &stdin,
	})
	if cwd != "" {
		req.Msg.Process.Cwd = &cwd
	}
	if cmd.Tag != "" {
		req.Msg.Tag = &cmd.Tag
	}
	if cmd.TTY != nil {
		req.Msg.Pty = &pb.PTY{Size: &pb.PTY_Size{Rows: cmd.TTY.Rows, Cols: cmd.TTY.Cols}}
	}
	setUser(req.Header(), cmd.User)
	req.Header().Set(guestproto.KeepaliveHeader, "30")
	stream, err := c.Process.Start(sctx, req)
	if err != nil {
		cancel()
		return nil, Classify(err)
	}
	if !stream.Receive() {
		err := stream.Err()
		stream.Close()
		cancel()
		if err == nil {
			err = errdefs.Unavailable("guest closed the stream before the start event")
		}
		return nil, Classify(err)
	}
	start := stream.Msg().GetEvent().GetStart()
	if start == nil {
		stream.Close()
		cancel()
		return nil, errdefs.Unavailable("guest protocol error: first event is not a start event")
	}
	return &Process{PID: start.GetPid(), client: c, stream: stream, cancel: cancel}, nil
}

// Next returns the next output chunk, or the End when the process finished. Keepalives are
// skipped. After an End or an error the process handle is closed.
func (p *Process) Next() (*Output, *End, error) {
	for p.stream.Receive() {
		ev := p.stream.Msg().GetEvent()
		switch {
		case ev.GetData() != nil:
			d := ev.GetData()
			switch {
			case d.GetStdout() != nil:
				return &Output{Stream: "stdout", Data: d.GetStdout()}, nil, nil
			case d.GetStderr() != nil:
				return &Output{Stream: "stderr", Data: d.GetStderr()}, nil, nil
			case d.GetPty() != nil:
				return &Output{Stream: "pty", Data: d.GetPty()}, nil, nil
			}
		case ev.GetEnd() != nil:
			e := ev.GetEnd()
			p.Close()
			return nil, &End{ExitCode: int(e.GetExitCode()), Exited: e.GetExited(),
				Status: e.GetStatus(), Error: e.GetError()}, nil
		}
	}
	err := p.stream.Err()
	p.Close()
	if err == nil {
		return nil, nil, errdefs.Unavailable("guest ended the stream without an end event")
	}
	var ce *connect.Error
	if errors.As(err, &ce) && ce.Code() == connect.CodeDeadlineExceeded || errors.Is(err, context.DeadlineExceeded) {
		return nil, nil, fmt.Errorf("process timed out: %w", context.DeadlineExceeded)
	}
	return nil, nil, Classify(err)
}

// Close abandons the stream; the process keeps running unless its timeout ends it.
func (p *Process) Close() {
	p.stream.Close()
	p.cancel()
}

// SendStdin writes to the process's stdin (or its terminal when it has one).
func (p *Process) SendStdin(ctx context.Context, data []byte, tty bool) error {
	in := &pb.ProcessInput{Input: &pb.ProcessInput_Stdin{Stdin: data}}
	if tty {
		in = &pb.ProcessInput{Input: &pb.ProcessInput_Pty{Pty: data}}
	}
	_, err := p.client.Process.SendInput(ctx, connect.NewRequest(&pb.SendInputRequest{
		Process: pidSelector(p.PID), Input: in}))
	return Classify(err)
}

// CloseStdin closes the process's stdin.
func (p *Process) CloseStdin(ctx context.Context) error {
	_, err := p.client.Process.CloseStdin(ctx, connect.NewRequest(&pb.CloseStdinRequest{
		Process: pidSelector(p.PID)}))
	return Classify(err)
}

// Resize changes the process's terminal size.
func (p *Process) Resize(ctx context.Context, size TTYSize) error {
	_, err := p.client.Process.Update(ctx, connect.NewRequest(&pb.UpdateRequest{
		Process: pidSelector(p.PID),
		Pty:     &pb.PTY{Size: &pb.PTY_Size{Rows: size.Rows, Cols: size.Cols}}}))
	return Classify(err)
}

// Signal sends SIGTERM or SIGKILL to the process group.
func (p *Process) Signal(ctx context.Context, sig syscall.Signal) error {
	s := pb.Signal_SIGNAL_SIGTERM
	if sig == syscall.SIGKILL {
		s = pb.Signal_SIGNAL_SIGKILL
	}
	_, err := p.client.Process.SendSignal(ctx, connect.NewRequest(&pb.SendSignalRequest{
		Process: pidSelector(p.PID), Signal: s}))
	return Classify(err)
}

func pidSelector(pid uint32) *pb.ProcessSelector {
	return &pb.ProcessSelector{Selector: &pb.ProcessSelector_Pid{Pid: pid}}
}
