package process

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/guestproto"
	pb "github.com/paddock/paddock/proto/process"
)

// Reasons an input or signal cannot be delivered; the RPCs turn them into connect codes.
var (
	errExited      = errors.New("process has exited")
	errNoTerminal  = errors.New("process has no terminal")
	errStdinClosed = errors.New("stdin is closed or was not enabled")
	errPTYStdin    = errors.New("cannot close stdin of a terminal process: send EOT (0x04) as pty input instead")
)

// proc is one started process and everyone listening to it.
type proc struct {
	pid      int
	seq      uint64 // start order, to pick the newest of processes sharing a tag
	tag      *string
	cfg      *pb.ProcessConfig
	deadline time.Time     // when the process is killed (zero: never)
	marks    []string      // its stdio's /proc fd link targets, which its tree inherits (killTree)
	done     chan struct{} // closed once the end event is retained and delivered

	// exited is set as soon as the exit status arrives: no signal may reach the pid after
	// that, since it can be reused.
	exited atomic.Bool

	killMu   sync.Mutex    // orders the start of a tree kill with the exit status's arrival
	treeGone chan struct{} // closed when a tree kill has finished; nil until one starts

	inSem chan struct{} // capacity 1: one input writer at a time, waitable with a context
	ioMu  sync.Mutex    // guards stdin and pty, never held during I/O
	stdin *os.File      // write end of stdin; nil when closed or not enabled
	pty   *os.File      // terminal master, for PTY processes; also the output

	// outLog, when set, keeps the process's output as the sandbox's log, under logSource.
	outLog    OutputLog
	logSource string

	mu   sync.Mutex
	subs map[*sub]struct{}
	end  *pb.ProcessEvent // retained end event
}

func newProc(cfg *pb.ProcessConfig, tag *string, io *procIO) *proc {
	return &proc{cfg: cfg, tag: tag, done: make(chan struct{}), inSem: make(chan struct{}, 1),
		stdin: io.stdinW, pty: io.master, subs: map[*sub]struct{}{}}
}

func (p *proc) running() bool { return !p.exited.Load() }

// wait turns the exit status into the end event once output has drained, then closes done.
//
// The end of a killed process is reported only once its whole tree is gone, so that the
// next command finds the pids it held free.
func (p *proc) wait(exited <-chan unix.WaitStatus, outs []output, pumps *sync.WaitGroup, oom oomProbe) {
	ws := <-exited
	p.killMu.Lock()
	p.exited.Store(true)
	gone := p.treeGone
	p.killMu.Unlock()
	if gone != nil {
		<-gone
	}
	waitOutputs(outs, pumps)
	if p.outLog != nil {
		p.outLog.End(p.logSource)
	}
	p.ioMu.Lock()
	if p.stdin != nil {
		p.stdin.Close()
	}
	p.stdin, p.pty = nil, nil // the terminal was closed as an output
	p.ioMu.Unlock()
	end := endEvent(ws)
	if ws.Signaled() && ws.Signal() == syscall.SIGKILL && oom.rose() {
		msg := guestproto.OOMKilledError
		end.Error = &msg
	}
	p.finish(&pb.ProcessEvent{Event: &pb.ProcessEvent_End{End: end}})
}

// endEvent describes an exit status the way Go's os.ProcessState and exec.ExitError do:
// exitCode is -1 unless the process exited, error is set unless it exited with 0.
func endEvent(ws unix.WaitStatus) *pb.ProcessEvent_EndEvent {
	e := &pb.ProcessEvent_EndEvent{ExitCode: -1}
	switch {
	case ws.Exited():
		e.ExitCode, e.Exited = int32(ws.ExitStatus()), true
		e.Status = "exit status " + strconv.Itoa(ws.ExitStatus())
	case ws.Signaled():
		e.Status = "signal: " + ws.Signal().String()
	default:
		e.Status = "unknown status " + strconv.Itoa(int(ws))
	}
	if ws.CoreDump() {
		e.Status += " (core dumped)"
	}
	if !e.Exited || e.ExitCode != 0 {
		msg := e.Status
		e.Error = &msg
	}
	return e
}

// kill ends the process with its whole tree (see killTree), once however often it is called,
// and returns a channel closed when the tree is gone. A process that already exited is not
// killed (errExited): it ended, and what it left running is no longer its tree.
func (p *proc) kill(log *slog.Logger) (<-chan struct{}, error) {
	p.killMu.Lock()
	defer p.killMu.Unlock()
	if p.treeGone != nil {
		return p.treeGone, nil
	}
	if !p.running() {
		return nil, errExited
	}
	gone := make(chan struct{})
	p.treeGone = gone
	go func() {
		defer close(gone)
		began := time.Now()
		n := killTree(p.pid, p.marks)
		log.Debug("process tree killed", "pid", p.pid, "processes", n, "dur", time.Since(began))
	}()
	return gone, nil
}

// killing returns the channel of a tree kill in progress, or nil.
func (p *proc) killing() <-chan struct{} {
	p.killMu.Lock()
	defer p.killMu.Unlock()
	if p.treeGone == nil {
		return nil
	}
	select {
	case <-p.treeGone:
		return nil
	default:
		return p.treeGone
	}
}

// signal sends sig to the process's group (it leads its own session), or to it alone.
func (p *proc) signal(sig syscall.Signal) error {
	if !p.running() {
		return errExited
	}
	if err := unix.Kill(-p.pid, sig); err == nil {
		return nil
	}
	if err := unix.Kill(p.pid, sig); err != nil {
		return errExited
	}
	return nil
}

// input returns where input goes: the terminal for a PTY process, else stdin.
func (p *proc) input(toPTY bool) (*os.File, error) {
	p.ioMu.Lock()
	defer p.ioMu.Unlock()
	switch {
	case !p.running():
		return nil, errExited
	case p.pty != nil:
		return p.pty, nil
	case toPTY:
		return nil, errNoTerminal
	case p.stdin == nil:
		return nil, errStdinClosed
	}
	return p.stdin, nil
}

// write sends data to the process's stdin or terminal, giving up when ctx ends (a process
// that does not read its stdin would otherwise hold the request forever).
func (p *proc) write(ctx context.Context, data []byte, toPTY bool) error {
	f, err := p.input(toPTY)
	if err != nil || len(data) == 0 {
		return err
	}
	select {
	case p.inSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.inSem }()
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = f.SetWriteDeadline(time.Now())
		close(fired)
	})
	_, err = f.Write(data)
	if !stop() {
		<-fired
		_ = f.SetWriteDeadline(time.Time{}) // for the next writer
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case !p.running():
		return errExited
	case errors.Is(err, os.ErrClosed), errors.Is(err, syscall.EPIPE):
		return errStdinClosed
	}
	return err
}

// closeStdin closes the write end of stdin, so that the process reads EOF. Idempotent.
func (p *proc) closeStdin() error {
	p.ioMu.Lock()
	defer p.ioMu.Unlock()
	switch {
	case !p.running():
		return errExited
	case p.pty != nil:
		return errPTYStdin
	case p.stdin != nil:
		err := p.stdin.Close()
		p.stdin = nil
		return err
	}
	return nil
}

// resize sets the terminal size. The ioctl goes through the raw fd so that the master stays
// non-blocking (os.File.Fd, which pty.Setsize uses, would make it blocking).
func (p *proc) resize(size *pb.PTY_Size) error {
	p.ioMu.Lock()
	defer p.ioMu.Unlock()
	switch {
	case !p.running():
		return errExited
	case p.pty == nil:
		return errNoTerminal
	}
	return setWinsize(p.pty, size)
}

func setWinsize(f *os.File, size *pb.PTY_Size) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	ws := &unix.Winsize{Row: clamp16(size.GetRows()), Col: clamp16(size.GetCols())}
	var ierr error
	if err := rc.Control(func(fd uintptr) { ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws) }); err != nil {
		return err
	}
	return ierr
}

func clamp16(v uint32) uint16 {
	if v > 0xffff {
		return 0xffff
	}
	return uint16(v)
}
