package process

import (
	"bytes"
	"errors"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	pb "github.com/paddock/paddock/proto/process"
)

// drainWait bounds how long output may keep flowing after the process exited: a backgrounded
// grandchild that holds the pipe open must not keep the stream open forever.
const drainWait = 100 * time.Millisecond

// drainMax bounds what is still read once drainWait ran out, against a grandchild that
// writes without pause.
const drainMax = 1 << 20

// readSize is the largest data event.
const readSize = 32 << 10

// output is one stream of the process's output (stdout, stderr or the terminal). Its file
// must be pollable (non-blocking), so that a read deadline can stop it.
type output struct {
	f    *os.File
	wrap func([]byte) *pb.ProcessEvent_DataEvent
	name string // stdout, stderr or pty
}

func stdoutData(b []byte) *pb.ProcessEvent_DataEvent {
	return &pb.ProcessEvent_DataEvent{Output: &pb.ProcessEvent_DataEvent_Stdout{Stdout: b}}
}

func stderrData(b []byte) *pb.ProcessEvent_DataEvent {
	return &pb.ProcessEvent_DataEvent{Output: &pb.ProcessEvent_DataEvent_Stderr{Stderr: b}}
}

func ptyData(b []byte) *pb.ProcessEvent_DataEvent {
	return &pb.ProcessEvent_DataEvent{Output: &pb.ProcessEvent_DataEvent_Pty{Pty: b}}
}

// pump forwards everything read from o as data events until EOF (or EIO, for a terminal
// whose last user closed it) or until waitOutputs sets the read deadline.
func (p *proc) pump(o output, wg *sync.WaitGroup) {
	defer wg.Done()
	buf := make([]byte, readSize)
	for {
		n, err := o.f.Read(buf)
		if n > 0 {
			p.emit(o, buf[:n])
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			p.drainReadable(o, buf)
			return
		}
		if err != nil {
			return
		}
	}
}

func (p *proc) emit(o output, b []byte) {
	if p.outLog != nil {
		p.outLog.Write(p.logSource, o.name, b)
	}
	p.broadcast(&pb.ProcessEvent{Event: &pb.ProcessEvent_Data{Data: o.wrap(bytes.Clone(b))}})
}

// drainReadable forwards what is already buffered in o without waiting for more. Reads go
// around the poller, whose deadline has passed; the fd is non-blocking, so an empty pipe
// answers EAGAIN at once.
func (p *proc) drainReadable(o output, buf []byte) {
	rc, err := o.f.SyscallConn()
	if err != nil {
		return
	}
	for total := 0; total < drainMax; {
		var n int
		var rerr error
		if err := rc.Control(func(fd uintptr) { n, rerr = unix.Read(int(fd), buf) }); err != nil {
			return
		}
		if rerr != nil || n <= 0 {
			return
		}
		p.emit(o, buf[:n])
		total += n
	}
}

// waitOutputs waits, once the process has exited, for its outputs to reach EOF: at most
// drainWait, after which what is readable is drained and the rest abandoned. It closes them.
func waitOutputs(outs []output, pumps *sync.WaitGroup) {
	drained := make(chan struct{})
	go func() { pumps.Wait(); close(drained) }()
	t := time.NewTimer(drainWait)
	defer t.Stop()
	select {
	case <-drained:
	case <-t.C:
		stoppable := true
		for _, o := range outs {
			if err := o.f.SetReadDeadline(time.Now()); err != nil {
				stoppable = false
			}
		}
		if stoppable {
			<-drained
		}
	}
	for _, o := range outs {
		o.f.Close()
	}
}
