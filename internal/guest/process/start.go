package process

import (
	"context"
	"errors"
	"os"
	"sync"
	"syscall"
	"time"

	"connectrpc.com/connect"
	"github.com/creack/pty"

	"github.com/paddock/paddock/internal/errdefs"
	pb "github.com/paddock/paddock/proto/process"
)

// start launches the requested process with sb already subscribed, so no output is missed.
func (s *Service) start(ctx context.Context, req *connect.Request[pb.StartRequest], sb *sub) (*proc, error) {
	cfg := req.Msg.GetProcess()
	if cfg == nil || cfg.GetCmd() == "" {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("process.cmd is required"))
	}
	u, err := s.settings.Caller(req.Header())
	if err != nil {
		return nil, toConnect(err)
	}
	cwd, err := workdir(cfg, s.settings, u)
	if err != nil {
		return nil, toConnect(err)
	}
	env := Environ(u, s.settings.EnvVars(), cfg.GetEnvs())
	path, err := LookPath(cfg.GetCmd(), cwd, env)
	if err != nil {
		return nil, toConnect(err)
	}
	cred, err := Credential(u)
	if err != nil {
		return nil, toConnect(err)
	}
	io, err := openIO(req.Msg)
	if err != nil {
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	p := &proc{tag: req.Msg.Tag, cfg: cfg, done: make(chan struct{}), subs: map[*sub]struct{}{sb: {}},
		stdin: io.stdinW, pty: io.master}
	attr := &syscall.ProcAttr{Dir: cwd, Env: env, Files: io.childFds(),
		Sys: &syscall.SysProcAttr{Setsid: true, Setctty: io.master != nil, Credential: cred}}
	argv := append([]string{cfg.GetCmd()}, cfg.GetArgs()...)
	oomBefore, oomKnown := oomKills()
	pid, exited, err := s.reaper.Start(func() (int, error) {
		pid, err := syscall.ForkExec(path, argv, attr)
		if err == nil {
			p.pid = pid
			s.mu.Lock()
			s.procs[pid] = p
			s.mu.Unlock()
		}
		return pid, err
	})
	io.closeChildSide()
	if err != nil {
		io.closeParentSide()
		return nil, connect.NewError(connect.CodeInternal, errdefs.New(errdefs.ErrUnavailable, "start %s: %v", cfg.GetCmd(), err))
	}
	RaiseOOMScore(pid)
	var pumps sync.WaitGroup
	outputs := io.outputs()
	if io.master != nil {
		pumps.Add(1)
		go p.pump(io.master, func(b []byte) *pb.ProcessEvent_DataEvent {
			return &pb.ProcessEvent_DataEvent{Output: &pb.ProcessEvent_DataEvent_Pty{Pty: b}}
		}, &pumps)
	} else {
		pumps.Add(2)
		go p.pump(io.stdoutR, func(b []byte) *pb.ProcessEvent_DataEvent {
			return &pb.ProcessEvent_DataEvent{Output: &pb.ProcessEvent_DataEvent_Stdout{Stdout: b}}
		}, &pumps)
		go p.pump(io.stderrR, func(b []byte) *pb.ProcessEvent_DataEvent {
			return &pb.ProcessEvent_DataEvent{Output: &pb.ProcessEvent_DataEvent_Stderr{Stderr: b}}
		}, &pumps)
	}
	go p.wait(exited, outputs, &pumps, oomBefore, oomKnown)
	go s.forget(p)
	// The process lives until the request's deadline (Connect-Timeout-Ms), not the request.
	if deadline, ok := ctx.Deadline(); ok {
		t := time.AfterFunc(time.Until(deadline), func() { _ = p.signal(syscall.SIGKILL) })
		go func() { <-p.done; t.Stop() }()
	}
	s.log.Debug("process started", "pid", pid, "cmd", cfg.GetCmd())
	return p, nil
}

// procIO holds both ends of a process's stdio.
type procIO struct {
	stdinR, stdinW   *os.File
	stdoutR, stdoutW *os.File
	stderrR, stderrW *os.File
	master, tty      *os.File
	devnull          *os.File
}

func openIO(req *pb.StartRequest) (*procIO, error) {
	io := &procIO{}
	var err error
	if size := req.GetPty().GetSize(); req.Pty != nil {
		if io.master, io.tty, err = pty.Open(); err != nil {
			return nil, err
		}
		if size != nil && size.GetRows() > 0 && size.GetCols() > 0 {
			_ = pty.Setsize(io.master, &pty.Winsize{Rows: uint16(size.GetRows()), Cols: uint16(size.GetCols())})
		}
		return io, nil
	}
	if req.Stdin == nil || req.GetStdin() {
		if io.stdinR, io.stdinW, err = os.Pipe(); err != nil {
			return nil, err
		}
	} else if io.devnull, err = os.Open(os.DevNull); err != nil {
		return nil, err
	}
	if io.stdoutR, io.stdoutW, err = os.Pipe(); err != nil {
		io.closeChildSide()
		io.closeParentSide()
		return nil, err
	}
	if io.stderrR, io.stderrW, err = os.Pipe(); err != nil {
		io.closeChildSide()
		io.closeParentSide()
		return nil, err
	}
	return io, nil
}

func (io *procIO) childFds() []uintptr {
	if io.tty != nil {
		fd := io.tty.Fd()
		return []uintptr{fd, fd, fd}
	}
	in := io.devnull
	if io.stdinR != nil {
		in = io.stdinR
	}
	return []uintptr{in.Fd(), io.stdoutW.Fd(), io.stderrW.Fd()}
}

func (io *procIO) outputs() []*os.File {
	if io.master != nil {
		return []*os.File{io.master}
	}
	return []*os.File{io.stdoutR, io.stderrR}
}

func (io *procIO) closeChildSide() {
	for _, f := range []*os.File{io.stdinR, io.stdoutW, io.stderrW, io.tty, io.devnull} {
		if f != nil {
			f.Close()
		}
	}
}

func (io *procIO) closeParentSide() {
	for _, f := range []*os.File{io.stdinW, io.stdoutR, io.stderrR, io.master} {
		if f != nil {
			f.Close()
		}
	}
}

// toConnect maps an errdefs class to a connect error, keeping the message.
func toConnect(err error) error {
	code := connect.CodeInternal
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		code = connect.CodeNotFound
	case errors.Is(err, errdefs.ErrInvalidArgument):
		code = connect.CodeInvalidArgument
	case errors.Is(err, errdefs.ErrUnauthenticated):
		code = connect.CodeUnauthenticated
	case errors.Is(err, errdefs.ErrPermissionDenied):
		code = connect.CodePermissionDenied
	}
	return connect.NewError(code, err)
}
