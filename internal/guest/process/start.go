package process

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"connectrpc.com/connect"
	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
	pb "github.com/paddock/paddock/proto/process"
)

// launch is a checked, ready-to-fork process.
type launch struct {
	path string
	argv []string
	attr *syscall.ProcAttr
}

// prepare resolves the caller, cwd, environment and executable of a Start request.
func (s *Service) prepare(req *connect.Request[pb.StartRequest]) (*launch, error) {
	cfg := req.Msg.GetProcess()
	if cfg.GetCmd() == "" {
		return nil, errdefs.InvalidArgument("process.cmd is required")
	}
	u, err := s.settings.Caller(req.Header())
	if err != nil {
		return nil, err
	}
	cwd, err := workdir(cfg, s.settings, u)
	if err != nil {
		return nil, err
	}
	env := Environ(u, s.settings.EnvVars(), cfg.GetEnvs())
	path, err := LookPath(cfg.GetCmd(), cwd, env)
	if err != nil {
		return nil, err
	}
	cred, err := Credential(u)
	if err != nil {
		return nil, err
	}
	argv := append([]string{cfg.GetCmd()}, cfg.GetArgs()...)
	return &launch{path: path, argv: argv, attr: &syscall.ProcAttr{Dir: cwd, Env: env,
		Sys: &syscall.SysProcAttr{Setsid: true, Credential: cred}}}, nil
}

// start launches the requested process with sb already subscribed, so no output is missed.
func (s *Service) start(ctx context.Context, req *connect.Request[pb.StartRequest], sb *sub) (*proc, error) {
	l, err := s.prepare(req)
	if err != nil {
		return nil, err
	}
	io, err := openIO(req.Msg)
	if err != nil {
		return nil, fmt.Errorf("open stdio: %w", err)
	}
	l.attr.Files = io.childFds()
	l.attr.Sys.Setctty = io.master != nil // fd 0 of the child is the terminal
	p := newProc(req.Msg.GetProcess(), req.Msg.Tag, io)
	p.deadline, _ = ctx.Deadline()
	p.marks = fdMarks(io.stdinR, io.stdoutW, io.stderrW, io.tty) // never /dev/null: everyone holds it
	p.subs[sb] = struct{}{}
	if err := s.settle(ctx); err != nil {
		io.closeChildSide()
		io.closeParentSide()
		return nil, err
	}
	oom := probeOOM(s.oomFiles)
	pid, exited, err := s.reaper.Start(func() (int, error) {
		pid, err := syscall.ForkExec(l.path, l.argv, l.attr)
		if err == nil {
			s.register(p, pid)
		}
		return pid, err
	})
	io.closeChildSide()
	if err != nil {
		io.closeParentSide()
		return nil, execError(req.Msg.GetProcess().GetCmd(), err)
	}
	RaiseOOMScore(pid)
	if tag := req.Msg.GetTag(); s.outLog != nil && tag != "" && s.outLog.Keeps(tag) {
		p.outLog, p.logSource = s.outLog, fmt.Sprintf("%s[%d]", tag, pid)
	}
	s.supervise(ctx, p, io.outputs(), exited, oom)
	s.log.Debug("process started", "pid", pid, "cmd", req.Msg.GetProcess().GetCmd())
	return p, nil
}

// deadlineSlack is how close to its deadline a process may be when another one starts and
// still be left running. A client's deadline runs from when it sent its request, the guest's
// from when it read it, so a client that saw its command time out can send the next one
// before the guest's timer fired; that one must not find the pids the old tree holds.
const deadlineSlack = 50 * time.Millisecond

// settle prepares a start: processes within deadlineSlack of their deadline are killed now,
// and the start waits until every tree being killed is gone.
func (s *Service) settle(ctx context.Context) error {
	var trees []<-chan struct{}
	s.mu.Lock()
	procs := make([]*proc, 0, len(s.procs))
	for _, p := range s.procs {
		procs = append(procs, p)
	}
	s.mu.Unlock()
	now := time.Now()
	for _, p := range procs {
		if !p.deadline.IsZero() && p.deadline.Sub(now) < deadlineSlack && p.running() {
			_, _ = p.kill(s.log)
		}
		if gone := p.killing(); gone != nil {
			trees = append(trees, gone)
		}
	}
	for _, gone := range trees {
		select {
		case <-gone:
		case <-ctx.Done():
			return streamEnded(ctx, "timed out waiting for a killed process to end")
		}
	}
	return nil
}

// supervise starts the goroutines a process owns: output pumps, the exit waiter, and its
// forgetting after retention. The process lives until the Start request's deadline
// (Connect-Timeout-Ms), not until the request ends.
func (s *Service) supervise(ctx context.Context, p *proc, outs []output, exited <-chan unix.WaitStatus, oom oomProbe) {
	var pumps sync.WaitGroup
	pumps.Add(len(outs))
	for _, o := range outs {
		go p.pump(o, &pumps)
	}
	go p.wait(exited, outs, &pumps, oom)
	deadline, ok := ctx.Deadline()
	go func() {
		if ok {
			t := time.AfterFunc(time.Until(deadline), func() {
				if _, err := p.kill(s.log); err == nil {
					s.log.Info("process killed at its deadline", "pid", p.pid)
				}
			})
			defer t.Stop()
		}
		<-p.done
		time.AfterFunc(retainEnded, func() { s.forget(p) })
	}()
}

// procIO holds both ends of a process's stdio. Parent ends are pollable (non-blocking), so
// that reads and writes can be given deadlines; child ends are blocking.
type procIO struct {
	stdinR, stdinW   *os.File
	stdoutR, stdoutW *os.File
	stderrR, stderrW *os.File
	master, tty      *os.File
	devnull          *os.File
}

func openIO(req *pb.StartRequest) (io *procIO, err error) {
	io = &procIO{}
	defer func() {
		if err != nil {
			io.closeChildSide()
			io.closeParentSide()
		}
	}()
	if req.Pty != nil {
		err = io.openPTY(req.GetPty().GetSize())
		return io, err
	}
	if req.Stdin == nil || req.GetStdin() {
		if io.stdinR, io.stdinW, err = os.Pipe(); err != nil {
			return io, err
		}
	} else if io.devnull, err = os.Open(os.DevNull); err != nil {
		return io, err
	}
	if io.stdoutR, io.stdoutW, err = os.Pipe(); err != nil {
		return io, err
	}
	io.stderrR, io.stderrW, err = os.Pipe()
	return io, err
}

// openPTY opens a terminal pair. pty.Open leaves the master blocking (it calls Fd), which
// no deadline can interrupt; a non-blocking duplicate replaces it.
func (io *procIO) openPTY(size *pb.PTY_Size) error {
	master, tty, err := pty.Open()
	if err != nil {
		return err
	}
	io.tty = tty
	fd, err := unix.FcntlInt(master.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	master.Close()
	if err != nil {
		return err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return err
	}
	io.master = os.NewFile(uintptr(fd), "ptmx")
	if size != nil && size.GetRows() > 0 && size.GetCols() > 0 {
		if err := setWinsize(io.master, size); err != nil {
			return err
		}
	}
	return nil
}

// childFds are the child's fds 0, 1 and 2. Fd also makes these files blocking, as a child
// expects its stdio to be.
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

func (io *procIO) outputs() []output {
	if io.master != nil {
		return []output{{f: io.master, wrap: ptyData, name: "pty"}}
	}
	return []output{{f: io.stdoutR, wrap: stdoutData, name: "stdout"}, {f: io.stderrR, wrap: stderrData, name: "stderr"}}
}

func (io *procIO) closeChildSide() {
	closeAll(io.stdinR, io.stdoutW, io.stderrW, io.tty, io.devnull)
}

func (io *procIO) closeParentSide() {
	closeAll(io.stdinW, io.stdoutR, io.stderrR, io.master)
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		if f != nil {
			f.Close()
		}
	}
}
