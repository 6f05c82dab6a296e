package process

import (
	"errors"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	pb "github.com/paddock/paddock/proto/process"
)

// drainWait bounds how long output may keep flowing after the process exits: a backgrounded
// grandchild that holds the pipe open must not keep the stream open forever.
const drainWait = 100 * time.Millisecond

// proc is one started process and everyone listening to it.
type proc struct {
	pid  int
	tag  *string
	cfg  *pb.ProcessConfig
	done chan struct{} // closed once end is set and broadcast

	stdinMu sync.Mutex
	stdin   *os.File // write end of stdin; nil when closed or absent
	pty     *os.File // terminal master, for PTY processes

	mu   sync.Mutex
	subs map[*sub]struct{}
	end  *pb.ProcessEvent // retained end event
}

// sub is one stream receiving a process's events.
type sub struct {
	ch   chan *pb.ProcessEvent
	gone chan struct{} // closed by the stream when it stops reading
}

func newSub() *sub {
	return &sub{ch: make(chan *pb.ProcessEvent, 64), gone: make(chan struct{})}
}

// subscribe adds s; when the process already ended it returns the retained end instead.
func (p *proc) subscribe(s *sub) *pb.ProcessEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.end != nil {
		return p.end
	}
	p.subs[s] = struct{}{}
	return nil
}

func (p *proc) unsubscribe(s *sub) {
	p.mu.Lock()
	delete(p.subs, s)
	p.mu.Unlock()
}

// broadcast hands ev to every subscriber, waiting for slow ones (that is the pipe's
// backpressure) but never for one that has gone.
func (p *proc) broadcast(ev *pb.ProcessEvent) {
	p.mu.Lock()
	subs := make([]*sub, 0, len(p.subs))
	for s := range p.subs {
		subs = append(subs, s)
	}
	p.mu.Unlock()
	for _, s := range subs {
		select {
		case s.ch <- ev:
		case <-s.gone:
		}
	}
}

// pump forwards everything read from r as data events built by wrap.
func (p *proc) pump(r *os.File, wrap func([]byte) *pb.ProcessEvent_DataEvent, wg *sync.WaitGroup) {
	defer wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			data := append([]byte(nil), buf[:n]...)
			p.broadcast(&pb.ProcessEvent{Event: &pb.ProcessEvent_Data{Data: wrap(data)}})
		}
		if err != nil {
			return
		}
	}
}

// wait turns the exit status into the end event once output has drained, then closes done.
func (p *proc) wait(exited <-chan unix.WaitStatus, outputs []*os.File, pumps *sync.WaitGroup, oomBefore uint64, oomKnown bool) {
	ws := <-exited
	drained := make(chan struct{})
	go func() { pumps.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(drainWait):
		for _, f := range outputs {
			_ = f.SetReadDeadline(time.Now()) // unblock reads held open by grandchildren
		}
		<-drained
	}
	for _, f := range outputs {
		f.Close()
	}
	end := endEvent(ws)
	if ws.Signaled() && ws.Signal() == syscall.SIGKILL && oomKnown {
		if after, ok := oomKills(); ok && after > oomBefore {
			msg := OOMKilledError
			end.Error = &msg
		}
	}
	ev := &pb.ProcessEvent{Event: &pb.ProcessEvent_End{End: end}}
	p.stdinMu.Lock()
	if p.stdin != nil {
		p.stdin.Close()
		p.stdin = nil
	}
	p.stdinMu.Unlock()
	// Retain the end before sending it, so that a subscriber arriving now gets it either way.
	p.mu.Lock()
	p.end = ev
	subs := p.subs
	p.subs = map[*sub]struct{}{}
	p.mu.Unlock()
	for s := range subs {
		select {
		case s.ch <- ev:
		case <-s.gone:
		}
	}
	close(p.done)
}

// endEvent describes an exit status the way Go's ProcessState does.
func endEvent(ws unix.WaitStatus) *pb.ProcessEvent_EndEvent {
	e := &pb.ProcessEvent_EndEvent{ExitCode: -1}
	switch {
	case ws.Exited():
		e.ExitCode, e.Exited = int32(ws.ExitStatus()), true
		e.Status = "exit status " + strconv.Itoa(ws.ExitStatus())
	case ws.Signaled():
		e.Status = "signal: " + ws.Signal().String()
		msg := e.Status
		e.Error = &msg
	default:
		e.Status = "unknown"
	}
	if e.Exited && e.ExitCode != 0 {
		msg := e.Status
		e.Error = &msg
	}
	return e
}

// signal sends sig to the process's group (it leads its own session), or to it alone.
func (p *proc) signal(sig syscall.Signal) error {
	if err := unix.Kill(-p.pid, sig); err != nil {
		return unix.Kill(p.pid, sig)
	}
	return nil
}

// write sends input to the process's stdin or terminal.
func (p *proc) write(data []byte, toPTY bool) error {
	if toPTY {
		if p.pty == nil {
			return errors.New("process has no terminal")
		}
		_, err := p.pty.Write(data)
		return err
	}
	p.stdinMu.Lock()
	defer p.stdinMu.Unlock()
	if p.stdin == nil {
		if p.pty != nil {
			_, err := p.pty.Write(data)
			return err
		}
		return errors.New("stdin is closed")
	}
	_, err := p.stdin.Write(data)
	return err
}

func (p *proc) closeStdin() error {
	p.stdinMu.Lock()
	defer p.stdinMu.Unlock()
	if p.pty != nil {
		return errors.New("cannot close stdin of a terminal process")
	}
	if p.stdin != nil {
		err := p.stdin.Close()
		p.stdin = nil
		return err
	}
	return nil
}

func (p *proc) resize(size *pb.PTY_Size) error {
	if p.pty == nil {
		return errors.New("process has no terminal")
	}
	return pty.Setsize(p.pty, &pty.Winsize{Rows: uint16(size.GetRows()), Cols: uint16(size.GetCols())})
}
