// Package process is the guest's process service: it starts, streams, signals and lists
// processes inside the sandbox, implementing E2B envd's process.Process on the wire.
package process

import (
	"context"
	"errors"
	"log/slog"
	"sort"
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
	// Settings are the sandbox-wide env vars, default user and workdir (default: root, none).
	Settings *guestenv.Settings
	// Reaper collects child exits (default: NewDirectReaper).
	Reaper Reaper
	// Logger receives the service's logs (default: discarded).
	Logger *slog.Logger
	// Log, when set, receives the output of processes whose tag it keeps: the sandbox's
	// own log.
	Log OutputLog
}

// OutputLog keeps the output of some processes, chosen by tag. Safe for concurrent use.
type OutputLog interface {
	Keeps(tag string) bool
	// Write adds output of a process (source names it) on stream stdout, stderr or pty.
	Write(source, stream string, data []byte)
	// End says the process's output is over.
	End(source string)
}

// Service implements processconnect.ProcessHandler. Safe for concurrent use. Processes
// outlive the requests that started them; each owns the goroutines that pump its output and
// wait for its exit, which end when it exits.
type Service struct {
	settings *guestenv.Settings
	reaper   Reaper
	log      *slog.Logger
	oomFiles []string      // where the OOM-kill counter is read (oomCounterFiles)
	subStall time.Duration // see defaultSubStall
	outLog   OutputLog     // nil: no process is logged

	mu    sync.Mutex
	seq   uint64
	procs map[int]*proc // running processes, and exited ones for retainEnded
}

var _ processconnect.ProcessHandler = (*Service)(nil)

// New returns a process service.
func New(opts Options) *Service {
	if opts.Settings == nil {
		opts.Settings = guestenv.New("")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Reaper == nil {
		opts.Reaper = NewDirectReaper()
	}
	log := opts.Logger.With("op", "process")
	if r, ok := opts.Reaper.(*placingReaper); ok {
		r.setLogger(log)
	}
	return &Service{settings: opts.Settings, reaper: opts.Reaper, log: log,
		oomFiles: oomCounterFiles, subStall: defaultSubStall, procs: map[int]*proc{}, outLog: opts.Log}
}

// KillAll sends sig to the process group of every running process; SIGKILL ends their whole
// trees and returns once they are gone.
func (s *Service) KillAll(sig syscall.Signal) {
	var trees []<-chan struct{}
	for _, p := range s.running() {
		if sig != syscall.SIGKILL {
			_ = p.signal(sig)
		} else if gone, err := p.kill(s.log); err == nil {
			trees = append(trees, gone)
		}
	}
	for _, gone := range trees {
		<-gone
	}
}

// Running reports how many processes have not exited yet.
func (s *Service) Running() int { return len(s.running()) }

func (s *Service) running() []*proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*proc, 0, len(s.procs))
	for _, p := range s.procs {
		if p.running() {
			out = append(out, p)
		}
	}
	return out
}

// register records a just-forked process. It runs inside the reaper's Start, before the
// child's exit can be dispatched.
func (s *Service) register(p *proc, pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	p.pid, p.seq = pid, s.seq
	s.procs[pid] = p // replaces an exited process whose pid was reused
}

// forget drops an ended process, unless its pid already belongs to a newer one.
func (s *Service) forget(p *proc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.procs[p.pid] == p {
		delete(s.procs, p.pid)
	}
}

// find resolves a selector to a known process. Of several sharing a tag, a running one wins,
// then the newest.
func (s *Service) find(sel *pb.ProcessSelector) (*proc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch v := sel.GetSelector().(type) {
	case *pb.ProcessSelector_Pid:
		if p, ok := s.procs[int(v.Pid)]; ok {
			return p, nil
		}
		return nil, errdefs.NotFound("process with pid %d not found", v.Pid)
	case *pb.ProcessSelector_Tag:
		var best *proc
		for _, p := range s.procs {
			if p.tag == nil || *p.tag != v.Tag {
				continue
			}
			if best == nil || p.running() && !best.running() || p.running() == best.running() && p.seq > best.seq {
				best = p
			}
		}
		if best == nil {
			return nil, errdefs.NotFound("process with tag %s not found", v.Tag)
		}
		return best, nil
	}
	return nil, errdefs.InvalidArgument("process selector (pid or tag) is required")
}

// findRunning is find for operations that need a live process; an exited one is not found.
func (s *Service) findRunning(sel *pb.ProcessSelector) (*proc, error) {
	p, err := s.find(sel)
	if err != nil {
		return nil, err
	}
	if !p.running() {
		return nil, notFound(p)
	}
	return p, nil
}

func notFound(p *proc) error { return errdefs.NotFound("process with pid %d not found", p.pid) }

// fail turns err into the connect error a client sees, logging what the client is not told.
func (s *Service) fail(op string, err error) error {
	cerr := toConnect(err)
	if connect.CodeOf(cerr) == connect.CodeInternal {
		s.log.Error("process request failed", "rpc", op, "err", err)
	}
	return cerr
}

// List implements processconnect.ProcessHandler: the running processes.
func (s *Service) List(context.Context, *connect.Request[pb.ListRequest]) (*connect.Response[pb.ListResponse], error) {
	procs := s.running()
	sort.Slice(procs, func(i, j int) bool { return procs[i].seq < procs[j].seq })
	resp := &pb.ListResponse{Processes: make([]*pb.ProcessInfo, 0, len(procs))}
	for _, p := range procs {
		resp.Processes = append(resp.Processes, &pb.ProcessInfo{Config: p.cfg, Pid: uint32(p.pid), Tag: p.tag})
	}
	return connect.NewResponse(resp), nil
}

// SendSignal implements processconnect.ProcessHandler: SIGTERM to the process's group, or
// SIGKILL to its whole tree, answered once the tree is gone.
func (s *Service) SendSignal(ctx context.Context, req *connect.Request[pb.SendSignalRequest]) (*connect.Response[pb.SendSignalResponse], error) {
	var sig syscall.Signal
	switch req.Msg.GetSignal() {
	case pb.Signal_SIGNAL_SIGKILL:
		sig = syscall.SIGKILL
	case pb.Signal_SIGNAL_SIGTERM:
		sig = syscall.SIGTERM
	default:
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("signal must be SIGNAL_SIGTERM or SIGNAL_SIGKILL"))
	}
	p, err := s.findRunning(req.Msg.GetProcess())
	if err != nil {
		return nil, s.fail("SendSignal", err)
	}
	if sig == syscall.SIGTERM {
		err = p.signal(sig)
	} else {
		var gone <-chan struct{}
		if gone, err = p.kill(s.log); err == nil {
			select {
			case <-gone:
			case <-ctx.Done():
				return nil, streamEnded(ctx, "the process was still being killed")
			}
		}
	}
	if err != nil {
		return nil, s.fail("SendSignal", notFound(p))
	}
	return connect.NewResponse(&pb.SendSignalResponse{}), nil
}

// toConnect maps an error to a connect error. Classed errors keep their message; any other
// is an internal failure whose text stays in the log.
func toConnect(err error) error {
	var cerr *connect.Error
	if errors.As(err, &cerr) {
		return cerr
	}
	for _, m := range []struct {
		class error
		code  connect.Code
	}{
		{errdefs.ErrNotFound, connect.CodeNotFound},
		{errdefs.ErrInvalidArgument, connect.CodeInvalidArgument},
		{errdefs.ErrUnauthenticated, connect.CodeUnauthenticated},
		{errdefs.ErrPermissionDenied, connect.CodePermissionDenied},
		{errdefs.ErrFailedPrecondition, connect.CodeFailedPrecondition},
		{errdefs.ErrResourceExhausted, connect.CodeResourceExhausted},
		{errdefs.ErrUnavailable, connect.CodeUnavailable},
	} {
		if errors.Is(err, m.class) {
			return connect.NewError(m.code, err)
		}
	}
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}
